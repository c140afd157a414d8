"""The webhook inbox on both backends: stored once, taken in update_id order per tenant, gone once applied."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from storage import Database, inbox
from storage.updates import claim_update
from tests.storage.builders import AT, answer, run_sql

pytestmark = pytest.mark.webhook

TENANT = 424_242_424_242  # beyond 32 bits, as Telegram ids can be


def payload(update_id: int, text: str = "hello") -> str:
    return json.dumps({"update_id": update_id, "message": {"text": text}})


async def test_an_update_is_stored_once_however_often_it_arrives(db: Database) -> None:
    assert await inbox.store(db, 10, TENANT, payload(10), AT)
    assert not await inbox.store(db, 10, TENANT, payload(10), AT)
    assert run_sql(db, "SELECT count(*) FROM update_inbox") == [(1,)]


async def test_an_update_already_applied_is_not_stored_again(db: Database) -> None:
    assert await claim_update(db, 11)  # applied before the redelivery came
    assert not await inbox.store(db, 11, TENANT, payload(11), AT)
    assert await inbox.next_for(db, TENANT) is None


async def test_a_tenants_updates_come_out_lowest_id_first_whatever_order_they_were_stored_in(db: Database) -> None:
    for update_id in (15, 12, 14, 13):
        await inbox.store(db, update_id, TENANT, payload(update_id), AT)
    seen = []
    while (row := await inbox.next_for(db, TENANT)) is not None:
        seen.append((row.update_id, row.waiting))
        await inbox.done(db, row.update_id)
    assert seen == [(12, 4), (13, 3), (14, 2), (15, 1)]


async def test_updates_of_no_user_have_their_own_queue(db: Database) -> None:
    await inbox.store(db, 21, None, payload(21), AT)
    await inbox.store(db, 20, TENANT, payload(20), AT)
    await inbox.store(db, 22, 7, payload(22), AT)
    assert await inbox.pending_tenants(db, 10) == [TENANT, None, 7]
    assert await inbox.pending_tenants(db, 2) == [TENANT, None]
    row = await inbox.next_for(db, None)
    assert row is not None and (row.update_id, row.tenant_id) == (21, None)
    assert json.loads(row.payload)["update_id"] == 21


async def test_done_deletes_the_row_and_its_words(db: Database) -> None:
    await inbox.store(db, 30, TENANT, payload(30, "WORDS-THAT-MUST-GO-5521"), AT)
    await inbox.done(db, 30)
    assert await inbox.pending_tenants(db, 10) == []
    assert run_sql(db, "SELECT count(*) FROM update_inbox") == [(0,)]


async def test_erasing_a_tenant_deletes_their_waiting_updates_and_no_one_elses(db: Database) -> None:
    await answer(db, TENANT, "q1", "an answer", update_id=40)
    await inbox.store(db, 41, TENANT, payload(41, "SECRET-WAITING-WORDS"), AT)
    await inbox.store(db, 42, 5, payload(42, "a neighbour's words"), AT)
    assert await db.erase_respondent(TENANT)
    assert await inbox.next_for(db, TENANT) is None
    neighbour = await inbox.next_for(db, 5)
    assert neighbour is not None and neighbour.update_id == 42
    assert run_sql(db, "SELECT count(*) FROM update_inbox WHERE payload LIKE '%SECRET%'") == [(0,)]


async def test_retention_deletes_updates_left_waiting_too_long(db: Database) -> None:
    await inbox.store(db, 50, TENANT, payload(50), AT - timedelta(days=8))
    await inbox.store(db, 51, TENANT, payload(51), AT)
    assert await inbox.purge_received_before(db, AT - timedelta(days=7)) == 1
    row = await inbox.next_for(db, TENANT)
    assert row is not None and row.update_id == 51


async def test_the_database_is_reachable_until_it_is_closed(url: str) -> None:
    db = await Database.open(url)
    assert await inbox.reachable(db)
    await db.close()
    assert not await inbox.reachable(db)
