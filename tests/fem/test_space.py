"""Space1D: dofs and 1D matrices against brute-force dense quadrature built here with plain
numpy loops over cells (Lagrange basis by the product formula, Gauss points from numpy)."""

import numpy as np
import pytest
from reference_fem import lagrange, ref_nodes

import femkron as fk


class BruteForce:
    """Dense 1D matrices by an explicit loop over cells and Gauss points."""

    def __init__(self, nodes, p, family, q):
        self.nodes, self.p, self.q = np.asarray(nodes, float), p, q
        self.n = (len(nodes) - 1) * p + 1
        self.ref = ref_nodes(p, family)
        self.xg, self.wg = np.polynomial.legendre.leggauss(q)

    def cells(self):
        p = self.p
        for e in range(len(self.nodes) - 1):
            x0, x1 = self.nodes[e], self.nodes[e + 1]
            local_nodes = x0 + (x1 - x0) * (self.ref + 1) / 2  # physical nodes of the cell
            xq = x0 + (x1 - x0) * (self.xg + 1) / 2
            wq = self.wg * (x1 - x0) / 2
            phi, dphi = lagrange(local_nodes, xq)
            yield range(e * p, e * p + p + 1), xq, wq, phi, dphi

    def matrix(self, kind, coef=lambda x: 1.0 + 0 * x):
        A = np.zeros((self.n, self.n))
        for dofs, xq, wq, phi, dphi in self.cells():
            c = coef(xq) * wq
            for a, i in enumerate(dofs):
                for b, j in enumerate(dofs):
                    if kind == "K":
                        A[i, j] += np.sum(c * dphi[:, a] * dphi[:, b])
                    elif kind == "M":
                        A[i, j] += np.sum(c * phi[:, a] * phi[:, b])
                    else:  # advection: trial derivative j, test i
                        A[i, j] += np.sum(c * dphi[:, b] * phi[:, a])
        return A

    def load(self, f):
        b = np.zeros(self.n)
        for dofs, xq, wq, phi, _ in self.cells():
            for a, i in enumerate(dofs):
                b[i] += np.sum(wq * f(xq) * phi[:, a])
        return b


MESHES = {
    "uniform": fk.Mesh1D.uniform(0.0, 1.0, 4),
    "graded": fk.Mesh1D.graded(-1.0, 2.0, 5, ratio=1.6),
    "chebyshev": fk.Mesh1D.chebyshev(0.5, 1.5, 4),
    "random": fk.Mesh1D(np.sort(np.r_[0.0, np.random.default_rng(3).uniform(0, 3, 4), 3.0])),
}
CASES = [(m, p, fam) for m in MESHES for p in (1, 2, 3, 4) for fam in ("gll", "equispaced")]
CASES += [("graded", 8, "gll"), ("graded", 12, "gll"), ("random", 8, "equispaced")]
IDS = [f"{m}-p{p}-{fam}" for m, p, fam in CASES]


def space(mesh_name, p, fam):
    return fk.Space1D(MESHES[mesh_name], order=p, nodes=fam)


def poly_coef(x):
    return 1.0 + 0.5 * x + 0.25 * x**2 - 0.1 * x**3


