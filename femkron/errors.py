"""The exception classes of femkron.

All femkron errors derive from :class:`FemkronError`.  Bad arguments raise
:class:`FemkronValueError` or :class:`FemkronTypeError`, which are also ``ValueError`` and
``TypeError``; a refused allocation raises :class:`ResourceError` (also a ``MemoryError``);
an iterative solver that misses its tolerance raises :class:`ConvergenceError`.

Examples
--------
>>> import femkron as fk
>>> try:
...     fk.Mesh1D([0.0, 1.0, 0.5])
... except ValueError as err:
...     print(type(err).__name__)
FemkronValueError
"""

from __future__ import annotations

__all__ = [
    "FemkronError",
    "FemkronValueError",
    "FemkronTypeError",
    "ConvergenceError",
    "ResourceError",
    "StructureError",
    "MissingDependencyError",
]


class FemkronError(Exception):
    """Base class of every error femkron raises on purpose.

    Attributes
    ----------
    reason : str or None
        A short code for the cause, for callers that branch on it (never the message text).
    """

    reason = None

    def __init__(self, message="", reason=None):
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class FemkronValueError(FemkronError, ValueError):
    """An argument has the right type but a value femkron cannot accept."""


class FemkronTypeError(FemkronError, TypeError):
    """An argument has a type femkron cannot accept."""


class ResourceError(FemkronError, MemoryError):
    """A dense or sparse materialisation was refused because it would be too large."""

    reason = "memory"

    def __init__(self, message, nbytes=None, limit=None):
        super().__init__(message)
        self.nbytes = nbytes
        self.limit = limit


class ConvergenceError(FemkronError):
    """An iterative solver stopped before reaching its tolerance.

    Attributes
    ----------
    iterations : int
        Iterations done.
    residuals : list of float
        Relative residual after each iteration.
    x : ndarray or None
        The last iterate, when the solver has one.
    """

    reason = "not-converged"

    def __init__(self, message, iterations=None, residuals=None, x=None):
        super().__init__(message)
        self.iterations = iterations
        self.residuals = [float(r) for r in residuals] if residuals is not None else []
        self.x = x


class StructureError(FemkronValueError):
    """The operator does not have the structure fast diagonalization needs.

    ``reason`` is ``"not-separable"`` (no per-axis pencils), ``"not-square"``,
    ``"not-symmetric"``, ``"no-transform"`` (``transform="fft"`` refused) or
    ``"lost-accuracy"`` (the 1D eigenproblems were too ill-conditioned).
    """

    reason = "not-separable"


class MissingDependencyError(FemkronError, ImportError):
    """An optional dependency (meshio, petsc4py, ...) is not installed."""

    reason = "missing-dependency"
