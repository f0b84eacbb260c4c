"""The dashboard over real HTTP on a real Redis: what it shows, what its buttons do.

Each test serves the dashboard with uvicorn in this process and talks to it
with an HTTP client, as a browser or a script would.
"""

import base64
import json
import re
import time

import httpx
import pytest

from shared_kernel.broker import redis_client as build_client
from shared_kernel.queues import QueueNames
from shared_kernel.settings import RedisSettings
from shared_kernel.status import read_status
from shared_kernel.upkeep import consumer_key
from tests.dashboard.support import TOKEN, bury, enqueue, welcome

QUEUE = str(QueueNames.EMAIL_WELCOME)
SECRET = "hunter2-do-not-show"
URL_SECRET = "s3cr3t-in-a-url"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def rows(html: str, prefix: str) -> list[str]:
    return re.findall(rf'<tr id="{prefix}-([^"]+)"', html)


def post(http: httpx.Client, base: str, path: str, csrf: str) -> httpx.Response:
    return http.post(f"{base}{path}", data={"csrf": csrf}, headers={"origin": base})


class TestStatus:
    def test_the_page_shows_each_queue_once_with_its_counts_and_the_consumers(
        self, serve, http, broker, redis_client
    ):
        for n in range(3):
            enqueue(broker, QUEUE, {"to": f"user{n}@example.com", "name": "U"})
        bury(redis_client, "data.import", welcome(1))
        redis_client.hset(consumer_key("w-1"), mapping={
            "context": "email", "host": "mail-01", "pid": 4711,
            "queues": "email.welcome,notification", "beat_ms": int(time.time() * 1000)})
        base = serve()

        page = http.get(f"{base}/").text

        welcome_row = re.search(r'<tr id="queue-email.welcome">(.*?)</tr>', page, re.S)
        assert re.search(r'data-col="waiting">3<', welcome_row.group(1))
        data_row = re.search(r'<tr id="queue-data.import">(.*?)</tr>', page, re.S)
        assert re.search(r'data-col="dead">1<', data_row.group(1))
        assert [q for q in rows(page, "queue")] == [
            "email.welcome", "email.report", "data.import", "report.build",
            "notification", "log"]
        assert "mail-01" in page and "4711" in page and ">alive<" in page

    def test_the_fragment_and_the_json_say_what_the_status_command_says(
        self, serve, http, broker, settings, redis_client
    ):
        enqueue(broker, QUEUE, {"to": "a@example.com", "name": "A"})
        base = serve()

        fragment = http.get(f"{base}/fragments/status")
        served = http.get(f"{base}/api/status").json()

        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert 'id="queue-email.welcome"' in fragment.text
        expected = read_status(redis_client, settings)
        assert served["queues"][0]["waiting"] == expected["queues"][0]["waiting"] == 1
        assert [q["queue"] for q in served["queues"]] == [
            q["queue"] for q in expected["queues"]]

    def test_an_unknown_queue_is_a_404_that_lists_the_real_ones(self, serve, http):
        response = http.get(f"{serve()}/queues/no.such.queue")

        assert response.status_code == 404
        assert "email.welcome" in response.text

    def test_redis_out_of_reach_is_a_503_that_names_the_address(
        self, serve, http, settings, log_lines
    ):
        from devtools.redis_server import free_port
        nowhere = build_client(RedisSettings(host="127.0.0.1", port=free_port()))

        response = http.get(f"{serve(client=nowhere)}/")

        assert response.status_code == 503
        assert "cannot reach Redis at redis://127.0.0.1:" in response.text
        assert any("Cannot reach Redis" in line for line in log_lines)


