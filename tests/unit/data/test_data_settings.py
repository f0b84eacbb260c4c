"""Use case: an operator configures the data context through the environment."""

from pathlib import Path

import pytest
from context_data.config import DataSettings
from shared_kernel.errors import SettingsError


def test_unset_variables_give_the_documented_defaults():
    settings = DataSettings.from_env({})

    assert settings.data_dir == Path("data")
    assert settings.max_file_mb == 1024
    assert settings.max_file_bytes == 1024 * 1024 * 1024
    assert settings.http_timeout_s == 30.0


def test_set_variables_are_read_with_their_units():
    env = {
        "DATA_DIR": "/srv/data",
        "DATA_MAX_FILE_MB": "5",
        "DATA_HTTP_TIMEOUT_S": "2.5",
    }

    settings = DataSettings.from_env(env)

    assert settings.data_dir == Path("/srv/data")
    assert settings.max_file_bytes == 5 * 1024 * 1024
    assert settings.http_timeout_s == 2.5


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "1.5", "²"])
def test_a_max_file_size_that_is_not_a_positive_whole_number_is_refused(raw):
    with pytest.raises(SettingsError) as caught:
        DataSettings.from_env({"DATA_MAX_FILE_MB": raw})

    assert str(caught.value) == (
        f"DATA_MAX_FILE_MB must be a positive whole number of megabytes, got {raw!r}"
    )


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_refused(raw):
    with pytest.raises(SettingsError, match="DATA_HTTP_TIMEOUT_S must be a positive"):
        DataSettings.from_env({"DATA_HTTP_TIMEOUT_S": raw})
