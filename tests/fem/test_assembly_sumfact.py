"""Sum-factorised assembly (fk.assemble) against brute-force element loops and scikit-fem.

The reference here is written independently of femkron's element code: Lagrange bases on
equispaced reference nodes (Q1/Q2: equispaced and GLL nodes coincide), numpy's Gauss-Legendre
points, a Python loop over the cells, the element matrices summed into a dense matrix, the
dofs located by their coordinates.
"""

import itertools

import numpy as np
import pytest

import femkron as fk


def lagrange(nodes, t):
    """Values and derivatives of the Lagrange basis on ``nodes`` at the points ``t``."""
    n = len(nodes)
    vals = np.ones((len(t), n))
    ders = np.zeros((len(t), n))
    for a in range(n):
        others = [nodes[c] for c in range(n) if c != a]
        den = np.prod([nodes[a] - o for o in others])
        vals[:, a] = np.prod([t - o for o in others], axis=0) / den
        for k in range(n - 1):
            rest = [o for i, o in enumerate(others) if i != k]
            ders[:, a] += np.prod([t - o for o in rest], axis=0) / den if rest else 1.0 / den
    return vals, ders


def brute_force(V, kappa, sigma, q):
    """Dense ``∫ κ∇u·∇v + σ u v`` by a loop over the cells with a ``q``-point Gauss rule."""
    D = V.dim
    xs = [s.x for s in V.spaces]
    g, w = np.polynomial.legendre.leggauss(q)
    A = np.zeros((V.ndofs, V.ndofs))
    cells = [s.mesh.cells for s in V.spaces]
    for cell in itertools.product(*[range(c) for c in cells]):
        idx1, vals1, ders1, pts1, wts1 = [], [], [], [], []
        for d, s in enumerate(V.spaces):
            a, b = s.mesh.nodes[cell[d]], s.mesh.nodes[cell[d] + 1]
            ref = np.linspace(-1.0, 1.0, s.order + 1)
            phys = a + (ref + 1) * (b - a) / 2
            idx1.append([int(np.argmin(np.abs(xs[d] - p))) for p in phys])  # dofs by place
            vals, ders = lagrange(ref, g)
            vals1.append(vals)
            ders1.append(ders * 2 / (b - a))
            pts1.append(a + (g + 1) * (b - a) / 2)
            wts1.append(w * (b - a) / 2)
        grid = np.meshgrid(*idx1, indexing="ij")
        idx = np.ravel_multi_index(grid, V.shape).ravel()  # local dofs in C order
        for qs in itertools.product(range(q), repeat=D):
            pt = [pts1[d][qs[d]] for d in range(D)]
            wt = np.prod([wts1[d][qs[d]] for d in range(D)])
            v = np.ones(1)
            for d in range(D):
                v = np.multiply.outer(v, vals1[d][qs[d]]).ravel()
            grads = []
            for e in range(D):
                ge = np.ones(1)
                for d in range(D):
                    row = ders1[d][qs[d]] if d == e else vals1[d][qs[d]]
                    ge = np.multiply.outer(ge, row).ravel()
                grads.append(ge)
            G = np.array(grads)  # (D, local dofs)
            local = wt * (kappa(*pt) * G.T @ G + sigma(*pt) * np.outer(v, v))
            A[np.ix_(idx, idx)] += local
    return A


def kappa_exp(*x):
    return np.exp(x[0] - 0.5 * x[1] ** 2) * (1.0 + 0.3 * np.cos(3 * x[-1]))


def sigma_poly(*x):
    return 0.5 + x[0] * x[-1]


CASES = [(2, 1, (3, 4)), (2, 2, (2, 3)), (3, 1, (2, 3, 2)), (3, 2, (1, 2, 2))]


