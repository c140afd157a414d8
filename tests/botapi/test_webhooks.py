"""The fake Bot API delivers updates to a webhook as Telegram does, so webhook workers can be tested end to end."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Conflict

from tests.botapi import DEFAULT_TOKEN, BotApiServer, DeliveryAttempt
from tests.botapi.model import JSON
from tests.botapi.webhook_methods import WEBHOOK_CONFLICT

SECRET = "s3cret_Token-1"
PATH = "/telegram/hook"


@dataclass
class Received:
    """One POST as the worker saw it."""

    update: JSON
    secret: str | None
    path: str
    content_type: str
    arrived: float
    answered: float | None = None


class Receiver:
    """A stand-in for one webhook worker: records each POST, answers scripted statuses after a scripted delay."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.received: list[Received] = []
        self.statuses: list[int] = []  # answered in turn, then 200
        self.delay: Callable[[JSON], float] = lambda update: 0.0
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        """http://127.0.0.1:<port>, a target without a path: the webhook URL's path is appended."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The full webhook URL of this worker."""
        return self.base + PATH

    async def start(self) -> Receiver:
        """Listen on 127.0.0.1 (a free port unless one was given)."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop listening, so POSTs are refused as by a worker that is down."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        """Record, wait, answer."""
        update = await request.json()
        seen = Received(update, request.headers.get("X-Telegram-Bot-Api-Secret-Token"), request.path,
                        request.content_type, time.time())  # fmt: skip
        self.received.append(seen)
        await asyncio.sleep(self.delay(update))
        seen.answered = time.time()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    def update_ids(self) -> list[int]:
        """Update ids in the order they arrived here."""
        return [r.update["update_id"] for r in self.received]


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    """A fresh fake Telegram per test, with a quick back-off so retries show within a test."""
    async with BotApiServer() as api:
        api.webhook_retry_min, api.webhook_retry_max = 0.05, 0.2
        yield api


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    """A real PTB Bot pointed at the fake."""
    async with Bot(DEFAULT_TOKEN, base_url=server.base_url) as client:
        yield client


@pytest.fixture
async def worker() -> AsyncIterator[Receiver]:
    """One webhook worker."""
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def workers() -> AsyncIterator[tuple[Receiver, Receiver]]:
    """Two webhook workers on different ports, as behind a load balancer."""
    first, second = await Receiver().start(), await Receiver().start()
    yield first, second
    await first.stop()
    await second.stop()


async def call(server: BotApiServer, method: str, **params: Any) -> tuple[int, JSON]:
    """A raw Bot API call with a JSON body, to see Telegram's status and envelope."""
    async with aiohttp.ClientSession() as session, session.post(server.method_url(method), json=params) as reply:
        return reply.status, await reply.json()


def overlap(a: DeliveryAttempt, b: DeliveryAttempt) -> bool:
    """Whether two POSTs were in flight at the same time."""
    assert a.finished_at is not None and b.finished_at is not None
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def most_in_flight(attempts: list[DeliveryAttempt]) -> int:
    """The largest number of POSTs in flight at one moment (a sweep over starts and ends)."""
    events = sorted([(a.started_at, 1) for a in attempts] + [(a.finished_at or 0.0, -1) for a in attempts])
    return max(itertools.accumulate(change for _, change in events))


