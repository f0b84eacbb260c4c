"""An SMTP sink as a process of its own, to run inside a machine's namespace.

    python -m tests.multihost.smtp_host <folder> <port>

It listens on 127.0.0.1:<port> of its namespace, keeps each mail as an .eml
file in <folder>, prints "ready" once it accepts connections, and serves until
SIGTERM.
"""

import signal
import sys
import threading
from pathlib import Path

from devtools.smtp_sink import SmtpSink


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    with SmtpSink(folder, port=port):
        print("ready", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
