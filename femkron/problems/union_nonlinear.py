"""``-∇·(κ(u)∇u) + g(u) = f`` on a union of boxes by Newton–Krylov, matrix-free per box.

What :func:`femkron.nonlinear_poisson` runs on a :class:`~femkron.BoxUnion`.  The weak
residual and its Jacobian are applied box by box of the union's partition: each box maps
the values of ``u`` to its Gauss grid by sum factorisation
(:class:`~femkron.fem.quadrature_grid.QuadratureGrid`), the nonlinearities are evaluated
there and the result is tested against the box's basis and added into the union's dofs
(the boxes share only their interface dofs).  Every Newton system is solved by CG (GMRES when
the Jacobian is not symmetric positive definite) preconditioned by the union solve of the
constant-coefficient operator ``-κ̄ Δ + σ̄`` (``κ̄``, ``σ̄``: the weighted means of ``κ(u0)``
and ``max(g'(u0), 0)``; exact fdm per box, CG on the interfaces), set up once.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> L = fk.BoxUnion.lshape(cells=8, order=2)
>>> sol = fk.nonlinear_poisson(L, 10.0, kappa=lambda u: 1 + u**2, reaction=lambda u: u**3)
>>> type(sol).__name__, sol.info.converged, bool(sol.info.residual < 1e-10)
('UnionSolution', True, True)
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import check_choice, is_number
from ..errors import FemkronValueError
from ..fem.quadrature_grid import QuadratureGrid
from ..fem.union_ops import UnionConditions, union_load, union_matrix, union_operator
from ..linalg.solve import make_solver
from .nonlinear import (
    KRYLOV_CHOICES,
    _coefficients,
    _kappa_derivative,
    _kappa_values,
    _linearised,
    _mean_coefficients,
    _newton_options,
    _rounding_floor,
    _solve_newton,
    _spd,
)
from .union_problems import UnionSolution

__all__ = ["union_nonlinear_poisson"]


class _UnionJacobian:
    """The linearised operator at one state, applied box by box on the free dofs."""

    def __init__(self, form, kq, dkq, grads, dgq):
        self.form = form
        self.kq, self.dkq, self.grads, self.dgq = kq, dkq, grads, dgq
        n = form.conds.ndofs
        self.shape = (n, n)
        self.dtype = np.dtype(float)

    @property
    def spd(self):
        """Whether this Jacobian is symmetric positive definite (CG applies)."""
        return _spd(self.dkq, self.dgq)

    def __matmul__(self, v):
        f = self.form
        full = np.zeros(f.size)
        full[f.conds.free] = np.asarray(v, dtype=float)
        out = np.zeros(f.size)
        for b, (W, G, idx) in enumerate(f.boxes):
            Vb = full[idx].reshape(W.shape)
            out[idx] += _linearised(G, Vb, self.kq[b], self.dkq[b], self.grads[b], self.dgq[b])
        y = out[f.conds.free]
        if f.robin is not None:
            y = y + f.robin @ full[f.ext]
        return y


class _UnionForm:
    """``F(u) = ∫ κ(u)∇u·∇v + g(u) v - f v`` (+ Robin, - face loads) on the free dofs."""

    def __init__(self, U, conds, kappa, reaction, f, quad):
        self.U, self.conds = U, conds
        self.kappa, self.reaction = kappa, reaction
        self.size = int(np.prod(U.shape))
        self.boxes = []
        for box in U.boxes:
            W = U.box_space(box)
            idx = U.flat_index([U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)])
            self.boxes.append((W, QuadratureGrid(W, quad), idx.ravel()))
        n = conds.ndofs
        self.ext = np.concatenate([conds.free, conds.fixed])
        robin = union_matrix(U, conds, kappa=0.0, sigma=0.0)[:n]
        robin.eliminate_zeros()
        self.robin = robin if robin.nnz else None
        self.load = union_load(U, conds, f)[conds.free]
        lift = conds.values()
        self.lift = np.zeros(self.size) if lift is None else lift

    def full(self, uc):
        """The bounding-grid vector (Dirichlet values included) of free values ``uc``."""
        out = self.lift.copy()
        out[self.conds.free] = uc
        return out

    def _state(self, uc):
        full = self.full(uc)
        states = []
        for W, G, idx in self.boxes:
            Ub = full[idx].reshape(W.shape)
            uq, grads = G.values(Ub), G.gradients(Ub)
            states.append((uq, grads, _kappa_values(self.kappa, uq)))
        return full, states

    def residual(self, uc, parts=False):
        """``F(u)``; with ``parts`` also ``‖diffusion‖ + ‖reaction‖ + ‖load‖`` (its scale)."""
        full, states = self._state(uc)
        diff, react = np.zeros(self.size), np.zeros(self.size)
        for (_, G, idx), (uq, grads, kq) in zip(self.boxes, states):
            diff[idx] += G.integrate(None, [kq * g for g in grads]).reshape(-1)
            if self.reaction is not None:
                react[idx] += G.integrate(self.reaction(uq)).reshape(-1)
        d = diff[self.conds.free]
        if self.robin is not None:
            d = d + self.robin @ full[self.ext]
        r = react[self.conds.free]
        F = d + r - self.load
        if not parts:
            return F
        scale = np.linalg.norm(d) + np.linalg.norm(r) + np.linalg.norm(self.load)
        return F, float(scale)

    def jacobian(self, uc):
        _, states = self._state(uc)
        kq, dkq, grads, dgq = [], [], [], []
        for uq, g, k in states:
            kq.append(k)
            grads.append(g)
            dkq.append(_kappa_derivative(self.kappa, uq))
            dgq.append(None if self.reaction is None else self.reaction.derivative(uq))
        return _UnionJacobian(self, kq, dkq, grads, dgq)

    def constant_fit(self, J):
        """``-κ̄ Δ + σ̄`` (+ Robin) of a Jacobian's weighted mean coefficients: a union operator."""
        kbar, sbar = _mean_coefficients([G for _, G, _ in self.boxes], J.kq, J.dgq)
        return union_operator(self.U, self.conds, kbar, 0.0 if sbar is None else sbar)


