"""The deployment guide for real: five machines, one Redis, one context each.

Machines are network namespaces joined by a bridge (tests/multihost/network.py):
Redis only on machine 1, the email, data and report consumers on machines 2
to 4, each started with its env file from deploy/envs/, and the producer on
machine 5. Work crosses the network at every hop.
"""

import time
from collections import Counter

import pytest

from tests.helpers import wait_for
from tests.multihost.deployment import MACHINES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CUT_S = 10.0


def recipients(deployment) -> Counter:
    return Counter(mail["To"] for mail in deployment.mails())


def everything_done(deployment) -> bool:
    state = deployment.broker_state()
    return all(not any(counts.values()) for counts in state.values())


def explain_missing(deployment, expected: Counter) -> str:
    state = deployment.broker_state()
    stranded = {queue: counts["held"] for queue, counts in state.items()
                if counts["held"] and not counts["waiting"]}
    text = (f"mails {dict(recipients(deployment))}, expected {dict(expected)}; "
            f"broker {state}")
    if stranded:
        text += (f"; {stranded} held in the acknowledgement set of a consumer that is "
                 "alive yet never received them: a fetch sent during the cut reached "
                 "Redis after it, and its reply was lost")
    return text


def test_an_import_sent_from_machine_5_is_reported_by_mail_from_machine_2(deployment):
    deployment.produce("welcome", "ada@example.com", "--name", "Ada", "--count", "3")
    deployment.produce("import", "sample:orders", "--report-to", "first@example.com")

    assert wait_for(lambda: len(deployment.mails()) >= 4, timeout_s=40), (
        recipients(deployment), deployment.broker_state())
    [report] = [m for m in deployment.mails() if m["To"] == "first@example.com"]
    attached = {part.get_filename() for part in report.iter_attachments()}
    assert attached == {"report.html", "summary.csv"}
    assert recipients(deployment) == Counter({"ada@example.com": 3,
                                              "first@example.com": 1})
    assert wait_for(lambda: everything_done(deployment), timeout_s=10), (
        deployment.broker_state())


def test_a_report_machine_cut_off_for_10_s_catches_up_losing_nothing(deployment):
    before = recipients(deployment)
    deployment.network.unplug(MACHINES["report"])
    cut_at = time.monotonic()

    deployment.produce("import", "sample:orders", "--report-to", "second@example.com")
    deployment.produce("welcome", "grace@example.com", "--count", "3")
    deployment.produce("import", "sample:orders", "--report-to", "third@example.com")
    assert wait_for(lambda: recipients(deployment)["grace@example.com"] == 3,
                    timeout_s=CUT_S), "email, on its own machine, must go on meanwhile"
    assert wait_for(lambda: deployment.broker_state()["report.build"]["waiting"] == 2,
                    timeout_s=CUT_S), deployment.broker_state()
    time.sleep(max(0.0, CUT_S - (time.monotonic() - cut_at)))
    assert not {"second@example.com", "third@example.com"} & set(recipients(deployment))
    deployment.network.plug(MACHINES["report"])

    expected = before + Counter({"grace@example.com": 3, "second@example.com": 1,
                                 "third@example.com": 1})
    caught_up = wait_for(lambda: recipients(deployment) == expected, timeout_s=30)
    assert caught_up, explain_missing(deployment, expected)
    assert wait_for(lambda: everything_done(deployment), timeout_s=15), (
        deployment.broker_state())
    time.sleep(2)
    assert recipients(deployment) == expected, "a message was delivered twice"
