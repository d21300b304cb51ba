"""The heat equation ``u_t - ∇·(κ∇u) = f``: the θ-scheme with a step solver chosen for the
operator, and the modal integrator that is exact in time for a constant coefficient.

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
from ..errors import FemkronValueError
from ..fem.tensor import as_tensor_space, is_constant_coefficient, mass, stiffness
from ..kron.diagonalize import FastDiagonalization
from ..kron.structure import pencils
from ..kron.operator import apply_axis
from ..linalg.info import SolveInfo
from ..linalg.solve import LOCAL_METHODS, make_solver
from .linear_system import LinearSystem
from .solution import HeatSolution

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
    times only (``dt`` fixes the snapshot times, no steps are taken).

    Boundary data and ``f`` are constant in time.  A tqdm progress bar runs over the steps
    (``progress=None``: only on a terminal; ``True``/``False`` force it).

    Returns
    -------
    HeatSolution
        ``snapshots`` equally spaced snapshots (multiples of the step) including ``t = 0``
        and ``t_end``.

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
    if t_end / dt > MAX_STEPS:
        raise FemkronValueError(
            f"dt={dt:g} needs {t_end / dt:.3g} steps to reach t_end={t_end:g}; at most "
            f"{MAX_STEPS} steps are accepted (use a larger dt)"
        )
    if scheme == "modal" and not is_constant_coefficient(kappa):
        raise FemkronValueError(
            f"scheme='modal' needs a constant kappa (a number or an Anisotropic of numbers), "
            f"got {kappa!r}; use scheme='theta' for a variable coefficient"
        )
    steps = max(1, int(np.ceil(t_end / dt - 1e-12))) if t_end > 0 else 0
    check_vectors(V.ndofs, snapshots, f"{snapshots} snapshots of {V.ndofs} dofs")
    dt_eff = t_end / steps if steps else dt
    system = LinearSystem(V, f, kappa, bc, coefficient=coefficient, check_compatible=False)
    bcs = system.bcs
    if callable(u0) or is_number(u0):
        U0 = V.interpolate(u0).reshape(-1)
    else:
        U0 = as_vector(u0, "u0", V.ndofs)
    lift = system.lift if system.lift is not None else 0.0
    w = _select_free(bcs, U0 - lift)
    save_at = np.linspace(0, steps, snapshots).round().astype(int) if steps else [0] * snapshots
    times, frames = [], []

    def record(n, wc):
        times.append(n * dt_eff)
        frames.append(bcs.extend(wc, system.lift).reshape(V.shape))

    disable = None if progress is None else not progress
    t0 = time.perf_counter()
    if scheme == "modal":
        fdm = _modal_basis(V, bcs, kappa)
        Mc = bcs.constrain(mass(V))
        w_hat = _to_modes(fdm, Mc @ w)
        g_hat = _to_modes(fdm, system.b)
        lam = fdm.lam_grid.reshape(-1)
        zero = np.abs(lam) <= 1e-11 * np.abs(lam).max()
        safe = np.where(zero, 1.0, lam)
        for n in tqdm(list(save_at), desc="heat snapshots", disable=disable, leave=False):
            t = n * dt_eff
            decay = np.exp(-lam * t)
            phi = np.where(zero, t, -np.expm1(-lam * t) / safe)
            record(n, _from_modes(fdm, decay * w_hat + phi * g_hat))
        info = SolveInfo(
            "modal", residual=0.0, setup_seconds=fdm.setup_seconds,
            note="exact in time in the fdm eigenbasis",
        )
        info.seconds = time.perf_counter() - t0
        return HeatSolution(V, times, frames, info, 0)
    Mc, A = _mass_like(system), system.A
    left = Mc + (theta * dt_eff) * A
    right = Mc - ((1.0 - theta) * dt_eff) * A
    solver = _step_solver(system, left, theta * dt_eff, method, rtol)
    save_set = set(int(s) for s in save_at)
    if 0 in save_set:
        record(0, w)
    rhs_const = dt_eff * system.b
    for n in tqdm(range(1, steps + 1), desc="heat steps", disable=disable, leave=False):
        w = solver.solve(right @ w + rhs_const, w)
        if n in save_set:
            record(n, w)
    info = solver.info
    info.seconds = time.perf_counter() - t0
    info.iterations = info.iterations or steps
    return HeatSolution(V, times, frames, info, steps)


def _modal_basis(V, bcs, kappa):
    """Fast diagonalization of the constrained constant-coefficient stiffness against the
    plain 1D masses (so that the eigenbasis is M-orthonormal), from the carried pencils.
    """
    if kappa is None or is_number(kappa):
        kappa = as_real(1.0 if kappa is None else kappa, "kappa", positive=True)
    A = stiffness(V, kappa)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    Ks, Ms, sigma = pencils(bcs.constrain(A), split_1d=True)  # the carried pencils
    return FastDiagonalization(
        stiffness=Ks, masses=Ms, sigma=sigma, singular=bcs.singular
    )


def _by_axes(factors, v, shape):
    """``(⊗_d F_d) v`` for a flat ``v`` on the grid ``shape``, applied axis by axis."""
    U = np.asarray(v, dtype=float).reshape(shape)
    for d in range(len(shape)):
        U = apply_axis(factors[d], U, d)
    return U.reshape(-1)


def _to_modes(fdm, v):
    return _by_axes(fdm.St, v, fdm.shape1d)


def _from_modes(fdm, v):
    return _by_axes(fdm.S, v, fdm.shape1d)


def _mass_like(system):
    """The constrained mass operator in the representation of ``system.A``."""
    if system.path == "lowrank":
        return system.bcs.constrain(mass(system.V))
    M = system.matrix_free_operator().mass_operator()
    return M.tocsr() if system.path == "assembled" else M


def _step_solver(system, left, theta_dt, method, rtol):
    """The solver of ``left = M + θ dt A``, set up once for every step."""
    fit = _shifted_fit(system, theta_dt)
    return make_solver(left, method, rtol=rtol, fit=fit, check=False)


def _shifted_fit(system, theta_dt):
    """``M + θ dt A`` as a matrix-free operator (made on demand): the separable fit source."""

    def make():
        mf = system.matrix_free_operator()
        return mf.mass_operator() + theta_dt * mf

    return make


def _select_free(bcs, u):
    U = np.asarray(u).reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)
