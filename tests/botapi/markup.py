"""Telegram-style parse_mode handling: turn HTML/MarkdownV2 into text + entities, or refuse like Telegram."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from tests.botapi.model import JSON, ApiError, bad_request

HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    """Telegram measures lengths and entity offsets in UTF-16 code units, not code points."""
    return len(text.encode("utf-16-le")) // 2


def entity_error(detail: str) -> ApiError:
    """The exact prefix Telegram uses for every formatting failure."""
    return bad_request(f"can't parse entities: {detail}")


class _TelegramHtml(HTMLParser):
    """HTMLParser that accepts only Telegram's tag subset and records entities as it goes."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, JSON]] = []
        self.entities: list[JSON] = []
        line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                line_starts.append(index + 1)
        self._line_starts = line_starts

    def _byte_offset(self) -> int:
        """Approximate Telegram's 'at byte offset N' from the parser's line/column position."""
        line, column = self.getpos()
        index = self._line_starts[min(line, len(self._line_starts)) - 1] + column
        return len(self.source[:index].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an entity, refusing tags Telegram does not know."""
        if tag not in HTML_TAGS:
            raise entity_error(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        attributes = {name: value or "" for name, value in attrs}
        extra: JSON = {"type": HTML_TAGS[tag]}
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise entity_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset()}'
            )
        if tag == "a":
            extra["url"] = attributes.get("href", "")
        if tag == "blockquote" and "expandable" in attributes:
            extra["type"] = "expandable_blockquote"
        if tag == "tg-emoji":
            extra["custom_emoji_id"] = attributes.get("emoji-id", "")
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = attributes.get("class", "")
            if language.startswith("language-"):
                self.stack[-1][2]["language"] = language.removeprefix("language-")
            extra["merged_into_pre"] = True
        self.stack.append((tag, self.length, extra))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Self-closing tags such as <br/> do not exist in Telegram HTML."""
        raise entity_error(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        """Close the innermost entity; anything else is unbalanced markup."""
        if not self.stack:
            raise entity_error(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, start, extra = self.stack[-1]
        if open_tag != tag:
            raise entity_error(f'Can\'t find end tag corresponding to start tag "{open_tag}"')
        self.stack.pop()
        if extra.pop("merged_into_pre", False):
            return
        if self.length > start:
            self.entities.append({**extra, "offset": start, "length": self.length - start})

    def handle_data(self, data: str) -> None:
        """Collect visible text and advance the UTF-16 cursor used for entity offsets."""
        self.parts.append(data)
        self.length += utf16_len(data)

    def handle_comment(self, data: str) -> None:
        """Comments are not part of Telegram HTML."""
        raise entity_error(f"Unsupported start tag at byte offset {self._byte_offset()}")

    def handle_decl(self, decl: str) -> None:
        """Declarations are not part of Telegram HTML."""
        raise entity_error(f"Unsupported start tag at byte offset {self._byte_offset()}")

    def handle_pi(self, data: str) -> None:
        """Processing instructions are not part of Telegram HTML."""
        raise entity_error(f"Unsupported start tag at byte offset {self._byte_offset()}")


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse parse_mode=HTML text into (plain text, entities) or raise 400 like Telegram."""
    parser = _TelegramHtml(source)
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise entity_error(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"')
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


_MDV2_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def _find_closing_backticks(source: str, start: int, fence: str) -> int:
    """Index of the closing fence after start, honouring backslash escapes, or -1."""
    index = start
    while index < len(source):
        if source[index] == "\\":
            index += 2
            continue
        if source.startswith(fence, index):
            return index
        index += 1
    return -1


def _unescape(chunk: str) -> str:
    """Drop MarkdownV2 escaping backslashes inside code spans and link URLs."""
    out: list[str] = []
    index = 0
    while index < len(chunk):
        if chunk[index] == "\\" and index + 1 < len(chunk):
            out.append(chunk[index + 1])
            index += 2
        else:
            out.append(chunk[index])
            index += 1
    return "".join(out)


def parse_markdown_v2(source: str) -> tuple[str, list[JSON]]:
    """Parse MarkdownV2 closely enough to refuse unescaped reserved characters, like Telegram."""
    out: list[str] = []
    length = 0
    stack: list[tuple[str, int, int]] = []  # (marker, text offset, byte offset)
    entities: list[JSON] = []
    index = 0

    def emit(text: str) -> None:
        nonlocal length
        out.append(text)
        length += utf16_len(text)

    def byte_offset(at: int) -> int:
        return len(source[:at].encode())

    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and 1 <= ord(source[index + 1]) <= 126:
            emit(source[index + 1])
            index += 2
            continue
        if char == "`":
            fence = "```" if source.startswith("```", index) else "`"
            end = _find_closing_backticks(source, index + len(fence), fence)
            if end < 0:
                kind = "PreCode" if fence == "```" else "Code"
                raise entity_error(f"Can't find end of {kind} entity at byte offset {byte_offset(index)}")
            body = source[index + len(fence) : end]
            entity: JSON = {"type": "code"}
            if fence == "```":
                entity = {"type": "pre"}
                first, newline, rest = body.partition("\n")
                if newline and first and not any(c.isspace() for c in first):
                    entity["language"] = first
                    body = rest
            start = length
            emit(_unescape(body))
            if length > start:
                entities.append({**entity, "offset": start, "length": length - start})
            index = end + len(fence)
            continue
        marker = source[index : index + 2] if source[index : index + 2] in ("__", "||") else char
        if marker in _MDV2_MARKERS:
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if length > start:
                    entities.append(
                        {"type": _MDV2_MARKERS[marker], "offset": start, "length": length - start}
                    )
            else:
                stack.append((marker, length, byte_offset(index)))
            index += len(marker)
            continue
        if char == "[":
            stack.append(("[", length, byte_offset(index)))
            index += 1
            continue
        if char == "]" and stack and stack[-1][0] == "[":
            _, start, _ = stack.pop()
            url = ""
            if source.startswith("(", index + 1):
                close = source.find(")", index + 2)
                while close > 0 and source[close - 1] == "\\":
                    close = source.find(")", close + 1)
                if close < 0:
                    raise entity_error(f"Can't find end of a URL at byte offset {byte_offset(index + 1)}")
                url = _unescape(source[index + 2 : close])
                index = close + 1
            else:
                index += 1
            if url and length > start:
                entities.append({"type": "text_link", "offset": start, "length": length - start, "url": url})
            continue
        if char == ">" and (index == 0 or source[index - 1] == "\n"):
            line_end = source.find("\n", index)
            line_end = len(source) if line_end < 0 else line_end
            start = length
            nested_text, nested_entities = parse_markdown_v2(source[index + 1 : line_end])
            emit(nested_text)
            entities.extend({**e, "offset": e["offset"] + start} for e in nested_entities)
            entities.append({"type": "blockquote", "offset": start, "length": length - start})
            index = line_end
            continue
        if char in MDV2_RESERVED:
            raise entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        emit(char)
        index += 1
    if stack:
        marker, _, at = stack[-1]
        names = {**{k: v.capitalize() for k, v in _MDV2_MARKERS.items()}, "[": "TextUrl"}
        raise entity_error(f"Can't find end of {names[marker]} entity at byte offset {at}")
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def render(text: str, parse_mode: str | None, entities: Any = None) -> tuple[str, list[JSON]]:
    """Apply parse_mode (or explicit entities) the way Telegram does before storing a text."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode and mode != "markdown":
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return text, list(entities) if isinstance(entities, list) else []
