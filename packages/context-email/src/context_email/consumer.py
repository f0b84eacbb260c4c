"""Entry point of the email context's consumer (``email-consume``)."""

from shared_kernel import Settings, run_consumer

from context_email.config import EmailSettings


def setup(settings: Settings) -> None:
    """Compose the context: read its settings, build the mailer, bind actors."""
    email = EmailSettings.from_env()
    from context_email import jobs  # imported once the broker is installed
    from context_email.smtp import SmtpMailer

    jobs.bind(SmtpMailer(email), sender=email.mail_from)


def main() -> None:
    """Run the email consumer until SIGTERM or SIGINT."""
    run_consumer("email", setup)


if __name__ == "__main__":
    main()
