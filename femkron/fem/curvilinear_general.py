"""General (non-separable) coefficients in curvilinear coordinates.

A coefficient ``κ(q)`` that is no product of one function per axis breaks the Kronecker sum,
so it takes the element-by-element paths (:func:`femkron.assemble`,
:class:`~femkron.MatrixFreeOperator`).  In orthogonal coordinates those paths integrate

``∫ κ Σ_d (J / h_d²) ∂_d u ∂_d v dq + ∫ σ u v J dq``,

and every metric weight ``J / h_d²`` and ``J`` is a product of one power of ``r`` (or
``sin θ``) per axis (:mod:`femkron.fem.coordinates`): this module evaluates those 1D factors
at the Gauss points of each axis and multiplies them into the coefficient arrays, which costs
one broadcast product per term.

At a pole (the centre of a disk, the axis of a cylinder, the poles of a sphere) the weights
``1/r`` and ``1/sin θ`` are finite at every Gauss point (no Gauss point lies on the pole).  The
entries they make for the pole dof multiply an angular derivative, and the angular derivatives
of the basis functions of one ring sum to zero pointwise, so the pole-constrained operator
``Pᵀ A P`` (:class:`~femkron.kron.nested.PoleConstrainedOperator`) does not see them: it is
the conforming operator, as the Kronecker path with the divergent entries left out is.

The preconditioner of such an operator, :class:`CurvilinearFitPreconditioner`, is the exact
nested diagonalization (:class:`~femkron.kron.nested.NestedDiagonalization`) of the operator
with κ and σ replaced by their **radial profiles** (geometric mean of κ, mean of σ, over the
other axes at each radial Gauss point): the angular and axial factors keep their plain
pencils, so the fit solves as fast as the constant-coefficient operator, and it is exact for
a coefficient that depends on ``r`` only.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> D = fk.TensorSpace.disk(radius=1.0, cells=(4, 8), order=2)
>>> bc = {"outer": fk.Dirichlet(0.0)}
>>> A = fk.assemble(D, kappa=1.0, bcs=bc, quad=12)      # 1/r is no polynomial: many points
>>> B = fk.BoundaryConditions(D, bc).constrain(fk.stiffness(D))
>>> bool(abs(A - B.tocsr()).max() < 1e-12)
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..errors import StructureError
from ..kron.nested import NestedDiagonalization
from ..kron.operator import KronOperator
from ..kron.poles import _pole_layout
from .coefficients import axis_shape, quadrature_points

__all__ = [
    "curvilinear_advection",
    "max_scale_factors",
    "metric_factors",
    "with_metric",
    "pole_diagonal",
    "CurvilinearFitPreconditioner",
]


def _is_curvilinear(V):
    c = getattr(V, "coordinates", None)
    return c is not None and c.curvilinear


def metric_factors(V, quad):
    """The metric weights at the Gauss points, as per-axis 1D arrays.

    Returns ``(stiffness, mass)``: ``stiffness[d][e]`` is the factor of axis ``e`` in the
    weight ``J / h_d²`` of the term differentiating axis ``d``, ``mass[e]`` that of ``J``;
    each a 1D array over the Gauss points of axis ``e`` (``quad`` per cell, cell by cell) or
    ``None`` for the weight 1.  Cartesian spaces give only ``None``.

    Examples
    --------
    >>> import femkron as fk
    >>> D = fk.TensorSpace.disk(radius=1.0, cells=(2, 4), order=1)
    >>> stiff, mass = metric_factors(D, (2, 2))
    >>> stiff[0][1] is None, bool(np.allclose(stiff[1][0] * mass[0], 1.0))  # (1/r)·r
    (True, True)
    """
    D = V.dim
    if not _is_curvilinear(V):
        return [[None] * D for _ in range(D)], [None] * D
    c = V.coordinates
    pts, _, _ = quadrature_points(V, quad)

    def factor(e, power):
        w = c.weight(e, power)
        return None if w is None else np.asarray(w(pts[e]), dtype=float)

    stiff = [[factor(e, c.stiffness_powers[d][e]) for e in range(D)] for d in range(D)]
    mass = [factor(e, c.mass_powers[e]) for e in range(D)]
    return stiff, mass


def with_metric(values, factors):
    """``values`` (an array on the Gauss grid, or a number) times the per-axis ``factors``.

    Always a new array of the full Gauss-grid shape when any factor is given.
    """
    out = values
    D = len(factors)
    for e, f in enumerate(factors):
        if f is not None:
            out = out * f.reshape(axis_shape(D, e))
    return out


def curvilinear_advection(V, rates):
    """``∫ (Σ_d q̇_d ∂_d u) v J dq`` for constant coordinate rates ``q̇`` (a Kronecker sum).

    ``rates[d]`` is ``dq_d/dt`` of the flow: in polar coordinates ``(0, ω)`` is the rigid
    rotation of angular speed ω (physical velocity ``ω r θ̂``), ``(c, 0)`` the uniform radial
    speed ``c``.  As ``J`` is a product of one weight per axis, each term is one Kronecker
    product ``M[J_0] ⊗ … ⊗ C[J_d] ⊗ … ⊗ M[J_D]`` with ``C[w] = ∫ w φ_j' φ_i``.  A velocity
    with constant *physical* Cartesian components is no such sum and is not offered.

    Examples
    --------
    >>> import femkron as fk
    >>> A = fk.TensorSpace.annulus(1.0, 2.0, cells=(4, 16), order=2)
    >>> C = curvilinear_advection(A, (0.0, 1.0))          # rotation: ∫ ∂_θ(u) v r dr dθ
    >>> u = A.interpolate(lambda r, t: r * np.sin(t)).ravel()
    >>> v = A.interpolate(lambda r, t: r * np.cos(t)).ravel()
    >>> round(float(v @ (C @ u)) / (15 * np.pi / 4), 3)  # ∫ r cos²θ · r · r dr dθ = 15π/4
    1.0
    """
    from .curvilinear import weighted_matrix

    c = V.coordinates
    terms = []
    for d, rate in enumerate(rates):
        if rate == 0.0:
            continue
        factors = []
        for e, s in enumerate(V.spaces):
            if e == d:
                w = c.weight(e, c.mass_powers[e])
                factors.append(s.advection(w, quad=None if w is None else 2 * s.order + 8))
            else:
                factors.append(weighted_matrix(V, e, "M", c.mass_powers[e]))
        terms.append((float(rate), tuple(factors)))
    if not terms:  # the zero operator, on the right grid
        terms = [(0.0, tuple(weighted_matrix(V, e, "M", 0) for e in range(V.dim)))]
    return KronOperator(terms)


def max_scale_factors(V):
    """Per axis the largest scale factor ``h_d`` over the domain (for Péclet numbers).

    Examples
    --------
    >>> import femkron as fk
    >>> max_scale_factors(fk.TensorSpace.annulus(0.5, 2.0, cells=(2, 8)))
    (1.0, 2.0)
    """
    c = V.coordinates
    out = []
    for d in range(V.dim):
        h = 1.0
        for e, power in enumerate(c.scale[d]):
            if power == 0:
                continue
            a, b = V.spaces[e].mesh.a, V.spaces[e].mesh.b
            top = (
                b
                if c.kinds[e] == "r"
                else (1.0 if a <= np.pi / 2 <= b else max(np.sin(a), np.sin(b)))
            )
            h *= float(top) ** power
        out.append(h)
    return tuple(out)


def pole_diagonal(apply_grid, grid_diagonal, bcs):
    """The diagonal of ``Pᵀ A P`` from the grid operator's products and diagonal.

    Off the poles it is the grid diagonal; a pole dof's entry is the sum of ``A`` over its
    ring, found by applying ``A`` to the rings of one colour at a time (rings of one colour
    are more than a cell apart, so they do not couple): ``Π (p_e + 1)`` products per pole.
    """
    shape = tuple(bcs.shape)
    cols, blocks, rest, nred = _pole_layout(shape, bcs.poles)
    out = np.empty(nred)
    out[nred - rest.size :] = np.asarray(grid_diagonal).reshape(-1)[rest]
    P = bcs._pole_P
    D = len(shape)
    for (axis, _, angular), (sl, _, _, sub) in zip(bcs.poles, blocks):
        keep = [d for d in range(D) if d != axis and d not in angular]
        colours = []
        for k, d in enumerate(keep):
            c = bcs.V.spaces[d].order + 1
            if bcs.axes[d] == "periodic" and sub[k] % c:
                c = sub[k]  # a periodic ring count that the colours do not divide
            colours.append(min(c, sub[k]))
        index = np.indices(sub).reshape(len(sub), -1) if sub else np.zeros((0, 1), int)
        colour = np.zeros(index.shape[1], dtype=np.int64)
        for k, c in enumerate(colours):
            colour = colour * c + index[k] % c
        local = np.arange(sl.start, sl.stop)
        for col in np.unique(colour):
            members = local[colour == col]
            x = np.zeros(nred)
            x[members] = 1.0
            y = P.T @ np.asarray(apply_grid((P @ x).reshape(shape))).reshape(-1)
            out[members] = y[members]
    return out


def _mean(profile):
    """The geometric mean of a positive radial profile."""
    return float(np.exp(np.mean(np.log(profile))))


def _radial_profile(values, weights, geometric):
    """Per radial Gauss point the (geometric) weighted mean over the other axes."""
    X = np.log(values) if geometric else values
    X = np.broadcast_to(X, tuple(w.size for w in weights))
    for e in reversed(range(1, X.ndim)):
        X = np.moveaxis(X, e, -1) @ (weights[e] / weights[e].sum())
    return np.exp(X) if geometric else X


class CurvilinearFitPreconditioner:
    """Nested diagonalization of the radial-profile fit of a curvilinear matrix-free operator.

    The fit replaces each diffusion component ``κ_d`` by ``κ̃_d(r)``, its geometric mean over
    the other axes at each radial Gauss point, and ``σ`` by its mean ``σ̃(r)``; it keeps the
    metric weights, the Robin terms and the pole constraint of the operator, all under the
    operator's own quadrature.  The angular (and axial) factors stay plain pencils, so
    :class:`~femkron.kron.nested.NestedDiagonalization` solves the fit exactly: one banded
    radial system per mode.

    Parameters
    ----------
    op : MatrixFreeOperator
        On a curvilinear space, with boundary conditions.
    singular : bool
        Pure Neumann: the constant mode is pinned (right-hand sides projected by the caller).

    Attributes
    ----------
    fit : KronOperator or PoleConstrainedOperator
        The fitted operator on the free dofs.
    nested : NestedDiagonalization
    kind : str
        What the preconditioner is (for the solve's note).
    contrast : float
        ``max(κ/κ̃) / min(κ/κ̃)`` over the Gauss points and components: CG on the
        preconditioned system takes ``O(√contrast)`` iterations.
    setup_seconds : float

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> D = fk.TensorSpace.disk(radius=1.0, cells=(6, 12), order=2)
    >>> A = fk.MatrixFreeOperator(D, lambda r, t: 1 + r**2, bcs={"outer": fk.Dirichlet(0.0)})
    >>> P = A.preconditioner()
    >>> b = np.ones(A.shape[0])
    >>> round(P.contrast, 12), bool(np.allclose(A @ P.solve(b), b))   # κ radial: exact fit
    (1.0, True)
    """

    def __init__(self, op, singular=False):
        t0 = time.perf_counter()
        V, bcs, quad = op.V, op.bcs, op.quad
        c = V.coordinates
        D = V.dim
        pts, wts, _ = quadrature_points(V, quad)
        # radial weights J-like for the averages: Gauss weights times the mass metric
        _, mass_f = metric_factors(V, quad)
        weights = [w if m is None else w * m for w, m in zip(wts, mass_f)]
        s0, q0 = V.spaces[0], quad[0]
        shape0 = (s0.mesh.cells, q0)
        profiles, seen, contrast = [], {}, 1.0
        if op.kappa_values is not None:
            for k in op.kappa_values:
                if id(k) not in seen:
                    prof = _radial_profile(k, weights, geometric=True)
                    ratio = k / prof.reshape(axis_shape(D, 0))
                    contrast = max(contrast, float(np.max(ratio) / np.min(ratio)))
                    seen[id(k)] = prof
                profiles.append(seen[id(k)])
        sig = op.sigma_values
        sig_prof = None
        if sig is not None:
            sig_prof = (
                np.full(s0.mesh.cells * q0, float(sig))
                if np.ndim(sig) == 0
                else _radial_profile(np.asarray(sig), weights, geometric=False)
            )
        r_pts = pts[0].reshape(shape0)
        from .curvilinear import weighted_matrix

        def radial(kind, power, prof):
            if prof is None:  # the constant fit: the shared weighted matrix
                return weighted_matrix(V, 0, kind, power)
            w = c.weight(0, power)
            coef = prof.reshape(shape0) * (1.0 if w is None else w(r_pts))
            A = s0.stiffness(coef, quad=q0) if kind == "K" else s0.mass(coef, quad=q0)
            if power < 0 and s0.mesh.a == 0:  # the pole dof: never formed (fem/curvilinear)
                keep = np.ones(s0.ndofs)
                keep[0] = 0.0
                A = (sp.diags(keep) @ A @ sp.diags(keep)).tocsr()
                A.eliminate_zeros()
            return A.tocsr()

        def build(radial_fit):
            terms, roles = [], []
            for d, prof in enumerate(profiles):
                coef = 1.0 if radial_fit else _mean(prof)
                factors = [
                    radial(
                        "K" if d == 0 else "M",
                        c.stiffness_powers[d][0],
                        prof if radial_fit else None,
                    )
                ]
                factors += [
                    weighted_matrix(V, e, "K" if e == d else "M", c.stiffness_powers[d][e])
                    for e in range(1, D)
                ]
                terms.append((coef, tuple(factors)))
                roles.append(d)
            if sig_prof is not None:
                coef = 1.0 if radial_fit else float(np.mean(sig_prof))
                factors = [radial("M", c.mass_powers[0], sig_prof if radial_fit else None)]
                factors += [weighted_matrix(V, e, "M", c.mass_powers[e]) for e in range(1, D)]
                terms.append((coef, tuple(factors)))
                roles.append(None)
            fit = KronOperator.kron_sum(terms, roles)
            robin = bcs.robin_operator()
            if robin is not None and op.boundary_scale != 0.0:
                fit = fit + op.boundary_scale * robin
            fit = bcs.constrain(fit)
            return fit, NestedDiagonalization(fit, singular=singular)

        try:
            self.fit, self.nested = build(True)
            self.kind = "nested diagonalization of a radial fit of the coefficient"
        except StructureError:  # Robin faces across the radial axis: a constant fit nests
            self.fit, self.nested = build(False)
            self.kind = "nested diagonalization of a constant fit of the coefficient"
            contrast = 1.0
            for k in {id(k): k for k in op.kappa_values or []}.values():
                ratio = k / _mean(np.exp(_radial_profile(k, weights, True)))
                contrast = max(contrast, float(np.max(ratio) / np.min(ratio)))
        self.contrast = contrast
        self.setup_seconds = time.perf_counter() - t0

    def solve(self, b):
        """The fit's inverse applied to ``b``."""
        return self.nested.solve(b)

    __call__ = solve
