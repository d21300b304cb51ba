"""Instructor key of Lab 3 (eigenvalues and the drum): exercises 1 to 5.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab3_key.py``.
"""

import contextlib
import io
import json
import pathlib

import numpy as np

import femkron as fk
from femkron.cli import main as femkron_cli

A_SIDE, B_SIDE = 1.0, 1.5  # the drum of the lab


def exact_drum(k, a=A_SIDE, b=B_SIDE, shift=0.0):
    """The k smallest pi^2 ((m - shift)^2 / a^2 + n^2 / b^2), m, n = 1, 2, ..."""
    m, n = np.meshgrid(np.arange(1, 80) - shift, np.arange(1, 80), indexing="ij")
    return np.sort((np.pi**2 * (m**2 / a**2 + n**2 / b**2)).ravel())[:k]


def exercise_1():
    """Every computed eigenvalue lies above the exact one (min-max, conforming space)."""
    worst = np.inf
    for p in (1, 2, 3):
        for n in (4, 8, 16):
            V = fk.TensorSpace.box([(0, A_SIDE), (0, B_SIDE)], cells=n, order=p)
            k = min(20, (n * p - 1) ** 2)
            w, _ = fk.eigen(V, k=k)
            worst = min(worst, (w / exact_drum(k) - 1).min())
    print(f"exercise 1: smallest relative error (lambda_h - lambda) / lambda = {worst:.1e}")
    assert worst > -1e-12


def exercise_2():
    """Square drum: a double eigenvalue, and any combination of its two modes is a mode."""
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    w, v = fk.eigen(V, k=3)
    A, M = fk.stiffness(V).tocsr(), fk.mass(V).tocsr()
    X, Y = V.grid()
    inner = ((X > 0) & (X < 1) & (Y > 0) & (Y < 1)).ravel()  # the Dirichlet rows go
    worst = 0.0
    for c in np.random.default_rng(3).standard_normal((5, 2)):
        u = v[:, 1:3] @ c
        r = (A @ u - w[1] * (M @ u))[inner]
        worst = max(worst, np.linalg.norm(r) / np.linalg.norm((A @ u)[inner]))
    split = abs(w[2] - w[1]) / w[1]
    print(f"exercise 2: lambda_2 = {w[1]:.6f} = lambda_3 to {split:.1e}; residual {worst:.1e}")
    assert split < 1e-12 and worst < 1e-12
    assert abs(w[1] / (5 * np.pi**2) - 1) < 1e-3  # (1, 2) and (2, 1): 5 pi^2


def exercise_3():
    """Eigenvalues within 1 % on the drum: Q1 on 16 x 16 against Q2 on 8 x 8 (225 dofs)."""
    counts = {}
    for cells, p in ((16, 1), (8, 2)):
        V = fk.TensorSpace.box([(0, A_SIDE), (0, B_SIDE)], cells=cells, order=p)
        w, _ = fk.eigen(V, k=225)  # all of them
        counts[p] = int(np.sum(w / exact_drum(225) - 1 < 0.01))
    print(f"exercise 3: within 1 %: Q1 16 x 16 {counts[1]}, Q2 8 x 8 {counts[2]} (of 225)")
    assert counts == {1: 2, 2: 15}


def exercise_4():
    """The CLI's table (Q4, 8 x 8 cells, unit square) against fk.eigen and the exact values."""
    argv = ["eig", "--dim", "2", "--cells", "8", "--order", "4", "-k", "12"]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = femkron_cli(argv + ["--plot", "modes.png", "--json", "eig.json"])
    assert status == 0 and pathlib.Path("modes.png").stat().st_size > 0
    table = json.loads(pathlib.Path("eig.json").read_text())
    cli = np.array(table["computed"])
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=4)
    w, _ = fk.eigen(V, k=12)
    exact = exact_drum(12, a=1.0, b=1.0)
    rel = cli / exact - 1
    print(
        f"exercise 4: CLI = fk.eigen to {np.abs(cli / w - 1).max():.1e}; "
        f"relative errors up to {rel.max():.2e}"
    )
    print(out.getvalue().splitlines()[0])
    assert np.allclose(cli, w, rtol=1e-12) and np.all(rel >= -1e-12) and rel.max() < 2e-6


def exercise_5():
    """Neumann on the left side: ((m - 1/2) pi / a)^2 + (n pi / b)^2."""
    V = fk.TensorSpace.box([(0, A_SIDE), (0, B_SIDE)], cells=(16, 24), order=2)
    w, _ = fk.eigen(V, k=8, bc={"left": fk.Neumann(0.0)})
    rel = w / exact_drum(8, shift=0.5) - 1
    print(f"exercise 5: lambda_1 = {w[0]:.4f}; relative errors {np.array2string(rel, precision=1)}")
    assert np.all(rel >= -1e-12) and rel.max() < 3e-4


if __name__ == "__main__":
    for exercise in (exercise_1, exercise_2, exercise_3, exercise_4, exercise_5):
        exercise()
