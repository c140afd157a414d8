"""The show_if language, read into a small tree: comparisons, selected(), answered(), and, or, not, parentheses.

    ${q2} = 'yes'        ${q2} != 'no'        ${age} >= 18        ${satisfaction} <= 2
    selected(${services}, 'repairs')          answered(${q5})
    ${q2} = 'yes' and not (${q3} = 'none' or answered(${q4}))

Only the grammar lives here; what a reference means (an earlier question, its options, its kind) is checked by the
loader, and the tree is evaluated against a tenant's answers in conversations.flow.routing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
ORDERING = frozenset({"<", "<=", ">", ">="})
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<ref>\$\{\s*(?P<ref_id>[A-Za-z0-9_-]+)\s*\})
  | (?P<string>'(?P<single>[^']*)'|"(?P<double>[^"]*)")
  | (?P<number>-?\d+)
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_]+)
""", re.VERBOSE)
KEYWORDS = frozenset({"and", "or", "not", "selected", "answered"})


class ExpressionError(ValueError):
    """A show_if that cannot be read; the message says where and what was expected."""


@dataclass(frozen=True)
class Compare:
    """`${question} op value`: an option id ('yes') or a whole number (for number and scale questions)."""

    question: str
    op: str
    value: str | int


@dataclass(frozen=True)
class Selected:
    """`selected(${multi}, 'option')`: the option is among the ticked ones."""

    question: str
    option: str


@dataclass(frozen=True)
class Answered:
    """`answered(${question})`: given an answer (not skipped, and shown)."""

    question: str


@dataclass(frozen=True)
class Not:
    operand: Expression


@dataclass(frozen=True)
class And:
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Or:
    left: Expression
    right: Expression


Expression = Compare | Selected | Answered | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, string, number, op, punct, word, end
    text: str
    value: str | int
    column: int


def _tokens(source: str) -> list[_Token]:
    """The expression's words and symbols, with the column each starts at (from 1) for error messages."""
    found: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise ExpressionError(f"cannot read {source[position:position + 10]!r} at column {position + 1}")
        kind = match.lastgroup or ""
        text = match.group(0)
        if kind == "ref":
            found.append(_Token("ref", text, match.group("ref_id"), position + 1))
        elif kind == "string":
            value = match.group("single") if match.group("single") is not None else match.group("double")
            found.append(_Token("string", text, value, position + 1))
        elif kind == "number":
            found.append(_Token("number", text, int(text), position + 1))
        elif kind == "word":
            word = text.lower()
            if word not in KEYWORDS:
                raise ExpressionError(f"unknown word '{text}' at column {position + 1} (write questions as ${{id}} "
                                      "and options in quotes)")
            found.append(_Token("word", text, word, position + 1))
        elif kind != "space":
            found.append(_Token(kind, text, text, position + 1))
        position = match.end()
    found.append(_Token("end", "", "", len(source) + 1))
    return found


class _Parser:
    """Recursive descent: or binds loosest, then and, then not."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0

    @property
    def next(self) -> _Token:
        return self.tokens[self.at]

    def take(self, kind: str, value: str | None = None, what: str = "") -> _Token:
        token = self.next
        if token.kind != kind or (value is not None and token.value != value):
            shown = f"'{token.text}'" if token.text else "the end"
            raise ExpressionError(f"expected {what or value or kind} at column {token.column}, found {shown}")
        self.at += 1
        return token

    def is_word(self, word: str) -> bool:
        return self.next.kind == "word" and self.next.value == word

    def expression(self) -> Expression:
        left = self.conjunction()
        while self.is_word("or"):
            self.at += 1
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Expression:
        left = self.negation()
        while self.is_word("and"):
            self.at += 1
            left = And(left, self.negation())
        return left

    def negation(self) -> Expression:
        if self.is_word("not"):
            self.at += 1
            return Not(self.negation())
        return self.atom()

    def atom(self) -> Expression:
        token = self.next
        if token.kind == "punct" and token.value == "(":
            self.at += 1
            inner = self.expression()
            self.take("punct", ")", "')'")
            return inner
        if self.is_word("selected"):
            self.at += 1
            self.take("punct", "(", "'(' after selected")
            question = str(self.take("ref", what="a question such as ${services}").value)
            self.take("punct", ",", "',' between the question and the option")
            option = str(self.take("string", what="an option id in quotes").value)
            self.take("punct", ")", "')'")
            return Selected(question, option)
        if self.is_word("answered"):
            self.at += 1
            self.take("punct", "(", "'(' after answered")
            question = str(self.take("ref", what="a question such as ${q5}").value)
            self.take("punct", ")", "')'")
            return Answered(question)
        question = str(self.take("ref", what="a question such as ${q2}, selected(...), answered(...) or '('").value)
        op = str(self.take("op", what="=, !=, <, <=, > or >=").value)
        value = self.next
        if value.kind not in ("string", "number"):
            self.take("string", what="an option id in quotes, or a whole number")
        self.at += 1
        return Compare(question, op, value.value)


def parse(source: str) -> Expression:
    """The tree of one show_if; raises ExpressionError saying where it went wrong."""
    if not source.strip():
        raise ExpressionError("is empty")
    parser = _Parser(source)
    tree = parser.expression()
    parser.take("end", what="the end (or 'and' / 'or')")
    return tree


def references(tree: Expression) -> list[str]:
    """Every question id the expression names, in the order written."""
    if isinstance(tree, Compare | Selected | Answered):
        return [tree.question]
    if isinstance(tree, Not):
        return references(tree.operand)
    return references(tree.left) + references(tree.right)


def leaves(tree: Expression) -> list[Compare | Selected | Answered]:
    """The comparisons and calls in the expression, for the loader to check against the questions."""
    if isinstance(tree, Compare | Selected | Answered):
        return [tree]
    if isinstance(tree, Not):
        return leaves(tree.operand)
    return leaves(tree.left) + leaves(tree.right)
