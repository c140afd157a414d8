"""Stable button ids: they name the question they belong to, so a press on an old message is recognised."""

from __future__ import annotations

MAX_BUTTON_BYTES = 64

AGREE = "consent:yes"
DECLINE = "consent:no"
RECONSIDER = "consent:again"
REVIEW = "review"
SUBMIT = "submit"
RESUME = "resume"


def option_button_id(question_id: str, option_id: str) -> str:
    """The id of a choice question's option button."""
    return f"opt:{question_id}:{option_id}"


def skip_button_id(question_id: str) -> str:
    """Skip this question (or its optional reason)."""
    return f"skip:{question_id}"


def back_button_id(question_id: str) -> str:
    """Go back from this question to the one before."""
    return f"back:{question_id}"


def next_button_id(question_id: str) -> str:
    """Finished adding to this question's answer; move on."""
    return f"next:{question_id}"


def done_button_id(question_id: str) -> str:
    """A multi question: the ticks are complete; move on."""
    return f"done:{question_id}"


def change_button_id(question_id: str) -> str:
    """From the review: change this question's answer."""
    return f"change:{question_id}"


def split_button_id(button_id: str) -> tuple[str, str, str]:
    """(action, question id, option id) with empty strings for parts a button does not have."""
    action, _, rest = button_id.partition(":")
    question_id, _, option_id = rest.partition(":")
    return action, question_id, option_id
