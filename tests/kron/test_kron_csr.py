"""KronOperator.tocsr and the matrix-free apply kernels against scipy.sparse.kron / numpy.kron."""

import functools

import numpy as np
import pytest
import scipy.sparse as sp

import femkron as fk
import femkron.kron._apply as kernels
from femkron.kron import KronOperator


def kron_sum_reference(op):
    """Σ c ⊗ A by scipy.sparse.kron (an independent construction)."""
    out = None
    for c, f in op.terms:
        term = functools.reduce(
            lambda X, Y: sp.kron(X, Y, format="csr"), [sp.csr_matrix(A) for A in f]
        )
        out = c * term if out is None else out + c * term
    return out


def dense_reference(op):
    out = np.zeros(op.shape)
    for c, f in op.terms:
        dense = [A.toarray() if sp.issparse(A) else np.asarray(A) for A in f]
        out += c * functools.reduce(np.kron, dense)
    return out


def check_csr(op, structural=None):
    C = op.tocsr()
    assert isinstance(C, sp.csr_matrix)
    assert C.shape == op.shape
    assert C.has_canonical_format
    # canonical really means sorted and unique: an independent recount agrees
    for i in range(C.shape[0]):
        cols = C.indices[C.indptr[i] : C.indptr[i + 1]]
        assert np.all(np.diff(cols) > 0)
    R = dense_reference(op)
    np.testing.assert_allclose(C.toarray(), R, rtol=0, atol=1e-13 * max(1.0, np.abs(R).max()))
    if structural is not None:
        assert C.nnz == structural
    assert C.indices.dtype == C.indptr.dtype
    return C


SHAPES = [((4,), 1), ((3, 5), 1), ((4, 3), 2), ((2, 3, 2), 1), ((2, 2, 3), 3), ((2, 1, 2, 2), 1)]


@pytest.mark.parametrize("cells,order", SHAPES)
def test_fem_operators_match_kron(cells, order):
    V = fk.TensorSpace.box([(0, 1)] * len(cells), cells=cells, order=order)
    for op in (fk.stiffness(V), fk.mass(V), fk.stiffness(V) - 2.5 * fk.mass(V)):
        C = check_csr(op)
        ref = kron_sum_reference(op)
        ref.sum_duplicates()
        # same structural pattern as the Kronecker product of the 1D patterns
        assert C.nnz == int(np.prod([V.spaces[d].stiffness().nnz for d in range(V.dim)]))
        assert abs(C - ref).max() <= 1e-13 * abs(ref).max()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_restricted_and_periodic_factors(order):
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)], cells=(3, 2, 2), order=order)
    bc = {"left": fk.Neumann(0.0), "y": fk.Periodic(), "front": fk.Robin(2.0, 0.0)}
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V) + bcs.robin_operator()
    check_csr(bcs.constrain(A))


def test_graded_mesh_and_coefficients():
    mx = fk.Mesh1D.graded(0, 1, cells=5, ratio=1.4)
    V = fk.TensorSpace([fk.Space1D(mx, 2), fk.Space1D(fk.Mesh1D.chebyshev(0, 2, 4), 1)])
    check_csr(fk.stiffness(V, kappa=(lambda x: 1 + x, lambda y: 2 + y * y)))
    check_csr(fk.stiffness(V, kappa=lambda x, y: 1 + x * y))


def test_different_patterns_fall_back_to_true_pattern():
    T = sp.diags([[-1.0] * 4, [2.0] * 5, [-1.0] * 4], [-1, 0, 1], format="csr")
    Id = sp.identity(5, format="csr")
    op = KronOperator([(1.0, (T, Id)), (1.0, (Id, T))])
    C = check_csr(op)
    assert C.nnz == 25 + 2 * 40  # 5-point stencil: diagonal + x- and y-neighbours
    assert np.count_nonzero(C.data) == C.nnz  # no explicit zeros from the 9-point union


