"""Residual checks without full-size temporaries, and fdm solves in place."""

import numpy as np
import pytest

import femkron as fk
from femkron.kron.operator import KronOperator
from femkron.linalg.checks import slab_residual


def laplacian(dim, cells, order=1, bc=None):
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=cells, order=order)
    bcs = fk.BoundaryConditions(V, bc if bc is not None else {})
    A = bcs.constrain(fk.stiffness(V) + 0.5 * fk.mass(V))
    return A


CASES = [
    (1, 7, {}),
    (2, (6, 5), {}),
    (3, (4, 5, 3), {}),
    (3, (4, 3, 3), {"x": fk.Periodic()}),  # a first-axis factor with wrapped corners
]


@pytest.mark.parametrize("dim, cells, bc", CASES, ids=["1D", "2D", "3D", "3D-periodic"])
@pytest.mark.parametrize("slab_bytes", [1, 200, 2**24], ids=["plane", "few", "whole"])
@pytest.mark.parametrize("path", ["streamed", "slabs"])
def test_slab_residual_against_dense(dim, cells, bc, slab_bytes, path, monkeypatch):
    """‖b - A x‖ and ‖b‖ as numpy computes them from the dense matrix (rounding only).

    Banded first-axis factors take the plane-by-plane window; with the band limit below
    zero every factor takes the slabs.
    """
    import femkron.linalg.checks as checks

    if path == "slabs":
        monkeypatch.setattr(checks, "STREAM_BANDWIDTH", -1)
    A = laplacian(dim, cells, order=2, bc=bc)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(A.shape[1])
    b = A.toarray() @ x + 1e-3 * rng.standard_normal(A.shape[0])
    ref_r = np.linalg.norm(b - A.toarray() @ x)
    r, bn = slab_residual(A, x, b, slab_bytes=slab_bytes)
    # r ~ 1e-3 √N; rounding of the products ~ ε ‖|A||x|‖ ≪ 1e-10 relative here
    assert r == pytest.approx(ref_r, rel=1e-10)
    assert bn == pytest.approx(np.linalg.norm(b), rel=1e-14)
    # the planes of b from a callable, x unchanged
    grid = b.reshape(A.out_shape)
    x0 = x.copy()
    r2, _ = slab_residual(A, x, lambda i0, i1: grid[i0:i1], slab_bytes=slab_bytes)
    assert r2 == pytest.approx(ref_r, rel=1e-10)
    assert np.array_equal(x, x0)


@pytest.mark.parametrize("path", ["streamed", "slabs"])
def test_slab_residual_holds_no_full_size_array(path, monkeypatch):
    """Traced peak of the check: a few slabs of 1/8 of the grid, never a full-size array."""
    import tracemalloc

    import femkron.linalg.checks as checks

    if path == "slabs":
        monkeypatch.setattr(checks, "STREAM_BANDWIDTH", -1)
    A = laplacian(3, 40)
    x = np.ones(A.shape[1])
    b = np.ones(A.shape[0])
    tracemalloc.start()
    try:
        slab_residual(A, x, b, slab_bytes=8 * A.shape[0] // 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # slabs of 1/16 of the grid plus their two neighbour planes, at most ~5 alive at once
    assert peak < 0.8 * 8 * A.shape[0]


@pytest.mark.parametrize("bc", [{}, {"x": fk.Periodic(), "y": fk.Periodic()}])
def test_fdm_solve_in_place(bc):
    """solve(b) leaves b alone; solve(b, overwrite_b=True) returns the same x in b's memory."""
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)], cells=(70, 66, 3), order=1)
    bcs = fk.BoundaryConditions(V, bc)
    A = bcs.constrain(fk.stiffness(V) + fk.mass(V))
    F = fk.FastDiagonalization(A)
    b = np.random.default_rng(2).standard_normal(A.shape[0])
    b0 = b.copy()
    x = F.solve(b)
    assert np.array_equal(b, b0)
    assert np.linalg.norm(A @ x - b) <= 1e-12 * np.linalg.norm(b) * 1e2
    y = F.solve(b, overwrite_b=True)
    assert np.allclose(y, x, rtol=0, atol=1e-13 * np.abs(x).max())
    if all(t == "dst" for t in F.transforms):
        assert np.shares_memory(y, b)


def test_fdm_first_solve_costs_two_products(monkeypatch):
    """The verified first fdm solve: r = b - A x and |A||x| (two products), no more.

    The true residual the check computed is the one reported (the refinement step is not
    taken when it would change x by less than 1e-12 relative).
    """
    A = laplacian(3, 12)
    calls = []
    original = KronOperator._apply

    def counting(self, U):
        calls.append(U.shape)
        return original(self, U)

    solver = fk.make_solver(A, "fdm")
    monkeypatch.setattr(KronOperator, "_apply", counting)
    b = np.ones(A.shape[0])
    x = solver.solve(b)
    monkeypatch.setattr(KronOperator, "_apply", original)
    assert len(calls) == 2
    true = np.linalg.norm(b - A @ x) / np.linalg.norm(b)
    assert solver.info.residual == pytest.approx(true, rel=1e-6, abs=1e-17)
    assert solver.info.residual < 1e-13


@pytest.mark.parametrize("path", ["streamed", "slabs"])
def test_slab_residual_with_identity_factors(path, monkeypatch):
    """Identity factors pass their input on: x and the shared partial products stay intact."""
    import femkron.linalg.checks as checks

    if path == "slabs":
        monkeypatch.setattr(checks, "STREAM_BANDWIDTH", -1)
    T = np.diag([2.0] * 5) - np.diag([1.0] * 4, 1) - np.diag([1.0] * 4, -1)
    identity = np.eye(5)
    A = KronOperator(
        [
            (1.0, (T, identity, identity)),
            (2.0, (identity, T, identity)),
            (1.0, (identity, identity, T)),
        ]
    )
    rng = np.random.default_rng(2)
    x = rng.standard_normal(A.shape[1])
    b = rng.standard_normal(A.shape[0])
    x0 = x.copy()
    r, bn = slab_residual(A, x, b)
    assert r == pytest.approx(np.linalg.norm(b - A.toarray() @ x), rel=1e-12)
    assert bn == pytest.approx(np.linalg.norm(b), rel=1e-14)
    assert np.array_equal(x, x0)


def test_streamed_residual_4d_with_identity_middle_factors():
    """An identity after a product passes the same array on as a second partial product:
    recycling it twice would hand one work array out to two planes (4D, plane by plane)."""
    T = np.diag([2.0] * 4) - np.diag([1.0] * 3, 1) - np.diag([1.0] * 3, -1)
    M = np.diag([4.0] * 4) + np.diag([1.0] * 3, 1) + np.diag([1.0] * 3, -1)
    identity = np.eye(4)
    A = KronOperator(
        [
            (1.0, (T, M, identity, M)),
            (1.0, (M, M, identity, T)),
            (0.5, (M, T, identity, identity)),
        ]
    )
    rng = np.random.default_rng(4)
    x = rng.standard_normal(A.shape[1])
    b = rng.standard_normal(A.shape[0])
    r, bn = slab_residual(A, x, b)
    assert r == pytest.approx(np.linalg.norm(b - A.toarray() @ x), rel=1e-12)
