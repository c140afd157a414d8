"""The screen for each kind of question (and info page), and every kind of answer put back into words."""

from __future__ import annotations

from conversations.flow.routing import previous_page, progress
from conversations.model import Consultation, Question, QuestionKind
from conversations.replies import Button, Reply
from conversations.screens import buttons as ids
from conversations.screens.markup import escape
from conversations.screens.prompts import button, place_total, say
from conversations.state import Answer, ConversationState


def describe_answer(consultation: Consultation, question: Question, answer: Answer | None) -> str:
    """An answer as the tenant gave it ("✔ Repairs, ✔ Cleaning", "Fairly satisfied", "3 people"), escaped."""
    if answer is None or not answer.given:
        return say(consultation, "answer_skipped" if answer and answer.skipped else "answer_missing")
    parts = []
    if answer.choice:
        option = question.option(answer.choice)
        parts.append(option.label if option else escape(answer.choice))
    if answer.choices:
        parts.append(chosen_labels(consultation, question, answer.choices))
    if answer.number is not None:
        parts.append(number_words(consultation, question, answer.number))
    if answer.text:
        text = escape(answer.text)
        with_options = bool(answer.choice or answer.choices)
        parts.append(say(consultation, "answer_reason", reason=text) if with_options else text)
    return "\n".join(parts)


def chosen_labels(consultation: Consultation, question: Question, chosen: tuple[str, ...]) -> str:
    """A multi's ticks: "✔ Repairs, ✔ Cleaning"."""
    labels = [say(consultation, "multi_ticked", label=option.label if (option := question.option(oid)) else escape(oid))
              for oid in chosen]
    return say(consultation, "multi_answer_separator").join(labels)


def number_words(consultation: Consultation, question: Question, number: int) -> str:
    """"3 people", or "3" when the question has no unit."""
    if not question.unit:
        return f"{number:,}"
    return say(consultation, "number_with_unit", number=f"{number:,}", unit=question.unit_for(number))


def header(consultation: Consultation, state: ConversationState, question: Question) -> str:
    """"Question 3 of 7 · Repairs", "of about 7" while routing can still change the total; nothing on info pages."""
    if not question.answerable:
        return ""
    place = progress(consultation, state, consultation.questions.index(question))
    total = place_total(consultation, place)
    topic = consultation.topic(question.topic)
    if topic is None:
        return say(consultation, "question_header_untitled", number=place.number, total=total)
    return say(consultation, "question_header", number=place.number, total=total, topic=topic.title)


def question_prompt(consultation: Consultation, state: ConversationState, index: int) -> Reply:
    """The page as the tenant sees it now: progress, context, the question, any answer so far, and its buttons."""
    question = consultation.questions[index]
    if question.kind is QuestionKind.INFO:
        return info_page(consultation, state, index)
    parts = [header(consultation, state, question), question.context, f"<b>{question.text}</b>"]
    parts.append(hint(consultation, question))
    answer = state.answer(question.id)
    if answer and answer.given:
        parts.append(say(consultation, "your_answer_so_far", answer=describe_answer(consultation, question, answer)))
    rows: list[tuple[Button, ...]] = []
    if question.kind in (QuestionKind.CHOICE, QuestionKind.SCALE):
        rows.extend((Button(ids.option_button_id(question.id, o.id), o.label),) for o in question.options)
    elif question.kind is QuestionKind.MULTI:
        rows.extend(multi_rows(consultation, question, state.draft))
    rows.append(navigation(consultation, state, question, index))
    return Reply("\n\n".join(p for p in parts if p), tuple(rows))


def hint(consultation: Consultation, question: Question) -> str:
    """How to answer a multi or a number; the other kinds are plain from their buttons."""
    if question.kind is QuestionKind.NUMBER:
        return say(consultation, "number_hint", min=f"{question.minimum:,}", max=f"{question.maximum:,}")
    if question.kind is not QuestionKind.MULTI:
        return ""
    lines = [say(consultation, "multi_hint")]
    if question.max_choices is not None and question.max_choices < len(question.options):
        lines.append(say(consultation, "multi_hint_up_to", most=question.max_choices))
    if question.min_choices > 1:
        lines.append(say(consultation, "multi_hint_at_least", least=question.min_choices))
    return "\n".join(lines)


def multi_rows(consultation: Consultation, question: Question, ticked: tuple[str, ...]) -> list[tuple[Button, ...]]:
    """One button per option, ✔ on those ticked, then Done."""
    rows: list[tuple[Button, ...]] = [(Button(ids.option_button_id(question.id, o.id),
                    say(consultation, "multi_ticked", label=o.label) if o.id in ticked else o.label),)
            for o in question.options]
    rows.append((button(consultation, ids.done_button_id(question.id), "button_done"),))
    return rows


def navigation(consultation: Consultation, state: ConversationState, question: Question,
               index: int) -> tuple[Button, ...]:
    """Back (unless nothing is shown before this page) and Skip (unless the question needs an answer)."""
    row = []
    if previous_page(consultation, state.answers, index) is not None:
        row.append(button(consultation, ids.back_button_id(question.id), "button_back"))
    if not question.required:
        row.append(button(consultation, ids.skip_button_id(question.id), "button_skip"))
    return tuple(row)


def info_page(consultation: Consultation, state: ConversationState, index: int) -> Reply:
    """A page to read, with Back (when there is a page before) and Next."""
    page = consultation.questions[index]
    row = []
    if previous_page(consultation, state.answers, index) is not None:
        row.append(button(consultation, ids.back_button_id(page.id), "button_back"))
    row.append(button(consultation, ids.next_button_id(page.id), "button_next"))
    return Reply("\n\n".join(p for p in (page.context, page.text) if p), (tuple(row),))


def reason_prompt(consultation: Consultation, question: Question, chosen: str) -> Reply:
    """After a choice: the optional 'why', which can be skipped."""
    text = f"{chosen}\n\n{question.reason_prompt}"
    return Reply(text, ((button(consultation, ids.back_button_id(question.id), "button_back"),
                         button(consultation, ids.skip_button_id(question.id), "button_skip")),))


def more_prompt(consultation: Consultation, question: Question, key: str) -> Reply:
    """After some words: send more to add to them, or move on."""
    return Reply(say(consultation, key), ((button(consultation, ids.next_button_id(question.id), "button_next"),),))
