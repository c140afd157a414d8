"""The webhook's HTTP side: check the secret, store the update and commit it, and only then answer 200.

Telegram sends a chat's next update only after a 2xx, and sends again anything answered otherwise, so an update is
acknowledged only once it is in the database: a worker that dies a moment later loses nothing it acknowledged
(python-telegram-bot's and aiogram's own webhook handlers answer first and process after). Applying the update is
the processor's job (bot/webhook/processor.py), not the request's.

POST <path of WEBHOOK_URL>: 403 without the right X-Telegram-Bot-Api-Secret-Token (nothing stored, the value never
logged), 400 for a body that is not an update, 503 when the database cannot store it or the worker is stopping
(Telegram tries again), 200 once stored (or stored before). GET /healthz: 200 while the database answers.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from telegram import Update

from bot.tenant.ordering import tenant_key
from storage import Database, inbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT_S = 3.0
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few KB; Telegram's largest are far under this


def _now() -> datetime:
    return datetime.now(UTC)


def tenant_of(data: dict[str, Any]) -> int | None:
    """Whose queue an update joins: the same key long polling orders by (bot.tenant.ordering)."""
    try:
        return tenant_key(Update.de_json(data, None))
    except Exception:  # not an update python-telegram-bot can read: the no-user queue, where it is dropped
        return None


class WebhookServer:
    """The aiohttp application and its listener."""

    def __init__(
        self,
        db: Database,
        secret: str,
        path: str,
        on_stored: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.db = db
        self._secret = secret.encode()
        self.path = path
        self.on_stored = on_stored  # the processor's nudge
        self._clock = clock
        self.draining = False
        self.app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        self.app.router.add_post(path, self._update)
        self.app.router.add_get(HEALTH_PATH, self._health)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        """Listen; OSError when the port cannot be had (bot/webhook/run.py says so in one line)."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, reuse_address=True).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    def drain(self) -> None:
        """Stopping: every request from now on is answered 503, so Telegram sends it again (to another worker)."""
        self.draining = True

    async def stop(self) -> None:
        """Close the listener; requests in progress finish storing (and are answered) first."""
        self.draining = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        if self.draining:
            return web.Response(status=503, text="stopping")
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("refused a webhook request: wrong or missing secret token (from %s)", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            body = (await request.read()).decode("utf-8")
            data = json.loads(body)
            update_id = data["update_id"] if isinstance(data, dict) else None
        except (ValueError, KeyError, UnicodeDecodeError):
            update_id = None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.Response(status=400, text="not a Telegram update")
        try:
            stored = await inbox.store(self.db, update_id, tenant_of(data), body, self._clock())
        except Exception as error:  # not stored, so not acknowledged: Telegram sends it again
            log.warning("update %d not stored (%s); answered 503 so Telegram sends it again",
                        update_id, type(error).__name__)
            return web.Response(status=503, text="try again")
        if stored:
            self.on_stored()
        return web.Response(text="ok")

    async def _health(self, request: web.Request) -> web.Response:
        if self.draining:
            return web.Response(status=503, text="stopping")
        try:
            ok = await asyncio.wait_for(inbox.reachable(self.db), timeout=HEALTH_TIMEOUT_S)
        except TimeoutError:
            ok = False
        return web.Response(text="ok") if ok else web.Response(status=503, text="database unreachable")
