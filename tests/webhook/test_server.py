"""The webhook's HTTP side against a real database: the secret on every request, stored and committed before 200."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.webhook.processor import InboxProcessor
from bot.webhook.server import SECRET_HEADER, WebhookServer
from storage import Database, inbox
from storage.inbox import InboxUpdate
from tests.storage.builders import run_sql
from tests.webhook.conftest import SECRET, body, message_update, poll_update

pytestmark = pytest.mark.webhook

PATH = "/telegram"
TENANT = 5_000_000_001


@pytest.fixture
async def server(db: Database) -> WebhookServer:
    return WebhookServer(db, SECRET, PATH)


@pytest.fixture
async def client(server: WebhookServer) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    async with TestClient(TestServer(server.app)) as test_client:
        yield test_client


def stored_ids(db: Database) -> list[object]:
    """What another program sees in the inbox: committed rows only."""
    return [row[0] for row in run_sql(db, "SELECT update_id FROM update_inbox ORDER BY update_id")]


async def post(client: TestClient, text: str, secret: str | None = SECRET) -> int:  # type: ignore[type-arg]
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    response = await client.post(PATH, data=text, headers=headers)
    return response.status


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_stored_or_logged(
    client: TestClient, db: Database, secret: str | None, caplog: pytest.LogCaptureFixture  # type: ignore[type-arg]
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await post(client, body(message_update(1, TENANT)), secret) == 403
    assert stored_ids(db) == []
    assert "refused a webhook request: wrong or missing secret token" in caplog.text
    assert SECRET not in caplog.text
    if secret:
        assert secret not in caplog.text


async def test_an_update_with_the_right_secret_is_committed_before_the_200(
    server: WebhookServer, db: Database
) -> None:
    applying = asyncio.Event()
    release = asyncio.Event()
    seen_at_200: list[object] = []

    async def slow_apply(row: InboxUpdate) -> None:
        applying.set()
        await release.wait()

    processor = InboxProcessor(db, slow_apply, "test")
    server.on_stored = processor.nudge
    await processor.start()
    try:
        async with TestClient(TestServer(server.app)) as client:
            assert await post(client, body(message_update(7, TENANT))) == 200
            seen_at_200 = stored_ids(db)  # another connection: only what was committed
            await asyncio.wait_for(applying.wait(), 5)  # the processor has it, and is still applying it
            assert stored_ids(db) == [7]
            release.set()
            for _ in range(200):
                if not stored_ids(db):
                    break
                await asyncio.sleep(0.02)
    finally:
        release.set()
        await processor.stop()
    assert seen_at_200 == [7]
    assert stored_ids(db) == []  # applied, then its words deleted


async def test_the_same_update_twice_is_stored_once_and_acknowledged_both_times(
    client: TestClient, server: WebhookServer, db: Database  # type: ignore[type-arg]
) -> None:
    nudges: list[None] = []
    server.on_stored = lambda: nudges.append(None)
    update = body(message_update(8, TENANT))
    assert await post(client, update) == 200
    assert await post(client, update) == 200
    assert stored_ids(db) == [8]
    assert len(nudges) == 1
    row = await inbox.next_for(db, TENANT)
    assert row is not None and row.payload == update


async def test_an_update_of_no_user_goes_to_the_no_tenant_queue(client: TestClient, db: Database) -> None:  # type: ignore[type-arg]
    assert await post(client, body(poll_update(9))) == 200
    assert await inbox.pending_tenants(db, 10) == [None]


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"message": {}}', '{"update_id": "12"}',
                                  '{"update_id": true}', "\udcff"])
async def test_a_body_that_is_not_an_update_is_a_bad_request(
    client: TestClient, db: Database, text: str  # type: ignore[type-arg]
) -> None:
    data = text.encode("utf-8", "surrogateescape")
    response = await client.post(PATH, data=data, headers={SECRET_HEADER: SECRET})
    assert response.status == 400
    assert stored_ids(db) == []


async def test_only_post_is_allowed_on_the_update_path_and_other_paths_are_not_found(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    assert (await client.get(PATH, headers={SECRET_HEADER: SECRET})).status == 405
    assert (await client.put(PATH, headers={SECRET_HEADER: SECRET})).status == 405
    assert (await client.post("/other", data="{}", headers={SECRET_HEADER: SECRET})).status == 404
    assert (await client.get("/")).status == 404


async def test_healthz_is_200_while_the_database_answers_and_503_once_it_is_closed(
    client: TestClient, db: Database  # type: ignore[type-arg]
) -> None:
    response = await client.get("/healthz")
    assert response.status == 200 and await response.text() == "ok"
    await db.close()
    assert (await client.get("/healthz")).status == 503


async def test_an_update_the_database_cannot_store_is_answered_503_so_telegram_sends_it_again(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture  # type: ignore[type-arg]
) -> None:
    await db.close()
    assert await post(client, body(message_update(10, TENANT, "WORDS-NOT-LOGGED"))) == 503
    assert "update 10 not stored" in caplog.text
    assert "WORDS-NOT-LOGGED" not in caplog.text


async def test_while_stopping_every_request_is_answered_503(
    client: TestClient, server: WebhookServer, db: Database  # type: ignore[type-arg]
) -> None:
    server.drain()
    assert await post(client, body(message_update(11, TENANT))) == 503
    assert (await client.get("/healthz")).status == 503
    assert stored_ids(db) == []