def union_nonlinear_poisson(
    U,
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
    """:func:`femkron.nonlinear_poisson` on a union of boxes.

    The arguments are those of :func:`femkron.nonlinear_poisson`; ``preconditioner`` may only
    be ``"auto"`` or ``"constant"`` (the union solve of the constant-coefficient operator,
    set up once), and ``u0`` an array of the union's dofs (``U.ndofs``) or of its bounding
    grid (``U.shape``).  Returns a :class:`~femkron.UnionSolution`.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4, order=1)
    >>> sol = union_nonlinear_poisson(L, 1.0, reaction=lambda u: u**3)
    >>> sol.info.linear_method
    'cg'
    """
    t0 = time.perf_counter()
    conds = UnionConditions(U, bc)
    kap, react = _coefficients(kappa, dkappa, reaction, dreaction)
    check_choice(krylov, "krylov", KRYLOV_CHOICES)
    check_choice(preconditioner, "preconditioner", ("auto", "constant"))
    options = _newton_options(rtol, atol, maxiter, forcing, line_search, inner_maxiter)
    if conds.singular and react is None:
        raise FemkronValueError(
            "a nonlinear problem with only Neumann conditions and no reaction has no unique "
            "solution; add a Dirichlet or Robin face, or a reaction"
        )
    form = _UnionForm(U, conds, kap, react, f, quad)
    if u0 is None:
        x0 = np.zeros(conds.ndofs)
    else:
        if is_number(u0) or callable(u0):
            u = U.interpolate(u0) if callable(u0) else np.full(U.ndofs, float(u0))
        else:
            a = np.asarray(u0, dtype=float)
            if a.shape == tuple(U.shape):
                u = U.from_full(a)
            elif a.size == U.ndofs:
                u = a.reshape(-1)
            else:
                raise FemkronValueError(
                    f"u0 must be a number, a callable or an array of {U.ndofs} union dofs (or "
                    f"of shape {U.shape}), got shape {a.shape}"
                )
        full = np.zeros(form.size)
        full[U.dofs] = u
        x0 = full[conds.free]
    _rounding_floor(form, x0, options)
    inverse = make_solver(form.constant_fit(form.jacobian(x0)), "auto", check=False)
    uc, info = _solve_newton(form, x0, kap, react, t0, krylov, precond=inverse.solve, **options)
    info.note = (
        f"{info.linear_method} preconditioned by the {inverse.method} union solve of the "
        "operator with the mean coefficients at the initial guess"
    )
    return UnionSolution(U, form.full(uc)[U.dofs], info, problem="nonlinear-poisson")
