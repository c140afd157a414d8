"""Builds the messages a tenant sees from the consultation's wording and their state."""

from __future__ import annotations

from conversations.flow.routing import Progress, progress
from conversations.model import Consultation, Question
from conversations.replies import Button, Reply
from conversations.screens import buttons as ids
from conversations.screens.markup import escape
from conversations.screens.timefmt import local_time
from conversations.state import ConversationState, Stage


def fill(consultation: Consultation, template: str) -> str:
    """Fill {opens}, {closes}, {minutes}, {questions}, {organisation} and {title} in text written by staff."""
    return template.format(
        opens=local_time(consultation.opens_at, consultation.timezone),
        closes=local_time(consultation.closes_at, consultation.timezone),
        minutes=consultation.minutes_to_complete,
        questions=len(consultation.answerable),
        organisation=consultation.organisation,
        title=consultation.title,
    )


def say(consultation: Consultation, key: str, **values: object) -> str:
    """One of the bot's own messages, with the window's dates available to every message."""
    values.setdefault("total", len(consultation.answerable))
    return consultation.message(
        key,
        opens=local_time(consultation.opens_at, consultation.timezone),
        closes=local_time(consultation.closes_at, consultation.timezone),
        **values,
    )


def button(consultation: Consultation, button_id: str, key: str, **values: object) -> Button:
    """A button labelled with the bot's own wording."""
    return Button(button_id, say(consultation, key, **values))


def consent_prompt(consultation: Consultation) -> Reply:
    """The privacy notice with 'I agree' / 'No thanks': nothing is asked before agreement."""
    return Reply(
        fill(consultation, consultation.privacy_notice),
        ((button(consultation, ids.AGREE, "button_agree"), button(consultation, ids.DECLINE, "button_decline")),),
    )


def welcome(consultation: Consultation) -> tuple[Reply, ...]:
    """What this is, how long it takes and when it closes, then the privacy notice."""
    return Reply(fill(consultation, consultation.welcome)), consent_prompt(consultation)


def declined(consultation: Consultation, key: str = "declined") -> Reply:
    """Declining is respected, and the way back is one tap away."""
    return Reply(say(consultation, key), ((button(consultation, ids.RECONSIDER, "button_reconsider"),),))


def where(consultation: Consultation, state: ConversationState) -> str:
    """A few words on where the tenant is, for help and for stale-button notes."""
    if state.stage is Stage.QUESTION:
        if not consultation.questions[state.position].answerable:
            return say(consultation, "where_info")
        place = progress(consultation, state, state.position)
        return say(consultation, "where_question", number=place.number, total=place_total(consultation, place))
    key = {
        Stage.NEW: "where_consent",
        Stage.CONSENT: "where_consent",
        Stage.DECLINED: "where_declined",
        Stage.REVIEW: "where_review",
        Stage.SUBMITTED: "where_submitted",
    }[state.stage]
    return say(consultation, key)


def place_total(consultation: Consultation, place: Progress) -> str:
    """"7", or "about 7" while later answers can still change how many questions apply."""
    return str(place.total) if place.exact else say(consultation, "total_about", total=place.total)


def help_text(consultation: Consultation, state: ConversationState) -> str:
    """Help that says where the tenant is and what they can do from there."""
    if state.stage is Stage.QUESTION:
        if not consultation.questions[state.position].answerable:
            return say(consultation, "help_info")
        place = progress(consultation, state, state.position)
        return say(consultation, "help_question", number=place.number, total=place_total(consultation, place))
    key = {
        Stage.NEW: "help_consent",
        Stage.CONSENT: "help_consent",
        Stage.DECLINED: "help_declined",
        Stage.REVIEW: "help_review",
        Stage.SUBMITTED: "help_submitted",
    }[state.stage]
    return say(consultation, key)


def pick_a_button(consultation: Consultation, question: Question) -> str:
    """A gentle nudge naming the words that work, instead of an error."""
    examples = ", ".join(f"<b>{escape(o.words[0] if o.words else o.label)}</b>" for o in question.options)
    return say(consultation, "pick_a_button", examples=examples)
