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
from ..kron.nested import PoleConstrainedOperator, nested_nbytes, nested_structure
from ..kron.operator import KronOperator
from ..kron.structure import pencils

__all__ = [
    "DENSE_AXIS_MAX",
    "DIRECT_MAX_DOFS",
    "GeneralPlan",
    "auto_method",
    "general_plan",
    "is_matrix_free",
    "csr_nbytes",
    "fallback_method",
    "fdm_nbytes",
    "lu_nbytes",
    "nested_applies",
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
    V = getattr(A, "V", None)  # a matrix-free operator: (p+2)^D entries per row on average
    if V is not None:
        return 12 * general_nnz(A)
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
    if method == "nested":
        return vectors + nested_nbytes(A)
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


def nested_applies(A):
    """Whether nested diagonalization solves ``A`` exactly: ``(True, "")`` or ``(False, why)``.

    A pole-constrained operator (curvilinear spaces) or a Kronecker sum whose axes but one
    have one pencil per mode, read from its terms (no eigenproblem is solved here).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.annulus(0.5, 1.0, cells=(4, 8), order=1)
    >>> nested_applies(fk.BoundaryConditions(V).constrain(fk.stiffness(V) + fk.mass(V)))
    (True, '')
    """
    if not isinstance(A, (KronOperator, PoleConstrainedOperator)):
        return False, "not-kronecker"
    cached = getattr(A, "_nested_applies", None)
    if cached is None:
        try:
            nested_structure(A)
            cached = (True, "")
        except StructureError as err:
            cached = (False, err.reason or "not-nested")
        A._nested_applies = cached
    return cached


def auto_method(A, fit):
    """``(method, note)`` chosen by ``auto`` for the operator ``A``."""
    if isinstance(A, PoleConstrainedOperator):  # curvilinear coordinates with poles
        if nested_applies(A)[0]:
            return "nested", (
                "auto: a Kronecker sum with poles (curvilinear coordinates), so nested "
                "diagonalization solves it exactly"
            )
        method = fallback_method(A)
        size = "small enough for a sparse LU" if method == "direct" else "large, so AMG-CG"
        return method, f"auto: a Kronecker sum with poles but no nested structure; {size}"
    if getattr(A, "schur_structure", None) is not None:  # a union of boxes (linalg/schur.py)
        if any(
            K.shape[0] > DENSE_AXIS_MAX and transform_kind(K, M) == "dense"
            for box in A.schur_structure.boxes
            for K, M in zip(box.stiffness, box.masses)
        ):
            method = fallback_method(A)
            return method, (
                f"auto: a union of boxes, but a box would need a dense eigenproblem over "
                f"{DENSE_AXIS_MAX} dofs, so {method}"
            )
        return "schur", (
            "auto: a union of boxes, so fdm solves each box exactly and CG the interface "
            "Schur complement"
        )
    if getattr(fit, "schur_structure", None) is not None:
        return "schur", "auto: a variable coefficient on a union of boxes"
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
        if reason != "fdm-too-large" and nested_applies(A)[0]:
            return "nested", (
                "auto: not one pencil per axis, but every axis but one diagonalizes per mode, "
                "so nested diagonalization solves it exactly"
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


# ---- general coefficients: matrix-free or assembled CSR, fdm of a fit or AMG ---------------
# Measured costs, in nanoseconds, of the steps of a variable-coefficient solve (the operator
# of ``-∇·(κ∇u)`` on ~10^6 free dofs of the unit square/cube, κ smooth, contrast 10, uniform
# mesh, homogeneous Dirichlet).  Measured on 2026-12-02 on the 2-core benchmark machine
# (AMD EPYC, one BLAS thread, numpy 2.4, scipy 1.17) as the median CPU user time of 7
# repeats in one warm process (the assembly: first call, page faults included), by
# ``femkron.bench.kappa.operator_costs``.  They decide only *which* path runs, so a factor
# 1.5 of machine difference rarely changes a choice; the note says the predicted times.

#: One matrix-free product, ns per dof, by (dimension, order, Gauss points per axis).
MATFREE_NS = {
    (2, 1, 2): 52.0,
    (2, 1, 3): 88.0,
    (2, 2, 3): 44.0,
    (2, 2, 4): 63.0,
    (2, 3, 4): 47.0,
    (2, 3, 5): 55.0,
    (2, 4, 5): 32.0,
    (2, 4, 6): 53.0,
    (3, 1, 2): 131.0,
    (3, 1, 3): 249.0,
    (3, 2, 3): 75.0,
    (3, 2, 4): 136.0,
}
#: Other cases: ns per Gauss point per dof (the product moves Gauss-grid arrays).
MATFREE_NS_PER_GAUSS_POINT = 18.0
#: One CSR SpMV, ns per nonzero (scipy, one core): 0.5–0.8 measured for 9–62 per row.
SPMV_NS_PER_NNZ = 0.65
#: Sum-factorised assembly (:func:`femkron.assemble`), ns per nonzero, first call (12–45
#: measured: the fresh CSR arrays are faulted in on the first call).
ASSEMBLY_NS_PER_NNZ = 25.0
#: The same assembled by diagonals (:func:`femkron.assemble_stencil`, ``Q1`` boxes), ns per
#: nonzero, first call: about the CPU user time of the CSR assembly (12.7 against 14.0 ns
#: in 3D, 11.9 against 13.0 in 2D, on 2026-12-02, a slower day of the same machine) with a
#: third of its memory to fault in (no index arrays, half the diagonals stored).
STENCIL_NS_PER_NNZ = 15.0
#: One fdm-preconditioner application by sine/Fourier transforms, ns per dof.
FDM_TRANSFORM_NS = {1: 10.0, 2: 30.0, 3: 45.0}
#: One fdm-preconditioner application by dense 1D eigenvectors (single precision): this
#: many ns per dof and per 1D dof of every axis (``0.04 Σ_d n_d`` + 5 ns of scaling).
FDM_DENSE_NS_PER_AXIS_DOF = 0.04
#: pyamg smoothed aggregation: hierarchy set-up, and one V-cycle plus CG step, ns per nonzero.
AMG_SETUP_NS_PER_NNZ = 160.0
AMG_CYCLE_NS_PER_NNZ = 12.0
#: pyamg SA-CG iterations to 1e-8 at 10^6 dofs by order (7, 33, 41, 56 measured in 2D).
AMG_ITERATIONS = {1: 8, 2: 33, 3: 41, 4: 56}
#: fdm-CG iterations: ``ceil(c sqrt(contrast) log10(1/rtol)) + 1`` with the contrast
#: ``max κ / min κ`` (a bound of the fit's); ``c`` from 8–9 iterations at contrast 10, 1e-8.
FIT_ITERATION_FACTOR = 0.3


def is_matrix_free(A):
    """Whether ``A`` is a matrix-free variable-coefficient operator (read by duck typing)."""
    return (
        not isinstance(A, KronOperator)
        and not sp.issparse(A)
        and all(hasattr(A, a) for a in ("V", "quad", "tocsr", "kappa_values"))
    )


def general_nnz(A):
    """Estimated nonzeros of the assembled form of a matrix-free operator ``A``.

    Per axis a ``Q_p`` row couples ``2p + 1`` dofs at a vertex and ``p + 1`` inside a cell,
    ``p + 2`` on average; the rows multiply over the axes.
    """
    per_row = int(np.prod([p + 2 for p in A.V.orders]))
    return per_row * int(A.shape[0])


class GeneralPlan:
    """How the solver home runs a Krylov solve of a variable-coefficient operator.

    Attributes
    ----------
    operator : {"csr", "matrix-free"}
        The form in which fdm-CG applies the operator (the cheaper of the two; AMG always
        runs on the CSR form).
    preconditioner : {"fdm", "amg"}
        fdm of the separable fit (flexible CG) or pyamg smoothed aggregation (CG on the CSR).
    iterations : int
        Predicted fdm-CG iterations.
    seconds : dict
        Predicted seconds of each candidate: ``"fdm/csr"``, ``"fdm/matrix-free"``, ``"amg"``
        (``inf`` when refused, e.g. a CSR form over a quarter of the memory limit).
    note : str
        The choice and why, for people to read (``info.note``).
    """

    __slots__ = ("operator", "preconditioner", "iterations", "seconds", "note")

    def __init__(self, operator, preconditioner, iterations, seconds, note):
        self.operator = operator
        self.preconditioner = preconditioner
        self.iterations = iterations
        self.seconds = seconds
        self.note = note

    def __repr__(self):
        return f"<GeneralPlan {self.preconditioner} on {self.operator}: {self.note}>"


def matfree_ns(dim, order, quad):
    """Predicted ns per dof of one matrix-free product (:data:`MATFREE_NS`)."""
    if (dim, order, quad) in MATFREE_NS:
        return MATFREE_NS[dim, order, quad]
    return MATFREE_NS_PER_GAUSS_POINT * (quad / order) ** dim


def general_plan(A, rtol=1e-8, fdm_axes=None):
    """Choose the operator form and preconditioner for a matrix-free operator ``A``.

    Predicted time of each candidate from the measured constants above, for one solve:

    * ``fdm/matrix-free``: ``its (apply + fdm)``;
    * ``fdm/csr``: assembly (by diagonals where ``A.has_stencil``) + ``its (SpMV + fdm)``;
    * ``amg``: assembly + pyamg set-up + its V-cycles;

    with ``its`` the predicted fdm-CG iterations from the coefficient's contrast.  A CSR
    form over a quarter of :func:`femkron.memory_limit` is not considered.

    Parameters
    ----------
    A : MatrixFreeOperator
        Reads ``A.V`` (orders, dimension), ``A.quad``, ``A.shape``, ``A.contrast()`` and
        ``A.fit_transforms`` (whether the fdm of its fit uses sine/Fourier transforms).
    rtol : float
        Relative residual tolerance of the solve.
    fdm_axes : sequence of int, optional
        Dofs per axis of the fast diagonalization (default: the operator's grid shape).

    Returns
    -------
    GeneralPlan

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=64, order=4)
    >>> A = fk.MatrixFreeOperator(V, lambda x, y: 1 + x * y, bcs={}, quad=5)
    >>> plan = general_plan(A)
    >>> plan.preconditioner, plan.operator
    ('fdm', 'matrix-free')
    """
    V = A.V
    D = V.dim
    N = int(A.shape[0])
    p = max(V.orders)
    q = max(A.quad)
    nnz = general_nnz(A)
    contrast = float(A.contrast()) if hasattr(A, "contrast") else 10.0
    digits = max(1.0, np.log10(1.0 / rtol))
    its = int(np.ceil(FIT_ITERATION_FACTOR * np.sqrt(max(contrast, 1.0)) * digits)) + 1
    shape = fdm_axes if fdm_axes is not None else getattr(A, "grid_shape", (N,))
    if getattr(A, "fit_transforms", False):
        prec = FDM_TRANSFORM_NS.get(D, 45.0)
    else:
        prec = FDM_DENSE_NS_PER_AXIS_DOF * float(sum(shape)) + 5.0
    ns = 1e-9
    csr_ok = 12 * nnz <= memory_limit() // 4
    t_mf = its * (matfree_ns(D, p, q) + prec) * N * ns
    t_asm = ASSEMBLY_NS_PER_NNZ * nnz * ns
    # the solver's assembled form: by diagonals where the operator is a stencil (same SpMV)
    t_form = STENCIL_NS_PER_NNZ if getattr(A, "has_stencil", False) else ASSEMBLY_NS_PER_NNZ
    t_csr = t_form * nnz * ns + its * (SPMV_NS_PER_NNZ * nnz + prec * N) * ns if csr_ok else np.inf
    amg_its = AMG_ITERATIONS.get(p, 56 + 15 * (p - 4))
    t_amg = (
        t_asm + (AMG_SETUP_NS_PER_NNZ + amg_its * AMG_CYCLE_NS_PER_NNZ) * nnz * ns
        if csr_ok
        else np.inf
    )
    seconds = {"fdm/csr": t_csr, "fdm/matrix-free": t_mf, "amg": t_amg}
    best = min(seconds, key=seconds.get)
    operator = "csr" if t_csr < t_mf else "matrix-free"  # the better fdm form, always
    preconditioner = "amg" if best == "amg" else "fdm"
    pred = ", ".join(f"{k} {v:.2g} s" for k, v in seconds.items() if np.isfinite(v))
    why = {
        "fdm/csr": "assembling the CSR form once costs less than the matrix-free products it saves",
        "fdm/matrix-free": "the matrix-free products cost less than assembling",
        "amg": "the coefficient's contrast predicts many fdm-CG iterations",
    }[best]
    note = (
        f"general κ (contrast {contrast:.3g}, about {its} fdm-CG iterations predicted): "
        f"{preconditioner} on the {operator} operator, since {why} (predicted {pred})"
    )
    return GeneralPlan(operator, preconditioner, its, seconds, note)
