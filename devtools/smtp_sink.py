"""A local SMTP server that stores every mail it receives as an ``.eml`` file.

``hatch run smtp-sink [--port 2525] [--folder mail]`` serves one until Ctrl-C,
for a consumer of the email context started by hand.
"""

import argparse
import itertools
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlWriter:
    """aiosmtpd handler: write each accepted message to ``<folder>/<n>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            number = next(self._counter)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{stamp}-{number:05d}.eml"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(envelope.original_content or envelope.content)
        temporary.rename(path)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps mail as files, for demo and tests."""

    def __init__(self, folder: Path, *, port: int = 0,
                 handler: EmlWriter | None = None) -> None:
        self.folder = Path(folder)
        self.handler = handler or EmlWriter(self.folder)
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=port or _free_port()
        )

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._controller.port

    def start(self) -> "SmtpSink":
        """Start serving in a background thread."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._controller.stop()

    def messages(self) -> list[Path]:
        """Return the ``.eml`` files received so far, oldest first."""
        return sorted(self.folder.glob("*.eml"))

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _free_port() -> int:
    from devtools.redis_server import free_port

    return free_port()


def main(argv: list[str] | None = None) -> None:
    """Serve an SMTP sink on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(prog="hatch run smtp-sink", description=__doc__)
    parser.add_argument("--port", type=int, default=2525, help="default 2525")
    parser.add_argument("--folder", default="mail", help="where .eml files go")
    args = parser.parse_args(argv)
    try:
        sink = SmtpSink(Path(args.folder), port=args.port).start()
    except (OSError, RuntimeError) as error:
        parser.exit(1, f"error: cannot serve SMTP on port {args.port} ({error}); "
                       "choose another --port\n")
    print(f"SMTP sink on 127.0.0.1:{sink.port}, mail in {sink.folder.resolve()}/; "
          f"Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
