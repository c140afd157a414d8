"""Reading a consultation file's values while collecting every problem, one readable line each, naming its key."""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conversations.screens.markup import markup_problem

TELEGRAM_MESSAGE_LIMIT = 4096
ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
STATIC_PLACEHOLDERS = frozenset({"organisation", "title"})  # filled in once, as the file is read
LABEL_LIMIT = 100  # a button label longer than this wraps to several lines on a phone, or is cut off


class FileReader:
    """Collects every problem in a file instead of stopping at the first one."""

    def __init__(self, file: Path, raw: dict[str, Any]) -> None:
        self.file = file
        self.raw = raw
        self.problems: list[str] = []
        self.fills: dict[str, str] = {}  # {organisation} and {title}, once they are read

    def problem(self, key: str, what: str) -> None:
        """Record one readable problem naming the file and the key."""
        self.problems.append(f"{self.file}: {key}: {what}")

    def text(self, table: dict[str, Any], key: str, where: str, required: bool = True) -> str:
        """A non-empty string from the file, with its markup checked."""
        value = table.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(where, "is missing or empty")
            return ""
        if not isinstance(value, str):
            self.problem(where, f"should be text, not {type(value).__name__}")
            return ""
        self.check_message(where, value)
        return value.strip()

    def words(self, table: dict[str, Any], key: str, where: str, required: bool = False) -> str:
        """Text tenants read, with {organisation} and {title} filled in and any other {placeholder} refused."""
        value = self.text(table, key, where, required=required)
        return self.filled(where, value)

    def filled(self, where: str, value: str) -> str:
        """{organisation} and {title} filled in now; {{ and }} become braces; another {name} is a problem."""
        if not self.placeholders(where, value, STATIC_PLACEHOLDERS):
            return value
        parts = []
        for literal, name, _, _ in string.Formatter().parse(value):
            parts.append(literal)  # parse has already turned {{ and }} into single braces
            if name is not None:
                parts.append(self.fills.get(name, "{" + name + "}"))
        return "".join(parts)

    def label(self, table: dict[str, Any], key: str, where: str) -> str:
        """A button's words: Telegram shows them as plain text, and the review shows them inside formatted text,
        so markup and bare <, > or & are refused (either would show wrongly in one of the two places)."""
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(where, "is missing or empty" if value is None or isinstance(value, str)
                         else f"should be text, not {type(value).__name__}")
            return ""
        if re.search(r"[<>&]", value):
            self.problem(where, f"'{value.strip()}' is a button label: it cannot hold <, > or & (buttons show no "
                         "formatting; write 'and' for &)")
        if len(value.strip()) > LABEL_LIMIT:
            self.problem(where, f"is {len(value.strip())} characters; a button label should be at most {LABEL_LIMIT}")
        return self.filled(where, value.strip())

    def unknown_keys(self, table: dict[str, Any], known: Iterable[str], where: str, what: str) -> None:
        """A key the bot does not read is a typo ('requried') or a key in the wrong place: silently ignoring it
        would change what tenants get without anyone noticing."""
        allowed = sorted(set(known))
        for key in sorted(set(table) - set(allowed)):
            hint = did_you_mean(key, allowed) or f" (it can have {', '.join(allowed)})"
            self.problem(f"{where}.{key}" if where else key, f"is not a key of {what}{hint}")

    def placeholders(self, where: str, value: str, allowed: Iterable[str]) -> bool:
        """Text may name only these {placeholders}; a typo would show tenants the braces. False if it cannot be
        read as a template at all."""
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as error:
            self.problem(where, f"has a stray {{ or }} ({error}); write {{{{ or }}}} for a brace itself")
            return False
        usable = ", ".join("{" + name + "}" for name in sorted(allowed))
        for name in sorted(names - set(allowed)):
            self.problem(where, f"unknown placeholder {{{name}}} (you can use {usable})")
        return True

    def check_message(self, where: str, value: str) -> None:
        """Markup Telegram would refuse, or a message too long to send, is caught here."""
        issue = markup_problem(value)
        if issue:
            self.problem(where, issue)
        if len(value) > TELEGRAM_MESSAGE_LIMIT:
            self.problem(where, f"is {len(value)} characters; one Telegram message holds {TELEGRAM_MESSAGE_LIMIT}")

    def identifier(self, table: dict[str, Any], where: str) -> str:
        """A short, safe id that can travel in button data."""
        value = table.get("id")
        if not isinstance(value, str) or not value:
            self.problem(f"{where}.id", "is missing")
            return ""
        if not ID_PATTERN.match(value):
            self.problem(f"{where}.id", f"'{value}' should use only a-z, 0-9, - and _ (at most 40 characters)")
        return value

    def tables(self, key: str, source: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A list of tables ([[key]] in TOML), or a problem if it is something else."""
        value = (self.raw if source is None else source).get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(key, "should be a list of tables ([[" + key + "]])")
            return []
        return value

    def unique(self, ids: list[str], where: str) -> None:
        """Duplicate ids would make answers ambiguous."""
        seen: set[str] = set()
        for value in ids:
            if value and value in seen:
                self.problem(where, f"duplicate id '{value}'")
            seen.add(value)

    def whole_number(self, table: dict[str, Any], key: str, where: str, default: int | None) -> int | None:
        """A whole number (not true/false, not 2.5), or the default when absent."""
        value = table.get(key, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.problem(where, f"should be a whole number, not {value!r}")
        return default

    def flag(self, table: dict[str, Any], key: str, where: str) -> bool:
        """true or false."""
        value = table.get(key, False)
        if not isinstance(value, bool):
            self.problem(where, f"should be true or false, not {value!r}")
            return False
        return value


def did_you_mean(key: str, candidates: Iterable[str]) -> str:
    """" (did you mean required?)" for a near miss such as 'requried', or ''."""
    known = sorted(candidates)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75) or [
        k for k in known if len(key) >= 4 and k.startswith(key)][:1]
    return f" (did you mean {close[0]}?)" if close else ""
