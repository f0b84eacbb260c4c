"""Use case: a user imports a CSV file written in whatever encoding they had."""

import codecs

import pytest
from context_data.transcoding import SAMPLE_BYTES
from shared_kernel.errors import PermanentError

FRENCH = "nom;ville;prix\nJosé;Orléans;3,5\nFrançoise;Besançon;4\nAndré;Nîmes;2\n"
FRENCH_ROWS = [
    ("André", "Nîmes", 2.0),
    ("Françoise", "Besançon", 4.0),
    ("José", "Orléans", 3.5),
]
PNG_START = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000010000000100806000000")


def stored_rows(query, dataset_id="ds1"):
    return query(dataset_id, 'SELECT * FROM "rows" ORDER BY 1')


def test_semicolon_file_in_latin1_imports_with_accents_intact(
    write_file, import_source, query
):
    path = write_file("villes.csv", FRENCH.encode("latin-1"))

    event = import_source(path)

    assert stored_rows(query) == FRENCH_ROWS
    assert [c.type for c in event.profile.columns] == ["text", "text", "float"]


def test_cp1252_file_with_euro_signs_imports_intact(write_file, import_source, query):
    text = "article,prix\nCafé,3 €\nThé glacé,2 €\n"
    path = write_file("menu.csv", text.encode("cp1252"))

    import_source(path)

    assert stored_rows(query) == [("Café", "3 €"), ("Thé glacé", "2 €")]


def test_cyrillic_cp1251_file_is_not_read_as_western(write_file, import_source, query):
    text = "Имя;Город\nИван;Москва\nПётр;Санкт-Петербург\n"
    path = write_file("cities.csv", text.encode("cp1251"))

    import_source(path)

    assert stored_rows(query) == [("Иван", "Москва"), ("Пётр", "Санкт-Петербург")]


def test_utf8_file_with_bom_has_a_clean_first_column_name(
    write_file, import_source, query
):
    path = write_file("bom.csv", codecs.BOM_UTF8 + "name,age\nZoë,7\n".encode())

    event = import_source(path)

    assert [c.name for c in event.profile.columns] == ["name", "age"]
    assert stored_rows(query) == [("Zoë", 7)]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_spreadsheet_export_imports_with_or_without_bom(
    encoding, write_file, import_source, query
):
    text = "city\tpopulation\nKraków\t800000\nGdańsk\t470000\n"
    path = write_file("export.txt", text.encode(encoding))

    import_source(path)

    assert stored_rows(query) == [("Gdańsk", 470000), ("Kraków", 800000)]


def test_legacy_accent_after_a_long_ascii_start_still_imports_intact(
    write_file, import_source, query
):
    ascii_lines = "".join(f"{i},plain\n" for i in range(20_000))
    text = "id,word\n" + ascii_lines + "20000,déjà vu\n"
    assert len(ascii_lines) > SAMPLE_BYTES
    path = write_file("late_accent.csv", text.encode("latin-1"))

    event = import_source(path)

    assert event.profile.rows == 20_001
    assert query("ds1", 'SELECT word FROM "rows" WHERE id = 20000') == [("déjà vu",)]


def test_multibyte_character_cut_by_the_sample_end_is_still_utf8(
    write_file, import_source, query
):
    header = "id,word\n"
    filler = "0," + "x" * (SAMPLE_BYTES - len(header) - 6) + "\n"
    text = header + filler + "1,é" + "\n"
    assert text.encode().index("é".encode()) == SAMPLE_BYTES - 1
    path = write_file("boundary.csv", text)

    import_source(path)

    assert query("ds1", 'SELECT word FROM "rows" WHERE id = 1') == [("é",)]


@pytest.mark.parametrize(
    "content",
    [PNG_START + bytes(range(256)) * 4, b"id,name\n1,a\x00\x00\x00\x07\x00b\n"],
    ids=["png", "nul-bytes"],
)
def test_binary_file_is_refused_as_not_a_text_csv(content, write_file, import_source):
    path = write_file("picture.csv", content)

    with pytest.raises(PermanentError) as caught:
        import_source(path)

    assert str(caught.value).startswith(f"{path} is not a text CSV file")
    assert "export the data as CSV" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"], ids=["no-bytes", "blank"])
def test_empty_file_is_refused_with_a_clear_error(content, write_file, import_source):
    path = write_file("empty.csv", content)

    with pytest.raises(PermanentError, match="is empty; give a CSV file with a header"):
        import_source(path)


def test_html_page_saved_as_csv_is_refused(write_file, import_source):
    path = write_file("page.csv", "<!DOCTYPE html>\n<html><body>Log in</body></html>\n")

    with pytest.raises(PermanentError, match="looks like HTML, XML or JSON"):
        import_source(path)
