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

import functools
import time

import numpy as np
import scipy.sparse as sp

from .._limits import check_allocation, check_peak
from .._threads import SERIAL_BELOW, threads_for  # noqa: F401 (SERIAL_BELOW: importable here)
from .._validate import as_array, as_int, as_real, check_choice
from ..errors import FemkronTypeError, FemkronValueError, StructureError
from ..kron.diagonalize import FastDiagonalization
from ..kron.nested import NestedDiagonalization, PoleConstrainedOperator
from ..kron.operator import KronOperator
from .checks import (
    backward_error,
    check_fdm_accuracy,
)
from .cost import (
    auto_method,
    fallback_method,
    fdm_nbytes,
    general_plan,
    is_matrix_free,
    lu_nbytes,
    nested_applies,
    separable,
    solver_nbytes,
)
from .info import SolveInfo
from .krylov import (
    KRYLOV,
    constant_projector,
    jacobi,
    pcg,
)
from .preconditioners import amg, fit_preconditioner, lu
from .solver import Solver

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
SOLVER_METHODS = METHODS + ("gmres", "bicgstab", "schur", "nested")

#: What to try instead when a method's estimated peak passes the memory limit.
_CHEAPER = {
    "fdm": "use method='amg' or method='cg' (matrix-free), or fewer cells",
    "direct": "use method='fdm' (separable operators) or method='amg', or fewer cells",
    "amg": "use method='fdm' (separable operators) or method='cg' (matrix-free), or fewer cells",
}


def _serial_when_small(setup):
    """Run ``setup(A, ...)`` with one BLAS thread when ``A`` is small (:func:`threads_for`)."""

    @functools.wraps(setup)
    def wrapper(A, *args, **kwargs):
        with threads_for(int(A.shape[0]) if hasattr(A, "shape") else 0):
            return setup(A, *args, **kwargs)

    return wrapper


def _cartesian(A):
    """Whether a matrix-free operator lives on a box (the cost model's measured case)."""
    coordinates = getattr(getattr(A, "V", None), "coordinates", None)
    return getattr(coordinates, "name", "cartesian") == "cartesian"


