"""Each fault test prints its figures and keeps them, so the README's Reliability section is generated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIGURES_DIR = Path(__file__).resolve().parents[1] / "artifacts" / "reliability"


def record(test: str, summary: str, mode: str = "polling", **figures: Any) -> None:
    """Print the figures (visible with -s or in the report) and keep them for the README.

    A webhook run (`mode="webhook"`, the bot as a webhook worker on PostgreSQL) keeps its figures beside the
    polling run's, under its own name, rather than in their place.
    """
    if mode == "webhook":
        test, summary = f"{test}_webhook", f"{summary} (webhook worker, PostgreSQL)"
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    line = summary + ": " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())
    print(f"\n[reliability] {line}")
    (FIGURES_DIR / f"{test}.json").write_text(json.dumps({"summary": summary, "figures": figures}, indent=1))
