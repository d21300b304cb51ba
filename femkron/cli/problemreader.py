"""Reading a problem file's TOML: where each key is written, and its values checked by type.

:class:`_Reader` reads numbers, integers, strings and expressions out of the parsed tables;
every error it raises is a :class:`ProblemFileError` naming the file, the key and its line
(:class:`_Lines`).  The schema (sections, kinds, keys) is in :mod:`femkron.cli.problemfile`.
"""

from __future__ import annotations

import re

from ..errors import FemkronValueError
from ..fem.expressions import ExpressionError, parse_expression
from ..io.meshfile import _REPR, MAX_NESTING, _nesting

__all__ = ["ProblemFileError"]


class ProblemFileError(FemkronValueError):
    """A problem file is missing, unreadable or malformed; the message names file, key and line."""


# ---- lines of keys ----------------------------------------------------------------------
_KEY = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_HEADER = re.compile(rf"\s*\[\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


def _parts(dotted):
    return tuple(p.strip().strip("\"'") for p in re.findall(rf"{_KEY}", dotted))


class _Lines:
    """Where each table and key of a TOML text is written (line numbers, 1-based)."""

    def __init__(self, name, text):
        self.name = name
        self.entries = []
        header = ()
        for i, line in enumerate(text.splitlines(), start=1):
            match = _HEADER.match(line)
            if match:
                header = _parts(match.group(1))
                self.entries.append((i, header))
                continue
            match = _ASSIGN.match(line)
            if match:
                self.entries.append((i, header + _parts(match.group(1))))

    def line(self, path):
        best, size = None, -1
        for i, keys in self.entries:
            if keys == tuple(path[: len(keys)]) and len(keys) > size:
                best, size = i, len(keys)
        return best

    def __call__(self, *path):
        """``"file: a.b, line n"`` for the key ``path``."""
        line = self.line(path)
        label = ".".join(str(p) for p in path)
        at = f", line {line}" if line else ""
        return f"{self.name}: {label}{at}" if label else f"{self.name}{at}"


# ---- reading ----------------------------------------------------------------------------
class _Reader:
    def __init__(self, name, text, folder):
        self.name, self.folder = name, folder
        self.where = _Lines(name, text)
        self.hint = ""  # appended to unknown-name errors (the coordinates of the domain)

    def fail(self, path, message):
        raise ProblemFileError(f"{self.where(*path)}: {message}")

    def table(self, data, key, required=False):
        if key not in data:
            if required:
                raise ProblemFileError(f"{self.name}: missing section [{key}]")
            return {}
        value = data[key]
        if not isinstance(value, dict):
            self.fail((key,), f"{key} must be a table [{key}], got {_REPR.repr(value)}")
        return value

    def keys(self, table, path, accepted, what):
        for key in table:
            if key not in accepted:
                self.fail(
                    (*path, key),
                    f"unknown key {key!r} {what}; accepted: {', '.join(accepted) or 'none'}",
                )

    def number(self, table, path, key, positive=False, nonnegative=False, default=None):
        if key not in table:
            if default is None:
                self.fail(path, f"missing key {key!r}")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail((*path, key), f"{key} must be a number, got {_REPR.repr(value)}")
        value = float(value)
        if value != value or abs(value) == float("inf"):
            self.fail((*path, key), f"{key} must be finite, got {value}")
        if positive and value <= 0:
            self.fail((*path, key), f"{key} must be > 0, got {value:g}")
        if nonnegative and value < 0:
            self.fail((*path, key), f"{key} must be >= 0, got {value:g}")
        return value

    def integers(self, value, path, key, dim, low, high):
        items = value if isinstance(value, list) else [value]
        ok = items and all(isinstance(v, int) and not isinstance(v, bool) for v in items)
        if not ok or len(items) not in (1, dim):
            self.fail(
                (*path, key),
                f"{key} must be an integer or a list of {dim} (one per axis), got "
                f"{_REPR.repr(value)}",
            )
        for v in items:
            if not low <= v <= high:
                self.fail((*path, key), f"{key} must be {low} to {high}, got {v}")
        return items * dim if len(items) == 1 else items

    def string(self, table, path, key, choices=None, default=None):
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str):
            self.fail((*path, key), f"{key} must be a string, got {_REPR.repr(value)}")
        if choices is not None and value not in choices:
            self.fail(
                (*path, key), f"{key} must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )
        return value

    def expression(self, value, path, variables):
        try:
            return parse_expression(value, variables, where=self.where(*path))
        except ExpressionError as err:
            hint = self.hint if err.reason == "unknown-name" else ""
            raise ProblemFileError(str(err) + hint, reason=err.reason) from None

    def data(self, value, path, variables):
        """A number stays a number; an expression constant in space becomes its value."""
        ex = self.expression(value, path, variables)
        return ex.value if ex.is_constant else ex


def _check_nesting(name, text):
    depth, pos = _nesting(text)
    if depth > MAX_NESTING:
        line = text.count("\n", 0, pos) + 1
        raise ProblemFileError(
            f"{name}: line {line}: arrays or inline tables nested {depth} deep; at most "
            f"{MAX_NESTING} are read"
        )
