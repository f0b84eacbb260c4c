"""Rendering the email templates."""

import pytest
from context_email.rendering import render
from shared_kernel.errors import PermanentError


def test_welcome_renders_subject_text_and_html():
    rendered = render("welcome", {"name": "Ann", "to": "ann@example.com"})

    assert rendered.subject == "Welcome, Ann"
    assert "Hello Ann," in rendered.text
    assert "<p>Hello Ann,</p>" in rendered.html


def test_html_part_escapes_what_users_typed_and_text_part_keeps_it():
    rendered = render("welcome", {"name": "<b>Ann</b> & co", "to": "a@example.com"})

    assert "&lt;b&gt;Ann&lt;/b&gt; &amp; co" in rendered.html
    assert "<b>Ann</b> & co" in rendered.text


def test_missing_template_variable_is_a_permanent_error_naming_it():
    with pytest.raises(PermanentError) as caught:
        render("welcome", {"name": "Ann"})

    assert str(caught.value) == (
        "template 'welcome' needs variable 'to' but was given only: name; "
        "pass 'to' when rendering it"
    )


def test_unknown_template_is_a_permanent_error():
    with pytest.raises(PermanentError, match="email template 'farewell' has no"):
        render("farewell", {})
