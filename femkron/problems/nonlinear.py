"""Nonlinear stationary problems: ``-∇·(κ(u)∇u) + g(u) = f`` by Newton–Krylov.

The weak residual on the free dofs,

``F(u)_i = ∫ κ(u)∇u·∇φ_i + g(u) φ_i - f φ_i  (+ Robin terms, - Neumann/Robin loads)``,

and its Jacobian ``δ ↦ ∫ (κ(u)∇δ + κ'(u) δ ∇u)·∇φ_i + g'(u) δ φ_i`` are applied matrix-free:
``u`` and ``δ`` are mapped to the Gauss grid by sum factorisation
(:class:`~femkron.fem.quadrature_grid.QuadratureGrid`), the nonlinearities are evaluated
there, and the result is tested against the basis.  Dirichlet data enter by lifting, as in
:func:`~femkron.poisson`: ``u = P u_free + G``.  :func:`femkron.linalg.newton.newton_krylov`
solves ``F = 0`` with Eisenstat–Walker tolerances and a backtracking line search; every Newton
system is solved by a Krylov method (CG when the Jacobian is symmetric positive definite,
i.e. ``κ`` a number and ``g' ≥ 0``; GMRES otherwise) preconditioned by fast diagonalization of
a separable fit of the linearised operator ``-∇·(κ(u_k)∇·) + max(g'(u_k), 0)``, through
:func:`~femkron.make_solver`.

The derivatives ``κ'`` and ``g'`` are the user's (``dkappa``, ``dreaction``) or computed by
the complex step ``f'(u) = Im f(u + ih)/h`` (exact to rounding for functions that are analytic
and accept complex arrays), checked once against a central difference; a function that
refuses complex input, or whose complex step disagrees (``abs``, ``maximum``: not analytic),
is differentiated by central differences (relative accuracy about ``ε^{2/3}``).

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> sol = fk.nonlinear_poisson(V, 10.0, kappa=lambda u: 1 + u**2, reaction=lambda u: u**3)
>>> sol.info.converged, sol.info.derivatives, sol.info.linear_method
(True, 'complex-step', 'fdm-gmres')
>>> bool(sol.info.residual < 1e-10)
True
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_array, as_int, as_real, check_choice, is_number
from ..errors import FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions
from ..fem.matfree import MatrixFreeOperator
from ..fem.quadrature_grid import QuadratureGrid
from ..fem.tensor import as_tensor_space, load_vector, mass, stiffness
from ..kron.nested import pole_prolongation
from ..kron.operator import KronOperator
from ..linalg.newton import FORCING, newton_krylov
from ..linalg.solve import make_solver
from .linear_system import check_problem_size
from .pointwise import _invalid, _point_function, _PointFunction
from .solution import Solution

__all__ = ["nonlinear_poisson", "KRYLOV_CHOICES", "PRECONDITIONERS"]

#: Krylov methods of :func:`nonlinear_poisson` (``"auto"``: CG when the Jacobian is SPD).
KRYLOV_CHOICES = ("auto", "cg", "gmres")

#: Preconditioners of the Newton systems of :func:`nonlinear_poisson`.
PRECONDITIONERS = ("auto", "separable", "constant")

#: The rounding floor of ‖F‖ relative to the size of its terms (‖diffusion‖ + ‖g‖ + ‖f‖):
#: Newton stops there whatever rtol asks (e.g. started at the solution).
ROUNDING = 100 * np.finfo(float).eps

#: Full-size float vectors a Newton solve holds besides its Krylov solver's: the state at the
#: Gauss points (values, gradients, κ, κ', g' on a grid (q/p)^D ≈ 2-4 times the dofs) and the
#: Newton vectors (iterate, residual, step, trial point, lifting, load).
NONLINEAR_VECTORS = 30


class _Jacobian:
    """The linearised operator at one state, applied matrix-free on the free dofs."""

    def __init__(self, form, kq, dkq, grads, dgq):
        self.form = form
        self.kq, self.dkq, self.grads, self.dgq = kq, dkq, grads, dgq
        n = form.bcs.ndofs
        self.shape = (n, n)
        self.dtype = np.dtype(float)
        self.V = form.V

    @property
    def spd(self):
        """Whether this Jacobian is symmetric positive definite (CG applies)."""
        return _spd([self.dkq], [self.dgq])

    def __matmul__(self, v):
        f = self.form
        Vf = f.extend(np.asarray(v, dtype=float)).reshape(f.V.shape)
        out = _linearised(f.grid, Vf, self.kq, self.dkq, self.grads, self.dgq)
        if f.robin is not None:
            out = out + f.robin @ Vf.reshape(-1)
        return f.restrict(out)


class _Form:
    """``F(u) = ∫ κ(u)∇u·∇v + s·r(u, *args) v - f v`` on the free dofs of ``bcs``.

    ``kappa`` is a number or a :class:`_PointFunction`; ``reaction`` a :class:`_PointFunction`
    or ``None``; ``sign`` multiplies the reaction (``-1``: a source ``-Δu = r``).  ``args``
    are the extra arguments of the reaction (the parameter of a continuation).
    """

    def __init__(self, V, bcs, kappa, reaction, f=0.0, quad=None, sign=1.0):
        self.V, self.bcs = V, bcs
        self.grid = QuadratureGrid(V, quad)
        self.kappa, self.reaction, self.sign = kappa, reaction, float(sign)
        self.args = ()
        self._last = None  # (uc, args, Jacobian) of the last linearisation
        load = load_vector(V, f)
        extra = bcs.boundary_load()
        if extra is not None:
            load = load + extra
        self.load = bcs.restrict(load)
        self.robin = bcs.robin_operator()
        self.lift = bcs.boundary_values()
        self._prolong = KronOperator.kron(*bcs.P)
        self._restrict = KronOperator.kron(*[P.T.tocsr() for P in bcs.P])
        counts = [np.asarray(P.sum(axis=0)).ravel() for P in bcs.P]
        self._inject = KronOperator.kron(
            *[P.T.multiply(1.0 / c[:, None]).tocsr() for P, c in zip(bcs.P, counts)]
        )
        # poles of curvilinear spaces: the dofs of a pole are one value (fem/curvilinear.py)
        self._pole = None
        if getattr(bcs, "poles", ()):
            pole = pole_prolongation(bcs.shape, bcs.poles)
            size = np.asarray(pole.sum(axis=0)).ravel()
            self._pole = (pole, pole.T.tocsr(), pole.T.multiply(1.0 / size[:, None]).tocsr())

    # ---- vectors -----------------------------------------------------------------------
    def extend(self, uc, lift=None):
        if self._pole is not None:
            uc = self._pole[0] @ uc
        u = self._prolong @ uc
        return u if lift is None else u + lift

    def restrict(self, b):
        """``(⊗P)ᵀ b``: a full-size weak form on the free dofs."""
        out = self._restrict @ b
        return out if self._pole is None else self._pole[1] @ out

    def full(self, uc):
        """The full dof vector (with the Dirichlet lifting) of free values ``uc``."""
        return self.extend(uc, self.lift)

    def free_values(self, u):
        """The free values of a full dof vector (injection; periodic ends, poles averaged)."""
        out = self._inject @ u
        return out if self._pole is None else self._pole[2] @ out

    # ---- the state at the Gauss points -------------------------------------------------
    def _state(self, uc):
        U = self.full(uc).reshape(self.V.shape)
        G = self.grid
        uq = G.values(U)
        grads = G.gradients(U)
        return U, uq, grads, _kappa_values(self.kappa, uq)

    def residual(self, uc, parts=False):
        """``F(u)``; with ``parts`` also ``‖diffusion‖ + ‖reaction‖ + ‖load‖`` (its scale)."""
        U, uq, grads, kq = self._state(uc)
        G = self.grid
        diff = G.integrate(None, [kq * g for g in grads]).reshape(-1)
        if self.robin is not None:
            diff = diff + self.robin @ U.reshape(-1)
        diff = self.restrict(diff)
        react = None
        if self.reaction is not None:
            rq = self.sign * self.reaction(uq, *self.args)
            react = self.restrict(G.integrate(rq).reshape(-1))
        F = diff - self.load if react is None else diff + react - self.load
        if not parts:
            return F
        scale = np.linalg.norm(diff) + np.linalg.norm(self.load)
        if react is not None:
            scale += np.linalg.norm(react)
        return F, float(scale)

    def reaction_derivative(self, uq, i=0):
        return self.sign * self.reaction.derivative(uq, *self.args, i=i)

    def jacobian(self, uc):
        """The Jacobian at ``uc`` (a matrix-free operator on the free dofs)."""
        last = self._last
        if (
            last is not None
            and last[1] == self.args
            and (last[0] is uc or np.array_equal(last[0], uc))
        ):
            return last[2]
        U, uq, grads, kq = self._state(uc)
        dkq = _kappa_derivative(self.kappa, uq)
        dgq = None if self.reaction is None else self.reaction_derivative(uq)
        J = _Jacobian(self, kq, dkq, grads, dgq)
        self._last = (np.array(uc, dtype=float), self.args, J)
        return J

    def parameter_derivative(self, uc):
        """``∂F/∂(first extra argument)`` at ``uc``: the reaction's derivative, tested."""
        _, uq, _, _ = self._state(uc)
        dq = self.reaction_derivative(uq, i=1)
        return self.restrict(self.grid.integrate(dq).reshape(-1))

    def separable_fit(self, J):
        """The operator ``-∇·(κ(u)∇·) + max(g'(u), 0)`` of a Jacobian, matrix-free.

        Its separable fit is the preconditioner.
        """
        kq = J.kq
        kappa = float(kq) if np.ndim(kq) == 0 else (lambda *x: kq)
        sigma = 0.0
        if J.dgq is not None and np.any(J.dgq > 0):
            sq = np.maximum(J.dgq, 0.0)
            sigma = lambda *x: sq  # noqa: E731
        return MatrixFreeOperator(self.V, kappa, sigma, bcs=self.bcs, quad=self.grid.quad)

    def constant_fit(self, J):
        """``-κ̄ Δ + σ̄`` with the weighted means of ``κ(u)`` and ``max(g'(u), 0)`` (Kronecker)."""
        kbar, sbar = _mean_coefficients([self.grid], [J.kq], [J.dgq])
        A = stiffness(self.V, kbar)
        if sbar is not None:
            A = A + sbar * mass(self.V)
        if self.robin is not None:
            A = A + self.robin
        return self.bcs.constrain(A)


