"""Telegram's webhook delivery: POST each queued update to the bot until a 2xx acknowledges it.

While setWebhook's webhook is set, a task on the server's loop takes the same queue getUpdates serves and posts
each update as JSON (with X-Telegram-Bot-Api-Secret-Token when a secret was set). Anything but a 2xx, a refused
connection or a timeout is retried after a short back-off, as Telegram redelivers what was not acknowledged.
Order is kept per user and kind, like Telegram's queues: a user's next update is posted only once the previous
one was acknowledged, but messages and callback queries are separate queues, so one of each may be in flight.
Tests can put a load balancer in front (webhook_targets), add duplicates, pause, and read every attempt.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import time
from contextlib import suppress
from urllib.parse import urlsplit

import aiohttp

from tests.botapi import fakes
from tests.botapi.model import JSON, DeliveryAttempt, WebhookConfig
from tests.botapi.state import ApiState

Lane = tuple[int | str | None, str]  # (user or chat, "callback_query" or "updates"): one update in flight each
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def sender_of(update: JSON) -> int | str | None:
    """Whose queue an update is in: the acting user, else the chat (channel posts), else nobody."""
    kind = fakes.update_type(update)
    body = update.get(kind) if kind else None
    if not isinstance(body, dict):
        return None
    for key in ("from", "user", "chat"):
        who = body.get(key)
        ident = who.get("id") if isinstance(who, dict) else None
        if isinstance(ident, int | str):
            return ident
    return None


def lane_of(update: JSON) -> Lane:
    """Telegram keeps callback queries apart from a user's other updates, so they may overlap."""
    kind = "callback_query" if fakes.update_type(update) == "callback_query" else "updates"
    return sender_of(update), kind


