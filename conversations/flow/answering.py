"""What a tenant's press or words mean on each kind of page: words, a choice or scale point, ticks, a number, Next.

A mixin of the engine's step (conversations.flow.engine._Step): it reads and sets `self.state`, and hands the way on to
the step's navigation (`advance_with`, `back`, `stale`). Bad input always gets a kind message and changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from conversations.flow.matching import is_word, matching_options, typed_number, typed_selection
from conversations.model import Consultation, Question, QuestionKind
from conversations.replies import Reply
from conversations.screens import buttons as ids
from conversations.screens.markup import escape
from conversations.screens.prompts import pick_a_button, say
from conversations.screens.questions import chosen_labels, more_prompt, number_words, question_prompt, reason_prompt
from conversations.state import Answer, ConversationState, Phase

Outcome = tuple[ConversationState, list[Reply]]


class Answering:
    """Per-kind handling; the navigation it relies on is the engine's."""

    c: Consultation
    state: ConversationState
    edit_pressed: bool

    def say(self, key: str, **values: object) -> Reply:
        raise NotImplementedError

    def stale(self) -> Outcome:
        raise NotImplementedError

    def advance(self) -> Outcome:
        raise NotImplementedError

    def advance_with(self, note: Reply) -> Outcome:
        raise NotImplementedError

    def back(self, question: Question) -> Outcome:
        raise NotImplementedError

    def again(self, *notes: Reply) -> Outcome:
        """Notes, then the current page again, nothing changed."""
        return self.state, [*notes, question_prompt(self.c, self.state, self.state.position)]

    # ------------------------------------------------------------------ presses

    def question_press(self, question: Question, button_id: str) -> Outcome:
        """A press counts only if it belongs to the current page; otherwise nothing changes."""
        action, question_id, option_id = ids.split_button_id(button_id)
        allowed = {"opt", "skip", "back", "next", "done"}
        if question_id != question.id or action not in allowed:
            return self.stale()
        if action == "back":
            return self.back(question)
        if question.kind is QuestionKind.INFO:
            return self.advance() if action == "next" else self.stale()
        if action == "opt":
            if question.kind is QuestionKind.MULTI:
                return self.toggle(question, option_id)
            return self.choose(question, option_id)
        if action == "done" and question.kind is QuestionKind.MULTI:
            return self.finish_ticks(question, self.state.draft)
        return self.move_on(question, skipping=action == "skip")

    # ------------------------------------------------------------------ words

    def question_text(self, question: Question, text: str) -> Outcome:
        """Typed words: a navigation word, an option's words, a number, or the answer itself."""
        phase = self.state.phase
        if is_word(self.c, "back", text):
            return self.back(question)
        if question.kind is QuestionKind.INFO:
            if is_word(self.c, "next", text) or is_word(self.c, "skip", text):
                return self.advance()
            return self.again(self.say("info_tap_next"))
        if is_word(self.c, "skip", text) or is_word(self.c, "next", text):
            if question.kind is QuestionKind.MULTI and phase is Phase.ASK and is_word(self.c, "next", text) \
                    and self.state.draft:
                return self.finish_ticks(question, self.state.draft)
            return self.move_on(question, skipping=phase is Phase.ASK)
        if phase is Phase.ASK:
            if question.kind in (QuestionKind.CHOICE, QuestionKind.SCALE):
                return self.typed_choice(question, text)
            if question.kind is QuestionKind.MULTI:
                return self.typed_ticks(question, text)
            if question.kind is QuestionKind.NUMBER:
                return self.typed_number(question, text)
        return self.take_words(question, text)

    def typed_choice(self, question: Question, text: str) -> Outcome:
        """Words that name one option choose it; two options is ambiguous; none gets the words that work."""
        found = matching_options(question, text)
        if len(found) == 1:
            return self.choose(question, found[0])
        if found:
            return self.again(self.say("ambiguous", options=self.either(question, found)))
        return self.again(Reply(pick_a_button(self.c, question)))

    def either(self, question: Question, option_ids: list[str] | tuple[str, ...]) -> str:
        """"<b>A</b> or <b>B</b>" for a message."""
        labels = [f"<b>{o.label}</b>" for oid in option_ids if (o := question.option(oid))]
        return " or ".join(labels)

    def choose(self, question: Question, option_id: str) -> Outcome:
        """Record the choice (or scale point); then ask why (optional), or move on."""
        option = question.option(option_id)
        if option is None:
            return self.stale()
        previous = self.state.answer(question.id) or Answer()
        self.state = self.state.with_answer(question.id, Answer(choice=option.id, text=previous.text))
        chosen = say(self.c, "choice_received", label=option.label)
        if question.asks_reason:
            self.state = replace(self.state, phase=Phase.REASON)
            return self.state, [reason_prompt(self.c, question, chosen)]
        return self.advance_with(Reply(chosen))

    # ------------------------------------------------------------------ multi

    def toggle(self, question: Question, option_id: str) -> Outcome:
        """Tick or untick one option: the pressed message is redrawn with its ticks (one edit, no new message)."""
        option = question.option(option_id)
        if option is None or self.state.phase is not Phase.ASK:
            return self.stale() if option is None else self.back_to_ticks(question)
        ticked = list(self.state.draft)
        if option_id in ticked:
            ticked.remove(option_id)
        elif option.exclusive:
            ticked = [option_id]  # "None of these" stands alone: choosing it clears the others
        else:
            ticked = [t for t in ticked if not (o := question.option(t)) or not o.exclusive] + [option_id]
            if len(ticked) > question.most_choices:
                return self.state, [self.say("multi_too_many", most=question.most_choices)]
        order = [o.id for o in question.options]
        self.state = replace(self.state, draft=tuple(sorted(ticked, key=order.index)))
        self.edit_pressed = True
        return self.state, [question_prompt(self.c, self.state, self.state.position)]

    def back_to_ticks(self, question: Question) -> Outcome:
        """A tick pressed while the optional 'why' is asked: back to the ticks, as they were."""
        answer = self.state.answer(question.id) or Answer()
        self.state = replace(self.state, phase=Phase.ASK, draft=answer.choices)
        return self.state, [question_prompt(self.c, self.state, self.state.position)]

    def typed_ticks(self, question: Question, text: str) -> Outcome:
        """'1, 3' or option words: the whole answer at once, checked like Done."""
        typed = typed_selection(question, text)
        if typed.ambiguous:
            return self.again(self.say("ambiguous", options=" / ".join(f"<b>{escape(p)}</b>" for p in typed.ambiguous)))
        if typed.unknown or not typed.chosen:
            pieces = ", ".join(f"<b>{escape(p)}</b>" for p in typed.unknown) or f"<b>{escape(text.strip())}</b>"
            return self.again(self.say("multi_unknown", pieces=pieces))
        exclusive = [o for oid in typed.chosen if (o := question.option(oid)) and o.exclusive]
        if exclusive and len(typed.chosen) > 1:
            return self.again(self.say("multi_exclusive", label=exclusive[0].label))
        if len(typed.chosen) > question.most_choices:
            return self.again(self.say("multi_typed_too_many", count=len(typed.chosen), most=question.most_choices))
        return self.finish_ticks(question, typed.chosen)

    def finish_ticks(self, question: Question, ticked: tuple[str, ...]) -> Outcome:
        """Done: at least min_choices (an option that stands alone counts as enough), then the 'why' or move on."""
        stands_alone = len(ticked) == 1 and bool((o := question.option(ticked[0])) and o.exclusive)
        if len(ticked) < question.min_choices and not stands_alone:
            key = "multi_too_few_required" if question.required else "multi_too_few"
            return self.state, [self.say(key, least=question.min_choices)]
        previous = self.state.answer(question.id) or Answer()
        self.state = replace(self.state.with_answer(question.id, Answer(choices=ticked, text=previous.text)), draft=())
        chosen = say(self.c, "multi_received", labels=chosen_labels(self.c, question, ticked))
        if question.asks_reason:
            self.state = replace(self.state, phase=Phase.REASON)
            return self.state, [reason_prompt(self.c, question, chosen)]
        return self.advance_with(Reply(chosen))

    # ------------------------------------------------------------------ number

    def typed_number(self, question: Question, text: str) -> Outcome:
        """A whole number in the question's range; anything else is asked for again, kindly."""
        number = typed_number(text)
        low, high = question.minimum or 0, question.maximum or 0
        if number is None:
            return self.state, [self.say("number_not_whole", example=f"{min(max(low, 3), high):,}")]
        if not low <= number <= high:
            return self.state, [self.say("number_out_of_range", number=f"{number:,}", min=f"{low:,}", max=f"{high:,}")]
        self.state = self.state.with_answer(question.id, Answer(number=number))
        return self.advance_with(self.say("number_received", answer=number_words(self.c, question, number)))

    # ------------------------------------------------------------------ words and skipping

    def take_words(self, question: Question, text: str) -> Outcome:
        """Words for the answer (or reason): the first message replaces, later ones add to it."""
        words = text.strip()
        if not words:
            return self.state, [self.say("empty_text")]
        previous = self.state.answer(question.id) or Answer()
        adding = self.state.phase is Phase.MORE and bool(previous.text)
        combined = f"{previous.text}\n{words}" if adding else words
        if len(combined) > question.max_length:
            return self.state, [self.say("too_long", limit=f"{question.max_length:,}", length=f"{len(combined):,}")]
        with_options = bool(previous.choice or previous.choices)
        key = "text_added" if adding else ("reason_received" if with_options else "text_received")
        answer = replace(previous, text=combined, skipped=False)
        self.state = replace(self.state.with_answer(question.id, answer), phase=Phase.MORE)
        return self.state, [more_prompt(self.c, question, key)]

    def move_on(self, question: Question, skipping: bool) -> Outcome:
        """Skip or Next: a skip never throws away an answer the tenant already gave; a required one is not skipped."""
        answer = self.state.answer(question.id)
        if answer is not None and answer.given:
            note = [self.say("kept_answer")] if skipping and self.state.phase is Phase.ASK else []
            self.state = replace(self.state, draft=())
            state, replies = self.advance()
            return state, note + replies
        if question.required:
            return self.again(self.say("answer_required"))
        self.state = replace(self.state.with_answer(question.id, Answer(skipped=True)), draft=())
        return self.advance_with(self.say("skipped"))
