"""Property-based tests (hypothesis) over random small meshes, orders, node families, boundary
condition mixes and coefficients.

References are independent of the code under test: ``numpy.kron`` of dense factors, a dense
brute-force quadrature of the bilinear form, and dense ``numpy.linalg`` solves.  The example
count comes from the hypothesis profile registered in ``tests/conftest.py``: 25 per test by
default, 400 with ``HYPOTHESIS_PROFILE=thorough``.
"""

import functools

import numpy as np
import scipy.sparse as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import femkron as fk

EPS = np.finfo(float).eps

FACE_NAMES = ("left", "right", "bottom", "top", "front", "back")


# ---- strategies ----------------------------------------------------------------------------
@st.composite
def meshes(draw, max_cells=4):
    a = draw(st.floats(-2.0, 2.0, allow_nan=False))
    length = draw(st.floats(0.25, 3.0, allow_nan=False))
    cells = draw(st.integers(1, max_cells))
    widths = np.array(draw(st.lists(st.floats(0.2, 3.0), min_size=cells, max_size=cells)))
    nodes = a + length * np.concatenate([[0.0], np.cumsum(widths)]) / widths.sum()
    return fk.Mesh1D(nodes)


@st.composite
def spaces(draw, min_dim=1, max_dim=3, max_order=4, max_dofs=150):
    dim = draw(st.integers(min_dim, max_dim))
    out = []
    for _ in range(dim):
        order = draw(st.integers(1, max_order))
        family = draw(st.sampled_from(["gll", "equispaced"]))
        out.append(fk.Space1D(draw(meshes()), order, family))
    V = fk.TensorSpace(out)
    assume(V.ndofs <= max_dofs)
    return V


@st.composite
def conditions(draw, V):
    """A random mix of Dirichlet, Neumann, Robin (alpha > 0) and periodic axes."""
    bc = {}
    for d in range(V.dim):
        if V.spaces[d].ndofs >= 3 and draw(st.integers(0, 4)) == 0:
            bc["xyz"[d]] = fk.Periodic()
            continue
        for side in (0, 1):
            kind = draw(st.sampled_from(["dirichlet", "neumann", "robin"]))
            name = FACE_NAMES[2 * d + side]
            if kind == "neumann":
                bc[name] = fk.Neumann(draw(st.floats(-2, 2)))
            elif kind == "robin":
                bc[name] = fk.Robin(draw(st.floats(0.1, 10.0)), draw(st.floats(-2, 2)))
            else:
                bc[name] = fk.Dirichlet(draw(st.floats(-2, 2)))
    return bc


def free_conditions(V, bc):
    """BoundaryConditions, skipping the (refused) case of an axis without free dofs."""
    try:
        return fk.BoundaryConditions(V, bc)
    except fk.FemkronValueError as err:
        assume("no free dofs" not in str(err))
        raise


def factor(draw, rows, cols):
    values = draw(
        st.lists(st.floats(-3, 3, allow_nan=False), min_size=rows * cols, max_size=rows * cols)
    )
    A = np.array(values).reshape(rows, cols)
    A[np.abs(A) < 1.0] = 0.0  # some structural zeros
    return sp.csr_matrix(A) if draw(st.booleans()) else A


@st.composite
def kron_operators(draw, square=False):
    D = draw(st.integers(1, 3))
    shapes = []
    for _ in range(D):
        r = draw(st.integers(1, 4))
        shapes.append((r, r if square else draw(st.integers(1, 4))))
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        coef = draw(st.floats(-2, 2, allow_nan=False))
        terms.append((coef, tuple(factor(draw, r, c) for r, c in shapes)))
    return fk.KronOperator(terms)


def dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def dense_kron_sum(op):
    return sum(c * functools.reduce(np.kron, [dense(F) for F in f]) for c, f in op.terms)


