"""Theme analysis against coded answers: `python -m benchmarks.themes DATA_DIR [DATA_DIR...]` (and in `make bench`).

A DATA_DIR has themefinder's evaluation layout: inputs/question_part_N/{question.json,responses.jsonl} and
outputs/mapping/<date>/question_part_N/{themes.json,mapping.jsonl} (the latest date is read). Each question part is
scored on its own and the figures of a DATA_DIR are the mean over its parts. Per set:

- unsupervised: analyse() with no themes; suggested themes matched one-to-one to the coded ones by shared answers
  (Hungarian); per-answer F1 over all answers, and the share of coded themes matched to a suggested theme;
- seeded: simulated staff name every coded theme that has answers (ThemeSeed(topic_id, topic_label,
  topic_description)) and confirm 3 answers of each (fewer if it has fewer), drawn by numpy's default_rng(seed);
  the rest are assigned; per-answer F1 and mean per-theme Cohen's kappa on the answers not confirmed;
- reviewed: the seeded set-up, then staff confirm (with the coded themes) the answers analyse() lists first in
  `ask_first`, in batches of max(1, 2% of answers), analyse() re-run after each batch, until 10% of all answers are
  confirmed beyond the seeds; per-answer F1 on the answers still not confirmed;
  seeded and reviewed are the mean over the example draws of seeds 0, 1 and 2;
- coverage: share of answers found in exactly one of confirmed / suggestions / needs_reading / non_answers;
- scale: 10,000 answers made by resampling the responses (default_rng(0)), each with one word dropped or doubled so
  they are not exact duplicates, analysed seeded (3 confirmed per theme) in a child process; seconds are
  wall-clock of analyse() there, memory the child's own peak RSS (VmHWM, imports included);
- ceiling (with --ceiling): 10-fold cross-validation in which staff have confirmed every answer outside the fold;
  per-answer F1 on the folds. It is what more confirming can give at most with the same features and assigner, so a
  reviewed figure near it says that the answers' words, not the review, are the limit.
The output ends, per set, with: `themes NAME: unsupervised_f1=.. seeded_f1=.. reviewed_f1=.. coverage=..% seconds=N`.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.report import Row, Section
from storage.themes.analyse import analyse
from storage.themes.model import Analysis, Response, ThemeSeed
from storage.themes.quality import match_themes, mean_f1, mean_kappa, relabel

DEFAULT_SETS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "themes"
SCALE = 10_000
EXAMPLES = 3
DRAWS = (0, 1, 2)
SEEDED_TARGET, REVIEWED_TARGET, SECONDS_TARGET, MB_TARGET = 0.50, 0.65, 60.0, 500.0


@dataclass(frozen=True)
class Part:
    """One coded question: its answers, the coded themes that have answers, and each answer's coded themes."""

    name: str
    responses: tuple[Response, ...]
    themes: tuple[ThemeSeed, ...]
    truth: dict[str, frozenset[str]]


def load(data_dir: Path) -> list[Part]:
    """Every question part of a DATA_DIR, with the latest mapping date's coding."""
    parts = []
    for inputs in sorted((data_dir / "inputs").glob("question_part_*")):
        mapped = sorted((data_dir / "outputs" / "mapping").glob(f"*/{inputs.name}"))[-1]
        lines = (inputs / "responses.jsonl").read_text().splitlines()
        responses = tuple(Response(str(row["response_id"]), str(row["response"] or ""))
                          for row in map(json.loads, filter(None, lines)))
        truth = {str(row["response_id"]): frozenset(map(str, row["labels"]))
                 for row in map(json.loads, filter(None, (mapped / "mapping.jsonl").read_text().splitlines()))}
        used = {theme for labels in truth.values() for theme in labels}
        themes = tuple(ThemeSeed(str(t["topic_id"]), t["topic_label"], t.get("topic_description", ""))
                       for t in json.loads((mapped / "themes.json").read_text()) if str(t["topic_id"]) in used)
        parts.append(Part(inputs.name, responses, themes, {r.key: truth.get(r.key, frozenset()) for r in responses}))
    return parts


def machine_coding(analysis: Analysis) -> dict[str, frozenset[str]]:
    """The machine's themes per answer (needs-reading and non-answers: none)."""
    return {key: frozenset(s.theme_id for s in found) for key, found in analysis.suggestions.items()}


def coverage(responses: Sequence[Response], analysis: Analysis) -> float:
    """Share of answers in exactly one of the four places an answer can be."""
    places = [set(analysis.confirmed), set(analysis.suggestions), set(analysis.needs_reading),
              set(analysis.non_answers)]
    return float(np.mean([sum(r.key in place for place in places) == 1 for r in responses])) if responses else 1.0


def seeds_for(part: Part, draw: int) -> dict[str, frozenset[str]]:
    """Staff's first confirmations: up to 3 coded answers per theme, drawn reproducibly."""
    rng = np.random.default_rng(draw)
    confirmed: dict[str, frozenset[str]] = {}
    for theme in part.themes:
        carriers = [r.key for r in part.responses if theme.id in part.truth[r.key] and r.key not in confirmed]
        for key in rng.choice(carriers, size=min(EXAMPLES, len(carriers)), replace=False) if carriers else []:
            confirmed[str(key)] = part.truth[str(key)]
    return confirmed


