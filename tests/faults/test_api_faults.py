"""The Bot API misbehaves (5xx, a hanging request, connection refused, 429 storms): the bot keeps running,
loses nothing, and answers every tenant once the API is back."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.botapi import BotApiServer, RecordedRequest
from tests.e2e.harness import BotProcess, Tenant, eventually
from tests.faults.conftest import answer_texts, assert_logs_clean, drive, lost_answers
from tests.faults.figures import record
from tests.faults.people import Person, run_until_done
from tests.faults.proxy import RefusingProxy

pytestmark = [pytest.mark.faults, pytest.mark.e2e]
READ_TIMEOUT = 15  # bot/delivery/telegram_bot.py: HTTPXRequest(read_timeout=15) for everything but getUpdates


def acknowledged(people: list[Person]) -> int:
    return sum(len(p.acknowledged) for p in people)


def answered(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in requests if r.status == 200]


@pytest.mark.both_modes
def test_5xx_answers_on_sends_and_polls_lose_nothing_and_every_tenant_finishes(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    bot = bot_factory().start()
    people = [Person(api, 7000000 + n, patience=8.0) for n in range(10)]  # patient: outlast the back-off
    api.set_error_rate("sendMessage", 30)
    if not bot.webhook:  # a webhook worker never polls: the updates come to it
        api.set_error_rate("getUpdates", 30)
    api.set_error_rate("editMessageReplyMarkup", 30)
    elapsed = run_until_done(people, timeout=120)
    api.clear_faults()

    failures = [r for r in api.requests() if r.status is not None and r.status >= 500]
    replies = len(answered(api.requests("sendMessage")))
    lost = lost_answers(bot, people)
    finished = sum(p.done for p in people)
    assert not bot.exited(), bot.log()
    record("api_5xx", "Bot API answers 5xx to 30% of sends" + ("" if bot.webhook else " and polls"), mode=bot_mode,
           tenants=len(people),
           faults_injected=len(failures), replies=replies, answers_acknowledged=acknowledged(people),
           answers_lost=len(lost), finished=f"{finished}/{len(people)}", seconds=round(elapsed, 1))
    assert failures, "no 5xx was injected: the test proved nothing"
    assert {r.method for r in failures} >= ({"sendMessage"} if bot.webhook else {"sendMessage", "getUpdates"})
    assert not lost, f"acknowledged answers missing from the database: {lost}"
    assert finished == len(people), [p.user_id for p in people if not p.done]
    assert bot.stop() == 0
    assert_logs_clean(bot, answer_texts(people))


@pytest.mark.both_modes
def test_a_request_hanging_past_the_read_timeout_holds_up_only_its_own_chat(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    """One reply hangs longer than the bot's read timeout; meanwhile five other tenants go all the way through.

    The fake can only delay a whole method, so the delay is on just long enough to catch one tenant's first
    reply; the server keeps that request hanging for `hang` seconds while everyone else is served normally.
    That proves the point that matters: one stuck connection ties up one chat's queue, not the bot, and the
    stuck reply is retried after the timeout and the tenant carries on.
    """
    hang = READ_TIMEOUT + 2
    bot = bot_factory().start()
    stuck = Person(api, 7100000, patience=60.0)  # patient: the only retry is the bot's own
    others = [Person(api, 7100001 + n) for n in range(5)]
    api.set_delay("sendMessage", hang)
    stuck.start()
    eventually(lambda: [r for r in api.requests("sendMessage") if r.params.get("chat_id") == stuck.user_id],
               timeout=10, what="the stuck tenant's first reply to be on its way")  # arrival wakes no waiter
    api.set_delay("sendMessage", 0)
    others_took = run_until_done(others, timeout=30)
    others_done_at = time.monotonic()
    assert all(p.done for p in others), "other tenants were held up by one hanging request"

    stuck_took = drive([stuck], timeout=45)
    to_stuck = [r for r in api.requests("sendMessage") if r.params.get("chat_id") == stuck.user_id]
    hung, retried = to_stuck[0], to_stuck[1]
    assert retried.params["text"] == hung.params["text"], "the second send to the stuck chat is the retry"
    reply_delay = retried.time - hung.time
    lost = lost_answers(bot, [stuck, *others])
    assert not bot.exited(), bot.log()
    record("api_hang", "one Bot API request hangs past the read timeout", mode=bot_mode, tenants=1 + len(others),
           hang_seconds=hang, others_finished_in_s=round(others_took, 1),
           stuck_reply_retried_after_s=round(reply_delay, 1), answers_lost=len(lost),
           finished=f"{sum(p.done for p in [stuck, *others])}/{1 + len(others)}")
    assert others_done_at < retried.time, "the others should have finished while the stuck reply still hung"
    assert READ_TIMEOUT <= reply_delay < hang, "the stuck reply is retried after the read timeout, not before"
    assert stuck.done, f"the stuck tenant never finished ({stuck_took:.1f}s): {stuck.last_sent!r}"
    assert not lost, lost
    assert bot.stop() == 0
    assert_logs_clean(bot, answer_texts([stuck, *others]))


@pytest.mark.both_modes
def test_connection_refused_for_a_few_seconds_mid_consultation_then_every_tenant_is_answered(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    outage = 4.0
    proxy = RefusingProxy(api.port)
    try:
        bot = bot_factory(TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{proxy.port}/bot").start()
        people = [Person(api, 7200000 + n) for n in range(10)]
        window: dict[str, float] = {}

        def outage_mid_consultation() -> None:
            progressed = sum(1 for p in people if p.seen >= 4 and not p.done)
            if "refused" not in window and progressed >= len(people) // 2:
                proxy.refuse()
                window["refused"] = time.monotonic()
                window["mid"] = sum(1 for p in people if p.seen and not p.done)
            elif "refused" in window and "accepted" not in window and time.monotonic() - window["refused"] > outage:
                proxy.accept()
                window["accepted"] = time.monotonic()

        elapsed = run_until_done(people, timeout=120, during=outage_mid_consultation)
        assert "accepted" in window, "the outage never happened"
        lost = lost_answers(bot, people)
        retried = bot.log().count("sending failed")
        polls_failed = bot.log().count("Telegram could not be reached while polling")
        noticed = retried + polls_failed
        finished = sum(p.done for p in people)
        assert not bot.exited(), bot.log()
        record("api_refused", "connection refused for a few seconds", mode=bot_mode, tenants=len(people),
               mid_consultation_at_outage=int(window["mid"]),
               outage_seconds=round(window["accepted"] - window["refused"], 1), sends_retried=retried,
               polls_failed=polls_failed, answers_acknowledged=acknowledged(people), answers_lost=len(lost),
               finished=f"{finished}/{len(people)}", seconds=round(elapsed, 1))
        assert window["mid"] >= len(people) // 2
        assert noticed, "the bot never met the refused connection: the test proved nothing"
        assert not lost, lost
        assert finished == len(people), [p.user_id for p in people if not p.done]
        assert bot.stop() == 0
        assert_logs_clean(bot, answer_texts(people))
    finally:
        proxy.stop()


ON_THE_WIRE = 0.05


def retried_too_soon(requests: list[RecordedRequest], key: Callable[[RecordedRequest], object]) -> list[str]:
    """Each 429 says 'retry after N s': the next request of the same kind (same key) must come no sooner.

    A request that arrives within ON_THE_WIRE of the refusal was sent before the bot could have read it (a stale
    press's buttons are removed while its note is sent): that is not a retry.
    """
    early = []
    for index, refused in enumerate(requests):
        if refused.status != 429:
            continue
        wait = float((refused.response or {}).get("parameters", {}).get("retry_after", 0))
        following = next((r for r in requests[index + 1:]
                          if key(r) == key(refused) and r.time - refused.time > ON_THE_WIRE), None)
        if following is not None and following.time - refused.time < wait:
            early.append(f"{refused.method} {key(refused)}: again after {following.time - refused.time:.3f}s < {wait}s")
    return early


@pytest.mark.both_modes
def test_429_storms_are_obeyed_and_lose_nothing(
    api: BotApiServer, bot_factory: Callable[..., BotProcess], bot_mode: str
) -> None:
    """Telegram's flood control on every send, plus 429s on polling (when the bot polls) and on a button answer."""
    bot = bot_factory().start()
    people = [Person(api, 7300000 + n, patience=8.0) for n in range(4)]
    presser = Tenant(api, 7300100)
    presser.says("/start", expect="Is it OK")
    api.clear_requests()
    api.set_flood_limit("sendMessage", per_second=8, retry_after=1)
    if not bot.webhook:  # a webhook worker never polls
        api.fail_next("getUpdates", 429, retry_after=1, times=2)
    api.fail_next("answerCallbackQuery", 429, retry_after=1)
    presser.taps("I agree", expect="Question 1 of 5", timeout=30)
    elapsed = run_until_done(people, timeout=120)
    api.clear_faults()

    requests = api.requests()
    storms = [r for r in requests if r.status == 429]
    chat_sends = [r for r in requests if r.method in ("sendMessage", "editMessageReplyMarkup")]
    early = (
        retried_too_soon(chat_sends, lambda r: r.params.get("chat_id"))
        + retried_too_soon(api.requests("getUpdates"), lambda r: "poll")
        + retried_too_soon(api.requests("answerCallbackQuery"), lambda r: r.params.get("callback_query_id"))
    )
    lost = lost_answers(bot, people)
    finished = sum(p.done for p in people)
    assert not bot.exited(), bot.log()
    record("api_429", "429 storms (flood control at 8 sends/s, 429s on "
           + ("a button answer)" if bot.webhook else "polling and a button answer)"), mode=bot_mode,
           tenants=len(people) + 1, faults_injected=len(storms),
           replies=len(answered(api.requests("sendMessage"))), retried_too_soon=len(early),
           answers_lost=len(lost), finished=f"{finished}/{len(people)}", seconds=round(elapsed, 1))
    assert len(storms) >= 5, "the storm never happened"
    stormed = {"sendMessage", "answerCallbackQuery"} | (set() if bot.webhook else {"getUpdates"})
    assert {r.method for r in storms} >= stormed
    assert not early, early
    assert not lost, lost
    assert finished == len(people), [p.user_id for p in people if not p.done]
    assert bot.stop() == 0
    assert_logs_clean(bot, answer_texts(people))
