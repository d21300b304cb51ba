"""The cost and memory model of the solver home.

What each method would take, and what ``method="auto"`` chooses.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8)
>>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
>>> auto_method(A, fit=None)[0]
'fdm'
"""

from __future__ import annotations

import collections

import numpy as np
import scipy.sparse as sp

from .._limits import memory_limit
from ..errors import StructureError
from ..kron.diagonalize import transform_kind
from ..kron.operator import KronOperator
from ..kron.structure import pencils

__all__ = [
    "DENSE_AXIS_MAX",
    "DIRECT_MAX_DOFS",
    "auto_method",
    "csr_nbytes",
    "fallback_method",
    "fdm_nbytes",
    "lu_nbytes",
    "separable",
    "solver_nbytes",
    "work_vectors",
]

#: ``auto`` uses a sparse LU up to this many unknowns (and a CSR form under 1 GiB), AMG above.
DIRECT_MAX_DOFS = 200_000

#: Largest axis ``auto`` diagonalizes densely: the 1D eigenproblem costs ``O(n³)`` (about 10
#: s at n = 4096 on one core) and its factors ``4 n²`` doubles.  Sine/Fourier axes (uniform
#: Q1 with Dirichlet/periodic ends) have no such limit.
DENSE_AXIS_MAX = 4096

#: Full-size float vectors each method holds besides the problem's own: fdm transforms (2),
#: CG/AMG (6: x, r, z, p, Ap, a residual check), GMRES (restart + 4), BiCGSTAB (8).
_WORK = {"fdm": 3, "direct": 3, "cg": 6, "amg": 6, "bicgstab": 8}


def csr_nbytes(A):
    """Bytes of the CSR form of ``A`` (estimated for operators not yet assembled)."""
    if sp.issparse(A):
        return int(A.nnz * 12 + (A.shape[0] + 1) * 8)
    if hasattr(A, "csr_nbytes"):
        return int(A.csr_nbytes())
    V = getattr(A, "V", None)  # a matrix-free operator: (2p+1)^D entries per row
    if V is not None:
        per_row = int(np.prod([2 * p + 1 for p in V.orders]))
        return 12 * per_row * int(A.shape[0])
    return 12 * 27 * int(A.shape[0])


def lu_nbytes(A):
    """Estimated bytes of a sparse LU factorisation of the operator ``A``.

    Nested-dissection fill of a grid with ``N`` unknowns and ``D`` axes of more than one
    dof: about ``10 N log2 N`` entries in 2D and ``32 N^(2(D-1)/D)`` in 3D and above
    (constants measured on SuperLU fill of Q1–Q8 Laplacians, rounded up); never less than
    the CSR form.  12 bytes per entry.  An assembled matrix counts as 2D.

    Examples
    --------
    >>> import femkron as fk
    >>> A = fk.stiffness(fk.TensorSpace.box([(0, 1), (0, 1)], cells=8))
    >>> lu_nbytes(A) > A.csr_nbytes()
    True
    """
    N = max(int(A.shape[0]), 2)
    shape = getattr(A, "in_shape", None)
    D = sum(1 for n in shape if n > 1) if shape is not None else 2
    nnz = csr_nbytes(A) / 12
    if D <= 1:
        fill = 3.0 * nnz
    elif D == 2:
        fill = 10.0 * N * np.log2(N)
    else:
        fill = 32.0 * float(N) ** (2.0 * (D - 1) / D)
    return int(12 * max(fill, nnz)) + csr_nbytes(A)


def _dense_axes(A):
    """Lengths of the axes of the separable ``A`` that fdm would diagonalize densely.

    Found once per operator (the answer is kept on it: operators are not changed in place).
    """
    cached = getattr(A, "_dense_axes", None)
    if cached is None:
        Ks, Ms, _ = pencils(A)
        kinds = {}
        for K, M in zip(Ks, Ms):  # identical axes (a cube) are looked at once
            if (id(K), id(M)) not in kinds:
                kinds[id(K), id(M)] = (K.shape[0], transform_kind(K, M))
        cached = [
            kinds[id(K), id(M)][0] for K, M in zip(Ks, Ms) if kinds[id(K), id(M)][1] == "dense"
        ]
        A._dense_axes = cached
    return cached


