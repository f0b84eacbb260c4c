"""Use case: a user imports a CSV file and finds its rows stored as a dataset."""

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from context_data.ports import LocalCsv
from context_data.services import import_dataset
from shared_kernel.contracts import ImportDataset
from shared_kernel.errors import PermanentError
from vega_datasets import local_data

PEOPLE = [("Ada", 36, "London"), ("Grace", 85, "New York"), ("Linus", 54, "Helsinki")]


def people_csv(delimiter: str) -> str:
    lines = ["name,age,city", *(f"{n},{a},{c}" for n, a, c in PEOPLE)]
    return "\n".join(lines).replace(",", delimiter) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"], ids=repr)
def test_comma_semicolon_tab_and_pipe_files_load_the_same_rows(
    delimiter, write_file, import_source, query
):
    path = write_file("people.csv", people_csv(delimiter))

    event = import_source(path)

    assert query("ds1", 'SELECT * FROM "rows" ORDER BY name') == PEOPLE
    assert [(c.name, c.type) for c in event.profile.columns] == [
        ("name", "text"),
        ("age", "integer"),
        ("city", "text"),
    ]


def test_ragged_rows_are_kept_aside_with_their_line_and_reason(
    write_file, import_source, query
):
    path = write_file(
        "ragged.csv",
        "id,name,day\n1,x,2024-01-02\n2,y\n3,z,2024-01-03,9\n4,w,2024-01-05\n",
    )

    event = import_source(path)

    assert (event.profile.rows, event.profile.rejected_rows) == (2, 2)
    assert query("ds1", 'SELECT id FROM "rows" ORDER BY id') == [(1,), (4,)]
    assert query("ds1", 'SELECT * FROM "rejects" ORDER BY line') == [
        (3, "missing columns: Expected Number of Columns: 3 Found: 2", "2,y"),
        (
            4,
            "too many columns: Expected Number of Columns: 3 Found: 4",
            "3,z,2024-01-03,9",
        ),
    ]


def test_header_only_file_imports_as_an_empty_dataset(write_file, import_source):
    path = write_file("header.csv", "id,name,price\n")

    event = import_source(path)

    assert event.profile.rows == 0
    assert [c.name for c in event.profile.columns] == ["id", "name", "price"]
    assert all(c.distinct == 0 and c.nulls == 0 for c in event.profile.columns)


def test_text_with_no_delimiter_is_refused_as_not_a_table(write_file, import_source):
    path = write_file("notes.csv", "Buy milk today\nCall the bank about it\nDone\n")

    with pytest.raises(PermanentError) as caught:
        import_source(path)

    assert str(caught.value) == (
        f"{path} has no comma, semicolon, tab or pipe between the names in its "
        f"first line 'Buy milk today'; give a CSV file with a header row of at "
        f"least two columns"
    )


def test_value_late_in_the_file_makes_its_column_text_instead_of_a_reject(
    write_file, import_source, query
):
    lines = [f"{i},{i * 2}" for i in range(30_000)] + ["30000,n/a"]
    path = write_file("late.csv", "id,score\n" + "\n".join(lines) + "\n")

    event = import_source(path)

    assert (event.profile.rows, event.profile.rejected_rows) == (30_001, 0)
    assert event.profile.columns[1].type == "text"
    assert query("ds1", 'SELECT score FROM "rows" WHERE id = 30000') == [("n/a",)]


def test_semicolon_file_with_decimal_commas_reads_numbers(
    write_file, import_source, query
):
    path = write_file("prices.csv", "item;price\nbread;1,25\nwine;12,5\n")

    event = import_source(path)

    assert event.profile.columns[1].type == "float"
    assert query("ds1", 'SELECT price FROM "rows" ORDER BY 1') == [(1.25,), (12.5,)]


