"""Reads a consultation file and refuses it, one clear line per problem, before a tenant sees a mistake."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from conversations.file.alerts import read_alerts
from conversations.file.measures import read_measures
from conversations.file.questions import QuestionReader
from conversations.file.reader import FileReader
from conversations.model import Consultation, Objective, Option, Question, Reminder, Topic

DURATION_PATTERN = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
AUDIENCES = ("started_not_finished", "agreed_not_started")
TEMPLATE_FIELDS = {"opens", "closes", "minutes", "questions", "organisation", "title"}
TOP_KEYS = frozenset({
    "id", "version", "title", "organisation", "timezone", "opens_at", "closes_at", "minutes_to_complete",
    "retention_days_after_close", "welcome", "introduction", "thank_you", "privacy", "objectives", "topics",
    "questions", "measures", "alerts", "reminders", "messages", "words",
})
PRIVACY_KEYS = frozenset({"version", "notice"})
NAVIGATION = ("skip", "back", "next")  # typed on a question page before its options are matched


class ConsultationError(Exception):
    """A consultation file that cannot be used; `problems` holds one readable line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def default_consultation_path() -> Path:
    """The bundled Connexus consultation, used when CONSULTATION_FILE is not set."""
    return Path(str(resources.files("conversations") / "consultations" / "connexus-procurement-2020.toml"))


