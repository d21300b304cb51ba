"""Safe expressions: formulas written as text (``"1 + x*y"``), checked, then compiled to numpy.

Problem files and the command line take coefficients, loads and boundary data as strings.
Nothing ever executes that text: it is parsed by :func:`ast.parse` into a syntax tree, every
node of the tree is checked against a whitelist, and only then is a sympy expression built
from the tree (node by node, no ``eval``, no ``sympy.sympify`` of the text) and compiled
with :func:`sympy.lambdify` to a numpy function.

Accepted:

* names: the coordinates the caller allows (``x, y, z`` on a box; ``r, theta, phi`` in
  curvilinear coordinates, ``t`` in time-dependent data, ``u`` in nonlinear coefficients)
  and the constants ``pi`` and ``e``;
* numbers, ``+ - * / **`` and unary minus;
* calls of :data:`FUNCTIONS`: ``sin cos tan exp log sqrt abs tanh sinh cosh arctan atan2
  min max where heaviside``; ``where(condition, a, b)`` takes one comparison
  (``< <= > >=``) as its condition, the only place a comparison is accepted.

Everything else — attribute access, subscripts, lambdas, imports, names starting with an
underscore, calls of any other function, keyword arguments, strings — is refused with the
offending token.  Constant parts are evaluated in floating point before sympy sees them, so
``10**10**10`` is refused (an exponent above :data:`MAX_EXPONENT`, a constant beyond
:data:`MAX_CONSTANT`) instead of exhausting memory; texts longer than :data:`MAX_LENGTH`
characters or nested deeper than :data:`MAX_DEPTH` are refused.  Values that are not finite
when evaluated are reported with the coordinates of the first bad point.

sympy is imported inside the functions only: ``import femkron`` does not import it.

Examples
--------
>>> import numpy as np
>>> kappa = parse_expression("1 + x*y", ("x", "y"))
>>> kappa(np.array([0.5, 1.0]), 2.0)
array([2., 3.])
>>> try:
...     parse_expression("().__class__", ("x",), where="kappa")
... except ExpressionError as err:
...     print(err)
kappa: not allowed in an expression (attribute access): '.__class__'
>>> try:
...     parse_expression("1/x", ("x",), where="f")(np.array([1.0, 0.0]))
... except ExpressionError as err:
...     print(err)
f: '1/x' is not finite (inf) at x=0
"""

from __future__ import annotations

import ast
import functools
import math

import numpy as np

from ..errors import FemkronTypeError, FemkronValueError
from .expression_check import (
    CONSTANTS,
    COORDINATE_NAMES,
    FUNCTIONS,
    MAX_CONSTANT,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    Checker,
    ExpressionError,
    _show,
    parse_tree,
)

__all__ = [
    "CONSTANTS",
    "COORDINATE_NAMES",
    "Expression",
    "ExpressionError",
    "FUNCTIONS",
    "MAX_CONSTANT",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "parse_expression",
]


def _amin(values, axis=0):
    """``min`` of broadcasting arrays (what older sympy prints as ``amin((…), axis=0)``)."""
    return functools.reduce(np.minimum, values)


def _amax(values, axis=0):
    """``max`` of broadcasting arrays (older sympy's ``amax((…), axis=0)``)."""
    return functools.reduce(np.maximum, values)


_ELEMENTWISE = {"amin": _amin, "amax": _amax}


