"""Issue 14's alerts: the [[alerts]] file contract, and the matcher that flags an answer whose words need a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.alerts import compile_alerts, flags_for, matcher_for, newly_flagged, normalise
from conversations.file.check import summary
from conversations.file.loader import load_consultation
from conversations.model import Alert, Consultation
from conversations.state import Answer
from tests.conversations.contract_files import load, problems

EXAMPLE = Path(__file__).resolve().parents[2] / "conversations" / "consultations" / "examples" / "every-kind.toml"
TEXT = '[[questions]]\nid = "why"\nkind = "text"\ntext = "Anything else?"\n'


def alerts(body: str) -> str:
    return TEXT + body


def alert(words: str = '["damp", "black mould"]', extra: str = "", alert_id: str = "damp_mould") -> str:
    return f'\n[[alerts]]\nid = "{alert_id}"\ntitle = "Damp and mould"\nwords = {words}\n{extra}'


# ---------------------------------------------------------------- the file contract


def test_alerts_load_with_their_id_title_and_words_as_written(tmp_path: Path) -> None:
    survey = load(tmp_path, alerts(alert('["damp", "  Black   Mould ", "harass*"]')))
    assert survey.alerts == (Alert("damp_mould", "Damp and mould", ("damp", "Black Mould", "harass*")),)
    assert survey.alert("damp_mould") is survey.alerts[0] and survey.alert("gone") is None


def test_a_file_without_alerts_has_none(tmp_path: Path) -> None:
    assert load(tmp_path, TEXT).alerts == ()


@pytest.mark.parametrize(("body", "expected"), [
    (alert(alert_id="Damp Mould"), "alerts[1].id: 'Damp Mould' should use only a-z, 0-9, - and _ (at most 40 "
                                   "characters)"),
    (alert(words="[]"), "alerts[1].words: should be a list of words or phrases, for example [\"damp\", \"black "
                        "mould\"]"),
    (alert(words='"damp"'), "alerts[1].words: should be a list of words or phrases, for example [\"damp\", \"black "
                            "mould\"]"),
    (alert(words='["damp", "  "]'), "alerts[1].words[2]: is empty"),
    (alert(words='["damp", "Damp"]'), "alerts[1].words[2]: 'Damp' is the same as 'damp' once case and punctuation "
                                      "are ignored"),
    (alert(words='["damp", "damp"]'), "alerts[1].words[2]: 'damp' is listed twice"),
    (alert(words='["anti-social", "anti social"]'), "alerts[1].words[2]: 'anti social' is the same as 'anti-social' "
                                                    "once case and punctuation are ignored"),
    (alert(words='["?!"]'), "alerts[1].words[1]: '?!' has no letters or digits to match"),
    (alert(words='["ha*rass"]'), "alerts[1].words[1]: 'ha*rass' can have * only at the end of a word (\"harass*\")"),
    (alert(words='["da*"]'), "alerts[1].words[1]: 'da*' would match too many words: put at least 3 letters before "
                             "the *"),
    (alert(extra='level = "high"'), "alerts[1].level: is not a key of an alert (it can have id, title, words)"),
    (alert(extra='word = ["mould"]'), "alerts[1].word: is not a key of an alert (did you mean words?)"),
    (alert() + alert(), "alerts: duplicate id 'damp_mould'"),
    ('\n[[alerts]]\nid = "x"\nwords = ["damp"]\n', "alerts[1].title: is missing or empty"),
])
def test_a_mistake_in_an_alert_is_refused_with_one_line_naming_the_key(
        tmp_path: Path, body: str, expected: str) -> None:
    assert problems(tmp_path, alerts(body)) == [expected]


def test_a_word_and_the_same_word_with_any_ending_are_different_words(tmp_path: Path) -> None:
    assert load(tmp_path, alerts(alert('["harass", "harass*"]'))).alerts[0].words == ("harass", "harass*")


def test_check_lists_each_alert_with_its_words(tmp_path: Path) -> None:
    screen = summary(load(tmp_path, alerts(alert('["damp", "black mould"]'))))
    assert "1 question, 0 reminders, 1 alert:" in screen
    assert "  Damp and mould (damp_mould, 2 words): damp, black mould" in screen


def test_the_bundled_consultation_and_the_example_have_sensible_alerts(consultation: Consultation) -> None:
    assert [a.id for a in consultation.alerts] == ["damp_mould", "safety", "asb", "self_harm", "safeguarding"]
    assert [a.id for a in load_consultation(EXAMPLE).alerts] == ["damp_mould"]
    matcher = matcher_for(consultation)
    assert matcher.matches("There's black mould in the kids' bedroom") == ("damp_mould",)
    assert matcher.matches("I can smell gas in the kitchen") == ("safety",)
    assert matcher.matches("My neighbour keeps threatening me") == ("asb",)
    assert matcher.matches("Some days I just want to end it all") == ("self_harm",)
    assert matcher.matches("I think the child next door is being abused") == ("safeguarding",)


@pytest.mark.parametrize("text", [
    "Use local firms for gas servicing and boiler contracts",
    "Fire the contractor who did our kitchens",
    "The supply chain must be free of modern slavery",
    "Stop the abuse of public money on consultants",
    "Buy better quality kitchens and bathrooms; the last ones fell apart",
    "We went to Las Vegas with the savings, ha",
    "Threats to the environment matter to me",
])
def test_the_bundled_alerts_leave_ordinary_procurement_answers_alone(consultation: Consultation, text: str) -> None:
    assert matcher_for(consultation).matches(text) == ()


# ---------------------------------------------------------------- the matcher

MATCHER = compile_alerts((
    Alert("damp", "Damp and mould", ("damp", "black mould", "mould")),
    Alert("asb", "Anti-social behaviour", ("anti-social behaviour", "harass*", "can't sleep")),
    Alert("gas", "Gas", ("gas",)),
))


@pytest.mark.parametrize(("text", "expected"), [
    ("There is DAMP everywhere", ("damp",)),
    ("damp.", ("damp",)),
    ("the damp-proof course failed", ("damp",)),   # a hyphen separates words
    ("black\nmould", ("damp",)),                    # a phrase across a line break
    ("Black   Mould!!", ("damp",)),
    ("mouldy bread", ()),                           # whole words: mouldy is not mould
    ("a dampener", ()),
    ("Anti social behaviour", ("asb",)),            # hyphen or space, either way
    ("anti-social  behaviour", ("asb",)),
    ("ANTI-SOCIAL BEHAVIOUR.", ("asb",)),
    ("antisocial behaviour", ()),                   # one word is another word: list it too
    ("I was harassed again", ("asb",)),             # * matches any ending
    ("constant harassment", ("asb",)),
    ("I can’t sleep", ("asb",)),                    # curly apostrophe
    ("I cant sleep", ("asb",)),                     # or none
    ("Las Vegas", ()),
    ("gaskets", ()),
    ("the smell of gas, and damp", ("damp", "gas")),  # in the file's order
    ("", ()),
])
def test_the_matcher_finds_whole_words_and_phrases_in_any_case_and_punctuation(
        text: str, expected: tuple[str, ...]) -> None:
    assert MATCHER.matches(text) == expected


def test_matching_text_is_normalised_once_apostrophes_dropped_and_separators_one_space() -> None:
    assert normalise("  It’s DAMP -- and   mouldy!\n") == "its damp and mouldy"


def test_alerts_are_compiled_once_per_list_of_alerts(consultation: Consultation) -> None:
    assert matcher_for(consultation) is matcher_for(consultation)


def test_only_words_of_an_answer_are_matched_never_its_choice_skip_or_a_page_not_shown(
        consultation: Consultation) -> None:
    changed: dict[str, Answer | None] = {
        "q1_general": Answer(text="Damp in the flat"),
        "q2_local_suppliers": Answer(choice="agree", text="Being harassed by a neighbour"),
        "q3_cost_quality": Answer(skipped=True),
        "q4_environment": Answer(choice="agree"),
        "q5_other": None,
    }
    assert flags_for(consultation, changed) == {"q1_general": ("damp_mould",), "q2_local_suppliers": ("asb",)}
    assert flags_for(consultation, {"q1_general": Answer(text="mould", shown=False)}) == {}


def test_staff_are_told_only_of_alerts_the_replaced_answer_did_not_already_match(
        consultation: Consultation) -> None:
    before = {"q1_general": Answer(text="Damp in the flat")}
    flags = flags_for(consultation, {"q1_general": Answer(text="Damp in the flat. And I smell gas")})
    assert flags == {"q1_general": ("damp_mould", "safety")}
    assert newly_flagged(consultation, before, flags) == {"q1_general": ("safety",)}
    assert newly_flagged(consultation, {"q1_general": Answer(text="Damp and gas leaks")}, flags) == {}
