"""Pseudo-arclength continuation of ``-Δu = s(u, λ)`` in the parameter ``λ`` (Keller 1977).

The discrete problem ``F(u, λ) = K u - ∫ s(u, λ) v = 0`` (``K`` the stiffness on the free
dofs, the source tested at the Gauss points, Dirichlet data lifted) defines curves in
``(u, λ)``; a curve may turn back at a *fold* where ``F_u`` is singular and no solution
exists beyond it, so ``λ`` cannot parametrise it there.  Pseudo-arclength follows the curve
by its arclength instead, with the scaled inner product
``⟨(u, λ), (v, μ)⟩ = w uᵀv + λμ``, ``w = 1/n`` (``n`` free dofs: ``w uᵀu`` is the mean
square of ``u``):

* **predictor**: ``(u, λ) = (u_k, λ_k) + Δs (u̇_k, λ̇_k)`` along the unit tangent;
* **corrector**: Newton on the bordered system ``F(u, λ) = 0``,
  ``N = w u̇_kᵀ(u - u_k) + λ̇_k(λ - λ_k) - Δs = 0``, solved by the bordering algorithm:
  ``F_u a = F`` and ``F_u b = F_λ`` (two fast solves with ``F_u``: GMRES preconditioned by fast
  diagonalization of ``K``), then ``δλ = (w u̇_kᵀa - N) / (λ̇_k - w u̇_kᵀb)``,
  ``δu = -a - δλ b``;
* **tangent** at the new point: ``F_u b = F_λ`` (already solved), ``λ̇ ∝ 1/(λ̇_k - w u̇_kᵀb)``,
  ``u̇ = -λ̇ b``, normalised — the orientation follows the previous tangent through folds;
* **step control**: ``Δs`` grows by 1.5 after an easy corrector (at most 3 iterations) and is
  halved after a failed one or a turn of the tangent by more than about 25°.

A **fold** shows as a sign change of ``dλ/ds = λ̇`` between two points; it is located by
the Illinois variant of regula falsi on the step length ``σ`` from the earlier point,
``g(σ) = λ̇`` at the corrected point, until ``|λ̇| ≤ 10⁻⁶``.  Since ``λ(s)`` is stationary
at the fold, ``λ`` there is then within ``λ̇²/(2|λ''|)`` (negligible) of the fold of the
discrete problem, besides the corrector tolerance; the discretisation error of that fold is
what remains (``O(h^{2p})`` for elements of order ``p`` is expected of a quantity of
eigenvalue type; the tests measure it).

Examples
--------
The Bratu problem ``-Δu = λ eᵘ`` on the unit square has a fold at ``λ_c ≈ 6.80812``:

>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> branch = fk.continuation(V, lambda u, lam: lam * np.exp(u), lam=(0.0, 7.0), ds=1.0,
...                          max_norm=1.6)
>>> bool(abs(branch.fold - 6.80812) < 1e-3)
True
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_int, as_real, check_choice, is_number
from ..errors import ConvergenceError, FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions
from ..fem.norms import norm as fe_norm
from ..fem.tensor import as_tensor_space, stiffness
from ..linalg.newton import newton_krylov
from ..linalg.solve import make_solver
from .arclength import _corrector, _count, _Problem, _tangent
from .linear_system import check_problem_size
from .nonlinear import NONLINEAR_VECTORS, _Form, _initial
from .pointwise import _PointFunction
from .solution import Solution

__all__ = ["continuation", "Branch", "NORMS"]

#: Norms of ``u`` a branch reports: the largest |value| at the dofs, or the L2 norm.
NORMS = ("max", "L2")

#: |dλ/ds| at which a fold counts as located: λ is then within λ̇²/(2|λ''|) ≈ 10⁻¹²/|λ''| of
#: the discrete fold (closer to it the bordered tangent would lose accuracy: F_u is singular).
FOLD_TOL = 1e-6

#: Smallest |dλ/ds| accepted at the start: below it F_u is singular to rounding (the start is
#: a fold or a bifurcation point) and the tangent from F_u z = -F_λ is not determined.
START_DLAM = 1e-8

#: Smallest cosine between consecutive unit tangents (a turn of about 25°).
TURN_COS = 0.9


class Branch:
    """A solution curve of ``F(u, λ) = 0`` traced by :func:`continuation`.

    Attributes
    ----------
    V : TensorSpace
    lam : ndarray
        ``λ`` at the points of the branch, in the order traced (located folds included).
    norm : ndarray
        ``‖u‖`` at those points (:attr:`norm_kind`).
    norm_kind : str
        ``"max"`` (the largest ``|u|`` at the dofs) or ``"L2"``.
    s : ndarray
        Pseudo-arclength of every point from the start.
    dlam : ndarray
        ``dλ/ds`` at every point (the λ-component of the unit tangent).
    fold : float or None
        ``λ`` at the first located fold, ``None`` when none was passed.
    folds : list of float
        ``λ`` at every located fold.
    fold_solution : Solution or None
        The solution at the first fold.
    solutions : list of Solution
        Solutions at the requested ``points`` (every crossing of each requested λ).
    solution_lam : ndarray
        Their λ values.
    steps : int
        Accepted continuation steps (fold locations not counted).
    newton_iterations : list of int
        Corrector iterations of every accepted step.
    linear_iterations : int
        Krylov iterations of all the fast solves with ``F_u`` (and of the bordered solves).
    bordered_solves : int
        Solves of the whole bordered system, where those with ``F_u`` failed (near a fold).
    stopped : str
        Why the continuation stopped: ``"range"`` (λ left the interval), ``"max_steps"``,
        ``"norm"`` (``‖u‖`` passed ``max_norm``) or ``"step-too-small"`` (the step fell below
        ``ds_min`` after at least one accepted step: the corrector failed or the branch turned
        too sharply, e.g. where the source stops existing or ``‖u‖`` grows without bound;
        the branch up to there is returned).
    seconds : float
    """

    def __init__(self, V, norm_kind):
        self.V = V
        self.norm_kind = norm_kind
        self.lam = np.zeros(0)
        self.norm = np.zeros(0)
        self.s = np.zeros(0)
        self.dlam = np.zeros(0)
        self.fold = None
        self.folds = []
        self.fold_solution = None
        self.solutions = []
        self.solution_lam = np.zeros(0)
        self.steps = 0
        self.newton_iterations = []
        self.linear_iterations = 0
        self.bordered_solves = 0
        self.stopped = ""
        self.seconds = 0.0

    def __repr__(self):
        fold = "no fold" if self.fold is None else f"fold at λ={self.fold:.6g}"
        return (
            f"<Branch {len(self.lam)} points, λ in [{self.lam.min():.4g}, {self.lam.max():.4g}], "
            f"{fold}, stopped: {self.stopped}>"
        )

    def plot(self, ax=None, **kwargs):
        """Plot ``‖u‖`` against ``λ`` with the folds marked (:func:`femkron.plot.plot_branch`)."""
        from .. import plot

        return plot.plot_branch(self, ax=ax, **kwargs)


def continuation(
    V,
    source,
    lam,
    bc=None,
    *,
    ds=None,
    max_steps=100,
    points=None,
    u0=None,
    dsource=None,
    norm="max",
    max_norm=None,
    tol=1e-9,
    ds_min=None,
    ds_max=None,
    maxiter=8,
    inner_maxiter=200,
    quad=None,
    progress=None,
):
    """Trace the solutions of ``-Δu = s(u, λ)`` as ``λ`` goes from ``a`` towards ``b``.

    Pseudo-arclength continuation (Keller 1977) with a tangent predictor and a Newton
    corrector on the bordered system, each iteration two fast solves with ``F_u`` (bordering
    algorithm); folds are detected by the sign change of ``dλ/ds`` and located by regula
    falsi (Illinois) on ``dλ/ds = 0``.  See :mod:`femkron.problems.continuation`.

    Parameters
    ----------
    V : TensorSpace
        A box, or a space in curvilinear coordinates (disk, annulus, ...).
    source : callable
        ``s(u, lam)``: the source, elementwise in the array ``u`` for a number ``lam``.
    lam : (float, float)
        ``(a, b)``: the start and the direction; the continuation stops when ``λ`` leaves
        ``[min(a, b), max(a, b)]`` (after a fold it may come back towards ``a``).
    bc : dict or Condition, optional
        As in :func:`~femkron.poisson`.
    ds : float, optional
        First step in pseudo-arclength (default ``|b - a| / 20``).
    max_steps : int
        Continuation steps at most.
    points : sequence of float, optional
        ``λ`` values at which the solutions are kept (every crossing of the branch).
    u0 : number, callable or array, optional
        Initial guess of the solution at ``λ = a`` (default 0).
    dsource : (callable or None, callable or None), optional
        ``(∂s/∂u, ∂s/∂λ)``; missing ones by the complex step (or central differences).
    norm : {"max", "L2"}
        What :attr:`Branch.norm` reports.
    max_norm : float, optional
        Stop when ``‖u‖`` passes it.
    tol : float
        The corrector stops when ``‖F‖`` is below ``tol`` times the size of its terms
        (``‖K u‖ + ‖∫ s v‖``) and the arclength equation is met to ``tol Δs``.
    ds_min, ds_max : float, optional
        Bounds of the step (default ``ds / 1000`` and ``5 ds``).
    maxiter : int
        Corrector iterations per step at most (then the step is halved).
    inner_maxiter : int
        GMRES iterations per fast solve at most.
    quad : int, optional
        Gauss points per cell and axis of the source (default ``p + 2``).
    progress : bool, optional
        A tqdm progress bar over the steps (``None``: only on a terminal).

    Returns
    -------
    Branch

    Raises
    ------
    ConvergenceError
        No solution found at ``λ = a`` (``reason="no-start"``), or the step fell below
        ``ds_min`` (``reason="step-too-small"``).
    FemkronValueError
        No direction at the start: ``F_u`` is singular there and ``F_λ`` not in its range
        (``reason="no-direction"``).

    Examples
    --------
    ``-Δu = λ(1 + u)`` is linear in ``u``: its branch ``u = λ (K - λM)⁻¹ M 1`` blows up at
    the first Dirichlet eigenvalue ``2π²`` without folding:

    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    >>> br = fk.continuation(V, lambda u, lam: lam * (1 + u), lam=(0.0, 10.0), points=[5.0])
    >>> br.fold is None, br.stopped, br.solution_lam.tolist()
    (True, 'range', [5.0])
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    V = as_tensor_space(V)
    if not callable(source):
        raise FemkronTypeError(f"source must be a callable s(u, lam), got {source!r}")
    if not isinstance(lam, (tuple, list)) or len(lam) != 2:
        raise FemkronValueError(f"lam must be a pair (a, b) of numbers, got {lam!r}")
    a = as_real(lam[0], "lam[0]")
    b = as_real(lam[1], "lam[1]")
    if a == b:
        raise FemkronValueError(f"lam = ({a}, {b}) is empty: give a start a and an end b != a")
    lo, hi = min(a, b), max(a, b)
    ds = abs(b - a) / 20 if ds is None else as_real(ds, "ds", positive=True)
    ds_min = ds / 1000 if ds_min is None else as_real(ds_min, "ds_min", positive=True)
    ds_max = 5 * ds if ds_max is None else as_real(ds_max, "ds_max", positive=True)
    if not ds_min <= ds <= ds_max:
        raise FemkronValueError(f"need ds_min <= ds <= ds_max, got {ds_min}, {ds}, {ds_max}")
    max_steps = as_int(max_steps, "max_steps", minimum=1)
    maxiter = as_int(maxiter, "maxiter", minimum=1)
    inner_maxiter = as_int(inner_maxiter, "inner_maxiter", minimum=1)
    tol = as_real(tol, "tol", positive=True)
    check_choice(norm, "norm", NORMS)
    if max_norm is not None:
        max_norm = as_real(max_norm, "max_norm", positive=True)
    wanted = []
    if points is not None:
        if is_number(points):
            points = [points]
        wanted = sorted({as_real(p, "points[i]") for p in points})
    if dsource is None:
        dsource = (None, None)
    if not isinstance(dsource, (tuple, list)) or len(dsource) != 2:
        raise FemkronValueError(
            f"dsource must be a pair (ds/du, ds/dlam) of callables or None, got {dsource!r}"
        )
    check_problem_size(V, "continuation", vectors=NONLINEAR_VECTORS)
    bcs = BoundaryConditions(V, bc)
    if bcs.singular:
        raise FemkronValueError(
            "continuation needs a Dirichlet or Robin face (with only Neumann/periodic "
            "conditions F_u has the constants in its kernel at s_u = 0)"
        )
    src = _PointFunction(source, "source", {0: dsource[0], 1: dsource[1]})
    form = _Form(V, bcs, 1.0, src, 0.0, quad=quad, sign=-1.0)
    K = stiffness(V)
    if form.robin is not None:
        K = K + form.robin
    # the Laplacian, solved exactly (fdm; nested diagonalization at poles), preconditions F_u
    precond = make_solver(bcs.constrain(K), "auto", check=False).solve
    P = _Problem(form, precond, inner_maxiter)

    def measure(u):
        full = form.full(u)
        if norm == "max":
            return float(np.max(np.abs(full)))
        return float(fe_norm(V, full, "L2"))

    def solution(u, lam_value):
        return Solution(V, form.full(u), None, problem=f"continuation at λ={lam_value:.8g}")

    # ---- the start: a solution at λ = a and its tangent --------------------------------
    x0 = _initial(form, u0, V)
    try:
        u, info = newton_krylov(
            lambda x: P.F(x, a),
            x0,
            lambda x: P.jacobian(x, a),
            precond=precond,
            krylov="gmres",
            rtol=tol,
            atol=1e-14,
            maxiter=30,
            label="newton",
        )
    except ConvergenceError as err:
        new = ConvergenceError(
            f"continuation: no solution found at the start λ = {a:g} ({err}); start where a "
            "solution is known (u0) or at another λ",
            iterations=err.iterations,
            residuals=err.residuals,
            x=err.x,
        )
        new.reason = "no-start"
        raise new from None
    solver = P.solver(u, a)
    z = solver.solve(-P.F_lam(u, a))
    _count(P, solver)
    sign = 1.0 if b > a else -1.0
    tu, tl = P.unit(sign * z, sign) if np.all(np.isfinite(z)) else (z, 0.0)
    if not solver.info.converged or not abs(tl) > START_DLAM:
        why = (
            f"the solve F_u z = -F_λ stalled at relative residual {solver.info.residual:.1e}"
            if not solver.info.converged
            else f"dλ/ds = {tl:.1e}"
        )
        raise FemkronValueError(
            f"continuation cannot find a direction at the start λ = {a:g}: F_u is singular "
            f"there ({why}): a fold or a bifurcation point, where λ does not parametrise the "
            "branch and its tangent is not determined by F_u z = -F_λ; start at another λ",
            reason="no-direction",
        )

    branch = Branch(V, norm)
    lams, norms, ss, dlams = [a], [measure(u)], [0.0], [tl]
    crossings = []  # (λ, Solution)
    s_total = 0.0
    step = ds
    stopped = "max_steps"

    def keep_crossings(u_prev, l_prev, u_new, l_new):
        for p in wanted:
            if (l_prev - p) * (l_new - p) > 0 or l_prev == l_new or l_prev == p:
                continue
            theta = (p - l_prev) / (l_new - l_prev)
            guess = (1 - theta) * u_prev + theta * u_new
            try:
                up, _ = newton_krylov(
                    lambda x, p=p: P.F(x, p),
                    guess,
                    lambda x, p=p: P.jacobian(x, p),
                    precond=precond,
                    krylov="gmres",
                    rtol=tol,
                    atol=1e-14,
                    maxiter=20,
                )
            except ConvergenceError:
                continue  # too close to a fold for a solve at fixed λ
            crossings.append((p, solution(up, p)))

    def lam_dot(u_k, l_k, tu_k, tl_k, sigma):
        """Corrected point at step ``sigma`` from point k and its dλ/ds."""
        out = _corrector(P, u_k, l_k, tu_k, tl_k, sigma, tol, maxiter)
        if out is None:
            return None
        u_s, l_s, _ = out
        t = _tangent(P, u_s, l_s, tu_k, tl_k)
        if t is None:
            return None
        return u_s, l_s, t

    def locate_fold(u_k, l_k, tu_k, tl_k, sigma_hi, g_hi):
        """Illinois regula falsi on σ ↦ dλ/ds between 0 and ``sigma_hi``."""
        s_lo, g_lo = 0.0, tl_k
        s_hi = sigma_hi
        best = None
        side = 0
        for _ in range(40):
            sigma = s_hi - g_hi * (s_hi - s_lo) / (g_hi - g_lo)
            if not s_lo < sigma < s_hi:
                sigma = 0.5 * (s_lo + s_hi)
            out = lam_dot(u_k, l_k, tu_k, tl_k, sigma)
            if out is None:
                break
            g = out[2][1]
            if best is not None and abs(g) > abs(best[1][2][1]):
                # closer to the fold F_u is nearly singular and the bordered tangent loses
                # accuracy: keep the best point found
                if abs(g) > max(abs(g_lo), abs(g_hi)):
                    break
            else:
                best = (sigma, out)
            if abs(g) <= FOLD_TOL or s_hi - s_lo <= 1e-12 * sigma_hi:
                break
            if np.sign(g) == np.sign(g_lo):
                s_lo, g_lo = sigma, g
                if side == -1:
                    g_hi *= 0.5
                side = -1
            else:
                s_hi, g_hi = sigma, g
                if side == 1:
                    g_lo *= 0.5
                side = 1
        return best

    bar = tqdm(
        total=max_steps,
        desc="continuation",
        disable=None if progress is None else not progress,
        leave=False,
    )
    # far along a branch (‖u‖ growing without bound) the trial points overflow; the corrector
    # then fails and the step shrinks, which is the handling: no floating-point warnings
    saved = np.seterr(over="ignore", invalid="ignore", divide="ignore")
    try:
        while branch.steps < max_steps:
            out = _corrector(P, u, lams[-1], tu, tl, step, tol, maxiter)
            t_new = None
            if out is not None:
                t_new = _tangent(P, out[0], out[1], tu, tl)
            if out is None or t_new is None or P.dot((tu, tl), t_new) < TURN_COS:
                step *= 0.5
                if step < ds_min and branch.steps > 0:
                    # the branch traced so far (a fold included) is returned, not lost: e.g.
                    # Bratu's upper branch runs back towards λ = 0 with ‖u‖ growing without
                    # bound, so λ never leaves the interval
                    stopped = "step-too-small"
                    break
                if step < ds_min:
                    err = ConvergenceError(
                        f"continuation cannot continue past λ = {lams[-1]:.6g} "
                        f"(‖u‖ = {norms[-1]:.4g}): the step fell below ds_min = {ds_min:.3g} "
                        "(the corrector fails or the branch turns too sharply)",
                        iterations=branch.steps,
                    )
                    err.reason = "step-too-small"
                    raise err
                continue
            u_new, l_new, its = out
            tu_new, tl_new = t_new
            l_old, u_old = lams[-1], u
            if tl * tl_new < 0:  # dλ/ds changed sign: a fold between the two points
                found = locate_fold(u, l_old, tu, tl, step, tl_new)
                if found is not None:
                    sigma, (u_f, l_f, (tu_f, tl_f)) = found
                    branch.folds.append(float(l_f))
                    if branch.fold_solution is None:
                        branch.fold_solution = solution(u_f, l_f)
                    keep_crossings(u, l_old, u_f, l_f)
                    lams.append(l_f)
                    norms.append(measure(u_f))
                    ss.append(s_total + sigma)
                    dlams.append(tl_f)
                    u_old, l_old = u_f, l_f
            keep_crossings(u_old, l_old, u_new, l_new)
            s_total += step
            u, tu, tl = u_new, tu_new, tl_new
            lams.append(l_new)
            norms.append(measure(u_new))
            ss.append(s_total)
            dlams.append(tl)
            branch.steps += 1
            branch.newton_iterations.append(its)
            bar.update(1)
            if its <= 3:
                step = min(1.5 * step, ds_max)
            elif its >= 6:
                step = max(step / 1.5, ds_min)
            if not lo <= l_new <= hi:
                stopped = "range"
                break
            if max_norm is not None and norms[-1] > max_norm:
                stopped = "norm"
                break
    finally:
        np.seterr(**saved)
        bar.close()
    branch.lam = np.array(lams)
    branch.norm = np.array(norms)
    branch.s = np.array(ss)
    branch.dlam = np.array(dlams)
    branch.fold = branch.folds[0] if branch.folds else None
    branch.solutions = [sol for _, sol in crossings]
    branch.solution_lam = np.array([p for p, _ in crossings])
    branch.linear_iterations = P.linear_iterations
    branch.bordered_solves = P.bordered_solves
    branch.stopped = stopped
    branch.seconds = time.perf_counter() - t0
    return branch
