"""Entry point of the data context's consumer (``data-consume``)."""

import os

from shared_kernel import Settings, run_consumer

from context_data.config import DataSettings


def setup(settings: Settings) -> None:
    """Compose the context: read its settings, build adapters, bind actors."""
    data = DataSettings.from_env(os.environ)
    from context_data import jobs  # imported once the broker is installed
    from context_data.sources import FileAndHttpSources
    from context_data.store import DuckDbStore

    jobs.bind(
        sources=FileAndHttpSources.from_settings(data),
        store=DuckDbStore(data.data_dir),
    )


def main() -> None:
    """Run the data consumer until SIGTERM or SIGINT."""
    run_consumer("data", setup)


if __name__ == "__main__":
    main()