def _initial(form, u0, V):
    """Free values of the initial guess (``None``: zero plus the lifting)."""
    if u0 is None:
        return np.zeros(form.bcs.ndofs)
    if is_number(u0) or callable(u0):
        u = V.interpolate(u0) if callable(u0) else np.full(V.ndofs, float(u0))
    else:
        u = as_array(u0, "u0")
        if u.size != V.ndofs:
            raise FemkronValueError(
                f"u0 must be a number, a callable u0(x, y, ...) or an array of shape {V.shape}, "
                f"got shape {u.shape}"
            )
    return form.free_values(np.asarray(u, dtype=float).reshape(-1))


def _coefficients(kappa, dkappa, reaction, dreaction):
    """``κ`` (a number ``> 0`` or a point function) and ``g`` (a point function or None)."""
    kap = _point_function(kappa, "kappa", dkappa, "dkappa")
    if is_number(kap) and kap <= 0:
        raise FemkronValueError(f"kappa must be > 0, got {kap}")
    react = _point_function(reaction, "reaction", dreaction, "dreaction")
    if is_number(react):
        raise FemkronTypeError(
            f"reaction must be a callable g(u) or None, got the number {react}; a constant "
            "belongs in f"
        )
    return kap, react


def _newton_options(rtol, atol, maxiter, forcing, line_search, inner_maxiter):
    """The options of :func:`~femkron.linalg.newton.newton_krylov`, the stopping ones checked."""
    rtol = as_real(rtol, "rtol", nonnegative=True)
    atol = as_real(atol, "atol", nonnegative=True)
    maxiter = as_int(maxiter, "maxiter", minimum=1)
    if isinstance(forcing, str):
        check_choice(forcing, "forcing", FORCING)
    return {
        "rtol": rtol,
        "atol": atol,
        "maxiter": maxiter,
        "forcing": forcing,
        "line_search": line_search,
        "inner_maxiter": inner_maxiter,
    }


