"""Public API: ask the report context for a report, from any process.

The report context normally reacts to the data context's ``DatasetImported``
event. A process that holds a dataset profile of its own can publish that
event itself to have a report built and emailed::

    from shared_kernel import Settings, install_broker
    from context_report.api import request_report

    install_broker(Settings.from_env())
    request_report(event)
"""

from shared_kernel import DatasetImported, send


def request_report(
    event: DatasetImported,
    *,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """Enqueue a report for the dataset described by ``event``; return the id."""
    messages = send(
        event, idempotency_key=idempotency_key, correlation_id=correlation_id
    )
    return messages[0].message_id
