"""The whitelist check of safe expressions (:mod:`femkron.fem.expressions`).

The text is parsed by :func:`ast.parse` and every node of the tree is checked: names (the
allowed variables, ``pi``, ``e``), numbers, ``+ - * / **``, unary minus, calls of
:data:`FUNCTIONS` and one comparison as the condition of ``where``.  Constant parts are
evaluated in floating point as they are checked, so exponent towers (``10**10**10``) and huge
constants are refused before sympy would evaluate them exactly.  Nothing here imports sympy.

Examples
--------
>>> tree = parse_tree("sin(pi*x)", "f")
>>> Checker("sin(pi*x)", ("x", "y"), "f").check(tree.body) is None   # not constant
True
>>> Checker("2**3", ("x",), "f").check(parse_tree("2**3", "f").body)
8.0
"""

from __future__ import annotations

import ast
import math

from ..errors import FemkronValueError

__all__ = [
    "CONSTANTS",
    "COORDINATE_NAMES",
    "Checker",
    "ExpressionError",
    "FUNCTIONS",
    "MAX_CONSTANT",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "parse_tree",
]

FUNCTIONS = {
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "tanh": (1, 1),
    "sinh": (1, 1),
    "cosh": (1, 1),
    "arctan": (1, 1),
    "atan2": (2, 2),
    "min": (2, 8),
    "max": (2, 8),
    "where": (3, 3),
    "heaviside": (1, 1),
}
#: The named constants.
CONSTANTS = {"pi": math.pi, "e": math.e}
#: Every variable name an expression can use somewhere (the caller allows a subset).
COORDINATE_NAMES = ("x", "y", "z", "r", "theta", "phi", "t", "u")
#: Longest expression text accepted (characters).
MAX_LENGTH = 1000
#: Deepest syntax tree accepted.
MAX_DEPTH = 100
#: Largest constant exponent accepted (``x**100`` is, ``x**101`` and ``10**10**10`` are not).
MAX_EXPONENT = 100
#: Largest magnitude of a constant part of an expression.
MAX_CONSTANT = 1e300

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_BINOPS = {
    ast.BitXor: "'^' (write powers as x**2)",
    ast.FloorDiv: "'//'",
    ast.Mod: "'%'",
    ast.MatMult: "'@'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_REFUSED_NODES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.Starred: "starred arguments",
    ast.IfExp: "'if ... else' (use where(condition, a, b))",
    ast.BoolOp: "'and'/'or'",
    ast.Compare: "a comparison outside where(condition, a, b)",
    ast.NamedExpr: "':='",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
}
_FLOAT_FUNCTIONS = {  # constant parts, evaluated in floating point by the guard
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "arctan": math.atan,
    "atan2": math.atan2,
    "min": min,
    "max": max,
    "heaviside": lambda v: 0.0 if v < 0 else 0.5 if v == 0 else 1.0,
}


class ExpressionError(FemkronValueError):
    """An expression is refused (unsafe, malformed, too large) or evaluates to a non-finite value.

    Attributes
    ----------
    token : str or None
        The offending part of the text (``"__class__"``, ``"10**10**10"``) when there is one.
    reason : str
        ``"syntax"``, ``"not-allowed"``, ``"unknown-name"``, ``"too-large"`` or
        ``"not-finite"``.
    """

    def __init__(self, message, reason="not-allowed", token=None):
        super().__init__(message, reason=reason)
        self.token = token


def _show(token, limit=40):
    token = " ".join(str(token).split())
    return repr(token if len(token) <= limit else token[: limit - 3] + "...")