def _kappa_values(kappa, uq):
    """``κ(u)`` at the Gauss values ``uq`` (a number stays one), checked ``> 0``."""
    if not isinstance(kappa, _PointFunction):
        return kappa
    kq = kappa(uq)
    if np.any(kq <= 0):
        k = int(np.argmin(kq))
        raise _invalid(
            f"kappa(u) must be > 0 at every quadrature point; got {kq.flat[k]:.4g} at "
            f"u = {uq.flat[k]:.4g}"
        )
    return kq


def _kappa_derivative(kappa, uq):
    """``κ'(u)`` at the Gauss values ``uq``; None for a number or where it vanishes."""
    if not isinstance(kappa, _PointFunction):
        return None
    dkq = kappa.derivative(uq)
    return dkq if np.any(dkq) else None


def _linearised(G, V, kq, dkq, grads, dgq):
    """``∫ (κ∇v + κ' v ∇u)·∇φ + g' v φ`` on the grid ``G`` for the dof values ``V``.

    ``kq``, ``dkq``, ``grads`` (``∇u``) and ``dgq`` are the state at the Gauss points
    (``dkq``, ``dgq``: None when absent).
    """
    dg = G.gradients(V)
    need_values = dkq is not None or dgq is not None
    vq = G.values(V) if need_values else None
    fluxes = []
    for d in range(G.V.dim):
        phi = kq * dg[d]
        if dkq is not None:
            phi = phi + dkq * vq * grads[d]
        fluxes.append(phi)
    source = None if dgq is None else dgq * vq
    return G.integrate(source, fluxes).reshape(-1)


