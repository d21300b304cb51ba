"""The reaction–diffusion benchmark (``femkron bench --kind reaction``): Gray–Scott by SBDF2.

Pearson's (1993) Gray–Scott system on ``[0, 2.5]²`` with periodic conditions,

``u_t = D_u Δu - u v² + F (1 - u)``,  ``v_t = D_v Δv + u v² - (F + k) v``,

``D_u = 2·10⁻⁵``, ``D_v = 10⁻⁵``, stepped by :func:`femkron.reaction_diffusion` with SBDF2 and
``dt = 1`` on Q1 elements.  The time of one step is set next to the time of one fast
diagonalization solve of the same size (the step operator ``3/2 M + dt D_u K``): a step is
two such solves, two mass products and the reaction.

Examples
--------
>>> rows = reaction_case(2000, steps=4)
>>> [r["method"] for r in rows]
['sbdf2-step', 'fdm-solve']
>>> rows[0]["steps_10000"] > 0
True
"""

from __future__ import annotations

import time

import numpy as np

from .cases import _cells_for, _median_time

__all__ = ["PEARSON", "gray_scott", "gray_scott_initial", "reaction_case", "REACTION_METHODS"]

REACTION_METHODS = ("sbdf2-step", "fdm-solve")

#: Points ``(F, k)`` of Pearson's (1993) parameter plane and the patterns they form from his
#: initial state (measured on a periodic square: isolated spots; connected stripes).
PEARSON = {
    "spots": (0.025, 0.060),
    "stripes": (0.040, 0.060),
}

#: Diffusion coefficients of Pearson's runs, ``(D_u, D_v)``.
DIFFUSION = (2e-5, 1e-5)

#: Pearson's square ``[0, 2.5]²``.
LENGTH = 2.5


def gray_scott(F, k):
    """The Gray–Scott reaction ``(−uv² + F(1 − u), uv² − (F + k)v)`` as a callable.

    Examples
    --------
    >>> r = gray_scott(0.035, 0.065)
    >>> r(1.0, 0.0)
    (0.0, 0.0)
    """

    def reaction(u, v):
        uvv = u * v * v
        return -uvv + F * (1.0 - u), uvv - (F + k) * v

    reaction.__name__ = f"gray_scott(F={F:g}, k={k:g})"
    return reaction


def gray_scott_initial(V, seed=0, noise=0.01):
    """Pearson's initial state: ``u = 1, v = 0`` but ``u = 1/2, v = 1/4`` on a central square.

    The square has side ``0.2`` (Pearson's 20 of 256 grid points over a side of 2.5),
    centred in the domain, and the values carry ±``noise`` relative random perturbations
    (seeded).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 2.5)] * 2, cells=16, order=1)
    >>> u, v = gray_scott_initial(V)
    >>> u.shape, float(v.max()) > 0.24
    ((17, 17), True)
    """
    rng = np.random.default_rng(seed)
    X, Y = V.grid()
    (a, b), (c, d) = V.bounds[:2]
    mid_x, mid_y, half = (a + b) / 2, (c + d) / 2, 0.1
    inside = (np.abs(X - mid_x) <= half) & (np.abs(Y - mid_y) <= half)
    u = np.where(inside, 0.5, 1.0) * (1 + noise * (2 * rng.random(V.shape) - 1))
    v = np.where(inside, 0.25, 0.0) * (1 + noise * (2 * rng.random(V.shape) - 1))
    return u, v


def reaction_case(dofs, steps=20, repeats=1, pattern="spots", dt=1.0):
    """Time SBDF2 steps of Gray–Scott on about ``dofs`` Q1 unknowns (periodic square).

    Returns two rows like :func:`~femkron.bench.cases.solve_case` (``kind="reaction"``):
    ``sbdf2-step`` with ``seconds`` the median time of one step (a run of ``steps`` steps,
    set-up excluded), ``setup`` the step operators' set-up and ``steps_10000`` the estimate
    of 10 000 steps; ``fdm-solve`` with ``seconds`` one fast-diagonalization solve of the
    step operator of the same size.
    """
    from ..fem.bc import BoundaryConditions, Periodic
    from ..fem.tensor import TensorSpace, mass, stiffness
    from ..linalg.solve import make_solver
    from ..problems.reaction import reaction_diffusion

    cells = _cells_for(dofs, 2, 1, dirichlet=False)
    V = TensorSpace.box([(0.0, LENGTH)] * 2, cells=cells, order=1)
    N = V.ndofs
    bc = {"x": Periodic(), "y": Periodic()}
    F, k = PEARSON[pattern]
    u0 = gray_scott_initial(V)
    base = {"kind": "reaction", "dim": 2, "order": 1, "dofs": N, "cells": cells}

    per_step, setups = [], []
    for _ in range(repeats):
        rd = reaction_diffusion(
            V, u0, DIFFUSION, gray_scott(F, k), t_end=steps * dt, dt=dt, bc=bc, snapshots=2,
            progress=False,
        )  # fmt: skip
        setups.append(rd.info.setup_seconds)
        per_step.append((rd.info.seconds - rd.info.setup_seconds) / rd.steps)
    step = float(np.median(per_step))
    bcs = BoundaryConditions(V, bc)
    L = bcs.constrain(1.5 * mass(V) + dt * DIFFUSION[0] * stiffness(V))
    t0 = time.perf_counter()
    solver = make_solver(L, "fdm", check=False)
    setup = time.perf_counter() - t0
    b = np.random.default_rng(1).standard_normal(L.shape[0])
    solver.solve(b)  # the first solve is verified (backward error): not timed
    solve, times, _ = _median_time(lambda: solver.solve(b), max(3, repeats))
    x = solver.solve(b)
    residual = float(np.linalg.norm(b - L @ x) / np.linalg.norm(b))
    rows = [
        dict(
            base,
            method="sbdf2-step",
            seconds=step,
            times=per_step,
            setup=float(np.median(setups)),
            steps_10000=10_000 * step,
            ratio_to_solve=step / solve,
            max_diff=None,
            note=(
                f"Gray-Scott ({pattern}: F={F}, k={k}), dt={dt:g}, {steps} steps; "
                f"10 000 steps ≈ {10_000 * step / 60:.3g} min; one step = "
                f"{step / solve:.3g} fdm solves"
            ),
        ),
        dict(
            base,
            method="fdm-solve",
            seconds=solve,
            times=times,
            setup=setup,
            residual=residual,
            iterations=0,
            max_diff=None,
            note=f"one fdm solve of 3/2 M + dt D_u K, periodic (set-up {setup:.2g} s)",
        ),
    ]
    return rows
