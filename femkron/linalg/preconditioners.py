"""Inverses and preconditioners the solver home sets up, each in this one place.

The sparse LU (with its singularity check), the pyamg smoothed-aggregation V-cycle, and fast
diagonalization of a separable fit.

Examples
--------
>>> import numpy as np
>>> import scipy.sparse as sp
>>> inverse, note, condition = lu(sp.identity(3, format="csr") * 2.0, singular=False)
>>> inverse(np.ones(3))
array([0.5, 0.5, 0.5])
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._limits import check_allocation
from ..errors import FemkronValueError
from ..kron.diagonalize import FastDiagonalization
from ..kron.nested import NestedDiagonalization, PoleConstrainedOperator
from ..kron.operator import KronOperator
from .checks import SINGULAR_CONDITION, condition_estimate
from .cost import csr_nbytes, lu_nbytes, nested_applies, separable

__all__ = ["amg", "as_csr", "fit_preconditioner", "lu"]


def as_csr(A):
    """``A`` as a scipy CSR matrix (an operator by its ``tocsr()``)."""
    return sp.csr_matrix(A) if sp.issparse(A) else A.tocsr()


def lu(A, singular):
    """Sparse LU of ``A`` (the first dof pinned when ``singular``), checked for singularity.

    Returns ``(inverse, note, condition)``; the one place femkron factorises a sparse
    matrix.  ``condition`` estimates the condition number of the diagonally scaled matrix.
    """
    check_allocation(
        lu_nbytes(A),
        f"a sparse LU factorisation of this {A.shape[0]}×{A.shape[1]} operator",
        "use method='fdm' (separable operators) or method='amg'",
    )
    Acsr = as_csr(A)
    if singular:
        Acsr = Acsr[1:, 1:]
    try:
        lu = spla.splu(Acsr.tocsc(), permc_spec="MMD_AT_PLUS_A")
    except RuntimeError as err:  # SuperLU: "Factor is exactly singular"
        raise FemkronValueError(
            f"A is singular: the sparse LU failed ({err}); a pure Neumann/periodic problem "
            "needs singular=True, a Helmholtz problem may sit at a resonance",
            reason="singular",
        ) from None
    condition = condition_estimate(Acsr, lu)
    if not condition < SINGULAR_CONDITION:
        raise FemkronValueError(
            f"A is numerically singular: condition number estimate {condition:.2e} (over "
            f"{SINGULAR_CONDITION:.0e}); a Robin coefficient that (nearly) cancels, a "
            "Helmholtz wavenumber at a resonance, or a pure Neumann/periodic problem "
            "without singular=True",
            reason="singular",
        )
    note = f"condition number estimate {condition:.1e}" if condition > 1e8 else ""
    if singular:
        return (lambda b: np.concatenate([[0.0], lu.solve(b[1:])])), note, condition
    return lu.solve, note, condition


def amg(A):
    """The CSR form of ``A`` and a pyamg smoothed-aggregation V-cycle for it.

    The one place femkron sets up AMG.
    """
    import pyamg

    check_allocation(
        3 * csr_nbytes(A),
        f"the CSR form and AMG hierarchy of this {A.shape[0]}×{A.shape[1]} operator",
        "use method='fdm' (separable operators) or method='cg' (matrix-free)",
    )
    Acsr = as_csr(A)
    ml = pyamg.smoothed_aggregation_solver(Acsr, B=np.ones((A.shape[0], 1)), symmetry="hermitian")
    return Acsr, ml.aspreconditioner(cycle="V").matvec


def fit_preconditioner(fit, singular):
    """The fdm preconditioner of ``fit``.

    ``fit`` is a separable KronOperator (exact fdm) or a matrix-free operator (fdm of its
    separable fit).  Returns ``(apply, setup, note)``.
    """
    if callable(fit) and not hasattr(fit, "shape"):
        fit = fit()
    if isinstance(fit, PoleConstrainedOperator):  # curvilinear with poles: nested is exact
        nested = NestedDiagonalization(fit, singular=singular)
        return nested.solve, nested.setup_seconds, "nested diagonalization"
    if isinstance(fit, KronOperator):
        ok, reason = separable(fit)
        if not ok and reason != "fdm-too-large" and nested_applies(fit)[0]:
            nested = NestedDiagonalization(fit, singular=singular)  # e.g. an annulus
            return nested.solve, nested.setup_seconds, "nested diagonalization"
        fdm = FastDiagonalization(fit, singular=singular)
        return fdm.solve, fdm.setup_seconds, ""
    P = fit.preconditioner(singular=singular)
    what = getattr(P, "kind", None) or "fdm of a separable fit of the coefficient"
    note = f"{what} (max/min of κ/κ̃: {P.contrast:.3g})"
    return P.solve, P.setup_seconds, note
