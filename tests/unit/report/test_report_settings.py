"""Report settings: REPORT_DIR, and one clear line when it cannot be used."""

from pathlib import Path

import pytest
from context_report.config import ReportSettings
from shared_kernel.errors import SettingsError


def test_report_dir_defaults_to_reports_in_the_working_folder():
    assert ReportSettings.from_env({}).report_dir == Path("reports")


def test_blank_report_dir_means_the_default():
    assert ReportSettings.from_env({"REPORT_DIR": "  "}).report_dir == Path("reports")


def test_report_dir_is_read_from_the_environment(tmp_path):
    settings = ReportSettings.from_env({"REPORT_DIR": str(tmp_path / "out")})

    assert settings.report_dir == tmp_path / "out"


def test_report_dir_that_is_a_file_is_refused_with_the_fix(tmp_path):
    file = tmp_path / "reports.txt"
    file.write_text("")

    with pytest.raises(SettingsError) as caught:
        ReportSettings.from_env({"REPORT_DIR": str(file)})

    message = str(caught.value)
    assert message.startswith(f"REPORT_DIR must be a folder path, got '{file}'")
    assert "\n" not in message


def test_report_dir_with_a_nul_character_is_refused():
    with pytest.raises(SettingsError, match="REPORT_DIR must be a folder path"):
        ReportSettings.from_env({"REPORT_DIR": "re\x00ports"})
