"""A local Telegram Bot API server for tests: an unmodified PTB Application talks to it over real HTTP.

Usage (async): ``async with BotApiServer(token=T) as server:`` then
``ApplicationBuilder().token(T).base_url(server.base_url)``; (sync / subprocess bots):
``with BotApiServer(token=T) as server:`` runs it on a background thread. Injection and observation
methods are thread-safe in both modes; waits come as ``wait_for_*`` (blocking) and ``*_async``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.botapi import fakes
from tests.botapi.faults import FaultInjection
from tests.botapi.methods import dispatch
from tests.botapi.model import JSON, ApiError, UploadedFile, bad_request
from tests.botapi.users import UserActions
from tests.botapi.webhook_methods import WEBHOOK_CONFLICT
from tests.botapi.webhooks import WebhookDelivery

DEFAULT_TOKEN = "123456789:TEST-token-for-the-local-bot-api"
MAX_BODY = 64 * 1024 * 1024
MAX_POLL_TIMEOUT = 50.0
# PTB sends every str parameter raw and JSON-encodes everything else; these are always strings.
RAW_STRING_FIELDS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "action",
        "language_code", "url", "description", "short_description", "name", "emoji", "title", "query",
        "business_connection_id", "message_effect_id", "document", "photo", "sticker", "voice", "audio",
        "video", "animation", "thumbnail", "secret_token", "ip_address", "phone_number", "first_name",
        "last_name", "vcard", "address", "question", "explanation", "payload", "currency",
        "start_parameter", "custom_title",
    }
)  # fmt: skip

_LOGGER = logging.getLogger(__name__)


def decode_value(key: str, raw: str) -> Any:
    """Undo PTB's form encoding: JSON for non-strings, raw text for string fields."""
    if key in RAW_STRING_FIELDS:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return raw if isinstance(value, str) else value


