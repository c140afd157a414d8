"""The small HTML subset Telegram accepts: checked in consultation files, escaped in tenants' words."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code"})
_TAG = re.compile(r"<[^>]*>")


class _TagChecker(HTMLParser):
    """Finds tags Telegram would refuse and tags left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problem = self.problem or f"uses <{tag}>; only {sorted(ALLOWED_TAGS)} are allowed"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problem = self.problem or f"has </{tag}> without a matching <{tag}>"
            return
        self.open.pop()


def markup_problem(text: str) -> str:
    """Why Telegram would refuse this text's markup, or '' if it is fine."""
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    if checker.problem:
        return checker.problem
    if checker.open:
        return f"leaves <{checker.open[-1]}> open"
    if "<" in _TAG.sub("", text) or "&" in re.sub(r"&(amp|lt|gt|quot|#\d+);", "", text):
        return "has a bare < or &; write &lt; or &amp;"
    return ""


def escape(text: str) -> str:
    """A tenant's own words made safe to show back inside our formatted messages."""
    return html.escape(text, quote=False)


def plain(text: str) -> str:
    """Markup removed, for the terminal preview and for reading-ease scoring."""
    return html.unescape(_TAG.sub("", text))


def split_message(text: str, limit: int = 4096) -> list[str]:
    """Split a long message into pieces under Telegram's limit, at paragraph, line or word breaks."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for chunk in text.split("\n\n"):
        for part in _split_long(chunk, limit):
            candidate = f"{current}\n\n{part}" if current else part
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def _split_long(chunk: str, limit: int) -> list[str]:
    """A paragraph too long on its own: cut at the last line break or space before the limit."""
    parts: list[str] = []
    while len(chunk) > limit:
        cut = max(chunk.rfind("\n", 0, limit), chunk.rfind(" ", 0, limit))
        if cut <= 0:
            cut = limit
            amp = chunk.rfind("&", 0, cut)
            if amp > cut - 8 and ";" not in chunk[amp:cut]:
                cut = amp or limit
        parts.append(chunk[:cut])
        chunk = chunk[cut:].lstrip(" \n")
    parts.append(chunk)
    return parts
