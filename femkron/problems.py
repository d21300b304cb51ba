"""Whole problems on a tensor space: Poisson, Helmholtz, heat, eigenvalues.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
>>> exact = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
>>> sol = fk.poisson(V, lambda x, y: 2 * np.pi**2 * exact(x, y))
>>> sol.info.method
'fdm'
>>> bool(sol.error(exact, "L2") < 1e-4)
True
"""

from __future__ import annotations

import time

import numpy as np

from ._validate import as_int, as_real, as_vector, check_choice, check_vectors, is_number
from .bc import BoundaryConditions
from .errors import FemkronTypeError, FemkronValueError
from .norms import error as _error
from .solvers import METHODS, FastDiagonalization, solve
from .space import Space1D
from .tensor import TensorSpace, load_vector, mass, stiffness

__all__ = ["poisson", "helmholtz", "heat", "eigen", "Solution", "HeatSolution", "LinearSystem"]

#: Most time steps one call of :func:`heat` takes.
MAX_STEPS = 10**7


def _space(V):
    if isinstance(V, Space1D):
        return TensorSpace([V])
    if not isinstance(V, TensorSpace):
        raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")
    return V


class Solution:
    """A finite element function on a :class:`TensorSpace`, the result of a solve.

    Attributes
    ----------
    V : TensorSpace
    values : ndarray, shape ``V.shape``
        Values at the dofs (axis 0 = x).
    info : SolveInfo
    """

    def __init__(self, V, values, info=None, problem="poisson"):
        self.V = V
        self.values = np.asarray(values, dtype=float).reshape(V.shape)
        self.info = info
        self.problem = problem

    def __repr__(self):
        return f"<Solution of {self.problem} on {self.V.shape} dofs ({self.info})>"

    @property
    def vector(self):
        """The values as a flat dof vector."""
        return self.values.reshape(-1)

    def error(self, exact, norm="L2", grad=None, quad=None):
        """Error against ``exact`` in ``"L2"``, ``"H1"`` (seminorm, needs ``grad``) or
        ``"max"`` (at the dofs); see :func:`femkron.error`."""
        return _error(self.V, self.values, exact, norm=norm, grad=grad, quad=quad)

    def __call__(self, *points):
        """Evaluate on the tensor grid of 1D point arrays, one per axis."""
        return self.V.evaluate(self.values, points)

    def plot(self, **kwargs):
        """Plot with :func:`femkron.plot.plot_solution` (matplotlib is imported here)."""
        from . import plot

        return plot.plot_solution(self, **kwargs)

    def to_vtk(self, path, name="u"):
        """Write a ``.vtu`` file through meshio (extra ``femkron[io]``)."""
        from . import io

        return io.write_vtk(path, self.V, {name: self.values})