@pytest.mark.parametrize("mesh_name, p, fam", CASES, ids=IDS)
def test_dofs(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    m = MESHES[mesh_name]
    assert V.ndofs == m.cells * p + 1 and V.x.shape == (V.ndofs,)
    assert np.all(np.diff(V.x) > 0)
    np.testing.assert_array_equal(V.x[::p], m.nodes)  # vertices exactly
    np.testing.assert_array_equal(V.boundary_dofs, [0, V.ndofs - 1])
    np.testing.assert_array_equal(V.cell_dofs[:, 0], p * np.arange(m.cells))
    # dof coordinates are the reference nodes mapped into each cell
    for e in range(m.cells):
        mapped = m.nodes[e] + m.h[e] * (ref_nodes(p, fam) + 1) / 2
        np.testing.assert_allclose(V.x[V.cell_dofs[e]], mapped, rtol=0, atol=1e-14)


@pytest.mark.parametrize("mesh_name, p, fam", CASES, ids=IDS)
def test_constant_coefficient_matrices(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    bf = BruteForce(MESHES[mesh_name].nodes, p, fam, q=p + 2)
    for kind, A in (("K", V.stiffness()), ("M", V.mass()), ("C", V.advection())):
        assert isinstance(A, type(V.stiffness())) and A.format == "csr"
        ref = bf.matrix(kind)
        np.testing.assert_allclose(A.toarray(), ref, rtol=0, atol=1e-11 * np.abs(ref).max())


@pytest.mark.parametrize("mesh_name, p, fam", CASES, ids=IDS)
def test_polynomial_coefficient_is_integrated_exactly(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    bf = BruteForce(MESHES[mesh_name].nodes, p, fam, q=p + 4)  # exact for these integrands
    for kind, A in (
        ("K", V.stiffness(poly_coef)),
        ("M", V.mass(poly_coef)),
        ("C", V.advection(poly_coef)),
    ):
        ref = bf.matrix(kind, poly_coef)
        np.testing.assert_allclose(A.toarray(), ref, rtol=0, atol=1e-11 * np.abs(ref).max())
    # a number is a constant coefficient
    np.testing.assert_allclose(V.stiffness(2.5).toarray(), 2.5 * V.stiffness().toarray())


@pytest.mark.parametrize("mesh_name, p, fam", CASES[::5], ids=IDS[::5])
def test_smooth_coefficient_converges_to_the_integral(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    coef = lambda x: np.exp(np.sin(2 * x))  # noqa: E731
    ref = BruteForce(MESHES[mesh_name].nodes, p, fam, q=30).matrix("K", coef)
    np.testing.assert_allclose(
        V.stiffness(coef, quad=30).toarray(), ref, atol=1e-11 * abs(ref).max()
    )
    # values given at the Gauss points are used as they are
    xq, _ = V.quadrature(30)
    np.testing.assert_allclose(V.stiffness(coef(xq)).toarray(), ref, atol=1e-11 * abs(ref).max())


@pytest.mark.parametrize("mesh_name, p, fam", CASES, ids=IDS)
def test_matrix_identities(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    K, M, C = V.stiffness().toarray(), V.mass().toarray(), V.advection().toarray()
    length = MESHES[mesh_name].length
    np.testing.assert_allclose(K @ np.ones(V.ndofs), 0.0, atol=1e-10 * abs(K).max())
    assert M.sum() == pytest.approx(length, rel=1e-13)
    np.testing.assert_allclose(K, K.T, atol=1e-12 * abs(K).max())
    np.testing.assert_allclose(M, M.T, atol=1e-14)
    assert np.linalg.eigvalsh(M).min() > 0
    ev = np.linalg.eigvalsh(K)
    assert abs(ev[0]) < 1e-9 * ev[-1] and ev[1] > 1e-9 * ev[-1]  # one-dimensional kernel
    # integration by parts: C + Cᵀ = e_n e_nᵀ - e_0 e_0ᵀ
    B = np.zeros_like(C)
    B[0, 0], B[-1, -1] = -1.0, 1.0
    np.testing.assert_allclose(C + C.T, B, atol=1e-12 * max(1, abs(C).max()))
    # x' = 1, so C x = ∫ φ_i = M 1
    np.testing.assert_allclose(C @ V.x, M @ np.ones(V.ndofs), atol=1e-12)
    # the stiffness energy of x is ∫ 1 = length
    assert V.x @ K @ V.x == pytest.approx(length, rel=1e-11)


@pytest.mark.parametrize("mesh_name, p, fam", CASES, ids=IDS)
def test_load_vector(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    bf = BruteForce(MESHES[mesh_name].nodes, p, fam, q=p + 6)
    poly = lambda x: 1 - 2 * x + x**3  # noqa: E731
    np.testing.assert_allclose(V.load(poly), bf.load(poly), atol=1e-12)
    smooth = lambda x: np.cos(3 * x)  # noqa: E731
    ref = BruteForce(MESHES[mesh_name].nodes, p, fam, q=25).load(smooth)
    np.testing.assert_allclose(V.load(smooth, quad=25), ref, atol=1e-13)
    # the default rule (p + 3 Gauss points, exact for f of degree p + 5) is not exact for
    # cos; the same rule in the independent loop gives the same numbers to rounding
    same_rule = BruteForce(MESHES[mesh_name].nodes, p, fam, q=p + 3).load(smooth)
    np.testing.assert_allclose(V.load(smooth), same_rule, atol=1e-13)
    np.testing.assert_allclose(V.load(2.0), 2.0 * V.mass() @ np.ones(V.ndofs), atol=1e-13)


@pytest.mark.parametrize("mesh_name, p, fam", CASES, ids=IDS)
def test_eval_matrix_against_direct_evaluation(mesh_name, p, fam):
    V = space(mesh_name, p, fam)
    m = MESHES[mesh_name]
    rng = np.random.default_rng(p)
    pts = np.concatenate([rng.uniform(m.a, m.b, 40), m.nodes, V.x])
    u = rng.standard_normal(V.ndofs)
    E, D = V.eval_matrix(pts), V.eval_matrix(pts, derivative=1)
    assert E.shape == (pts.size, V.ndofs)
    for k, x in enumerate(pts):
        e = min(max(int(np.searchsorted(m.nodes, x)) - 1, 0), m.cells - 1)
        local = m.nodes[e] + m.h[e] * (ref_nodes(p, fam) + 1) / 2
        phi, dphi = lagrange(local, np.array([x]))
        dofs = slice(e * p, e * p + p + 1)
        assert (E @ u)[k] == pytest.approx(phi[0] @ u[dofs], abs=1e-11)
        if not np.any(np.isclose(x, m.nodes[1:-1])):  # derivative jumps at interior vertices
            assert (D @ u)[k] == pytest.approx(dphi[0] @ u[dofs], rel=1e-9, abs=1e-9)
    # nodal: evaluating at the dof coordinates gives the dofs back
    np.testing.assert_allclose(V.eval_matrix(V.x) @ u, u, atol=1e-12)
    # polynomials of degree p are reproduced anywhere
    f = lambda x: (x - 0.3) ** p  # noqa: E731
    df = lambda x: p * (x - 0.3) ** (p - 1)  # noqa: E731
    np.testing.assert_allclose(E @ V.interpolate(f), f(pts), atol=1e-10)
    np.testing.assert_allclose(D @ V.interpolate(f), df(pts), atol=1e-8)


@pytest.mark.parametrize("mesh_name", list(MESHES))
@pytest.mark.parametrize("p", [1, 2, 3, 4, 7])
def test_lumped_mass(mesh_name, p):
    V = space(mesh_name, p, "gll")
    L = V.mass(lumped=True)
    assert L.format == "csr" and L.nnz == V.ndofs  # diagonal
    # GLL quadrature integrates each basis function exactly: lumped = row sums of M
    np.testing.assert_allclose(L.diagonal(), V.mass().toarray().sum(axis=1), rtol=1e-12)
    assert np.all(L.diagonal() > 0)
    # with a coefficient: nodal rule with the coefficient at the nodes
    c = lambda x: 2.0 + x  # noqa: E731
    _, w = fk.gauss_lobatto(p + 1)
    diag = np.zeros(V.ndofs)
    for e in range(V.mesh.cells):
        diag[V.cell_dofs[e]] += w * V.mesh.h[e] / 2 * c(V.x[V.cell_dofs[e]])
    np.testing.assert_allclose(V.mass(c, lumped=True).diagonal(), diag, rtol=1e-13)


def test_lumped_mass_needs_gll():
    V = fk.Space1D(fk.Mesh1D.uniform(0, 1, 2), order=2, nodes="equispaced")
    with pytest.raises(fk.FemkronValueError, match="lumped=True needs nodes='gll'"):
        V.mass(lumped=True)


def test_boundary_point_matrices():
    V = fk.Space1D(fk.Mesh1D.uniform(0, 1, 3), order=2)
    assert V.boundary("left").toarray()[0, 0] == 1.0 and V.boundary("left").nnz == 1
    assert V.boundary("right").toarray()[-1, -1] == 1.0
    with pytest.raises(fk.FemkronValueError, match="side must be 'left' or 'right', got 'top'"):
        V.boundary("top")


def test_basis_at_quadrature_integrates():
    V = fk.Space1D(fk.Mesh1D.graded(0, 2, 3, ratio=1.5), order=3)
    B, Bd = V.basis_at_quadrature(5), V.basis_at_quadrature(5, derivative=1)
    _, w = V.quadrature(5)
    u = V.interpolate(lambda x: x**3)
    assert w.ravel() @ (B @ u) == pytest.approx(4.0, rel=1e-13)  # ∫_0^2 x³
    assert w.ravel() @ (Bd @ u) == pytest.approx(8.0, rel=1e-13)  # ∫_0^2 3x²


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda V: fk.Space1D([0, 1], order=1), TypeError, "mesh must be a Mesh1D, got list"),
        (lambda V: fk.Space1D(V.mesh, order=0), ValueError, "order must be >= 1, got 0"),
        (lambda V: fk.Space1D(V.mesh, order=25), ValueError, "order must be <= 24"),
        (lambda V: fk.Space1D(V.mesh, order=1.5), TypeError, "order must be an integer"),
        (lambda V: fk.Space1D(V.mesh, 2, nodes="gauss"), ValueError, "nodes must be one of"),
        (lambda V: V.stiffness("x"), TypeError, "coef must be None, a number, a callable"),
        (lambda V: V.stiffness(np.nan), ValueError, "coef must be finite"),
        (lambda V: V.mass(np.ones((3, 2))), ValueError, r"coef given as an array .* \(4, 2\)"),
        (lambda V: V.mass(lambda x: np.ones(3)), ValueError, r"coef \(<lambda>\) returned an"),
        (lambda V: V.stiffness(lambda x: np.nan * x), ValueError, "coef .* NaN"),
        (lambda V: V.load(lambda x: x[:2]), ValueError, r"f \(<lambda>\) returned an array"),
        (lambda V: V.load(lambda x: x / 0.0), ValueError, "f .* NaN or inf"),
        (lambda V: V.load("f"), TypeError, "f must be a number or a callable"),
        (lambda V: V.eval_matrix([2.0]), ValueError, "points must lie in the mesh interval"),
        (lambda V: V.eval_matrix([0.5], derivative=2), ValueError, "derivative must be 0 or 1"),
        (lambda V: V.basis_at_quadrature(3, derivative=2), ValueError, "derivative must be"),
        (lambda V: V.stiffness(quad=0), ValueError, "quad must be >= 1, got 0"),
        (lambda V: V.quadrature(0), ValueError, "points must be >= 1"),
    ],
)
def test_bad_input(call, error, match):
    V = fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), order=1)
    with np.errstate(all="ignore"), pytest.raises(fk.FemkronError, match=match) as info:
        call(V)
    assert isinstance(info.value, error)
