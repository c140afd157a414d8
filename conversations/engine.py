"""The conversation as a pure function: (consultation, state, event, now) -> (new state, replies).

No I/O happens here, so every path can be tested without Telegram or a database, and the same engine
drives the bot and the terminal preview.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from conversations import buttons as ids
from conversations import prompts
from conversations.events import Event, Help, Press, Privacy, Review, Start, Text
from conversations.markup import split_message
from conversations.matching import change_number, is_word, matching_option
from conversations.model import Consultation, Question, QuestionKind
from conversations.replies import Reply
from conversations.state import Answer, ConversationState, Phase, Stage


@dataclass(frozen=True)
class StepResult:
    """The new state, what to send, and which answers this step changed (for storage)."""

    state: ConversationState
    replies: tuple[Reply, ...]
    changed: tuple[str, ...] = ()
    stale_press: bool = False


def step(consultation: Consultation, state: ConversationState, event: Event, now: datetime) -> StepResult:
    """Apply one tenant event; the only entry point the bot and the preview use."""
    working = _Step(consultation, state, now)
    new_state, replies = working.run(event)
    changed = tuple(
        q.id for q in consultation.questions if new_state.answers.get(q.id) != state.answers.get(q.id)
    )
    return StepResult(new_state, tuple(replies), changed, working.stale_press)


class _Step:
    """One step's working space; methods return (state, replies)."""

    def __init__(self, consultation: Consultation, state: ConversationState, now: datetime) -> None:
        self.c = consultation
        self.state = state
        self.now = now
        self.stale_press = False

    def say(self, key: str, **values: object) -> Reply:
        """A plain message in the bot's own wording."""
        return Reply(prompts.say(self.c, key, **values))

    def run(self, event: Event) -> tuple[ConversationState, list[Reply]]:
        """Check the window first, then the commands any stage accepts, then the stage's own handling."""
        if self.now < self.c.opens_at:
            key = "help_not_open" if isinstance(event, Help) else "not_open_yet"
            return self.state, [self.say(key)]
        if self.now >= self.c.closes_at:
            return self.closed(event)
        if isinstance(event, Help):
            return self.state, [Reply(prompts.help_text(self.c, self.state))]
        if isinstance(event, Privacy):
            return self.privacy()
        if isinstance(event, Review):
            return self.go_review()
        if isinstance(event, Start):
            return self.start(event.payload)
        if self.state.stage in (Stage.NEW, Stage.CONSENT):
            return self.consent(event)
        if self.state.stage is Stage.DECLINED:
            return self.declined(event)
        if self.state.stage is Stage.QUESTION:
            return self.question(event)
        return self.reviewing(event)

    # ------------------------------------------------------------------ window

    def closed(self, event: Event) -> tuple[ConversationState, list[Reply]]:
        """After the close nothing more is taken; what was given stays, and can still be read."""
        if isinstance(event, Help):
            return self.state, [self.say("help_closed")]
        if isinstance(event, Review) and self.state.answers:
            return self.state, list(prompts.review(self.c, self.state, closed=True))
        if self.state.stage in (Stage.NEW, Stage.CONSENT, Stage.DECLINED):
            return self.state, [self.say("closed_new")]
        return self.state, [self.say("closed_in_flight")]

    # ------------------------------------------------------------------ any stage

    def start(self, payload: str | None) -> tuple[ConversationState, list[Reply]]:
        """/start begins, or picks up exactly where the tenant stopped."""
        stage = self.state.stage
        if stage is Stage.NEW:
            state = replace(self.state, stage=Stage.CONSENT, started_at=self.now, source=payload)
            return state, list(prompts.welcome(self.c))
        if stage is Stage.CONSENT:
            return self.state, list(prompts.welcome(self.c))
        if stage is Stage.DECLINED:
            return replace(self.state, stage=Stage.CONSENT), [prompts.consent_prompt(self.c)]
        return self.resume(welcome_back=True)

    def resume(self, welcome_back: bool = False) -> tuple[ConversationState, list[Reply]]:
        """Show the tenant where they are: the current question, the review, or the thank-you."""
        stage = self.state.stage
        if stage is Stage.QUESTION:
            greeting = [self.say("start_again_hint")] if welcome_back else []
            self.state = replace(self.state, phase=Phase.ASK)
            return self.state, [*greeting, prompts.question_prompt(self.c, self.state, self.state.position)]
        if stage is Stage.REVIEW:
            return self.state, list(prompts.review(self.c, self.state))
        if stage is Stage.SUBMITTED:
            return self.state, [self.already_submitted()]
        return self.start(None)

    def privacy(self) -> tuple[ConversationState, list[Reply]]:
        """The notice again; with its buttons only while agreement is still being asked for."""
        if self.state.stage in (Stage.NEW, Stage.CONSENT):
            return replace(self.state, stage=Stage.CONSENT), [prompts.consent_prompt(self.c)]
        return self.state, [Reply(prompts.fill(self.c, self.c.privacy_notice))]

    def go_review(self) -> tuple[ConversationState, list[Reply]]:
        """The review of every answer, once the tenant has agreed and begun."""
        if self.state.stage in (Stage.NEW, Stage.CONSENT, Stage.DECLINED):
            nudge = [self.say("nothing_to_review")]
            if self.state.stage is Stage.DECLINED:
                return self.state, [*nudge, prompts.declined(self.c, "declined_again")]
            return replace(self.state, stage=Stage.CONSENT), [*nudge, prompts.consent_prompt(self.c)]
        state = replace(self.state, stage=Stage.REVIEW, phase=Phase.ASK, from_review=False)
        return state, list(prompts.review(self.c, state))

    def stale(self) -> tuple[ConversationState, list[Reply]]:
        """A button from an earlier message: change nothing, and say where we are now."""
        self.stale_press = True
        return self.state, [self.say("stale_button", where=prompts.where(self.c, self.state))]

    # ------------------------------------------------------------------ consent

    def consent(self, event: Event) -> tuple[ConversationState, list[Reply]]:
        """Nothing is asked before the tenant agrees to the privacy notice."""
        if self.is_press(event, ids.AGREE) or (isinstance(event, Text) and is_word(self.c, "agree", event.text)):
            return self.agree()
        if self.is_press(event, ids.DECLINE) or (isinstance(event, Text) and is_word(self.c, "decline", event.text)):
            return replace(self.state, stage=Stage.DECLINED), [prompts.declined(self.c)]
        if self.state.stage is Stage.NEW:
            return self.start(None)
        if isinstance(event, Press) and event.button_id != ids.RECONSIDER:
            return self.stale()
        return self.state, [self.say("consent_needed"), prompts.consent_prompt(self.c)]

    def agree(self) -> tuple[ConversationState, list[Reply]]:
        """Agreement recorded; the introduction, then the first objective and question."""
        state = replace(self.state, stage=Stage.QUESTION, position=0, phase=Phase.ASK,
                        consent_at=self.now, started_at=self.state.started_at or self.now)
        joined = "\n\n".join([prompts.say(self.c, "agreed"), *self.c.introduction])
        intro = [Reply(part) for part in split_message(joined)]
        self.state = state
        state, replies = self.arrive(0)
        return state, intro + replies

    def declined(self, event: Event) -> tuple[ConversationState, list[Reply]]:
        """Declining is respected; the tenant can change their mind at any time."""
        if self.is_press(event, ids.AGREE):
            return self.agree()
        if self.is_press(event, ids.RECONSIDER) or (
            isinstance(event, Text) and is_word(self.c, "agree", event.text)
        ):
            return replace(self.state, stage=Stage.CONSENT), [prompts.consent_prompt(self.c)]
        return self.state, [prompts.declined(self.c, "declined_again")]

    # ------------------------------------------------------------------ questions

    def current(self) -> Question:
        """The question the tenant is on."""
        return self.c.questions[self.state.position]

    def arrive(self, index: int) -> tuple[ConversationState, list[Reply]]:
        """Move to a question; objectives it relates to are explained the first time they come up."""
        shown = {o for q in self.c.questions[: max(self.state.furthest, -1) + 1] for o in q.objectives}
        explanations = [
            self.c.objective(o).explanation
            for o in self.c.questions[index].objectives
            if index > self.state.furthest and o not in shown
        ]
        explain = [Reply(part) for part in split_message("\n\n".join(explanations))] if explanations else []
        state = replace(self.state, stage=Stage.QUESTION, position=index, phase=Phase.ASK,
                        furthest=max(self.state.furthest, index))
        return state, [*explain, prompts.question_prompt(self.c, state, index)]

    def advance(self) -> tuple[ConversationState, list[Reply]]:
        """On to the next question, or back to the review when the tenant came from there."""
        index = self.state.position + 1
        if self.state.from_review or index >= len(self.c.questions):
            state = replace(self.state, stage=Stage.REVIEW, phase=Phase.ASK, from_review=False)
            return state, list(prompts.review(self.c, state))
        self.state = replace(self.state, from_review=False)
        return self.arrive(index)

    def question(self, event: Event) -> tuple[ConversationState, list[Reply]]:
        """Buttons for the current question, typed equivalents, or words as the answer."""
        question = self.current()
        if isinstance(event, Press):
            return self.question_press(question, event.button_id)
        if isinstance(event, Text):
            return self.question_text(question, event.text)
        return self.stale()

    def question_press(self, question: Question, button_id: str) -> tuple[ConversationState, list[Reply]]:
        """A press counts only if it belongs to the current question; otherwise nothing changes."""
        if button_id == ids.RESUME:
            return self.resume()
        action, question_id, option_id = ids.split_button_id(button_id)
        if question_id != question.id or action not in ("opt", "skip", "back", "next"):
            return self.stale()
        if action == "opt":
            return self.choose(question, option_id)
        if action == "back":
            return self.back(question)
        return self.move_on(question, skipping=action == "skip")

    def question_text(self, question: Question, text: str) -> tuple[ConversationState, list[Reply]]:
        """Typed words: a navigation word, an option's word, or the answer itself."""
        phase = self.state.phase
        if is_word(self.c, "back", text):
            return self.back(question)
        if is_word(self.c, "skip", text) or is_word(self.c, "next", text):
            return self.move_on(question, skipping=phase is Phase.ASK)
        if question.kind is QuestionKind.CHOICE and phase is Phase.ASK:
            option_id = matching_option(question, text)
            if option_id is None:
                nudge = Reply(prompts.pick_a_button(self.c, question))
                return self.state, [nudge, prompts.question_prompt(self.c, self.state, self.state.position)]
            return self.choose(question, option_id)
        return self.take_words(question, text)

    def choose(self, question: Question, option_id: str) -> tuple[ConversationState, list[Reply]]:
        """Record the choice; then ask why (optional), or move on."""
        option = question.option(option_id)
        if option is None:
            return self.stale()
        previous = self.state.answer(question.id) or Answer()
        self.state = self.state.with_answer(question.id, Answer(choice=option.id, text=previous.text))
        if question.asks_reason:
            self.state = replace(self.state, phase=Phase.REASON)
            return self.state, [prompts.reason_prompt(self.c, question, option.label)]
        return self.advance_with(self.say("choice_received", label=option.label))

    def take_words(self, question: Question, text: str) -> tuple[ConversationState, list[Reply]]:
        """Words for the answer (or reason): the first message replaces, later ones add to it."""
        words = text.strip()
        if not words:
            return self.state, [self.say("empty_text")]
        previous = self.state.answer(question.id) or Answer()
        adding = self.state.phase is Phase.MORE and bool(previous.text)
        combined = f"{previous.text}\n{words}" if adding else words
        if len(combined) > question.max_length:
            return self.state, [self.say("too_long", limit=f"{question.max_length:,}", length=f"{len(combined):,}")]
        key = "text_added" if adding else ("reason_received" if previous.choice else "text_received")
        answer = Answer(choice=previous.choice, text=combined)
        self.state = replace(self.state.with_answer(question.id, answer), phase=Phase.MORE)
        return self.state, [prompts.more_prompt(self.c, question, key)]

    def move_on(self, question: Question, skipping: bool) -> tuple[ConversationState, list[Reply]]:
        """Skip or Next: a skip never throws away an answer the tenant already gave."""
        answer = self.state.answer(question.id)
        if answer is not None and answer.given:
            note = [self.say("kept_answer")] if skipping and self.state.phase is Phase.ASK else []
            state, replies = self.advance()
            return state, note + replies
        self.state = self.state.with_answer(question.id, Answer(skipped=True))
        return self.advance_with(self.say("skipped"))

    def advance_with(self, note: Reply) -> tuple[ConversationState, list[Reply]]:
        """A short acknowledgement, then wherever advancing leads."""
        state, replies = self.advance()
        return state, [note, *replies]

    def back(self, question: Question) -> tuple[ConversationState, list[Reply]]:
        """From a reason, back to the buttons; otherwise to the question before."""
        if self.state.phase is not Phase.ASK and question.kind is QuestionKind.CHOICE:
            self.state = replace(self.state, phase=Phase.ASK)
            return self.state, [prompts.question_prompt(self.c, self.state, self.state.position)]
        if self.state.position == 0:
            self.state = replace(self.state, phase=Phase.ASK)
            return self.state, [self.say("first_question"), prompts.question_prompt(self.c, self.state, 0)]
        self.state = replace(self.state, from_review=False)
        return self.arrive(self.state.position - 1)

    # ------------------------------------------------------------------ review and after

    def reviewing(self, event: Event) -> tuple[ConversationState, list[Reply]]:
        """Review (and after submitting): change an answer, or send them all."""
        if isinstance(event, Press):
            if event.button_id == ids.SUBMIT:
                return self.submit()
            if event.button_id in (ids.REVIEW, ids.RESUME):
                return self.go_review() if event.button_id == ids.REVIEW else self.resume()
            action, question_id, _ = ids.split_button_id(event.button_id)
            question = self.c.question(question_id)
            if action == "change" and question is not None:
                return self.change(question)
            return self.stale()
        if isinstance(event, Text):
            number = change_number(event.text)
            if number is not None and 1 <= number <= len(self.c.questions):
                return self.change(self.c.questions[number - 1])
            if is_word(self.c, "submit", event.text) and self.state.stage is Stage.REVIEW:
                return self.submit()
            if is_word(self.c, "review", event.text):
                return self.go_review()
        if self.state.stage is Stage.SUBMITTED:
            return self.state, [self.already_submitted()]
        return self.state, [self.say("change_which"), *prompts.review(self.c, self.state)]

    def change(self, question: Question) -> tuple[ConversationState, list[Reply]]:
        """Jump to one question from the review; answering it comes straight back to the review."""
        index = self.c.questions.index(question)
        state = replace(self.state, stage=Stage.QUESTION, position=index, phase=Phase.ASK, from_review=True)
        return state, [prompts.question_prompt(self.c, state, index)]

    def submit(self) -> tuple[ConversationState, list[Reply]]:
        """Sent: a thank-you that says what happens next (or that a change is saved)."""
        key_reply = (
            self.say("changes_saved") if self.state.submitted_at else Reply(prompts.fill(self.c, self.c.thank_you))
        )
        state = replace(self.state, stage=Stage.SUBMITTED, phase=Phase.ASK, submitted_at=self.now)
        return state, [key_reply]

    def already_submitted(self) -> Reply:
        """After sending: the answers can be seen and changed until the close."""
        return Reply(prompts.say(self.c, "already_submitted"),
                     ((prompts.button(self.c, ids.REVIEW, "button_review"),),))

    @staticmethod
    def is_press(event: Event, button_id: str) -> bool:
        """True when the event is a press of this exact button."""
        return isinstance(event, Press) and event.button_id == button_id
