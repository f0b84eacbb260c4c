"""Logging: per-context files, routed stdlib lines, and rotation across processes."""

import logging
import multiprocessing
import re
from pathlib import Path

import dramatiq
from loguru import logger

from shared_kernel import Settings, configure_logging
from shared_kernel.logs import log_paths
from shared_kernel.middleware import MessageContext

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| (\w+) +\| email \| \d+ \| .* \| "
    r"writer (\d+) line (\d+) x+$"
)


def test_lines_go_to_the_context_log_and_errors_also_to_the_error_log(tmp_path):
    settings = Settings(context_name="email", log_dir=tmp_path)
    configure_logging(settings, console=False)

    logger.info("consumer started")
    logger.error("message 42 failed")
    logging.getLogger("dramatiq.worker").warning("from the stdlib")
    logger.remove()

    main_log, error_log = log_paths(settings)
    assert main_log == tmp_path / "email" / "email.log"
    assert error_log == tmp_path / "email" / "errors.log"
    main_text, error_text = main_log.read_text(), error_log.read_text()
    assert "| email |" in main_text and "consumer started" in main_text
    assert "dramatiq.worker: from the stdlib" in main_text
    assert "message 42 failed" in error_text
    assert "consumer started" not in error_text


def test_lines_written_while_a_message_is_handled_name_it(tmp_path):
    settings = Settings(context_name="email", log_dir=tmp_path)
    configure_logging(settings, console=False)
    message = dramatiq.Message(
        queue_name="email.welcome",
        actor_name="send_welcome_email",
        args=(),
        kwargs={},
        options={"correlation_id": "order-7"},
        message_id="m-1",
    )
    context = MessageContext()

    logger.info("before")
    context.before_process_message(None, message)
    logger.info("during")
    logging.getLogger("dramatiq.worker").warning("stdlib during")
    context.after_process_message(None, message)
    logger.info("after")
    logger.remove()

    lines = log_paths(settings)[0].read_text().splitlines()
    fields = {line.rsplit(" | ", 1)[1]: line.split(" | ")[4] for line in lines}
    assert fields["during"] == "send_welcome_email m-1 order-7"
    assert fields["dramatiq.worker: stdlib during"] == "send_welcome_email m-1 order-7"
    assert fields["before"] == fields["after"] == "- - -"


def test_log_file_names_are_not_prefixes_of_each_other(tmp_path):
    main_log, error_log = log_paths(Settings(context_name="data", log_dir=tmp_path))

    assert not main_log.name.startswith(error_log.stem)
    assert not error_log.name.startswith(main_log.stem)


def _write_lines(log_dir: str, writer: int, count: int) -> None:
    settings = Settings(context_name="email", log_dir=Path(log_dir))
    configure_logging(settings, console=False, rotate_at_bytes=64 * 1024)
    for number in range(count):
        logger.info("writer {} line {} {}", writer, number, "x" * 60)
    logger.remove()


def test_rotation_with_several_processes_loses_and_splits_no_line(tmp_path):
    writers, count = 4, 400
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_write_lines, args=(str(tmp_path), writer, count))
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0

    files = sorted((tmp_path / "email").glob("email.log*"))
    lines = [line for path in files for line in path.read_text().splitlines()]
    seen = set()
    for line in lines:
        match = LINE.match(line)
        assert match, f"split or mangled line: {line!r}"
        seen.add((int(match[2]), int(match[3])))
    assert len(files) >= 3, "the test must make the files rotate"
    assert len(lines) == writers * count
    assert seen == {(w, n) for w in range(writers) for n in range(count)}