def fdm_nbytes(A):
    """Bytes of the dense per-axis factors of a fast diagonalization (K, M, S, Sᵀ).

    Sine/Fourier axes hold ``O(n)``; identical axes (a cube) share one transform.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    >>> fdm_nbytes(fk.BoundaryConditions(V).constrain(fk.stiffness(V)))   # one 15×15 axis
    7200
    """
    return sum(4 * 8 * n * n for n in set(_dense_axes(A)))


def work_vectors(method, restart=50):
    """Full-size vectors a method holds while it solves (see ``_WORK``)."""
    if method == "gmres" or method.endswith("-gmres"):
        return restart + 4
    return _WORK.get(method.split("-")[-1], 6)


def solver_nbytes(A, method, restart=50):
    """Estimated bytes a solver of ``A`` by ``method`` holds at its peak.

    Factors (dense 1D eigenvectors, LU fill, the CSR form and AMG hierarchy) plus its work
    vectors; the measured peak of an AMG set-up is about 4 times the CSR form.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=64)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> solver_nbytes(A, "direct") > solver_nbytes(A, "fdm")
    True
    """
    N = int(A.shape[0])
    vectors = 8 * N * work_vectors(method, restart)
    if method == "fdm" and isinstance(A, KronOperator):
        try:
            return vectors + fdm_nbytes(A)
        except StructureError:  # not separable: the Krylov method with a fit, below
            method = "fdm-cg"
    if method == "direct":
        return vectors + lu_nbytes(A)
    if method == "amg":
        return vectors + 4 * csr_nbytes(A)
    if method.startswith("fdm-"):  # the dense axes of a separable fit: like the operator's
        shape = getattr(A, "in_shape", None) or getattr(getattr(A, "V", None), "shape", ())
        return vectors + sum(4 * 8 * n * n for n in set(shape) if n > 1)
    return vectors


def fallback_method(A):
    """The general method ``auto`` uses where fast diagonalization does not apply.

    ``direct`` for a small system, ``amg`` for a large one.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> fallback_method(sp.identity(10, format="csr"))
    'direct'
    """
    if A.shape[0] <= DIRECT_MAX_DOFS and csr_nbytes(A) < 2**30:
        return "direct"
    return "amg"


def separable(A):
    """Whether fdm can solve the Kronecker sum ``A`` exactly.

    ``(True, "")`` when it can; else ``(False, reason code)``.
    """
    try:
        dense = _dense_axes(A)
    except StructureError as err:
        return False, err.reason
    if any(n > DENSE_AXIS_MAX for n in dense) or fdm_nbytes(A) > memory_limit() // 4:
        return False, "fdm-too-large"
    return True, ""


#: Why fdm cannot take an operator, for the note of ``auto``.
_WHY = collections.defaultdict(
    lambda: "no per-axis pencils",
    {
        "fdm-too-large": f"an axis would need a dense eigenproblem over {DENSE_AXIS_MAX} dofs",
        "not-square": "a factor is not square",
        "not-symmetric": "a factor is not symmetric",
    },
)


def auto_method(A, fit):
    """``(method, note)`` chosen by ``auto`` for the operator ``A``."""
    if isinstance(A, KronOperator) and A.naxes == 1:
        return "direct", "auto: a 1D operator, so a banded sparse LU (O(n) fill)"
    if isinstance(A, KronOperator):
        ok, reason = separable(A)
        if ok:
            how = "carried" if A.structure is not None else "discovered"
            return "fdm", (
                f"auto: the operator is a separable Kronecker sum ({how} structure), so fdm "
                "solves it exactly"
            )
        if fit is not None:
            return "fdm", (
                f"auto: not separable ({_WHY[reason]}); fdm of a separable fit preconditions"
            )
        method = fallback_method(A)
        size = "small enough for a sparse LU" if method == "direct" else "large, so AMG-CG"
        return method, f"auto: not separable ({_WHY[reason]}); {size}"
    if not sp.issparse(A):  # matrix-free
        return "fdm", "auto: a matrix-free operator, preconditioned by fdm of a separable fit"
    method = fallback_method(A)
    size = "small enough for a sparse LU" if method == "direct" else "large, so AMG-CG"
    return method, f"auto: an assembled matrix, {size}"