class LinearSystem:
    """The constrained linear system of a problem, before solving.

    Attributes
    ----------
    A : KronOperator
        The operator on the free dofs.
    b : ndarray
        The right-hand side on the free dofs.
    bcs : BoundaryConditions
    lift : ndarray or None
        Full-size Dirichlet lifting.
    """

    def __init__(self, V, f=0.0, kappa=1.0, bc=None, sigma=0.0):
        self.V = V = _space(V)
        self.bcs = bcs = BoundaryConditions(V, bc)
        self.sigma = as_real(sigma, "sigma")
        A = stiffness(V, kappa)
        if self.sigma != 0.0:
            A = A + self.sigma * mass(V)
        robin = bcs.robin_operator()
        if robin is not None:
            A = A + robin
        self.A_full = A
        b = load_vector(V, f)
        extra = bcs.boundary_load()
        if extra is not None:
            b = b + extra
        self.lift = bcs.boundary_values()
        if self.lift is not None:
            b = b - A @ self.lift
        self.A = bcs.constrain(A)
        self.b = bcs.restrict(b)
        self.singular = bcs.singular and self.sigma == 0.0
        if self.singular:
            self._check_compatible(f)

    def _check_compatible(self, f):
        total = float(self.b.sum())
        scale = float(np.abs(self.b).sum())
        if scale > 0 and abs(total) > 1e-6 * scale:
            # the load's quadrature error can exceed the tolerance on coarse meshes: judge the
            # data, not their discretisation, with a stronger rule before refusing them
            quad = 2 * max(self.V.orders) + 6
            b = load_vector(self.V, f, quad=quad)
            extra = self.bcs.boundary_load(quad=quad)
            if extra is not None:
                b = b + extra
            total, scale = float(b.sum()), float(np.abs(b).sum())
        if scale > 0 and abs(total) > 1e-6 * scale:
            raise FemkronValueError(
                "incompatible data for a problem with only Neumann/periodic conditions: "
                f"∫f + ∮g = {total:.3e} must vanish (relative {abs(total) / scale:.1e}); "
                "make the source balance the boundary flux, or add a Dirichlet/Robin face"
            )

    def solution_vector(self, uc):
        """Full dof vector (with lifting) from a constrained solution."""
        u = self.bcs.extend(uc, self.lift)
        if self.singular:
            m = mass(self.V)
            ones = np.ones(self.V.ndofs)
            u = u - (ones @ (m @ u)) / self.V.volume
        return u


def poisson(
    V, f, kappa=1.0, bc=None, method="auto", rtol=1e-10, sigma=0.0, maxiter=None, **petsc_options
):
    """Solve ``-∇·(κ∇u) + σ u = f`` on the box with boundary conditions ``bc``.

    Parameters
    ----------
    V : TensorSpace
    f : number, callable ``f(x, y, ...)`` or tuple of per-axis callables
    kappa : number, tuple of per-axis callables (separable), or callable
    bc : dict or Condition, optional
        See :mod:`femkron.bc`; faces not named are homogeneous Dirichlet.
    method : {"auto", "fdm", "amg", "cg", "direct", "petsc"}
        ``"petsc"``: distributed over the MPI ranks, see :func:`femkron.petsc.poisson`.
    rtol : float
        Tolerance of iterative methods.
    sigma : float
        Reaction coefficient.
    **petsc_options
        Only with ``method="petsc"``: PETSc options (``ksp_type="cg"``, ``pc_type="gamg"``,
        ...) and ``comm``, ``gather``, ``options_prefix``.

    Returns
    -------
    Solution

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=2)
    >>> sol = fk.poisson(V, 2.0, bc={"left": fk.Dirichlet(0.0), "right": fk.Neumann(-1.0)})
    >>> bool(abs(sol.error(lambda x: x * (1 - x), "max")) < 1e-12)
    True
    """
    check_choice(method, "method", METHODS)
    if method == "petsc":
        from .petsc import poisson as petsc_poisson

        return petsc_poisson(
            V, f, kappa=kappa, bc=bc, rtol=rtol, sigma=sigma, maxiter=maxiter, **petsc_options
        )
    if petsc_options:
        raise FemkronTypeError(
            f"poisson() got unexpected keyword argument(s) {', '.join(sorted(petsc_options))} "
            "(PETSc options are accepted only with method='petsc')"
        )
    system = LinearSystem(V, f, kappa, bc, sigma)
    t0 = time.perf_counter()
    uc, info = solve(
        system.A, system.b, method=method, rtol=rtol, maxiter=maxiter, singular=system.singular
    )
    u = system.solution_vector(uc)
    info.seconds = time.perf_counter() - t0
    return Solution(system.V, u, info, problem="helmholtz" if sigma < 0 else "poisson")


def helmholtz(V, f, wavenumber, kappa=1.0, bc=None, method="auto", rtol=1e-10):
    """Solve ``-∇·(κ∇u) - k² u = f`` (``k`` = ``wavenumber``).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=12, order=3)
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(2 * np.pi * y)
    >>> sol = fk.helmholtz(V, lambda x, y: (5 * np.pi**2 - 9) * ex(x, y), wavenumber=3.0)
    >>> bool(sol.error(ex) < 1e-4)
    True
    """
    k = as_real(wavenumber, "wavenumber")
    sol = poisson(V, f, kappa=kappa, bc=bc, method=method, rtol=rtol, sigma=-k * k)
    sol.problem = "helmholtz"
    return sol