@pytest.mark.parametrize("dim, p, cells", CASES, ids=[f"{d}D-Q{p}" for d, p, _ in CASES])
@pytest.mark.parametrize("extra", [1, 2], ids=["q=p+1", "q=p+2"])
def test_against_brute_force(dim, p, cells, extra):
    """Every entry, with and without Dirichlet rows, on graded meshes.

    Both sides apply the same Gauss rule to the same integrand, so they differ by rounding
    only: a few ulps of the largest entry per quadrature sum (tolerance 1e-12 relative).
    """
    meshes = [fk.Mesh1D.graded(0.0, 1.0 + 0.5 * d, c, ratio=1.4) for d, c in enumerate(cells)]
    V = fk.TensorSpace([fk.Space1D(m, order=p) for m in meshes])
    q = p + extra
    ref = brute_force(V, kappa_exp, sigma_poly, q)
    A = fk.assemble(V, kappa_exp, sigma_poly, quad=q)
    assert A.has_canonical_format
    scale = np.abs(ref).max()
    assert np.abs(A.toarray() - ref).max() <= 1e-12 * scale
    # the free dofs of Dirichlet conditions on every face: the interior rows and columns
    bcs = fk.BoundaryConditions(V)
    inner = np.ix_(*[np.arange(1, n - 1) for n in V.shape])
    keep = np.ravel_multi_index(np.meshgrid(*inner, indexing="ij"), V.shape).ravel()
    Ad = fk.assemble(V, kappa_exp, sigma_poly, bcs=bcs, quad=q)
    assert np.abs(Ad.toarray() - ref[np.ix_(keep, keep)]).max() <= 1e-12 * scale
    # negative control: one Gauss point fewer changes the matrix far beyond rounding
    fewer = fk.assemble(V, kappa_exp, sigma_poly, quad=q - 1)
    assert np.abs(fewer.toarray() - ref).max() > 1e-6 * scale


def test_periodic_axis_against_brute_force():
    """A periodic axis merges the first and last dofs: Pᵀ A P of the brute-force matrix."""
    V = fk.TensorSpace([fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), order=2)] * 2)
    bcs = fk.BoundaryConditions(V, {"x": fk.Periodic()})
    ref = brute_force(V, kappa_exp, sigma_poly, 3)
    P = np.kron(bcs.P[0].toarray(), bcs.P[1].toarray())  # dof grid in C order
    A = fk.assemble(V, kappa_exp, sigma_poly, bcs=bcs, quad=3)
    expected = P.T @ ref @ P
    assert np.abs(A.toarray() - expected).max() <= 1e-12 * np.abs(ref).max()


@pytest.mark.parametrize("dim, p", [(2, 1), (2, 2), (3, 1), (3, 2)])
def test_matrix_free_operator_is_the_same_operator(dim, p):
    """MatrixFreeOperator.tocsr (this assembler) and its sum-factorised product agree.

    Two different code paths (the scatter of Kronecker-ordered values into CSR, and the
    matrix-free product) on a random vector: rounding only (1e-12 relative).
    """
    V = fk.TensorSpace.box([(0, 1)] * dim, cells=[4, 3, 2][:dim], order=p)
    bcs = fk.BoundaryConditions(V, {"left": fk.Neumann(0.0)} if dim == 2 else {})
    A = fk.MatrixFreeOperator(V, kappa_exp, sigma=sigma_poly, bcs=bcs, quad=p + 1)
    x = np.random.default_rng(3).standard_normal(A.shape[0])
    y = A @ x
    assert np.abs(A.tocsr() @ x - y).max() <= 1e-12 * np.abs(y).max()


# ---- the stencil form (fem/stencil.py): Q1 boxes stored by diagonals -----------------------
STENCIL_CASES = [(2, (4, 5)), (3, (4, 5, 4))]


@pytest.mark.parametrize("dim, cells", STENCIL_CASES, ids=[f"{d}D" for d, _ in STENCIL_CASES])
@pytest.mark.parametrize("faces", ["dirichlet", "neumann-left", "none"])
def test_stencil_against_brute_force(dim, cells, faces):
    """The diagonals hold every entry of the brute-force matrix, products included.

    Same Gauss rule, same integrand: rounding only (1e-12 relative), on graded meshes.
    """
    from femkron.fem.stencil import assemble_stencil

    meshes = [fk.Mesh1D.graded(0.0, 1.0 + 0.5 * d, c, ratio=1.4) for d, c in enumerate(cells)]
    V = fk.TensorSpace([fk.Space1D(m, order=1) for m in meshes])
    ref = brute_force(V, kappa_exp, sigma_poly, 2)
    if faces == "none":
        bcs, keep = None, np.arange(V.ndofs)
    else:
        bcs = fk.BoundaryConditions(V, {"left": fk.Neumann(0.0)} if faces != "dirichlet" else {})
        fixed = np.zeros(V.ndofs, bool)
        for d, P in enumerate(bcs.P):
            free1 = np.asarray(P.sum(axis=1)).ravel() > 0
            shape = [1] * dim
            shape[d] = -1
            fixed |= np.broadcast_to(~free1.reshape(shape), V.shape).ravel()
        keep = np.flatnonzero(~fixed)
    expected = ref[np.ix_(keep, keep)]
    S = assemble_stencil(V, kappa_exp, sigma_poly, bcs=bcs, quad=2)
    assert S is not None and S.format == "stencil"
    scale = np.abs(ref).max()
    assert np.abs(S.tocsr().toarray() - expected).max() <= 1e-12 * scale
    x = np.random.default_rng(dim).standard_normal(S.shape[0])
    assert np.abs(S @ x - expected @ x).max() <= 1e-12 * scale * np.abs(x).sum()
    assert np.abs(S.diagonal() - np.diag(expected)).max() <= 1e-12 * scale
    # only the diagonals on and above the main one are stored: (3^D + 1) / 2 of them
    assert S.offsets.size == (3**dim + 1) // 2 and np.all(S.offsets >= 0)


