"""The steps of pseudo-arclength continuation: bordered Newton corrector and tangents.

:func:`femkron.continuation` (:mod:`femkron.problems.continuation`) walks a branch of
``F(u, λ) = 0`` with these private pieces: :class:`_Problem` (``F``, ``F_u`` as a matrix-free
Jacobian, ``F_λ``, and the fast solves with ``F_u``: GMRES preconditioned by fast
diagonalization of the Laplacian ``K``), the corrector (Newton on the system bordered by the
arclength equation, solved by the bordering algorithm: two solves with ``F_u`` per
iteration) and the unit tangent at a corrected point.  Where a solve with ``F_u`` fails (``F_u``
nearly singular by a fold) the bordered system itself, regular there, is solved by GMRES
preconditioned by bordering with ``K``.

Examples
--------
>>> import numpy as np
>>> op = _BorderedOperator(np.eye(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), 1.0)
>>> op @ np.array([1.0, 2.0, 3.0])        # [F_u du + F_λ dλ, c·du + t dλ]
array([4., 2., 5.])
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronError
from ..linalg.solve import make_solver

#: Relative tolerance of the fast solves with ``F_u`` inside the corrector.
INNER_RTOL = 1e-10

#: GMRES iterations of a solve with ``F_u`` at most: ``K⁻¹F_u = I - K⁻¹M[s_u]`` needs a
#: number independent of the mesh (about 15 for Bratu); one that needs more is near a fold,
#: and the bordered system (regular there) is solved instead.
FU_MAXITER = 60


class _Problem:
    """``F(u, λ)``, its derivatives and the fast solves with ``F_u``."""

    def __init__(self, form, precond, inner_maxiter):
        self.form = form
        self.precond = precond
        self.inner_maxiter = inner_maxiter
        self.n = form.bcs.ndofs
        self.w = 1.0 / self.n
        self.linear_iterations = 0
        self.bordered_solves = 0

    def F(self, u, lam, parts=False):
        self.form.args = (lam,)
        return self.form.residual(u, parts=parts)

    def solver(self, u, lam, rtol=INNER_RTOL):
        self.form.args = (lam,)
        J = self.form.jacobian(u)
        return make_solver(
            J,
            "gmres",
            precond=self.precond,
            rtol=rtol,
            maxiter=min(self.inner_maxiter, FU_MAXITER),
            raise_on_failure=False,
            check=False,
            label="fdm-gmres",
        )

    def jacobian(self, u, lam):
        self.form.args = (lam,)
        return self.form.jacobian(u)

    def F_lam(self, u, lam):
        self.form.args = (lam,)
        return self.form.parameter_derivative(u)

    def unit(self, du, dl):
        size = np.sqrt(self.w * (du @ du) + dl * dl)
        return du / size, dl / size

    def dot(self, a, b):
        return self.w * (a[0] @ b[0]) + a[1] * b[1]


def _count(problem, solver):
    problem.linear_iterations += int(solver.info.iterations)


class _BorderedOperator:
    """``[[F_u, F_λ], [w u̇ᵀ, λ̇]]`` applied to ``(δu, δλ)`` (one vector of length n + 1)."""

    def __init__(self, J, Fl, cu, tl):
        self.J, self.Fl, self.cu, self.tl = J, Fl, cu, tl
        n = Fl.size
        self.shape = (n + 1, n + 1)
        self.dtype = np.dtype(float)

    def __matmul__(self, x):
        du, dl = x[:-1], x[-1]
        return np.concatenate([self.J @ du + dl * self.Fl, [self.cu @ du + self.tl * dl]])


def _bordered_precond(P, Fl, cu, tl):
    """``[[K, F_λ], [w u̇ᵀ, λ̇]]⁻¹`` by bordering with the fast solve of ``K`` (SPD)."""
    b0 = P.precond(Fl)
    denom = tl - cu @ b0
    if not np.isfinite(denom) or abs(denom) <= 1e-12 * (abs(tl) + abs(cu @ b0)):
        return lambda r: np.concatenate([P.precond(r[:-1]), r[-1:]])

    def apply(r):
        a = P.precond(r[:-1])
        y = (r[-1] - cu @ a) / denom
        return np.concatenate([a - y * b0, [y]])

    return apply


def _bordered_solve(P, u, lam, Fl, tu, tl, rhs):
    """Solve the bordered system by GMRES preconditioned by bordering with ``K``.

    The fallback where the solves with ``F_u`` fail (``F_u`` nearly singular by a fold): the
    bordered matrix itself stays regular there.  Returns the solution or None.
    """
    P.bordered_solves += 1
    cu = P.w * tu
    op = _BorderedOperator(P.jacobian(u, lam), Fl, cu, tl)
    solver = make_solver(
        op,
        "gmres",
        precond=_bordered_precond(P, Fl, cu, tl),
        rtol=INNER_RTOL,
        maxiter=P.inner_maxiter,
        restart=100,
        raise_on_failure=False,
        check=False,
        label="bordered-gmres",
    )
    x = solver.solve(rhs)
    _count(P, solver)
    if not solver.info.converged or not np.all(np.isfinite(x)):
        return None
    return x


def _direction(P, u, lam, F, N, tu, tl, rtol=INNER_RTOL):
    """The Newton correction ``(δu, δλ)`` of the bordered system (bordering algorithm).

    ``F_u a = F``, ``F_u b = F_λ`` (fast solves), ``δλ = (w u̇ᵀa - N)/(λ̇ - w u̇ᵀb)``,
    ``δu = -a - δλ b``; where those solves fail, GMRES on the bordered system.  ``rtol``:
    the tolerance of the solves (inexact Newton).
    """
    Fl = P.F_lam(u, lam)
    solver = P.solver(u, lam, rtol)
    a = solver.solve(F)
    ok = solver.info.converged
    if ok:
        b = solver.solve(Fl)
        ok = solver.info.converged
    _count(P, solver)
    if ok:
        denom = tl - P.w * (tu @ b)
        if np.isfinite(denom) and denom != 0:
            dl = (P.w * (tu @ a) - N) / denom
            return -a - dl * b, dl
    x = _bordered_solve(P, u, lam, Fl, tu, tl, np.concatenate([-F, [-N]]))
    return None if x is None else (x[:-1], x[-1])


def _corrector(P, u0, l0, tu, tl, ds, tol, maxiter):
    """Newton on the bordered system from the predictor; ``(u, λ, iterations)`` or None.

    None also where the source is not finite (outside its domain): the step is then shortened.
    """
    try:
        return _newton(P, u0, l0, tu, tl, ds, tol, maxiter)
    except FemkronError as err:
        if err.reason == "invalid-state":
            return None
        raise


def _newton(P, u0, l0, tu, tl, ds, tol, maxiter):
    u = u0 + ds * tu
    lam = l0 + ds * tl
    previous = np.inf
    for it in range(maxiter + 1):
        F, scale = P.F(u, lam, parts=True)
        N = P.w * (tu @ (u - u0)) + tl * (lam - l0) - ds
        fn = float(np.linalg.norm(F))
        if not np.isfinite(fn):
            return None
        if fn <= tol * scale and abs(N) <= tol * max(abs(ds), 1e-300) and it > 0:
            return u, lam, it
        if it == maxiter or (it >= 2 and fn > 2 * previous):
            return None
        previous = fn
        # inexact Newton: solves to 1% of the current relative residual (quadratic phase
        # kept: the error of a step is then 1% of the step)
        rel = max(fn / scale if scale > 0 else 0.0, abs(N) / max(abs(ds), 1e-300))
        step = _direction(P, u, lam, F, N, tu, tl, max(INNER_RTOL, min(1e-3, 1e-2 * rel)))
        if step is None:
            return None
        u = u + step[0]
        lam = lam + step[1]
    return None


def _tangent(P, u, lam, tu, tl):
    try:
        return _unit_tangent(P, u, lam, tu, tl)
    except FemkronError as err:
        if err.reason == "invalid-state":
            return None
        raise


def _unit_tangent(P, u, lam, tu, tl):
    """The unit tangent at ``(u, λ)``, oriented along the previous one ``(tu, tl)``.

    It solves ``[[F_u, F_λ], [w tuᵀ, tl]] (u̇, λ̇) = (0, 1)``: by bordering,
    ``F_u b = F_λ``, ``λ̇ = 1/(tl - w tuᵀb)``, ``u̇ = -λ̇ b``; then normalised (the positive
    scaling keeps ``⟨(tu, tl), (u̇, λ̇)⟩ > 0``).
    """
    Fl = P.F_lam(u, lam)
    solver = P.solver(u, lam)
    b = solver.solve(Fl)
    _count(P, solver)
    if solver.info.converged:
        denom = tl - P.w * (tu @ b)
        if np.isfinite(denom) and denom != 0:
            dl = 1.0 / denom
            return P.unit(-dl * b, dl)
    rhs = np.zeros(P.n + 1)
    rhs[-1] = 1.0
    x = _bordered_solve(P, u, lam, Fl, tu, tl, rhs)
    return None if x is None else P.unit(x[:-1], x[-1])
