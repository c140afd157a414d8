"""responses.csv's answers written as CSV by SQLite, kind by kind: the query behind rows.flat_responses.

Each question's current answer is found through its unique index and turned into its CSV fields (layout.fields)
inside SQLite, so Python never loops over the answers. Option labels are worked out once, here, as finished CSV
fields (neutralised, quoted where needed) and bound as parameters; the general path (columns.Table with csv.writer)
must write the very same bytes, which tests/export/test_csv_fast_path.py checks for every kind.
"""

from __future__ import annotations

from conversations.model import Question, QuestionKind
from storage.dialect import POSTGRES, SQLITE, Dialect
from storage.export.cells import FORMULA_TRIGGERS, csv_field, csv_field_sql, neutralise
from storage.export.figures import option_label
from storage.export.layout import MULTI_SEPARATOR, NOT_SHOWN, fields

SPECIAL = (",", '"', "\r", "\n")  # a field holding one of these is quoted by csv.writer
JOIN = " || ',' || "



def agreed(spelled: Dialect) -> str:
    """rows.agreed with the consultation id as ?1: SQLite's CROSS JOIN keeps respondents as the outer loop, so it
    walks the reference index in order and never sorts."""
    return (f"FROM respondents r {spelled.ordered_join} conversations c ON c.user_id = r.user_id "
            "AND c.consultation_id = ?1 AND c.consent_at IS NOT NULL ")


class Params:
    """Numbered parameters (?1, ?2, ...), so one bound value can be used in several places of the query."""

    def __init__(self, *values: object) -> None:
        self.values: list[object] = list(values)

    def __call__(self, value: object) -> str:
        """Bind one more value; its placeholder, to write into the query."""
        self.values.append(value)
        return f"?{len(self.values)}"


def repr_sql(text: str) -> str:
    """A constant as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _status(a: str) -> str:
    """answered (anything given), skipped, or '' (a row with neither); 'not shown' is decided before this."""
    given = (f"coalesce({a}.choice, '') != '' OR coalesce({a}.text, '') != '' OR coalesce({a}.choices, '') != '' "
             f"OR {a}.number IS NOT NULL")
    return f"CASE WHEN {given} THEN 'answered' WHEN {a}.skipped = 1 THEN 'skipped' ELSE '' END"


def _chosen(question: Question, a: str, bind: Params, spelled: Dialect) -> str:
    """A choice's label; for a scale, its label and point as two fields. A stored id the file lost is shown as is."""
    scale = question.kind is QuestionKind.SCALE
    cases = []
    for option in question.options:
        field = csv_field(neutralise(option_label(question, option.id)))
        if scale:
            point = question.score(option.id)
            field += "," + ("" if point is None else str(point))
        cases.append(f"WHEN {bind(option.id)} THEN {bind(field)}")
    unlabelled = csv_field_sql(f"{a}.choice", spelled) + (" || ','" if scale else "")
    labelled = f"CASE {a}.choice {' '.join(cases)} ELSE {unlabelled} END" if cases else unlabelled
    return f"CASE WHEN coalesce({a}.choice, '') = '' THEN {repr_sql(',' if scale else '')} ELSE {labelled} END"


def _ticks(question: Question, a: str, bind: Params, spelled: Dialect) -> list[str]:
    """A multi's 1/0 field per option, then the ticked labels in one field; all empty when nothing is ticked."""
    options = question.options
    ticked = f"(',' || {a}.choices || ',')"
    has = [spelled.contains(ticked, bind("," + option.id + ",")) for option in options]
    labels = [option_label(question, option.id) for option in options]
    none = f"coalesce({a}.choices, '') = ''"
    per_option = [f"CASE WHEN {none} THEN '' WHEN {test} THEN '1' ELSE '0' END" for test in has]
    if not options:
        return [repr_sql("")]
    # csv.writer on the joined labels: quoted when any ticked label needs it (inner quotes doubled), and
    # neutralised when the first ticked label would start a formula; both are known per option before the query.
    # The separator goes before every label but the first ticked one (substr cannot strip it afterwards: SQLite's
    # string functions stop at a NUL, and a label may hold one).
    first = "CASE " + " ".join(f"WHEN {test} THEN {place}" for place, test in enumerate(has)) + " ELSE -1 END"
    pieces = []
    for place, (test, label) in enumerate(zip(has, labels, strict=True)):
        text = label.replace('"', '""')
        pieces.append(f"CASE WHEN {test} THEN CASE WHEN {first} = {place} THEN {bind(text)} "
                      f"ELSE {bind(MULTI_SEPARATOR + text)} END ELSE '' END")
    quoted = " OR ".join(test for test, label in zip(has, labels, strict=True)
                         if any(char in label for char in SPECIAL)) or "1 = 0"
    risky = ", ".join(str(place) for place, label in enumerate(labels) if label.startswith(FORMULA_TRIGGERS))
    quote = f"CASE WHEN {quoted} THEN '\"' ELSE '' END"
    neutralised = f"CASE WHEN {first} IN ({risky}) THEN {repr_sql(chr(39))} ELSE '' END || " if risky else ""
    joined = f"CASE WHEN {none} THEN '' ELSE {quote} || {neutralised}{' || '.join(pieces)} || {quote} END"
    return [*per_option, joined]


