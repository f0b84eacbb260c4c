"""Settings: defaults, URL forms, and one clear line for every bad value."""

import pytest

from shared_kernel import RedisSettings, Settings, SettingsError


def test_defaults_point_at_local_redis_on_port_6380():
    settings = Settings.from_env({})

    assert settings.context_name == "app"
    assert str(settings.log_dir) == "logs"
    assert (settings.redis.host, settings.redis.port, settings.redis.db) == (
        "localhost", 6380, 0,
    )
    assert settings.redis.password is None


def test_parts_are_read_from_their_variables():
    settings = Settings.from_env({
        "CONTEXT_NAME": "email", "REDIS_HOST": "10.0.0.5", "REDIS_PORT": "7000",
        "REDIS_DB": "3", "REDIS_PASSWORD": "p@ss:w/rd#%", "LOG_DIR": "/var/log/x",
    })

    assert settings.context_name == "email"
    assert settings.redis == RedisSettings(
        host="10.0.0.5", port=7000, db=3, password="p@ss:w/rd#%"
    )


@pytest.mark.parametrize("password", ["p@ss", "a:b", "a/b", "a#b", "100%", "@:/#%?"])
def test_percent_encoded_url_passwords_with_special_characters_work(password):
    from urllib.parse import quote

    url = f"rediss://:{quote(password, safe='')}@cache.internal:6390/2"

    redis = Settings.from_env({"REDIS_URL": url}).redis

    assert redis.password == password
    assert (redis.host, redis.port, redis.db, redis.tls) == ("cache.internal", 6390, 2, True)


def test_url_without_password_takes_redis_password():
    redis = Settings.from_env(
        {"REDIS_URL": "redis://h:6380/0", "REDIS_PASSWORD": "s3cret#"}
    ).redis

    assert redis.password == "s3cret#"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"REDIS_PORT": "abc"}, "REDIS_PORT must be a number from 1 to 65535, got 'abc'"),
        ({"REDIS_PORT": "0"}, "REDIS_PORT must be a number from 1 to 65535, got '0'"),
        ({"REDIS_DB": "-1"}, "REDIS_DB must be a number from 0"),
        ({"CONTEXT_NAME": "billing"}, "CONTEXT_NAME must be one of email, data, report, app"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"REDIS_URL": "http://h:1"}, "REDIS_URL must look like redis://"),
        ({"REDIS_URL": "redis://h:99999/0"}, "REDIS_URL must have a port from 1 to 65535"),
        ({"REDIS_URL": "redis://h:6380/zero"}, "REDIS_URL must end in /<db number>"),
    ],
)
def test_bad_values_name_the_variable_and_the_expected_form(env, expected):
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)

    assert expected in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "url",
    ["redis://:top/secret@h:6380/0", "redis://:top#secret@h:6380/0",
     "redis://:topsecret@h:99999/0", "redis://:top?secret@h/0"],
)
def test_errors_about_a_url_never_show_its_password(url):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"REDIS_URL": url})

    assert "secret" not in str(error.value)


def test_repr_of_settings_hides_the_password():
    settings = Settings.from_env({"REDIS_PASSWORD": "hunter2-very-secret"})

    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.redis.address


def test_consumer_refuses_a_context_name_of_another_context():
    with pytest.raises(SettingsError, match="this is the email consumer"):
        Settings.from_env({"CONTEXT_NAME": "data"}, context="email")


def test_production_needs_a_password_of_16_characters():
    with pytest.raises(SettingsError, match="must be set outside local development"):
        Settings.from_env({}).require_secure()
    with pytest.raises(SettingsError, match="at least 16 characters, it has 6"):
        Settings.from_env({"REDIS_PASSWORD": "abc123"}).require_secure()
    Settings.from_env({"REDIS_PASSWORD": "x" * 16}).require_secure()
    Settings.from_env({"PLATFORM_ENV": "local"}).require_secure()


def test_a_password_file_is_read_and_a_missing_one_named(tmp_path):
    path = tmp_path / "secret"
    path.write_text("p@ss:w/rd#%-from-a-file\n")

    assert Settings.from_env({"REDIS_PASSWORD_FILE": str(path)}).redis.password == (
        "p@ss:w/rd#%-from-a-file")
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_env({"REDIS_PASSWORD_FILE": str(tmp_path / "nope")})
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({"REDIS_PASSWORD_FILE": str(path), "REDIS_PASSWORD": "x"})
