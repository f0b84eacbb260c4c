"""``python -m devtools.bench``: run the benchmark."""

from devtools.bench.cli import main

main()
