"""Instructor key of Lab 7 (the circular drum): exercises 1 to 5.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab7_key.py``.
"""

import numpy as np
from scipy.special import jn_zeros, jnp_zeros

import femkron as fk


def spectrum(zeros, k, with_zero=False):
    """The k smallest z**2 over the zeros of order m = 0..7, twice for m >= 1: (value, m)."""
    pairs = [(0.0, 0)] if with_zero else []
    for m in range(8):
        for z in zeros(m, 6):
            pairs += [(z**2, m)] * (1 if m == 0 else 2)
    return sorted(pairs)[:k]


def exercise_1():
    D = fk.TensorSpace.disk(radius=1.0, cells=(16, 64), order=2)
    w, _ = fk.eigen(D, k=12)
    exact = np.array([lam for lam, _ in spectrum(jn_zeros, 12)])
    assert np.all(w >= exact * (1 - 1e-12))
    assert np.all(w / exact - 1 < 1e-4), w / exact - 1
    ms = [m for _, m in spectrum(jn_zeros, 12)]
    for i in range(11):
        if ms[i] >= 1 and ms[i + 1] == ms[i] and abs(exact[i + 1] - exact[i]) < 1e-12:
            assert abs(w[i + 1] - w[i]) <= 1e-10 * w[i]
    return w


def exercise_2():
    j01 = jn_zeros(0, 1)[0] ** 2
    rates = []
    for p in (1, 2, 3):
        errs, hs = [], []
        for n in (4, 8, 16):
            D = fk.TensorSpace.disk(radius=1.0, cells=(n, 4 * n), order=p)
            errs.append(fk.eigen(D, k=1)[0][0] - j01)
            hs.append(1.0 / n)
        rates.append(fk.convergence_rate(hs[-2:], errs[-2:]))
        assert abs(rates[-1] - 2 * p) < 0.2, (p, rates[-1])
    return rates


def exercise_3():
    D = fk.TensorSpace.disk(radius=1.0, cells=(8, 32), order=2)
    w, v = fk.eigen(D, k=6)
    U = v.reshape(D.shape + (6,))
    assert np.ptp(U[0], axis=0).max() < 1e-12
    ms = [m for _, m in spectrum(jn_zeros, 6)]
    for j, m in enumerate(ms):
        if m == 0:
            assert abs(U[0, 0, j]) > 0.1
        else:
            assert abs(U[0, 0, j]) < 1e-12


def exercise_4():
    D = fk.TensorSpace.disk(radius=1.0, cells=(16, 64), order=2)
    w, _ = fk.eigen(D, k=8, bc={"outer": fk.Neumann()})
    exact = np.array([lam for lam, _ in spectrum(jnp_zeros, 8, with_zero=True)])
    assert abs(w[0]) < 1e-8
    assert np.all(np.abs(w[1:] / exact[1:] - 1) < 1e-4)


def exercise_5():
    w1, _ = fk.eigen(fk.TensorSpace.disk(radius=1.0, cells=(8, 32), order=2), k=5)
    w2, _ = fk.eigen(fk.TensorSpace.disk(radius=2.0, cells=(8, 32), order=2), k=5)
    assert np.allclose(w2, w1 / 4, rtol=1e-10)


if __name__ == "__main__":
    exercise_1()
    exercise_2()
    exercise_3()
    exercise_4()
    exercise_5()
    print("lab 7: all outcomes met")
