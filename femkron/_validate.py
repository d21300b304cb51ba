"""Small argument checks used by the public entry points (private module)."""

from __future__ import annotations

import numbers

import numpy as np

from .errors import FemkronTypeError, FemkronValueError


def as_int(value, name, minimum=None, maximum=None):
    """``value`` as a Python int, checked against ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise FemkronTypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise FemkronValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise FemkronValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_real(value, name, positive=False, nonnegative=False):
    """``value`` as a finite Python float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FemkronTypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise FemkronValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise FemkronValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise FemkronValueError(f"{name} must be >= 0, got {value}")
    return value


def is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise FemkronValueError(f"{name} must be one of {accepted}, got {value!r}")
    return value


def callable_name(func):
    return getattr(func, "__name__", None) or type(func).__name__


def evaluate(func, name, coords, shape=None):
    """Evaluate a user function (or number) at broadcastable coordinate arrays.

    ``coords`` are arrays that broadcast to ``shape`` (computed when not given).  A number is
    accepted wherever a callable is.  The result is checked to broadcast to ``shape``, to be
    real and finite; the error names ``name`` and the callable.
    """
    if shape is None:
        shape = np.broadcast_shapes(*(np.shape(c) for c in coords))
    if is_number(func) or (isinstance(func, np.ndarray) and func.ndim == 0):
        value = float(func)
        if not np.isfinite(value):
            raise FemkronValueError(f"{name} must be finite, got {value}")
        return np.full(shape, value)
    if not callable(func):
        raise FemkronTypeError(f"{name} must be a number or a callable, got {func!r}")
    try:
        out = func(*coords)
    except (ValueError, TypeError, IndexError) as err:
        raise FemkronValueError(
            f"{name} ({callable_name(func)}) failed when called with {len(coords)} coordinate "
            f"array(s): {err}"
        ) from err
    try:
        out = np.asarray(out, dtype=float)
    except (TypeError, ValueError) as err:
        raise FemkronValueError(
            f"{name} ({callable_name(func)}) must return real numbers, got {type(out).__name__}"
        ) from err
    try:
        out = np.broadcast_to(out, shape)
    except ValueError:
        raise FemkronValueError(
            f"{name} ({callable_name(func)}) returned an array of shape {np.shape(out)}, which "
            f"does not broadcast to the shape {tuple(shape)} of its inputs"
        ) from None
    if not np.all(np.isfinite(out)):
        raise FemkronValueError(
            f"{name} ({callable_name(func)}) returned NaN or inf at "
            f"{int(np.size(out) - np.count_nonzero(np.isfinite(out)))} point(s)"
        )
    return out


def as_vector(u, name, length):
    """A 1D float array of the given length (the flat dof vector of a space)."""
    try:
        arr = np.asarray(u, dtype=float)
    except (TypeError, ValueError):
        raise FemkronTypeError(
            f"{name} must be an array of numbers, got {type(u).__name__}"
        ) from None
    if arr.size != length:
        raise FemkronValueError(
            f"{name} must have {length} entries (one per dof), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise FemkronValueError(f"{name} contains NaN or inf")
    return arr.reshape(length)
