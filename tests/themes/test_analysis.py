"""Theme analysis of written answers: cleaning, suggesting, assigning with staff's decisions, and agreement figures."""

from __future__ import annotations

import pytest

from storage.themes.analyse import analyse
from storage.themes.cleaning import campaign_threshold, clean, is_non_answer
from storage.themes.model import Analysis, Response, ThemeSeed
from storage.themes.quality import answer_f1, match_themes, mean_f1, mean_kappa

TOPICS = {
    "repairs": [
        "Repairs take far too long, I waited six weeks for a plumber to fix the leaking boiler.",
        "The repairs service is slow and the contractor never turns up on the day booked.",
        "Please get repairs done faster, my broken window has been waiting for a repair for months.",
        "Faster repairs please, the waiting time for a repair appointment is too long.",
        "Boiler repairs should be quicker and the repair contractors should turn up when booked.",
    ],
    "rent": [
        "The rent keeps going up every year and the service charge is not good value for money.",
        "Rent increases are hard to afford on a pension, keep the rent low.",
        "Value for money matters: my rent and service charge rose again but nothing improved.",
        "Keep rent affordable, the latest rent increase was too high for families.",
        "I cannot afford another rent rise, the service charge is already too high.",
    ],
    "damp": [
        "There is black mould and damp in the bedroom and nobody has dealt with it.",
        "Damp and mould in the bathroom is making my children ill.",
        "Please treat the damp walls, the mould keeps coming back every winter.",
        "Condensation, damp and mould are the biggest problem in our flat.",
        "Mould on the ceiling again, the damp survey never happened.",
    ],
    "asb": [
        "Anti-social behaviour on the estate is getting worse, noisy neighbours every night.",
        "Drug dealing and anti-social behaviour in the stairwell make me feel unsafe.",
        "Deal with the noisy neighbours and the anti social behaviour near the shops.",
        "I feel unsafe because of anti-social behaviour and vandalism on the estate.",
        "Noise nuisance and anti social behaviour from the flat upstairs is never dealt with.",
    ],
    "local": [
        "Use local suppliers and local tradespeople so the money stays in our community.",
        "Buy from small local businesses and give local people jobs.",
        "Local suppliers should get a fair chance at contracts, not just big national firms.",
        "Support local firms and local apprenticeships when you buy services.",
        "Spend money with local businesses and local suppliers in the area.",
    ],
    "environment": [
        "Think about the environment: electric vans, less waste and greener suppliers.",
        "Choose suppliers who cut carbon emissions and protect the environment.",
        "Better insulation and solar panels would help the environment and our bills.",
        "Greener contractors please, recycle more and reduce carbon.",
        "The environment matters, pick suppliers with low carbon emissions and less waste.",
    ],
}
NAMES = {
    "repairs": ("Repairs", "Repairs are slow; waiting times for a repair"),
    "rent": ("Rent and value for money", "Rent increases and service charges"),
    "damp": ("Damp and mould", "Damp, mould and condensation in homes"),
    "asb": ("Anti-social behaviour", "Noisy neighbours, anti-social behaviour, feeling unsafe"),
    "local": ("Local suppliers", "Buy from local suppliers and local businesses"),
    "environment": ("Environment", "Carbon emissions, waste and greener suppliers"),
}


def answers() -> list[Response]:
    """Thirty answers, five on each of six housing topics, interleaved as they would arrive."""
    out = []
    for number in range(5):
        for topic, texts in TOPICS.items():
            out.append(Response(f"{topic}-{number}", texts[number]))
    return out


def places(analysis: Analysis) -> list[set[str]]:
    """The four places an answer can be."""
    return [set(analysis.confirmed), set(analysis.suggestions), set(analysis.needs_reading),
            set(analysis.non_answers)]


def assert_each_key_once(responses: list[Response], analysis: Analysis) -> None:
    """Every key in exactly one place, and nothing else."""
    for response in responses:
        assert sum(response.key in place for place in places(analysis)) == 1, response.key
    assert set().union(*places(analysis)) == {r.key for r in responses}


