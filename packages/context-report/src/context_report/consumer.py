"""Entry point of the report context's consumer (``report-consume``)."""

import os

from shared_kernel import Settings, run_consumer

from context_report.config import ReportSettings


def setup(settings: Settings) -> None:
    """Compose the context: read its settings, build adapters, bind actors."""
    report = ReportSettings.from_env(os.environ)
    from context_report import jobs  # imported once the broker is installed
    from context_report.charts import MatplotlibCharts
    from context_report.store import ReportFiles

    jobs.bind(files=ReportFiles(report.report_dir), charts=MatplotlibCharts())


def main() -> None:
    """Run the report consumer until SIGTERM or SIGINT."""
    run_consumer("report", setup)


if __name__ == "__main__":
    main()
