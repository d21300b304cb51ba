"""Fast diagonalization: exactness against sparse LU, the sine/Fourier paths against the dense
eigenvector path, analytic eigenvalues, and the structure errors."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import femkron as fk
import femkron.kron._sine as sine_module
import femkron.kron.diagonalize as fdm_module
from femkron.kron import FastDiagonalization, KronOperator, StructureError


def system(cells, order=1, bc=None, sigma=0.0, graded=False):
    dim = len(cells)
    if graded:
        spaces = [
            fk.Space1D(fk.Mesh1D.graded(0, 1 + d, n, ratio=1.3), order) for d, n in enumerate(cells)
        ]
        V = fk.TensorSpace(spaces)
    else:
        V = fk.TensorSpace.box([(0, 1 + d) for d in range(dim)], cells=cells, order=order)
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V)
    if sigma:
        A = A + sigma * fk.mass(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    return bcs.constrain(A), bcs


def lu_solve(A, b):
    return spla.spsolve(A.tocsr().tocsc(), b)


def rel(x, y):
    return float(np.abs(x - y).max() / np.abs(y).max())


EPS = np.finfo(float).eps


def rounding_bound(A, F):
    """Forward error (max norm, relative) allowed to a backward-stable solve: c·ε·κ₂(A), with
    c = 4n for the 1D products of length n <= max(F.shape1d) in the transforms (backward error
    n·ε each way) and the sparse LU reference's own error (measured c <= 2.5)."""
    return 4 * max(F.shape1d) * EPS * np.linalg.cond(A.toarray())


CASES = [
    ((9,), 1, None, 0.0),
    ((6, 5), 2, None, 0.0),
    ((4, 3, 5), 1, {"left": fk.Neumann(0.0), "top": fk.Robin(3.0)}, 0.0),
    ((5, 4), 3, {"x": fk.Periodic()}, 0.0),
    ((3, 4), 4, None, -20.0),  # Helmholtz, indefinite
    ((7, 6, 5), 1, {"x": fk.Periodic(), "bottom": fk.Neumann(0.0)}, 2.0),
]


@pytest.mark.parametrize("cells,order,bc,sigma", CASES)
def test_fdm_solves_exactly(cells, order, bc, sigma):
    A, _ = system(cells, order, bc, sigma)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    F = FastDiagonalization(A)
    x = F.solve(b)
    tol = rounding_bound(A, F)
    # the residual of a backward-stable solve: ‖b - A x‖ <= c·ε·‖A‖‖x‖ <= c·ε·κ₂(A)‖b‖
    assert np.linalg.norm(A @ x - b) <= tol * np.linalg.norm(b)
    assert rel(x, lu_solve(A, b)) < tol
    # setup once, many solves (and a stack of right-hand sides)
    B = np.random.default_rng(1).standard_normal((A.shape[0], 3))
    X = F.solve(B)
    for j in range(3):
        assert rel(X[:, j], lu_solve(A, B[:, j])) < tol


@pytest.mark.parametrize("order", [1, 2, 3])
def test_graded_mesh(order):
    A, _ = system((6, 5), order, None, graded=True)
    b = np.random.default_rng(2).standard_normal(A.shape[0])
    F = FastDiagonalization(A)
    assert F.transforms == ("dense", "dense")
    assert rel(F.solve(b), lu_solve(A, b)) < rounding_bound(A, F)


