"""The implicit–explicit stepping of reaction–diffusion, shared by boxes and unions of boxes.

:func:`femkron.reaction_diffusion` (:mod:`femkron.problems.reaction`) and its union form
(:mod:`femkron.problems.union_dynamics`) differ only in their species — the objects that make
a species' step operator ``c M + h D A``, its right-hand side and its full values — and in how
the reaction is called; the IMEX-Euler / SBDF2 loop, the snapshots, the step solvers set up
once per stage and species, and the report of the run are the same and live here.
"""

from __future__ import annotations

import time

import numpy as np

from ..linalg.info import SolveInfo


class _StepSolvers:
    """The step solvers of the species, set up once per scheme stage ``c`` and species key.

    ``make(species, L)`` returns the solver of the step operator ``L`` of a species;
    ``setup`` sums the seconds spent setting them up.
    """

    def __init__(self, species, h, make):
        self.species, self.h, self.make = species, h, make
        self.solvers, self.setup = {}, 0.0

    def __call__(self, i, c):
        key = (c, self.species[i].key)
        if key not in self.solvers:
            t0 = time.perf_counter()
            L = self.species[i].step_operator(c, self.h)
            self.solvers[key] = self.make(self.species[i], L)
            self.setup += time.perf_counter() - t0
        return self.solvers[key]


def _imex_run(
    state,
    species,
    solvers,
    react,
    frame,
    *,
    scheme,
    steps,
    h,
    t_end,
    snapshots,
    progress,
    several,
    where,
    t_start,
):
    """Step the species from ``state`` by IMEX Euler or SBDF2; the snapshots and the report.

    ``react(state, t, n)`` gives the reaction's values (one flat array per species) at the
    step ``n`` and time ``t``; ``frame(u)`` the snapshot array of one species' values.
    ``several``: keep the species axis of the values; ``where``: words of the note after
    the step; ``t_start``: the clock of the run's ``seconds``.

    Returns ``(times, values, info, operators)``: the snapshot times and values, the
    :class:`~femkron.SolveInfo` of the step solves and the number of step operators.
    """
    from tqdm.auto import tqdm

    times, frames = [], []
    every = steps // (snapshots - 1) if steps else 0

    def record(n, V):
        times.append(t_end * (n / steps) if steps else 0.0)
        frames.append(np.stack([frame(u) for u in V]))

    for _ in range(1 if steps else snapshots):
        record(0, state)
    disable = None if progress is None else not progress
    R_old = old = None
    last = []
    for n in tqdm(range(1, steps + 1), desc="reaction-diffusion steps", disable=disable,
                  leave=False):  # fmt: skip
        t_n, t_new = t_end * ((n - 1) / steps), t_end * (n / steps)
        R = react(state, t_n, n - 1)
        second = scheme == "sbdf2" and n > 1
        c = 1.5 if second else 1.0
        new, last = [], []
        for i, sp_i in enumerate(species):
            if second:
                z = 2.0 * state[i] - 0.5 * old[i] + h * (2.0 * R[i] - R_old[i])
            else:
                z = state[i] + h * R[i]
            solver = solvers(i, c)
            rhs = sp_i.right_hand_side(z, c, h, t_new)
            w = solver.solve(rhs)
            last.append((solver, w, rhs))
            new.append(sp_i.extend(w, t_new))
        old, state, R_old = state, new, R
        if n % every == 0:
            record(n, state)
    residual = 0.0
    for solver, w, rhs in last:  # the true relative residual of the last step's solves
        norm = float(np.linalg.norm(rhs))
        if norm > 0:
            residual = max(residual, float(np.linalg.norm(rhs - solver.A @ w)) / norm)
    used = list(solvers.solvers.values())
    info = SolveInfo(
        used[0].info.method if used else "none",
        iterations=sum(s.info.iterations for s in used),
        residual=residual,
        setup_seconds=solvers.setup,
        note=f"{scheme}: {steps} steps of dt={h:.6g}{where}, {len(used)} step "
        "operators set up once",
    )
    info.seconds = time.perf_counter() - t_start
    values = np.array(frames)
    if not several:
        values = values[:, 0]
    return times, values, info, len(used)
