"""Instructor key of Lab 6 (patterns from reaction and diffusion): exercises 1 to 4.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab6_key.py``.
"""

import numpy as np
import scipy.linalg as sla
import scipy.ndimage as ndi

import femkron as fk
from femkron.bench.reaction import DIFFUSION, gray_scott, gray_scott_initial

PERIODIC = {"x": fk.Periodic(), "y": fk.Periodic()}


def explicit_bound(cells, order):
    W = fk.TensorSpace.box([(0, 2.5)] * 2, cells=cells, order=order)
    bcs = fk.BoundaryConditions(W, PERIODIC)
    lam = sum(sla.eigh(K, M, eigvals_only=True)[-1] for K, M in bcs.axis_matrices())
    return lam, 2 / (DIFFUSION[0] * lam)


def exercise_1():
    """Q2's explicit bound is 5 times smaller than Q1's on the same cells."""
    h = 2.5 / 256
    lam1, dt1 = explicit_bound(256, 1)
    lam2, dt2 = explicit_bound(256, 2)
    print(f"exercise 1: Q1 bound {dt1:.3g}, Q2 bound {dt2:.3g}, lambda_max h^2 = {lam2 * h**2:.4g}")
    assert abs(lam1 * h**2 - 24) < 1e-6 * 24
    assert abs(lam2 * h**2 - 120) < 1e-6 * 120
    assert abs(dt2 - 0.0795) < 0.0001 and abs(dt1 / dt2 - 5) < 1e-6


def exercise_2():
    """IMEX Euler on Allen-Cahn: monotone energy at dt = 0.5, not at dt = 2."""
    eps = 0.03
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    u0 = 0.1 * np.random.default_rng(0).standard_normal(V.shape)
    K = fk.stiffness(V)
    w = [np.ravel(s.mass().sum(axis=0)) for s in V.spaces]
    weights = np.outer(*w).ravel()

    def energy(u):
        u = u.reshape(-1)
        return 0.5 * eps**2 * u @ (K @ u) + weights @ ((u**2 - 1) ** 2 / 4)

    for dt, monotone in ((0.5, True), (2.0, False)):
        rd = fk.reaction_diffusion(
            V, u0, eps**2, lambda u: u - u**3, t_end=40.0, dt=dt, scheme="imex-euler", snapshots=21
        )
        E = np.array([energy(f) for f in rd.values])
        top = np.abs(rd.values).max()
        print(
            f"exercise 2: dt = {dt}: energy monotone {bool(np.all(np.diff(E) <= 0))}, "
            f"max |u| = {top:.4g}"
        )
        assert bool(np.all(np.diff(E) <= 0)) == monotone
        assert (top <= 1 + 1e-9) == monotone


def exercise_3():
    """Stripes (0.04, 0.06): few connected regions over much of the square; spots: many."""
    W = fk.TensorSpace.box([(0, 1.25)] * 2, cells=64, order=1)
    counts = {}
    for F, k in ((0.04, 0.06), (0.025, 0.06)):
        rd = fk.reaction_diffusion(
            W,
            gray_scott_initial(W),
            DIFFUSION,
            gray_scott(F, k),
            t_end=3000,
            dt=1.0,
            bc=PERIODIC,
            snapshots=2,
        )
        v = rd.values[-1, 1]
        counts[F] = (ndi.label(v > 0.1)[1], float(np.mean(v > 0.1)))
        print(
            f"exercise 3: F = {F}: {counts[F][0]} regions, {100 * counts[F][1]:.3g} % of the area"
        )
    assert counts[0.04][0] < 15 and counts[0.04][1] > 0.4
    assert counts[0.025][0] >= 24


def exercise_4():
    """SBDF2 started by IMEX Euler: order 2 on the logistic equation."""
    V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    exact = 0.1 * np.exp(2.0) / (0.9 + 0.1 * np.exp(2.0))
    dts = [0.05, 0.025, 0.0125, 0.00625]
    errs = [
        abs(
            fk.reaction_diffusion(
                V, 0.1, 1.0, lambda u: u * (1 - u), t_end=2.0, dt=dt, snapshots=2
            ).values[-1]
            - exact
        ).max()
        for dt in dts
    ]
    order = fk.convergence_rate(dts, errs)
    print(f"exercise 4: SBDF2 order {order:.3f}")
    assert abs(order - 2) < 0.05


if __name__ == "__main__":
    exercise_1()
    exercise_2()
    exercise_3()
    exercise_4()
