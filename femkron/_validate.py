"""Small argument checks used by the public entry points (private module)."""

from __future__ import annotations

import numbers

import numpy as np

from ._limits import check_allocation
from .errors import FemkronError, FemkronTypeError, FemkronValueError


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
    except (FemkronError, MemoryError):
        raise
    except Exception as err:  # any failure of user code is reported with the callable's name
        raise FemkronValueError(
            f"{name} ({callable_name(func)}) failed when called with {len(coords)} coordinate "
            f"array(s): {type(err).__name__}: {err}"
        ) from err
    out = _real_array(out, f"{name} ({callable_name(func)}) must return real numbers")
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


def _real_array(value, message):
    """``value`` as a float array, or ``FemkronValueError(message)`` for what is not real.

    Complex values (with a non-zero imaginary part), text and objects that are not numbers
    raise ``FemkronValueError(message)``.
    """
    if value is None:
        raise FemkronValueError(f"{message}, got None")
    try:
        arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    except (TypeError, ValueError):  # ragged nested sequences
        raise FemkronValueError(f"{message}, got a ragged {type(value).__name__}") from None
    if arr.dtype.kind in "USVMm":
        raise FemkronValueError(f"{message}, got an array of dtype {arr.dtype}")
    if arr.dtype.kind == "c":
        if np.any(arr.imag != 0):
            raise FemkronValueError(f"{message}, got complex values")
        arr = arr.real
    if arr.dtype.kind not in "fiub":
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise FemkronValueError(f"{message}, got {type(value).__name__}") from None
    return np.asarray(arr, dtype=float)


def as_array(value, name, ndim=None, finite=True):
    """``value`` as a float ndarray; invalid values are refused with an error naming ``name``.

    Refuses text, objects, complex numbers with an imaginary part, the wrong number of
    dimensions and (``finite=True``) NaN or inf, naming ``name``.
    """
    try:
        arr = _real_array(value, f"{name} must hold real numbers")
    except FemkronValueError as err:
        raise FemkronTypeError(str(err)) from None
    if ndim is not None and arr.ndim != ndim:
        raise FemkronValueError(f"{name} must be a {ndim}D array, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise FemkronValueError(f"{name} must be finite, got NaN or inf in {bad} entries")
    return arr


def check_vectors(ndofs, count, what):
    """Refuse ``count`` float vectors of ``ndofs`` entries above the memory limit."""
    check_allocation(
        8 * int(ndofs) * int(count),
        what,
        "use fewer cells or a lower order (every solve needs a few vectors of this size)",
    )


def as_vector(u, name, length):
    """A 1D float array of the given length (the flat dof vector of a space)."""
    arr = as_array(u, name, finite=False)
    if arr.size != length:
        raise FemkronValueError(
            f"{name} must have {length} entries (one per dof), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise FemkronValueError(f"{name} must be finite, got NaN or inf")
    return arr.reshape(length)