class TestDrillDown:
    def test_waiting_messages_are_paginated_next_to_run_first(
        self, serve, http, broker
    ):
        for n in range(45):
            enqueue(broker, QUEUE, {"to": f"user{n}@example.com", "name": f"U{n}"})
        base = serve()

        first = http.get(f"{base}/queues/{QUEUE}").text
        last = http.get(f"{base}/queues/{QUEUE}?waiting=3").text
        beyond = http.get(f"{base}/queues/{QUEUE}?waiting=99").text

        assert len(rows(first, "waiting")) == 20
        assert first.index("user0@") < first.index("user1@") < first.index("user19@")
        assert "user20@" not in first and "page 1 of 3" in first
        assert len(rows(last, "waiting")) == 5 and "user44@" in last
        assert rows(beyond, "waiting") == rows(last, "waiting")

    def test_dead_letters_are_paginated_newest_first(self, serve, http, redis_client):
        now_ms = int(time.time() * 1000)
        ids = [bury(redis_client, QUEUE, welcome(n), dead_at_ms=now_ms - n * 1000)
               for n in range(25)]
        base = serve()

        first = http.get(f"{base}/queues/{QUEUE}").text
        second = http.get(f"{base}/queues/{QUEUE}?dead=2").text

        assert rows(first, "dead") == ids[:20]
        assert rows(second, "dead") == ids[20:]
        assert "mailbox does not exist" in first

    def test_secrets_in_waiting_and_dead_messages_are_masked(
        self, serve, http, broker, redis_client
    ):
        enqueue(broker, QUEUE, {"to": "a@example.com", "password": SECRET},
                source=f"https://ops:{URL_SECRET}@example.com/data.csv")
        bury(redis_client, QUEUE, welcome(1, api_token=SECRET, smtp={"auth": SECRET}))
        base = serve()

        page = http.get(f"{base}/queues/{QUEUE}").text
        fragment = http.get(f"{base}/queues/{QUEUE}/fragment").text

        for html in (page, fragment):
            assert SECRET not in html and URL_SECRET not in html
            assert "***" in html and "ops:***@example.com" in html
        assert len(rows(page, "waiting")) == 1 and len(rows(page, "dead")) == 1


class TestActions:
    def test_requeue_moves_one_dead_letter_back_and_logs_who_did_it(
        self, serve, http, redis_client, log_lines
    ):
        keep = bury(redis_client, QUEUE, welcome(1))
        moved = bury(redis_client, QUEUE, welcome(2))
        base = serve()
        csrf = csrf_of(http.get(f"{base}/queues/{QUEUE}").text)

        response = post(http, base, f"/queues/{QUEUE}/dead/{moved}/requeue", csrf)

        assert response.status_code == 303
        assert redis_client.zrange(f"dramatiq:{QUEUE}.XQ", 0, -1) == [keep.encode()]
        assert redis_client.lrange(f"dramatiq:{QUEUE}", 0, -1) == [moved.encode()]
        stored = json.loads(redis_client.hget(f"dramatiq:{QUEUE}.msgs", moved))
        assert stored["options"]["retries"] == 0
        landing = http.get(f"{base}{response.headers['location']}").text
        assert f"Requeued dead letter {moved}." in landing
        assert rows(landing, "dead") == [keep] and rows(landing, "waiting") == [moved]
        line = next(line for line in log_lines if "requeued dead letter" in line)
        assert line.startswith("dashboard | INFO")
        assert moved in line and QUEUE in line and "127.0.0.1:" in line

    def test_requeue_all_and_purge_all_empty_the_dead_letters(
        self, serve, http, redis_client, log_lines
    ):
        for n in range(3):
            bury(redis_client, QUEUE, welcome(n))
        bury(redis_client, "data.import", welcome(9))
        base = serve()
        csrf = csrf_of(http.get(f"{base}/queues/{QUEUE}").text)

        requeued = post(http, base, f"/queues/{QUEUE}/dead/requeue-all", csrf)
        purged = post(http, base, "/queues/data.import/dead/purge-all", csrf)

        assert "done=requeued-all" in requeued.headers["location"]
        assert redis_client.llen(f"dramatiq:{QUEUE}") == 3
        assert redis_client.zcard(f"dramatiq:{QUEUE}.XQ") == 0
        assert "done=purged-all" in purged.headers["location"]
        assert redis_client.zcard("dramatiq:data.import.XQ") == 0
        assert redis_client.llen("dramatiq:data.import") == 0
        assert any("requeued all 3 dead letters of email.welcome" in line
                   for line in log_lines)
        assert any("purged all 1 dead letters of data.import" in line
                   for line in log_lines)

    def test_purge_deletes_one_dead_letter_for_good(self, serve, http, redis_client):
        keep = bury(redis_client, QUEUE, welcome(1))
        gone = bury(redis_client, QUEUE, welcome(2))
        base = serve()
        csrf = csrf_of(http.get(f"{base}/queues/{QUEUE}").text)

        post(http, base, f"/queues/{QUEUE}/dead/{gone}/purge", csrf)
        again = post(http, base, f"/queues/{QUEUE}/dead/{gone}/purge", csrf)

        assert redis_client.zrange(f"dramatiq:{QUEUE}.XQ", 0, -1) == [keep.encode()]
        assert redis_client.hget(f"dramatiq:{QUEUE}.XQ.msgs", gone) is None
        assert redis_client.llen(f"dramatiq:{QUEUE}") == 0
        landing = http.get(f"{base}{again.headers['location']}").text
        assert "is no longer there" in landing

    def test_an_unreadable_dead_letter_is_not_requeued_but_can_be_purged(
        self, serve, http, redis_client
    ):
        junk = bury(redis_client, QUEUE, b"\x00not json at all")
        base = serve()
        page = http.get(f"{base}/queues/{QUEUE}").text

        csrf = csrf_of(page)
        refused = post(http, base, f"/queues/{QUEUE}/dead/{junk}/requeue", csrf)
        purged = post(http, base, f"/queues/{QUEUE}/dead/{junk}/purge", csrf)

        assert "(not a JSON message: 16 bytes)" in page
        assert "done=unreadable" in refused.headers["location"]
        assert "done=purged" in purged.headers["location"]
        assert redis_client.zcard(f"dramatiq:{QUEUE}.XQ") == 0
        assert redis_client.llen(f"dramatiq:{QUEUE}") == 0