#: The functions an expression may call: name → (least, most) number of arguments.
def _sympy_of(node, symbols):
    """The sympy expression of a checked syntax tree, built node by node."""
    import sympy

    kind = type(node)
    if kind is ast.Constant:
        v = node.value
        return sympy.Integer(v) if isinstance(v, int) else sympy.Float(v)
    if kind is ast.Name:
        if node.id in symbols:
            return symbols[node.id]
        return sympy.pi if node.id == "pi" else sympy.E
    if kind is ast.UnaryOp:
        a = _sympy_of(node.operand, symbols)
        return -a if isinstance(node.op, ast.USub) else a
    if kind is ast.BinOp:
        a, b = _sympy_of(node.left, symbols), _sympy_of(node.right, symbols)
        op = type(node.op)
        if op is ast.Add:
            return a + b
        if op is ast.Sub:
            return a - b
        if op is ast.Mult:
            return a * b
        if op is ast.Div:
            return a / b
        return a**b
    if kind is ast.Compare:
        a, b = _sympy_of(node.left, symbols), _sympy_of(node.comparators[0], symbols)
        rel = {ast.Lt: sympy.Lt, ast.LtE: sympy.Le, ast.Gt: sympy.Gt, ast.GtE: sympy.Ge}
        return rel[type(node.ops[0])](a, b)
    name = node.func.id  # a checked call
    args = [_sympy_of(arg, symbols) for arg in node.args]
    if name == "where":
        return sympy.Piecewise((args[1], args[0]), (args[2], True))
    table = {
        "abs": sympy.Abs,
        "arctan": sympy.atan,
        "min": sympy.Min,
        "max": sympy.Max,
        "heaviside": lambda a: sympy.Heaviside(a, sympy.Rational(1, 2)),
    }
    return table.get(name, getattr(sympy, name, None))(*args)


def _symbols(variables):
    import sympy

    return {name: sympy.Symbol(name, real=True) for name in variables}


class Expression:
    """A checked expression of named variables, callable on numpy arrays.

    Build one with :func:`parse_expression`.  Calling it with one array per variable (in the
    order of :attr:`variables`, broadcasting) returns a float array of the broadcast shape;
    a value that is not finite or not real raises :class:`ExpressionError` naming the first
    bad point.

    Attributes
    ----------
    text : str
        The expression as written (or as sympy prints a derived one).
    variables : tuple of str
        The arguments of the callable, in order.
    used : frozenset of str
        The variables the expression actually depends on.
    where : str
        Where the expression came from, for messages (``"file.toml: equation.f, line 7"``).
    sympy : sympy.Expr
        The symbolic expression.
    __name__ : str
        The text, so that messages about the callable quote it.

    Examples
    --------
    >>> f = parse_expression("where(x < 0.5, 1, 2) * exp(-y)", ("x", "y"))
    >>> f.used == {"x", "y"}, f.is_constant
    (True, False)
    >>> f(0.25, 0.0), f(0.75, 0.0)
    (array(1.), array(2.))
    >>> parse_expression("2*pi", ("x",)).value == 2 * 3.141592653589793
    True
    """

    def __init__(self, expr, variables, text, where="expression"):
        self.sympy = expr
        self.variables = tuple(variables)
        self.text = text
        self.where = where
        self.used = frozenset(str(s) for s in expr.free_symbols)
        self.__name__ = text
        self._function = None

    def __repr__(self):
        return f"Expression({self.text!r}, variables={self.variables})"

    @property
    def is_constant(self):
        """True when the expression depends on none of its variables."""
        return not self.used

    @property
    def value(self):
        """The value of a constant expression as a float (``ExpressionError`` if not constant)."""
        if not self.is_constant:
            raise ExpressionError(
                f"{self.where}: {self.text!r} depends on {', '.join(sorted(self.used))}; a "
                "number is needed here",
                reason="not-allowed",
            )
        value = complex(self.sympy.evalf())
        if value.imag != 0 or not math.isfinite(value.real):
            raise ExpressionError(
                f"{self.where}: {self.text!r} is not a finite real number", reason="not-finite"
            )
        return value.real

    def derived(self, expr, text=None, where=None):
        """A new :class:`Expression` of the same variables from the sympy expression ``expr``."""
        return Expression(
            expr,
            self.variables,
            str(expr) if text is None else text,
            self.where if where is None else where,
        )

    def diff(self, name):
        """The partial derivative with respect to the variable ``name``.

        Examples
        --------
        >>> parse_expression("x**2*y", ("x", "y")).diff("x").text
        '2*x*y'
        """
        import sympy

        if name not in self.variables:
            raise FemkronValueError(f"{name!r} is not a variable of {self!r}")
        return self.derived(sympy.diff(self.sympy, _symbols([name])[name]))

    def at(self, name, value):
        """The expression with the variable ``name`` set to ``value`` (and dropped).

        Examples
        --------
        >>> g = parse_expression("exp(-t)*x", ("x", "t")).at("t", 0.0)
        >>> g.variables, float(g(2.0))
        (('x',), 2.0)
        """
        if name not in self.variables:
            raise FemkronValueError(f"{name!r} is not a variable of {self!r}")
        expr = self.sympy.subs(_symbols([name])[name], float(value))
        rest = tuple(v for v in self.variables if v != name)
        return Expression(expr, rest, f"{self.text} at {name} = {value:g}", self.where)

    def _compiled(self):
        if self._function is None:
            import sympy

            symbols = _symbols(self.variables)
            args = [symbols[name] for name in self.variables]
            # sympy < 1.12 prints Min/Max as amin/amax of a tuple, which fails when the
            # arguments have different shapes: elementwise reductions for every version
            self._function = sympy.lambdify(args, self.sympy, modules=[_ELEMENTWISE, "numpy"])
        return self._function

    def __call__(self, *coords):
        """The values at the coordinate arrays ``coords`` (one per variable, broadcasting)."""
        if len(coords) != len(self.variables):
            raise FemkronTypeError(
                f"{self.where}: {self.text!r} takes {len(self.variables)} argument(s) "
                f"({', '.join(self.variables)}), got {len(coords)}"
            )
        arrays = [np.asarray(c, dtype=float) for c in coords]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        with np.errstate(all="ignore"):
            out = np.asarray(self._compiled()(*arrays))
        if np.iscomplexobj(out):
            complex_at = np.broadcast_to(out.imag != 0, shape)
            if complex_at.any():
                self._refuse_at(arrays, shape, complex_at, "is not real")
            out = out.real
        out = np.broadcast_to(out.astype(float, copy=False), shape)
        bad = ~np.isfinite(out)
        if bad.any():
            i = np.unravel_index(int(np.argmax(bad)), shape)
            self._refuse_at(arrays, shape, bad, f"is not finite ({out[i]})")
        return out if out.flags.writeable else out.copy()

    def _refuse_at(self, arrays, shape, bad, what):
        i = np.unravel_index(int(np.argmax(bad)), shape)
        at = ", ".join(
            f"{name}={float(np.broadcast_to(a, shape)[i]):.6g}"
            for name, a in zip(self.variables, arrays)
        )
        raise ExpressionError(
            f"{self.where}: {self.text!r} {what} at {at}", reason="not-finite", token=at
        )


