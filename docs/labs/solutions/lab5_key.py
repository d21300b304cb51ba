"""Instructor key of Lab 5 (the re-entrant corner): exercises 1 to 4.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab5_key.py``.
"""

import numpy as np

import femkron as fk

LAMBDA_1 = 9.6397238440219  # Fox, Henrici & Moler 1967; Trefethen & Betcke 2006


def theta(x, y):
    """The angle from the re-entrant edge y = 0, x > 0, in [0, 2 pi)."""
    t = np.arctan2(y, x)
    return np.where(t < 0, t + 2 * np.pi, t)


def singular(a):
    """``r^a sin(a θ)``, its gradient: harmonic, zero on the edge θ = 0."""

    def u(x, y):
        return np.hypot(x, y) ** a * np.sin(a * theta(x, y))

    def ux(x, y):
        r = np.maximum(np.hypot(x, y), 1e-300)
        return a * r ** (a - 1) * np.sin((a - 1) * theta(x, y))

    def uy(x, y):
        r = np.maximum(np.hypot(x, y), 1e-300)
        return a * r ** (a - 1) * np.cos((a - 1) * theta(x, y))

    return u, ux, uy


def power_mesh(n, beta):
    """Nodes ±(i/n)^β on [-1, 1], graded toward 0 for β > 1."""
    s = (np.arange(n + 1) / n) ** beta
    return fk.Mesh1D(np.concatenate([-s[::-1], s[1:]]))


def h1_rate(order, beta, a=2 / 3, bc=None, cells=(8, 16, 32)):
    u, ux, uy = singular(a)
    errors = []
    for n in cells:
        L = fk.BoxUnion.lshape(order=order, mesh=power_mesh(n, beta))
        sol = fk.poisson(L, 0.0, bc=dict(bc or {}, boundary=fk.Dirichlet(u)))
        errors.append(sol.error(u, "H1", grad=(ux, uy), quad=order + 6))
    return fk.convergence_rate([1 / n for n in cells], errors)


def exercise_1():
    """The grading exponent: beta = 1, 1.5, 2, 3 for p = 1."""
    rates = {beta: h1_rate(1, beta) for beta in (1.0, 1.5, 2.0, 3.0)}
    print("exercise 1: H1 rates for p = 1:", {b: round(r, 3) for b, r in rates.items()})
    assert abs(rates[1.0] - 2 / 3) < 0.05
    assert 0.85 < rates[1.5] < rates[2.0] and rates[2.0] > 0.95 and rates[3.0] > 0.95
    assert rates[2.0] > rates[1.0] + 0.25


def exercise_2():
    """Neumann on the re-entrant edge x = 0: r^(1/3) sin(θ/3), H1 rate 1/3."""
    rate = h1_rate(1, 1.0, a=1 / 3, bc={"x=0": fk.Neumann(0.0)})
    graded = h1_rate(1, 4.0, a=1 / 3, bc={"x=0": fk.Neumann(0.0)})
    print(f"exercise 2: H1 rate {rate:.2f} uniform, {graded:.2f} graded (beta = 4)")
    assert abs(rate - 1 / 3) < 0.05 and graded > 0.9


def exercise_3():
    """Interface iterations stay bounded as the mesh is refined."""
    its = {}
    for n in (16, 32, 64, 128):
        its[n] = fk.poisson(fk.BoxUnion.lshape(cells=n, order=2), 1.0).info.iterations
    print(f"exercise 3: interface iterations {its}")
    assert max(its.values()) <= 8 and max(its.values()) - min(its.values()) <= 2


def exercise_4():
    """The first eigenvalue to 1e-6: geometric layers and a high order."""
    m = fk.Mesh1D.graded(0.0, 1.0, cells=10, ratio=3.0)
    L = fk.BoxUnion.lshape(order=6, mesh=fk.Mesh1D(np.concatenate([-m.nodes[::-1], m.nodes[1:]])))
    w, _ = fk.eigen(L, k=1)
    uniform, _ = fk.eigen(fk.BoxUnion.lshape(cells=64, order=1), k=1)
    print(
        f"exercise 4: graded Q6, {L.ndofs} dofs: error {w[0] - LAMBDA_1:.1e}; "
        f"uniform Q1 64 cells: error {uniform[0] - LAMBDA_1:.1e}"
    )
    assert abs(w[0] - LAMBDA_1) < 1e-6 and uniform[0] - LAMBDA_1 > 1e-2


if __name__ == "__main__":
    for exercise in (exercise_1, exercise_2, exercise_3, exercise_4):
        exercise()
