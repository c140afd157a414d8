"""Prototype fixes, applied to the bot process from outside (PYTHONPATH) so no product file is edited.

Python imports `sitecustomize` at start-up; this one patches what BENCH_PATCHES names (comma separated) once the
product modules are importable. Each patch is the smallest change that shows what a proposed fix would gain;
the real fix belongs in the file named in its docstring.
"""

from __future__ import annotations

import os

PATCHES = {p.strip() for p in os.environ.get("BENCH_PATCHES", "").split(",") if p.strip()}


def _no_keyboard_clear() -> None:
    """KeyboardTracker.clear as a no-op: what removing old buttons costs (not a fix by itself)."""
    from bot.delivery import sending

    async def clear(self: object, bot: object, chat_id: int, message_id: int) -> None:
        return None

    sending.KeyboardTracker.clear = clear  # type: ignore[method-assign]


APPLY = {"nokeyboard": _no_keyboard_clear}
for _name in sorted(PATCHES):
    if _name in APPLY:
        APPLY[_name]()
