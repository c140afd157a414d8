"""/alerts for staff, and the message each opted-in staff member gets when a tenant's answer is flagged.

An answer is flagged in the transaction that stores it (storage/steps.py); these messages go after that commit and
after the tenant's own reply was queued, paced per chat like any message nobody asked for just then. They name the
respondent's reference and the question, never the Telegram id and never the answer's words.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.delivery.outbox import Outgoing
from bot.runtime import Runtime, runtime_of
from bot.staff.roles import Role, authorised
from conversations.replies import Reply
from conversations.screens.markup import escape, plain, split_message
from conversations.screens.timefmt import local_time
from storage.export.figures import question_title
from storage.export.layout import numbered

log = logging.getLogger(__name__)
ACTION = "alerts"
LISTED = 50  # the newest flagged answers /alerts shows; an admin's export has them all


def place_and_title(runtime: Runtime, question_id: str) -> tuple[str, str]:
    """The question's number among those that take answers (Q1, Q2... as in the exports) and its short title."""
    consultation = runtime.consultation
    question = consultation.question(question_id)
    if question is None:  # since removed from the file
        return "?", escape(question_id)
    place = next((str(p) for p, q in numbered(consultation) if q.id == question_id), "?")
    return place, escape(question_title(consultation, question))


def alert_title(runtime: Runtime, alert_id: str) -> str:
    """The alert's title from the file, or its id for one since removed."""
    alert = runtime.consultation.alert(alert_id)
    return escape(plain(alert.title)) if alert is not None else escape(alert_id)


async def tell_staff(runtime: Runtime, user_id: int, reference: str | None, fresh: dict[str, tuple[str, ...]]) -> None:
    """One message per newly flagged answer to each staff member who sent /alerts on (and is still staff).

    Called after the step committed: nothing here may fail the tenant's step, so a fault is logged and dropped.
    """
    if not fresh:
        return
    try:
        settings, consultation = runtime.settings, runtime.consultation
        allowed = settings.staff_ids | settings.admin_ids
        staff = [s for s in await runtime.db.alert_subscribers(consultation.id) if s in allowed]
        if not staff:
            return
        if reference is None:  # only on a tenant's very first step, which has no answer to flag; read it anyway
            respondent = await runtime.db.respondent(user_id)
            reference = respondent.reference if respondent is not None else None
        if reference is None:
            return
        for question_id, alert_ids in fresh.items():
            number, question = place_and_title(runtime, question_id)
            text = runtime.say("alert_message", alert=" · ".join(alert_title(runtime, a) for a in alert_ids),
                               reference=reference, number=number, question=question)
            for staff_id in staff:
                runtime.send(staff_id, Outgoing((Reply(text),), paced=True))
        log.info("an answer matched %d alert(s); told %d staff member(s)", sum(map(len, fresh.values())), len(staff))
    except Exception:
        log.exception("could not tell staff of a flagged answer (the answer and its flag are stored)")


async def on_alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/alerts: the flagged answers, newest first, and whether you get messages; /alerts on or /alerts off."""
    if not await authorised(update, context, Role.STAFF, ACTION):
        return
    runtime, user = runtime_of(context), update.effective_user
    assert user is not None
    consultation, say = runtime.consultation, runtime.say
    words = [word.lower() for word in context.args or []]
    if words in (["on"], ["off"]):
        on = words == ["on"]
        await runtime.db.set_alert_messages(user.id, consultation.id, on, runtime.clock())
        text = say("alerts_turned_on" if on else "alerts_turned_off")
        if on and not consultation.alerts:
            text += "\n\n" + say("alerts_no_alerts")
        await context.bot.send_message(user.id, text, parse_mode=ParseMode.HTML)
        return
    if words:
        await context.bot.send_message(user.id, say("alerts_usage"), parse_mode=ParseMode.HTML)
        return
    for piece in split_message(await listing(runtime, user.id)):
        await context.bot.send_message(user.id, piece, parse_mode=ParseMode.HTML)


async def listing(runtime: Runtime, staff_id: int) -> str:
    """Whether this staff member gets messages, then the newest flagged answers: reference, question, alert, when."""
    consultation, say = runtime.consultation, runtime.say
    subscribed = staff_id in await runtime.db.alert_subscribers(consultation.id)
    lines = [say("alerts_status_on" if subscribed else "alerts_status_off"), ""]
    if not consultation.alerts:
        return "\n".join([*lines, say("alerts_no_alerts")])
    counts = await runtime.db.alert_counts(consultation.id, tuple(a.id for a in consultation.alerts))
    total = sum(c.answers for c in counts)
    flagged = await runtime.db.flagged_answers(consultation.id, LISTED)
    if not flagged:
        return "\n".join([*lines, say("alerts_none_yet")])
    lines.append(say("alerts_recent", count=total))
    for answer in flagged:
        number, question = place_and_title(runtime, answer.question_id)
        lines.append(say("alerts_recent_line", reference=answer.reference, number=number, question=question,
                         alert=alert_title(runtime, answer.alert_id),
                         when=local_time(answer.flagged_at, consultation.timezone)))
    if total > len(flagged):
        lines.append(say("alerts_more", count=total - len(flagged)))
    return "\n".join(lines)


def add_alert_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Before the tenant handlers, whose catch-all would answer 'unknown command'; any chat type, so that a try
    from a group is refused and audited too. Edited messages are not commands to act on again."""
    application.add_handler(CommandHandler("alerts", on_alerts, filters=filters.UpdateType.MESSAGE))
