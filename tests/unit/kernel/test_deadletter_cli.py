"""The dead-letter command refuses bad names before it contacts Redis."""

import pytest

from shared_kernel.deadletter_cli import format_age, main

# Nothing listens here: a command that got as far as Redis would say so.
UNREACHABLE = {"REDIS_URL": "redis://127.0.0.1:1/0"}


def run(argv, monkeypatch, capsys) -> tuple[int, str]:
    for name, value in UNREACHABLE.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["list", "--queue", "billing"], ["show", "billing", "r-1"],
     ["requeue", "billing", "--all"], ["purge", "billing", "r-1"]],
)
def test_an_unknown_queue_is_refused_with_the_valid_queues(argv, monkeypatch, capsys):
    code, err = run(argv, monkeypatch, capsys)

    assert code == 2
    assert err == ("error: unknown queue 'billing'; valid queues: email.welcome, "
                   "email.report, data.import, report.build, notification, log\n")


def test_an_unknown_context_is_refused_with_the_valid_contexts(monkeypatch, capsys):
    code, err = run(["list", "--context", "billing"], monkeypatch, capsys)

    assert code == 2
    assert "valid contexts: email, data, report" in err


@pytest.mark.parametrize(
    "argv",
    [["requeue", "log"], ["requeue", "log", "r-1", "--all"], ["purge", "log"],
     ["list", "--limit", "0"], ["list", "--queue", "log", "--context", "email"]],
)
def test_a_malformed_command_is_a_usage_error(argv, monkeypatch, capsys):
    code, err = run(argv, monkeypatch, capsys)

    assert code == 2
    assert "usage: platform-dead" in err


@pytest.mark.parametrize(
    ("age_s", "expected"),
    [(0.4, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (7200, "2h"), (90000, "1d")],
)
def test_an_age_reads_in_its_largest_whole_unit(age_s, expected):
    assert format_age(age_s) == expected