def test_reimport_with_the_same_dataset_id_replaces_the_dataset(
    write_file, import_source, query, data_dir
):
    first = write_file("v1.csv", people_csv(","))
    second = write_file("v2.csv", "name,age,city\nMargaret,89,Boston\n")

    import_source(first, dataset_id="team")
    event = import_source(second, dataset_id="team")

    assert event.profile.rows == 1
    assert query("team", 'SELECT name FROM "rows"') == [("Margaret",)]
    stored = sorted(p.name for p in (data_dir / "datasets").iterdir())
    assert stored == ["team.duckdb"]


def test_failed_reimport_keeps_the_previous_dataset(
    write_file, import_source, query, data_dir
):
    good = write_file("good.csv", people_csv(","))
    bad = write_file("bad.csv", "no delimiter anywhere\nat all\n")
    import_source(good, dataset_id="team")

    with pytest.raises(PermanentError):
        import_source(bad, dataset_id="team")

    assert query("team", 'SELECT count(*) FROM "rows"') == [(3,)]
    stored = sorted(p.name for p in (data_dir / "datasets").iterdir())
    assert stored == ["team.duckdb"]


def test_each_dataset_is_stored_in_its_own_duckdb_file(
    write_file, import_source, data_dir
):
    path = write_file("people.csv", people_csv(","))

    import_source(path, dataset_id="a1")
    import_source(path, dataset_id="b2")

    stored = sorted(p.name for p in (data_dir / "datasets").iterdir())
    assert stored == ["a1.duckdb", "b2.duckdb"]


def test_event_carries_the_dataset_the_command_asked_for(write_file, sources, store):
    path = write_file("people.csv", people_csv(","))
    command = ImportDataset(
        source=str(path), dataset_name="Team", report_to=("lead@example.com",)
    )
    moment = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    event = import_dataset(
        command, dataset_id="ds9", sources=sources, store=store, now=lambda: moment
    )

    assert event.dataset_id == "ds9"
    assert event.name == "Team"
    assert event.source == str(path)
    assert event.report_to == ("lead@example.com",)
    assert event.imported_at == moment


@pytest.mark.parametrize("dataset_id", ["../escape", "", "a/b", ".hidden"])
def test_dataset_id_that_is_not_a_plain_file_name_is_refused(dataset_id, store):
    with pytest.raises(ValueError, match="dataset_id must be 1 to 128 letters"):
        store.path_of(dataset_id)


def test_public_seattle_weather_dataset_imports_whole(import_source):
    path = Path(local_data.seattle_weather.filepath)
    with path.open(newline="") as file:
        expected = list(csv.DictReader(file))

    event = import_source(path)

    profile = event.profile
    assert event.name == "seattle-weather"
    assert (profile.rows, profile.rejected_rows) == (len(expected), 0)
    assert [(c.name, c.type) for c in profile.columns] == [
        ("date", "date"),
        ("precipitation", "float"),
        ("temp_max", "float"),
        ("temp_min", "float"),
        ("wind", "float"),
        ("weather", "text"),
    ]
    weather = Counter(row["weather"] for row in expected)
    top = [(v.value, v.count) for v in profile.columns[5].top_values]
    assert top == sorted(weather.items(), key=lambda kv: (-kv[1], kv[0]))
    assert profile.columns[0].min == "2012-01-01"
    assert profile.columns[0].max == "2015-12-31"
    assert profile.columns[2].max == max(float(row["temp_max"]) for row in expected)


def test_line_too_long_for_duckdb_is_refused_with_the_reason(tmp_path, store):
    path = tmp_path / "wide.csv"
    path.write_text("a,b\n" + "x" * 3_000_000 + ",1\n")
    csv = LocalCsv(path=path, source="wide.csv", encoding="utf-8", size_bytes=3_000_006)

    with pytest.raises(PermanentError) as caught:
        store.load("wide", csv)

    assert str(caught.value).startswith("wide.csv could not be read as a CSV file (")
    assert "Maximum line size of 2000000 bytes exceeded" in str(caught.value)
    assert not store.path_of("wide").exists()
