"""Checks of a solve's result: the componentwise backward error of fast diagonalization and
the condition estimate of a sparse LU.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> A = fk.KronOperator.kron(np.array([[2.0, -1.0], [-1.0, 2.0]]))
>>> backward_error(A, np.array([1.0, 1.0]), np.array([1.0, 1.0]))
0.0
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import StructureError
from ..kron.operator import KronOperator

__all__ = ["FDM_BACKWARD_ERROR", "SINGULAR_CONDITION", "backward_error", "check_fdm_accuracy", "condition_estimate"]

#: Condition number (1-norm estimate) above which a direct solve is refused as singular.
SINGULAR_CONDITION = 1e13

#: Largest componentwise backward error a fast-diagonalization solve may leave; above it the
#: 1D eigenproblems were too ill-conditioned (e.g. cells from 1e-11 to 0.3 on one axis).
FDM_BACKWARD_ERROR = 1e-8

def backward_error(A, x, b):
    """Componentwise (Oettli–Prager) backward error ``max_i |b - A x|_i / (|A| |x| + |b|)_i``.

    About machine precision for a backward-stable solve, whatever the scaling of ``A``;
    ``|A|`` is applied as the Kronecker sum of the entrywise absolute factors.

    Examples
    --------
    >>> import femkron as fk
    >>> A = fk.KronOperator.kron(np.array([[2.0, -1.0], [-1.0, 2.0]]))
    >>> bool(backward_error(A, np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0)
    True
    """
    absA = KronOperator([(abs(c), tuple(abs(F) for F in f)) for c, f in A.terms])
    r = np.abs(b - A @ x)
    den = absA @ np.abs(x) + np.abs(b)
    out = np.zeros_like(r)
    np.divide(r, den, out=out, where=den > 0)
    out[(den == 0) & (r > 0)] = np.inf
    return float(out.max()) if out.size else 0.0


def check_fdm_accuracy(A, fdm, project=None):
    """Raise :class:`StructureError` (``reason="lost-accuracy"``) when the fast
    diagonalization ``fdm`` of ``A`` leaves a componentwise backward error above
    ``FDM_BACKWARD_ERROR`` on one random right-hand side (ill-conditioned 1D eigenproblems,
    e.g. a strongly graded mesh).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> check_fdm_accuracy(A, fk.FastDiagonalization(A)) is None
    True
    """
    x = np.random.default_rng(0).standard_normal(A.shape[1])
    if project is not None:
        x = project(x)
    b = A @ x
    xs = fdm.solve(b)
    if project is not None:
        xs = project(xs)
    omega = backward_error(A, xs, b)
    if not omega <= FDM_BACKWARD_ERROR:
        raise StructureError(
            f"fast diagonalization lost accuracy (componentwise backward error {omega:.1e}: "
            "the 1D eigenproblems are too ill-conditioned, e.g. a strongly graded mesh)",
            reason="lost-accuracy",
        )


def condition_estimate(Acsr, lu):
    """1-norm condition number estimate ``‖A‖₁ ‖A⁻¹‖₁`` from an LU factorisation."""
    n = Acsr.shape[0]
    norm_a = float(abs(Acsr).sum(axis=0).max())
    inv = spla.LinearOperator(
        (n, n),
        matvec=lu.solve,
        rmatvec=lambda y: lu.solve(np.asarray(y, dtype=float), trans="T"),
        dtype=float,
    )
    with np.errstate(all="ignore"):
        norm_inv = float(spla.onenormest(inv)) if n > 1 else float(abs(lu.solve(np.ones(1)))[0])
    return norm_a * norm_inv if np.isfinite(norm_inv) else np.inf


# ---- set-up of each method -----------------------------------------------------------------
