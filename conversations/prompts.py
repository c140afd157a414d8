"""Builds the messages a tenant sees from the consultation's wording and their state."""

from __future__ import annotations

from conversations import buttons as ids
from conversations.markup import escape, split_message
from conversations.model import Consultation, Question, QuestionKind
from conversations.replies import Button, Reply
from conversations.state import Answer, ConversationState, Stage
from conversations.timefmt import local_time


def fill(consultation: Consultation, template: str) -> str:
    """Fill {opens}, {closes}, {minutes} and {questions} in text written by staff."""
    return template.format(
        opens=local_time(consultation.opens_at, consultation.timezone),
        closes=local_time(consultation.closes_at, consultation.timezone),
        minutes=consultation.minutes_to_complete,
        questions=len(consultation.questions),
    )


def say(consultation: Consultation, key: str, **values: object) -> str:
    """One of the bot's own messages, with the window's dates available to every message."""
    return consultation.message(
        key,
        opens=local_time(consultation.opens_at, consultation.timezone),
        closes=local_time(consultation.closes_at, consultation.timezone),
        total=len(consultation.questions),
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


def describe_answer(consultation: Consultation, question: Question, answer: Answer | None) -> str:
    """An answer as the tenant gave it, escaped so their words cannot break our formatting."""
    if answer is None or not answer.given:
        return say(consultation, "answer_skipped" if answer and answer.skipped else "answer_missing")
    parts = []
    if answer.choice:
        option = question.option(answer.choice)
        parts.append(option.label if option else escape(answer.choice))
    if answer.text:
        text = escape(answer.text)
        parts.append(say(consultation, "answer_reason", reason=text) if answer.choice else text)
    return "\n".join(parts)


def question_prompt(consultation: Consultation, state: ConversationState, index: int) -> Reply:
    """The question with its progress marker, context, any answer so far, and its buttons."""
    question = consultation.questions[index]
    header = say(consultation, "question_header", number=question.number,
                 topic=consultation.topic(question.topic).title)
    parts = [header, question.context, f"<b>{question.text}</b>"]
    answer = state.answer(question.id)
    if answer and answer.given:
        parts.append(say(consultation, "your_answer_so_far",
                         answer=describe_answer(consultation, question, answer)))
    rows: list[tuple[Button, ...]] = []
    if question.kind is QuestionKind.CHOICE:
        rows.extend((Button(ids.option_button_id(question.id, o.id), o.label),) for o in question.options)
    rows.append(navigation(consultation, question, index))
    return Reply("\n\n".join(p for p in parts if p), tuple(rows))


def navigation(consultation: Consultation, question: Question, index: int) -> tuple[Button, ...]:
    """Back (not on the first question) and Skip."""
    row = [button(consultation, ids.skip_button_id(question.id), "button_skip")]
    if index > 0:
        row.insert(0, button(consultation, ids.back_button_id(question.id), "button_back"))
    return tuple(row)


def reason_prompt(consultation: Consultation, question: Question, label: str) -> Reply:
    """After a choice: the optional 'why', which can be skipped."""
    text = f"{say(consultation, 'choice_received', label=label)}\n\n{question.reason_prompt}"
    return Reply(text, ((button(consultation, ids.back_button_id(question.id), "button_back"),
                         button(consultation, ids.skip_button_id(question.id), "button_skip")),))


def more_prompt(consultation: Consultation, question: Question, key: str) -> Reply:
    """After some words: send more to add to them, or move on."""
    return Reply(say(consultation, key), ((button(consultation, ids.next_button_id(question.id), "button_next"),),))


def review(consultation: Consultation, state: ConversationState, closed: bool = False) -> tuple[Reply, ...]:
    """Every answer, numbered, with 'change N' buttons and Send; split to fit Telegram's limit."""
    if closed:
        header = say(consultation, "review_header_closed")
    elif state.submitted_at:
        header = say(consultation, "review_header_submitted")
    else:
        header = say(consultation, "review_header")
    items = [
        say(consultation, "review_item", number=q.number, question=q.text,
            answer=describe_answer(consultation, q, state.answer(q.id)))
        for q in consultation.questions
    ]
    pieces = split_message("\n\n".join([header, *items]))
    if closed:
        return tuple(Reply(p) for p in pieces)
    changes = [button(consultation, ids.change_button_id(q.id), "button_change", number=q.number)
               for q in consultation.questions]
    rows = [tuple(changes[i:i + 3]) for i in range(0, len(changes), 3)]
    rows.append((button(consultation, ids.SUBMIT, "button_submit"),))
    return (*(Reply(p) for p in pieces[:-1]), Reply(pieces[-1], tuple(rows)))


def where(consultation: Consultation, state: ConversationState) -> str:
    """A few words on where the tenant is, for help and for stale-button notes."""
    if state.stage is Stage.QUESTION:
        return say(consultation, "where_question", number=state.position + 1)
    key = {
        Stage.NEW: "where_consent",
        Stage.CONSENT: "where_consent",
        Stage.DECLINED: "where_declined",
        Stage.REVIEW: "where_review",
        Stage.SUBMITTED: "where_submitted",
    }[state.stage]
    return say(consultation, key)


def help_text(consultation: Consultation, state: ConversationState) -> str:
    """Help that says where the tenant is and what they can do from there."""
    if state.stage is Stage.QUESTION:
        return say(consultation, "help_question", number=state.position + 1)
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



def my_data(consultation: Consultation, state: ConversationState, reference: str, reminders_on: bool) -> tuple[
        Reply, ...]:
    """/mydata: the tenant's own copy of what we hold, in the same words the review uses."""
    agreed = (local_time(state.consent_at, consultation.timezone) if state.consent_at
              else say(consultation, "mydata_not_agreed"))
    header = say(consultation, "mydata_header", reference=escape(reference), agreed=agreed,
                 reminders=say(consultation, "reminders_are_on" if reminders_on else "reminders_are_off"))
    items = [
        say(consultation, "review_item", number=q.number, question=q.text,
            answer=describe_answer(consultation, q, state.answer(q.id)))
        for q in consultation.questions
    ] if state.answers else [say(consultation, "mydata_empty")]
    return tuple(Reply(piece) for piece in split_message("\n\n".join([header, *items])))
