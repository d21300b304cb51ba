"""Pointwise nonlinearities ``κ(u)``, ``g(u)``, ``s(u, λ)`` and their derivatives.

A user's function of the solution's values at the Gauss points, checked (shape, finite
values) and differentiated: by the user's derivative, by the complex step
``f'(u) = Im f(u + ih)/h`` (exact to rounding for analytic functions that accept complex
arrays), checked once against a central difference, or by central differences.
Shared by :func:`~femkron.nonlinear_poisson`, :func:`~femkron.continuation` and their forms
on unions of boxes.

Examples
--------
>>> import numpy as np
>>> g = _PointFunction(lambda u: u**3, "reaction")
>>> float(g.derivative(np.array([2.0]))[0])
12.0
"""

from __future__ import annotations

import numpy as np

from .._validate import as_real, callable_name, is_number
from ..errors import FemkronError, FemkronTypeError, FemkronValueError

#: Step of the complex-step derivative (any tiny number: no cancellation).
COMPLEX_STEP = 1e-30

#: Agreement asked of the complex step and a central difference on the first call, relative
#: to the largest |f'| + |f|/max(1, |u|), besides twice the difference's own error (estimated
#: from steps h and 2h): for smooth functions that error is about ε^{2/3} ≈ 4e-11 relative.
DERIVATIVE_CHECK = 1e-5


def _invalid(message):
    return FemkronValueError(message, reason="invalid-state")


class _PointFunction:
    """A user function ``f(u, *args)`` of the solution's values, with its derivatives.

    Derivatives come from ``derivatives[i]`` (a callable of the same arguments), else by the
    complex step in argument ``i`` (checked once against a central difference), else by the
    central difference.  ``self.kind[i]`` says which.
    """

    def __init__(self, func, name, derivatives=None):
        if not callable(func):
            raise FemkronTypeError(f"{name} must be a callable, got {func!r}")
        self.func, self.name = func, name
        self.derivatives = dict(derivatives or {})
        for d in self.derivatives.values():
            if d is not None and not callable(d):
                raise FemkronTypeError(f"the derivative of {name} must be a callable, got {d!r}")
        self.kind = {i: "given" for i, d in self.derivatives.items() if d is not None}

    def _checked(self, out, shape, what):
        try:
            arr = np.asarray(out)
        except (TypeError, ValueError):
            raise FemkronValueError(f"{what} must return real numbers") from None
        if arr.dtype.kind == "c":
            if np.any(arr.imag != 0):
                raise FemkronValueError(f"{what} returned complex values for real input")
            arr = arr.real
        if arr.dtype.kind not in "fiub":
            raise FemkronValueError(f"{what} must return real numbers, got dtype {arr.dtype}")
        try:
            arr = np.broadcast_to(np.asarray(arr, dtype=float), shape)
        except ValueError:
            raise FemkronValueError(
                f"{what} returned an array of shape {arr.shape}; it must act elementwise on "
                f"the values of u (shape {shape})"
            ) from None
        if not np.all(np.isfinite(arr)):
            raise _invalid(
                f"{what} returned NaN or inf at {int(arr.size - np.isfinite(arr).sum())} "
                "quadrature point(s)"
            )
        return arr

    def _call(self, func, args, what):
        try:
            with np.errstate(all="ignore"):
                return func(*args)
        except (FemkronError, MemoryError):
            raise
        except Exception as err:  # user code: report it with the function's name
            raise FemkronValueError(
                f"{what} failed: {type(err).__name__}: {err}", reason="user-function"
            ) from err

    def __call__(self, u, *args):
        what = f"{self.name} ({callable_name(self.func)})"
        return self._checked(self._call(self.func, (u, *args), what), np.shape(u), what)

    def derivative(self, u, *args, i=0):
        """``∂f/∂(argument i)`` at ``(u, *args)``, shape of ``u``."""
        full = (u, *args)
        shape = np.shape(u)
        given = self.derivatives.get(i)
        if given is not None:
            what = f"the derivative of {self.name} ({callable_name(given)})"
            return self._checked(self._call(given, full, what), shape, what)
        kind = self.kind.get(i)
        if kind in (None, "complex-step"):
            d = self._complex_step(full, i, shape)
            if d is not None and kind is None:
                # the central difference's own error is estimated by the change from step 2h
                fd = self._difference(full, i, shape)
                fd2 = self._difference(full, i, shape, 2.0)
                size = np.abs(fd) + np.abs(self(*full)) / np.maximum(1.0, np.abs(full[i]))
                bound = DERIVATIVE_CHECK * np.max(size) + 2.0 * np.abs(fd - fd2)
                if np.all(np.abs(d - fd) <= bound):
                    # conclusive only on values that vary (u ≡ 0 at a first guess is not)
                    if np.ptp(np.asarray(full[i], dtype=float)) > 0:
                        self.kind[i] = "complex-step"
                else:
                    self.kind[i] = "finite-difference"
                    return fd
            if d is not None:
                return d
            self.kind[i] = "finite-difference"
        return self._difference(full, i, shape)

    def _complex_step(self, full, i, shape):
        z = list(full)
        z[i] = np.asarray(full[i], dtype=complex) + 1j * COMPLEX_STEP
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(self.func(*z))
        except Exception:  # the function does not take complex input
            return None
        if out.dtype.kind != "c":
            return None
        d = out.imag / COMPLEX_STEP
        if not np.all(np.isfinite(d)):
            return None
        try:
            return np.broadcast_to(d, shape).astype(float)
        except ValueError:
            return None

    def _difference(self, full, i, shape, factor=1.0):
        a = np.asarray(full[i], dtype=float)
        h = factor * np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(a))
        h = (a + h) - a  # exactly representable steps
        hi, lo = list(full), list(full)
        hi[i], lo[i] = a + h, a - h
        return (self(*hi) - self(*lo)) / (2.0 * h) * np.ones(shape)

    def describe(self, i=0):
        return self.kind.get(i) or "complex-step"


def _point_function(value, name, derivative, dname):
    if value is None:
        if derivative is not None:
            raise FemkronValueError(f"{dname} is given but {name} is None")
        return None
    if is_number(value):
        if derivative is not None:
            raise FemkronValueError(f"{dname} is given but {name} is a number")
        return as_real(value, name)
    if not callable(value):
        raise FemkronTypeError(
            f"{name} must be a number or a callable of u ({name}(u), elementwise), got {value!r}"
        )
    return _PointFunction(value, name, {0: derivative})