def _mean_coefficients(grids, kqs, dgqs):
    """The weighted means of ``κ(u)`` and ``max(g'(u), 0)`` over the Gauss points of ``grids``.

    The second is None when ``g'(u) ≤ 0`` at every point (or there is no reaction).
    """
    total = sum(float(G.W.sum()) for G in grids)
    kbar = (
        sum(float(np.sum(np.broadcast_to(k, G.W.shape) * G.W)) for G, k in zip(grids, kqs)) / total
    )
    positive = [(G, g) for G, g in zip(grids, dgqs) if g is not None and np.any(g > 0)]
    if not positive:
        return kbar, None
    return kbar, sum(float(np.sum(np.maximum(g, 0.0) * G.W)) for G, g in positive) / total


def _spd(dkqs, dgqs):
    """Whether Jacobians with these ``κ'`` and ``g'`` (per grid) are symmetric positive definite."""
    return all(d is None for d in dkqs) and all(g is None or np.all(g >= 0) for g in dgqs)


def _rounding_floor(form, x0, options):
    """Raise ``options["atol"]`` to the rounding floor of ``‖F‖`` (its terms' size at ``x0``)."""
    _, scale = form.residual(x0, parts=True)
    options["atol"] = max(options["atol"], ROUNDING * scale)


def _solve_newton(form, x0, kap, react, t0, krylov, fit=None, precond=None, **options):
    """Newton–Krylov on ``form`` from ``x0``; the info says the derivatives and the time.

    ``krylov="auto"`` takes CG at the iterates where the Jacobian is symmetric positive
    definite (``form.jacobian(uc).spd``), else GMRES; ``options`` go to
    :func:`~femkron.linalg.newton.newton_krylov`.
    """

    def method(uc):
        if krylov != "auto":
            return krylov
        return "cg" if form.jacobian(uc).spd else "gmres"

    uc, info = newton_krylov(
        form.residual,
        x0,
        form.jacobian,
        fit=fit,
        precond=precond,
        krylov=method,
        label="newton",
        **options,
    )
    kinds = {}
    if isinstance(kap, _PointFunction):
        kinds["κ'"] = kap.describe()
    if react is not None:
        kinds["g'"] = react.describe()
    if len(set(kinds.values())) == 1:
        info.derivatives = next(iter(kinds.values()))
    else:
        info.derivatives = "; ".join(f"{k}: {v}" for k, v in kinds.items()) or "none"
    info.seconds = time.perf_counter() - t0
    return uc, info


