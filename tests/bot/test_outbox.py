"""Replies leave in order, one call a step, a backlog reads as few messages, and a flood is paced."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.delivery.outbox import Outbox, Outgoing, merge
from bot.runtime import Runtime
from bot.settings import Settings
from conversations.replies import Button, Reply
from tests.export.builders import bundled


def test_a_backlog_of_acknowledgements_reads_as_one_message_in_order() -> None:
    items = [Outgoing((Reply(f"line {n}"),)) for n in range(3)]
    items += [Outgoing((Reply("Thanks, I've added that."),)) for _ in range(50)]
    merged = merge(items)
    assert len(merged) == 1
    assert merged[0].text == "line 0\n\nline 1\n\nline 2\n\nThanks, I've added that."


def test_a_merged_backlog_keeps_only_the_buttons_still_live() -> None:
    question = Reply("Question 2", ((Button("opt:q2:agree", "Agree"),),))
    reason = Reply("Why?", ((Button("skip:q2", "Skip"),),))
    merged = merge([Outgoing((question,)), Outgoing((Reply("You chose Agree"), reason), supersedes_buttons=True)])
    assert [m.button_ids for m in merged] == [("skip:q2",)]
    assert merged[0].text == "Question 2\n\nYou chose Agree\n\nWhy?"


def test_merged_messages_stay_under_telegrams_limit() -> None:
    merged = merge([Outgoing((Reply("x" * 3000),)), Outgoing((Reply("y" * 3000),))])
    assert len(merged) == 2 and all(len(m.text) <= 4096 for m in merged)


def test_one_steps_replies_arrive_as_one_message_with_the_questions_buttons() -> None:
    buttons = ((Button("opt:q2:agree", "Agree"),),)
    step = Outgoing((Reply("Thanks, I've got that."), Reply("<b>Aim</b>: local suppliers"),
                     Reply("Question 2 of 5", buttons)))
    assert merge([step]) == [Reply("Thanks, I've got that.\n\n<b>Aim</b>: local suppliers\n\nQuestion 2 of 5", buttons)]


def test_a_reply_too_long_to_join_stays_a_message_of_its_own() -> None:
    long_text = "x" * 4090
    step = Outgoing((Reply(long_text), Reply("Question 3 of 5")))
    assert [len(r.text) for r in merge([step])] == [4090, len("Question 3 of 5")]


class RecordingBot:
    """Answers at once and records every call to the chat, as the Bot API server's log would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, bool]] = []
        self.next_id = 100

    async def send_html(self, chat_id: int, text: str, markup: Any = None, paced: bool = False) -> int:
        await asyncio.sleep(0.001)
        self.next_id += 1
        self.calls.append(("sendMessage", text, paced))
        return self.next_id

    async def remove_buttons(self, chat_id: int, message_id: int) -> None:
        self.calls.append(("editMessageReplyMarkup", message_id, False))


async def test_each_step_is_one_call_and_the_old_buttons_stay_until_the_next_screen_replaces_them() -> None:
    bot = RecordingBot()
    outbox = Outbox(bot)  # type: ignore[arg-type]
    for number in range(1, 4):
        question = Reply(f"Question {number} of 5", ((Button(f"opt:q{number}:yes", "Yes"),),))
        outbox.put(7, Outgoing((Reply("Thanks"), question), supersedes_buttons=True))
        await outbox.close(timeout=5)
    assert [call[0] for call in bot.calls] == ["sendMessage"] * 3, "no edits: old buttons are left in place"
    assert [call[1] for call in bot.calls] == [f"Thanks\n\nQuestion {n} of 5" for n in range(1, 4)]


async def test_a_stale_press_loses_only_that_messages_buttons() -> None:
    bot = RecordingBot()
    outbox = Outbox(bot)  # type: ignore[arg-type]
    outbox.put(7, Outgoing((Reply("That button is from an earlier message."),)))
    outbox.put(7, Outgoing((), clear_message_id=42))
    await outbox.close(timeout=5)
    assert sorted(bot.calls) == [("editMessageReplyMarkup", 42, False),
                                 ("sendMessage", "That button is from an earlier message.", False)]


async def test_replies_are_paced_only_while_the_tenants_next_messages_are_already_waiting() -> None:
    bot = RecordingBot()
    in_hand = {7: 1, 8: 30}  # tenant 7 waits for each reply; tenant 8 has sent thirty messages at once
    runtime = Runtime(settings=Settings(bot_token=""), consultation=bundled(), in_hand=lambda chat: in_hand[chat])
    runtime.outbox = Outbox(bot)  # type: ignore[arg-type]
    runtime.send(7, Outgoing((Reply("to the brisk tenant"),)))
    await runtime.outbox.close(timeout=5)
    runtime.send(8, Outgoing((Reply("to the flooder"),)))
    await runtime.outbox.close(timeout=5)
    assert bot.calls == [("sendMessage", "to the brisk tenant", False), ("sendMessage", "to the flooder", True)]