@pytest.mark.parametrize(
    "cells,bc,expected",
    [
        ((100,), None, ("dst",)),
        ((100, 100), None, ("dst", "dst")),
        ((64, 100, 8), {"x": fk.Periodic()}, ("fft", "dst", "dense")),
        ((100, 64), {"x": fk.Periodic(), "y": fk.Periodic()}, ("fft", "fft")),
        ((100, 70), {"left": fk.Robin(1.0)}, ("dense", "dst")),
    ],
)
def test_transforms_equal_dense_path(cells, bc, expected):
    sigma = -30.0 if len(cells) == 2 and bc is None else 0.0  # indefinite Helmholtz
    A, bcs = system(cells, 1, bc, sigma)
    fast = FastDiagonalization(A, singular=bcs.singular)
    dense = FastDiagonalization(A, transform="dense", singular=bcs.singular)
    assert fast.transforms == expected
    assert dense.transforms == ("dense",) * len(cells)
    # both paths are exact up to rounding amplified by the condition number
    lam = np.abs(dense.eigenvalues())
    cond = lam.max() / np.sort(lam)[1 if bcs.singular else 0]
    tol = max(1e-12, 1e-15 * cond)
    rng = np.random.default_rng(3)
    b = rng.standard_normal(A.shape[0])
    assert rel(fast.solve(b), dense.solve(b)) < tol
    B = rng.standard_normal((A.shape[0], 2))
    assert rel(fast.solve(B), dense.solve(B)) < tol
    # a symmetric-definite eigensolver perturbs each eigenvalue by p(n)·ε·max|λ| (Weyl)
    fast_lam, dense_lam = np.sort(fast.eigenvalues()), np.sort(dense.eigenvalues())
    np.testing.assert_allclose(fast_lam, dense_lam, rtol=0, atol=100 * EPS * lam.max())


def test_transform_eigenvectors_are_m_orthonormal():
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(12, 10), order=1)
    bcs = fk.BoundaryConditions(V, {"x": fk.Periodic()})
    A = bcs.constrain(fk.stiffness(V))
    F = FastDiagonalization(A, transform="fft")
    assert F.transforms == ("fft", "dst")
    for d, (K, M) in enumerate(bcs.axis_matrices()):
        S = F.S[d]
        np.testing.assert_allclose(S.T @ M @ S, np.eye(M.shape[0]), atol=1e-12)
        np.testing.assert_allclose(K @ S, M @ S * F.lams[d], atol=1e-9 * np.abs(K).max())
        np.testing.assert_allclose(F.St[d], S.T)


def test_sine_eigenvalues_match_analytic_q1():
    # uniform Q1 on (0, 1), Dirichlet: λ_k = (6/h²) (1 - cos θ_k) / (2 + cos θ_k), θ_k = kπh
    cells = 80
    A, _ = system((cells,), 1)
    F = FastDiagonalization(A)
    assert F.transforms == ("dst",)
    h = 1.0 / cells
    theta = np.pi * h * np.arange(1, cells)
    exact = 6 / h**2 * (1 - np.cos(theta)) / (2 + np.cos(theta))
    # 1D: the mass is the identity in this operator's structure, so compare with the pencil
    V = fk.Space1D(fk.Mesh1D.uniform(0, 1, cells), 1)
    K = V.stiffness().toarray()[1:-1, 1:-1]
    M = V.mass().toarray()[1:-1, 1:-1]
    G = FastDiagonalization(stiffness=[K], masses=[M])
    assert G.transforms == ("dst",)
    np.testing.assert_allclose(np.sort(G.eigenvalues()), exact, rtol=1e-12)
    # and the continuous limit: λ_1 → π² with relative error (πh)²/12 + O(h⁴) = 1.3e-3
    assert abs(exact[0] - np.pi**2) < 1.1 * np.pi**2 * (np.pi * h) ** 2 / 12


def test_singular_pure_neumann_and_periodic():
    for bc in (fk.Neumann(0.0), fk.Periodic()):
        A, _ = system((70, 66), 1, bc)
        with pytest.raises(fk.FemkronValueError, match="singular"):
            FastDiagonalization(A)
        F = FastDiagonalization(A, singular=True)
        assert F.zero_modes.size == 1
        b = np.random.default_rng(4).standard_normal(A.shape[0])
        b -= b.mean()
        x = F.solve(b)
        x -= x.mean()
        assert np.linalg.norm(A @ x - b) < 1e-10 * np.linalg.norm(b)


def test_helmholtz_resonance_is_a_clear_error():
    A, _ = system((70, 66), 1)
    lam = np.sort(FastDiagonalization(A).eigenvalues())[0]
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(70, 66), order=1)
    M = fk.BoundaryConditions(V).constrain(fk.mass(V))
    with pytest.raises(fk.FemkronValueError, match="resonance"):
        FastDiagonalization(A - lam * M)
    # slightly off the resonance it solves (indefinite)
    F = FastDiagonalization(A - (lam + 1.0) * M)
    assert F.eigenvalues().min() < 0 < F.eigenvalues().max()