def review(part: Part, confirmed: dict[str, frozenset[str]],
           seed: int = 0) -> tuple[Analysis, dict[str, frozenset[str]]]:
    """Staff confirm the answers the tool asks about first, batch by batch, until 10% more are confirmed."""
    confirmed = dict(confirmed)
    goal = len(confirmed) + round(0.10 * len(part.responses))
    batch = max(1, round(0.02 * len(part.responses)))
    analysis = analyse(part.responses, part.themes, confirmed, seed=seed)
    while len(confirmed) < goal and analysis.ask_first:
        for key in analysis.ask_first[:min(batch, goal - len(confirmed))]:
            confirmed[key] = part.truth[key]
        analysis = analyse(part.responses, part.themes, confirmed, seed=seed)
    return analysis, confirmed


def score_part(part: Part) -> dict[str, float]:
    """Unsupervised, seeded and reviewed figures and coverage for one question part."""
    keys = [r.key for r in part.responses]
    free = analyse(part.responses)
    matching = match_themes(machine_coding(free), part.truth)
    figures = {"unsupervised_f1": mean_f1(relabel(machine_coding(free), matching), part.truth, keys),
               "themes_found": len(set(matching.values())) / max(1, len(part.themes)),
               "suggested": float(len(free.themes)), "coverage": coverage(part.responses, free)}
    seeded, kappas, reviewed = [], [], []
    for draw in DRAWS:
        confirmed = seeds_for(part, draw)
        analysis = analyse(part.responses, part.themes, confirmed)
        rest = [key for key in keys if key not in confirmed]
        seeded.append(mean_f1(machine_coding(analysis), part.truth, rest))
        kappas.append(mean_kappa(machine_coding(analysis), part.truth, [t.id for t in part.themes], rest) or np.nan)
        figures["coverage"] = min(figures["coverage"], coverage(part.responses, analysis))
        final, more = review(part, confirmed)
        reviewed.append(mean_f1(machine_coding(final), part.truth, [key for key in keys if key not in more]))
        figures["coverage"] = min(figures["coverage"], coverage(part.responses, final))
    figures.update(seeded_f1=float(np.mean(seeded)), seeded_kappa=float(np.nanmean(kappas)),
                   reviewed_f1=float(np.mean(reviewed)))
    return figures


def _sentences(text: str) -> list[str]:
    """An answer's sentences (the whole answer when it has one)."""
    found = [piece.strip() for piece in re.split(r"(?<=[.!?])\s+", text) if piece.strip()]
    return found or [text]