# ---- Kronecker identities against numpy.kron -----------------------------------------------
@given(kron_operators(), st.data())
def test_kron_operator_matches_numpy_kron(op, data):
    ref = dense_kron_sum(op)
    x = np.array(data.draw(st.lists(st.floats(-5, 5), min_size=op.shape[1], max_size=op.shape[1])))
    scale = max(1.0, np.abs(ref).max()) * max(1.0, np.abs(x).max())
    assert np.abs(op @ x - ref @ x).max() <= 1e-12 * scale
    X = np.outer(x, [1.0, -2.0])
    assert np.abs(op @ X - ref @ X).max() <= 1e-12 * scale * 2
    assert np.abs(op.toarray() - ref).max() <= 1e-13 * max(1.0, np.abs(ref).max())
    csr = op.tocsr()
    assert csr.has_canonical_format and csr.nnz <= op.nnz_bound()
    assert np.abs(csr.toarray() - ref).max() <= 1e-13 * max(1.0, np.abs(ref).max())
    assert np.abs(op.T.toarray() - ref.T).max() <= 1e-13 * max(1.0, np.abs(ref).max())
    y = np.ones(op.shape[0])
    assert np.allclose(op.aslinearoperator().rmatvec(y), ref.T @ y, atol=1e-12 * scale)


@given(kron_operators(square=True), st.data())
def test_kron_diagonal_restrict_and_compose(op, data):
    ref = dense_kron_sum(op)
    assert np.allclose(op.diagonal(), np.diag(ref), atol=1e-13)
    keep = [
        data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        for n in op.in_shape
    ]
    sub = op.restrict(keep)
    idx = np.arange(op.shape[0]).reshape(op.in_shape)[np.ix_(*keep)].ravel()
    assert np.allclose(sub.toarray(), ref[np.ix_(idx, idx)], atol=1e-13)
    other = fk.KronOperator([(1.5, tuple(np.eye(n) + 0.5 for n in op.in_shape))])
    assert np.allclose((op @ other).toarray(), ref @ dense_kron_sum(other), atol=1e-11)
    assert np.allclose((op + 2.0 * other).toarray(), ref + 2 * dense_kron_sum(other), atol=1e-12)


# ---- finite element operators --------------------------------------------------------------
@given(spaces())
def test_stiffness_and_mass_are_the_fem_kronecker_sums(V):
    Ks = [s.stiffness().toarray() for s in V.spaces]
    Ms = [s.mass().toarray() for s in V.spaces]
    K_ref = sum(
        functools.reduce(np.kron, [Ks[e] if e == d else Ms[e] for e in range(V.dim)])
        for d in range(V.dim)
    )
    M_ref = functools.reduce(np.kron, Ms)
    K, M = fk.stiffness(V).toarray(), fk.mass(V).toarray()
    assert np.allclose(K, K_ref, atol=1e-12 * np.abs(K_ref).max())
    assert np.allclose(M, M_ref, atol=1e-14 * np.abs(M_ref).max() + 1e-300)
    # symmetry, K·1 = 0, sum(M) = |Ω|, M positive definite, K semidefinite
    assert np.abs(K - K.T).max() <= 1e-12 * np.abs(K).max()
    assert np.abs(K @ np.ones(V.ndofs)).max() <= 1e-10 * np.abs(K).max()
    assert abs(M.sum() - V.volume) <= 1e-12 * V.volume
    assert np.linalg.eigvalsh(M).min() > 0
    assert np.linalg.eigvalsh(K).min() > -1e-9 * np.abs(K).max()


def brute_force_form(V, kappa, sigma):
    """Dense ∫ κ ∇u·∇v + σ u v by tensor Gauss quadrature, built with numpy.kron."""
    q = [s.order + 3 for s in V.spaces]
    B = [s.basis_at_quadrature(qd, 0).toarray() for s, qd in zip(V.spaces, q)]
    G = [s.basis_at_quadrature(qd, 1).toarray() for s, qd in zip(V.spaces, q)]
    pts, wts = zip(*[s.quadrature(qd) for s, qd in zip(V.spaces, q)])
    grid = np.meshgrid(*[p.ravel() for p in pts], indexing="ij")
    W = functools.reduce(np.kron, [w.ravel() for w in wts])
    kw = W * np.broadcast_to(kappa(*grid), grid[0].shape).ravel()
    A = 0.0
    for d in range(V.dim):
        T = functools.reduce(np.kron, [G[e] if e == d else B[e] for e in range(V.dim)])
        A = A + T.T @ (kw[:, None] * T)
    Bt = functools.reduce(np.kron, B)
    return A + sigma * Bt.T @ (W[:, None] * Bt)


