"""Instructor key of Lab 2 (2D Poisson and the Kronecker structure): exercises 1 to 5.

Each exercise computes what the lab asks and checks it against the lab's "Expected
outcomes"; the test suite runs this file (tests/test_docs.py).  Run it with
``python docs/labs/solutions/lab2_key.py``.
"""

import time

import numpy as np
import scipy.sparse.linalg as spla

import femkron as fk


def exercise_1():
    """The 3D stiffness operator as a KronOperator of three terms."""
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 0.5)], cells=(3, 2, 2), order=2)
    (Kx, Ky, Kz), (Mx, My, Mz) = zip(*((s.stiffness(), s.mass()) for s in V.spaces))
    op = fk.KronOperator([(1.0, (Kx, My, Mz)), (1.0, (Mx, Ky, Mz)), (1.0, (Mx, My, Kz))])
    A = fk.stiffness(V).toarray()
    diff = np.abs(op.toarray() - A).max() / np.abs(A).max()
    print(f"exercise 1: 3D KronOperator against fk.stiffness, relative difference {diff:.1e}")
    assert diff < 1e-13


def exercise_2():
    """(A kron B) vec(U) = vec(A U B^T) with C order; vec(B U A^T) with Fortran order."""
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((4, 3)), rng.standard_normal((5, 2))
    U = rng.standard_normal((3, 2))
    c_order = np.abs(np.kron(A, B) @ U.ravel() - (A @ U @ B.T).ravel()).max()
    W = U.T  # Fortran order: the first index runs fastest, W has B's columns as rows
    f_order = np.abs(np.kron(A, B) @ W.ravel(order="F") - (B @ W @ A.T).ravel(order="F")).max()
    print(f"exercise 2: C order {c_order:.1e}, Fortran order (B U A^T) {f_order:.1e}")
    assert c_order < 1e-13 and f_order < 1e-13


def exact3(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y)


def exercise_3():
    """Max nodal errors of K(x)M + M(x)K and of the shortcut K(x)I + I(x)K, same FEM load."""
    cells = (8, 16, 32, 64)
    fem_err, short_err = [], []
    for n in cells:
        S = fk.Space1D(fk.Mesh1D.uniform(0, 1, n), order=1)
        inner = slice(1, S.ndofs - 1)
        K, M = S.stiffness()[inner, inner], S.mass()[inner, inner]
        eye = np.eye(K.shape[0])
        fem = fk.KronOperator([(1.0, (K, M)), (1.0, (M, K))])
        shortcut = fk.KronOperator([(1.0, (K, eye)), (1.0, (eye, K))])
        V = fk.TensorSpace([S, S])
        b = fk.load_vector(V, lambda x, y: 2 * np.pi**2 * exact3(x, y))
        b = b.reshape(V.shape)[inner, inner].ravel()
        X, Y = np.meshgrid(S.x[inner], S.x[inner], indexing="ij")
        u = exact3(X, Y).ravel()
        fem_err.append(np.abs(fk.solve(fem, b, method="fdm")[0] - u).max())
        short_err.append(np.abs(fk.solve(shortcut, b, method="direct")[0] - u).max())
    h = 1 / np.array(cells)
    rate = fk.convergence_rate(h, fem_err)
    print(f"exercise 3: FEM rate {rate:.2f}; shortcut errors {np.round(short_err, 4)}")
    # the shortcut solution is about h u: its max error is about max|u| (1 - h) -> 1
    assert abs(rate - 2) < 0.05
    assert np.all(np.abs(np.array(short_err) - (1 - h)) < 0.005)


def exercise_4():
    """Non-zeros per row of the Q_p stiffness matrix (4 x 4 cells)."""
    for p in (1, 2, 3, 4):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=p)
        per_row = np.diff(fk.stiffness(V).tocsr().indptr)
        counts = sorted(set(per_row.tolist()))
        print(f"exercise 4: Q{p} non-zeros per row {counts}, (2p+1)^2 = {(2 * p + 1) ** 2}")
        assert counts == [(p + 1) ** 2, (p + 1) * (2 * p + 1), (2 * p + 1) ** 2]


def exact5(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y / 2)


def load5(x, y):
    return 1.25 * np.pi**2 * exact5(x, y)


def best_time(V, method, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sol = fk.poisson(V, load5, method=method)
        times.append(time.perf_counter() - start)
    return min(times), sol


def exercise_5():
    """Growth of fdm, amg and direct from 64^2 to 128^2 cells (order 2), and its causes.

    Times are this machine's: they are checked only through ratios and growth exponents
    with wide margins.  What drives them is checked exactly: the fill-in of the sparse LU
    and the AMG iteration counts."""
    fill, iterations, times, errors = [], {}, {}, {}
    for n in (32, 64, 128):
        V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(n, n), order=2)
        inner = np.arange(V.ndofs).reshape(V.shape)[1:-1, 1:-1].ravel()
        A = fk.stiffness(V).tocsr()[inner][:, inner].tocsc()
        lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A")  # the ordering femkron's direct uses
        fill.append((lu.L.nnz + lu.U.nnz) / A.nnz)
        for method in ("fdm", "amg", "direct"):
            # timed at 64^2 (best of two) and 128^2 (once: about a second each)
            times[method, n], sol = best_time(V, method, {32: 1, 64: 2, 128: 1}[n])
            iterations[method, n] = sol.info.iterations
            errors[method, n] = sol.error(exact5)
    growth = {m: np.log(times[m, 128] / times[m, 64]) / np.log(4) for m in ("fdm", "amg", "direct")}
    print(f"exercise 5: nnz(L+U)/nnz(A) = {np.round(fill, 2)}")
    print(f"exercise 5: amg iterations {[iterations['amg', n] for n in (32, 64, 128)]}")
    for m in ("fdm", "amg", "direct"):
        print(
            f"exercise 5: {m:6s} {times[m, 64]:.3f} s -> {times[m, 128]:.3f} s, "
            f"growth exponent {growth[m]:.2f}"
        )
    # every method solves the same system: the same discretisation error
    for n in (32, 64, 128):
        assert np.ptp([errors[m, n] for m in ("fdm", "amg", "direct")]) < 1e-3 * errors["fdm", n]
    # fill-in of a 2D sparse LU grows like N log N: the ratio gains about 1 per quadrupling
    assert np.allclose(fill, (3.33, 4.24, 5.18), atol=0.1)
    assert all(0.7 < b - a < 1.2 for a, b in zip(fill, fill[1:]))
    # AMG iterations grow, but slowly (less than 1.5x per quadrupling of N)
    its = [iterations["amg", n] for n in (32, 64, 128)]
    assert its[0] < its[1] < its[2] and its[2] < 1.5 * its[1] and its[1] < 1.5 * its[0]
    # timings (wide margins): fdm the fastest; amg and direct grow faster than linearly
    assert times["fdm", 128] < min(times["amg", 128], times["direct", 128]) / 3
    assert 0.7 < growth["direct"] < 2.5 and 0.7 < growth["amg"] < 2.5


if __name__ == "__main__":
    for exercise in (exercise_1, exercise_2, exercise_3, exercise_4, exercise_5):
        exercise()