def test_dense_rectangular_and_explicit_patterns():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 4))
    A[0, 1] = A[2, 3] = 0.0
    B = sp.random(5, 2, density=0.5, random_state=1, format="csr")
    Cm = rng.standard_normal((2, 3))
    check_csr(KronOperator([(2.0, (A, B, Cm)), (-1.0, (A, B, Cm))]))
    # two terms, dense factors with identical patterns on each axis
    D1 = rng.standard_normal((4, 4))
    D2 = rng.standard_normal((4, 4))
    check_csr(KronOperator([(1.0, (D1, D2)), (0.5, (D2, D1))]), structural=256)


def test_empty_rows_and_zero_factor():
    A = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0]]))
    B = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]]))
    check_csr(KronOperator([(1.0, (A, B)), (2.0, (A, B))]))
    Z = sp.csr_matrix((3, 3))
    C = KronOperator([(1.0, (Z, A))]).tocsr()
    assert C.nnz == 0 and C.shape == (9, 9)


@pytest.mark.parametrize("seed", range(6))
def test_random_sparse_patterns(seed):
    rng = np.random.default_rng(seed)
    D = int(rng.integers(1, 5))
    shapes = [(int(rng.integers(1, 6)), int(rng.integers(1, 6))) for _ in range(D)]
    factors = [
        sp.random(m, n, density=float(rng.uniform(0.2, 1.0)), random_state=seed + d, format="csr")
        for d, (m, n) in enumerate(shapes)
    ]
    other = [F.copy() for F in factors]
    for F in other:
        F.data = rng.standard_normal(F.nnz)
    check_csr(KronOperator([(1.0, tuple(factors)), (-0.7, tuple(other))]))


def test_large_row_blocks_use_chunks(monkeypatch):
    # shrink the chunk so the inner-row chunking and progression splitting are exercised
    import femkron.kron._csr as csr

    monkeypatch.setattr(csr, "_CHUNK_BYTES", 256)
    V = fk.TensorSpace.box([(0, 1)] * 3, cells=(3, 4, 5), order=(3, 2, 1))
    check_csr(fk.stiffness(V) + fk.mass(V))


def test_progressions_cover_rows_once():
    from femkron.kron._csr import _progressions

    rows = np.array([1, 2, 4, 5, 7, 8, 10, 13, 20])
    starts = rows * 3
    progs = _progressions(rows, starts)
    assert sorted(np.concatenate(progs).tolist()) == rows.tolist()
    for p in progs:
        assert p.size <= 2 or np.all(np.diff(p) == p[1] - p[0])


def test_tocsr_refuses_huge():
    V = fk.TensorSpace.box([(0, 1)] * 3, cells=400, order=2)
    with pytest.raises(fk.ResourceError, match="matrix-free"):
        fk.stiffness(V).tocsr()


# ---- matrix-free apply ----------------------------------------------------------------------
def _ops():
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)], cells=(5, 4, 6), order=(1, 2, 3))
    bcs = fk.BoundaryConditions(V, {"y": fk.Periodic(), "left": fk.Neumann(0.0)})
    yield fk.stiffness(V)
    yield bcs.constrain(fk.stiffness(V) + 3.0 * fk.mass(V))
    yield fk.advection(V, (1.0, -2.0, 0.5))
    T = sp.diags([[-1.0] * 6, [2.0] * 7, [-1.0] * 6], [-1, 0, 1], format="csr")
    yield KronOperator([(1.0, (T, sp.identity(7, format="csr"))), (2.0, (np.eye(7), T))])
    rng = np.random.default_rng(0)
    yield KronOperator([(1.0, (rng.standard_normal((3, 4)), sp.random(5, 6, 0.5, format="csr")))])


