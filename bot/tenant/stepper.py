"""One tenant update, one engine step, one committed transaction, then the replies: in that order."""

from __future__ import annotations

import logging

from bot.delivery.outbox import Outgoing
from bot.runtime import Runtime
from bot.staff.alerts import tell_staff
from conversations.alerts import flags_for, newly_flagged
from conversations.events import Event, Help, Press, Privacy, Review, Start, Text
from conversations.flow.engine import StepResult, step
from conversations.replies import Reply
from conversations.screens.markup import plain
from conversations.state import ConversationState
from storage import StaleStateError, StepRecord, StorageUnavailableError, TranscriptLine, changed_answers

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def describe_incoming(event: Event) -> str:
    """How an incoming event reads in the transcript."""
    if isinstance(event, Text):
        return event.text
    if isinstance(event, Press):
        return f"[pressed {event.button_id}]"
    if isinstance(event, Start):
        return f"/start {event.payload}" if event.payload else "/start"
    return {Help: "/help", Review: "/review", Privacy: "/privacy"}[type(event)]


def describe_outgoing(reply: Reply) -> str:
    """How a reply reads in the transcript: its words, then its buttons."""
    labels = [b.label for row in reply.buttons for b in row]
    return plain(reply.text) + (f"\n[buttons: {' | '.join(labels)}]" if labels else "")


async def tenant_step(runtime: Runtime, update_id: int, user_id: int, chat_id: int,
                      event: Event, pressed: int | None = None) -> StepResult | None:
    """Run the step and commit it before replying; returns None when the update was already applied."""
    consultation = runtime.consultation
    for _attempt in range(MAX_ATTEMPTS):
        now = runtime.clock()
        loaded = await runtime.db.load_state(user_id, consultation.id)
        result = step(consultation, loaded.state, event, now)
        # Nothing is kept of the chat until the tenant has agreed to the privacy notice.
        agreed = result.state.consent_at is not None
        transcript = (
            TranscriptLine("in", describe_incoming(event), now),
            *(TranscriptLine("out", describe_outgoing(r), now) for r in result.replies),
        ) if agreed else ()
        changed = changed_answers(result.state, result.changed)
        flags = flags_for(consultation, changed)  # alerts are flagged in the transaction that stores the answer
        record = StepRecord(
            user_id=user_id, consultation_id=consultation.id, consultation_version=consultation.version,
            privacy_version=consultation.privacy_version, update_id=update_id,
            expected_revision=loaded.revision, state=result.state, changed=changed,
            transcript=transcript, at=now, flags=flags,
        )
        try:
            applied = await runtime.db.apply_step(record)
        except StaleStateError:
            log.info("update %s: state moved on while stepping; re-running the step", update_id)
            continue
        if not applied:
            log.info("update %s was already applied; not applying it twice", update_id)
            return None
        log.info("update %s applied: stage=%s position=%s changed=%d", update_id,
                 result.state.stage.value, result.state.position, len(result.changed))
        deliver(runtime, chat_id, user_id, loaded.state, result, pressed)
        if flags:  # after the tenant's reply is queued: staff are told, the tenant is not kept waiting
            await tell_staff(runtime, user_id, loaded.reference, newly_flagged(consultation, loaded.state.answers,
                                                                               flags))
        return result
    raise StorageUnavailableError("the conversation kept changing under this step")


def deliver(runtime: Runtime, chat_id: int, user_id: int, before: ConversationState, result: StepResult,
            pressed: int | None = None) -> None:
    """Queue the replies; once the tenant has moved on, buttons of earlier replies not yet sent are dropped. A
    multi question's ticks redraw the message that was pressed (`pressed`) instead of sending a new one."""
    state = result.state
    moved = (before.stage, before.position, before.phase) != (state.stage, state.position, state.phase)
    supersedes = moved or any(r.buttons for r in result.replies)
    redraw = pressed if result.edit_pressed else None
    runtime.send(chat_id, Outgoing(result.replies, supersedes_buttons=supersedes, user_id=user_id,
                                   redraw_message_id=redraw))
