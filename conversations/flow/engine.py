"""The conversation as a pure function: (consultation, state, event, now) -> (new state, replies).

No I/O happens here, so every path can be tested without Telegram or a database, and the same engine
drives the bot and the terminal preview.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from conversations.events import Event, Help, Press, Privacy, Review, Start, Text
from conversations.flow.answering import Answering, Outcome
from conversations.flow.matching import change_number, is_word
from conversations.flow.routing import missing_required, next_page, previous_page, reconcile, still_to_ask
from conversations.model import Consultation, Question
from conversations.replies import Reply
from conversations.screens import buttons as ids
from conversations.screens import prompts
from conversations.screens.markup import split_message
from conversations.screens.questions import question_prompt
from conversations.screens.review import numbered, review
from conversations.state import ConversationState, Phase, Stage


@dataclass(frozen=True)
class StepResult:
    """The new state, what to send, and which answers this step changed (for storage).

    `edit_pressed`: the first reply redraws the message whose button was pressed (a multi's ticks) instead of
    arriving as a new message.
    """

    state: ConversationState
    replies: tuple[Reply, ...]
    changed: tuple[str, ...] = ()
    stale_press: bool = False
    edit_pressed: bool = False


def step(consultation: Consultation, state: ConversationState, event: Event, now: datetime) -> StepResult:
    """Apply one tenant event; the only entry point the bot and the preview use."""
    working = _Step(consultation, state, now)
    new_state, replies = working.run(event)
    new_state = reconcile(consultation, new_state)
    changed = tuple(
        q.id for q in consultation.questions if new_state.answers.get(q.id) != state.answers.get(q.id)
    )
    return StepResult(new_state, tuple(replies), changed, working.stale_press, working.edit_pressed)


class _Step(Answering):
    """One step's working space; methods return (state, replies)."""

    def __init__(self, consultation: Consultation, state: ConversationState, now: datetime) -> None:
        self.c = consultation
        self.state = state
        self.now = now
        self.stale_press = False
        self.edit_pressed = False

    def say(self, key: str, **values: object) -> Reply:
        """A plain message in the bot's own wording."""
        return Reply(prompts.say(self.c, key, **values))

    def run(self, event: Event) -> Outcome:
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

    def closed(self, event: Event) -> Outcome:
        """After the close nothing more is taken; what was given stays, and can still be read."""
        if isinstance(event, Help):
            return self.state, [self.say("help_closed")]
        if isinstance(event, Review) and self.state.answers:
            return self.state, list(review(self.c, self.state, closed=True))
        if self.state.stage in (Stage.NEW, Stage.CONSENT, Stage.DECLINED):
            return self.state, [self.say("closed_new")]
        return self.state, [self.say("closed_in_flight")]

    # ------------------------------------------------------------------ any stage

    def start(self, payload: str | None) -> Outcome:
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

    def resume(self, welcome_back: bool = False) -> Outcome:
        """Show the tenant where they are: the current question, the review, or the thank-you."""
        stage = self.state.stage
        if stage is Stage.QUESTION:
            greeting = [self.say("start_again_hint")] if welcome_back else []
            self.state = replace(self.state, phase=Phase.ASK, draft=self.ticks_of(self.current()))
            return self.state, [*greeting, question_prompt(self.c, self.state, self.state.position)]
        if stage is Stage.REVIEW:
            return self.state, list(review(self.c, self.state))
        if stage is Stage.SUBMITTED:
            return self.state, [self.already_submitted()]
        return self.start(None)

    def privacy(self) -> Outcome:
        """The notice again; with its buttons only while agreement is still being asked for."""
        if self.state.stage in (Stage.NEW, Stage.CONSENT):
            return replace(self.state, stage=Stage.CONSENT), [prompts.consent_prompt(self.c)]
        return self.state, [Reply(prompts.fill(self.c, self.c.privacy_notice))]

    def go_review(self) -> Outcome:
        """The review of every answer, once the tenant has agreed and begun."""
        if self.state.stage in (Stage.NEW, Stage.CONSENT, Stage.DECLINED):
            nudge = [self.say("nothing_to_review")]
            if self.state.stage is Stage.DECLINED:
                return self.state, [*nudge, prompts.declined(self.c, "declined_again")]
            return replace(self.state, stage=Stage.CONSENT), [*nudge, prompts.consent_prompt(self.c)]
        state = replace(self.state, stage=Stage.REVIEW, phase=Phase.ASK, from_review=False, draft=())
        return state, list(review(self.c, state))

    def stale(self) -> Outcome:
        """A button from an earlier message: change nothing, and say where we are now."""
        self.stale_press = True
        return self.state, [self.say("stale_button", where=prompts.where(self.c, self.state))]

    # ------------------------------------------------------------------ consent

    def consent(self, event: Event) -> Outcome:
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

    def agree(self) -> Outcome:
        """Agreement recorded; the introduction, then the first objective and page."""
        self.state = replace(self.state, stage=Stage.QUESTION, position=0, phase=Phase.ASK,
                             consent_at=self.now, started_at=self.state.started_at or self.now)
        joined = "\n\n".join([prompts.say(self.c, "agreed"), *self.c.introduction])
        intro = [Reply(part) for part in split_message(joined)]
        first = next_page(self.c, self.state.answers, -1)
        state, replies = self.arrive(first if first is not None else 0)
        return state, intro + replies

    def declined(self, event: Event) -> Outcome:
        """Declining is respected; the tenant can change their mind at any time."""
        if self.is_press(event, ids.AGREE):
            return self.agree()
        if self.is_press(event, ids.RECONSIDER) or (
            isinstance(event, Text) and is_word(self.c, "agree", event.text)
        ):
            return replace(self.state, stage=Stage.CONSENT), [prompts.consent_prompt(self.c)]
        return self.state, [prompts.declined(self.c, "declined_again")]

    # ------------------------------------------------------------------ pages

    def current(self) -> Question:
        """The page the tenant is on."""
        return self.c.questions[self.state.position]

    def ticks_of(self, question: Question) -> tuple[str, ...]:
        """A multi question shows its saved ticks when the tenant comes back to it."""
        answer = self.state.answer(question.id)
        return answer.choices if answer is not None and answer.shown else ()

    def arrive(self, index: int) -> Outcome:
        """Move to a page; objectives it relates to are explained the first time they come up."""
        furthest = self.state.furthest
        shown = {o for q in self.c.questions[: max(furthest, -1) + 1] for o in q.objectives}
        explanations = [
            self.c.objective(o).explanation for o in self.c.questions[index].objectives
            if index > furthest and o not in shown
        ]
        explain = [Reply(part) for part in split_message("\n\n".join(explanations))] if explanations else []
        self.state = replace(self.state, stage=Stage.QUESTION, position=index, phase=Phase.ASK,
                             furthest=max(furthest, index), draft=())
        self.state = replace(self.state, draft=self.ticks_of(self.current()))
        return self.state, [*explain, question_prompt(self.c, self.state, index)]

    def advance(self) -> Outcome:
        """On to the next page shown; from the review, to any question that routing has just brought in, then back."""
        index = self.state.position
        self.state = reconcile(self.c, self.state)  # the answer just given may route later questions out or in
        if self.state.from_review:
            pending = still_to_ask(self.c, self.state, index)
            if pending is None:
                return self.to_review()
            return self.arrive(pending)
        following = next_page(self.c, self.state.answers, index)
        if following is None:
            return self.to_review()
        self.state = replace(self.state, from_review=False)
        return self.arrive(following)

    def to_review(self) -> Outcome:
        state = replace(self.state, stage=Stage.REVIEW, phase=Phase.ASK, from_review=False, draft=())
        return state, list(review(self.c, state))

    def question(self, event: Event) -> Outcome:
        """Buttons for the current page, typed equivalents, or words as the answer."""
        question = self.current()
        if isinstance(event, Press):
            if event.button_id == ids.RESUME:
                return self.resume()
            return self.question_press(question, event.button_id)
        if isinstance(event, Text):
            return self.question_text(question, event.text)
        return self.stale()

    def advance_with(self, note: Reply) -> Outcome:
        """A short acknowledgement, then wherever advancing leads."""
        state, replies = self.advance()
        return state, [note, *replies]

    def back(self, question: Question) -> Outcome:
        """From a reason, back to the options; otherwise to the page shown before this one."""
        if self.state.phase is not Phase.ASK and question.asks_reason:
            self.state = replace(self.state, phase=Phase.ASK, draft=self.ticks_of(question))
            return self.state, [question_prompt(self.c, self.state, self.state.position)]
        before = previous_page(self.c, self.state.answers, self.state.position)
        if before is None:
            self.state = replace(self.state, phase=Phase.ASK)
            return self.state, [self.say("first_question"), question_prompt(self.c, self.state, self.state.position)]
        self.state = replace(self.state, from_review=False)
        return self.arrive(before)

    # ------------------------------------------------------------------ review and after

    def reviewing(self, event: Event) -> Outcome:
        """Review (and after submitting): change an answer, or send them all."""
        if isinstance(event, Press):
            if event.button_id == ids.SUBMIT:
                return self.submit()
            if event.button_id in (ids.REVIEW, ids.RESUME):
                return self.go_review() if event.button_id == ids.REVIEW else self.resume()
            action, question_id, _ = ids.split_button_id(event.button_id)
            question = self.c.question(question_id)
            if action == "change" and question is not None and question in dict(numbered(self.c, self.state)
                                                                                ).values():
                return self.change(question)
            return self.stale()
        if isinstance(event, Text):
            number = change_number(event.text)
            listed = dict(numbered(self.c, self.state))
            if number is not None and number in listed:
                return self.change(listed[number])
            if is_word(self.c, "submit", event.text) and self.state.stage is Stage.REVIEW:
                return self.submit()
            if is_word(self.c, "review", event.text):
                return self.go_review()
        if self.state.stage is Stage.SUBMITTED:
            return self.state, [self.already_submitted()]
        return self.state, [self.say("change_which"), *review(self.c, self.state)]

    def change(self, question: Question) -> Outcome:
        """Jump to one question from the review; answering it comes straight back to the review."""
        index = self.c.questions.index(question)
        self.state = replace(self.state, stage=Stage.QUESTION, position=index, phase=Phase.ASK, from_review=True)
        self.state = replace(self.state, draft=self.ticks_of(question))
        return self.state, [question_prompt(self.c, self.state, index)]

    def submit(self) -> Outcome:
        """Sent: a thank-you that says what happens next (or that a change is saved); a required question first."""
        missing = missing_required(self.c, self.state)
        if missing is not None:
            state, replies = self.change(missing)
            return state, [self.say("needs_answer_before_sending"), *replies]
        key_reply = (
            self.say("changes_saved") if self.state.submitted_at else Reply(prompts.fill(self.c, self.c.thank_you))
        )
        state = replace(self.state, stage=Stage.SUBMITTED, phase=Phase.ASK, submitted_at=self.now, draft=())
        return state, [key_reply]

    def already_submitted(self) -> Reply:
        """After sending: the answers can be seen and changed until the close."""
        return Reply(prompts.say(self.c, "already_submitted"),
                     ((prompts.button(self.c, ids.REVIEW, "button_review"),),))

    @staticmethod
    def is_press(event: Event, button_id: str) -> bool:
        """True when the event is a press of this exact button."""
        return isinstance(event, Press) and event.button_id == button_id

