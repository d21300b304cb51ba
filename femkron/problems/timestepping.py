"""The heat equation ``u_t - ∇·(κ∇u) = f``: the θ-scheme and the modal integrator.

The θ-scheme uses a step solver chosen for the operator; the modal integrator is exact in
time for a constant coefficient.

Each θ-step solves ``(M + θ dt A) uⁿ⁺¹ = (M - (1-θ) dt A) uⁿ + dt b`` on the free dofs of a
:class:`~femkron.LinearSystem`; with a constant or separable κ that operator is one Kronecker
sum that fast diagonalization solves exactly after one setup.  The modal integrator works in
the fdm eigenbasis, where the semi-discrete system decouples.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1)], cells=8, order=2)
>>> ht = heat(V, lambda x: np.sin(np.pi * x), t_end=0.1, dt=0.01, snapshots=2)
>>> ht.t, bool(abs(ht.values[-1].max() - np.exp(-np.pi**2 * 0.1)) < 1e-3)
(array([0. , 0.1]), True)
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_int, as_real, as_vector, check_choice, check_vectors, is_number
from ..errors import FemkronTypeError, FemkronValueError, StructureError
from ..fem.bc import BoundaryConditions
from ..fem.tensor import as_tensor_space, is_constant_coefficient, load_vector, mass, stiffness
from ..kron.diagonalize import FastDiagonalization
from ..kron.nested import NestedDiagonalization
from ..kron.operator import apply_axis
from ..kron.structure import pencils
from ..linalg.info import SolveInfo
from ..linalg.krylov import relative_residual
from ..linalg.solve import LOCAL_METHODS, make_solver
from .linear_system import LinearSystem
from .solution import HeatSolution
from .timedata import at_time, conditions_at, conditions_take_time, takes_time
from .union_problems import BoxUnion, union_heat

__all__ = ["heat", "SCHEMES", "MAX_STEPS"]

#: Most time steps one call of :func:`heat` takes.
MAX_STEPS = 10**7

#: Time integrators of :func:`heat`.
SCHEMES = ("theta", "modal")


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
    scheme="theta",
    coefficient="auto",
    rtol=1e-10,
    allow_unstable=False,
):
    """Solve ``u_t - ∇·(κ∇u) = f`` from ``u(0) = u0``.

    ``scheme="theta"``: the θ-scheme, ``theta=1`` backward Euler (first order in time),
    ``theta=0.5`` Crank–Nicolson (second order).  Each step solves
    ``(M + θ dt A) uⁿ⁺¹ = (M - (1-θ) dt A) uⁿ + dt b``.  With a constant or separable κ that
    operator is one Kronecker sum and ``fdm`` solves it exactly after one setup; a variable
    κ takes the representation ``coefficient`` (as in :func:`poisson`) and any ``method``:
    ``fdm`` (CG preconditioned by fdm of a separable fit, warm-started from the previous
    step), ``direct`` (one LU for all steps), ``amg`` (one hierarchy) or ``cg``.

    ``scheme="modal"``: exact in time for a constant κ — in the fdm eigenbasis
    (``(⊗S)ᵀ M (⊗S) = I``, ``(⊗S)ᵀ A (⊗S) = Λ``) the semi-discrete system decouples into
    ``ŵ' + Λ ŵ = ĝ``, solved as ``ŵ(t) = e^{-Λt} ŵ(0) + (1 - e^{-Λt}) Λ⁻¹ ĝ`` at the snapshot
    times only (the same times as the θ-scheme's; no steps are taken).

    The step used is ``t_end / n`` with ``n`` the smallest multiple of ``snapshots - 1``
    whose step does not exceed ``dt`` (up to rounding): never larger than ``dt``, so never
    less accurate or less stable, and exactly the snapshot times below.  It is reported as
    :attr:`HeatSolution.dt` (with the number of steps, :attr:`HeatSolution.steps`).

    For ``theta < 1/2`` the θ-scheme is stable only for steps
    ``dt ≤ 2 / ((1 - 2θ) λ_max)``, ``λ_max`` the largest eigenvalue of ``M⁻¹A`` (exact from
    the 1D pencils for a constant κ, by Lanczos otherwise); a longer step is refused unless
    ``allow_unstable=True`` (to watch the instability grow, as a course lab does).

    ``f`` and the boundary data may depend on time: a callable whose last argument is ``t``
    (``f(x, y, t)``, ``Dirichlet(lambda x, y, t: ...)``; see
    :func:`femkron.problems.timedata.takes_time` for how the signature is read) is evaluated
    at every step; a callable of the coordinates alone, a number or a field is constant.  The
    θ-scheme then takes the load ``θ f(tⁿ⁺¹) + (1-θ) f(tⁿ)`` (and so the boundary loads) and
    the Dirichlet lifting ``G`` at ``tⁿ⁺¹``: on the free rows of the full system,
    ``M (uⁿ⁺¹ - uⁿ) + dt A (θ uⁿ⁺¹ + (1-θ) uⁿ) = dt (θ Fⁿ⁺¹ + (1-θ) Fⁿ)`` with
    ``uⁿ = wⁿ + Gⁿ`` — so Crank–Nicolson stays second order with moving boundary data (the
    term ``M_fb (Gⁿ⁺¹ - Gⁿ)`` is kept).  The step operator does not change and is set up
    once.  ``scheme="modal"`` needs data constant in time.

    A tqdm progress bar runs over the steps (``progress=None``: only on a terminal;
    ``True``/``False`` force it).

    Returns
    -------
    HeatSolution
        ``snapshots`` snapshots at the equally spaced times ``k t_end / (snapshots - 1)``,
        ``k = 0, …, snapshots - 1`` (multiples of the step, including ``t = 0`` and
        ``t_end``).  Its ``info`` is that of the step solver: ``iterations`` the Krylov
        iterations of all steps (0 for a direct or fdm solve), ``residual`` the true relative
        residual of the last step; ``str(ht)`` says e.g. ``fdm: 100 steps of dt=0.001, …``.

    Raises
    ------
    FemkronValueError
        For a bad argument, (``reason="unstable"``) a step beyond the stability bound of
        a θ-scheme with ``theta < 1/2``, or (``reason="time-dependent"``) data that depend
        on time with ``scheme="modal"``.

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
    >>> exact = fk.heat(V, u0, t_end=0.05, dt=0.005, snapshots=3, scheme="modal")
    >>> bool(abs(exact.values[-1].max() / exact.values[0].max()
    ...          - np.exp(-2 * np.pi**2 * 0.05)) < 1e-5)
    True
    """
    from tqdm.auto import tqdm

    if isinstance(V, BoxUnion):  # a union of boxes: problems/union_problems.py
        return union_heat(V, u0, t_end, dt, theta, bc, f, kappa, method, snapshots, rtol, scheme)
    V = as_tensor_space(V)
    t_end = as_real(t_end, "t_end", nonnegative=True)
    dt = as_real(dt, "dt", positive=True)
    theta = as_real(theta, "theta")
    if not 0.0 <= theta <= 1.0:
        raise FemkronValueError(f"theta must lie in [0, 1], got {theta}")
    snapshots = as_int(snapshots, "snapshots", minimum=2)
    check_choice(scheme, "scheme", SCHEMES)
    check_choice(method, "method", LOCAL_METHODS)
    rtol = as_real(rtol, "rtol", positive=True)
    if t_end / dt > MAX_STEPS or _number_of_steps(t_end, dt, snapshots) > MAX_STEPS:
        raise FemkronValueError(
            f"dt={dt:g} needs {max(t_end / dt, snapshots - 1):.3g} steps or more (a multiple "
            f"of snapshots - 1 = {snapshots - 1}) to reach t_end={t_end:g}; at most "
            f"{MAX_STEPS} steps are accepted (use a larger dt or fewer snapshots)"
        )
    steps = _number_of_steps(t_end, dt, snapshots)
    if scheme == "modal" and not is_constant_coefficient(kappa):
        raise FemkronValueError(
            f"scheme='modal' needs a constant kappa (a number or an Anisotropic of numbers), "
            f"got {kappa!r}; use scheme='theta' for a variable coefficient"
        )
    check_vectors(V.ndofs, snapshots, f"{snapshots} snapshots of {V.ndofs} dofs")
    dt_eff = t_end / steps if steps else dt
    moving = takes_time(f, V.dim, "f") or conditions_take_time(bc, V.dim)
    if moving and scheme == "modal":
        raise FemkronValueError(
            "scheme='modal' needs f and boundary data constant in time; f or a boundary "
            "datum takes t (its last argument): use scheme='theta'",
            reason="time-dependent",
        )
    system = LinearSystem(
        V,
        at_time(f, 0.0, V.dim, "f"),
        kappa,
        conditions_at(bc, 0.0, V.dim),
        coefficient=coefficient,
        check_compatible=False,
    )
    bcs = system.bcs
    if callable(u0) or is_number(u0):
        U0 = V.interpolate(u0).reshape(-1)
    else:
        U0 = as_vector(u0, "u0", V.ndofs)
    lift = system.lift if system.lift is not None else 0.0
    w = _select_free(bcs, U0 - lift)
    every = steps // (snapshots - 1)  # steps between snapshots (0: t_end = 0)
    save_at = [k * every for k in range(snapshots)]
    times, frames = [], []

    def time_of(n):  # exactly t_end at n = steps
        return t_end * (n / steps) if steps else 0.0

    def record(n, wc, lift=system.lift):
        times.append(time_of(n))
        frames.append(bcs.extend(wc, lift).reshape(V.shape))

    disable = None if progress is None else not progress
    t0 = time.perf_counter()
    if scheme == "modal":
        fdm = _modal_basis(V, bcs, kappa)
        Mc = bcs.constrain(mass(V))
        w_hat = _to_modes(fdm, Mc @ w)
        g_hat = _to_modes(fdm, system.b)
        lam = _modal_eigenvalues(fdm)
        zero = np.abs(lam) <= 1e-11 * np.abs(lam).max()
        safe = np.where(zero, 1.0, lam)
        for n in tqdm(list(save_at), desc="heat snapshots", disable=disable, leave=False):
            t = time_of(n)
            decay = np.exp(-lam * t)
            phi = np.where(zero, t, -np.expm1(-lam * t) / safe)
            record(n, _from_modes(fdm, decay * w_hat + phi * g_hat))
        info = SolveInfo(
            "modal",
            residual=0.0,
            setup_seconds=fdm.setup_seconds,
            note="exact in time in the "
            + ("nested eigenbasis" if isinstance(fdm, NestedDiagonalization) else "fdm eigenbasis"),
        )
        info.seconds = time.perf_counter() - t0
        return HeatSolution(V, times, frames, info, 0, dt=dt_eff)
    Mc, A = _mass_like(system), system.A
    if not isinstance(allow_unstable, (bool, np.bool_)):
        raise FemkronTypeError(f"allow_unstable must be True or False, got {allow_unstable!r}")
    if theta < 0.5 and steps and not allow_unstable:
        _check_stable(system, Mc, kappa, theta, dt, dt_eff)
    left = Mc + (theta * dt_eff) * A if theta > 0 else Mc  # θ = 0: explicit, a mass solve
    right = Mc - ((1.0 - theta) * dt_eff) * A
    solver = _step_solver(system, left, theta * dt_eff, method, rtol)
    for _ in save_at[: 1 if steps else snapshots]:  # t_end = 0: every snapshot is u0
        record(0, w)
    rhs_const = dt_eff * system.b
    data = _TimeData(system, f, bc) if moving else None
    previous = (system.b, system.lift)
    rhs = None
    for n in tqdm(range(1, steps + 1), desc="heat steps", disable=disable, leave=False):
        if data is None:
            rhs = right @ w + rhs_const
        else:  # θ F(tⁿ⁺¹) + (1-θ) F(tⁿ), the lifting at tⁿ⁺¹ and its mass term
            current = data.at(time_of(n))
            rhs = right @ w + dt_eff * (theta * current[0] + (1.0 - theta) * previous[0])
            rhs = rhs - data.mass_change(previous[1], current[1])
            previous = current
        w = solver.solve(rhs, w)
        if n % every == 0:
            record(n, w, previous[1])
    info = solver.info  # iterations: the Krylov iterations of all steps (0: direct, fdm)
    info.seconds = time.perf_counter() - t0
    # the true relative residual of the last step (one operator product), never NaN
    info.residual = relative_residual(left, w, rhs) if steps else 0.0
    info.note = "; ".join(
        part for part in (info.note, f"{steps} steps, residual of the last one") if part
    )
    return HeatSolution(V, times, frames, info, steps, dt=dt_eff)


class _TimeData:
    """The data of the θ-scheme at a time ``t``: ``(b(t), G(t))``.

    ``b(t) = (⊗P)ᵀ (F(t) - A G(t))`` on the free dofs, ``F`` the load of ``f(·, t)`` and the
    Neumann/Robin face loads at ``t``, ``G(t)`` the full-size Dirichlet lifting (or None).
    The parts constant in time are computed once.
    """

    def __init__(self, system, f, bc):
        V = self.V = system.V
        self.system = system
        self.f, self.bc = f, bc
        self.f_moves = takes_time(f, V.dim, "f")
        self.bc_moves = conditions_take_time(bc, V.dim)
        self._load = None if self.f_moves else load_vector(V, f)
        self._bc_part = None if self.bc_moves else self._boundary_part(system.bcs)
        self._mass = None

    def _boundary_part(self, bcs):
        """``(face loads - A G, G)`` of the conditions ``bcs`` (full size, or zeros)."""
        out = np.zeros(self.V.ndofs)
        extra = bcs.boundary_load()
        if extra is not None:
            out += extra
        lift = bcs.boundary_values()
        if lift is not None:
            out -= self.system.A_full @ lift
        return out, lift

    def at(self, t):
        V = self.V
        load = load_vector(V, at_time(self.f, t, V.dim, "f")) if self.f_moves else self._load
        if self.bc_moves:
            bcs = BoundaryConditions(V, conditions_at(self.bc, t, V.dim))
            part, lift = self._boundary_part(bcs)
        else:
            part, lift = self._bc_part
        return self.system.bcs.restrict(load + part), lift

    def mass_change(self, old, new):
        """``(⊗P)ᵀ M (G_new - G_old)``: the free rows of the mass times the lifting's change."""
        if old is None and new is None:
            return 0.0
        if self._mass is None:
            self._mass = mass(self.V)
        change = (0.0 if new is None else new) - (0.0 if old is None else old)
        return self.system.bcs.restrict(self._mass @ np.broadcast_to(change, (self.V.ndofs,)))


def _number_of_steps(t_end, dt, snapshots):
    """The smallest multiple of ``snapshots - 1`` whose step ``t_end / n`` is ``≤ dt``.

    Up to rounding: a ratio ``t_end / dt`` within ``1e-10`` relative of a multiple counts as
    that multiple (``0.3 / 0.1`` is 3 steps, not 4).
    """
    if t_end == 0:
        return 0
    per = snapshots - 1
    blocks = np.ceil(t_end / (dt * per) * (1.0 - 1e-10))
    return int(max(1.0, blocks)) * per


def _check_stable(system, Mc, kappa, theta, dt, dt_eff):
    """Refuse a θ-step (``θ < 1/2``) beyond ``2 / ((1 - 2θ) λ_max)``.

    ``λ_max`` is the largest eigenvalue of ``M⁻¹A``: the amplification factor of the mode
    ``λ`` is ``(1 - (1-θ) dt λ) / (1 + θ dt λ)``, of modulus ``≤ 1`` for every ``λ ≥ 0`` iff
    ``(1 - 2θ) dt λ_max ≤ 2``.
    """
    lam = _largest_eigenvalue(system, Mc, kappa)
    if not lam > 0:
        return
    bound = 2.0 / ((1.0 - 2.0 * theta) * lam)
    if dt_eff <= bound * (1.0 + 1e-10):
        return
    used = "" if dt_eff == dt else f" (step used {dt_eff:.6g})"
    raise FemkronValueError(
        f"dt={dt:.6g}{used} with theta={theta:g} is unstable: a θ-scheme with theta < 1/2 "
        f"is stable only for dt <= 2 / ((1 - 2 theta) lambda_max) = {bound:.6g}, with "
        f"lambda_max = {lam:.6g} the largest eigenvalue of M^-1 A; use dt <= {bound:.6g} "
        "or theta >= 0.5 (unconditionally stable)",
        reason="unstable",
    )


def _largest_eigenvalue(system, Mc, kappa):
    """The largest eigenvalue of ``M⁻¹A`` on the free dofs.

    Constant κ: exactly, ``Σ_d λ_max(K_d, M_d) + σ`` from the carried 1D pencils (the
    eigenvalues of a Kronecker sum are the sums of the 1D ones).  Otherwise: dense for a
    small system, else Lanczos (ARPACK) on the pencil ``(A, M)`` with ``M⁻¹`` from
    :func:`make_solver`.
    """
    n = system.A.shape[0]
    if n == 0:
        return 0.0
    if is_constant_coefficient(kappa) and not system.V.coordinates.curvilinear:
        try:
            Ks, Ms, sigma = pencils(_constant_operator(system.V, system.bcs, kappa), True)
        except StructureError:
            pass
        else:
            return float(sum(_pencil_max(K, M) for K, M in zip(Ks, Ms)) + sigma)
    return _pencil_max(system.A, Mc, lambda: make_solver(Mc, "auto", check=False).solve)


def _pencil_max(A, M, mass_solver=None):
    """The largest eigenvalue of the symmetric–definite pencil ``(A, M)``.

    ``mass_solver()`` returns ``b ↦ M⁻¹b`` for Lanczos on a large pencil (default: a sparse
    LU of ``M``, for the 1D pencils).
    """
    import scipy.linalg
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    n = A.shape[0]
    if n <= 600:
        Ad, Md = (_dense(X, n) for X in (A, M))
        Ad, Md = (Ad + Ad.T) / 2, (Md + Md.T) / 2
        return float(scipy.linalg.eigh(Ad, Md, eigvals_only=True, subset_by_index=[n - 1] * 2)[0])
    if mass_solver is None:  # a 1D pencil: sparse or dense factors
        A, M = sp.csr_matrix(A), sp.csr_matrix(M)
        solve_m = make_solver(M, "direct", check=False).solve
    else:
        solve_m = mass_solver()
    Aop = spla.LinearOperator((n, n), matvec=lambda x: A @ x, dtype=float)
    Mop = spla.LinearOperator((n, n), matvec=lambda x: M @ x, dtype=float)
    Minv = spla.LinearOperator((n, n), matvec=solve_m, dtype=float)
    vals = spla.eigsh(Aop, k=1, M=Mop, Minv=Minv, which="LA", tol=1e-8, return_eigenvectors=False)
    return float(vals[0])


def _dense(X, n):
    """``X`` as a dense ``n × n`` array (any operator that supports ``@``)."""
    if hasattr(X, "toarray"):
        return np.asarray(X.toarray(), dtype=float)
    if isinstance(X, np.ndarray):
        return np.asarray(X, dtype=float)
    return np.column_stack([np.asarray(X @ e, dtype=float) for e in np.eye(n)])


def _modal_basis(V, bcs, kappa):
    """Fast diagonalization of the constrained constant-coefficient stiffness.

    It is taken against the plain 1D masses (so that the eigenbasis is M-orthonormal), from the
    carried pencils.  In curvilinear coordinates the metric mass is no product of plain 1D
    masses: the eigenbasis is that of the nested diagonalization of the pencil ``(A, M)``
    (angular transforms, then one dense radial eigenproblem per distinct mode pencil).
    """
    if V.coordinates.curvilinear:
        A = _constant_operator(V, bcs, kappa)
        return NestedDiagonalization(A, mass=bcs.constrain(mass(V)))
    Ks, Ms, sigma = pencils(_constant_operator(V, bcs, kappa), split_1d=True)  # carried
    return FastDiagonalization(stiffness=Ks, masses=Ms, sigma=sigma, singular=bcs.singular)


def _constant_operator(V, bcs, kappa):
    """The constrained stiffness (with Robin terms) of a constant κ, with its carried record."""
    if kappa is None or is_number(kappa):
        kappa = as_real(1.0 if kappa is None else kappa, "kappa", positive=True)
    A = stiffness(V, kappa)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    return bcs.constrain(A)


def _by_axes(factors, v, shape):
    """``(⊗_d F_d) v`` for a flat ``v`` on the grid ``shape``, applied axis by axis."""
    U = np.asarray(v, dtype=float).reshape(shape)
    for d in range(len(shape)):
        U = apply_axis(factors[d], U, d)
    return U.reshape(-1)


def _modal_eigenvalues(fdm):
    if isinstance(fdm, NestedDiagonalization):  # (modes, radial) with zeros as padding
        return fdm.modal_eigenvalues().reshape(-1)
    return fdm.lam_grid.reshape(-1)


def _to_modes(fdm, v):
    """The eigen-coordinates of ``v = M x`` (``Sᵀ v``: the basis is M-orthonormal)."""
    if isinstance(fdm, NestedDiagonalization):
        return fdm.modal_coefficients(v).reshape(-1)
    return _by_axes(fdm.St, v, fdm.shape1d)


def _from_modes(fdm, v):
    if isinstance(fdm, NestedDiagonalization):
        return fdm.from_modal(np.reshape(v, fdm.modal_eigenvalues().shape))
    return _by_axes(fdm.S, v, fdm.shape1d)


def _mass_like(system):
    """The constrained mass operator in the representation of ``system.A``."""
    if system.path == "lowrank":
        return system.bcs.constrain(mass(system.V))
    M = system.matrix_free_operator().mass_operator()
    return M.tocsr() if system.path == "assembled" else M


def _step_solver(system, left, theta_dt, method, rtol):
    """The solver of ``left = M + θ dt A``, set up once for every step."""
    # (curvilinear spaces: no matrix-free fit; their operators are weighted Kronecker sums)
    fit = None if system.V.coordinates.curvilinear else _shifted_fit(system, theta_dt)
    return make_solver(left, method, rtol=rtol, fit=fit, check=False)


def _shifted_fit(system, theta_dt):
    """``M + θ dt A`` as a matrix-free operator (made on demand): the separable fit source."""

    def make():
        mf = system.matrix_free_operator()
        return mf.mass_operator() + theta_dt * mf if theta_dt > 0 else mf.mass_operator()

    return make


def _select_free(bcs, u):
    if getattr(bcs, "poles", ()):  # curvilinear poles: one value each (fem/bc.py)
        return bcs.select(u)
    U = np.asarray(u).reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)
