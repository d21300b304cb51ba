"""KronOperator algebra against dense ``numpy.kron`` references."""

import functools
import zlib

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given
from hypothesis import strategies as st

import femkron as fk
from femkron.kron import apply_axis

SHAPES = {
    "1d": [(6, 6)],
    "2d": [(3, 3), (4, 4)],
    "3d": [(2, 2), (3, 3), (4, 4)],
    "4d": [(2, 2), (3, 3), (2, 2), (3, 3)],
    "rect2d": [(3, 5), (4, 2)],
    "rect3d": [(2, 3), (4, 4), (3, 2)],
}


def factor(rng, shape, sparse):
    A = rng.standard_normal(shape)
    A[rng.random(shape) < 0.4] = 0.0
    return sp.csr_matrix(A) if sparse else A


def random_operator(rng, shapes, nterms=3, mix=True):
    terms = []
    for t in range(nterms):
        fs = [factor(rng, s, sparse=(mix and (t + d) % 2 == 0)) for d, s in enumerate(shapes)]
        terms.append((float(rng.uniform(-2, 2)), fs))
    return fk.KronOperator(terms), terms


def dense(terms):
    out = 0.0
    for c, fs in terms:
        out = out + c * functools.reduce(
            np.kron, [f.toarray() if sp.issparse(f) else np.asarray(f) for f in fs]
        )
    return out


# Tolerances against dense numpy.kron: both sides round sums of at most n <= 36 products, so
# |error| <= n·ε·max(|D| |x|) (Higham, Accuracy and Stability, §3.5); for these factors
# max(|D| |x|) < 15, a bound of 1.2e-13 under the 1e-12 used for products.  An entry is a sum
# of 3 terms of products of <= 4 factors: |error| < 10·ε·max|D| < 3e-14 under 1e-13.
@pytest.fixture(params=list(SHAPES), ids=list(SHAPES))
def case(request):
    # a fixed seed per shape (hash() of a str changes from one process to the next)
    rng = np.random.default_rng(zlib.crc32(request.param.encode()))
    op, terms = random_operator(rng, SHAPES[request.param])
    return rng, op, terms, dense(terms)


def test_shape_and_dense(case):
    _, op, terms, D = case
    assert op.shape == D.shape and op.naxes == len(terms[0][1])
    np.testing.assert_allclose(op.toarray(), D, atol=1e-13)
    C = op.tocsr()
    assert sp.isspmatrix_csr(C) and C.has_canonical_format
    np.testing.assert_allclose(C.toarray(), D, atol=1e-13)


def test_matvec_and_stacks(case):
    rng, op, _, D = case
    x = rng.standard_normal(op.shape[1])
    np.testing.assert_allclose(op @ x, D @ x, atol=1e-12)
    X = rng.standard_normal((op.shape[1], 3))
    np.testing.assert_allclose(op @ X, D @ X, atol=1e-12)
    np.testing.assert_allclose(op.dot(x), D @ x, atol=1e-12)
    # a grid (C order, last axis fastest) gives a grid back
    G = x.reshape(op.in_shape)
    np.testing.assert_allclose(op @ G, (D @ x).reshape(op.out_shape), atol=1e-12)
    np.testing.assert_allclose(op.apply_grid(G), (D @ x).reshape(op.out_shape), atol=1e-12)
    # integer input is accepted and means the same numbers
    xi = np.arange(op.shape[1])
    np.testing.assert_allclose(op @ xi, D @ xi, atol=1e-10)


def test_algebra(case):
    rng, op, terms, D = case
    shapes = [f.shape for f in terms[0][1]]
    other, oterms = random_operator(rng, shapes, nterms=2)
    E = dense(oterms)
    x = rng.standard_normal(op.shape[1])
    np.testing.assert_allclose((op + other).toarray(), D + E, atol=1e-12)
    np.testing.assert_allclose((op - other).toarray(), D - E, atol=1e-12)
    np.testing.assert_allclose((2.5 * op).toarray(), 2.5 * D, atol=1e-12)
    np.testing.assert_allclose((op * -3).toarray(), -3 * D, atol=1e-12)
    np.testing.assert_allclose((op / 4.0).toarray(), D / 4.0, atol=1e-12)
    np.testing.assert_allclose((-op).toarray(), -D, atol=1e-12)
    np.testing.assert_allclose((+op) @ x, D @ x, atol=1e-12)
    np.testing.assert_allclose((op + 2 * other - op) @ x, 2 * E @ x, atol=1e-11)
    np.testing.assert_allclose(op.T.toarray(), D.T, atol=1e-13)
    np.testing.assert_allclose(op.transpose().toarray(), D.T, atol=1e-13)
    y = rng.standard_normal(op.shape[0])
    np.testing.assert_allclose(op.T @ y, D.T @ y, atol=1e-12)