class TestForgery:
    @pytest.mark.parametrize("fields, headers", [
        ({}, {}),
        ({"csrf": "guessed"}, {}),
        ("valid", {"origin": "http://evil.example"}),
        ("valid", {"origin": "null"}),
        ("valid", {"sec-fetch-site": "cross-site"}),
    ], ids=["no-token", "wrong-token", "other-origin", "opaque-origin", "cross-site"])
    def test_a_forged_post_is_refused_and_changes_nothing(
        self, serve, http, redis_client, log_lines, fields, headers
    ):
        dead = bury(redis_client, QUEUE, welcome(1))
        base = serve()
        if fields == "valid":
            fields = {"csrf": csrf_of(http.get(f"{base}/queues/{QUEUE}").text)}

        response = http.post(f"{base}/queues/{QUEUE}/dead/{dead}/requeue",
                             data=fields, headers=headers)

        assert response.status_code == 403
        assert redis_client.zcard(f"dramatiq:{QUEUE}.XQ") == 1
        assert any("Refused a forged" in line for line in log_lines)

    def test_pages_cannot_be_framed_or_run_inline_scripts(self, serve, http):
        headers = http.get(f"{serve()}/").headers

        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"


class TestAccess:
    def test_without_a_token_only_loopback_names_are_answered(self, serve, http):
        base = serve()

        rebound = http.get(f"{base}/", headers={"host": "attacker.example"})
        local = http.get(f"{base}/".replace("127.0.0.1", "localhost"))

        assert rebound.status_code == 400
        assert "loopback" in rebound.text
        assert local.status_code == 200

    def test_with_a_token_every_request_must_carry_it(self, serve, http, log_lines):
        base = serve(token=TOKEN)
        basic = base64.b64encode(f"ops:{TOKEN}".encode()).decode()
        wrong = base64.b64encode(b"ops:not-the-token-at-all").decode()

        missing = http.get(f"{base}/")
        refused = http.get(f"{base}/api/status",
                           headers={"authorization": f"Basic {wrong}"})
        static = http.get(f"{base}/static/dashboard.js")

        assert missing.status_code == refused.status_code == static.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Basic ")
        assert http.get(f"{base}/", headers={
            "authorization": f"Basic {basic}"}).status_code == 200
        assert http.get(f"{base}/api/status", headers={
            "authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert http.get(f"{base}/", headers={
            "host": "dashboard.internal", "authorization": f"Bearer {TOKEN}"}
        ).status_code == 200
        assert any("wrong credentials from 127.0.0.1:" in line for line in log_lines)
        assert not any(TOKEN in line for line in log_lines)
