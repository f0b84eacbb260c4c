"""Use case: a user imports a file larger than ``DATA_MAX_FILE_MB`` allows.

It is refused as soon as it is known to be too large, whether its size is
known before it is read or only counted as it arrives or is converted, with a
message that names the size, the limit and what to do.
"""

import pytest
from context_data.config import DataSettings
from context_data.sources import FileAndHttpSources
from shared_kernel.errors import PermanentError

FIX = (
    "raise DATA_MAX_FILE_MB above that size, or split the file into "
    "smaller ones"
)
BYTES_PER_MB = 1024 * 1024


@pytest.fixture
def sources(data_dir) -> FileAndHttpSources:
    """The source adapter as the consumer builds it, with DATA_MAX_FILE_MB=1."""
    env = {"DATA_DIR": str(data_dir), "DATA_MAX_FILE_MB": "1"}
    return FileAndHttpSources.from_settings(DataSettings.from_env(env))


def refusal(import_source, source) -> str:
    with pytest.raises(PermanentError) as caught:
        import_source(source)
    return str(caught.value)


def test_local_file_over_the_limit_is_refused_naming_its_size(
    write_file, import_source
):
    path = write_file("big.csv", "n\n" + "123456789\n" * 120_000)

    message = refusal(import_source, path)

    size = path.stat().st_size
    assert message == f"{path} is over the 1 MB limit (1.1 MB, {size} bytes); {FIX}"


def test_download_without_a_length_is_stopped_at_the_limit(
    http_server, write_file, import_source, data_dir
):
    write_file("www/big.csv", "n\n" + "123456789\n" * 500_000)
    url = http_server.url("unsized/big.csv")

    message = refusal(import_source, url)

    assert message == (
        f"{url} is over the 1 MB limit (more than 1 MB arrived before the "
        f"download was stopped); {FIX}"
    )
    assert list((data_dir / "incoming").iterdir()) == []


def test_file_under_the_limit_that_grows_past_it_in_utf8_is_refused(
    write_file, import_source, data_dir
):
    # Each accented letter is one byte in cp1252 and two in UTF-8.
    text = "ville;note\n" + "Orléans;très élevée\n" * 50_000
    path = write_file("villes.csv", text.encode("cp1252"))
    utf8_bytes = len(text.encode("utf-8"))
    assert path.stat().st_size < BYTES_PER_MB < utf8_bytes

    message = refusal(import_source, path)

    utf8 = f"about {utf8_bytes / BYTES_PER_MB:.1f} MB in all"
    assert message == (
        f"{path} is over the 1 MB limit (more than 1 MB once converted from "
        f"cp1252 to UTF-8: {utf8}); {FIX}"
    )
    assert list((data_dir / "incoming").iterdir()) == []
