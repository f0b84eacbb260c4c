"""Public API: ask the data context to import a dataset, from any process.

Install the broker once, then call :func:`import_dataset`; the import runs on
the data context's consumer, which then has the report context build a report
and the email context send it::

    from shared_kernel import Settings, install_broker
    from context_data.api import import_dataset

    install_broker(Settings.from_env())
    import_dataset("https://example.com/sales.csv", report_to=["team@example.com"])
"""

from collections.abc import Sequence

from shared_kernel import ImportDataset, send


def import_dataset(
    source: str,
    *,
    report_to: Sequence[str] = (),
    name: str | None = None,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """Enqueue the import of a CSV file; return the message id.

    Args:
        source: An http(s) URL, or a path that exists on the data context's host.
        report_to: Who gets the report by email once the import is done.
        name: The dataset's name; the file name when not given.
        idempotency_key: Imports sent with the same key run once.
        correlation_id: Ties this import to the request that caused it.

    Raises:
        pydantic.ValidationError: When an argument breaks the contract, before
            anything is enqueued.
    """
    command = ImportDataset(
        source=source, report_to=tuple(report_to), dataset_name=name
    )
    [message] = send(
        command, idempotency_key=idempotency_key, correlation_id=correlation_id
    )
    return message.message_id
