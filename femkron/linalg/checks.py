"""Checks of a solve's result.

The componentwise backward error of fast diagonalization and the condition estimate of a
sparse LU.

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
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import StructureError
from ..kron.operator import KronOperator

__all__ = [
    "FDM_BACKWARD_ERROR",
    "FDM_FORWARD_ERROR",
    "SINGULAR_CONDITION",
    "backward_error",
    "check_fdm_accuracy",
    "condition_estimate",
]

#: Condition number (1-norm estimate) above which a direct solve is refused as singular.
SINGULAR_CONDITION = 1e13

#: Largest componentwise backward error a fast-diagonalization solve may leave; above it the
#: 1D eigenproblems were too ill-conditioned (e.g. cells from 1e-11 to 0.3 on one axis).
FDM_BACKWARD_ERROR = 1e-8

#: Largest relative forward error, estimated by one step of iterative refinement, that a
#: fast-diagonalization solve may leave (eight correct digits).
FDM_FORWARD_ERROR = 1e-8


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
    """Raise :class:`StructureError` when the fast diagonalization ``fdm`` of ``A`` is inaccurate.

    The error (``reason="lost-accuracy"``) is raised when ``fdm`` leaves a componentwise
    backward error above ``FDM_BACKWARD_ERROR`` on one random right-hand side (ill-conditioned
    1D eigenproblems, e.g. a strongly graded mesh).

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
    """1-norm condition number estimate of the diagonally scaled ``D A D``.

    ``D = diag(|a_ii|)^(-1/2)`` removes what a graded mesh puts in the scale of the rows
    (cells from 1e-11 to 0.3 give ``‖A‖ ‖A⁻¹‖ > 1e20`` for a well-posed SPD problem), so
    only a (nearly) singular operator shows a huge estimate (van der Sluis: this scaling is
    within a factor ``n`` of the best one for SPD matrices).  Computed as
    ``‖DAD‖₁ ‖D⁻¹A⁻¹D⁻¹‖₁`` with the LU factors of ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> import scipy.sparse.linalg as spla
    >>> A = sp.csr_matrix(np.diag([1e-12, 1.0, 1e12]))
    >>> float(condition_estimate(A, spla.splu(A.tocsc())))
    1.0
    """
    n = Acsr.shape[0]
    diag = np.abs(Acsr.diagonal())
    d = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    D = sp.diags(d)
    norm_a = float(abs(D @ Acsr @ D).sum(axis=0).max())

    def solve(y, trans="N"):
        y = np.asarray(y, dtype=float)
        dd = d if y.ndim == 1 else d[:, None]
        return lu.solve(y / dd, trans=trans) / dd

    inv = spla.LinearOperator((n, n), matvec=solve, rmatvec=lambda y: solve(y, "T"), dtype=float)
    with np.errstate(all="ignore"):
        norm_inv = float(spla.onenormest(inv)) if n > 1 else float(abs(solve(np.ones(1)))[0])
    return norm_a * norm_inv if np.isfinite(norm_inv) else np.inf
