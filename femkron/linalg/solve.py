"""The one home of solving: method choice, set-up, fallbacks and the true-residual check.

:func:`make_solver` turns an operator into a :class:`Solver` (set up once, ``.solve(b, x0)``
for any number of right-hand sides, ``.info`` a :class:`SolveInfo`); :func:`solve` is one
set-up and one solve.  Every problem of femkron asks it for its solver.  Methods:

* ``fdm`` — :class:`~femkron.FastDiagonalization` (Lynch, Rice & Thomas 1964), the exact
  inverse of a separable Kronecker sum, read from the separable record the operator carries;
  for an operator that is not separable (a variable coefficient, matrix-free or assembled),
  a Krylov method preconditioned by fdm of a separable fit (``fit``): ``fdm-cg`` or
  ``fdm-gmres``.
* ``direct`` — sparse LU of the CSR matrix (singularity detected by a condition estimate).
* ``cg`` — conjugate gradients with a Jacobi preconditioner.
* ``amg`` — conjugate gradients preconditioned by a pyamg smoothed-aggregation V-cycle.
* ``gmres``, ``bicgstab`` — with the preconditioner given as ``precond`` or ``fit``.
* ``petsc`` — distributed over the MPI ranks (:mod:`femkron.petsc`, needs petsc4py).
* ``auto`` — ``fdm`` for a separable Kronecker sum (unless an axis would make a dense
  eigenproblem too large) and for a matrix-free operator; else ``direct`` while the system
  is small (at most :data:`DIRECT_MAX_DOFS` dofs and a CSR form under 1 GiB), ``amg`` above.

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
>>> solver = fk.make_solver(A)          # set up once, solve many times
>>> bool(np.allclose(solver.solve(2 * b), 2 * x))
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._limits import check_allocation, memory_limit
from .._validate import as_array, as_int, as_real, check_choice
from ..errors import ConvergenceError, FemkronTypeError, FemkronValueError, StructureError
from ..kron.diagonalize import FastDiagonalization
from ..kron.operator import KronOperator
from ..kron.structure import pencils
from .info import SolveInfo
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
    "make_solver",
    "Solver",
    "SolveInfo",
    "FastDiagonalization",
    "pcg",
    "krylov_solve",
    "METHODS",
    "LOCAL_METHODS",
    "SOLVER_METHODS",
    "StructureError",
    "backward_error",
    "check_fdm_accuracy",
    "fallback_method",
    "lu_nbytes",
]

METHODS = ("auto", "fdm", "amg", "cg", "direct", "petsc")

#: The methods femkron runs itself (``"petsc"`` is reached through :func:`femkron.poisson`).
LOCAL_METHODS = tuple(m for m in METHODS if m != "petsc")

#: Every method :func:`make_solver` accepts.
SOLVER_METHODS = METHODS + ("gmres", "bicgstab")

#: ``auto`` uses a sparse LU up to this many unknowns (and a CSR form under 1 GiB), AMG above.
DIRECT_MAX_DOFS = 200_000

#: Condition number (1-norm estimate) above which a direct solve is refused as singular.
SINGULAR_CONDITION = 1e13

#: Largest componentwise backward error a fast-diagonalization solve may leave; above it the
#: 1D eigenproblems were too ill-conditioned (e.g. cells from 1e-11 to 0.3 on one axis).
FDM_BACKWARD_ERROR = 1e-8


# ---- cost and memory model -----------------------------------------------------------------
def _csr_nbytes(A):
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
    nnz = _csr_nbytes(A) / 12
    if D <= 1:
        fill = 3.0 * nnz
    elif D == 2:
        fill = 10.0 * N * np.log2(N)
    else:
        fill = 32.0 * float(N) ** (2.0 * (D - 1) / D)
    return int(12 * max(fill, nnz)) + _csr_nbytes(A)


def _fdm_nbytes(A):
    """Bytes of the dense per-axis factors of a fast diagonalization (K, M, S, Sᵀ)."""
    return sum(4 * 8 * n * n for n in A.in_shape)


def fallback_method(A):
    """The general method ``auto`` uses where fast diagonalization does not apply: ``direct``
    for a small system, ``amg`` for a large one.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> fallback_method(sp.identity(10, format="csr"))
    'direct'
    """
    if A.shape[0] <= DIRECT_MAX_DOFS and _csr_nbytes(A) < 2**30:
        return "direct"
    return "amg"


def _separable(A):
    """``(True, "")`` when fdm can solve the Kronecker sum ``A`` exactly; else ``(False,
    reason code)``."""
    try:
        pencils(A)
    except StructureError as err:
        return False, err.reason
    if _fdm_nbytes(A) > memory_limit() // 4:
        return False, "fdm-too-large"
    return True, ""


def _auto_method(A, fit):
    """``(method, note)`` chosen by ``auto`` for the operator ``A``."""
    if isinstance(A, KronOperator):
        ok, reason = _separable(A)
        if ok:
            how = "carried" if A.structure is not None else "discovered"
            return "fdm", (
                f"auto: the operator is a separable Kronecker sum ({how} structure), so fdm "
                "solves it exactly"
            )
        if fit is not None:
            return "fdm", f"auto: not separable ({reason}); fdm of a separable fit preconditions"
        method = fallback_method(A)
        size = "small enough for a sparse LU" if method == "direct" else "large, so AMG-CG"
        return method, f"auto: not separable ({reason}); {size}"
    if not sp.issparse(A):  # matrix-free
        return "fdm", "auto: a matrix-free operator, preconditioned by fdm of a separable fit"
    method = fallback_method(A)
    size = "small enough for a sparse LU" if method == "direct" else "large, so AMG-CG"
    return method, f"auto: an assembled matrix, {size}"


# ---- checks --------------------------------------------------------------------------------
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
    >>> check_fdm_accuracy(A, FastDiagonalization(A)) is None
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


# ---- set-up of each method -----------------------------------------------------------------
def _as_csr(A):
    return sp.csr_matrix(A) if sp.issparse(A) else A.tocsr()


def _lu(A, singular):
    """Sparse LU of ``A`` (the first dof pinned when ``singular``), checked for singularity.

    Returns ``(inverse, note)``; the one place femkron factorises a sparse matrix.
    """
    check_allocation(
        lu_nbytes(A),
        f"a sparse LU factorisation of this {A.shape[0]}×{A.shape[1]} operator",
        "use method='fdm' (separable operators) or method='amg'",
    )
    Acsr = _as_csr(A)
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
    condition = _condition_estimate(Acsr, lu)
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
        return (lambda b: np.concatenate([[0.0], lu.solve(b[1:])])), note
    return lu.solve, note


def _amg(A):
    """The CSR form of ``A`` and a pyamg smoothed-aggregation V-cycle for it; the one place
    femkron sets up AMG."""
    import pyamg

    check_allocation(
        3 * _csr_nbytes(A),
        f"the CSR form and AMG hierarchy of this {A.shape[0]}×{A.shape[1]} operator",
        "use method='fdm' (separable operators) or method='cg' (matrix-free)",
    )
    Acsr = _as_csr(A)
    ml = pyamg.smoothed_aggregation_solver(
        Acsr, B=np.ones((A.shape[0], 1)), symmetry="hermitian"
    )
    return Acsr, ml.aspreconditioner(cycle="V").matvec


def _fit_preconditioner(fit, singular):
    """The fdm preconditioner of ``fit``: a separable KronOperator (exact fdm) or a
    matrix-free operator (fdm of its separable fit).  Returns ``(apply, setup, note)``."""
    if callable(fit) and not hasattr(fit, "shape"):
        fit = fit()
    if isinstance(fit, KronOperator):
        fdm = FastDiagonalization(fit, singular=singular)
        return fdm.solve, fdm.setup_seconds, ""
    P = fit.preconditioner(singular=singular)
    note = f"fdm of a separable fit of the coefficient (max/min of κ/κ̃: {P.contrast:.3g})"
    return P.solve, P.setup_seconds, note


class Solver:
    """A solver of ``A x = b``, set up once by :func:`make_solver`.

    Attributes
    ----------
    A : operator
    method : str
        The method used (``auto`` resolved).
    info : SolveInfo
        Set-up time, the method, any fallback; after each :meth:`solve` also its residual,
        iterations (summed over solves) and time.
    """

    def __init__(self, A, method, info, inverse=None, precond=None, krylov=None, **options):
        self.A = A
        self.method = method
        self.info = info
        self._inverse = inverse
        self._precond = precond
        self._krylov = krylov
        self._opt = options
        self._apply = A.__matmul__
        self._verify = None

    def __repr__(self):
        return f"<Solver {self.method} for a {self.A.shape[0]}×{self.A.shape[1]} operator>"

    def solve(self, b, x0=None):
        """Solve ``A x = b``; ``x0`` starts an iterative method (ignored by direct ones).

        Raises
        ------
        ConvergenceError
            When an iterative method misses its tolerance (unless the solver was made with
            ``raise_on_failure=False``: then ``info.converged`` is False).
        """
        opt, info = self._opt, self.info
        t0 = time.perf_counter()
        project = opt["project"]
        if project is not None:
            b = project(b)
        history = []
        if self._inverse is not None:
            x = self._inverse(b)
            iterations = 0
            if self._verify is not None and self._lost_accuracy(x, b):
                return self.solve(b, x0)  # solved again by the replacement method
        else:
            x, iterations, history = self._iterate(b, x0, project)
        if project is not None:
            x = project(x)
        info.iterations += iterations
        info.history = list(history)
        info.seconds += time.perf_counter() - t0
        if opt["check"] or self._inverse is None:
            self._judge(x, b, history, true_residual=opt["check"])
        return x

    def _lost_accuracy(self, x, b):
        """Judge a fast diagonalization on its first solve by the componentwise backward
        error; when it lost accuracy, become the replacement solver (or raise)."""
        how, self._verify = self._verify, None
        omega = backward_error(self.A, x, b)
        if omega <= FDM_BACKWARD_ERROR:
            return False
        lost = (
            f"fast diagonalization lost accuracy (componentwise backward error {omega:.1e}: "
            "the 1D eigenproblems are too ill-conditioned, e.g. a strongly graded mesh)"
        )
        opt = self._opt
        if how["asked"] != "auto" and how["fit"] is None:
            if not opt["raise_on_failure"]:
                self.info.converged = False
                self.info.note = "; ".join(s for s in (self.info.note, lost) if s)
                return False
            raise StructureError(
                f"method='fdm': {lost}; use method='direct' or 'amg'", reason="lost-accuracy"
            )
        general = how["asked"] == "auto"
        t0 = time.perf_counter()
        other = make_solver(
            self.A,
            fallback_method(self.A) if general else "fdm",
            rtol=opt["rtol"],
            maxiter=how["maxiter"],
            singular=how["singular"],
            fit=None if general else how["fit"],
            krylov=how["krylov"],
            restart=opt["restart"],
            label=None if general else how["label"],
            raise_on_failure=opt["raise_on_failure"],
            check=opt["check"],
            exact=False,
        )
        note = f"{self.info.note}; {lost}, so {other.method} instead"
        other.info.note = note.lstrip("; ")
        other.info.fallback = "lost-accuracy"
        other.info.setup_seconds += self.info.setup_seconds
        other.info.seconds = self.info.seconds + other.info.seconds + time.perf_counter() - t0
        self.__dict__.update(other.__dict__)
        return True

    def _iterate(self, b, x0, project):
        opt = self._opt
        rtol, maxiter = opt["rtol"], opt["maxiter"]
        kind = self._krylov
        try:
            if kind == "pcg":
                return pcg(self._apply, b, self._precond, rtol, maxiter, x0=x0, project=project)
            if kind == "cg":
                return fcg(self._apply, b, self._precond, rtol, maxiter, x0=x0, project=project)
            if kind == "gmres":
                return gmres(self._apply, b, self._precond, rtol, maxiter, opt["restart"], x0)
            return bicgstab(self._apply, b, self._precond, rtol, maxiter, x0)
        except ConvergenceError as err:  # a breakdown: judged below by the true residual
            if opt["raise_on_failure"] or err.x is None:
                raise
            return err.x, err.iterations, err.residuals

    def _judge(self, x, b, history, true_residual=True):
        """The check of a solve: by its true residual (or, without ``true_residual``, an
        iterative method by the last residual of its recurrence)."""
        opt, info = self._opt, self.info
        if true_residual:
            residual = relative_residual(self.A, x, b)
        else:
            residual = history[-1] if history else 0.0
        info.residual = residual
        rtol = opt["rtol"]
        if self._inverse is None:  # iterative: the tolerance, up to the recurrence's drift
            info.converged = bool(
                residual <= 1.01 * rtol or (history and history[-1] <= rtol and residual < 10 * rtol)
            )
            if not info.converged and opt["raise_on_failure"]:
                raise ConvergenceError(
                    f"{info.method} did not reach rtol={rtol:g} in {info.iterations} iterations "
                    f"(relative residual {residual:.2e}); raise maxiter or use method='direct'",
                    iterations=info.iterations,
                    residuals=history,
                )
        elif self.method == "direct" and not residual <= 1e-6:
            info.converged = False
            if opt["raise_on_failure"]:
                raise FemkronValueError(
                    f"A is numerically singular: method='direct' left a relative residual of "
                    f"{residual:.2e}",
                    reason="singular",
                )


def make_solver(
    A,
    method="auto",
    *,
    rtol=1e-10,
    maxiter=None,
    singular=False,
    fit=None,
    precond=None,
    krylov="cg",
    restart=50,
    label=None,
    raise_on_failure=True,
    check=True,
    exact=True,
):
    """Set up a solver of ``A x = b`` for any number of right-hand sides.

    Parameters
    ----------
    A : KronOperator, MatrixFreeOperator or scipy sparse matrix
        The operator (on the free dofs).
    method : {"auto", "fdm", "direct", "cg", "amg", "gmres", "bicgstab", "petsc"}
        See :mod:`femkron.linalg.solve`.
    rtol : float
        Relative residual tolerance of the iterative methods.
    maxiter : int, optional
    singular : bool
        The constant vector spans the kernel (pure Neumann/periodic): right-hand sides are
        projected onto its complement and solutions have zero sum.
    fit : KronOperator, MatrixFreeOperator or callable returning one, optional
        The operator whose fast diagonalization preconditions a Krylov method when ``A`` is
        not a separable Kronecker sum (a matrix-free ``A`` is its own fit).
    precond : callable, optional
        ``r ↦ P⁻¹ r`` for ``gmres``/``bicgstab`` (instead of ``fit``).
    krylov : {"cg", "gmres", "bicgstab"}
        The Krylov method preconditioned by fdm of ``fit`` (``"gmres"`` for indefinite or
        non-symmetric operators).
    restart : int
        GMRES restart length.
    label : str, optional
        The method name reported in the info.
    raise_on_failure : bool
        Raise :class:`ConvergenceError` when an iterative method misses ``rtol`` (else
        ``info.converged`` is False).
    check : bool
        Judge every solve by its true relative residual (one operator product); iterative
        methods are always judged (without ``check``: by their recurrence's residual).
    exact : bool
        ``method="fdm"`` may solve a separable Kronecker sum exactly (``False``: go straight
        to the Krylov method preconditioned by fdm of ``fit``).

    Returns
    -------
    Solver

    Raises
    ------
    StructureError
        ``method="fdm"`` on an operator that is not separable, with no ``fit``.
    ResourceError
        A set-up that would pass the memory limit.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> s = make_solver(A, "direct")
    >>> x = s.solve(np.ones(A.shape[0]))
    >>> s.info.method, bool(s.info.residual < 1e-12)
    ('direct', True)
    """
    check_choice(method, "method", SOLVER_METHODS)
    check_choice(krylov, "krylov", KRYLOV)
    rtol = as_real(rtol, "rtol", positive=True)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    restart = as_int(restart, "restart", minimum=1)
    if not (isinstance(A, KronOperator) or sp.issparse(A) or hasattr(A, "__matmul__")):
        raise FemkronTypeError(f"A must be an operator, got {type(A).__name__}")
    if method == "petsc":  # distributed over the MPI ranks (femkron.petsc, needs petsc4py)
        return _petsc_solver(A, rtol, maxiter, singular)
    t0 = time.perf_counter()
    note, fallback = "", None
    asked = method
    if method == "auto":
        method, note = _auto_method(A, fit)
    project = constant_projector(A.shape[0]) if singular else None
    options = dict(
        rtol=rtol,
        maxiter=maxiter,
        restart=restart,
        project=project,
        check=check,
        raise_on_failure=raise_on_failure,
    )
    inverse = precond_apply = kind = None
    verify = False
    if method == "fdm" and isinstance(A, KronOperator) and exact:
        ok, reason = _separable(A)
        if ok:
            try:
                inverse = FastDiagonalization(A, singular=singular).solve
                verify = True  # judged on the first solve by its backward error
            except StructureError as err:
                ok, reason = False, err.reason
        if not ok:
            if fit is None and asked != "auto":
                if reason == "fdm-too-large":
                    check_allocation(
                        _fdm_nbytes(A),
                        "the dense 1D factors of fast diagonalization",
                        "use method='amg' or method='cg'",
                    )
                raise StructureError(
                    "method='fdm' needs a separable Kronecker sum Σ_d M_1⊗…⊗K_d⊗…⊗M_D "
                    "(+ σ ⊗M) with symmetric factors and SPD masses; this operator is not one "
                    "(e.g. a general coefficient): use method='direct', 'amg' or 'cg'",
                    reason=reason,
                )
            fallback = reason
            if fit is None:  # chosen by auto: the general method
                method = fallback_method(A)
                note = f"{note}; fdm refused ({reason}), so {method} instead"
    if method == "fdm" and inverse is None:  # fdm of a separable fit preconditions Krylov
        source = fit if fit is not None else (A if not isinstance(A, KronOperator) else None)
        if source is None or sp.issparse(source):
            raise StructureError(
                "method='fdm' on an operator that is not a separable Kronecker sum needs a "
                "separable fit (fit=...): give a MatrixFreeOperator, or use method='direct', "
                "'amg' or 'cg'",
                reason="not-separable",
            )
        precond_apply, setup, fit_note = _fit_preconditioner(source, singular)
        kind = krylov
        method = label or f"fdm-{krylov}"
        if fallback is None and isinstance(A, KronOperator):
            fallback = "not-separable"
        note = "; ".join(s for s in (note, f"{krylov} preconditioned by {fit_note or 'fdm'}") if s)
    elif method == "direct":
        inverse, lu_note = _lu(A, singular)
        note = "; ".join(s for s in (note, lu_note) if s)
    elif method == "amg":
        Acsr, precond_apply = _amg(A)
        kind = "pcg"
        solver_A = Acsr
    elif method == "cg":
        precond_apply, kind = jacobi(A.diagonal()), "pcg"
    elif method in ("gmres", "bicgstab"):
        if precond is None and fit is not None:
            precond, _, _ = _fit_preconditioner(fit, singular)
        precond_apply, kind = precond, method
    setup = time.perf_counter() - t0
    info = SolveInfo(
        label or method,
        setup_seconds=setup,
        seconds=setup,
        note=note,
        fallback=fallback,
    )
    solver = Solver(A, info.method, info, inverse, precond_apply, kind, **options)
    if method == "amg":
        solver._apply = solver_A.__matmul__
    if verify:
        solver._verify = dict(
            asked=asked, fit=fit, krylov=krylov, singular=singular, maxiter=maxiter, label=label
        )
    return solver


def _petsc_solver(A, rtol, maxiter, singular):
    """A :class:`Solver` whose solves run PETSc's KSP (:func:`femkron.petsc.solve`)."""
    from ..petsc import solve as petsc_solve

    info = SolveInfo("petsc")

    def inverse(b):
        x, run = petsc_solve(A, b, rtol=rtol, maxiter=maxiter, singular=singular)
        solver.info = run
        return x

    solver = Solver(
        A,
        "petsc",
        info,
        inverse,
        rtol=rtol,
        maxiter=maxiter,
        restart=50,
        project=None,
        check=False,
        raise_on_failure=True,
    )
    return solver


def solve(A, b, method="auto", rtol=1e-10, maxiter=None, singular=False, raise_on_failure=True):
    """Solve ``A x = b``: one :func:`make_solver` set-up and one solve.

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

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> x, info = solve(A, np.ones(A.shape[0]), method="cg")
    >>> info.method, info.converged
    ('cg', True)
    """
    if not isinstance(A, KronOperator):
        raise FemkronTypeError(f"A must be a KronOperator, got {type(A).__name__}")
    check_choice(method, "method", METHODS)
    b = as_array(b, "b", finite=False)
    if b.shape != (A.shape[0],):
        raise FemkronValueError(f"b must have shape ({A.shape[0]},), got {b.shape}")
    if not np.all(np.isfinite(b)):
        raise FemkronValueError("b contains NaN or inf")
    return run_solver(
        A,
        b,
        method,
        rtol=rtol,
        maxiter=maxiter,
        singular=singular,
        raise_on_failure=raise_on_failure,
    )


def run_solver(A, b, method="auto", x0=None, **options):
    """``make_solver(A, method, **options)`` and one solve: ``(x, info)``."""
    solver = make_solver(A, method, **options)
    x = solver.solve(b, x0)
    return x, solver.info


def krylov_solve(
    A, b, method="cg", precond=None, rtol=1e-10, maxiter=None, singular=False, label=None
):
    """Solve ``A x = b`` with a Krylov method and report it as a :class:`SolveInfo`.

    Parameters
    ----------
    A : operator with ``@`` (KronOperator, MatrixFreeOperator, sparse matrix, array)
    method : {"cg", "gmres", "bicgstab"}
        Flexible CG (:func:`femkron.linalg.krylov.fcg`), GMRES or BiCGSTAB.
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
    project = constant_projector(b.shape[0]) if singular else None
    info = SolveInfo(label or method)
    kind = "cg" if method == "cg" else method
    solver = Solver(
        A,
        info.method,
        info,
        None,
        precond,
        kind,
        rtol=rtol,
        maxiter=maxiter,
        restart=50,
        project=project,
        check=True,
        raise_on_failure=True,
    )
    x = solver.solve(b)
    return x, solver.info
