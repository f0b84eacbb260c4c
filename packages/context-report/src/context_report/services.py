"""Build the report of an imported dataset from the profile in its event.

The report context never reads the data context's storage: everything it
shows comes from the :class:`DatasetProfile` carried by ``DatasetImported``.
The report travels on to the email context, on another machine, as
attachments of ``ReportReady``; the charts are embedded in the HTML page.
"""

from pathlib import Path

from loguru import logger
from shared_kernel.contracts import (
    Attachment,
    DatasetImported,
    DatasetProfile,
    ReportReady,
)
from shared_kernel.errors import PermanentError

from context_report.chart_selection import (
    MAX_COLUMN_CHARTS,
    draw_charts,
    uncharted_columns,
)
from context_report.ports import ChartPort, ReportFilesPort
from context_report.rendering import Chart, render_csv, render_html

HTML_FILE = "report.html"
CSV_FILE = "summary.csv"
CONTENT_TYPES = {HTML_FILE: "text/html", CSV_FILE: "text/csv"}
# Raw bytes; base64 in the message makes 2.7 MiB of it, well under ~5 MB.
MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024


def build_report(
    event: DatasetImported,
    *,
    report_id: str,
    files: ReportFilesPort,
    charts: ChartPort,
) -> ReportReady:
    """Draw, render and store the report of ``event``, and announce it.

    Building the same ``report_id`` again replaces the earlier report, so a
    redelivered message leaves one report.

    Raises:
        PermanentError: When the profile cannot be reported (no columns,
            counts that contradict each other) or ``report_id`` is not a
            plain file name.
    """
    _check_reportable(event.profile, event=event)
    drawn = draw_charts(event.profile, charts)
    title = f"Dataset report: {event.name}"
    html = render_html(
        event, report_id=report_id, title=title, charts=drawn, notes=_notes(event)
    )
    documents = {HTML_FILE: html, CSV_FILE: render_csv(event.profile)}

    folder = _store(files, report_id, {**documents, **_chart_files(drawn)})
    attachments = _attachments(documents, report_id=report_id)

    logger.info(
        "Report {}: built for dataset {} with {} charts, {} attachments",
        report_id, event.dataset_id, len(drawn), len(attachments),
    )
    return ReportReady(
        report_id=report_id,
        dataset_id=event.dataset_id,
        dataset_name=event.name,
        title=title,
        summary=_summary(event, attached=[a.filename for a in attachments]),
        report_path=str(folder / HTML_FILE),
        recipients=event.report_to,
        attachments=attachments,
    )


def _check_reportable(profile: DatasetProfile, *, event: DatasetImported) -> None:
    dataset = f"dataset {event.dataset_id!r} ({event.name!r})"
    if not profile.columns:
        raise PermanentError(
            f"{dataset} has no columns, so there is nothing to report; "
            f"check that {event.source!r} is a CSV file with a header row"
        )
    if profile.rows < 0 or profile.rejected_rows < 0:
        raise PermanentError(
            f"{dataset} has a profile with {profile.rows} rows and "
            f"{profile.rejected_rows} rejected rows; counts must not be negative"
        )
    for column in profile.columns:
        if not 0 <= column.nulls <= profile.rows or column.distinct < 0:
            raise PermanentError(
                f"column {column.name!r} of {dataset} has {column.nulls} nulls and "
                f"{column.distinct} distinct values in {profile.rows} rows; the "
                "data context must send counts from 0 to the number of rows"
            )


def _notes(event: DatasetImported) -> tuple[str, ...]:
    profile = event.profile
    notes = []
    if profile.rows == 0:
        notes.append("The dataset has no rows, so the report has no charts.")
    if profile.rejected_rows:
        notes.append(
            f"{profile.rejected_rows:,} rows were rejected by the import and are "
            "not counted in these statistics."
        )
    skipped = uncharted_columns(profile)
    if skipped:
        notes.append(
            f"{skipped} more columns could have a chart; a report draws at most "
            f"{MAX_COLUMN_CHARTS} column charts, so that it fits in an email."
        )
    return tuple(notes)


def _chart_files(drawn: tuple[Chart, ...]) -> dict[str, bytes]:
    return {chart.filename: chart.png for chart in drawn}


def _store(
    files: ReportFilesPort, report_id: str, contents: dict[str, bytes]
) -> Path:
    try:
        return files.write(report_id, contents)
    except ValueError as error:
        raise PermanentError(f"cannot store report {report_id!r}: {error}") from error


def _attachments(
    documents: dict[str, bytes], *, report_id: str
) -> tuple[Attachment, ...]:
    """Attach the documents in order while they fit the message size budget."""
    attached: list[Attachment] = []
    total_bytes = 0
    for name, data in documents.items():
        if total_bytes + len(data) > MAX_ATTACHMENT_BYTES:
            logger.warning(
                "Report {}: {} is not attached: {} bytes would pass the {} byte "
                "budget of a message",
                report_id, name, total_bytes + len(data), MAX_ATTACHMENT_BYTES,
            )
            continue
        attached.append(Attachment.of(name, CONTENT_TYPES[name], data))
        total_bytes += len(data)
    return tuple(attached)


def _summary(event: DatasetImported, *, attached: list[str]) -> str:
    profile = event.profile
    types: dict[str, int] = {}
    for column in profile.columns:
        types[column.type] = types.get(column.type, 0) + 1
    kinds = ", ".join(f"{count} {kind}" for kind, count in types.items())
    lines = [
        f"Dataset {event.name!r} from {event.source}",
        f"{profile.rows:,} rows ({profile.rejected_rows:,} rejected), "
        f"{len(profile.columns)} columns: {kinds}.",
        _nulls_line(profile),
    ]
    if HTML_FILE not in attached:
        lines.append("The HTML report was too large to attach; see the report path.")
    return "\n".join(lines)


def _nulls_line(profile: DatasetProfile) -> str:
    worst = max(profile.columns, key=lambda column: column.nulls)
    if worst.nulls == 0:
        return "No column has null values."
    share = 100 * worst.nulls / profile.rows
    return f"Most nulls: {worst.name!r}, {worst.nulls:,} rows ({share:.1f}%)."