def test_structure_errors_name_the_reason():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    bcs = fk.BoundaryConditions(V)
    with pytest.raises(StructureError, match="symmetric"):
        FastDiagonalization(bcs.constrain(fk.stiffness(V) + fk.advection(V, (1.0, 0.0))))
    with pytest.raises(StructureError, match="form"):
        FastDiagonalization(bcs.constrain(fk.stiffness(V, kappa=lambda x, y: 1 + x * y)))
    M = bcs.constrain(fk.mass(V)).terms[0][1]
    K = bcs.constrain(fk.stiffness(V)).terms[0][1][0]
    with pytest.raises(StructureError, match="positive definite"):
        FastDiagonalization(
            stiffness=[K.toarray(), M[1].toarray()], masses=[-M[0].toarray(), M[1].toarray()]
        )
    with pytest.raises(StructureError, match="square"):
        FastDiagonalization(KronOperator([(1.0, (np.ones((2, 3)), np.eye(2)))]))
    with pytest.raises(StructureError, match="transform='fft'"):
        FastDiagonalization(system((6, 5), 2)[0], transform="fft")
    with pytest.raises(fk.FemkronValueError, match="transform"):
        FastDiagonalization(system((6, 5), 1)[0], transform="sine")


def test_auto_falls_back_when_not_separable():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=1)
    A = fk.BoundaryConditions(V).constrain(fk.stiffness(V, kappa=lambda x, y: 1 + x * y))
    b = np.ones(A.shape[0])
    x, info = fk.solve(A, b, method="auto")
    assert info.method != "fdm" and "not separable" in info.note
    assert np.linalg.norm(A @ x - b) < 1e-9 * np.linalg.norm(b)
    A2 = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    _, info2 = fk.solve(A2, b, method="auto")
    assert info2.method == "fdm"


def test_identical_axes_share_one_setup():
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 2)], cells=(100, 100, 100), order=1)
    F = FastDiagonalization(fk.BoundaryConditions(V).constrain(fk.stiffness(V)))
    assert F.axes[1] is F.axes[2] and F.axes[0] is not F.axes[1]


def test_fft_min_controls_the_choice(monkeypatch):
    A, _ = system((100, 100), 1)
    assert FastDiagonalization(A).transforms == ("dst", "dst")
    monkeypatch.setattr(fdm_module, "FFT_MIN", 10**6)
    assert FastDiagonalization(A).transforms == ("dense", "dense")
    assert FastDiagonalization(A, transform="fft").transforms == ("dst", "dst")


@pytest.mark.parametrize(
    "cells,sigma",
    [((80, 72), 0.0), ((16, 20, 24), 0.0), ((16, 20, 24), -30.0), ((16, 20, 3, 4), 5.0)],
)
def test_streamed_solve_equals_dense_path(monkeypatch, cells, sigma):
    """Three streamed passes (1/Λ per slab, never whole) against dense eigenvectors and LU."""
    monkeypatch.setattr(fdm_module, "STREAM_MIN", 1000)
    monkeypatch.setattr(sine_module, "_STREAM_SLAB_BYTES", 3 * 8 * 80 * 24)  # several slabs
    monkeypatch.setattr(fdm_module, "FFT_MIN", 10)  # the short axes of the 4D case: dense
    A, _ = system(cells, 1, None, sigma)
    fast = FastDiagonalization(A)
    if len(cells) == 4:  # a dense axis: the whole-array path
        assert not fast.streamed and fast.transforms[2:] == ("dense", "dense")
    else:
        assert fast.streamed and fast._inv_grid is None and fast._stream is not None
        # axis 0 by sweeps unless a column is indefinite (Helmholtz): then by transforms
        assert (fast._stream.sweeps is None) == (sigma < 0)
    dense = FastDiagonalization(A, transform="dense")
    rng = np.random.default_rng(5)
    b = rng.standard_normal(A.shape[0])
    keep = b.copy()
    x = fast.solve(b)
    np.testing.assert_array_equal(b, keep)  # b untouched without overwrite_b
    lam = np.abs(dense.eigenvalues())
    tol = max(1e-12, 1e-15 * lam.max() / lam.min())
    assert rel(x, dense.solve(b)) < tol
    assert rel(x, lu_solve(A, b)) < tol
    x2 = fast.solve(b, overwrite_b=True)
    assert np.shares_memory(x2, b) == fast.streamed and rel(x2, x) < 1e-14
    # the whole 1/Λ on request, as the unstreamed solver has it
    monkeypatch.setattr(fdm_module, "STREAM_MIN", 10**12)
    whole = FastDiagonalization(A)
    assert not whole.streamed
    np.testing.assert_allclose(fast._inv, whole._inv, rtol=1e-14, atol=0)