def eigen(V, k=6, bc=None):
    """The ``k`` smallest eigenpairs of ``K u = λ M u`` (the Laplacian) on the box.

    Computed exactly from 1D eigenpairs: ``λ = λ_x + λ_y (+ λ_z)``, eigenvectors are
    Kronecker products of 1D ones.  Returns ``(w, v)`` like ``scipy.sparse.linalg.eigsh``:
    ``w`` ascending of shape ``(k,)`` and ``v`` of shape ``(V.ndofs, k)`` (full dofs, zero on
    Dirichlet faces, M-orthonormal).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=16, order=3)
    >>> w, v = fk.eigen(V, k=4)
    >>> np.round(w, 5)
    array([2., 5., 5., 8.])
    """
    V = _space(V)
    bcs = BoundaryConditions(V, bc)
    n_free = bcs.ndofs
    k = as_int(k, "k", minimum=1, maximum=n_free)
    mats = bcs.axis_matrices()
    fdm = FastDiagonalization(
        stiffness=[K for K, _ in mats], masses=[M for _, M in mats], singular=bcs.singular
    )
    lam = fdm.lam_grid
    # the k smallest sums only involve the k smallest 1D eigenvalues of each axis
    order1d = [np.argsort(l)[: min(k, l.size)] for l in fdm.lams]
    sub = lam[np.ix_(*order1d)]
    flat = np.argsort(sub, axis=None, kind="stable")[:k]
    idx = np.unravel_index(flat, sub.shape)
    w = sub.ravel()[flat]
    check_vectors(V.ndofs, k, f"{k} eigenvectors of {V.ndofs} dofs")
    vecs = np.empty((V.ndofs, k))
    for j in range(k):
        parts = [fdm.S[d][:, order1d[d][idx[d][j]]] for d in range(V.dim)]
        full = [bcs.P[d] @ p for d, p in enumerate(parts)]
        vec = full[0]
        for p in full[1:]:
            vec = np.multiply.outer(vec, p)
        vecs[:, j] = vec.reshape(-1)
    return w, vecs


class HeatSolution:
    """Snapshots of a heat-equation run.

    Attributes
    ----------
    t : ndarray
        Snapshot times.
    values : ndarray, shape ``(len(t),) + V.shape``
    info : SolveInfo of the step solver (from the first step)
    """

    def __init__(self, V, t, values, info, steps):
        self.V = V
        self.t = np.asarray(t)
        self.values = np.asarray(values)
        self.info = info
        self.steps = steps

    def __repr__(self):
        return f"<HeatSolution {len(self.t)} snapshots, t_end={self.t[-1]:g}, {self.steps} steps>"

    def snapshot(self, i):
        """Snapshot ``i`` as a :class:`Solution`."""
        return Solution(self.V, self.values[i], self.info, problem="heat")


