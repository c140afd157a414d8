"""Each fault test prints its figures and keeps them, so the README's Reliability section is generated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIGURES_DIR = Path(__file__).resolve().parents[1] / "artifacts" / "reliability"


def record(test: str, summary: str, **figures: Any) -> None:
    """Print the figures (visible with -s or in the report) and keep them for the README."""
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    line = summary + ": " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())
    print(f"\n[reliability] {line}")
    (FIGURES_DIR / f"{test}.json").write_text(json.dumps({"summary": summary, "figures": figures}, indent=1))
