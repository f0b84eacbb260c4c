"""The contracts of every message that crosses a context boundary.

Commands are named in the imperative (``ImportDataset``), events in the past
tense (``DatasetImported``). A contract is validated when it is built by a
producer and again when a consumer receives it, so a message that does not
match its contract never reaches domain code.
"""

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Base64Bytes,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
)

from shared_kernel.queues import QueueNames

Name = Annotated[str, Field(min_length=1, max_length=200)]
Recipients = Annotated[tuple[EmailStr, ...], Field(max_length=50)]


class Contract(BaseModel):
    """Base class of all contracts: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_source(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("give a file path or an http(s) URL")
    scheme, sep, _ = value.partition("://")
    if sep and scheme.lower() not in ("http", "https", "file"):
        raise ValueError(f"unsupported URL scheme {scheme!r}; use http, https or a path")
    return value


class SendWelcomeEmail(Contract):
    """Command: greet a new user by email."""

    to: EmailStr
    name: Name


class ImportDataset(Contract):
    """Command: import a CSV dataset from a path or an http(s) URL."""

    source: Annotated[str, Field(max_length=2048), AfterValidator(_check_source)]
    dataset_name: Name | None = None
    report_to: Recipients = ()


class ValueCount(Contract):
    """How often one text value occurs in a column."""

    value: str
    count: int


class HistogramBin(Contract):
    """How many numbers of a column fall in ``[low, high)``."""

    low: float
    high: float
    count: int


ColumnType = Literal["integer", "float", "boolean", "date", "timestamp", "text"]


class ColumnProfile(Contract):
    """What one column of an imported dataset holds."""

    name: str
    type: ColumnType
    nulls: int
    distinct: int
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    top_values: tuple[ValueCount, ...] = ()
    histogram: tuple[HistogramBin, ...] = ()


class DatasetProfile(Contract):
    """The shape and statistics of an imported dataset."""

    rows: int
    rejected_rows: int
    columns: tuple[ColumnProfile, ...]


class DatasetImported(Contract):
    """Event: the data context stored a dataset and profiled it."""

    dataset_id: str
    name: Name
    source: str
    imported_at: datetime
    profile: DatasetProfile
    report_to: Recipients = ()


class Attachment(Contract):
    """A file carried inside a message, so no context reads another's disk."""

    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_type: str
    content: Base64Bytes

    @classmethod
    def of(cls, filename: str, content_type: str, data: bytes) -> "Attachment":
        """Build an attachment from raw bytes (the field itself holds base64)."""
        encoded = base64.b64encode(data)
        return cls(filename=filename, content_type=content_type, content=encoded)


class ReportReady(Contract):
    """Event: the report context wrote a report for a dataset."""

    report_id: str
    dataset_id: str
    dataset_name: Name
    title: str
    summary: str
    report_path: str
    recipients: Recipients = ()
    attachments: tuple[Attachment, ...] = ()


class Notify(Contract):
    """Command: record a notification for operators (shared queue)."""

    subject: Annotated[str, Field(min_length=1, max_length=200)]
    text: str = ""
    level: Literal["info", "warning", "error"] = "info"
    origin: str = "app"


class RecordLog(Contract):
    """Command: write one line into the log of whichever context consumes it."""

    text: Annotated[str, Field(min_length=1, max_length=2000)]
    level: Literal["debug", "info", "warning", "error"] = "info"
    origin: str = "app"


@dataclass(frozen=True, slots=True)
class Route:
    """Where a contract goes: the queue, and the actor that handles it there."""

    queue: QueueNames
    actor: str


ROUTES: dict[type[Contract], tuple[Route, ...]] = {
    SendWelcomeEmail: (Route(QueueNames.EMAIL_WELCOME, "send_welcome_email"),),
    ImportDataset: (Route(QueueNames.DATA_IMPORT, "import_dataset"),),
    DatasetImported: (Route(QueueNames.REPORT_BUILD, "build_report"),),
    ReportReady: (Route(QueueNames.EMAIL_REPORT, "send_report_email"),),
    Notify: (Route(QueueNames.NOTIFICATION, "record_notification"),),
    RecordLog: (Route(QueueNames.LOG, "record_log"),),
}
"""Every contract's destinations. An event may have several subscribers."""


def routes_for(contract_type: type[Contract]) -> tuple[Route, ...]:
    """Return the routes of ``contract_type``.

    Raises:
        KeyError: When no route is declared for it.
    """
    return ROUTES[contract_type]