def seeds() -> list[ThemeSeed]:
    """Staff's six themes."""
    return [ThemeSeed(topic, *NAMES[topic]) for topic in TOPICS]


def test_non_answers_are_set_aside_not_themed() -> None:
    extra = [Response("n1", "No"), Response("n2", "n/a"), Response("n3", "Nothing to add."), Response("n4", " - "),
             Response("n5", "Don't know"), Response("n6", "NOTHING"), Response("n7", "no comment!")]
    analysis = analyse(answers() + extra)
    assert set(analysis.non_answers) == {r.key for r in extra}
    assert not set(analysis.suggestions) & {r.key for r in extra}
    assert is_non_answer("N/A") and is_non_answer("...") and not is_non_answer("No repairs ever get done")


def test_every_answer_is_assigned_or_needs_reading() -> None:
    responses = [*answers(), Response("odd", "Zebra quantum xylophone"), Response("blank", ""),
                 Response("no", "no")]
    for analysis in (analyse(responses), analyse(responses, seeds(), {"repairs-0": frozenset({"repairs"})})):
        assert_each_key_once(responses, analysis)
        assert all(analysis.suggestions[key] for key in analysis.suggestions)
        assert all(0 <= s.confidence <= 1 for found in analysis.suggestions.values() for s in found)


def test_suggested_themes_are_named_quoted_and_counted() -> None:
    analysis = analyse(answers())
    assert 3 <= len(analysis.themes) <= 12
    assert [t.id for t in analysis.themes] == [f"T{n}" for n in range(1, len(analysis.themes) + 1)]
    keys = {r.key for r in answers()}
    for theme in analysis.themes:
        assert theme.name and theme.key_phrases and theme.description.endswith(".")
        assert 1 <= len(theme.quotes) <= 3 and set(theme.quotes) <= keys
        assert theme.count == sum(theme.id in {s.theme_id for s in f} for f in analysis.suggestions.values())


def test_suggested_themes_recover_the_topics() -> None:
    analysis = analyse(answers())
    truth = {r.key: frozenset({r.key.split("-")[0]}) for r in answers()}
    coding = {key: frozenset(s.theme_id for s in found) for key, found in analysis.suggestions.items()}
    assert len(set(match_themes(coding, truth).values())) >= 5


def test_same_input_gives_the_same_themes() -> None:
    first, second = analyse(answers(), seed=3), analyse(answers(), seed=3)
    assert first == second
    given = analyse(answers(), seeds(), {"rent-1": frozenset({"rent"})})
    assert given == analyse(answers(), seeds(), {"rent-1": frozenset({"rent"})})


def test_staff_themes_keep_their_ids_and_names() -> None:
    analysis = analyse(answers(), seeds())
    assert [(t.id, t.name) for t in analysis.themes] == [(s.id, s.name) for s in seeds()]
    found = {key: {s.theme_id for s in f} for key, f in analysis.suggestions.items()}
    right = sum(key.split("-")[0] in themes for key, themes in found.items())
    assert right >= 24  # names and descriptions alone place most answers


def test_staff_theme_with_two_examples_collects_similar_answers() -> None:
    pets = ["Allow tenants to keep a dog or a cat, the pet policy is too strict.",
            "Let us keep pets, a small dog is company for older tenants.",
            "The pet policy should allow cats and dogs in flats.",
            "Please change the rule on pets, my dog is family."]
    responses = [*answers(), *(Response(f"pets-{n}", text) for n, text in enumerate(pets))]
    themes = [*seeds(), ThemeSeed("pets", "Pets", "")]
    confirmed = {"pets-0": frozenset({"pets"}), "pets-1": frozenset({"pets"})}
    analysis = analyse(responses, themes, confirmed)
    for key in ("pets-2", "pets-3"):
        assert analysis.suggestions[key][0].theme_id == "pets"
    assert not any(s.theme_id == "pets" for key, f in analysis.suggestions.items() if not key.startswith("pets")
                   for s in f)
    assert next(t for t in analysis.themes if t.id == "pets").count == 4