def test_stencil_is_refused_where_the_pattern_is_no_full_band():
    """Q2 rows differ in length, periodic axes wrap, Robin adds face terms, tiny axes alias."""
    from femkron.fem.stencil import assemble_stencil

    k = kappa_exp
    q2 = fk.TensorSpace.box([(0, 1)] * 2, cells=4, order=2)
    q1 = fk.TensorSpace.box([(0, 1)] * 2, cells=6, order=1)
    assert assemble_stencil(q2, k, bcs={}) is None
    assert assemble_stencil(q1, k, bcs={"x": fk.Periodic()}) is None
    assert assemble_stencil(q1, k, bcs={"left": fk.Robin(1.0, 0.0)}) is None
    tiny = fk.TensorSpace.box([(0, 1)] * 3, cells=3, order=1)  # 2 free dofs per axis
    assert assemble_stencil(tiny, k, bcs={}) is None
    assert assemble_stencil(q1, k, bcs={}) is not None  # the control
    disk = fk.TensorSpace.disk(1.0, cells=(4, 8), order=1)
    outer = fk.BoundaryConditions(disk, {"outer": fk.Dirichlet(0.0)})
    op = fk.MatrixFreeOperator(disk, 1.0, bcs=outer)
    assert op.tostencil() is None  # the pole constraint is no stencil


def test_symmetric_stencil_checks_its_input():
    from femkron.errors import FemkronValueError
    from femkron.fem.stencil import SymmetricStencil

    with pytest.raises(FemkronValueError, match="upper diagonals"):
        SymmetricStencil(np.ones((2, 4)), np.array([0, -1]), (4, 4))
    with pytest.raises(FemkronValueError, match="upper diagonals"):
        SymmetricStencil(np.ones((2, 3)), np.array([0, 1]), (4, 4))
    S = SymmetricStencil(np.ones((1, 4)), np.array([0]), (4, 4))
    with pytest.raises(FemkronValueError, match="cannot apply"):
        S @ np.ones(3)
    # the spellings of scipy's matrices, against numpy on the dense tridiagonal matrix
    T = SymmetricStencil(np.array([[2.0] * 4, [0.0, -1.0, -1.0, -1.0]]), np.array([0, 1]), (4, 4))
    dense = 2 * np.eye(4) - np.eye(4, k=1) - np.eye(4, k=-1)
    x = np.arange(1.0, 5.0)
    assert np.array_equal(T.toarray(), dense)
    assert np.allclose(T.dot(x), dense @ x) and np.allclose(T.matvec(x), dense @ x)
    assert "2 stored diagonals" in repr(T)


def test_solver_home_applies_the_stencil():
    """make_solver's assembled fdm-CG path multiplies by the stencil and solves the system."""
    import scipy.sparse.linalg as spla

    V = fk.TensorSpace.box([(0, 1)] * 3, cells=12, order=1)
    bcs = fk.BoundaryConditions(V)
    A = fk.MatrixFreeOperator(V, kappa_exp, bcs=bcs, quad=2)
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    solver = fk.make_solver(A, "auto", rtol=1e-10)
    x = solver.solve(b)
    assert solver.plan.operator == "csr"  # the cost model assembles (its constants decide)
    assert "diagonals on and above" in solver.info.note
    C = fk.assemble(V, kappa_exp, bcs=bcs, quad=2)
    exact = spla.spsolve(C.tocsc(), b)
    # CG stops at ‖r‖ ≤ 1e-10 ‖b‖: the error is below cond(A) times that
    assert np.linalg.norm(x - exact) <= 1e-10 * 1e3 * np.linalg.norm(exact)
