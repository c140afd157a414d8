"""The show_if language, read into a small tree: comparisons, selected(), answered(), and, or, not, parentheses.

    ${q2} = 'yes'        ${q2} != 'no'        ${age} >= 18        ${satisfaction} <= 2
    selected(${services}, 'repairs')          answered(${q5})
    ${q2} = 'yes' and not (${q3} = 'none' or answered(${q4}))

Only the grammar lives here; what a reference means (an earlier question, its options, its kind) is checked by the
loader, and the tree is evaluated against a tenant's answers in conversations.flow.routing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
ORDERING = frozenset({"<", "<=", ">", ">="})
KEYWORDS = frozenset({"and", "or", "not", "selected", "answered"})
MAX_DEPTH = 50  # nesting deeper than this is a mistake, and would exhaust the parser's stack
MAX_TOKENS = 400  # a longer show_if is a mistake, and its tree would be too deep to walk
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<ref>\$\{\s*(?P<ref_id>[A-Za-z0-9_-]+)\s*\})
  | (?P<string>'(?P<single>[^']*)'|"(?P<double>[^"]*)")
  | (?P<number>-?\d+(?![A-Za-z0-9_]))
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z0-9_][A-Za-z0-9_-]*)
""", re.VERBOSE)
_UNREADABLE = (  # what people write by habit, and what to write instead
    ("&", "write and, not &&"),
    ("|", "write or, not ||"),
    ("!", "write not, or != for 'is not'"),
    ("$", "write a question as ${its_id}"),
    ("{", "write a question as ${its_id}"),
    ("'", "this quote is never closed"),
    ('"', "this quote is never closed"),
)
_TWO_OPERATORS = {"==": "write = to compare, not ==", "<>": "write != for 'is not'", "=<": "write <=",
                  "=>": "write >=", "=!": "write !="}


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
    """`not ...`: true when its operand is false (so true for a skipped question's comparison)."""

    operand: Expression


@dataclass(frozen=True)
class And:
    """`... and ...`: binds tighter than or."""

    left: Expression
    right: Expression


@dataclass(frozen=True)
class Or:
    """`... or ...`: binds loosest."""

    left: Expression
    right: Expression


Expression = Compare | Selected | Answered | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # ref, string, number, op, punct, word, end
    text: str
    value: str | int
    column: int


def _unreadable(source: str, position: int) -> ExpressionError:
    """Why the text at this column is not a word, symbol, question or option, with a hint where one helps."""
    shown = source[position:position + 10]
    hint = next((h for start, h in _UNREADABLE if source.startswith(start, position)), "")
    return ExpressionError(f"cannot read {shown!r} at column {position + 1}" + (f": {hint}" if hint else ""))


def _word_hint(word: str, before: list[_Token]) -> str:
    """What an unknown word probably meant, from what came before it: an option after =, a question elsewhere."""
    last = before[-1] if before else None
    if last is not None and (last.kind == "op" or last.value == ","):
        return f": put an option in quotes, as in '{word}'"
    if last is None or last.value in ("(", "and", "or", "not"):
        return f": write a question as ${{{word}}}"
    return " (write a question as ${id}, an option in quotes, and join them with and, or, not)"


def _tokens(source: str) -> list[_Token]:
    """The expression's words and symbols, with the column each starts at (from 1) for error messages."""
    found: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise _unreadable(source, position)
        kind = match.lastgroup or ""
        text = match.group(0)
        column = position + 1
        if kind == "ref":
            found.append(_Token("ref", text, match.group("ref_id"), column))
        elif kind == "string":
            value = match.group("single") if match.group("single") is not None else match.group("double")
            found.append(_Token("string", text, value, column))
        elif kind == "number":
            found.append(_Token("number", text, int(text), column))
        elif kind == "word":
            word = text.lower()
            if word not in KEYWORDS:
                raise ExpressionError(f"unknown word '{text}' at column {column}" + _word_hint(text, found))
            found.append(_Token("word", text, word, column))
        elif kind != "space":
            found.append(_Token(kind, text, text, column))
        position = match.end()
    found.append(_Token("end", "", "", len(source) + 1))
    return found


class _Parser:
    """Recursive descent: or binds loosest, then and, then not."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        if len(self.tokens) > MAX_TOKENS:
            raise ExpressionError(f"is too long ({len(self.tokens) - 1} words and symbols; at most {MAX_TOKENS}): "
                                  "split it, or route on an earlier question")
        self.at = 0
        self.depth = 0

    @property
    def next(self) -> _Token:
        return self.tokens[self.at]

    def take(self, kind: str, value: str | None = None, what: str = "") -> _Token:
        """The next token if it is what the grammar needs here; otherwise say what was expected, and where."""
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
            return Not(self.deeper(self.negation))
        return self.atom()

    def deeper(self, part: Callable[[], Expression]) -> Expression:
        """One more level of nesting (not, parentheses), refused past MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"is nested more than {MAX_DEPTH} deep at column {self.next.column}")
        tree = part()
        self.depth -= 1
        return tree

    def atom(self) -> Expression:
        token = self.next
        if token.kind == "punct" and token.value == "(":
            self.at += 1
            inner = self.deeper(self.expression)
            if self.next.kind == "end":
                raise ExpressionError(f"the '(' at column {token.column} is never closed: add ')'")
            self.take("punct", ")", "')' or 'and' / 'or'")
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
        if token.kind == "string" and self.tokens[self.at + 1].kind == "op":
            raise ExpressionError(f"expected a question at column {token.column}, found {token.text}: write the "
                                  "question first, as in ${q2} = 'yes'")
        question = str(self.take("ref", what="a question such as ${q2}, selected(...), answered(...) or '('").value)
        operator = self.take("op", what="=, !=, <, <=, > or >=")
        value = self.next
        if value.kind == "op":
            pair = str(operator.value) + str(value.value)
            hint = _TWO_OPERATORS.get(pair, "use one of =, !=, <, <=, > or >=")
            raise ExpressionError(f"'{pair}' at column {operator.column} is not an operator: {hint}")
        if value.kind not in ("string", "number"):
            self.take("string", what="an option id in quotes, or a whole number")
        self.at += 1
        return Compare(question, str(operator.value), value.value)



def parse(source: str) -> Expression:
    """The tree of one show_if; raises ExpressionError saying where it went wrong."""
    if not source.strip():
        raise ExpressionError("is empty: write a condition such as ${q2} = 'yes'")
    parser = _Parser(source)
    tree = parser.expression()
    if parser.next.kind == "punct" and parser.next.value == ")":
        raise ExpressionError(f"the ')' at column {parser.next.column} has no '(' before it")
    parser.take("end", what="the end, or 'and' / 'or'")
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