def test_confirmed_answers_are_returned_untouched() -> None:
    confirmed = {"repairs-0": frozenset({"rent", "damp"}), "asb-2": frozenset(), "gone": frozenset({"rent"})}
    analysis = analyse([*answers(), Response("x", "no")], seeds(), {**confirmed, "x": frozenset({"asb"})})
    assert analysis.confirmed == {"repairs-0": frozenset({"rent", "damp"}), "asb-2": frozenset(),
                                  "x": frozenset({"asb"})}
    assert "repairs-0" not in analysis.suggestions and "asb-2" not in analysis.needs_reading
    assert "x" not in analysis.non_answers
    assert not set(analysis.confirmed) & set(analysis.ask_first)


def test_ask_first_lists_every_unconfirmed_answer_once() -> None:
    analysis = analyse(answers(), seeds(), {"rent-0": frozenset({"rent"})})
    assert sorted(analysis.ask_first) == sorted(set(analysis.suggestions) | set(analysis.needs_reading))


def test_identical_pasted_text_is_a_campaign() -> None:
    pasted = "Stop the sell-off of council homes now! Homes for people, not profit."
    responses = [*answers(), *(Response(f"c{n}", pasted if n % 2 else pasted.upper()) for n in range(4))]
    analysis = analyse(responses)
    assert [c.keys for c in analysis.campaigns] == [("c0", "c1", "c2", "c3")]
    assert all(key in analysis.suggestions or key in analysis.needs_reading for key in ("c0", "c1", "c2", "c3"))
    assert campaign_threshold(100) == 3 and campaign_threshold(10_000) == 100
    assert not analyse(answers()).campaigns


def test_near_duplicates_point_at_the_first_of_their_group() -> None:
    text = "The repairs service is slow and the contractor never turns up on the day booked."
    responses = [*answers(), Response("d1", text.replace("slow", "very slow")), Response("d2", text.lower() + "!!"),
                 Response("d3", "Repairs are okay I suppose.")]
    cleaned = clean(responses)
    assert cleaned.duplicate_of["d1"] == "repairs-1" and cleaned.duplicate_of["d2"] == "repairs-1"
    assert "d3" not in cleaned.duplicate_of and "repairs-1" not in cleaned.duplicate_of
    assert analyse(responses).duplicate_of["d2"] == "repairs-1"


def test_empty_input_gives_an_empty_analysis() -> None:
    for analysis in (analyse([]), analyse([], seeds(), {"a": frozenset({"rent"})})):
        assert not analysis.suggestions and not analysis.needs_reading and not analysis.non_answers
        assert not analysis.confirmed
    assert analyse([Response("a", "no")]).non_answers == ("a",)
    only = analyse([Response("a", "Fix the boiler")])
    assert_each_key_once([Response("a", "Fix the boiler")], only)
    assert all(t.count == 0 for t in analyse([], seeds()).themes)


def test_agreement_figures() -> None:
    assert answer_f1(set(), set()) == 1.0 and answer_f1({"a"}, set()) == 0.0
    assert answer_f1({"a", "b"}, {"a"}) == pytest.approx(2 / 3)
    assert mean_f1({"1": {"a"}}, {"1": {"a"}, "2": set()}) == 1.0
    first = {"1": {"a"}, "2": {"a"}, "3": set(), "4": {"b"}}
    assert mean_kappa(first, first, ["a", "b"]) == pytest.approx(1.0)
    assert mean_kappa(first, first, ["z"]) is None
    assert match_themes({"1": {"T1"}, "2": {"T1"}, "3": {"T2"}}, {"1": {"a"}, "2": {"a"}, "3": {"b"}}) == {
        "T1": "a", "T2": "b"}


def test_suggested_theme_names_use_the_answers_own_wording() -> None:
    from storage.themes.phrasing import as_written

    texts = ["Good value for money matters", "Value for money, please", "value money is a slogan"]
    assert as_written("value money", texts) == "value for money"
    assert as_written("repairs slow", ["Repairs are very slow"]) == "repairs are very slow"
    assert as_written("keep rent", ["Keep down the rent"]) == "keep rent", "a content word between is not bridged"
    assert as_written("boiler", texts) == "boiler"
