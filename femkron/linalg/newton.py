"""Inexact Newton–Krylov for ``F(x) = 0`` on operators and callables.

:func:`newton_krylov` knows nothing of finite elements: it takes the residual ``x ↦ F(x)``, the
Jacobian as an operator ``J(x)`` (anything with ``@`` and ``shape``; none: directional finite
differences of ``F``), and solves every Newton system ``J(x_k) s = -F(x_k)`` only as accurately
as it needs to, with a Krylov method set up by :func:`~femkron.make_solver` (the one solver
home) and preconditioned by fast diagonalization of a ``fit`` (a separable operator, fixed or
rebuilt from ``x_k`` at every step) or by a given ``precond``.

* **Forcing terms** (Eisenstat & Walker 1996, choice 2): the Krylov tolerance is
  ``η_k = γ (‖F_k‖/‖F_{k-1}‖)^α`` with ``γ = 0.9``, ``α = 2``, safeguarded by
  ``γ η_{k-1}^α`` when that exceeds 0.1, capped by ``eta_max`` and floored by
  ``0.5 τ/‖F_k‖`` (``τ`` the stopping tolerance: no oversolving in the last step).  Far from
  the root the systems are solved loosely; near it ``η_k = O(‖F_k‖)``, which keeps the
  convergence q-quadratic.
* **Line search** (Eisenstat & Walker 1994, inexact Newton backtracking): a step ``t s`` is
  accepted when ``‖F(x + t s)‖ ≤ (1 - 10⁻⁴ t (1 - η)) ‖F(x)‖``; otherwise ``t`` is reduced by
  the minimiser of the quadratic model of ``‖F‖²``, kept in ``[0.1 t, 0.5 t]``, and ``η`` is
  relaxed to ``1 - θ (1 - η)`` with it.  A trial point where ``F`` is not finite, or where the
  residual raises an error with ``reason="invalid-state"``, is backtracked from likewise.

Every outcome is reported in a :class:`NewtonInfo`: the residual history, the forcing terms,
the step lengths and the Krylov iterations of every step; a failure raises
:class:`~femkron.ConvergenceError` with the history (``reason`` ``"not-converged"`` or
``"line-search"``).

Examples
--------
>>> import numpy as np
>>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> F = lambda x: A @ x + x**3 - np.array([1.0, 2.0])
>>> J = lambda x: A + np.diag(3 * x**2)
>>> x, info = newton_krylov(F, np.zeros(2), J, rtol=1e-12)
>>> bool(np.linalg.norm(F(x)) < 1e-11), info.converged
(True, True)
>>> len(info.history) == info.iterations + 1
True
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import scipy.sparse as sp

from .._validate import as_array, as_int, as_real, check_choice
from ..errors import ConvergenceError, FemkronError, FemkronTypeError, FemkronValueError
from .info import SolveInfo
from .krylov import KRYLOV
from .preconditioners import fit_preconditioner
from .solve import make_solver

__all__ = ["NewtonInfo", "newton_krylov", "eisenstat_walker", "FORCING"]

#: Accepted values of ``forcing`` besides a number in (0, 1).
FORCING = ("eisenstat-walker",)

#: Sufficient decrease of the line search (fraction of the predicted decrease).
ARMIJO = 1e-4

#: The first forcing term (Eisenstat & Walker 1996).
ETA0 = 0.5

#: The smallest forcing term asked of a Krylov method (rounding stops it below).
ETA_MIN = 1e-13


@dataclasses.dataclass
class NewtonInfo(SolveInfo):
    """What a Newton solve did (a :class:`~femkron.SolveInfo` with the nonlinear history).

    ``iterations`` counts Newton steps, ``history`` holds the relative residual norms
    ``‖F(x_k)‖ / ‖F(x_0)‖`` (starting with 1) and ``residual`` the last of them.

    Attributes
    ----------
    residual_norms : list of float
        ``‖F(x_k)‖`` (Euclidean), starting with ``x_0``.
    forcing : list of float
        The Krylov tolerance ``η_k`` of every step (after any relaxation by the line search).
    step_lengths : list of float
        The accepted line-search factor ``t_k`` of every step (1: the full Newton step).
    linear_iterations : list of int
        Krylov iterations of every step.
    linear_method : str
        The Krylov method and its preconditioner (``"fdm-gmres"``, ``"cg"``, ...).
    backtracks : int
        Line-search reductions over all steps.
    derivatives : str
        How the problem obtained the derivatives of its nonlinear terms (set by the
        problems: ``"given"``, ``"complex-step"``, ``"finite-difference"``; empty here).

    Examples
    --------
    >>> info = NewtonInfo("newton", iterations=3, residual=1e-12, history=[1, 1e-2, 1e-6, 1e-12])
    >>> print(info)
    newton: 3 iterations (0 linear), relative residual 1.00e-12, 0 s
    """

    residual_norms: list = dataclasses.field(default_factory=list)
    forcing: list = dataclasses.field(default_factory=list)
    step_lengths: list = dataclasses.field(default_factory=list)
    linear_iterations: list = dataclasses.field(default_factory=list)
    linear_method: str = ""
    backtracks: int = 0
    derivatives: str = ""

    def __str__(self):
        return (
            f"{self.method}: {self.iterations} iterations ({sum(self.linear_iterations)} "
            f"linear), relative residual {self.residual:.2e}, {self.seconds:.3g} s"
        )


def eisenstat_walker(fnorm, fnorm_old, eta_old, eta_max=0.9, floor=0.0, gamma=0.9, alpha=2.0):
    """The next forcing term, Eisenstat & Walker (1996) choice 2 with its safeguards.

    ``η = γ (‖F_k‖/‖F_{k-1}‖)^α``; raised to ``γ η_{k-1}^α`` when that exceeds 0.1 (the
    ratio may be small by chance); then ``min(eta_max, max(η, floor))``.

    Examples
    --------
    >>> round(eisenstat_walker(1e-2, 1.0, 0.5), 8)            # fast decrease: a tight solve
    0.225
    >>> round(eisenstat_walker(1e-6, 1e-3, 1e-3), 12)
    9e-07
    """
    eta = gamma * (fnorm / fnorm_old) ** alpha
    safe = gamma * eta_old**alpha
    if safe > 0.1:
        eta = max(eta, safe)
    return float(min(eta_max, max(eta, floor)))


class _DirectionalJacobian:
    """``v ↦ (F(x + h v) - F(x)) / h``: the Jacobian-free product (first order in ``h``)."""

    def __init__(self, residual, x, F):
        self.residual, self.x, self.F = residual, x, F
        self.shape = (x.size, x.size)
        self.dtype = np.dtype(float)

    def __matmul__(self, v):
        v = np.asarray(v, dtype=float)
        vn = np.linalg.norm(v)
        if vn == 0:
            return np.zeros_like(self.F)
        h = np.sqrt(np.finfo(float).eps) * (1.0 + np.linalg.norm(self.x)) / vn
        return (np.asarray(self.residual(self.x + h * v), dtype=float) - self.F) / h


class _CallableOperator:
    """An operator from a function ``v ↦ J v`` (for ``@``)."""

    def __init__(self, apply, n):
        self._apply = apply
        self.shape = (n, n)
        self.dtype = np.dtype(float)

    def __matmul__(self, v):
        return np.asarray(self._apply(v), dtype=float)


def _as_operator(J, n):
    if sp.issparse(J) or isinstance(J, np.ndarray) or hasattr(J, "__matmul__"):
        if tuple(getattr(J, "shape", (n, n))) != (n, n):
            raise FemkronValueError(f"jacobian(x) must have shape ({n}, {n}), got {J.shape}")
        return J
    if callable(J):
        return _CallableOperator(J, n)
    raise FemkronTypeError(
        f"jacobian(x) must return an operator (with @) or a callable v ↦ J v, got "
        f"{type(J).__name__}"
    )


def _evaluate(residual, x, n, trial):
    """``(F, ‖F‖)``; at a trial point a non-finite or invalid residual gives ``(None, inf)``."""
    try:
        with np.errstate(all="ignore"):
            F = residual(x)
    except FemkronError as err:
        if trial and err.reason == "invalid-state":
            return None, np.inf
        raise
    F = np.asarray(F, dtype=float) if not isinstance(F, np.ndarray) else F
    if F.shape != (n,):
        raise FemkronValueError(f"residual(x) must return an array of shape ({n},), got {F.shape}")
    with np.errstate(all="ignore"):
        fnorm = float(np.linalg.norm(F))
    if not np.isfinite(fnorm):
        if trial:
            return None, np.inf
        raise FemkronValueError(
            "the residual at the initial guess x0 is not finite (NaN or inf); start elsewhere"
        )
    return F, fnorm


def newton_krylov(
    residual,
    x0,
    jacobian=None,
    *,
    fit=None,
    precond=None,
    krylov="gmres",
    rtol=1e-10,
    atol=0.0,
    maxiter=50,
    forcing="eisenstat-walker",
    eta_max=0.9,
    inner_maxiter=200,
    restart=50,
    line_search=True,
    max_backtracks=20,
    singular=False,
    raise_on_failure=True,
    label="newton",
):
    """Solve ``F(x) = 0`` by inexact Newton–Krylov with a backtracking line search.

    Parameters
    ----------
    residual : callable
        ``x ↦ F(x)``, arrays of length ``n``.  It may raise a femkron error with
        ``reason="invalid-state"`` at a point outside its domain (a trial step is then
        shortened).
    x0 : array_like, length ``n``
        Initial guess.
    jacobian : callable, optional
        ``x ↦ J(x)``: an operator with ``@`` (matrix, sparse matrix, matrix-free object) or a
        function ``v ↦ J(x) v``.  ``None``: Jacobian-free, ``J v ≈ (F(x + h v) - F(x)) / h``.
    fit : operator or callable, optional
        An operator whose fast diagonalization preconditions the Krylov method (a separable
        :class:`~femkron.KronOperator` or a :class:`~femkron.MatrixFreeOperator`, see
        :func:`~femkron.make_solver`), set up once; or ``x ↦`` such an operator, rebuilt at
        every step (e.g. a separable fit of the linearised coefficient).
    precond : callable, optional
        ``r ↦ P⁻¹ r``, a fixed preconditioner (instead of ``fit``).
    krylov : {"gmres", "cg", "bicgstab"} or callable
        The Krylov method (``"cg"`` only for symmetric positive definite Jacobians), or
        ``x ↦`` the method's name, chosen at every step.
    rtol, atol : float
        Stop when ``‖F(x)‖ ≤ max(atol, rtol ‖F(x0)‖)``.
    maxiter : int
        Newton steps at most.
    forcing : "eisenstat-walker" or float
        The Krylov tolerances: Eisenstat–Walker choice 2 (see the module), or a constant
        ``η`` in (0, 1) (linear convergence with rate about ``η``).
    eta_max : float
        Largest forcing term.
    inner_maxiter : int
        Krylov iterations per step at most (a step that misses ``η`` is still tried).
    restart : int
        GMRES restart length.
    line_search : bool
        Backtrack on ``‖F‖``; without it full steps are taken.
    max_backtracks : int
        Reductions of one step before giving up.
    singular : bool
        The Jacobians have the constant vector as kernel (projected out by the Krylov method).
    raise_on_failure : bool
        Raise :class:`~femkron.ConvergenceError` when ``maxiter`` steps do not reach the
        tolerance or the line search fails (else return with ``info.converged = False``).
    label : str
        The method name in the info.

    Returns
    -------
    x : ndarray
    info : NewtonInfo

    Raises
    ------
    ConvergenceError
        ``reason="not-converged"``: ``maxiter`` steps were not enough;
        ``reason="line-search"``: no step length decreased ``‖F‖`` (a local minimum of
        ``‖F‖``, or no root nearby).  ``residuals`` holds the relative residual history and
        ``x`` the last iterate.

    Examples
    --------
    Jacobian-free on ``x² = 2`` (n = 1), from 1:

    >>> import numpy as np
    >>> x, info = newton_krylov(lambda x: x**2 - 2.0, [1.0], rtol=1e-12)
    >>> bool(abs(x[0] - np.sqrt(2)) < 1e-10), info.linear_method
    (True, 'gmres')
    """
    if not callable(residual):
        raise FemkronTypeError(f"residual must be a callable x ↦ F(x), got {residual!r}")
    x = as_array(x0, "x0").reshape(-1).copy()
    n = x.size
    if jacobian is not None and not callable(jacobian):
        raise FemkronTypeError(f"jacobian must be a callable x ↦ J(x) or None, got {jacobian!r}")
    if precond is not None and not callable(precond):
        raise FemkronTypeError(f"precond must be a callable r ↦ P⁻¹ r, got {precond!r}")
    if fit is not None and precond is not None:
        raise FemkronValueError("give fit or precond, not both")
    if not callable(krylov):
        check_choice(krylov, "krylov", KRYLOV)
    rtol = as_real(rtol, "rtol", nonnegative=True)
    atol = as_real(atol, "atol", nonnegative=True)
    if rtol == 0 and atol == 0:
        raise FemkronValueError("rtol and atol are both 0: Newton would never stop")
    maxiter = as_int(maxiter, "maxiter", minimum=0)
    eta_max = as_real(eta_max, "eta_max", positive=True)
    if not eta_max < 1:
        raise FemkronValueError(f"eta_max must lie in (0, 1), got {eta_max}")
    if isinstance(forcing, str):
        check_choice(forcing, "forcing", FORCING)
        constant = None
    else:
        constant = as_real(forcing, "forcing", positive=True)
        if not constant < 1:
            raise FemkronValueError(
                f"forcing must be 'eisenstat-walker' or a number in (0, 1), got {constant}"
            )
    inner_maxiter = as_int(inner_maxiter, "inner_maxiter", minimum=1)
    max_backtracks = as_int(max_backtracks, "max_backtracks", minimum=0)

    t0 = time.perf_counter()
    fixed, note = precond, ""
    if fit is not None and hasattr(fit, "shape"):  # one fit for every step: set up once
        fixed, _, note = fit_preconditioner(fit, singular)
        note = note or "fdm of the fit"

    def linear_solver(J, xk, eta):
        method = krylov(xk) if callable(krylov) else krylov
        check_choice(method, "krylov(x)", KRYLOV)
        common = dict(
            rtol=max(eta, ETA_MIN),
            maxiter=inner_maxiter,
            restart=restart,
            singular=singular,
            raise_on_failure=False,
            check=False,
        )
        if fit is not None and fixed is None:  # rebuilt from x_k
            return make_solver(J, "fdm", fit=fit(xk), krylov=method, exact=False, **common)
        P = fixed if fixed is not None or method != "cg" else (lambda r: r)
        label = method if precond is not None or fit is None else f"fdm-{method}"
        return make_solver(J, method, precond=P, label=label, **common)

    F, fnorm = _evaluate(residual, x, n, trial=False)
    f0 = fnorm
    target = max(atol, rtol * f0)
    info = NewtonInfo(label, history=[1.0], residual_norms=[fnorm], note=note)
    eta = ETA0 if constant is None else constant
    eta = min(eta, eta_max)
    rel = lambda v: v / f0 if f0 > 0 else 0.0  # noqa: E731
    failure = None
    while fnorm > target:
        if info.iterations >= maxiter:
            failure = "not-converged"
            break
        J = (
            _DirectionalJacobian(residual, x, F)
            if jacobian is None
            else _as_operator(jacobian(x), n)
        )
        solver = linear_solver(J, x, eta)
        with np.errstate(all="ignore"):
            s = solver.solve(-F)
        info.linear_method = solver.info.method
        if not info.note and solver.info.note:
            info.note = solver.info.note
        info.linear_iterations.append(int(solver.info.iterations))
        # line search on ‖F‖ (inexact Newton backtracking)
        t = 1.0
        while True:
            Ft, ft = _evaluate(residual, x + t * s, n, trial=True)
            if not line_search or ft <= (1.0 - ARMIJO * t * (1.0 - eta)) * fnorm:
                break
            info.backtracks += 1
            if t < 0.5**max_backtracks or not np.all(np.isfinite(s)):
                failure = "line-search"
                break
            if np.isfinite(ft):  # minimiser of the quadratic model of ‖F(x + t s)‖²
                g0, g1, slope = fnorm**2, ft**2, -2.0 * fnorm**2
                theta = -slope * t / (2.0 * (g1 - g0 - slope * t))
                theta = min(0.5, max(0.1, theta))
            else:
                theta = 0.5
            t *= theta
            eta = 1.0 - theta * (1.0 - eta)
        if failure is not None:
            break
        if Ft is None:  # no line search and a non-finite step: diverged
            failure = "not-converged"
            info.history.append(np.inf)
            info.residual_norms.append(np.inf)
            break
        x = x + t * s
        info.iterations += 1
        info.forcing.append(float(eta))
        info.step_lengths.append(float(t))
        fnorm_old, F, fnorm = fnorm, Ft, ft
        info.residual_norms.append(fnorm)
        info.history.append(rel(fnorm))
        if constant is None and fnorm > 0:
            eta = eisenstat_walker(fnorm, fnorm_old, eta, eta_max, floor=0.5 * target / fnorm)
    info.residual = rel(fnorm)
    info.seconds = time.perf_counter() - t0
    info.converged = failure is None
    if failure is not None and raise_on_failure:
        shown = ", ".join(f"{r:.2e}" for r in info.residual_norms[-6:])
        why = (
            f"did not reach ‖F‖ <= {target:.2e} in {maxiter} iterations"
            if failure == "not-converged"
            else f"found no step that decreases ‖F‖ (line search failed at iteration "
            f"{info.iterations + 1}: a local minimum of ‖F‖, or no root near the iterate)"
        )
        err = ConvergenceError(
            f"Newton {why}; last ‖F‖: {shown}; try a better initial guess, more iterations, "
            "or (for a parameter-dependent problem) continuation",
            iterations=info.iterations,
            residuals=info.history,
            x=x,
        )
        err.reason = failure
        raise err
    return x, info
