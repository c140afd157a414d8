"""Bad input gets a clear, kind reply and loses nothing: the real bot process over real HTTP."""

from __future__ import annotations

import pytest

from tests.botapi import BotApiServer
from tests.e2e.harness import BotProcess, Tenant

pytestmark = [pytest.mark.e2e, pytest.mark.both_modes]


@pytest.fixture
def at_question_one(api: BotApiServer, bot: BotProcess, tenant: Tenant) -> Tenant:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("My first answer", expect="send more")
    return tenant


def test_stickers_photos_voice_locations_contacts_and_files_get_a_kind_reply(
    api: BotApiServer, at_question_one: Tenant
) -> None:
    tenant = at_question_one
    senders = [
        lambda: api.send_sticker(tenant.user_id),
        lambda: api.send_photo(tenant.user_id, caption="my kitchen"),
        lambda: api.send_voice(tenant.user_id),
        lambda: api.send_location(tenant.user_id, 52.05, -2.71),
        lambda: api.send_contact(tenant.user_id, "+441234567890", "Sam"),
        lambda: api.send_document(tenant.user_id, "notes.pdf", b"%PDF-1.4", "application/pdf"),
    ]
    for send in senders:
        send()
        tenant.wait("I can only read typed messages")
    tenant.says("/review", expect="My first answer")


def test_an_edited_message_is_not_picked_up_and_the_tenant_is_told_how_to_change(
    api: BotApiServer, at_question_one: Tenant
) -> None:
    tenant = at_question_one
    own = [m for m in api.requests("sendMessage")]
    assert own
    api.edit_text(tenant.user_id, 1, "An edited answer")
    tenant.wait("don't pick up edits")
    assert "/review" in tenant.last_text()


def test_messages_in_a_group_are_refused_politely(api: BotApiServer, bot: BotProcess) -> None:
    api.send_text(5550077, "hello bot", chat_type="group", chat_id=-100123)
    api.wait_for(lambda: any("private chat" in (m.text or "") for m in api.sent_messages(-100123)),
                 timeout=10, what="the group reply")


def test_text_over_the_limit_says_the_limit_and_keeps_the_earlier_answer(
    api: BotApiServer, at_question_one: Tenant
) -> None:
    tenant = at_question_one
    tenant.says("x" * 2100, expect="2,000 characters")
    tenant.says("/review", expect="My first answer")
    assert "xxxx" not in tenant.last_text()


def test_an_unknown_command_points_to_help(at_question_one: Tenant) -> None:
    at_question_one.says("/frobnicate", expect="/help")


def test_a_pressed_old_button_records_nothing_and_gets_a_short_note(
    api: BotApiServer, at_question_one: Tenant
) -> None:
    tenant = at_question_one
    tenant.taps("Next", expect="Question 2 of 5")
    question_two = next(m for m in reversed(tenant.messages()) if "Question 2 of 5" in (m.text or ""))
    agree = question_two.callback_data("👍 Agree")
    api.press_button(tenant.user_id, question_two.message_id, agree)
    tenant.wait("Why do you think that?")
    tenant.taps("Skip", expect="Question 3 of 5")
    api.press_button(tenant.user_id, question_two.message_id, question_two.callback_data("👎 Disagree"))
    tenant.wait("earlier message")
    answers = api.callback_answers()
    assert answers[-1].text and "earlier message" in answers[-1].text

    def buttons_on(message_id: int) -> list[object]:
        message = api.message(tenant.user_id, message_id)
        assert message is not None
        return list(message.buttons)

    api.wait_for(lambda: not buttons_on(question_two.message_id), what="the pressed old message to lose its buttons")
    question_three = next(m for m in reversed(tenant.messages()) if "Question 3 of 5" in (m.text or ""))
    assert buttons_on(question_three.message_id), "the current question kept its buttons"
    tenant.says("/review", expect="Agree")
    assert "Disagree" not in tenant.last_text()


def test_tenant_text_shown_back_cannot_break_formatting(api: BotApiServer, bot: BotProcess, tenant: Tenant) -> None:
    tenant.says("/start", expect="Is it OK")
    tenant.taps("I agree", expect="Question 1 of 5")
    tenant.says("<b>not bold</b> & <i", expect="send more")
    tenant.says("/review", expect="<b>not bold</b> & <i")
