"""The ports of the data context: what its domain logic needs from the world.

:mod:`context_data.services` depends on these protocols only; the adapters
(:class:`~context_data.sources.FileAndHttpSources` and
:class:`~context_data.store.DuckDbStore`) implement them, and a test may hand
in any object of the same shape.
"""

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shared_kernel.contracts import DatasetProfile


@dataclass(frozen=True, slots=True)
class LocalCsv:
    """A source made ready to load: a local CSV file encoded in UTF-8.

    Attributes:
        path: The UTF-8 file (it may start with a byte order mark).
        source: The path or URL it came from, for messages.
        encoding: The encoding the source was written in.
        size_bytes: The size of the source as fetched, before transcoding.
    """

    path: Path
    source: str
    encoding: str
    size_bytes: int


class SourcePort(Protocol):
    """Fetches a source into a local UTF-8 CSV file."""

    def fetch(self, source: str) -> AbstractContextManager[LocalCsv]:
        """Return a context that yields the file and deletes any temporary copy.

        Raises:
            PermanentError: When the source cannot become a CSV file.
            TransientError: When fetching failed in a way that may pass.
        """
        ...


class StorePort(Protocol):
    """Stores a dataset and profiles it."""

    def load(self, dataset_id: str, csv: LocalCsv) -> DatasetProfile:
        """Replace the dataset ``dataset_id`` with the rows of ``csv``.

        Raises:
            PermanentError: When the file cannot be read as a CSV table.
        """
        ...