def with_path(target: str, url: str) -> str:
    """A target given without a path ("http://127.0.0.1:8081") gets the webhook URL's path, as a proxy forwards it."""
    if urlsplit(target).path:
        return target
    parts = urlsplit(url)
    return target + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class WebhookDelivery(ApiState):
    """The delivery loop and its test controls; every control is a plain attribute or method, safe from any thread.

    - ``webhook_targets``: when set, each POST goes to one of these URLs at random (seeded) instead of the
      setWebhook URL: Telegram plus a load-balancing proxy in front of several workers.
    - ``duplicate_rate``: the share of updates posted once more after being acknowledged.
    - ``concurrent_duplicate_rate``: the share of updates posted twice at once, to two different targets.
    - ``webhook_concurrency``: POSTs in flight at once (capped by setWebhook's max_connections).
    - ``webhook_timeout``, ``webhook_retry_min``, ``webhook_retry_max``: a POST's deadline and the back-off.
    - ``lose_acknowledgement(update_id)``: the next answer to that update's POST is lost on the way back (the
      connection drops after the receiver answered), so Telegram sends the update again although it was stored.
    """

    def _init_webhooks(self, seed: int) -> None:
        """Set up delivery state; called from the server's __init__ (ApiState is initialised by UserActions)."""
        self.webhook_targets: list[str] | None = None
        self.duplicate_rate = 0.0
        self.concurrent_duplicate_rate = 0.0
        self.webhook_concurrency = 8
        self.webhook_timeout = 10.0
        self.webhook_retry_min = 0.2
        self.webhook_retry_max = 2.0
        self._webhook_random = random.Random(seed)
        self._attempts: list[DeliveryAttempt] = []
        self._busy_lanes: set[Lane] = set()
        self._retry_at: dict[int, tuple[float, float]] = {}  # update_id -> (monotonic not-before, last back-off)
        self._pair_drawn: set[int] = set()  # update ids whose concurrent-duplicate draw was made
        self._lose_answer_of: set[int] = set()  # update ids whose next POST's answer is lost on the way back
        self._webhook_paused = False
        self._delivery_task: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    # -- test controls ------------------------------------------------------------------------

    def webhook(self) -> WebhookConfig | None:
        """What setWebhook registered (url, secret_token, ...), or None while polling."""
        with self._lock:
            return copy.deepcopy(self._store.webhook)

    def webhook_deliveries(self, update_id: int | None = None) -> list[DeliveryAttempt]:
        """Every POST so far (optionally of one update) in the order they started, in-flight ones included."""
        with self._lock:
            return [copy.copy(a) for a in self._attempts if update_id is None or a.update_id == update_id]

    def lose_acknowledgement(self, update_id: int) -> None:
        """The next POST of this update is answered but the answer never arrives: it counts as not delivered."""
        with self._lock:
            self._lose_answer_of.add(update_id)

    def pause_webhook(self) -> None:
        """Start no new POSTs (those in flight finish), e.g. to queue a burst and release it at once."""
        with self._lock:
            self._webhook_paused = True
            self._changed()

    def resume_webhook(self) -> None:
        """Deliver again after pause_webhook."""
        with self._lock:
            self._webhook_paused = False
            self._changed()

    def _delivered(self) -> bool:
        """Predicate: nothing queued and nothing in flight (lock held)."""
        return not self._store.queue and not self._store.redeliver and not self._busy_lanes

    def _undelivered(self, timeout: float) -> str:
        """Timeout text that says what is stuck and why, from getWebhookInfo's error."""
        with self._lock:
            hook = self._store.webhook
            return (
                f"timed out after {timeout}s waiting for webhook delivery: {self._store.pending_count()} pending, "
                f"{len(self._busy_lanes)} in flight, webhook {hook.url if hook else 'not set'}, "
                f"last error {hook.last_error_message if hook else None!r}"
            )

    def wait_delivered(self, timeout: float = 10.0) -> None:
        """Block until every queued update was acknowledged and no POST is in flight."""
        try:
            self.wait_for(self._delivered, timeout)
        except TimeoutError:
            raise TimeoutError(self._undelivered(timeout)) from None

    async def wait_delivered_async(self, timeout: float = 10.0) -> None:
        """Await until every queued update was acknowledged and no POST is in flight."""
        try:
            await self.wait_for_async(self._delivered, timeout)
        except TimeoutError:
            raise TimeoutError(self._undelivered(timeout)) from None

    # -- the loop -------------------------------------------------------------------------------

    def _ensure_delivery(self) -> None:
        """Start the loop on the server's loop the first time a webhook is set (polling never starts it)."""
        if self._delivery_task is None or self._delivery_task.done():
            self._delivery_task = asyncio.get_running_loop().create_task(self._deliver_forever())

    async def _stop_delivery(self) -> None:
        """Cancel the loop and every POST in flight, and close the HTTP client, when the server stops."""
        tasks = [t for t in (self._delivery_task, *self._posts) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._delivery_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_forever(self) -> None:
        """Start whatever may go now, then sleep until something changes or a back-off ends."""
        loop = asyncio.get_running_loop()
        # A fresh connection per POST: a reused one a worker closed (or that died with kill -9) would fail spuriously.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        while True:
            with self._lock:
                wake_in = self._start_due()
                future = self._register_waiter(loop)
            with suppress(TimeoutError):
                await asyncio.wait_for(future, wake_in)

    def _start_due(self) -> float | None:
        """Begin the next update of every idle lane, oldest first; seconds until a back-off ends (lock held)."""
        hook = self._store.webhook
        if hook is None or self._webhook_paused:
            return None
        store = self._store
        if not all(store.is_allowed(u) for u in (*store.queue, *store.redeliver)):  # never sent, so never pending
            store.queue = [u for u in store.queue if store.is_allowed(u)]
            store.redeliver = [u for u in store.redeliver if store.is_allowed(u)]
        limit = max(1, min(self.webhook_concurrency, hook.max_connections))
        now, wake_in = time.monotonic(), None
        seen: set[Lane] = set(self._busy_lanes)
        entries = [(True, u) for u in store.redeliver] + [(False, u) for u in store.queue]
        for again, update in entries:
            if len(self._busy_lanes) >= limit:
                break
            lane = lane_of(update)
            if lane in seen:
                continue  # this lane's earlier update is in flight or waiting to be retried
            seen.add(lane)
            not_before = self._retry_at.get(update["update_id"], (0.0, 0.0))[0]
            if not_before > now:
                wake_in = not_before - now if wake_in is None else min(wake_in, not_before - now)
                continue
            self._begin(hook, update, lane, again)
        return wake_in

    def _begin(self, hook: WebhookConfig, update: JSON, lane: Lane, again: bool) -> None:
        """Post one update (twice at once when drawn so) on its own task (lock held)."""
        update_id = update["update_id"]
        pair = False
        if not again and update_id not in self._pair_drawn:
            self._pair_drawn.add(update_id)
            pair = self.concurrent_duplicate_rate > 0 and self._webhook_random.random() < self.concurrent_duplicate_rate
        urls = self._targets(hook.url, 2 if pair else 1)
        body = json.dumps(update).encode()
        self._busy_lanes.add(lane)
        task = asyncio.get_running_loop().create_task(
            self._post_update(update, body, urls, hook.secret_token, lane, again)
        )
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    def _targets(self, url: str, count: int) -> list[str]:
        """The webhook URL, or `count` distinct webhook_targets (chosen by the seeded random) behind a proxy."""
        targets = [with_path(t, url) for t in self.webhook_targets or []] or [url]
        if count == 1:
            return [self._webhook_random.choice(targets)]
        return self._webhook_random.sample(targets, count) if len(targets) >= count else [targets[0]] * count

    async def _post_update(
        self, update: JSON, body: bytes, urls: list[str], secret: str | None, lane: Lane, again: bool
    ) -> None:
        """POST to each URL at once; acknowledged if any answered 2xx, else retried after a back-off."""
        ok = False
        try:
            results = await asyncio.gather(
                *(self._post_once(update, body, url, secret, again, len(urls) > 1) for url in urls)
            )
            ok = any(results)
        finally:
            with self._lock:
                self._busy_lanes.discard(lane)
                if ok:
                    self._acknowledged(update, again)
                else:
                    self._back_off(update["update_id"])
                self._changed()

    async def _post_once(
        self, update: JSON, body: bytes, url: str, secret: str | None, again: bool, concurrent: bool
    ) -> bool:
        """One POST, recorded from start to answer; failures land in getWebhookInfo's last_error_*."""
        kind = fakes.update_type(update)
        attempt = DeliveryAttempt(update["update_id"], url, kind, sender_of(update), time.time(), None,
                                  redelivery=again, concurrent=concurrent)  # fmt: skip
        with self._lock:
            self._attempts.append(attempt)
            self._changed()
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        status, error = None, None
        assert self._session is not None
        try:
            timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
            async with self._session.post(url, data=body, headers=headers, timeout=timeout) as response:
                await response.read()
                status = response.status
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason or ''}".rstrip()
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {type(exc).__name__}"
        with self._lock:
            attempt.finished_at, attempt.status = time.time(), status
            if status is not None and update["update_id"] in self._lose_answer_of:
                self._lose_answer_of.discard(update["update_id"])
                attempt.lost, error = True, "Connection error: the answer was lost on the way back"
            attempt.error = None if attempt.acknowledged else error
            hook = self._store.webhook
            if error is not None and hook is not None:
                hook.last_error_date, hook.last_error_message = int(attempt.finished_at), error
            self._changed()
        return attempt.acknowledged

    def _acknowledged(self, update: JSON, again: bool) -> None:
        """Take the update off its queue; maybe schedule one more copy, as Telegram sometimes sends (lock held)."""
        store = self._store
        source = store.redeliver if again else store.queue
        for index, entry in enumerate(source):
            if entry is update:
                del source[index]
                break
        update_id = update["update_id"]
        self._retry_at.pop(update_id, None)
        if again:
            return
        if update_id in store.duplicate_ids:  # duplicate_next(), shared with polling
            store.duplicate_ids.discard(update_id)
            store.redeliver.append(update)
        elif self.duplicate_rate > 0 and self._webhook_random.random() < self.duplicate_rate:
            store.redeliver.append(update)

    def _back_off(self, update_id: int) -> None:
        """Retry after webhook_retry_min, doubling each failure up to webhook_retry_max (lock held)."""
        last = self._retry_at.get(update_id, (0.0, 0.0))[1]
        delay = min(max(last * 2, self.webhook_retry_min), self.webhook_retry_max)
        self._retry_at[update_id] = (time.monotonic() + delay, delay)
