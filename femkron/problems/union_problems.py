"""Problems on a union of boxes (:class:`~femkron.BoxUnion`): Poisson, Helmholtz, eigen, heat.

:func:`femkron.poisson`, :func:`femkron.helmholtz`, :func:`femkron.eigen` and
:func:`femkron.heat` hand a :class:`~femkron.BoxUnion` to the functions here.  The operator is
assembled box by box (:func:`femkron.fem.union_ops.union_operator`) and solved by the solver
:func:`~femkron.make_solver` chooses: ``auto`` takes the Schur complement solver of
:mod:`femkron.linalg.schur` (exact fdm per box, CG on the interfaces) for a constant κ, and
a sparse LU or AMG for a variable κ.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> L = fk.BoxUnion.lshape(cells=8, order=2)
>>> sol = fk.poisson(L, 1.0)
>>> sol.info.method, sol.values.shape, bool(np.isnan(sol.values).any())
('schur', (17, 17), True)
>>> w, v = fk.eigen(L, k=1)
>>> bool(abs(w[0] - 9.6397238440219) < 0.05)
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse.linalg as spla

from .._validate import as_int, as_real, as_vector, check_choice, is_number
from ..errors import FemkronTypeError, FemkronValueError
from ..fem.norms import NORMS
from ..fem.norms import error as _box_error
from ..fem.union import BoxUnion
from ..fem.union_ops import UnionConditions, union_load, union_matrix, union_operator
from ..linalg.solve import make_solver
from .solution import HeatSolution
from .union_dynamics import UnionTimeData

__all__ = [
    "UnionSolution",
    "union_poisson",
    "union_eigen",
    "union_heat",
    "union_advection_diffusion",
    "UNION_METHODS",
]

#: Methods of the problems on a union.
UNION_METHODS = ("auto", "schur", "direct", "amg", "cg")


class UnionSolution:
    """A finite element function on a :class:`BoxUnion`, the result of a solve.

    Attributes
    ----------
    V : BoxUnion
    vector : ndarray
        Values at the union's dofs (``V.dofs``).
    values : ndarray, shape ``V.shape``
        Values on the bounding grid, NaN outside the union (plots leave it blank).
    info : SolveInfo
    problem : str
    coefficient : dict
        ``{"path": "assembled"}`` (kept for the interface of :class:`~femkron.Solution`).
    peclet : None

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4, order=1)
    >>> sol = UnionSolution(L, L.interpolate(lambda x, y: x * y))
    >>> sol.error(lambda x, y: x * y, "max")
    0.0
    """

    def __init__(self, V, vector, info=None, problem="poisson"):
        if not isinstance(V, BoxUnion):
            raise FemkronTypeError(f"V must be a BoxUnion, got {type(V).__name__}")
        self.V = V
        self.vector = as_vector(vector, "vector", V.ndofs)
        self.values = V.to_full(self.vector)
        self.info = info
        self.problem = problem
        self.coefficient = {"path": "assembled"}
        self.peclet = None

    def __repr__(self):
        return f"<UnionSolution of {self.problem} on {self.V.ndofs} dofs ({self.info})>"

    def error(self, exact, norm="L2", grad=None, quad=None):
        """Error against ``exact`` over the union: ``"L2"``, ``"H1"`` (seminorm) or ``"max"``.

        Summed box by box of the partition (:func:`femkron.error` on each).
        """
        check_choice(norm, "norm", NORMS)
        U = self.V
        if norm == "max":
            return float(np.max(np.abs(self.vector - U.interpolate(exact))))
        total = 0.0
        for box in U.boxes:
            W = U.box_space(box)
            ranges = [U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)]
            u = self.values[np.ix_(*ranges)]
            total += _box_error(W, u.reshape(-1), exact, norm=norm, grad=grad, quad=quad) ** 2
        return float(np.sqrt(total))

    def __call__(self, *points):
        """Evaluate on the tensor grid of 1D point arrays (one per axis); NaN outside the union.

        Examples
        --------
        >>> import femkron as fk
        >>> L = fk.BoxUnion.lshape(cells=4, order=2)
        >>> sol = UnionSolution(L, L.interpolate(lambda x, y: x + 2 * y))
        >>> sol(np.array([-0.5, 0.5]), np.array([-0.5]))     # (0.5, -0.5) is outside
        array([[-1.5],
               [ nan]])
        """
        U = self.V
        if len(points) != U.dim:
            raise FemkronValueError(f"give one array of points per axis ({U.dim})")
        pts = [np.atleast_1d(np.asarray(p, dtype=float)).ravel() for p in points]
        out = np.full(tuple(p.size for p in pts), np.nan)
        for box in U.boxes:
            W = U.box_space(box)
            inside = [(p >= a) & (p <= b) for p, (a, b) in zip(pts, W.bounds)]
            if not all(m.any() for m in inside):
                continue
            ranges = [U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)]
            values = self.values[np.ix_(*ranges)].reshape(-1)
            out[np.ix_(*inside)] = W.evaluate(values, [p[m] for p, m in zip(pts, inside)])
        return out

    def plot(self, **kwargs):
        """Plot with :func:`femkron.plot.plot_union` (the removed part left blank)."""
        from .. import plot

        return plot.plot_union(self, **kwargs)

    def to_xarray(self, name="u"):
        """The solution as an ``xarray.Dataset`` (extra ``femkron[io]``).

        Values on the bounding grid, NaN outside the union, and the partition's boxes (the
        attribute ``union_boxes``); see :func:`femkron.io.solution_to_xarray`.
        """
        from .. import io

        return io.solution_to_xarray(self, name=name)

    def save(self, path, name="u"):
        """Write a netCDF file atomically (extra ``femkron[io]``).

        :func:`femkron.load_solution` reads it back as a :class:`UnionSolution` on the same
        union, bit for bit.
        """
        from .. import io

        return io.save_solution(self, path, name=name)

    def to_vtk(self, path, name="u"):
        """Write the active cells only to a ``.vtu`` file (extra ``femkron[io]``)."""
        from ..io.union_vtk import write_union_vtk

        return write_union_vtk(path, self.V, {name: self.vector})


def _check_kappa(kappa, dim=None):
    if is_number(kappa):
        return as_real(kappa, "kappa", positive=True)
    if callable(kappa):
        return kappa
    if isinstance(kappa, (tuple, list)) and dim is not None:
        if len(kappa) != dim or not all(is_number(k) or callable(k) for k in kappa):
            raise FemkronValueError(
                f"kappa given per axis must be {dim} numbers or callables, got {kappa!r}"
            )
        factors = tuple(kappa)

        def separable(*xs):  # the product a(x) b(y) [c(z)], assembled like any callable
            out = 1.0
            for k, x in zip(factors, xs):
                out = out * (k(x) if callable(k) else float(k))
            return out

        return separable
    raise FemkronTypeError(
        "kappa on a union must be a number > 0, a callable kappa(x, y[, z]) or a tuple of "
        f"per-axis factors, got {type(kappa).__name__}"
    )


def _solver(A, method, rtol, maxiter, singular, indefinite=False, fit=None):
    check_choice(method, "method", UNION_METHODS)
    if getattr(A, "schur_structure", None) is None:  # a variable coefficient: assembled
        A = A.tocsr()
    return make_solver(
        A,
        method,
        rtol=rtol,
        maxiter=maxiter,
        singular=singular,
        krylov="gmres" if indefinite else "cg",
        fit=fit,
    )


def _constant_fit(U, conds, kappa, sigma, scale=1.0):
    """The union operator of the constant ``sqrt(min κ max κ)`` (κ at the union's dofs).

    Its union solve preconditions CG on a variable coefficient: the condition number of the
    preconditioned operator is at most ``max κ / min κ`` over the fit's ``κ̄`` squared ratio.
    """
    values = U.interpolate(kappa)
    lo, hi = float(values.min()), float(values.max())
    if not lo > 0:
        raise FemkronValueError(
            f"kappa must be > 0 on the union, got min {lo:g} at the dofs", reason="not-positive"
        )
    return union_operator(U, conds, float(np.sqrt(lo * hi)), sigma, scale=scale)


def union_poisson(
    U, f, kappa=1.0, bc=None, method="auto", rtol=1e-10, sigma=0.0, maxiter=None, problem="poisson"
):
    """Solve ``-∇·(κ∇u) + σ u = f`` on a union of boxes (what :func:`femkron.poisson` runs).

    Parameters
    ----------
    U : BoxUnion
    f : number or callable ``f(x, y[, z])``
    kappa : number or callable
        A number: the Schur complement solver; a callable ``κ > 0``: assembled element by
        element and solved by CG preconditioned by the union solve of the constant
        ``sqrt(min κ max κ)`` (``"schur"``, the ``"auto"`` choice; GMRES for Helmholtz), or by
        ``"direct"``/``"amg"``.
    bc : dict, Condition or None
        See :mod:`femkron.fem.union_ops`.
    method : {"auto", "schur", "direct", "amg", "cg"}
    sigma : number
        Reaction coefficient (negative: Helmholtz).

    Returns
    -------
    UnionSolution

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4, order=2)
    >>> sol = union_poisson(L, 0.0, bc={"boundary": fk.Dirichlet(lambda x, y: x + y)})
    >>> bool(sol.error(lambda x, y: x + y, "max") < 1e-12)
    True
    """
    if not isinstance(U, BoxUnion):
        raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
    rtol = as_real(rtol, "rtol", positive=True)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    if not is_number(sigma):
        raise FemkronTypeError(f"sigma on a union must be a number, got {type(sigma).__name__}")
    sigma = as_real(sigma, "sigma")
    kappa = _check_kappa(kappa, U.dim)
    t0 = time.perf_counter()
    conds = UnionConditions(U, bc)
    A = union_operator(U, conds, kappa, sigma)
    b = union_load(U, conds, f)
    lift = conds.values()
    bf = b[conds.free]
    if lift is not None:
        bf = bf - A.fixed_columns @ lift[conds.fixed]
    singular = conds.singular and sigma == 0.0
    if singular:
        total, scale = float(bf.sum()), float(np.abs(bf).sum())
        if scale > 0 and abs(total) > 1e-6 * scale:
            raise FemkronValueError(
                "incompatible data for a union with only Neumann conditions: "
                f"∫f + ∮g = {total:.3e} must vanish; make the source balance the boundary flux, "
                "or add a Dirichlet/Robin face"
            )
    fit = _constant_fit(U, conds, kappa, sigma) if callable(kappa) else None
    solver = _solver(A, method, rtol, maxiter, singular, indefinite=sigma < 0, fit=fit)
    uf = solver.solve(bf)
    full = np.zeros(int(np.prod(U.shape)))
    if lift is not None:
        full[conds.fixed] = lift[conds.fixed]
    full[conds.free] = uf
    u = full[U.dofs]
    if singular:  # zero mean over the union
        M = union_matrix(U, conds, kappa=0.0, sigma=1.0, robin=False)
        ext = np.concatenate([conds.free, conds.fixed])
        ue = full[ext]
        ue -= (M @ ue).sum() / U.volume
        full[ext] = ue
        u = full[U.dofs]
    info = solver.info
    info.seconds = time.perf_counter() - t0
    return UnionSolution(U, u, info, problem=problem)


def union_eigen(U, k=6, bc=None, rtol=1e-12):
    """The ``k`` smallest eigenpairs of ``K u = λ M u`` on a union of boxes.

    Shift-invert Lanczos (``scipy.sparse.linalg.eigsh``) whose inverse is the union solve
    (exact fdm per box, CG on the interfaces to ``rtol``).  Returns ``(w, v)``: ``w``
    ascending, ``v`` of shape ``(U.ndofs, k)`` on the union's dofs (zero on Dirichlet faces,
    M-orthonormal).

    Examples
    --------
    >>> import femkron as fk
    >>> w, v = union_eigen(fk.BoxUnion.lshape(cells=8, order=3), k=2)
    >>> v.shape, bool(abs(w[0] - 9.6397238440219) < 0.05)
    ((481, 2), True)
    """
    if not isinstance(U, BoxUnion):
        raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
    conds = UnionConditions(U, bc)
    k = as_int(k, "k", minimum=1, maximum=max(1, conds.ndofs - 1))
    shift = -1.0 if conds.singular else 0.0
    A = union_operator(U, conds, 1.0, 0.0)
    B = union_operator(U, conds, 1.0, -shift) if shift else A
    n = conds.ndofs
    M = union_matrix(U, conds, kappa=0.0, sigma=1.0, robin=False)[:n, :n]
    solver = make_solver(B, "schur", rtol=rtol)
    op = spla.LinearOperator((n, n), matvec=solver.solve, dtype=float)
    w, vf = spla.eigsh(A.tocsr(), k=k, M=M, sigma=shift, OPinv=op, which="LM")
    order = np.argsort(w)
    w, vf = w[order], vf[:, order]
    full = np.zeros((int(np.prod(U.shape)), k))
    full[conds.free] = vf
    return w, full[U.dofs]


def union_heat(
    U,
    u0,
    t_end,
    dt,
    theta=0.5,
    bc=None,
    f=0.0,
    kappa=1.0,
    method="auto",
    snapshots=11,
    rtol=1e-10,
    scheme="theta",
):
    """The θ-scheme for ``u_t - ∇·(κ∇u) = f`` on a union of boxes.

    The step operator ``M + θ dt A`` is set up once (the Schur solver: fdm per box with
    ``σ = 1/(θ dt)``); every step is one union solve.  The source ``f(x, y[, z], t)`` and the
    boundary data may take the time last (:class:`~femkron.problems.union_dynamics.
    UnionTimeData`): the load enters as ``θ b(tⁿ⁺¹) + (1-θ) b(tⁿ)`` and the Dirichlet values
    at both ends of the step, so Crank–Nicolson keeps order 2.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4, order=2)
    >>> ht = union_heat(L, 1.0, t_end=0.1, dt=0.01, snapshots=3)
    >>> ht.values.shape, ht.info.method
    ((3, 9, 9), 'schur')
    """
    if not isinstance(U, BoxUnion):
        raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
    t_end = as_real(t_end, "t_end", positive=True)
    dt = as_real(dt, "dt", positive=True)
    theta = as_real(theta, "theta", nonnegative=True)
    if not 0.5 <= theta <= 1.0:
        raise FemkronValueError(
            f"theta on a union must be in [0.5, 1] (unconditionally stable), got {theta}"
        )
    snapshots = as_int(snapshots, "snapshots", minimum=2)
    if scheme != "theta":
        raise FemkronValueError(
            f"scheme={scheme!r}: heat on a union of boxes takes the theta scheme only",
            reason="scheme-union",
        )
    kappa = _check_kappa(kappa, U.dim)
    per = max(1, int(np.ceil(t_end / dt / (snapshots - 1) - 1e-9)))
    steps = per * (snapshots - 1)
    h = t_end / steps
    data = UnionTimeData(U, bc, f)
    conds = data.conds
    n = conds.ndofs
    t0 = time.perf_counter()
    A = union_operator(U, conds, kappa, 0.0)
    step = union_operator(U, conds, kappa, 1.0 / (theta * h), scale=theta * h)
    Mx = union_matrix(U, conds, kappa=0.0, sigma=1.0, robin=False)
    M, M_fd, A_fd = Mx[:n, :n], Mx[:n, n:], A.fixed_columns
    fit = _constant_fit(U, conds, kappa, 1.0 / (theta * h), theta * h) if callable(kappa) else None
    solver = _solver(step, method, rtol, None, False, fit=fit)
    full = np.zeros(int(np.prod(U.shape)))
    full[U.dofs] = U.interpolate(u0) if not is_number(u0) else float(u0)
    w = full[conds.free].copy()
    b_old, g_old = data.at(0.0)
    if g_old is not None:
        full[conds.fixed] = g_old
    out = [full[U.dofs].copy()]
    Af = A.tocsr()
    for i in range(steps):
        # M (w⁺ - w)/h + M_fd (g⁺ - g)/h + θ A [w⁺; g⁺] + (1-θ) A [w; g] = θ b⁺ + (1-θ) b
        b_new, g_new = data.at((i + 1) * h)
        rhs = M @ w - (1.0 - theta) * h * (Af @ w) + h * (theta * b_new + (1.0 - theta) * b_old)
        if g_new is not None:
            rhs -= M_fd @ (g_new - g_old) + h * (A_fd @ (theta * g_new + (1.0 - theta) * g_old))
        w = solver.solve(rhs)
        b_old, g_old = b_new, g_new
        if (i + 1) % per == 0:
            full[conds.free] = w
            if g_new is not None:
                full[conds.fixed] = g_new
            out.append(full[U.dofs].copy())
    info = solver.info
    info.seconds = time.perf_counter() - t0
    values = np.array([U.to_full(v) for v in out])
    ht = HeatSolution(U, np.linspace(0.0, t_end, snapshots), values, info, steps, dt=h)
    return ht


def _advection_matrix(U, conds, velocity):
    """``∫ (b·∇u) v`` over the union in the numbering of :func:`union_matrix` (free first)."""
    import scipy.sparse as sp

    ext = np.full(int(np.prod(U.shape)), -1, dtype=np.int64)
    ext[conds.free] = np.arange(conds.ndofs)
    ext[conds.fixed] = conds.ndofs + np.arange(conds.fixed.size)
    rows, cols, vals = [], [], []
    for box in U.boxes:
        subs = [U.subspace(d, lo, hi) for d, (lo, hi) in enumerate(box)]
        out = None
        for d, bd in enumerate(velocity):
            if bd == 0.0:
                continue
            term = None
            for e, s in enumerate(subs):
                f = s.advection() if e == d else s.mass()
                term = f if term is None else sp.kron(term, f, format="csr")
            out = bd * term if out is None else out + bd * term
        if out is None:
            continue
        C = out.tocoo()
        g = ext[U.flat_index([U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)]).ravel()]
        rows.append(g[C.row])
        cols.append(g[C.col])
        vals.append(C.data)
    n = U.ndofs
    if not rows:
        return sp.csr_matrix((n, n))
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def union_advection_diffusion(
    U, f, velocity, epsilon=1.0, bc=None, method="auto", rtol=1e-10, maxiter=None
):
    """Solve ``-ε Δu + b·∇u = f`` on a union of boxes (for :func:`femkron.advection_diffusion`).

    The assembled operator is solved by GMRES right-preconditioned by the union solve of the
    diffusion part ``ε K`` (Robin terms included; ``method="auto"`` or ``"gmres"``, reported
    as ``schur-gmres``), or by a sparse LU (``"direct"``).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=8, order=2)
    >>> sol = union_advection_diffusion(L, 1.0, velocity=(1.0, 0.5), epsilon=0.1)
    >>> sol.info.method, sol.problem
    ('schur-gmres', 'advection-diffusion')
    """
    if not isinstance(U, BoxUnion):
        raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
    eps = as_real(epsilon, "epsilon", positive=True)
    check_choice(method, "method", ("auto", "gmres", "direct"))
    rtol = as_real(rtol, "rtol", positive=True)
    try:
        b_vec = np.asarray(velocity, dtype=float).ravel()
    except (TypeError, ValueError):
        raise FemkronTypeError(f"velocity must be {U.dim} numbers, got {velocity!r}") from None
    if b_vec.size != U.dim or not np.all(np.isfinite(b_vec)):
        raise FemkronValueError(
            f"velocity must be {U.dim} finite numbers (one per axis), got {velocity!r}"
        )
    t0 = time.perf_counter()
    conds = UnionConditions(U, bc)
    n = conds.ndofs
    full = union_matrix(U, conds, eps, 0.0) + _advection_matrix(U, conds, b_vec)
    A = full[:n, :n].tocsr()
    b = union_load(U, conds, f)
    lift = conds.values()
    bf = b[conds.free]
    if lift is not None:
        bf = bf - full[:n, n:] @ lift[conds.fixed]
    if method == "direct":
        solver = make_solver(A, "direct", rtol=rtol)
    else:
        fit = union_operator(U, conds, eps, 0.0)
        solver = make_solver(A, "schur", rtol=rtol, maxiter=maxiter, fit=fit, krylov="gmres")
    uf = solver.solve(bf)
    out = np.zeros(int(np.prod(U.shape)))
    if lift is not None:
        out[conds.fixed] = lift[conds.fixed]
    out[conds.free] = uf
    info = solver.info
    info.seconds = time.perf_counter() - t0
    return UnionSolution(U, out[U.dofs], info, problem="advection-diffusion")