async def read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    """Decode query string, form-urlencoded, multipart (with files) or JSON bodies into Python values."""
    params: JSON = {key: decode_value(key, value) for key, value in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(key, value.filename, value.file.read(), value.content_type)
            else:
                text = value if isinstance(value, str) else bytes(value).decode()
                params[key] = decode_value(key, text)
    return params, files


class BotApiServer(UserActions, WebhookDelivery, FaultInjection):
    """Fake api.telegram.org on 127.0.0.1:<free port> with inspection, fault-injection and webhook delivery hooks."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "consultation_test_bot",
        bot_first_name: str = "Consultation Test Bot",
        seed: int = 0,
        detect_conflicts: bool = False,
    ) -> None:
        UserActions.__init__(self, token, bot_first_name, bot_username)
        FaultInjection.__init__(self, seed)
        self._init_webhooks(seed)
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._detect_conflicts = detect_conflicts
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        """The TCP port actually bound (known once started)."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder().base_url(...): PTB appends the token and method."""
        return f"http://{self.host}:{self.port}/bot"

    def method_url(self, method: str, token: str | None = None) -> str:
        """Full URL of one method, for raw HTTP tests."""
        return f"{self.base_url}{token or self.token}/{method}"

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> Self:
        """Bind a free port on the running loop and start serving."""
        self._server_thread = threading.get_ident()
        self._stopping = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/documents/{file_id}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, backlog=4096).start()
        if self._store.webhook is not None:  # restarted with a webhook still set: keep delivering
            self._ensure_delivery()
        return self

    async def stop(self) -> None:
        """Release long polls and delayed calls, then shut the HTTP server down."""
        with self._lock:
            self._closing = True
            self._changed()
        if self._stopping is not None:
            self._stopping.set()
        await self._stop_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._server_thread = None

    async def __aenter__(self) -> Self:
        """Serve on the current event loop for the duration of the block."""
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop serving when the block ends."""
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> Self:
        """Serve from a daemon thread with its own loop, for sync tests and subprocess bots."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="botapi-server", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("Bot API server thread did not start")
        if failure:
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with start_in_thread and join its thread."""
        loop, thread = self._thread_loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._thread_loop = None

    def __enter__(self) -> Self:
        """Sync context manager: serve from a background thread."""
        return self.start_in_thread()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the background server."""
        self.stop_thread()

    # -- scenario helpers needing both state and faults ------------------------------------------------

    def user_blocks_bot(self, user_id: int) -> JSON:
        """The user blocks the bot: a my_chat_member(kicked) update, and sends answer 403 from now on."""
        self.block_user(user_id)
        with self._lock:
            sender = self._store.remember_user(user_id)
            chat = self._store.chat_for(sender, None, "private", None)
            payload = fakes.chat_member_update(chat, sender, self._store.bot_user, "member", "kicked")
        return self._inject({"my_chat_member": payload})

    def user_unblocks_bot(self, user_id: int) -> JSON:
        """The user restarts the bot: my_chat_member(member) update, sends succeed again."""
        self.unblock_user(user_id)
        with self._lock:
            sender = self._store.remember_user(user_id)
            chat = self._store.chat_for(sender, None, "private", None)
            payload = fakes.chat_member_update(chat, sender, self._store.bot_user, "kicked", "member")
        return self._inject({"my_chat_member": payload})

    # -- HTTP ---------------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        """Anything outside /bot<token>/<method> is a plain 404, like Telegram."""
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _download(self, request: web.Request) -> web.Response:
        """A file's bytes by the path getFile gave, as Telegram's file server answers (404 for the wrong token)."""
        if request.match_info["token"] != self.token:
            return await self._not_found(request)
        with self._lock:
            data = self._store.uploads.get(request.match_info["file_id"])
        if data is None:
            return await self._not_found(request)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _handle(self, request: web.Request) -> web.Response:
        """Record, run faults and the method, and answer with Telegram's envelope and status."""
        token, method = request.match_info["token"], request.match_info["method"]
        arrived = time.monotonic()
        parse_error: ApiError | None = None
        try:
            params, files = await read_params(request)
        except ValueError as exc:
            params, files, parse_error = {}, {}, bad_request(f"can't parse request body: {exc}")
        record = self._record(method, params, files, arrived, token == self.token)
        try:
            if parse_error is not None:
                raise parse_error
            result = await self._process(token, method, params, files)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.error_code, error.payload()
        except Exception as exc:  # a bug in the fake itself: surface it instead of hiding it
            _LOGGER.exception("Bot API fake crashed in %s", method)
            self.internal_errors.append(exc)
            status, body = (
                500,
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc!r}"},
            )
        self._finish(record, status, body.get("result", body))
        return web.json_response(body, status=status)

    async def _process(self, token: str, method: str, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """Outage, token, delay, injected faults, then the method itself."""
        if self.is_down:
            raise ApiError(502, "Bad Gateway")
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        delay = self.delay_for(method)
        if delay > 0:
            await self._sleep(delay)
        error = self.injected_error(method, params, time.monotonic())
        if error is not None:
            raise error
        if method.lower() == "getupdates":
            return await self._long_poll(params)
        with self._lock:
            result = dispatch(self._store, method, params, files)
            if self._store.webhook is not None:
                self._ensure_delivery()
            self._changed()
        return result

    async def _sleep(self, seconds: float) -> None:
        """Delay a response, cut short when the server stops so shutdown stays fast."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return

    async def _long_poll(self, params: JSON) -> list[JSON]:
        """getUpdates: confirm by offset, answer as soon as something is pending, else [] after timeout."""
        try:
            offset = None if params.get("offset") is None else int(params["offset"])
            limit = min(max(int(params.get("limit") or 100), 1), 100)
            timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_POLL_TIMEOUT)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"wrong getUpdates parameter: {exc}") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with self._lock:
            if self._store.webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)
            allowed = params.get("allowed_updates")
            if isinstance(allowed, list):
                self._store.allowed_updates = allowed
            self._store.confirm(offset)
            self._poll_generation += 1
            generation = self._poll_generation
            if self._detect_conflicts:
                self._changed()
        while True:
            with self._lock:
                if self._detect_conflicts and generation != self._poll_generation:
                    raise ApiError(409)
                if self._store.webhook is not None:  # setWebhook while this poll waited
                    raise ApiError(409, WEBHOOK_CONFLICT)
                batch = self._store.take(limit, offset)
                remaining = deadline - loop.time()
                if batch or self._closing or remaining <= 0:
                    return batch
                future = self._register_waiter(loop)
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                continue
