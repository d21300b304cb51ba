"""Instructor key of Lab 4 (the heat equation: stability and the time step): exercises 1 to 4.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab4_key.py``.
"""

import contextlib
import io
import json
import pathlib

import numpy as np
import scipy.linalg as sla

import femkron as fk
from femkron.cli import main as femkron_cli


def lam_max(V, lumped=False):
    """Largest eigenvalue of M^{-1} A (Dirichlet): the sum of the largest 1D ones."""
    total = 0.0
    for s in V.spaces:
        K = s.stiffness().toarray()[1:-1, 1:-1]
        M = s.mass(lumped=lumped).toarray()[1:-1, 1:-1]
        total += sla.eigh(K, M, eigvals_only=True)[-1]
    return total


def exercise_1():
    """dt_crit = 2 / lambda_max shrinks like h^2; for P1 it tends to h^2 / 12."""
    for p in (1, 2):
        dt = [
            2 / lam_max(fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=p)) for n in (8, 16, 32)
        ]
        ratios = np.array(dt[:-1]) / np.array(dt[1:])
        print(
            f"exercise 1: P{p} dt_crit {np.array2string(np.array(dt), precision=3)}, "
            f"ratio per halving {np.round(ratios, 2)}"
        )
        assert np.all((3.9 < ratios) & (ratios < 4.4)) and abs(ratios[-1] - 4) < 0.1
        if p == 1:
            # 1D P1 (consistent mass): lambda_max = 6 (1 - cos t) / (2 + cos t) / h^2,
            # t = (n - 1) pi / n, which tends to 12 / h^2; two axes: dt_crit -> h^2 / 12
            n = 32
            t = (n - 1) * np.pi / n
            closed = 2 / (2 * 6 * n**2 * (1 - np.cos(t)) / (2 + np.cos(t)))
            assert abs(dt[-1] / closed - 1) < 1e-10
            assert abs(dt[-1] * 12 * n**2 - 1) < 0.01


def box(x, y):
    return ((np.abs(x - 0.5) <= 0.25) & (np.abs(y - 0.5) <= 0.25)).astype(float)


def exercise_2():
    """Discontinuous start, dt = 0.05: Crank-Nicolson rings, backward Euler damps.

    The mode of the largest eigenvalue is multiplied by R(dt lambda_max) every step:
    (1 - z/2) / (1 + z/2) for Crank-Nicolson, 1 / (1 + z) for backward Euler."""
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    w, v = fk.eigen(V, k=15 * 15)  # all the modes: 15 x 15 interior dofs
    top = fk.mass(V) @ v[:, -1]  # u -> its coefficient on the top mode: top @ u
    z = 0.05 * w[-1]
    for theta, factor in ((0.5, (1 - z / 2) / (1 + z / 2)), (1.0, 1 / (1 + z))):
        ht = fk.heat(V, box, t_end=0.2, dt=0.05, theta=theta, snapshots=5)
        u = ht.values.reshape(len(ht.t), -1)
        coef = u @ top
        measured = coef[1:] / coef[:-1]
        print(
            f"exercise 2: theta = {theta}: top mode x {measured[0]:.5f} per step "
            f"(theory {factor:.5f}); min u after the steps {np.round(u[1:].min(axis=1), 2)}"
        )
        # two steps: backward Euler leaves the top mode at round-off level after that
        assert np.allclose(measured[:2], factor, rtol=1e-6)
        if theta == 0.5:
            assert factor < -0.98 and np.all(u[1:].min(axis=1) < -0.2)  # rings, flips sign
        else:
            assert factor < 0.003 and u[1:].min() > -1e-12  # damped, stays >= 0


def exercise_3():
    """Lumped mass lowers lambda_max: the explicit step grows."""
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)  # the mesh of step 2
    consistent, lumped = lam_max(V), lam_max(V, lumped=True)
    print(
        f"exercise 3: P2 lambda_max {consistent:.1f} -> {lumped:.1f} lumped "
        f"(dt_crit x {consistent / lumped:.2f})"
    )
    assert abs(consistent - 7303.6) < 0.1 and abs(lumped - 3032.8) < 0.1
    # P1: lumped is the finite difference matrix, lambda_max = 4 cos^2(pi h / 2) / h^2 per
    # axis, against 6 (1 - cos t) / (2 + cos t) / h^2: the ratio tends to 3
    V1 = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    h = 1 / 8
    t = 7 * np.pi / 8
    closed = 6 * (1 - np.cos(t)) / (2 + np.cos(t)) / (4 * np.cos(np.pi * h / 2) ** 2)
    ratio = lam_max(V1) / lam_max(V1, lumped=True)
    print(f"exercise 3: P1 ratio {ratio:.3f} (closed form {closed:.3f}, tends to 3)")
    assert abs(ratio / closed - 1) < 1e-10 and 2.7 < ratio < 3


def heat_cli(theta):
    argv = ["solve", "heat", "--dim", "1", "--t-end", "0.1", "--dt", "1e-3"]
    with contextlib.redirect_stdout(io.StringIO()):
        status = femkron_cli(argv + ["--theta", str(theta), "--json", "heat.json"])
    assert status == 0
    return json.loads(pathlib.Path("heat.json").read_text())["errors"]["L2"]


def exercise_4():
    """CLI heat in 1D: the L2 error at t_end is the time-stepping error of the scheme."""
    z = np.pi**2 * 1e-3  # u = e^(-pi^2 t) sin(pi x), ||sin(pi x)|| = 1 / sqrt(2)
    exact = np.exp(-(np.pi**2) * 0.1)
    theory = {
        1.0: abs((1 + z) ** -100 - exact) / np.sqrt(2),
        0.5: abs(((1 - z / 2) / (1 + z / 2)) ** 100 - exact) / np.sqrt(2),
    }
    err = {theta: heat_cli(theta) for theta in (1.0, 0.5)}
    print(
        f"exercise 4: L2 error backward Euler {err[1.0]:.3e} (time error {theory[1.0]:.3e}), "
        f"Crank-Nicolson {err[0.5]:.3e} (time error {theory[0.5]:.3e})"
    )
    assert abs(err[1.0] / theory[1.0] - 1) < 0.02
    assert theory[0.5] < err[0.5] < 2 * theory[0.5] and err[1.0] / err[0.5] > 300


if __name__ == "__main__":
    for exercise in (exercise_1, exercise_2, exercise_3, exercise_4):
        exercise()