@_serial_when_small
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
    held=0,
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
        ``r ↦ P⁻¹ r`` for ``gmres``/``bicgstab`` (instead of ``fit``), and for ``cg``
        (flexible CG, instead of Jacobi).
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
    held : int
        Bytes the caller holds during the solve (its vectors), added to the solver's own
        estimate before the whole peak is checked against :func:`femkron.memory_limit`.
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
        method, note = auto_method(A, fit)
    if method == "schur":  # a union of boxes: exact fdm per box, CG on the interfaces
        return _schur_solver(A, note, rtol, maxiter, singular, krylov, label, raise_on_failure, fit)
    plan = None
    if method == "fdm" and is_matrix_free(A) and _cartesian(A):  # the cost model (linalg/cost)
        if callable(fit) and not hasattr(fit, "shape"):
            fit = fit()  # made on demand; for a matrix-free operator, usually A itself
        if fit is None or fit is A:
            plan = general_plan(A, rtol)
            if asked == "auto" and plan.preconditioner == "amg" and not singular:
                method = "amg"
            note = "; ".join(s for s in (note, plan.note) if s)
    if method == "fdm" and exact and _nested_instead(A):
        method = "nested"  # fdm generalised: one axis solved banded per mode (kron/nested.py)
    elif method == "fdm" and isinstance(A, PoleConstrainedOperator):
        raise StructureError(
            "method='fdm' on this curvilinear operator: its axes do not diagonalize per mode "
            "(e.g. a Robin condition on a sector edge); use method='direct' or 'amg'",
            reason="not-nested",
        )
    planned = method if method != "fdm" or isinstance(A, KronOperator) else f"fdm-{krylov}"
    N = int(A.shape[0])
    check_peak(
        {"the caller's vectors": held, f"the {planned} solver": solver_nbytes(A, planned, restart)},
        f"solving this system of {N} unknowns by {planned}",
        _CHEAPER.get(planned.split("-")[0], "use fewer cells or a lower order"),
    )
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
    if method == "nested":
        try:
            inverse = NestedDiagonalization(A, singular=singular).solve
        except StructureError as err:
            if asked != "auto":
                raise
            method = fallback_method(A)
            fallback = err.reason
            note = f"{note}; nested refused ({err.reason}), so {method} instead"
    if method == "fdm" and isinstance(A, KronOperator) and exact:
        ok, reason = separable(A)
        if ok:
            try:
                inverse = FastDiagonalization(A, singular=singular).solve
                verify = True  # judged on the first solve by its backward error
            except StructureError as err:
                ok, reason = False, err.reason
            except FemkronValueError as err:
                # zero eigenvalues to rounding: a singular operator, or 1D eigenproblems that
                # lost their accuracy (a strongly graded mesh); auto lets the general method judge
                if asked != "auto" or err.reason != "singular":
                    raise
                ok, reason = False, "lost-accuracy"
        if not ok:
            if fit is None and asked != "auto":
                if reason == "fdm-too-large":
                    check_allocation(
                        fdm_nbytes(A),
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
            if fit is None or reason == "lost-accuracy":  # chosen by auto: the general method
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
        precond_apply, setup, fit_note = fit_preconditioner(source, singular)
        if plan is not None and plan.operator == "csr":  # assembled once, SpMV per step
            solver_A = A.tostencil() if hasattr(A, "tostencil") else None
            if solver_A is None:
                solver_A = A.tocsr()
            else:
                note = (
                    f"{note} (stored by its {solver_A.offsets.size} diagonals on and above "
                    "the main one)"
                )
        kind = krylov
        method = label or f"fdm-{krylov}"
        if fallback is None and isinstance(A, KronOperator):
            fallback = "not-separable"
        note = "; ".join(s for s in (note, f"{krylov} preconditioned by {fit_note or 'fdm'}") if s)
    elif method == "direct":
        inverse, lu_note, options["condition"] = lu(A, singular)
        note = "; ".join(s for s in (note, lu_note) if s)
    elif method == "amg":
        Acsr, precond_apply = amg(A)
        kind = "pcg"
        solver_A = Acsr
    elif method == "cg" and precond is not None:  # flexible CG with the given preconditioner
        precond_apply, kind = precond, "cg"
    elif method == "cg":
        precond_apply, kind = jacobi(A.diagonal()), "pcg"
    elif method in ("gmres", "bicgstab"):
        if precond is None and fit is not None:
            precond, _, _ = fit_preconditioner(fit, singular)
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
    solver._factory = make_solver
    if method == "amg" or (plan is not None and plan.operator == "csr" and kind == krylov):
        solver._apply = solver_A.__matmul__
    solver.plan = plan
    if verify:
        solver._verify = dict(
            asked=asked, fit=fit, krylov=krylov, singular=singular, maxiter=maxiter, label=label
        )
    return solver


def _nested_instead(A):
    """``method="fdm"`` on an operator that is nested but not separable: nested solves it."""
    if isinstance(A, PoleConstrainedOperator):
        return nested_applies(A)[0]
    if not isinstance(A, KronOperator):
        return False
    ok, reason = separable(A)  # a too large dense axis is refused as in 0.1, not re-routed
    return not ok and reason != "fdm-too-large" and nested_applies(A)[0]


def _schur_solver(A, note, rtol, maxiter, singular, krylov, label, raise_on_failure, fit=None):
    """A :class:`Solver` of a union of boxes (:mod:`femkron.linalg.schur`).

    For an operator without the box record (a variable coefficient) and a union ``fit``:
    flexible CG (or GMRES) preconditioned by the union solve of the fit.
    """
    from .schur import SchurComplementSolver, is_union_operator

    if not is_union_operator(A) and is_union_operator(fit):
        t0 = time.perf_counter()
        inner = SchurComplementSolver(fit, rtol=1e-8, singular=singular, krylov=krylov)
        info = SolveInfo(
            label or f"schur-{krylov}",
            setup_seconds=time.perf_counter() - t0,
            note="; ".join(
                s for s in (note, f"{krylov} preconditioned by the union solve of a fit") if s
            ),
        )
        info.seconds = info.setup_seconds
        return Solver(
            A,
            info.method,
            info,
            None,
            inner.solve,
            krylov,
            rtol=rtol,
            maxiter=maxiter,
            restart=50,
            project=constant_projector(A.shape[0]) if singular else None,
            check=True,
            raise_on_failure=raise_on_failure,
        )
    if not is_union_operator(A):
        raise StructureError(
            "method='schur' needs the operator of a union of boxes (fk.BoxUnion) with a "
            "constant coefficient; use method='direct' or 'amg'",
            reason="not-union",
        )
    t0 = time.perf_counter()
    schur = SchurComplementSolver(A, rtol=rtol, maxiter=maxiter, singular=singular, krylov=krylov)
    info = SolveInfo(
        label or "schur",
        setup_seconds=time.perf_counter() - t0,
        note="; ".join(
            s for s in (note, f"{len(schur.boxes)} boxes, {schur.gamma.size} interface dofs") if s
        ),
    )
    info.seconds = info.setup_seconds

    def inverse(b):
        x = schur.solve(b)
        solver.info.iterations += schur.iterations
        solver.info.history = list(schur.history)
        return x

    solver = Solver(
        A,
        info.method,
        info,
        inverse,
        rtol=rtol,
        maxiter=maxiter,
        restart=50,
        project=None,
        check=True,
        raise_on_failure=raise_on_failure,
    )
    solver.schur = schur
    return solver


def _petsc_solver(A, rtol, maxiter, singular):
    """A :class:`Solver` whose solves run PETSc's KSP (:func:`femkron.petsc.solve`)."""
    from ..petsc.ksp import solve as petsc_solve

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
