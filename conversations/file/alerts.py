"""[[alerts]]: words that mean an answer needs a person, not a count; each answer that has them is flagged as it is
stored, and staff who opted in are told (how words match: conversations/alerts.py)."""

from __future__ import annotations

from conversations.alerts import word_pattern, word_problem
from conversations.file.reader import FileReader
from conversations.model import Alert

ALERT_KEYS = frozenset({"id", "title", "words"})


def read_alerts(reader: FileReader) -> tuple[Alert, ...]:
    """Every alert, with its words checked: each one matchable, none twice (once punctuation and case are ignored)."""
    found = []
    for index, table in enumerate(reader.tables("alerts"), start=1):
        where = f"alerts[{index}]"
        reader.unknown_keys(table, ALERT_KEYS, where, "an alert")
        alert_id = reader.identifier(table, where)
        title = reader.words(table, "title", f"{where}.title", required=True)
        found.append(Alert(alert_id, title, _words(reader, table.get("words"), f"{where}.words")))
    reader.unique([a.id for a in found], "alerts")
    return tuple(found)


def _words(reader: FileReader, value: object, where: str) -> tuple[str, ...]:
    """The words and phrases, as written (matching ignores case and punctuation)."""
    if not isinstance(value, list) or not value or not all(isinstance(w, str) for w in value):
        reader.problem(where, "should be a list of words or phrases, for example [\"damp\", \"black mould\"]")
        return ()
    words: list[str] = []
    seen: dict[str, str] = {}
    for number, raw in enumerate(value, start=1):
        word = " ".join(raw.split())
        if not word:
            reader.problem(f"{where}[{number}]", "is empty")
            continue
        problem = word_problem(word)
        if problem:
            reader.problem(f"{where}[{number}]", f"'{word}' {problem}")
            continue
        key = word_pattern(word)
        if key in seen:
            same = "is listed twice" if seen[key] == word else (
                f"is the same as '{seen[key]}' once case and punctuation are ignored")
            reader.problem(f"{where}[{number}]", f"'{word}' {same}")
            continue
        seen[key] = word
        words.append(word)
    return tuple(words)
