"""The dashboard in a real headless Chromium, against a real platform.

The dashboard runs through its console script with a token, the browser logs
in with basic auth, messages are sent with the kernel and a real email
consumer dead-letters one of them. Set ``DASHBOARD_SCREENSHOT`` to a path to
keep a screenshot of the status page with a few queues filled.
"""

import os
import shutil
from pathlib import Path

import dramatiq
import pytest

from shared_kernel import ImportDataset, SendWelcomeEmail, Settings, send
from shared_kernel.broker import build_broker
from tests.dashboard.support import TOKEN, running_dashboard

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
SECRET = "hunter2-in-a-bad-message"

playwright = pytest.importorskip("playwright.sync_api",
                                 reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium: apt-get install -y chromium",
)


@pytest.fixture
def dashboard(platform_env, tmp_path):
    """Run ``platform-dashboard`` with a token; yield its URL."""
    env = dict(platform_env, DASHBOARD_TOKEN=TOKEN)
    with running_dashboard(env, tmp_path / "dashboard.console.txt") as base:
        yield base


@pytest.fixture
def page(dashboard):
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM),
                                         args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 760},
            http_credentials={"username": "ops", "password": TOKEN},
        )
        context.set_default_timeout(20_000)
        yield context.new_page()
        browser.close()


@pytest.fixture
def producer(platform_env):
    broker = build_broker(Settings.from_env(platform_env))
    yield broker
    broker.close()


def test_counts_follow_the_traffic_and_a_dead_letter_is_requeued_with_a_click(
    dashboard, page, producer, start_consumer, redis_client, tmp_path
):
    expect = playwright.expect
    page.goto(dashboard)
    waiting = page.locator('[id="queue-email.welcome"] [data-col="waiting"]')
    dead = page.locator('[id="queue-email.welcome"] [data-col="dead"]')
    expect(waiting).to_have_text("0")
    expect(page.locator("#live")).to_contain_text("live")

    for n in range(3):
        send(SendWelcomeEmail(to=f"user{n}@example.com", name=f"User {n}"),
             broker=producer)
    for n in range(4):
        send(ImportDataset(source=f"https://data.example.com/sales-{n}.csv"),
             broker=producer)
    for n in range(2):
        producer.enqueue(dramatiq.Message(
            queue_name="report.build", actor_name="build_report",
            args=({"dataset_id": f"ds-{n}"},), kwargs={}, options={}))
    producer.enqueue(_breaking_the_contract())
    expect(waiting).to_have_text("4")

    consumer = start_consumer("email")
    expect(waiting).to_have_text("0")
    expect(dead).to_have_text("1")
    imports = page.locator('[id="queue-data.import"] [data-col="waiting"]')
    expect(imports).to_have_text("4")
    expect(page.locator("#consumers")).to_contain_text("alive")
    _screenshot(page, tmp_path)
    consumer.terminate()
    assert consumer.wait(30) == 0

    page.get_by_role("link", name="email.welcome").click()
    letter = page.locator("tr.dead-letter")
    expect(letter).to_have_count(1)
    expect(letter).to_contain_text("payload does not match")
    assert SECRET not in page.content()
    letter.get_by_role("button", name="Requeue").click()

    expect(page.locator(".notice")).to_contain_text("Requeued dead letter")
    expect(page.locator("#dead-letters")).to_contain_text("No dead letters.")
    expect(page.locator("#queue-waiting")).to_have_text("1")
    assert redis_client.zcard("dramatiq:email.welcome.XQ") == 0
    assert redis_client.llen("dramatiq:email.welcome") == 1


def _breaking_the_contract() -> dramatiq.Message:
    # An unknown field breaks SendWelcomeEmail: the consumer dead-letters it
    # at once, as JSON that can be requeued.
    return dramatiq.Message(
        queue_name="email.welcome", actor_name="send_welcome_email",
        args=({"to": "bad@example.com", "name": "Bad", "api_token": SECRET},),
        kwargs={}, options={},
    )


def _screenshot(page, tmp_path: Path) -> None:
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    if target := os.environ.get("DASHBOARD_SCREENSHOT"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