@pytest.mark.parametrize("force", ["auto", "band", "dense"])
def test_apply_matches_dense(monkeypatch, force):
    if force == "band":
        monkeypatch.setattr(kernels, "DENSE_PER_DIAGONAL", 0)
        monkeypatch.setattr(kernels, "_CHUNK", 64)
    elif force == "dense":
        monkeypatch.setattr(kernels, "DENSE_PER_DIAGONAL", 10**9)
    rng = np.random.default_rng(1)
    kinds = set()
    for op in _ops():
        op = KronOperator(op.terms)  # fresh kernels under the patched cost model
        R = dense_reference(op)
        u = rng.standard_normal(op.shape[1])
        np.testing.assert_allclose(op @ u, R @ u, rtol=0, atol=1e-12 * np.abs(R).sum(1).max())
        X = rng.standard_normal((op.shape[1], 3))
        np.testing.assert_allclose(op @ X, R @ X, rtol=0, atol=1e-12 * np.abs(R).sum(1).max())
        G = u.reshape(op.in_shape)
        np.testing.assert_allclose(op @ G, (R @ u).reshape(op.out_shape), atol=1e-11)
        # repeated application reuses scratch memory and must not change the answer
        np.testing.assert_allclose(op @ u, R @ u, rtol=0, atol=1e-12 * np.abs(R).sum(1).max())
        kinds |= {op.kernel(A).kind for _, f in op.terms for A in f}
    if force == "band":
        assert "band" in kinds
    if force == "dense":
        assert "band" not in kinds


def test_apply_does_not_modify_or_alias_input():
    Id = sp.identity(4, format="csr")
    op = KronOperator([(1.0, (Id, Id))])
    u = np.arange(16.0)
    v = op @ u
    assert not np.shares_memory(u, v)
    v[:] = 0
    np.testing.assert_array_equal(u, np.arange(16.0))
    two = KronOperator([(1.0, (Id, Id)), (2.0, (Id, Id))])
    np.testing.assert_allclose(two @ u, 3 * np.arange(16.0))
    np.testing.assert_array_equal(u, np.arange(16.0))


def test_apply_kernel_choice_for_banded_factor():
    V = fk.Space1D(fk.Mesh1D.uniform(0, 1, 400), order=1)
    assert kernels.factor_kernel(V.stiffness()).kind == "band"
    assert kernels.factor_kernel(fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), 1).mass()).kind == "dense"
    assert kernels.factor_kernel(sp.identity(5, format="csr")).kind == "identity"
    assert kernels.factor_kernel(np.diag([1.0, 2.0])).kind == "diagonal"


@pytest.mark.parametrize("chunk", [64, 2**16])
@pytest.mark.parametrize("in_place", [True, False])
def test_band_kernel_every_axis_and_add(monkeypatch, chunk, in_place):
    """The banded kernel on the first, middle and last axis (with chunk remainders), writing
    or adding to ``out``, with scipy's in-place CSR loop and with the public ``@`` fallback."""
    monkeypatch.setattr(kernels, "_CHUNK", chunk)
    monkeypatch.setattr(kernels, "DENSE_PER_DIAGONAL", 0)
    if not in_place:
        monkeypatch.setattr(kernels, "_csr_matvecs", None)
    A = fk.Space1D(fk.Mesh1D.graded(0, 1, 7, ratio=1.3), order=3).stiffness()
    kern = kernels.factor_kernel(A)
    assert kern.kind == "band"
    Ad = A.toarray()
    rng = np.random.default_rng(3)
    for shape in [(22, 5, 7), (3, 22, 9), (11, 6, 22), (22,), (13, 22)]:
        U = rng.standard_normal(shape)
        for axis in [d for d, s in enumerate(shape) if s == 22]:
            ref = np.moveaxis(np.tensordot(Ad, U, (1, axis)), 0, axis)
            out = np.full(shape, np.nan)
            np.testing.assert_allclose(kern.apply(U, axis, out=out), ref, atol=1e-12)
            np.testing.assert_allclose(out, ref, atol=1e-12)
            base = rng.standard_normal(shape)
            out = base.copy()
            kern.apply(U, axis, out=out, add=True)
            np.testing.assert_allclose(out, base + ref, atol=1e-12)
            np.testing.assert_allclose(kern.apply(U, axis), ref, atol=1e-12)