def parse_expression(text, variables, where="expression"):
    """Check ``text`` against the whitelist and compile it to an :class:`Expression`.

    Parameters
    ----------
    text : str or number
        The formula, e.g. ``"1 + 0.5*sin(2*pi*x)*y"``; a number is a constant expression.
    variables : sequence of str
        The variable names the expression may use, in the order the callable takes them
        (e.g. ``("x", "y")`` for a 2D box, ``("x", "y", "t")`` for time-dependent data).
    where : str
        Prefix of every error message: what the expression is and where it was written.

    Returns
    -------
    Expression

    Raises
    ------
    ExpressionError
        (a ``ValueError``) for anything outside the whitelist, naming the offending token.

    Examples
    --------
    >>> for text in ("__import__('os')", "10**10**10", "z + 1"):
    ...     try:
    ...         parse_expression(text, ("x", "y"), where="f")
    ...     except ExpressionError as err:
    ...         print(err.reason, err.token)
    not-allowed __import__
    too-large 10**10**10
    unknown-name z
    """
    variables = tuple(variables)
    for name in variables:
        if name not in COORDINATE_NAMES:
            raise FemkronValueError(
                f"variables must be among {', '.join(COORDINATE_NAMES)}, got {name!r}"
            )
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ExpressionError(
            f"{where}: must be a number or an expression in quotes, got "
            f"{type(text).__name__} {_show(text)}",
            reason="not-allowed",
        )
    if not isinstance(text, str):
        if not math.isfinite(float(text)):
            raise ExpressionError(f"{where}: must be finite, got {text}", reason="not-finite")
        text = repr(float(text)) if isinstance(text, float) else str(text)
    tree = parse_tree(text, where)
    Checker(text.strip(), variables, where).check(tree.body)
    expr = _sympy_of(tree.body, _symbols(variables))
    return Expression(expr, variables, " ".join(text.split()), where)