@given(spaces(min_dim=2, max_dim=3, max_order=3, max_dofs=120), st.data())
def test_assembled_matrix_free_separable_and_dense_agree(V, data):
    c = data.draw(st.floats(0.0, 2.0))
    sigma = data.draw(st.floats(0.0, 3.0))
    lo = [s.mesh.a for s in V.spaces]
    hi = [s.mesh.b for s in V.spaces]

    def kappa(*xs):  # a positive polynomial coefficient that is not separable
        out = 1.0
        for x, a, b in zip(xs, lo, hi):
            out = out * (x - a) / (b - a)
        return 1.0 + c * out + 0.0 * xs[0]

    ref = brute_force_form(V, kappa, sigma)
    scale = np.abs(ref).max()
    assembled = fk.assemble(V, kappa, sigma).toarray()
    free = fk.MatrixFreeOperator(V, kappa, sigma)
    matfree = free @ np.eye(V.ndofs)
    kron = (fk.stiffness(V, kappa) + sigma * fk.mass(V)).toarray()
    for name, A in (("assembled", assembled), ("matrix-free", matfree), ("kron", kron)):
        assert np.abs(A - ref).max() <= 1e-10 * scale, name
        assert np.abs(A - A.T).max() <= 1e-10 * scale, name


# ---- boundary conditions and solvers -------------------------------------------------------
@given(spaces(max_dofs=200), st.data())
def test_fdm_solves_every_condition_mix_to_rounding(V, data):
    bc = data.draw(conditions(V))
    bcs = free_conditions(V, bc)
    A = bcs.constrain(fk.stiffness(V) + (bcs.robin_operator() or 0.0 * fk.mass(V)))
    b = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=A.shape[0], max_size=A.shape[0])))
    if bcs.singular:  # pure Neumann/periodic: the data must be compatible
        b = b - b.mean()
    assume(np.linalg.norm(b) > 1e-3)
    x, info = fk.solve(A, b, method="fdm", singular=bcs.singular)
    Ad = A.toarray()
    # symmetric; positive definite unless singular, where the constants span the kernel
    assert np.abs(Ad - Ad.T).max() <= 1e-12 * np.abs(Ad).max()
    w = np.linalg.eigvalsh(Ad)
    # a backward-stable solve: relative residual and forward error <= c·ε·κ₂(A), κ₂ on the
    # complement of the kernel when singular; c = 10 (measured c <= 0.35)
    tol = 10 * EPS * w[-1] / (w[1] if bcs.singular else w[0])
    assert info.residual <= tol
    if bcs.singular:
        assert abs(w[0]) <= 1e-9 * w[-1] and w[1] > 0
        assert abs(x.sum()) <= 1e-9 * max(1.0, np.abs(x).sum())
    else:
        assert w[0] > 0
        assert np.abs(x - np.linalg.solve(Ad, b)).max() <= tol * np.abs(x).max()


@given(spaces(min_dim=2, max_dim=2, max_order=3, max_dofs=150), st.data())
def test_solvers_agree_on_a_poisson_problem(V, data):
    bc = data.draw(conditions(V))
    assume(not free_conditions(V, bc).singular)
    kappa = data.draw(st.floats(0.1, 10.0))
    f = lambda x, y: 1.0 + x * y  # noqa: E731
    sols = {m: fk.poisson(V, f, kappa=kappa, bc=bc, method=m).values for m in ("fdm", "direct")}
    cg = fk.poisson(V, f, kappa=kappa, bc=bc, method="cg", rtol=1e-12).values
    scale = max(np.abs(sols["direct"]).max(), 1e-12)
    # forward errors <= κ₂(A) × the relative residual: c·ε for the direct solves (c = 10,
    # measured <= 0.35), and for cg its contract, <= 10 rtol (femkron/linalg/solve.py)
    bcs = free_conditions(V, bc)
    A = fk.stiffness(V, kappa) + (bcs.robin_operator() or 0.0 * fk.mass(V))
    cond = np.linalg.cond(bcs.constrain(A).toarray())
    assert np.abs(sols["fdm"] - sols["direct"]).max() <= 10 * EPS * cond * scale
    assert np.abs(cg - sols["direct"]).max() <= (10 * 1e-12 + 10 * EPS) * cond * scale