class Checker:
    """The whitelist check of a syntax tree; evaluates the constant parts in floats."""

    def __init__(self, text, variables, where):
        self.text, self.variables, self.where = text, tuple(variables), where
        self.used = set()

    def refuse(self, message, token=None, reason="not-allowed"):
        """Raise the :class:`ExpressionError` of ``message`` quoting ``token``."""
        shown = f": {_show(token)}" if token is not None else ""
        raise ExpressionError(f"{self.where}: {message}{shown}", reason=reason, token=token)

    def segment(self, node):
        """The text of ``node``."""
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def check(self, node, condition=False):
        """Check ``node``; returns its float value when it is constant, else None."""
        kind = type(node)
        if kind is ast.Constant:
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                what = "strings" if isinstance(value, (str, bytes)) else "complex numbers"
                self.refuse(f"{what} are not allowed in an expression", self.segment(node))
            return self.bounded(float(value) if abs(value) < 1e308 else math.inf, node)
        if kind is ast.Name:
            return self.name(node)
        if kind is ast.UnaryOp:
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                self.refuse("only unary minus is allowed in an expression", self.segment(node))
            value = self.check(node.operand)
            return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
        if kind is ast.BinOp:
            return self.binop(node)
        if kind is ast.Call:
            return self.call(node)
        if kind is ast.Compare and condition:
            return self.compare(node)
        if kind in _REFUSED_NODES:
            token = f".{node.attr}" if kind is ast.Attribute else self.segment(node)
            self.refuse(f"not allowed in an expression ({_REFUSED_NODES[kind]})", token)
        self.refuse("not allowed in an expression", self.segment(node))

    def name(self, node):
        """Check a name; returns the value of a constant."""
        name = node.id
        if name.startswith("_"):
            self.refuse("names starting with an underscore are not allowed", name)
        if name in self.variables:
            self.used.add(name)
            return None
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            self.refuse(f"the function {name}() must be called, e.g. {name}(x)", name)
        accepted = ", ".join(list(self.variables) + list(CONSTANTS))
        if name in COORDINATE_NAMES:
            self.refuse(
                f"{name!r} is not a coordinate or variable of this expression (it may use "
                f"{accepted})",
                name,
                reason="unknown-name",
            )
        self.refuse(f"unknown name (accepted: {accepted} and the functions)", name, "unknown-name")

    def binop(self, node):
        """Check ``a op b``; bounds constant exponents and constant values."""
        op = type(node.op)
        if op not in _BINOPS:
            self.refuse(
                f"the operator {_REFUSED_BINOPS.get(op, op.__name__)} is not allowed",
                self.segment(node),
            )
        a = self.check(node.left)
        b = self.check(node.right)
        if op is ast.Pow and b is not None and abs(b) > MAX_EXPONENT:
            self.refuse(
                f"the exponent {b:g} is above {MAX_EXPONENT} (powers that large are refused)",
                self.segment(node),
                reason="too-large",
            )
        if a is None or b is None:
            return None
        try:
            if op is ast.Add:
                value = a + b
            elif op is ast.Sub:
                value = a - b
            elif op is ast.Mult:
                value = a * b
            elif op is ast.Div:
                value = a / b
            else:
                value = a**b
        except ZeroDivisionError:
            self.refuse("division by zero", self.segment(node), reason="not-finite")
        except OverflowError:
            value = math.inf
        if isinstance(value, complex):
            self.refuse("a constant part is not a real number", self.segment(node), "not-finite")
        return self.bounded(value, node)

    def bounded(self, value, node):
        """Refuse a constant ``value`` that is not finite or too large."""
        if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
            self.refuse(
                f"a constant part is not finite or beyond ±{MAX_CONSTANT:g}",
                self.segment(node),
                reason="too-large",
            )
        return value

    def call(self, node):
        """Check a call of a whitelisted function with its arity."""
        func = node.func
        if type(func) is ast.Attribute:
            self.refuse("not allowed in an expression (attribute access)", f".{func.attr}")
        if type(func) is not ast.Name:
            self.refuse("only the whitelisted functions may be called", self.segment(func))
        name = func.id
        if name.startswith("_"):
            self.refuse("names starting with an underscore are not allowed", name)
        if name not in FUNCTIONS:
            self.refuse(
                f"calls of {name}() are not allowed (functions: {', '.join(FUNCTIONS)})", name
            )
        if node.keywords:
            self.refuse("keyword arguments are not allowed", self.segment(node))
        least, most = FUNCTIONS[name]
        if not least <= len(node.args) <= most:
            count = f"{least}" if least == most else f"{least} to {most}"
            self.refuse(
                f"{name}() takes {count} argument(s), got {len(node.args)}", self.segment(node)
            )
        values = [
            self.check(arg, condition=(name == "where" and i == 0))
            for i, arg in enumerate(node.args)
        ]
        if name == "where":
            if type(node.args[0]) is not ast.Compare:
                self.refuse(
                    "the condition of where() must be one comparison, e.g. where(x < 0.5, 1, 2)",
                    self.segment(node.args[0]),
                )
            cond = values[0]
            return None if cond is None else (values[1] if cond else values[2])
        if any(v is None for v in values):
            return None
        try:
            value = float(_FLOAT_FUNCTIONS[name](*values))
        except (ValueError, OverflowError, ZeroDivisionError):
            value = math.nan
        return self.bounded(value, node)

    def compare(self, node):
        """Check the one comparison of a ``where`` condition."""
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE:
            self.refuse("a condition is one comparison with <, <=, > or >=", self.segment(node))
        a = self.check(node.left)
        b = self.check(node.comparators[0])
        if a is None or b is None:
            return None
        op = type(node.ops[0])
        return {ast.Lt: a < b, ast.LtE: a <= b, ast.Gt: a > b, ast.GtE: a >= b}[op]


def _depth(tree):
    """Depth of a syntax tree, without recursion."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def parse_tree(text, where):
    """The syntax tree of ``text`` (mode ``eval``); refuses long, empty, malformed, deep text."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"{where}: the expression has {len(text)} characters, more than the "
            f"{MAX_LENGTH} accepted",
            reason="too-large",
        )
    if not text.strip():
        raise ExpressionError(f"{where}: the expression is empty", reason="syntax")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        line = (err.text or text).strip()
        offset = max((err.offset or 1) - 1, 0)
        token = line[offset:].split()[0] if line[offset:].split() else line
        raise ExpressionError(
            f"{where}: not a valid expression ({err.msg}) at {_show(token)}",
            reason="syntax",
            token=token,
        ) from None
    except (ValueError, RecursionError, MemoryError):  # null bytes, pathological nesting
        raise ExpressionError(f"{where}: not a valid expression", reason="syntax") from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError(
            f"{where}: the expression is nested more than {MAX_DEPTH} deep", reason="too-large"
        )
    return tree
