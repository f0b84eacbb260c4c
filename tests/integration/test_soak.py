"""Soak: thousands of messages through all three contexts, a consumer killed midway.

Short by default; set SOAK_MESSAGES (e.g. 20000) for a longer run.
"""

import os
import signal
from collections import Counter

from shared_kernel import ImportDataset, SendWelcomeEmail, send
from tests.helpers import wait_for
from tests.integration.conftest import dead_letter_ids, read_mail

MESSAGES = int(os.environ.get("SOAK_MESSAGES", "2000"))
IMPORTS = 5
THREADS = 8


def test_counts_in_equal_counts_out_with_a_consumer_killed_during_the_run(
    platform_env, redis_client, smtp_sink, start_consumer, producer
):
    platform_env.update(HEARTBEAT_TIMEOUT_S="3", UPKEEP_INTERVAL_S="0.5")
    email = start_consumer("email", "--threads", str(THREADS))
    start_consumer("data")
    start_consumer("report")

    for n in range(MESSAGES):
        send(SendWelcomeEmail(to=f"user{n}@example.com", name=f"User {n}"))
    for n in range(IMPORTS):
        send(ImportDataset(source="sample:orders", dataset_name=f"orders {n}",
                           report_to=(f"analyst{n}@example.com",)))

    assert wait_for(lambda: len(smtp_sink.messages()) >= MESSAGES // 3, timeout_s=120)
    email.send_signal(signal.SIGKILL)
    email.wait(10)
    start_consumer("email", "--threads", str(THREADS))

    expected = MESSAGES + IMPORTS
    assert wait_for(lambda: len({m["Message-ID"] for m in read_mail(smtp_sink)})
                    >= expected, timeout_s=300, interval_s=1.0)
    mails = read_mail(smtp_sink)
    by_recipient = Counter(mail["To"] for mail in mails)
    assert set(by_recipient) == {f"user{n}@example.com" for n in range(MESSAGES)} | {
        f"analyst{n}@example.com" for n in range(IMPORTS)}
    # Only mail the SMTP server accepted in the instant before the kill, before
    # its key was recorded as done, may arrive twice: at most one per thread.
    duplicates = sum(count - 1 for count in by_recipient.values())
    assert duplicates <= THREADS
    reports = [m for m in mails if m["To"].startswith("analyst")]
    assert all(len(list(m.iter_attachments())) == 2 for m in reports)
    for queue in ("email.welcome", "email.report", "data.import", "report.build"):
        assert dead_letter_ids(redis_client, queue) == []
    print(f"soak: {len(mails)} mails for {expected} messages, {duplicates} duplicates")
