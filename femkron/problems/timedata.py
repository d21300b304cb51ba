"""Data that may depend on time: which callables take ``t``, and their values at one time.

A load ``f(x, y, t)`` or boundary datum ``g(x, y, t)`` takes the time as its last argument; a
callable of the coordinates alone, a number or a field is constant in time.  The decision is
made once, from the signature (:func:`takes_time`), never by trying a call.

Examples
--------
>>> import numpy as np
>>> takes_time(lambda x, y, t: x * t, dim=2), takes_time(lambda x, y: x, dim=2)
(True, False)
>>> g = at_time(lambda x, t: x + t, 2.0, dim=1)
>>> float(g(np.array(1.0)))
3.0
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from .._validate import callable_name, is_number
from ..errors import FemkronTypeError
from ..fem.bc import Condition, Dirichlet, Neumann, Periodic, Robin

__all__ = ["takes_time", "at_time", "conditions_at", "conditions_take_time", "positional_count"]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def positional_count(func):
    """``(required, accepted, names, varargs)`` of the positional parameters of ``func``.

    ``accepted`` counts every positional parameter (with defaults); ``varargs`` is True for a
    ``*args``.  ``None`` when the signature cannot be read (a builtin without one): a numpy
    ufunc reports its ``nin``.

    Examples
    --------
    >>> positional_count(lambda u, v, x=0: u)
    (2, 3, ('u', 'v', 'x'), False)
    >>> positional_count(np.sin)
    (1, 1, (), False)
    """
    if isinstance(func, np.ufunc):
        return func.nin, func.nin, (), False
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.kind in _POSITIONAL]
    required = sum(1 for p in params if p.default is inspect.Parameter.empty)
    varargs = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in sig.parameters.values())
    return required, len(params), tuple(p.name for p in params), varargs


def takes_time(func, dim, name="data"):
    """True when the callable ``func`` takes the time after its ``dim`` coordinates.

    The rules, in order:

    * a number, ``None``, a tuple of per-axis factors or an array: constant (False);
    * an object with a ``variables`` tuple (an expression of a problem file): True when
      its last variable is ``"t"``;
    * otherwise the signature: True when ``func`` requires exactly ``dim + 1`` positional
      arguments, or accepts ``dim + 1`` and names the last ``t`` (``f(x, y, t=0.0)``);
      False when it takes ``*args`` (a field, a wrapper) or ``dim`` arguments.  A
      signature that cannot be read (a builtin) is read as constant in time.

    Raises
    ------
    FemkronTypeError
        A callable that requires more than ``dim + 1`` positional arguments.

    Examples
    --------
    >>> takes_time(lambda x, y, t=0.0: x, dim=2), takes_time(lambda x, y, c=1.0: x, dim=2)
    (True, False)
    >>> takes_time(1.5, dim=2)
    False
    """
    if func is None or is_number(func) or not callable(func):
        return False
    variables = getattr(func, "variables", None)
    if isinstance(variables, tuple) and all(isinstance(v, str) for v in variables):
        return bool(variables) and variables[-1] == "t"
    counted = positional_count(func)
    if counted is None:
        return False
    required, accepted, names, _ = counted
    if required > dim + 1:
        raise FemkronTypeError(
            f"{name} ({callable_name(func)}) requires {required} arguments; it must take the "
            f"{dim} coordinate(s), and the time t last if it depends on time"
        )
    if required == dim + 1:
        return True
    if accepted >= dim + 1 and names[dim] == "t":
        return True
    return False


def at_time(func, t, dim, name="data"):
    """``func`` with the time fixed at ``t``: a callable of the coordinates, or ``func`` itself.

    Examples
    --------
    >>> at_time(2.0, 1.0, dim=1)
    2.0
    """
    if not takes_time(func, dim, name):
        return func
    t = float(t)

    @functools.wraps(func)
    def frozen(*coords):
        return func(*coords, t)

    frozen.__name__ = f"{callable_name(func)} at t={t:g}"
    return frozen


def _condition_at(cond, t, dim):
    if isinstance(cond, Dirichlet):
        return Dirichlet(at_time(cond.value, t, dim, "Dirichlet value"))
    if isinstance(cond, Neumann):
        return Neumann(at_time(cond.flux, t, dim, "Neumann flux"))
    if isinstance(cond, Robin):
        return Robin(cond.alpha, at_time(cond.g, t, dim, "Robin g"))
    return cond


def _conditions(bc):
    if bc is None:
        return []
    if isinstance(bc, Condition):
        return [bc]
    if isinstance(bc, dict):
        return [c for c in bc.values() if isinstance(c, Condition)]
    return []


def _data_of(cond):
    if isinstance(cond, Dirichlet):
        return cond.value, "Dirichlet value"
    if isinstance(cond, Neumann):
        return cond.flux, "Neumann flux"
    if isinstance(cond, Robin):
        return cond.g, "Robin g"
    return None, ""


def conditions_take_time(bc, dim):
    """True when some condition of ``bc`` has data that take the time.

    Examples
    --------
    >>> import femkron as fk
    >>> conditions_take_time({"left": fk.Dirichlet(lambda x, t: t)}, dim=1)
    True
    """
    return any(takes_time(*_data_of(c)[:1], dim, _data_of(c)[1]) for c in _conditions(bc))


def conditions_at(bc, t, dim):
    """The boundary conditions ``bc`` with every datum's time fixed at ``t``.

    ``bc`` as :class:`~femkron.BoundaryConditions` takes it (a dict, one condition or
    ``None``); anything else is returned unchanged for that class to judge.

    Examples
    --------
    >>> import femkron as fk
    >>> bc = conditions_at({"left": fk.Dirichlet(lambda x, t: 1 + t)}, 2.0, dim=1)
    >>> float(bc["left"].value(0.0))
    3.0
    """
    if isinstance(bc, Periodic) or bc is None:
        return bc
    if isinstance(bc, Condition):
        return _condition_at(bc, t, dim)
    if isinstance(bc, dict):
        return {
            key: _condition_at(c, t, dim) if isinstance(c, Condition) else c
            for key, c in bc.items()
        }
    return bc