def post_json(url: str, params: JSON) -> int:
    """A blocking JSON POST for sync tests; the HTTP status."""
    request = urllib.request.Request(url, json.dumps(params).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return int(reply.status)


def free_port() -> int:
    """A port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_set_webhook_makes_get_updates_answer_409_conflict(bot: Bot, server: BotApiServer) -> None:
    """As on Telegram, polling and a webhook exclude each other; getWebhookInfo shows what was set."""
    assert await bot.set_webhook("https://bot.example/telegram/hook", secret_token=SECRET, max_connections=10)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    status, body = await call(server, "getUpdates")
    assert (status, body["description"]) == (409, WEBHOOK_CONFLICT)
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example/telegram/hook" and info.max_connections == 10
    assert not info.has_custom_certificate and info.pending_update_count == 0 and info.last_error_date is None
    assert server.webhook() is not None and server.webhook().secret_token == SECRET  # type: ignore[union-attr]


async def test_a_waiting_long_poll_is_ended_by_set_webhook(bot: Bot, server: BotApiServer) -> None:
    """A poll already waiting gets the 409 once the webhook is set, instead of hanging on."""
    poll = asyncio.create_task(call(server, "getUpdates", timeout=10))
    await server.wait_for_async(lambda: server.requests("getUpdates"), 5, "the poll to arrive")
    await asyncio.sleep(0.1)  # it is now waiting inside the server
    assert await bot.set_webhook("https://bot.example/hook")
    status, body = await asyncio.wait_for(poll, 2)
    assert (status, body["description"]) == (409, WEBHOOK_CONFLICT)


@pytest.mark.parametrize(
    ("secret", "description"),
    [
        ("a b", "Bad Request: secret token contains unallowed characters"),
        ("key+with/base64=", "Bad Request: secret token contains unallowed characters"),
        ("x" * 257, "Bad Request: secret token is too long"),
    ],
)
async def test_a_secret_token_telegram_refuses_is_refused_with_400(
    server: BotApiServer, secret: str, description: str
) -> None:
    """Only 1-256 of A-Z a-z 0-9 _ - pass, so a bad WEBHOOK_SECRET fails at start-up here as there."""
    status, body = await call(server, "setWebhook", url="https://bot.example/hook", secret_token=secret)
    assert (status, body["description"]) == (400, description)
    assert server.webhook() is None


async def test_the_longest_allowed_secret_token_is_accepted(server: BotApiServer) -> None:
    """256 characters of the allowed alphabet are fine."""
    status, _ = await call(server, "setWebhook", url="https://bot.example/hook", secret_token="A_-9" * 64)
    assert status == 200 and server.webhook() is not None


async def test_updates_are_posted_as_json_with_the_secret_header(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """Each update is one POST with Content-Type application/json and X-Telegram-Bot-Api-Secret-Token."""
    await bot.set_webhook(worker.url, secret_token=SECRET)
    sent = server.send_text(42, "hello")
    await server.wait_delivered_async(5)
    (seen,) = worker.received
    assert seen.update == sent and seen.secret == SECRET
    assert seen.content_type == "application/json" and seen.path == PATH
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_no_secret_header_is_sent_when_no_secret_was_set(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """Without secret_token there is no header to check (the bot's 403 test relies on telling the two apart)."""
    await bot.set_webhook(worker.url)
    server.send_text(42, "hello")
    await server.wait_delivered_async(5)
    assert [r.secret for r in worker.received] == [None]


async def test_an_answer_lost_on_the_way_back_gets_the_update_sent_again(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """A worker that answered 200 but whose answer never arrived (it died as it answered) is sent the update again."""
    await bot.set_webhook(worker.url, secret_token=SECRET)
    server.pause_webhook()
    update_id = server.send_text(42, "hello")["update_id"]
    server.lose_acknowledgement(update_id)
    server.resume_webhook()
    await server.wait_delivered_async(5)
    assert worker.update_ids() == [update_id] * 2
    attempts = server.webhook_deliveries(update_id)
    assert [(a.status, a.lost, a.acknowledged) for a in attempts] == [(200, True, False), (200, False, True)]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Connection error: the answer was lost on the way back"


async def test_a_worker_answering_500_gets_the_update_again_until_it_answers_200(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """Only a 2xx acknowledges; getWebhookInfo keeps the last error, as Telegram's does."""
    worker.statuses = [500, 503]
    await bot.set_webhook(worker.url, secret_token=SECRET)
    update_id = server.send_text(42, "hello")["update_id"]
    await server.wait_delivered_async(5)
    assert worker.update_ids() == [update_id] * 3
    attempts = server.webhook_deliveries(update_id)
    assert [a.status for a in attempts] == [500, 503, 200]
    assert [a.acknowledged for a in attempts] == [False, False, True]
    assert all(b.finished_at is not None and b.finished_at <= a.started_at for b, a in itertools.pairwise(attempts))
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 503 Service Unavailable"
    assert info.last_error_date is not None and info.pending_update_count == 0


async def test_a_worker_that_is_down_gets_the_update_once_it_is_back(bot: Bot, server: BotApiServer) -> None:
    """Refused connections count as failures: the update stays pending and is posted when the worker is up."""
    late = Receiver(free_port())
    await bot.set_webhook(late.url)
    update_id = server.send_text(42, "anyone there?")["update_id"]
    await server.wait_for_async(lambda: len(server.webhook_deliveries()) >= 2, 5, "two refused attempts")
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1 and info.last_error_message == "Connection refused"
    assert {a.error for a in server.webhook_deliveries()} == {"Connection refused"}
    await late.start()
    try:
        await server.wait_delivered_async(5)
    finally:
        await late.stop()
    assert late.update_ids() == [update_id]


async def test_a_worker_too_slow_to_answer_times_out_and_gets_the_update_again(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """A POST not answered within webhook_timeout is a failure: the worker sees the update twice."""
    server.webhook_timeout = 0.3
    slow = [1.0]
    worker.delay = lambda update: slow.pop() if slow else 0.0
    await bot.set_webhook(worker.url)
    server.send_text(42, "hello")
    await server.wait_delivered_async(5)
    assert [a.error for a in server.webhook_deliveries()] == ["Read timeout expired", None]
    assert len(worker.received) == 2


async def test_webhook_targets_split_the_updates_at_random_between_two_workers(
    bot: Bot, server: BotApiServer, workers: tuple[Receiver, Receiver]
) -> None:
    """The proxy in front: setWebhook's URL is public, each POST goes to one worker, with the URL's path."""
    first, second = workers
    server.webhook_targets = [first.base, second.base]
    await bot.set_webhook("https://bot.example" + PATH, secret_token=SECRET)
    sent = [server.send_text(1000 + n, f"m{n}")["update_id"] for n in range(60)]
    await server.wait_delivered_async(10)
    assert sorted(first.update_ids() + second.update_ids()) == sent
    assert len(first.received) >= 15 and len(second.received) >= 15
    assert {r.path for r in first.received + second.received} == {PATH}
    assert {r.secret for r in first.received + second.received} == {SECRET}


async def test_duplicate_rate_posts_that_share_of_updates_again_after_acknowledgement(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """Telegram sometimes redelivers: the bot must apply such an update once though it arrives twice."""
    server.duplicate_rate = 0.3
    await bot.set_webhook(worker.url)
    for n in range(200):
        server.send_text(1000 + n, "hi")
    await server.wait_delivered_async(10)
    twice = [uid for uid, count in Counter(worker.update_ids()).items() if count == 2]
    assert 30 <= len(twice) <= 90 and max(Counter(worker.update_ids()).values()) == 2
    for uid in twice:
        first, again = server.webhook_deliveries(uid)
        assert again.redelivery and not first.redelivery
        assert first.acknowledged and first.finished_at is not None and again.started_at >= first.finished_at


async def test_concurrent_duplicates_reach_both_workers_at_the_same_time(
    bot: Bot, server: BotApiServer, workers: tuple[Receiver, Receiver]
) -> None:
    """concurrent_duplicate_rate posts one update to two workers at once: only a shared lock keeps it single."""
    first, second = workers
    for receiver in workers:
        receiver.delay = lambda update: 0.2
    server.webhook_targets = [first.url, second.url]
    server.concurrent_duplicate_rate = 1.0
    await bot.set_webhook("https://bot.example" + PATH)
    update_id = server.send_text(42, "hello")["update_id"]
    await server.wait_delivered_async(5)
    assert first.update_ids() == second.update_ids() == [update_id]
    one, other = server.webhook_deliveries(update_id)
    assert one.concurrent and other.concurrent and {one.url, other.url} == {first.url, second.url}
    assert overlap(one, other)


async def test_one_users_messages_go_one_at_a_time_in_order_while_a_button_press_overlaps(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """A user's next message waits for the previous acknowledgement; their presses are a separate queue."""
    user = 42
    server.send_text(user, "/start")
    yes = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="y")]])
    shown = await bot.send_message(user, "Agree?", reply_markup=yes)
    worker.delay = lambda update: 0.15
    server.pause_webhook()
    await bot.set_webhook(worker.url)
    texts = [server.send_text(user, f"answer {n}")["update_id"] for n in range(3)]
    press = server.press_button(user, shown.message_id, "y")["update_id"]
    server.resume_webhook()
    await server.wait_delivered_async(10)
    messages = [a for a in server.webhook_deliveries() if a.kind == "message"]
    assert [a.update_id for a in messages] == [texts[0] - 1, *texts]  # the /start first, then in order
    for earlier, later in itertools.pairwise(messages):
        assert earlier.finished_at is not None and later.started_at >= earlier.finished_at
    (pressed,) = server.webhook_deliveries(press)
    assert any(overlap(pressed, m) for m in messages)


async def test_a_slow_user_does_not_hold_up_the_others(bot: Bot, server: BotApiServer, worker: Receiver) -> None:
    """Different users' updates are in flight at once (webhook_concurrency), so one slow answer delays only its user."""
    slow_user, quick_user = 7, 8
    worker.delay = lambda update: 1.0 if update["message"]["from"]["id"] == slow_user else 0.0
    await bot.set_webhook(worker.url)
    slow = [server.send_text(slow_user, f"s{n}")["update_id"] for n in range(2)]
    quick = [server.send_text(quick_user, f"q{n}")["update_id"] for n in range(5)]
    await server.wait_for_async(lambda: set(quick) <= set(worker.update_ids()), 0.9, "the quick user's updates")
    assert slow[1] not in worker.update_ids()
    await server.wait_delivered_async(5)


async def test_webhook_concurrency_caps_posts_in_flight(bot: Bot, server: BotApiServer, worker: Receiver) -> None:
    """No more than webhook_concurrency POSTs at once, however many users are waiting."""
    server.webhook_concurrency = 3
    worker.delay = lambda update: 0.05
    await bot.set_webhook(worker.url)
    for n in range(12):
        server.send_text(1000 + n, "hi")
    await server.wait_delivered_async(10)
    assert 2 <= most_in_flight(server.webhook_deliveries()) <= 3


async def test_delete_webhook_stops_deliveries_and_get_updates_works_again(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """After deleteWebhook nothing more is posted; what is queued waits for getUpdates."""
    await bot.set_webhook(worker.url)
    server.send_text(42, "one")
    await server.wait_delivered_async(5)
    assert await bot.delete_webhook()
    second = server.send_text(42, "two")["update_id"]
    await asyncio.sleep(0.3)
    assert len(worker.received) == 1 and server.webhook() is None
    assert [u.update_id for u in await bot.get_updates()] == [second]
    assert (await bot.get_webhook_info()).url == ""


async def test_get_webhook_info_counts_updates_not_yet_acknowledged(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """pending_update_count covers queued and in-flight updates, and falls to 0 once all are acknowledged."""
    await bot.set_webhook(worker.url)
    server.pause_webhook()
    for n in range(3):
        server.send_text(42 + n, "hi")
    assert (await bot.get_webhook_info()).pending_update_count == 3
    assert worker.received == []
    server.resume_webhook()
    await server.wait_delivered_async(5)
    assert (await bot.get_webhook_info()).pending_update_count == 0 and len(worker.received) == 3


async def test_set_webhook_can_drop_pending_updates_and_filter_kinds(
    bot: Bot, server: BotApiServer, worker: Receiver
) -> None:
    """drop_pending_updates forgets the backlog; allowed_updates leaves out kinds the bot did not ask for."""
    server.send_text(42, "old news")
    await bot.set_webhook(worker.url, drop_pending_updates=True, allowed_updates=["edited_message"])
    sent = server.send_text(42, "new")
    edited = server.edit_text(42, sent["message"]["message_id"], "new, edited")["update_id"]
    await server.wait_delivered_async(5)
    assert worker.update_ids() == [edited]


def test_a_server_on_a_background_thread_delivers_to_a_worker_in_another() -> None:
    """The e2e shape: the fake on a thread, workers elsewhere, the test waiting with wait_delivered."""
    bodies: list[JSON] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            """Record and acknowledge."""
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Keep the test output quiet."""

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with BotApiServer() as api:
            api.webhook_targets = [f"http://127.0.0.1:{receiver.server_address[1]}"]
            assert post_json(api.method_url("setWebhook"), {"url": "https://bot.example/hook"}) == 200
            sent = [api.send_text(42, f"m{n}")["update_id"] for n in range(5)]
            api.wait_delivered(5)
    finally:
        receiver.shutdown()
    assert [b["update_id"] for b in bodies] == sent