def nonlinear_poisson(
    V,
    f,
    kappa=1.0,
    reaction=None,
    bc=None,
    *,
    dkappa=None,
    dreaction=None,
    u0=None,
    rtol=1e-10,
    atol=0.0,
    maxiter=50,
    krylov="auto",
    preconditioner="auto",
    forcing="eisenstat-walker",
    line_search=True,
    inner_maxiter=200,
    quad=None,
):
    """Solve ``-∇·(κ(u)∇u) + g(u) = f`` by inexact Newton–Krylov, matrix-free.

    Parameters
    ----------
    V : TensorSpace or BoxUnion
        A box, or a space in curvilinear coordinates (disk, annulus, cylinder, shell, ...).
        On a union of boxes the forms are applied box by box and the Newton systems are
        preconditioned by the union solve of the constant-coefficient operator
        (:func:`~femkron.problems.union_nonlinear.union_nonlinear_poisson`); the result is
        a :class:`~femkron.UnionSolution`.
    f : number, callable ``f(x, y, ...)`` or tuple of per-axis callables
        The load.
    kappa : number or callable
        ``κ(u)``, applied elementwise to arrays of values of ``u``; ``> 0`` at every
        quadrature point of every iterate.
    reaction : callable, optional
        ``g(u)``, elementwise.
    bc : dict or Condition, optional
        As in :func:`~femkron.poisson` (faces not named are homogeneous Dirichlet); Neumann
        data are the flux ``κ(u) ∂u/∂n``.
    dkappa, dreaction : callable, optional
        ``κ'(u)`` and ``g'(u)``; by default the complex step, or central differences for a
        function that does not accept complex arrays (``sol.info.derivatives`` says which).
    u0 : number, callable or array of shape ``V.shape``, optional
        Initial guess (default 0; Dirichlet values are imposed on it).
    rtol, atol : float
        Stop when ``‖F(u)‖ ≤ max(atol, rtol ‖F(u0)‖)`` (Euclidean norm on the free dofs), or
        below ``100 ε`` times the size of its terms at ``u0`` (the rounding floor).
    maxiter : int
        Newton steps at most.
    krylov : {"auto", "cg", "gmres"}
        The Krylov method of the Newton systems; ``"auto"``: CG when the Jacobian is
        symmetric positive definite (``κ`` a number and ``g'(u) ≥ 0`` at the iterate), else
        GMRES (``κ'(u) δ ∇u`` makes the Jacobian non-symmetric).
    preconditioner : {"auto", "separable", "constant"}
        Fast diagonalization of ``"separable"``: the separable fit of
        ``-∇·(κ(u_k)∇·) + max(g'(u_k), 0)``, rebuilt at every step
        (:class:`~femkron.SeparablePreconditioner`, Cartesian boxes); ``"constant"``: that
        operator with the weighted means of the coefficients at the initial guess, a
        Kronecker sum solved exactly by the solver :func:`~femkron.make_solver` chooses
        (fdm; nested diagonalization with poles), set up once.  ``"auto"``: ``"separable"``
        on a box, ``"constant"`` in curvilinear coordinates.
    forcing : "eisenstat-walker" or float
        Tolerances of the Newton systems (see :func:`femkron.linalg.newton.newton_krylov`).
    line_search : bool
        Backtracking on ``‖F‖``.
    inner_maxiter : int
        Krylov iterations per Newton step at most.
    quad : int, optional
        Gauss points per cell and axis of the nonlinear terms (default ``p + 2``).

    Returns
    -------
    Solution
        ``problem="nonlinear-poisson"``; ``info`` a :class:`~femkron.NewtonInfo` with the
        residual history (``info.history``), forcing terms, step lengths and Krylov
        iterations of every step and how the derivatives were obtained.

    Raises
    ------
    ConvergenceError
        Newton did not converge (``err.residuals``: the relative residual history;
        ``err.reason``: ``"not-converged"`` or ``"line-search"``).

    Examples
    --------
    ``-∇·((1 + u²)∇u) = f`` with the exact solution ``u = sin(πx) sin(πy)``:

    >>> import numpy as np
    >>> import femkron as fk
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> def f(x, y):
    ...     u, ux = ex(x, y), np.pi * np.cos(np.pi * x) * np.sin(np.pi * y)
    ...     uy = np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
    ...     return (1 + u**2) * 2 * np.pi**2 * u - 2 * u * (ux**2 + uy**2)
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    >>> sol = fk.nonlinear_poisson(V, f, kappa=lambda u: 1 + u**2, dkappa=lambda u: 2 * u)
    >>> bool(sol.error(ex) < 1e-4), sol.info.iterations <= 8
    (True, True)
    """
    t0 = time.perf_counter()
    from .union_problems import BoxUnion

    if isinstance(V, BoxUnion):  # box by box, the union solve as preconditioner
        from .union_nonlinear import union_nonlinear_poisson

        return union_nonlinear_poisson(
            V, f, kappa, reaction, bc, dkappa=dkappa, dreaction=dreaction, u0=u0, rtol=rtol,
            atol=atol, maxiter=maxiter, krylov=krylov, preconditioner=preconditioner,
            forcing=forcing, line_search=line_search, inner_maxiter=inner_maxiter, quad=quad,
        )  # fmt: skip
    V = as_tensor_space(V)
    check_problem_size(V, "nonlinear_poisson", vectors=NONLINEAR_VECTORS)
    bcs = BoundaryConditions(V, bc)
    kap, react = _coefficients(kappa, dkappa, reaction, dreaction)
    check_choice(krylov, "krylov", KRYLOV_CHOICES)
    check_choice(preconditioner, "preconditioner", PRECONDITIONERS)
    curvilinear = getattr(getattr(V, "coordinates", None), "curvilinear", False)
    if preconditioner == "auto":
        preconditioner = "constant" if curvilinear else "separable"
    if preconditioner == "separable" and curvilinear:
        raise FemkronValueError(
            f"preconditioner='separable' needs a Cartesian box; this space has "
            f"{V.coordinates.name} coordinates: use preconditioner='constant' (or 'auto')"
        )
    options = _newton_options(rtol, atol, maxiter, forcing, line_search, inner_maxiter)
    if bcs.singular and react is None:
        raise FemkronValueError(
            "a nonlinear problem with only Neumann/periodic conditions and no reaction has no "
            "unique solution; add a Dirichlet or Robin face, or a reaction"
        )
    form = _Form(V, bcs, kap, react, f, quad=quad)
    x0 = _initial(form, u0, V)
    _rounding_floor(form, x0, options)
    precond = None
    if preconditioner == "separable":
        fit = lambda uc: form.separable_fit(form.jacobian(uc))  # noqa: E731
    else:  # the constant-coefficient operator, solved exactly, set up once
        fit = None
        inverse = make_solver(form.constant_fit(form.jacobian(x0)), "auto", check=False)
        precond = inverse.solve
    uc, info = _solve_newton(form, x0, kap, react, t0, krylov, fit=fit, precond=precond, **options)
    if precond is not None:
        info.note = (
            f"{info.linear_method} preconditioned by {inverse.method} of the operator with "
            "the mean coefficients at the initial guess"
        )
    coefficient = {"path": "matfree", "preconditioner": info.note}
    return Solution(V, form.full(uc), info, problem="nonlinear-poisson", coefficient=coefficient)