@pytest.mark.parametrize("n", [1, 2, 3, 17, 480])
def test_toeplitz_sweeps_solve_each_column(n):
    """Sweeps + Sherman–Morrison against LAPACK's banded solver, column by column."""
    import scipy.linalg as sla

    h = 1.0 / (n + 1)
    Kc, Mc = (2.0 / h, -1.0 / h), (4.0 * h / 6.0, h / 6.0)
    # smooth modes (|s| near 1), e = 0 exactly (6/h²: s = 0), the stiff end, and beyond
    lam = np.array([2 * np.pi**2, 40.0, 6.0 / h**2, 6.0 / h**2 * (1 + 1e-9), 11.9 / h**2, 1e12])
    weight = np.linspace(0.5, 2.0, lam.size)
    sweeps = sine_module._ToeplitzSweeps(Kc, Mc, lam, weight)
    rng = np.random.default_rng(n)
    Y = rng.standard_normal((n, lam.size))
    X = sweeps.solve(Y.copy())
    for j, lj in enumerate(lam):
        d, e = Kc[0] + lj * Mc[0], Kc[1] + lj * Mc[1]
        ab = np.array([np.full(n, e), np.full(n, d), np.full(n, e)])
        ref = weight[j] * sla.solve_banded((1, 1), ab, Y[:, j])
        # backward-stable solves of a matrix of condition number c: c·n·ε apart at most
        cond = (d + 2 * abs(e)) / (d - 2 * abs(e) * np.cos(np.pi / (n + 1)))
        assert rel(X[:, j], ref) < 4 * n * EPS * cond


def test_toeplitz_sweeps_refuse_indefinite_columns():
    h = 0.01
    Kc, Mc = (2.0 / h, -1.0 / h), (4.0 * h / 6.0, h / 6.0)
    with pytest.raises(StructureError):
        sine_module._ToeplitzSweeps(Kc, Mc, np.array([-5.0, 10.0]), np.ones(2))
    with pytest.raises(StructureError):  # Λ' = 0: the symbol touches zero, |s| = 1
        sine_module._ToeplitzSweeps(Kc, Mc, np.array([0.0]), np.ones(1))


@pytest.mark.parametrize("value,expected", [("2", 2), ("1", 1), ("", -1), ("0", -1), ("x", -1)])
def test_fft_threads_follow_omp_num_threads(monkeypatch, value, expected):
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert sine_module._default_workers() == expected


def test_toeplitz_sweeps_refuse_columns_near_singular():
    """1 - |s| below the margin (a smooth mode of a long axis): the transforms take over."""
    n = 1000
    h = 1.0 / (n + 1)
    Kc, Mc = (2.0 / h, -1.0 / h), (4.0 * h / 6.0, h / 6.0)
    delta = 0.1 * sine_module._SWEEP_MARGIN  # Λ' h² = δ² gives 1 - |s| ≈ δ
    with pytest.raises(StructureError):
        sine_module._ToeplitzSweeps(Kc, Mc, np.array([delta**2 / h**2]), np.ones(1))
    sine_module._ToeplitzSweeps(Kc, Mc, np.array([1e4 * delta**2 / h**2]), np.ones(1))
