"""Solvers: they know operators, not problems.

:func:`make_solver` and :func:`solve` (:mod:`~femkron.linalg.solve`) are the one home of
method choice (``"auto"``), the memory model, sparse LU and AMG set-up, the fast
diagonalization fallbacks and the true-residual check; :mod:`~femkron.linalg.krylov` holds
the Krylov iterations and :class:`SolveInfo` (:mod:`~femkron.linalg.info`) reports a solve.
"""

from .info import SolveInfo
from .krylov import bicgstab, fcg, gmres, pcg
from .newton import NewtonInfo, newton_krylov
from .solve import METHODS, Solver, krylov_solve, make_solver, solve

__all__ = [
    "METHODS",
    "SolveInfo",
    "Solver",
    "bicgstab",
    "fcg",
    "gmres",
    "krylov_solve",
    "make_solver",
    "newton_krylov",
    "NewtonInfo",
    "pcg",
    "solve",
]