def heat(
    V,
    u0,
    t_end,
    dt,
    theta=0.5,
    bc=None,
    f=0.0,
    kappa=1.0,
    method="auto",
    snapshots=11,
    progress=None,
):
    """Solve ``u_t - ∇·(κ∇u) = f`` by the θ-scheme from ``u(0) = u0``.

    ``theta=1`` is backward Euler, ``theta=0.5`` Crank–Nicolson.  Boundary data and ``f``
    are constant in time.  Each step solves ``(M + θ dt A) uⁿ⁺¹ = (M - (1-θ) dt A) uⁿ + dt b``;
    with constant κ that operator is a separable Kronecker sum, so ``fdm`` solves it exactly
    after one setup.

    Returns
    -------
    HeatSolution
        ``snapshots`` equally spaced snapshots including ``t = 0`` and ``t_end``.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    >>> u0 = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> ht = fk.heat(V, u0, t_end=0.05, dt=0.005, snapshots=3)
    >>> ht.values.shape
    (3, 17, 17)
    >>> ratio = ht.values[-1].max() / ht.values[0].max()
    >>> bool(abs(ratio - np.exp(-2 * np.pi**2 * 0.05)) < 1e-3)
    True
    """
    from tqdm.auto import tqdm

    V = _space(V)
    t_end = as_real(t_end, "t_end", nonnegative=True)
    dt = as_real(dt, "dt", positive=True)
    theta = as_real(theta, "theta")
    if not 0.0 <= theta <= 1.0:
        raise FemkronValueError(f"theta must lie in [0, 1], got {theta}")
    snapshots = as_int(snapshots, "snapshots", minimum=2)
    if t_end / dt > MAX_STEPS:
        raise FemkronValueError(
            f"dt={dt:g} needs {t_end / dt:.3g} steps to reach t_end={t_end:g}; at most "
            f"{MAX_STEPS} steps are accepted (use a larger dt)"
        )
    steps = max(1, int(np.ceil(t_end / dt - 1e-12))) if t_end > 0 else 0
    check_vectors(V.ndofs, snapshots, f"{snapshots} snapshots of {V.ndofs} dofs")
    dt_eff = t_end / steps if steps else dt
    system = LinearSystem(V, f, kappa, bc)
    bcs = system.bcs
    Mc = bcs.constrain(mass(V))
    Ac = system.A
    if callable(u0) or is_number(u0):
        U0 = V.interpolate(u0).reshape(-1)
    else:
        U0 = as_vector(u0, "u0", V.ndofs)
        if U0.size != V.ndofs:
            raise FemkronValueError(f"u0 must have {V.ndofs} values (V.ndofs), got {U0.size}")
        if not np.all(np.isfinite(U0)):
            raise FemkronValueError("u0 contains NaN or inf")
    lift = system.lift if system.lift is not None else 0.0
    w = _select_free(bcs, U0 - lift)
    left = Mc + (theta * dt_eff) * Ac
    right = Mc - ((1.0 - theta) * dt_eff) * Ac
    if method in ("auto", "fdm"):
        try:
            fdm = FastDiagonalization(left)
            step_solve = fdm.solve
            from .solvers import SolveInfo

            info = SolveInfo("fdm", setup_seconds=fdm.setup_seconds)
        except FemkronValueError:
            if method == "fdm":
                raise
            step_solve, info = _generic_step(left, method="auto")
    else:
        step_solve, info = _generic_step(left, method=method)
    save_at = np.linspace(0, steps, snapshots).round().astype(int) if steps else [0] * snapshots
    times, frames = [], []

    def record(n, wc):
        times.append(n * dt_eff)
        frames.append(
            system.solution_vector(wc).reshape(V.shape)
            if not system.singular
            else bcs.extend(wc, system.lift).reshape(V.shape)
        )

    save_set = set(int(s) for s in save_at)
    if 0 in save_set:
        record(0, w)
    rhs_const = dt_eff * system.b
    t0 = time.perf_counter()
    disable = None if progress is None else not progress
    for n in tqdm(range(1, steps + 1), desc="heat steps", disable=disable, leave=False):
        w = step_solve(right @ w + rhs_const)
        if n in save_set:
            record(n, w)
    info.seconds = time.perf_counter() - t0
    info.iterations = steps
    return HeatSolution(V, times, frames, info, steps)


def _select_free(bcs, u):
    U = np.asarray(u).reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)


def _generic_step(op, method):
    from .solvers import SolveInfo

    info = SolveInfo(method)
    if method == "direct":
        import scipy.sparse.linalg as spla

        lu = spla.splu(op.tocsr().tocsc())
        return lu.solve, info

    def step(rhs):
        x, inner = solve(op, rhs, method=method)
        info.method = inner.method
        return x

    return step, info