def test_composition(case):
    rng, op, terms, D = case
    # right factor with per-axis shapes (cols_d, k_d)
    shapes = [(f.shape[1], 2 + d % 2) for d, f in enumerate(terms[0][1])]
    other, oterms = random_operator(rng, shapes, nterms=2)
    P = op @ other
    assert isinstance(P, fk.KronOperator) and len(P.terms) == len(terms) * len(oterms)
    np.testing.assert_allclose(P.toarray(), D @ dense(oterms), atol=1e-11)


def test_diagonal_restrict_project():
    rng = np.random.default_rng(7)
    for shapes in (SHAPES["1d"], SHAPES["2d"], SHAPES["3d"], SHAPES["4d"]):
        op, terms = random_operator(rng, shapes)
        D = dense(terms)
        np.testing.assert_allclose(op.diagonal(), np.diag(D), atol=1e-13)
        # restriction to a product of 1D index sets (index arrays, masks and None mixed)
        sets = []
        for d, (n, _) in enumerate(shapes):
            if d % 3 == 0:
                sets.append(np.arange(1, n))
            elif d % 3 == 1:
                mask = np.ones(n, bool)
                mask[0] = False
                sets.append(mask)
            else:
                sets.append(None)
        idx = [np.arange(n) if s is None else np.arange(n)[s] for s, (n, _) in zip(sets, shapes)]
        flat = np.ravel_multi_index(np.ix_(*idx), [n for n, _ in shapes]).ravel()
        R = op.restrict(sets)
        np.testing.assert_allclose(R.toarray(), D[np.ix_(flat, flat)], atol=1e-13)
        # rectangular restriction: rows and columns differ
        cols = [None] * len(shapes)
        R2 = op.restrict(sets, cols)
        np.testing.assert_allclose(R2.toarray(), D[flat], atol=1e-13)
        # Galerkin projection with per-axis matrices
        Ps = [
            rng.standard_normal((n, n - 1)) if d != 1 else None for d, (n, _) in enumerate(shapes)
        ]
        Pfull = functools.reduce(
            np.kron, [np.eye(n) if P is None else P for P, (n, _) in zip(Ps, shapes)]
        )
        np.testing.assert_allclose(op.project(Ps).toarray(), Pfull.T @ D @ Pfull, atol=1e-11)
        Qs = [sp.csr_matrix(rng.standard_normal((n, 2))) for n, _ in shapes]
        Qfull = functools.reduce(np.kron, [Q.toarray() for Q in Qs])
        np.testing.assert_allclose(op.project(Ps, Qs).toarray(), Qfull.T @ D @ Pfull, atol=1e-11)


def test_linear_operator_view(case):
    rng, op, _, D = case
    L = op.aslinearoperator()
    assert isinstance(L, spla.LinearOperator) and L.shape == D.shape
    x, y = rng.standard_normal(op.shape[1]), rng.standard_normal(op.shape[0])
    np.testing.assert_allclose(L @ x, D @ x, atol=1e-12)
    np.testing.assert_allclose(L.rmatvec(y), D.T @ y, atol=1e-12)
    X = rng.standard_normal((op.shape[1], 2))
    np.testing.assert_allclose(L.matmat(X), D @ X, atol=1e-12)