def answer_fields(question: Question, a: str, bind: Params, spelled: Dialect = SQLITE) -> str:
    """One question's fields as one piece of CSV text: empty when never reached, 'not shown' when routed out."""
    text, version = csv_field_sql(f"{a}.text", spelled), csv_field_sql(f"{a}.consultation_version", spelled)
    if question.kind is QuestionKind.NUMBER:
        parts = [_status(a), f"coalesce(CAST({a}.number AS TEXT), '')", version]
    elif question.kind is QuestionKind.MULTI:
        parts = [_status(a), *_ticks(question, a, bind, spelled), text, version]
    else:
        parts = [_status(a), _chosen(question, a, bind, spelled), text, version]
    commas = "," * (len(fields(question)) - 1)
    return (f"CASE WHEN {a}.user_id IS NULL THEN '{commas}' WHEN {a}.shown = 0 THEN '{NOT_SHOWN}{commas}' "
            f"ELSE {JOIN.join(parts)} END")


def _answers(questions: tuple[Question, ...], bind: Params, spelled: Dialect) -> tuple[str, str]:
    """Every question's fields joined by commas, and the joins they read from."""
    columns, joins = [], []
    for index, question in enumerate(questions):
        a = f"a{index}"
        joins.append(f"LEFT JOIN answers {a} ON {a}.user_id = c.user_id AND {a}.consultation_id = c.consultation_id "
                     f"AND {a}.question_id = {bind(question.id)} AND {a}.is_current = 1 ")
        columns.append(answer_fields(question, a, bind, spelled))
    return (JOIN.join(columns) if columns else "''"), "".join(joins)


def flat_query(consultation_id: str, questions: tuple[Question, ...], spelled: Dialect = SQLITE
               ) -> tuple[str, list[object]]:
    """One row per agreed respondent, in reference order: user id, reference and source as CSV fields, the three
    stored times, then every question's fields joined by commas (rows.Flat)."""
    bind = Params(consultation_id)
    answers, joins = _answers(questions, bind, spelled)
    sql = (f"SELECT r.user_id, {csv_field_sql('r.reference', spelled)}, {csv_field_sql('r.source', spelled)}, "
           f"c.started_at, c.consent_at, c.submitted_at, {answers} " + agreed(spelled) + joins
           + "ORDER BY r.reference")
    return sql, bind.values


def line_query(consultation_id: str, questions: tuple[Question, ...], zone: str, identities: bool
               ) -> tuple[str, list[object]]:
    """PostgreSQL: each respondent's whole line of responses.csv (without its CRLF) as one text column, for
    COPY ... TO STDOUT: the server also writes the local times (zone: an IANA name; PostgreSQL's time zone data),
    so no value is loaded into Python at all. The same text csv_writer.CsvLines makes from flat_query's rows."""
    bind = Params(consultation_id)
    answers, joins = _answers(questions, bind, POSTGRES)
    where = bind(zone)

    def local(column: str) -> str:  # cells.local_text, by the server
        return POSTGRES.local_time_text(column, where)

    parts = [csv_field_sql("r.reference", POSTGRES), *(["r.user_id::text"] if identities else []),
              "CASE WHEN c.submitted_at IS NULL THEN 'partial' ELSE 'finished' END",
              local("c.started_at"), local("c.consent_at"), local("c.submitted_at"),
              csv_field_sql("r.source", POSTGRES), answers]
    sql = f"SELECT {JOIN.join(parts)} " + agreed(POSTGRES) + joins + "ORDER BY r.reference"
    return sql, bind.values
