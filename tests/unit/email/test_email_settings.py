"""Reading the email context's settings from the environment."""

import pytest
from context_email.config import EmailSettings
from shared_kernel.errors import SettingsError

PASSWORD = "hunter2-Very-Secret"


def settings_error(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        EmailSettings.from_env(env)
    return str(caught.value)


def test_empty_environment_gives_local_unauthenticated_smtp():
    settings = EmailSettings.from_env({})

    assert settings == EmailSettings(
        smtp_host="localhost",
        smtp_port=25,
        smtp_user=None,
        smtp_password=None,
        starttls=False,
        timeout_s=10.0,
        mail_from="platform@localhost",
    )


def test_every_variable_is_read():
    env = {
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": "587",
        "SMTP_USER": "mailer",
        "SMTP_PASSWORD": PASSWORD,
        "SMTP_STARTTLS": "yes",
        "SMTP_TIMEOUT_S": "2.5",
        "MAIL_FROM": "Platform <platform@example.com>",
    }

    settings = EmailSettings.from_env(env)

    assert settings.address == "mail.example.com:587"
    assert (settings.smtp_user, settings.smtp_password) == ("mailer", PASSWORD)
    assert settings.starttls is True
    assert settings.timeout_s == 2.5
    assert settings.mail_from == "Platform <platform@example.com>"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("true", True), ("1", True), ("YES", True), ("false", False), ("0", False),
     ("No", False), ("", False)],
)  # fmt: skip
def test_starttls_understands_the_usual_words(word, expected):
    assert EmailSettings.from_env({"SMTP_STARTTLS": word}).starttls is expected


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", "25.5"])
def test_bad_port_is_named_with_its_value_and_range(port):
    message = settings_error({"SMTP_PORT": port})

    assert message == f"SMTP_PORT must be a number from 1 to 65535, got {port!r}"


def test_bad_starttls_word_lists_the_accepted_words():
    message = settings_error({"SMTP_STARTTLS": "sometimes"})

    assert message == (
        "SMTP_STARTTLS must be one of true/1/yes/false/0/no, got 'sometimes'"
    )


@pytest.mark.parametrize("timeout", ["0", "-3", "soon", "nan", "inf", "31"])
def test_timeout_must_be_a_number_of_seconds_from_0_to_30(timeout):
    message = settings_error({"SMTP_TIMEOUT_S": timeout})

    assert message.startswith(
        "SMTP_TIMEOUT_S must be a number of seconds above 0 and at most 30"
    )
    assert message.endswith(f"got {timeout!r}")


@pytest.mark.parametrize(
    "mail_from", ["platform", "a@b c", "x <a@b", "a@b, c@d", "a@b\nBcc: c@d"]
)
def test_mail_from_must_be_one_email_address(mail_from):
    message = settings_error({"MAIL_FROM": mail_from})

    assert message.startswith("MAIL_FROM must be an email address such as")
    assert repr(mail_from) in message


def test_user_without_password_is_refused_with_the_fix():
    message = settings_error({"SMTP_USER": "mailer"})

    assert message == (
        "SMTP_USER is 'mailer' but SMTP_PASSWORD is not set; "
        "set both to log in to the SMTP server, or neither"
    )


def test_password_without_user_is_refused_without_echoing_it():
    message = settings_error({"SMTP_PASSWORD": PASSWORD})

    assert "SMTP_USER is not" in message
    assert PASSWORD not in message


def test_settings_errors_are_one_line():
    for env in ({"SMTP_PORT": "x"}, {"MAIL_FROM": "nobody"}, {"SMTP_USER": "u"}):
        assert "\n" not in settings_error(env)


def test_repr_masks_the_password():
    env = {"SMTP_USER": "mailer", "SMTP_PASSWORD": PASSWORD}

    settings = EmailSettings.from_env(env)

    assert PASSWORD not in repr(settings)
    assert "smtp_password='***'" in repr(settings)
    assert PASSWORD not in str(settings)
