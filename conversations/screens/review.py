"""The review of a tenant's answers, and /mydata: every question they were shown, numbered as they met them."""

from __future__ import annotations

from conversations.flow.routing import shown_questions
from conversations.model import Consultation, Question
from conversations.replies import Reply
from conversations.screens import buttons as ids
from conversations.screens.markup import escape, split_message
from conversations.screens.prompts import button, say
from conversations.screens.questions import describe_answer
from conversations.screens.timefmt import local_time
from conversations.state import ConversationState


def numbered(consultation: Consultation, state: ConversationState) -> list[tuple[int, Question]]:
    """The questions this tenant is shown, numbered from 1 (a routed-out question leaves no gap)."""
    return list(enumerate(shown_questions(consultation, state), start=1))


def items(consultation: Consultation, state: ConversationState) -> list[str]:
    """One paragraph per question: its number, its words and the answer."""
    return [say(consultation, "review_item", number=number, question=q.text,
                answer=describe_answer(consultation, q, state.answer(q.id)))
            for number, q in numbered(consultation, state)]


def review(consultation: Consultation, state: ConversationState, closed: bool = False) -> tuple[Reply, ...]:
    """Every answer, numbered, with 'change N' buttons and Send; split to fit Telegram's limit."""
    if closed:
        header = say(consultation, "review_header_closed")
    elif state.submitted_at:
        header = say(consultation, "review_header_submitted")
    else:
        header = say(consultation, "review_header")
    pieces = split_message("\n\n".join([header, *items(consultation, state)]))
    if closed:
        return tuple(Reply(p) for p in pieces)
    changes = [button(consultation, ids.change_button_id(q.id), "button_change", number=number)
               for number, q in numbered(consultation, state)]
    rows = [tuple(changes[i:i + 3]) for i in range(0, len(changes), 3)]
    rows.append((button(consultation, ids.SUBMIT, "button_submit"),))
    return (*(Reply(p) for p in pieces[:-1]), Reply(pieces[-1], tuple(rows)))


def my_data(consultation: Consultation, state: ConversationState, reference: str, reminders_on: bool
            ) -> tuple[Reply, ...]:
    """/mydata: the tenant's own copy of what we hold, in the same words the review uses."""
    agreed = (local_time(state.consent_at, consultation.timezone) if state.consent_at
              else say(consultation, "mydata_not_agreed"))
    header = say(consultation, "mydata_header", reference=escape(reference), agreed=agreed,
                 reminders=say(consultation, "reminders_are_on" if reminders_on else "reminders_are_off"))
    held = items(consultation, state) if any(a.counts for a in state.answers.values()) else []
    return tuple(Reply(piece) for piece in split_message(
        "\n\n".join([header, *(held or [say(consultation, "mydata_empty")])])))
