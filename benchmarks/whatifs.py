"""What the proposed fixes would gain, measured beside the bot as shipped (investigation, not part of a full run).

`python -m benchmarks --only whatif` runs the consultation bot as shipped and with prototype fixes applied from
outside the product (benchmarks/whatif/sitecustomize.py names each patch and the file the real fix belongs in;
sniffio goes on the bot's PYTHONPATH), interleaved in rounds so that drifting load on the machine spreads over all
of them. Bot CPU milliseconds per reply is the steadier figure (it does not depend on how much of a core the bot
was given); replies/s is reported beside it. Since the project depends on sniffio (4c8bf50) the "+ sniffio" variants
match "as shipped"; INVESTIGATION.md was made before that.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.broadcast import _deliver
from benchmarks.conversation import Throughput, closed_loop
from benchmarks.processes import PROJECT
from benchmarks.report import Row, Section, median, ratio

HERE = Path(__file__).resolve().parent
PATCHES = HERE / "whatif"
SITE = HERE / ".whatif-site"

# The transport, batched polling and broadcast pacing prototyped here earlier are now the product (see analysis.md);
# what is left is the one product decision the profile pointed at.
CONVERSATION = (
    ("as shipped", "", False),
    ("without removing old buttons", "nokeyboard", False),
)
BROADCAST = (
    ("as shipped", "", False),
)


def _site_with_sniffio() -> Path:
    """sniffio installed into a folder of its own (never into the project's environment)."""
    if not (SITE / "sniffio").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(SITE), "sniffio"],
                       check=True)
    return SITE


def _env(patches: str, sniffio: bool) -> dict[str, str]:
    paths = [str(PROJECT), str(PATCHES)] + ([str(_site_with_sniffio())] if sniffio else [])
    return {"PYTHONPATH": ":".join(paths), "BENCH_PATCHES": patches}


def _cpu_ms(run: Throughput) -> float:
    return 1000 * ratio(run.bot_cpu, run.replies)


async def whatif(base: Path, tenants: int = 100, recipients: int = 5_000, rounds: int = 2) -> Section:
    """Conversation variants in interleaved rounds against the echo bot; then the broadcaster's variants."""
    section = Section("What the proposed fixes would gain (prototypes)")
    echo: dict[bool, list[Throughput]] = {False: [], True: []}
    bots: dict[str, list[Throughput]] = {label: [] for label, _, _ in CONVERSATION}
    for round_ in range(rounds):
        for sniffio in (False, True):
            env = _env("", sniffio) if sniffio else None
            echo[sniffio].append(await closed_loop(f"echo bot{' + sniffio' if sniffio else ''}", True, tenants,
                                                   base / f"echo-{sniffio}-{round_}", 240, env=env))
        for index, (label, patches, sniffio) in enumerate(CONVERSATION):
            bots[label].append(await closed_loop(f"consultation-bot {label}", False, tenants,
                                                 base / f"bot-{index}-{round_}", 240, env=_env(patches, sniffio)))
    for sniffio, runs in echo.items():
        section.note(f"- echo bot{' + sniffio' if sniffio else ''}: {median([r.rate for r in runs]):.1f} replies/s, "
                     f"{median([_cpu_ms(r) for r in runs]):.1f} ms CPU a reply (median of {rounds})")
    shipped_ms = median([_cpu_ms(r) for r in bots["as shipped"]])
    for label, patches, sniffio in CONVERSATION:
        runs = bots[label]
        rate, cpu = median([r.rate for r in runs]), median([_cpu_ms(r) for r in runs])
        yardstick = median([r.rate for r in echo[sniffio and "aiohttp" not in patches]])
        calls = runs[-1].requests
        section.note(f"- consultation-bot {label}: {rate:.1f} replies/s, {cpu:.1f} ms CPU a reply; Bot API calls "
                     f"a reply {ratio(sum(calls.values()), runs[-1].replies):.2f} (getUpdates "
                     f"{ratio(calls.get('getUpdates', 0), runs[-1].replies):.2f})")
        section.rows.append(Row(f"conversation {label}", f"{ratio(rate, yardstick):.2f}", "≥ 0.8", None,
                                f"÷ echo bot{' + sniffio' if sniffio else ''}; CPU a reply "
                                f"{cpu:.1f} ms ({100 * (cpu / shipped_ms - 1):+.0f}% against as shipped)"))
    for index, (label, patches, sniffio) in enumerate(BROADCAST):
        run = await _deliver(base / f"broadcast-{index}", recipients, 500.0, 90.0, env=_env(patches, sniffio))
        section.note(f"- broadcast {label}: {len(run.times):,} of {recipients:,} in {run.seconds:.1f} s, achieved "
                     f"{run.achieved:.0f}/s, busiest second {run.busiest_second()}, bot CPU "
                     f"{100 * ratio(run.bot_cpu, run.seconds):.0f}% of a core, "
                     f"{1000 * ratio(run.bot_cpu, len(run.times)):.2f} ms a send")
        section.rows.append(Row(f"broadcast {label}", f"{ratio(run.achieved, 500):.2f}", "≥ 0.95", None,
                                f"achieved ÷ configured 500/s, {recipients:,} recipients"))
    return section