def load_consultation(path: Path | str | None = None) -> Consultation:
    """Load and validate one consultation file; raise ConsultationError listing every problem."""
    file = Path(path) if path else default_consultation_path()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConsultationError([f"{file}: the file does not exist"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConsultationError([f"{file}: not valid TOML: {error}"]) from None
    return _Reader(file, raw, _default_wording()).build()


def scale_presets() -> dict[str, tuple[Option, ...]]:
    """The scales a question can name with scale = "..." (conversations/wording/scales.toml), by name."""
    return _presets(_default_wording())


def _presets(wording: dict[str, Any]) -> dict[str, tuple[Option, ...]]:
    """Each preset's points as options, most positive first."""
    return {name: tuple(Option(p["id"], p["label"], tuple(w.lower() for w in p.get("words", ())))
                        for p in preset["points"])
            for name, preset in wording.get("scales", {}).items()}


def _default_wording() -> dict[str, Any]:
    """The shared bot wording bundled in conversations/wording/*.toml (tenant, staff, admin), merged."""
    merged: dict[str, Any] = {"messages": {}, "words": {}, "scales": {}}
    folder = resources.files("conversations") / "wording"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            part = tomllib.loads(entry.read_text(encoding="utf-8"))
            for table in ("messages", "words", "scales"):
                clashes = set(merged[table]) & set(part.get(table, {}))
                if clashes:
                    raise ConsultationError([f"wording/{entry.name}: {table}: {sorted(clashes)} defined twice"])
                merged[table].update(part.get(table, {}))
    return merged


class _Reader(FileReader):
    """The whole file: its window, wording, objectives and topics here; its questions in QuestionReader."""

    def __init__(self, file: Path, raw: dict[str, Any], wording: dict[str, Any]) -> None:
        super().__init__(file, raw)
        self.wording = wording

    def zone(self) -> ZoneInfo:
        """The consultation's time zone, which every date is read in."""
        name = self.raw.get("timezone")
        if not isinstance(name, str) or not name:
            self.problem("timezone", "is missing (for example \"Europe/London\")")
            return ZoneInfo("UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem("timezone", f"unknown time zone '{name}'")
            return ZoneInfo("UTC")

    def instant(self, key: str, zone: ZoneInfo) -> datetime | None:
        """A TOML date-time as an aware instant; a local time is read in the consultation's zone."""
        value = self.raw.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=zone)
        if isinstance(value, date):
            return datetime.combine(value, time(0), tzinfo=zone)
        if value is None:
            self.problem(key, "is missing (for example 2020-11-04T09:00:00)")
        else:
            self.problem(key, f"should be a date and time like 2020-11-04T09:00:00, not '{value}'")
        return None

    def build(self) -> Consultation:
        """Read every part, then refuse the file if anything was wrong."""
        raw = self.raw
        self.unknown_keys(raw, TOP_KEYS, "", "a consultation file")
        cid = self.identifier(raw, "consultation") if "id" in raw else ""
        if "id" not in raw:
            self.problem("id", "is missing")
        zone = self.zone()
        opens_at = self.instant("opens_at", zone)
        closes_at = self.instant("closes_at", zone)
        if opens_at and closes_at and closes_at <= opens_at:
            self.problem("closes_at", "is not after opens_at: the consultation would close before it opens")
        privacy_table = raw.get("privacy")
        privacy: dict[str, Any] = privacy_table if isinstance(privacy_table, dict) else {}
        if "privacy" not in raw:
            self.problem("privacy", "is missing: tenants must see a privacy notice before the first question")
        self.unknown_keys(privacy, PRIVACY_KEYS, "privacy", "the privacy table")
        organisation, title = self.text(raw, "organisation", "organisation"), self.text(raw, "title", "title")
        self.fills = {"organisation": organisation, "title": title}
        objectives = self.objectives()
        topics = self.topics()
        messages, words = self.wording_tables()
        reading = QuestionReader(self, {o.id for o in objectives}, {t.id for t in topics}, self.scales(),
                                 {action: words.get(action, ()) for action in NAVIGATION})
        questions = reading.questions()
        measures = read_measures(self, questions)
        self.check_objectives_shown(objectives, questions)
        minutes = raw.get("minutes_to_complete", 10)
        if not isinstance(minutes, int) or minutes <= 0:
            self.problem("minutes_to_complete", "should be a whole number of minutes above 0")
            minutes = 10
        retention = raw.get("retention_days_after_close")
        if retention is not None and (not isinstance(retention, int) or retention < 0):
            self.problem("retention_days_after_close", "should be a whole number of days, 0 or more")
            retention = None
        consultation = Consultation(
            id=cid,
            version=str(raw.get("version", "1")),
            title=title,
            organisation=organisation,
            welcome=self.template(raw, "welcome"),
            introduction=self.introduction(),
            privacy_notice=self.template(privacy, "notice", "privacy.notice"),
            privacy_version=str(privacy.get("version", raw.get("version", "1"))),
            thank_you=self.template(raw, "thank_you"),
            minutes_to_complete=minutes,
            opens_at=opens_at or datetime(1970, 1, 1, tzinfo=zone),
            closes_at=closes_at or datetime(1970, 1, 2, tzinfo=zone),
            timezone=zone,
            objectives=objectives,
            topics=topics,
            questions=questions,
            messages=messages,
            words=words,
            reminders=self.reminders(),
            measures=measures,
            alerts=read_alerts(self),
            retention_days=retention,
            source_file=str(self.file),
        )
        if self.problems:
            raise ConsultationError(self.problems)
        return consultation

    def template(self, table: dict[str, Any], key: str, where: str | None = None) -> str:
        """Text that may name {opens}, {closes}, {minutes} or {questions}, and nothing else."""
        value = self.text(table, key, where or key)
        self.placeholders(where or key, value, TEMPLATE_FIELDS)
        return value

    def introduction(self) -> tuple[str, ...]:
        """The opening explanation: what procurement is and what the strategy does."""
        value = self.raw.get("introduction")
        if not isinstance(value, list) or not value:
            self.problem("introduction", "is missing: a list of short messages explaining the consultation")
            return ()
        parts = []
        for index, part in enumerate(value):
            where = f"introduction[{index + 1}]"
            if not isinstance(part, str) or not part.strip():
                self.problem(where, "is empty")
                continue
            self.check_message(where, part)
            parts.append(self.filled(where, part.strip()))
        return tuple(parts)

    def objectives(self) -> tuple[Objective, ...]:
        """The strategy's objectives, each explained in plain English."""
        found = []
        for index, table in enumerate(self.tables("objectives"), start=1):
            where = f"objectives[{index}]"
            self.unknown_keys(table, {"id", "title", "explanation"}, where, "an objective")
            found.append(
                Objective(
                    id=self.identifier(table, where),
                    title=self.words(table, "title", f"{where}.title", required=True),
                    explanation=self.words(table, "explanation", f"{where}.explanation", required=True),
                )
            )
        self.unique([o.id for o in found], "objectives")
        return tuple(found)

    def topics(self) -> tuple[Topic, ...]:
        """The headings questions are grouped under."""
        found = []
        for index, table in enumerate(self.tables("topics"), start=1):
            where = f"topics[{index}]"
            self.unknown_keys(table, {"id", "title"}, where, "a topic")
            found.append(Topic(id=self.identifier(table, where),
                               title=self.words(table, "title", f"{where}.title", required=True)))
        self.unique([t.id for t in found], "topics")
        return tuple(found)

    def scales(self) -> dict[str, tuple[Option, ...]]:
        """The scale presets (conversations/wording/scales.toml) a question can name with scale = "..."."""
        return _presets(self.wording)

    def check_objectives_shown(self, objectives: tuple[Objective, ...], questions: tuple[Question, ...]) -> None:
        """Every objective must be explained before some question, or tenants never see it."""
        linked = {o for q in questions for o in q.objectives}
        for objective in objectives:
            if objective.id and objective.id not in linked:
                self.problem("objectives", f"'{objective.id}' is not linked to any question, so it is never shown")

    def wording_tables(self) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
        """The shared bot wording, with this consultation's overrides on top."""
        messages = dict(self.wording.get("messages", {}))
        overrides = self.raw.get("messages", {})
        if not isinstance(overrides, dict):
            self.problem("messages", "should be a table of wording overrides")
            overrides = {}
        for key, value in overrides.items():
            if key not in messages:
                self.problem(f"messages.{key}", "is not a message the bot uses")
            elif not isinstance(value, str) or not value.strip():
                self.problem(f"messages.{key}", "should be non-empty text")
            else:
                self.check_message(f"messages.{key}", value)
                messages[key] = value
        words = {k: tuple(v) for k, v in self.wording.get("words", {}).items()}
        for key, value in dict(self.raw.get("words", {})).items():
            if key not in words:
                self.problem(f"words.{key}", "is not a list of words the bot uses")
            elif not isinstance(value, list) or not all(isinstance(w, str) for w in value):
                self.problem(f"words.{key}", "should be a list of words")
            else:
                words[key] = tuple(w.strip().lower() for w in value)
        return messages, words

    def reminders(self) -> tuple[Reminder, ...]:
        """Reminders counted back from the close, validated now so a typo cannot silence one."""
        found = []
        for index, table in enumerate(self.tables("reminders"), start=1):
            where = f"reminders[{index}]"
            self.unknown_keys(table, {"id", "before_close", "audience", "text"}, where, "a reminder")
            rid = self.identifier(table, where)
            before = table.get("before_close", "")
            match = DURATION_PATTERN.match(before) if isinstance(before, str) else None
            if not match:
                self.problem(f"{where}.before_close", f"'{before}' should look like \"7d\", \"1d\" or \"3h\"")
                delta = timedelta(0)
            else:
                unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
                delta = timedelta(**{unit: int(match.group(1))})
            audience = table.get("audience", "")
            if audience not in AUDIENCES:
                self.problem(f"{where}.audience", f"'{audience}' should be one of {list(AUDIENCES)}")
            found.append(
                Reminder(id=rid, before_close=delta, audience=str(audience),
                         text=self.words(table, "text", f"{where}.text", required=True))
            )
        self.unique([r.id for r in found], "reminders")
        return tuple(found)