def test_kronecker_sum_laplacian_eigenvalues():
    # the 2D/3D discrete Laplacian as a Kronecker sum: its eigenvalues are sums of 1D ones
    T = [sp.diags([[-1.0] * (n - 1), [2.0] * n, [-1.0] * (n - 1)], [-1, 0, 1]) for n in (3, 4, 5)]
    Is = [sp.identity(n) for n in (3, 4, 5)]
    L = fk.KronOperator([(1.0, [T[d] if e == d else Is[e] for e in range(3)]) for d in range(3)])
    lam1 = [2 - 2 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1)) for n in (3, 4, 5)]
    expected = np.sort(np.add.outer(np.add.outer(lam1[0], lam1[1]), lam1[2]).ravel())
    np.testing.assert_allclose(np.linalg.eigvalsh(L.toarray()), expected, atol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("sparse", [False, True])
def test_apply_axis(axis, sparse):
    rng = np.random.default_rng(axis)
    U = rng.standard_normal((3, 4, 5))
    A = rng.standard_normal((2, U.shape[axis]))
    expected = np.moveaxis(np.tensordot(A, U, (1, axis)), 0, axis)
    got = apply_axis(sp.csr_matrix(A) if sparse else A, U, axis)
    np.testing.assert_allclose(got, expected, atol=1e-13)


def test_describe_and_bounds():
    A = sp.identity(3, format="csr")
    op = fk.KronOperator.kron(A, 2 * A)
    assert op.nnz_bound() >= op.tocsr().nnz
    assert "Kronecker sum" in op.describe() and "9×9" in repr(op)


def test_memory_guard_refuses_large_materialisation(monkeypatch):
    op = fk.KronOperator.kron(sp.identity(300, format="csr"), sp.identity(300, format="csr"))
    monkeypatch.setattr("femkron._limits._limit", 4 * 10**6)
    assert fk.memory_limit() == 4 * 10**6
    with pytest.raises(fk.ResourceError, match="dense 90000×90000 matrix") as info:
        op.toarray()
    assert isinstance(info.value, MemoryError) and info.value.nbytes == 8 * 90000**2
    assert op.tocsr().nnz == 90000  # the CSR form fits


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fk.KronOperator([]), ValueError, "terms must hold at least one"),
        (lambda: fk.KronOperator(5), TypeError, "terms must be a sequence"),
        (lambda: fk.KronOperator([(1.0,)]), TypeError, r"terms\[0\] must be a \(coef, factors\)"),
        (lambda: fk.KronOperator([("a", [np.eye(2)])]), TypeError, r"terms\[0\] coef"),
        (lambda: fk.KronOperator([(np.nan, [np.eye(2)])]), ValueError, "coef must be finite"),
        (
            lambda: fk.KronOperator([(1.0, [np.eye(2)]), (1.0, [np.eye(3)])]),
            ValueError,
            r"terms\[1\] has factor shapes",
        ),
        (lambda: fk.KronOperator([(1.0, [np.ones(3)])]), ValueError, "must be 2D"),
        (lambda: fk.KronOperator([(1.0, [[[np.nan]]])]), ValueError, "NaN or inf"),
        (lambda: fk.KronOperator([(1.0, ["ab"])]), TypeError, "factor 0 must be"),
        (lambda: fk.KronOperator.kron(np.eye(2)) @ np.ones(3), ValueError, r"shape \(3,\)"),
        (
            lambda: fk.KronOperator.kron(np.eye(2), np.eye(2)) @ np.ones((5, 2)),
            ValueError,
            "cannot apply an operator of shape",
        ),
        (
            lambda: fk.KronOperator.kron(np.eye(2)) + fk.KronOperator.kron(np.eye(3)),
            ValueError,
            "cannot add KronOperators",
        ),
        (
            lambda: fk.KronOperator.kron(np.eye(2)) - fk.KronOperator.kron(np.eye(3)),
            ValueError,
            "cannot subtract",
        ),
        (lambda: fk.KronOperator.kron(np.eye(2)) / 0, ValueError, "divide .* by zero"),
        (
            lambda: fk.KronOperator.kron(np.eye(2), np.eye(2)).restrict([None]),
            ValueError,
            "rows must give one index set per axis",
        ),
        (
            lambda: fk.KronOperator.kron(np.eye(2)).restrict([[5]]),
            ValueError,
            r"rows\[0\] has indices outside",
        ),
        (
            lambda: fk.KronOperator.kron(np.eye(2)).restrict([[0.5]]),
            TypeError,
            r"rows\[0\] must hold integer indices",
        ),
        (
            lambda: fk.KronOperator.kron(np.ones((2, 3))).diagonal(),
            ValueError,
            "diagonal",
        ),
        (
            lambda: fk.KronOperator.kron(np.eye(2)) @ fk.KronOperator.kron(np.eye(3)),
            ValueError,
            "cannot compose",
        ),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(fk.FemkronError, match=match) as info:
        call()
    assert isinstance(info.value, error)


def test_unsupported_operands():
    op = fk.KronOperator.kron(np.eye(2))
    with pytest.raises(TypeError):
        op + 1.0
    with pytest.raises(TypeError):
        op * "2"
    with pytest.raises(TypeError):
        op @ np.array(["a", "b"])


@given(
    sizes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1, max_size=3),
    nterms=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_random_operators_against_numpy_kron(sizes, nterms, seed):
    rng = np.random.default_rng(seed)
    op, terms = random_operator(rng, sizes, nterms=nterms)
    D = dense(terms)
    x = rng.standard_normal((op.shape[1], 2))
    np.testing.assert_allclose(op @ x, D @ x, atol=1e-12)
    np.testing.assert_allclose(op @ x[:, 0], D @ x[:, 0], atol=1e-12)
    np.testing.assert_allclose(op.tocsr().toarray(), D, atol=1e-13)
    np.testing.assert_allclose(op.T.toarray(), D.T, atol=1e-13)
    square = [(n, n) for n, _ in sizes]
    sq, sterms = random_operator(rng, square, nterms=nterms)
    np.testing.assert_allclose(sq.diagonal(), np.diag(dense(sterms)), atol=1e-13)
