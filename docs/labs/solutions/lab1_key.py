"""Instructor key of Lab 1 (1D elements and convergence): exercises 1 to 5.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab1_key.py``.
"""

import numpy as np
import scipy.sparse.linalg as spla

import femkron as fk


def exercise_1():
    """Partition of unity and nodality, orders 1 to 10, both node families."""
    xi = np.linspace(-1, 1, 41)
    worst = 0.0
    for nodes in ("gll", "equispaced"):
        for order in range(1, 11):
            el = fk.Lagrange(order, nodes=nodes)
            worst = max(worst, np.abs(el.values(xi).sum(axis=1) - 1).max())
            worst = max(worst, np.abs(el.values(el.nodes) - np.eye(order + 1)).max())
    print(f"exercise 1: partition of unity and nodality hold to {worst:.1e}")
    assert worst < 1e-12


def exercise_2():
    """K annihilates constants, M integrates 1 exactly, on a non-uniform mesh."""
    S = fk.Space1D(fk.Mesh1D.graded(0.5, 3.0, 7, ratio=1.3), order=3)
    ones = np.ones(S.ndofs)
    k1 = np.abs(S.stiffness() @ ones).max()
    m1 = ones @ (S.mass() @ ones)
    print(f"exercise 2: max|K 1| = {k1:.1e}, 1'M1 = {m1:.15f} (b - a = 2.5)")
    assert k1 < 1e-12 and abs(m1 - 2.5) < 1e-12


def exercise_3():
    """Rates on a graded mesh refined uniformly, against max(h)."""
    rates = {}
    base = fk.Mesh1D.graded(0, 1, 8, ratio=1.2)
    for p in (1, 2):
        hs, l2 = [], []
        for k in (1, 2, 4, 8):
            mesh = base.refine(k) if k > 1 else base
            V = fk.TensorSpace([fk.Space1D(mesh, order=p)])
            sol = fk.poisson(V, lambda x: np.pi**2 * np.sin(np.pi * x))
            hs.append(mesh.h.max())
            l2.append(sol.error(lambda x: np.sin(np.pi * x)))
        rates[p] = fk.convergence_rate(hs, l2)
    print(f"exercise 3: graded-mesh L2 rates P1 {rates[1]:.2f}, P2 {rates[2]:.2f}")
    assert abs(rates[1] - 2) < 0.1 and abs(rates[2] - 3) < 0.1


def exact4(x):
    return x ** (2 / 3)


def load4(x):
    return 2 / 9 * x ** (-4 / 3)


def solve4(cells, order, quad):
    """-u'' = f on [0, 1], u(0) = 0, u(1) = 1, the load with ``quad`` Gauss points a cell."""
    S = fk.Space1D(fk.Mesh1D.uniform(0, 1, cells), order=order)
    K = S.stiffness().tocsr()
    b = S.load(load4, quad=quad)
    u = np.zeros(S.ndofs)
    u[-1] = 1.0
    free = np.arange(1, S.ndofs - 1)
    rhs = b[free] - K[free][:, [S.ndofs - 1]].toarray().ravel() * u[-1]
    u[free] = spla.spsolve(K[free][:, free].tocsc(), rhs)
    V = fk.TensorSpace([S])
    l2 = fk.error(V, u, exact4, quad=40)
    h1 = fk.error(V, u, exact4, "H1", grad=(lambda x: 2 / 3 * x ** (-1 / 3),), quad=40)
    return l2, h1


def pairwise_rates(errors):
    errors = np.asarray(errors)
    return np.log2(errors[:-1] / errors[1:])


def exercise_4():
    """u = x^(2/3): rates 7/6 (L2) and 1/6 (H1) with an accurate load, for P1 and P2."""
    cells = (8, 16, 32, 64, 128, 256)
    for p in (1, 2):
        errs = np.array([solve4(n, p, quad=50) for n in cells])
        l2, h1 = pairwise_rates(errs[:, 0]), pairwise_rates(errs[:, 1])
        print(f"exercise 4: P{p} L2 rates {np.round(l2, 2)}, H1 rates {np.round(h1, 2)}")
        assert np.all(np.abs(l2 - 7 / 6) < 0.03) and np.all(np.abs(h1 - 1 / 6) < 0.03)
    # fk.poisson integrates the singular load with its default rule: the rate falls below 1
    default = []
    for n in cells:
        V = fk.TensorSpace.box([(0, 1)], cells=n, order=1)
        default.append(fk.poisson(V, load4, bc={"right": fk.Dirichlet(1.0)}).error(exact4))
    rates = pairwise_rates(default)
    print(f"exercise 4: fk.poisson (default load rule), P1 L2 rates {np.round(rates, 2)}")
    assert rates[-1] < 1.0 and rates[-1] < rates[0]


def exercise_5():
    """Condition of the one-cell mass matrix at order 12: GLL against equispaced nodes."""
    cond = {}
    for nodes in ("gll", "equispaced"):
        S = fk.Space1D(fk.Mesh1D.uniform(0, 1, 1), order=12, nodes=nodes)
        cond[nodes] = np.linalg.cond(S.mass().toarray())
    print(f"exercise 5: cond(M) GLL {cond['gll']:.3g}, equispaced {cond['equispaced']:.3g}")
    assert cond["equispaced"] > 100 * cond["gll"]


if __name__ == "__main__":
    for exercise in (exercise_1, exercise_2, exercise_3, exercise_4, exercise_5):
        exercise()
