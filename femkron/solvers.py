"""Linear solvers for Kronecker-sum operators.

* ``fdm`` — :class:`FastDiagonalization` (Lynch, Rice & Thomas 1964): exact direct solve of
  ``Σ_d M_1⊗…⊗K_d⊗…⊗M_D (+ σ ⊗M_d)`` from the 1D generalized eigenproblems
  ``K_d S_d = M_d S_d Λ_d``; applied by axis-wise dense products in O(N·n) work, or by
  discrete sine / Fourier transforms (O(N log n)) on uniform Q1 Dirichlet / periodic axes
  (:mod:`femkron.fdm`).
* ``direct`` — sparse LU of the assembled CSR matrix.
* ``cg`` — conjugate gradients with a Jacobi preconditioner, matrix-free.
* ``amg`` — conjugate gradients preconditioned by pyamg smoothed aggregation.
* ``auto`` — ``fdm`` when the structure allows, else ``direct`` for small and ``amg`` for
  large problems.

The Krylov methods themselves live in :mod:`femkron.krylov` (``pcg`` is re-exported here);
:func:`krylov_solve` runs one of them on any operator and reports a :class:`SolveInfo`.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> bcs = fk.BoundaryConditions(V)
>>> A = bcs.constrain(fk.stiffness(V))
>>> b = np.ones(A.shape[0])
>>> x, info = fk.solve(A, b, method="fdm")
>>> info.method, info.residual < 1e-12
('fdm', True)
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import scipy.sparse.linalg as spla

from ._validate import as_array, as_int, as_real, check_choice
from .errors import ConvergenceError, FemkronTypeError, FemkronValueError, check_allocation
from .fdm import FastDiagonalization, StructureError
from .fdm import separable_structure as _separable_structure
from .kron import KronOperator
from .krylov import (
    KRYLOV,
    bicgstab,
    constant_projector,
    fcg,
    gmres,
    jacobi,
    pcg,
    relative_residual,
)

__all__ = [
    "solve",
    "SolveInfo",
    "FastDiagonalization",
    "pcg",
    "krylov_solve",
    "METHODS",
    "LOCAL_METHODS",
    "StructureError",
    "backward_error",
    "check_fdm_accuracy",
    "fallback_method",
    "lu_nbytes",
]

METHODS = ("auto", "fdm", "amg", "cg", "direct", "petsc")

#: The methods femkron runs itself (``"petsc"`` is reached through :func:`femkron.poisson`).
LOCAL_METHODS = tuple(m for m in METHODS if m != "petsc")


@dataclasses.dataclass
class SolveInfo:
    """What a solve did.

    Attributes
    ----------
    method : str
        The method used (``auto`` resolved).
    iterations : int
        Iterations (0 for direct methods).
    residual : float
        Final relative residual ``‖b - A x‖ / ‖b‖``, computed matrix-free.
    seconds : float
        Wall time of setup and solve.
    setup_seconds : float
        Part of ``seconds`` spent in setup (factorisation, eigenproblems, hierarchy).
    converged : bool
    residuals : list of float
        Relative residual history of iterative methods.
    note : str
        Why ``auto`` chose the method, or other remarks.
    """

    method: str
    iterations: int = 0
    residual: float = float("nan")
    seconds: float = 0.0
    setup_seconds: float = 0.0
    converged: bool = True
    residuals: list = dataclasses.field(default_factory=list)
    note: str = ""

    def __str__(self):
        return (
            f"{self.method}: {self.iterations} iterations, relative residual "
            f"{self.residual:.2e}, {self.seconds:.3g} s"
        )


def _pcg_report(raise_on_failure, *args, **kwargs):
    """:func:`pcg`, returning the last iterate of a breakdown instead of raising when the
    caller asked for no raise (the final residual check then reports it)."""
    try:
        return pcg(*args, **kwargs)
    except ConvergenceError as err:
        if raise_on_failure or err.x is None:
            raise
        return err.x, err.iterations, err.residuals


#: Condition number (1-norm estimate) above which a direct solve is refused as singular.
SINGULAR_CONDITION = 1e13


def lu_nbytes(A):
    """Estimated bytes of a sparse LU factorisation of the operator ``A``.

    Nested-dissection fill of a grid with ``N`` unknowns and ``D`` axes of more than one
    dof: about ``10 N log2 N`` entries in 2D and ``32 N^(2(D-1)/D)`` in 3D and above
    (constants measured on SuperLU fill of Q1–Q8 Laplacians, rounded up); never less than
    the CSR form.  12 bytes per entry.
    """
    N = max(int(A.shape[0]), 2)
    D = sum(1 for n in A.in_shape if n > 1)
    nnz = A.nnz_bound()
    if D <= 1:
        fill = 3.0 * nnz
    elif D == 2:
        fill = 10.0 * N * np.log2(N)
    else:
        fill = 32.0 * float(N) ** (2.0 * (D - 1) / D)
    return int(12 * max(fill, nnz)) + A.csr_nbytes()


def _condition_estimate(Acsr, lu):
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


def _lost_accuracy(omega):
    return (
        f"fast diagonalization lost accuracy (componentwise backward error {omega:.1e}: "
        "the 1D eigenproblems are too ill-conditioned, e.g. a strongly graded mesh)"
    )


def check_fdm_accuracy(A, fdm):
    """Raise :class:`StructureError` when the fast diagonalization ``fdm`` of ``A`` leaves
    a componentwise backward error above ``FDM_BACKWARD_ERROR`` on one random right-hand
    side (ill-conditioned 1D eigenproblems, e.g. a strongly graded mesh).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> check_fdm_accuracy(A, FastDiagonalization(A)) is None
    True
    """
    x = np.random.default_rng(0).standard_normal(A.shape[1])
    b = A @ x
    omega = backward_error(A, fdm.solve(b), b)
    if not omega <= FDM_BACKWARD_ERROR:
        raise StructureError(_lost_accuracy(omega))


def fallback_method(A):
    """The method ``auto`` uses when fast diagonalization is not possible or not accurate."""
    if A.shape[0] <= 200_000 and A.csr_nbytes() < 2**30:
        return "direct"
    return "amg"


def _auto_method(A):
    try:
        _separable_structure(A)
        return "fdm", "auto: the operator is a separable Kronecker sum, so fdm solves it exactly"
    except StructureError as err:
        reason = str(err)
    n = A.shape[0]
    if n <= 200_000 and A.csr_nbytes() < 2**30:
        return "direct", f"auto: not separable ({reason}); small enough for a sparse LU"
    return "amg", f"auto: not separable ({reason}); large, so AMG-preconditioned CG"


def solve(A, b, method="auto", rtol=1e-10, maxiter=None, singular=False, raise_on_failure=True):
    """Solve ``A x = b`` for a :class:`KronOperator` ``A``.

    Parameters
    ----------
    A : KronOperator
    b : array_like, length ``A.shape[0]``
    method : {"auto", "fdm", "amg", "cg", "direct", "petsc"}
    rtol : float
        Relative residual tolerance of the iterative methods.
    maxiter : int, optional
    singular : bool
        The constant vector spans the kernel (pure Neumann/periodic); ``b`` must be
        compatible and the returned ``x`` has zero sum.
    raise_on_failure : bool
        Raise :class:`ConvergenceError` when an iterative method misses ``rtol`` (else return
        with ``info.converged = False``).

    Returns
    -------
    x : ndarray
    info : SolveInfo
    """
    if not isinstance(A, KronOperator):
        raise FemkronTypeError(f"A must be a KronOperator, got {type(A).__name__}")
    check_choice(method, "method", METHODS)
    b = as_array(b, "b", finite=False)
    if b.shape != (A.shape[0],):
        raise FemkronValueError(f"b must have shape ({A.shape[0]},), got {b.shape}")
    if not np.all(np.isfinite(b)):
        raise FemkronValueError("b contains NaN or inf")
    rtol = as_real(rtol, "rtol", positive=True)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    note = ""
    if method == "petsc":  # distributed over the MPI ranks (femkron.petsc, needs petsc4py)
        from .petsc import solve as petsc_solve

        return petsc_solve(A, b, rtol=rtol, maxiter=maxiter, singular=singular)
    if method == "auto":
        method, note = _auto_method(A)
    t0 = time.perf_counter()
    project = constant_projector(A.shape[0]) if singular else None
    if singular:
        b = project(b)
    iterations, history, setup = 0, [], 0.0
    if method == "fdm":
        fdm = FastDiagonalization(A, singular=singular)
        setup = fdm.setup_seconds
        x = fdm.solve(b)
        omega = backward_error(A, x, b)
        if not omega <= FDM_BACKWARD_ERROR:
            lost = _lost_accuracy(omega)
            if note:  # chosen by auto: solve again with the general method
                x, info = solve(A, b, fallback_method(A), rtol, maxiter, singular, raise_on_failure)
                info.note = f"{note}; {lost}, so {info.method} instead"
                info.seconds = time.perf_counter() - t0
                return x, info
            if raise_on_failure:
                raise StructureError(f"method='fdm': {lost}; use method='direct' or 'amg'")
    elif method == "direct":
        check_allocation(
            lu_nbytes(A),
            f"a sparse LU factorisation of this {A.shape[0]}×{A.shape[1]} operator",
            "use method='fdm' (separable operators) or method='amg'",
        )
        Acsr = A.tocsr()
        if singular:
            Acsr = Acsr[1:, 1:]
        ts = time.perf_counter()
        try:
            lu = spla.splu(Acsr.tocsc(), permc_spec="MMD_AT_PLUS_A")
        except RuntimeError as err:  # SuperLU: "Factor is exactly singular"
            raise FemkronValueError(
                f"A is singular: the sparse LU failed ({err}); a pure Neumann/periodic problem "
                "needs singular=True, a Helmholtz problem may sit at a resonance"
            ) from None
        setup = time.perf_counter() - ts
        condition = _condition_estimate(Acsr, lu)
        if not condition < SINGULAR_CONDITION:
            raise FemkronValueError(
                f"A is numerically singular: condition number estimate {condition:.2e} (over "
                f"{SINGULAR_CONDITION:.0e}); a Robin coefficient that (nearly) cancels, a "
                "Helmholtz wavenumber at a resonance, or a pure Neumann/periodic problem "
                "without singular=True"
            )
        if condition > 1e8:
            note = (note + "; " if note else "") + f"condition number estimate {condition:.1e}"
        if singular:
            x = np.concatenate([[0.0], lu.solve(b[1:])])
        else:
            x = lu.solve(b)
    elif method == "cg":
        x, iterations, history = _pcg_report(
            raise_on_failure, A.__matmul__, b, jacobi(A.diagonal()), rtol, maxiter, project=project
        )
    else:  # amg
        import pyamg

        check_allocation(
            3 * A.csr_nbytes(),
            f"the CSR form and AMG hierarchy of this {A.shape[0]}×{A.shape[1]} operator",
            "use method='fdm' (separable operators) or method='cg' (matrix-free)",
        )
        ts = time.perf_counter()
        Acsr = A.tocsr()
        B = np.ones((A.shape[0], 1))
        ml = pyamg.smoothed_aggregation_solver(Acsr, B=B, symmetry="hermitian")
        M = ml.aspreconditioner(cycle="V")
        setup = time.perf_counter() - ts
        x, iterations, history = _pcg_report(
            raise_on_failure, Acsr.__matmul__, b, M.matvec, rtol, maxiter, project=project
        )
    if singular:
        x = project(x)
    seconds = time.perf_counter() - t0
    residual = relative_residual(A, x, b)
    converged = True
    if method in ("cg", "amg"):
        converged = bool(history) and history[-1] <= rtol
    elif method == "fdm":
        converged = bool(omega <= FDM_BACKWARD_ERROR)
    elif not residual <= 1e-6:  # a direct method that left a large residual (or NaN)
        if raise_on_failure:
            raise FemkronValueError(
                f"A is numerically singular: method={method!r} left a relative residual of "
                f"{residual:.2e}"
            )
        converged = False
    info = SolveInfo(method, iterations, residual, seconds, setup, converged, history, note)
    if not converged and raise_on_failure:
        raise ConvergenceError(
            f"{method} did not reach rtol={rtol:g} in {iterations} iterations (relative "
            f"residual {history[-1]:.2e}); raise maxiter or use method='direct'",
            iterations=iterations,
            residuals=history,
        )
    return x, info


def krylov_solve(
    A, b, method="cg", precond=None, rtol=1e-10, maxiter=None, singular=False, label=None
):
    """Solve ``A x = b`` with a Krylov method and report it as a :class:`SolveInfo`.

    Parameters
    ----------
    A : operator with ``@`` (KronOperator, MatrixFreeOperator, sparse matrix)
    method : {"cg", "gmres", "bicgstab"}
        Flexible CG (:func:`femkron.krylov.fcg`), :func:`~femkron.krylov.gmres` or
        :func:`~femkron.krylov.bicgstab`.
    precond : callable, optional
        ``r ↦ P⁻¹ r``.
    singular : bool
        The constant vector spans the kernel: residuals are projected (CG only).
    label : str, optional
        The method name reported in the info (e.g. ``"fdm-cg"``).

    Raises
    ------
    ConvergenceError
        When ``rtol`` is not reached in ``maxiter`` iterations.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> x, info = krylov_solve(A, np.array([1.0, 2.0]), "gmres")
    >>> info.method, info.iterations, bool(info.residual < 1e-10)
    ('gmres', 2, True)
    """
    check_choice(method, "method", KRYLOV)
    rtol = as_real(rtol, "rtol", positive=True)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    b = np.asarray(b, dtype=float)
    t0 = time.perf_counter()
    apply_A = A.__matmul__
    project = constant_projector(b.shape[0]) if singular else None
    if singular:
        b = project(b)
    if method == "cg":
        x, it, hist = fcg(apply_A, b, precond, rtol, maxiter, project=project)
    elif method == "gmres":
        x, it, hist = gmres(apply_A, b, precond, rtol, maxiter)
    else:
        x, it, hist = bicgstab(apply_A, b, precond, rtol, maxiter)
    if project is not None:
        x = project(x)
    seconds = time.perf_counter() - t0
    residual = relative_residual(A, x, b)
    name = label or method
    if residual > rtol * 1.01 and not (hist and hist[-1] <= rtol and residual < 10 * rtol):
        raise ConvergenceError(
            f"{name} did not reach rtol={rtol:g} in {it} iterations (relative residual "
            f"{residual:.2e}); raise maxiter or use method='direct'",
            iterations=it,
            residuals=hist,
        )
    return x, SolveInfo(name, it, residual, seconds, 0.0, True, hist)
