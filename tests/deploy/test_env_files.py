"""deploy/envs/: one documented env file per machine, each accepted as it is."""

import pytest

from context_data.config import DataSettings
from context_email.config import EmailSettings
from context_report.config import ReportSettings
from devtools.envfile import EnvFileError, fill_env_file, parse_env_file
from shared_kernel import Settings, SettingsError
from tests.deploy.compose_model import CONTEXTS, ENVS

MACHINES = ("local", "redis", *CONTEXTS, "producer")
CONTEXT_SETTINGS = {
    "email": EmailSettings, "data": DataSettings, "report": ReportSettings,
}


def undocumented_settings(text: str) -> list[str]:
    """Return the settings without a comment right above them.

    A comment may explain a run of up to three related settings (host, port).
    """
    found, previous, run = [], "", 0
    for line in (line.strip() for line in text.splitlines()):
        if line and not line.startswith("#"):
            run = 1 if previous.startswith("#") else run + 1 if previous else 99
            if run > 3:
                found.append(line)
        previous = line
    return found


def test_there_is_one_env_file_per_machine_of_the_guide():
    found = {path.name for path in ENVS.glob(".env.*")}

    assert found == {f".env.{machine}" for machine in MACHINES}


@pytest.mark.parametrize("machine", MACHINES)
def test_every_setting_is_explained_by_the_comment_above_it(machine):
    assert undocumented_settings((ENVS / f".env.{machine}").read_text()) == []


@pytest.mark.parametrize("machine", MACHINES)
def test_every_password_is_single_quoted_so_compose_keeps_it_literal(machine):
    for line in (ENVS / f".env.{machine}").read_text().splitlines():
        if "PASSWORD=" in line and not line.startswith("#"):
            assert line.split("=", 1)[1].startswith("'"), line


def test_every_machine_has_the_password_of_the_redis_machine():
    password = parse_env_file(ENVS / ".env.redis")["REDIS_PASSWORD"]

    for machine in ("local", *CONTEXTS, "producer"):
        assert parse_env_file(ENVS / f".env.{machine}")["REDIS_PASSWORD"] == password


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_machine_file_is_accepted_by_its_consumer(context):
    env = parse_env_file(ENVS / f".env.{context}")

    settings = Settings.from_env(env, context=context)
    CONTEXT_SETTINGS[context].from_env(env)

    assert settings.context_name == context
    assert settings.redis.port == 6380
    assert str(settings.log_dir) == "/var/log/platform"


@pytest.mark.parametrize("machine", [*CONTEXTS, "producer"])
def test_the_placeholder_password_is_refused_until_it_is_replaced(machine):
    settings = Settings.from_env(parse_env_file(ENVS / f".env.{machine}"))

    with pytest.raises(SettingsError, match="at least 16 characters"):
        settings.require_secure()


def test_the_producer_and_local_files_are_accepted_by_the_kernel():
    producer = Settings.from_env(parse_env_file(ENVS / ".env.producer"))
    local = parse_env_file(ENVS / ".env.local")

    assert producer.context_name == "app"
    for context in CONTEXTS:
        settings = Settings.from_env(local, context=context)
        settings.require_secure()
        assert settings.redis.host == "localhost"
        CONTEXT_SETTINGS[context].from_env(local)


def test_a_dollar_outside_single_quotes_is_refused_with_the_fix(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# broker\nREDIS_PASSWORD=pa$word\n")

    with pytest.raises(EnvFileError, match=r":2: REDIS_PASSWORD holds a '\$'.*"
                                           r"single quotes: REDIS_PASSWORD='...'"):
        parse_env_file(env_file)


def test_values_are_read_as_compose_reads_them(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "A=plain # a comment\nB='lit$ral # kept'\nC=\"tab\\there\"\n"
        "export D=x#not-a-comment\nE=\n"
    )

    assert parse_env_file(env_file) == {
        "A": "plain", "B": "lit$ral # kept", "C": "tab\there", "D": "x#not-a-comment",
        "E": "",
    }


def test_filling_in_a_file_keeps_its_comments_and_quotes_the_values(tmp_path):
    filled = fill_env_file(ENVS / ".env.email", tmp_path / ".env.email",
                           {"REDIS_HOST": "10.0.0.1", "REDIS_PASSWORD": "a$b c",
                            "EXTRA": "1"})

    env = parse_env_file(filled)
    assert (env["REDIS_HOST"], env["REDIS_PASSWORD"], env["EXTRA"]) == (
        "10.0.0.1", "a$b c", "1")
    assert filled.read_text().count("#") == (ENVS / ".env.email").read_text().count("#")
    with pytest.raises(EnvFileError, match="single quote"):
        fill_env_file(ENVS / ".env.email", tmp_path / "x", {"REDIS_PASSWORD": "it's"})
