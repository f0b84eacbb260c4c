"""Use case: a user imports a CSV file from a path, a file:// URL or an http URL."""

import os
import socket
import time

import pytest
from shared_kernel.errors import PermanentError, TransientError

CSV = "id,name\n1,Ada\n2,Grace\n"


@pytest.fixture
def served(http_server, write_file):
    """Put ``CSV`` on the HTTP server as people.csv."""
    write_file("www/people.csv", CSV)
    return http_server


def test_csv_served_over_http_imports_and_is_named_after_the_file(
    served, import_source, query
):
    event = import_source(served.url("people.csv?version=2"))

    assert event.name == "people"
    assert event.profile.rows == 2
    assert query("ds1", 'SELECT name FROM "rows" ORDER BY id') == [("Ada",), ("Grace",)]


def test_csv_streamed_without_content_length_imports(served, import_source):
    event = import_source(served.url("unsized/people.csv"))

    assert event.profile.rows == 2


def test_missing_http_file_is_a_permanent_error_naming_the_url(served, import_source):
    url = served.url("nowhere.csv")

    with pytest.raises(PermanentError) as caught:
        import_source(url)

    assert str(caught.value) == f"{url} answered 404 Not Found; check the URL"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_failure_is_a_transient_error_so_the_import_is_retried(
    status, served, import_source
):
    with pytest.raises(TransientError, match=f"answered {status} .*retry later"):
        import_source(served.url(f"status/{status}"))


def test_login_wall_is_a_permanent_error(served, import_source):
    with pytest.raises(PermanentError, match="403 Forbidden; give a URL that needs no"):
        import_source(served.url("status/403"))


def test_slow_server_times_out_as_a_transient_error(
    served, import_source, http_timeout_s
):
    started = time.monotonic()

    with pytest.raises(TransientError, match=f"did not answer within {http_timeout_s}"):
        import_source(served.url(f"slow/{http_timeout_s * 4}/people.csv"))

    assert time.monotonic() - started < http_timeout_s * 3


def test_refused_connection_is_a_transient_error(import_source):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(TransientError, match="check that the server is up"):
        import_source(f"http://127.0.0.1:{port}/people.csv")


def test_web_page_instead_of_a_csv_is_refused(served, import_source):
    with pytest.raises(PermanentError, match="answered with an HTML page"):
        import_source(served.url("html"))


@pytest.mark.parametrize("route", ["big.csv", "unsized/big.csv"])
def test_file_over_the_size_limit_is_refused_while_downloading(
    route, served, write_file, import_source, data_dir
):
    write_file("www/big.csv", "n\n" + "123456789\n" * 120_000)

    with pytest.raises(PermanentError, match=r"over the 1 MB limit.*DATA_MAX_FILE_MB"):
        import_source(served.url(route))

    assert list((data_dir / "incoming").iterdir()) == []


def test_password_in_a_url_is_not_shown_in_errors(served, import_source):
    url = served.url("nowhere.csv").replace("//", "//reader:hunter2@")

    with pytest.raises(PermanentError) as caught:
        import_source(url)

    assert "hunter2" not in str(caught.value)
    assert "reader:***@127.0.0.1" in str(caught.value)


def test_file_url_imports_the_local_file(write_file, import_source):
    path = write_file("my people.csv", CSV)

    event = import_source(path.as_uri())

    assert event.name == "my people"
    assert event.profile.rows == 2


def test_missing_local_file_is_a_permanent_error_naming_the_path(
    tmp_path, import_source
):
    path = tmp_path / "missing.csv"

    with pytest.raises(PermanentError) as caught:
        import_source(path)

    assert str(caught.value) == (
        f"{path} does not exist on the data consumer's machine; check the path, "
        f"or give an http(s) URL"
    )


def test_directory_is_refused_as_not_a_file(tmp_path, import_source):
    with pytest.raises(PermanentError, match="is not a file; give the path of a CSV"):
        import_source(tmp_path)


def test_local_file_over_the_size_limit_is_refused(write_file, import_source):
    path = write_file("big.csv", "n\n" + "123456789\n" * 120_000)

    with pytest.raises(PermanentError, match=r"over the 1 MB limit \(1\.1 MB"):
        import_source(path)


def test_file_url_on_another_host_is_refused(import_source):
    with pytest.raises(PermanentError, match="names the host 'fileserver'"):
        import_source("file://fileserver/share/people.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_local_file_is_refused(write_file, import_source):
    path = write_file("secret.csv", CSV)
    path.chmod(0)

    with pytest.raises(PermanentError, match="cannot be read by the data consumer"):
        import_source(path)