def scaled(part: Part, size: int = SCALE) -> tuple[tuple[Response, ...], dict[str, frozenset[str]]]:
    """`size` answers made from the part's: half one answer with a word dropped or doubled, half the start of one
    answer joined to the end of another (carrying both answers' themes), so that few are near duplicates of each
    other, as in a big real consultation; 3 confirmed per theme."""
    rng = np.random.default_rng(0)
    out: list[Response] = []
    truth: dict[str, frozenset[str]] = {}
    for number in range(size):
        first = part.responses[int(rng.integers(0, len(part.responses)))]
        words = first.text.split()
        labels = set(part.truth[first.key])
        if rng.random() < 0.5:
            other = part.responses[int(rng.integers(0, len(part.responses)))]
            head, tail = _sentences(first.text), _sentences(other.text)
            words = " ".join([*head[:max(1, len(head) // 2)], *tail[len(tail) // 2:]]).split()
            labels |= part.truth[other.key]
        if words:
            at = int(rng.integers(0, len(words)))
            words = words[:at] + words[at + 1:] if rng.random() < 0.5 else words[:at + 1] + words[at:]
        out.append(Response(f"s{number}", " ".join(words)))
        truth[f"s{number}"] = frozenset(labels)
    shadow = Part(part.name, tuple(out), part.themes, truth)
    return shadow.responses, seeds_for(shadow, 0)


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the parent's peak at fork into the child's
    ru_maxrss across exec, so inside `make bench` (a parent at 540 MB by then) it reported the parent, not this."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: the best there is


def run_scale(data_dir: Path) -> dict[str, float]:
    """In this (child) process: analyse 10,000 answers seeded; wall seconds and own peak RSS."""
    part = load(data_dir)[0]
    responses, confirmed = scaled(part)
    started = time.perf_counter()
    analysis = analyse(responses, part.themes, confirmed)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": peak_rss_mb(),
            "coverage": coverage(responses, analysis), "needs_reading": len(analysis.needs_reading),
            "duplicates": len(analysis.duplicate_of)}


def measure_scale(data_dir: Path) -> dict[str, float]:
    """The 10,000-answer run in a fresh child process, so its peak RSS is the analysis's alone."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.themes", "--scale-child", str(data_dir)],
                          capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def ceiling(part: Part, folds: int = 10) -> float:
    """Per-answer F1 on each tenth of the answers when staff have confirmed all the others (folds by default_rng(0))."""
    order = [str(key) for key in np.random.default_rng(0).permutation([r.key for r in part.responses])]
    scores = []
    for fold in range(folds):
        held = order[fold::folds]
        if not held:
            continue
        confirmed = {key: part.truth[key] for key in order if key not in set(held)}
        coding = machine_coding(analyse(part.responses, part.themes, confirmed))
        scores.append(mean_f1(coding, part.truth, held) * len(held))
    return float(np.sum(scores) / len(order)) if order else float("nan")


def score_set(data_dir: Path, with_ceiling: bool = False) -> dict[str, float]:
    """Every part of one DATA_DIR scored, averaged over parts, and the scale run on its first part."""
    parts = [score_part(part) | ({"ceiling_f1": ceiling(part)} if with_ceiling else {}) for part in load(data_dir)]
    figures = {name: float(np.mean([p[name] for p in parts])) for name in parts[0]}
    figures["coverage"] = min(p["coverage"] for p in parts)
    figures["parts"] = float(len(parts))
    figures.update(measure_scale(data_dir))
    return figures


def line(name: str, f: Mapping[str, float]) -> str:
    """The one summary line per set the issue asks for."""
    return (f"themes {name}: unsupervised_f1={f['unsupervised_f1']:.2f} seeded_f1={f['seeded_f1']:.2f} "
            f"reviewed_f1={f['reviewed_f1']:.2f} coverage={f['coverage']:.0%} seconds={f['seconds']:.0f}")


def detail(name: str, f: Mapping[str, float]) -> str:
    """The other figures of a set, for the record."""
    return (f"{name}: {f['parts']:.0f} question part(s), mean over parts; unsupervised {f['suggested']:.0f} themes "
            f"suggested, {f['themes_found']:.0%} of coded themes matched; seeded kappa {f['seeded_kappa']:.2f}; "
            f"10,000 answers: {f['seconds']:.1f} s, peak RSS {f['peak_mb']:.0f} MB, coverage {f['coverage']:.0%}, "
            f"{f['duplicates']:.0f} near/exact duplicates, {f['needs_reading']:.0f} needs reading"
            + (f"; ceiling (10-fold, the rest confirmed) F1 {f['ceiling_f1']:.2f}" if "ceiling_f1" in f else ""))


async def themes(base: Path, sets: Sequence[Path] = ()) -> Section:
    """`make bench`: the sets under ../shared/eval/themes (skipped with a note if absent), as table rows."""
    section = Section("Theme analysis")
    chosen = list(sets) or sorted(p for p in DEFAULT_SETS.glob("*") if (p / "inputs").is_dir())
    if not chosen:
        section.note(f"- no coded sets under {DEFAULT_SETS}: skipped")
        return section
    for data_dir in chosen:
        f = score_set(data_dir)
        section.note("- " + detail(data_dir.name, f))
        section.note("- " + line(data_dir.name, f))
        section.rows += [
            Row(f"themes {data_dir.name}, seeded F1", f"{f['seeded_f1']:.2f}", "≥ 0.50", f["seeded_f1"] >= 0.50),
            Row(f"themes {data_dir.name}, reviewed F1", f"{f['reviewed_f1']:.2f}", "≥ 0.65", f["reviewed_f1"] >= 0.65),
            Row(f"themes {data_dir.name}, unsupervised F1", f"{f['unsupervised_f1']:.2f}", "report", None),
            Row(f"themes {data_dir.name}, coverage", f"{f['coverage']:.0%}", "100%", f["coverage"] == 1.0),
            Row(f"themes {data_dir.name}, 10,000 answers", f"{f['seconds']:.0f} s / {f['peak_mb']:.0f} MB",
                "≤ 60 s / ≤ 500 MB", f["seconds"] <= SECONDS_TARGET and f["peak_mb"] <= MB_TARGET),
        ]
    return section


def main(argv: list[str] | None = None) -> int:
    """Score each DATA_DIR given and print its details, then one summary line per set."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.themes", description=__doc__.split("\n")[0])
    parser.add_argument("data_dirs", nargs="*", type=Path, help="sets in themefinder's evaluation layout")
    parser.add_argument("--ceiling", action="store_true",
                        help="also score each set with every answer outside a tenth confirmed (10 analyses a set)")
    parser.add_argument("--scale-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_child:
        print(json.dumps(run_scale(args.scale_child)))
        return 0
    chosen = args.data_dirs or sorted(p for p in DEFAULT_SETS.glob("*") if (p / "inputs").is_dir())
    if not chosen:
        print(f"no coded sets given or under {DEFAULT_SETS}: nothing to do")
        return 0
    results = {}
    for data_dir in chosen:
        results[data_dir.name] = score_set(data_dir, with_ceiling=args.ceiling)
        print(detail(data_dir.name, results[data_dir.name]), flush=True)
    for name, figures in results.items():
        print(line(name, figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
