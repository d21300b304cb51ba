"""Tensor-product spaces and their operators against dense references: ``numpy.kron`` of the
1D matrices, and brute-force assembly over the cells of the box (tests/reference_fem.py)."""

import functools
import operator

import numpy as np
import pytest
import scipy.sparse as sp
from reference_fem import assemble

import femkron as fk


def kron(*mats):
    return functools.reduce(np.kron, [m.toarray() if sp.issparse(m) else m for m in mats])


def kron_sum(K, M):
    """Σ_d M_1⊗…⊗K_d⊗…⊗M_D from per-axis dense lists."""
    D = len(K)
    return sum(kron(*[K[e] if e == d else M[e] for e in range(D)]) for d in range(D))


def make_space(dim, orders, family, graded):
    bounds = [(0.0, 1.0), (-0.5, 1.0), (0.25, 1.0)][:dim]
    cells = [3, 2, 2][:dim]
    spaces = []
    for d in range(dim):
        a, b = bounds[d]
        m = (
            fk.Mesh1D.graded(a, b, cells[d], ratio=1.7 - 0.3 * d)
            if graded
            else fk.Mesh1D.uniform(a, b, cells[d])
        )
        spaces.append(fk.Space1D(m, order=orders[d], nodes=family))
    return fk.TensorSpace(spaces)


CASES = []
for dim in (1, 2, 3):
    for p in (1, 2, 3, 4):
        if dim == 3 and p == 4:
            continue
        for family in ("gll", "equispaced"):
            for graded in (False, True):
                CASES.append((dim, (p,) * dim, family, graded))
CASES += [
    (2, (1, 3), "gll", True),
    (3, (2, 1, 3), "equispaced", False),
    (3, (4, 4, 1), "gll", True),
]
IDS = [
    f"{d}d-p{'.'.join(map(str, o))}-{fam}-{'graded' if g else 'uniform'}" for d, o, fam, g in CASES
]


@pytest.fixture(params=CASES, ids=IDS)
def V(request):
    return make_space(*request.param)


def one_d(V):
    return (
        [s.stiffness().toarray() for s in V.spaces],
        [s.mass().toarray() for s in V.spaces],
        [s.advection().toarray() for s in V.spaces],
    )


def axes_of(V):
    return [(s.mesh.nodes, s.order, s.nodes) for s in V.spaces]


def test_space_structure(V):
    assert V.dim == len(V.spaces) and V.shape == tuple(s.ndofs for s in V.spaces)
    assert V.ndofs == int(np.prod(V.shape))
    grids = V.grid()
    assert len(grids) == V.dim and all(g.shape == V.shape for g in grids)
    for d, g in enumerate(grids):  # indexing="ij": axis d varies along array axis d
        idx = [0] * V.dim
        idx[d] = slice(None)
        np.testing.assert_array_equal(g[tuple(idx)], V.spaces[d].x)
    assert V.volume == pytest.approx(np.prod([b - a for a, b in V.bounds]))


def test_operators_equal_numpy_kron(V):
    K, M, C = one_d(V)
    A = fk.stiffness(V)
    assert isinstance(A, fk.KronOperator) and A.shape == (V.ndofs, V.ndofs)
    ref = kron_sum(K, M)
    np.testing.assert_allclose(A.toarray(), ref, atol=1e-12 * abs(ref).max())
    np.testing.assert_allclose(A.tocsr().toarray(), ref, atol=1e-12 * abs(ref).max())
    np.testing.assert_allclose(fk.mass(V).toarray(), kron(*M), atol=1e-15)
    np.testing.assert_allclose(
        fk.stiffness(V, kappa=2.5).toarray(), 2.5 * ref, atol=1e-12 * abs(ref).max()
    )
    b = np.array([0.7, -1.3, 0.4])[: V.dim]
    refc = sum(b[d] * kron(*[C[e] if e == d else M[e] for e in range(V.dim)]) for d in range(V.dim))
    np.testing.assert_allclose(fk.advection(V, b).toarray(), refc, atol=1e-13)
    u = np.random.default_rng(0).standard_normal(V.ndofs)
    np.testing.assert_allclose(A @ u, ref @ u, atol=1e-10 * abs(ref).max())


def test_operators_equal_brute_force_assembly(V):
    # independent of the Kronecker structure: loops over the cells of the box
    b = np.array([0.7, -1.3, 0.4])[: V.dim]
    f = lambda *x: 1.0 + sum((d + 1) * xd**2 for d, xd in enumerate(x))  # noqa: E731
    K, M, C, load = assemble(axes_of(V), q=max(V.orders) + 2, f=f, velocity=b)
    np.testing.assert_allclose(fk.stiffness(V).toarray(), K, atol=1e-11 * abs(K).max())
    np.testing.assert_allclose(fk.mass(V).toarray(), M, atol=1e-14)
    np.testing.assert_allclose(fk.advection(V, b).toarray(), C, atol=1e-12)
    np.testing.assert_allclose(fk.load_vector(V, f), load, atol=1e-13)


def test_consistency_identities(V):
    A, Mop = fk.stiffness(V), fk.mass(V)
    Ad, Md = A.toarray(), Mop.toarray()
    ones = np.ones(V.ndofs)
    np.testing.assert_allclose(A @ ones, 0.0, atol=1e-11 * abs(Ad).max())  # K·1 = 0
    assert Md.sum() == pytest.approx(V.volume, rel=1e-13)  # sum(M) = |Ω|
    assert float(Mop.tocsr().sum()) == pytest.approx(V.volume, rel=1e-13)
    np.testing.assert_allclose(Ad, Ad.T, atol=1e-12 * abs(Ad).max())
    np.testing.assert_allclose(Md, Md.T, atol=1e-15)
    assert np.linalg.eigvalsh(Md).min() > 0
    # ∫ |∇x_d|² = |Ω| for each coordinate function
    for g in V.grid():
        x = g.reshape(-1)
        assert x @ (A @ x) == pytest.approx(V.volume, rel=1e-11)
    # positive definite once the Dirichlet faces are removed
    inner = [np.arange(1, n - 1) for n in V.shape]
    flat = np.ravel_multi_index(np.ix_(*inner), V.shape).ravel()
    Ai = Ad[np.ix_(flat, flat)]
    assert np.linalg.eigvalsh(Ai).min() > 0
    Ac = fk.BoundaryConditions(V).constrain(A).toarray()
    np.testing.assert_allclose(Ac, Ai, atol=1e-14)


def test_finite_difference_shortcut_is_not_the_fem_operator():
    # K⊗I + I⊗K (with identities instead of masses) fails the consistency checks
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(4, 3), order=1)
    Kx, Ky = (s.stiffness() for s in V.spaces)
    Ix, Iy = (sp.identity(s.ndofs) for s in V.spaces)
    fd = fk.KronOperator([(1.0, (Kx, Iy)), (1.0, (Ix, Ky))])
    x = V.grid()[0].reshape(-1)
    assert abs(x @ (fd @ x) - V.volume) > 0.5
    assert x @ (fk.stiffness(V) @ x) == pytest.approx(V.volume, rel=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("graded", [False, True])
def test_separable_coefficient(dim, graded):
    V = make_space(dim, (2, 3, 1)[:dim], "gll", graded)
    fs = (lambda x: 1 + x**2, lambda y: 2 + np.sin(y), lambda z: np.exp(z))[:dim]
    A = fk.stiffness(V, kappa=fs)
    assert len(A.terms) == dim  # still one Kronecker sum
    K = [s.stiffness(c).toarray() for s, c in zip(V.spaces, fs)]
    M = [s.mass(c).toarray() for s, c in zip(V.spaces, fs)]
    np.testing.assert_allclose(A.toarray(), kron_sum(K, M), atol=1e-12)
    prod = lambda *x: functools.reduce(operator.mul, [g(xd) for g, xd in zip(fs, x)])  # noqa: E731
    Kb, _, _, _ = assemble(axes_of(V), q=[2 * p + 2 for p in V.orders], kappa=prod)
    np.testing.assert_allclose(A.toarray(), Kb, rtol=0, atol=1e-11 * abs(Kb).max())
    # the same coefficient as a general callable of all coordinates: a rank-1 expansion,
    # integrated with the Gauss points the expansion reports
    e = fk.separable_expansion(V, prod)
    assert e.rank == 1 and e.error < 1e-12
    Kq, _, _, _ = assemble(axes_of(V), q=e.quad, kappa=prod)
    np.testing.assert_allclose(fk.stiffness(V, prod).toarray(), Kq, atol=1e-11 * abs(Kq).max())
    Mc = fk.mass(V, coef=fs).toarray()
    np.testing.assert_allclose(Mc, kron(*M), atol=1e-13)
    # numbers inside the tuple are constant factors
    mixed = (2.0,) + fs[1:]
    K2 = [s.stiffness(c).toarray() for s, c in zip(V.spaces, mixed)]
    M2 = [s.mass(c).toarray() for s, c in zip(V.spaces, mixed)]
    np.testing.assert_allclose(fk.stiffness(V, mixed).toarray(), kron_sum(K2, M2), atol=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
def test_general_coefficient_against_brute_force(dim):
    V = make_space(dim, (2, 1, 2)[:dim], "gll", True)
    # a polynomial of degree <= 1 per axis is integrated exactly by the default p + 1 points
    # (degree 2p + 1 per axis: the coefficient's 1 plus the basis functions' 2p)
    poly = lambda *x: 1.0 + 0.5 * functools.reduce(operator.mul, x) + x[0]  # noqa: E731
    smooth = lambda *x: np.exp(0.5 * functools.reduce(operator.mul, x)) + np.cos(x[-1]) ** 2  # noqa: E731
    Kb, _, _, _ = assemble(axes_of(V), q=[2 * p + 4 for p in V.orders], kappa=poly)
    for A in (fk.stiffness(V, poly), fk.stiffness(V, poly).tocsr()):
        np.testing.assert_allclose(A.toarray(), Kb, atol=1e-11 * abs(Kb).max())
    e = fk.separable_expansion(V, poly)
    assert e.error < 1e-12 and e.rank <= 2 ** (dim - 1)
    # a smooth non-separable coefficient: the expansion's quadrature, to its tolerance
    e = fk.separable_expansion(V, smooth)
    assert e.error < 1e-10
    Kq, _, _, _ = assemble(axes_of(V), q=e.quad, kappa=smooth)
    A = fk.stiffness(V, smooth)
    np.testing.assert_allclose(A.toarray(), Kq, atol=1e-10 * abs(Kq).max())
    np.testing.assert_allclose(A.tocsr().toarray(), Kq, atol=1e-10 * abs(Kq).max())
    # and it is close to the exact integrals (a much stronger rule): the error of a Gauss
    # rule is estimated, to leading order, by its difference from the rule with one more
    # point per axis; twice that estimate bounds it
    Kx, _, _, _ = assemble(axes_of(V), q=[p + 8 for p in V.orders], kappa=smooth)
    K1, _, _, _ = assemble(axes_of(V), q=[q + 1 for q in e.quad], kappa=smooth)
    assert abs(A.toarray() - Kx).max() <= 2 * abs(Kq - K1).max() + 1e-12 * abs(Kx).max()


def test_load_vector_forms(V):
    f = lambda *x: np.cos(sum(x)) * (1 + x[0])  # noqa: E731
    _, _, _, ref = assemble(axes_of(V), q=[p + 1 for p in V.orders], f=f)
    b = fk.load_vector(V, f)
    assert b.shape == (V.ndofs,)
    np.testing.assert_allclose(b, ref, atol=1e-13)
    # a number, and a tuple of per-axis factors (a separable f)
    np.testing.assert_allclose(fk.load_vector(V, 2.0), 2.0 * fk.mass(V) @ np.ones(V.ndofs))
    gs = (np.cos, lambda y: 1 + y, lambda z: z**2)[: V.dim]
    _, _, _, ref2 = assemble(
        axes_of(V),
        q=max(V.orders) + 4,
        f=lambda *x: functools.reduce(operator.mul, [g(xd) for g, xd in zip(gs, x)]),
    )
    np.testing.assert_allclose(fk.load_vector(V, gs, quad=max(V.orders) + 4), ref2, atol=1e-13)
    # a small slab size gives the same result (the first axis is processed in slabs)
    np.testing.assert_allclose(fk.load_vector(V, f, chunk_bytes=1), b, atol=1e-14)


def test_box_and_from_mesh():
    V = fk.TensorSpace.box([(0, 1), (0, 2), (1, 3)], cells=(2, 3, 1), order=(1, 2, 3))
    assert V.shape == (3, 7, 4) and V.orders == (1, 2, 3)
    assert V.bounds == ((0.0, 1.0), (0.0, 2.0), (1.0, 3.0))
    W = fk.TensorSpace.box([(0, 1)] * 2, cells=2, order=2, nodes=("gll", "equispaced"))
    assert [s.nodes for s in W.spaces] == ["gll", "equispaced"]
    tm = fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 2), fk.Mesh1D.graded(0, 1, 3, 1.5)])
    X = fk.TensorSpace.from_mesh(tm, order=2)
    assert X.shape == (5, 7) and X.spaces[1].mesh == tm[1]
    assert fk.TensorSpace(fk.Space1D(tm[0], 1)).shape == (3,)
    # 4 axes work the same way
    V4 = fk.TensorSpace.box([(0, 1)] * 4, cells=1, order=1)
    A4 = fk.stiffness(V4)
    assert A4.shape == (16, 16) and abs(A4 @ np.ones(16)).max() < 1e-14
    assert fk.mass(V4).toarray().sum() == pytest.approx(1.0)


def test_interpolate_and_evaluate(V):
    f = lambda *x: sum((d + 1) * xd for d, xd in enumerate(x)) + 0.5  # noqa: E731
    u = V.interpolate(f)
    assert u.shape == V.shape
    np.testing.assert_allclose(u, f(*V.grid()), atol=1e-14)
    pts = [np.linspace(a, b, 4) for a, b in V.bounds]
    values = V.evaluate(u, pts)
    np.testing.assert_allclose(values, f(*np.meshgrid(*pts, indexing="ij")), atol=1e-12)
    np.testing.assert_allclose(V.evaluate(u.reshape(-1), pts), values)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda V: fk.TensorSpace([]), ValueError, "spaces must hold at least one"),
        (lambda V: fk.TensorSpace([V.spaces[0], 3]), TypeError, r"spaces\[1\] must be a Space1D"),
        (lambda V: fk.TensorSpace(5), TypeError, "spaces must be a sequence"),
        (lambda V: fk.TensorSpace.box([(0, 1, 2)], 2), ValueError, "bounds must be"),
        (lambda V: fk.TensorSpace.box([(0, 1)] * 2, (2, 2, 2)), ValueError, "cells must be"),
        (lambda V: fk.TensorSpace.box([(0, 1)] * 2, 2, order=(1, 0)), ValueError, "order"),
        (lambda V: fk.TensorSpace.box([(0, 1)], 2, nodes="lobatto"), ValueError, "nodes must"),
        (lambda V: fk.stiffness("V"), TypeError, "V must be a TensorSpace"),
        (lambda V: fk.stiffness(V, kappa=-1.0), ValueError, "kappa must be > 0"),
        (lambda V: fk.stiffness(V, kappa=0.0), ValueError, "kappa must be > 0"),
        (lambda V: fk.stiffness(V, kappa=(1.0,)), ValueError, "kappa given per axis must have 2"),
        (lambda V: fk.stiffness(V, kappa=(1.0, "b")), TypeError, r"kappa\[1\] must be"),
        (lambda V: fk.stiffness(V, kappa=(1.0, lambda y: y - 5)), ValueError, r"kappa\[1\] must"),
        (lambda V: fk.stiffness(V, kappa=lambda x, y: x - 2), ValueError, "kappa must be > 0"),
        (lambda V: fk.stiffness(V, kappa="1"), TypeError, "kappa must be"),
        (lambda V: fk.load_vector(V, lambda x, y: np.ones(3)), ValueError, r"f \(<lambda>\)"),
        (lambda V: fk.load_vector(V, lambda x, y: x / 0 * y), ValueError, "NaN or inf"),
        (lambda V: fk.load_vector(V, lambda x: x), ValueError, "f"),
        (lambda V: fk.load_vector(V, "f"), TypeError, "f must be a number, a callable"),
        (lambda V: fk.load_vector(V, (np.cos,)), ValueError, "f given per axis must have 2"),
        (lambda V: fk.advection(V, (1.0,)), ValueError, "velocity must have 2 components"),
        (lambda V: fk.advection(V, (1.0, np.nan)), ValueError, "velocity must be finite"),
        (lambda V: fk.advection(V, ("a", "b")), TypeError, "velocity must be"),
        (lambda V: V.evaluate(np.ones(7), [[0.5], [0.5]]), ValueError, "u"),
        (lambda V: V.evaluate(np.ones(V.ndofs), [[0.5]]), ValueError, "points must give one"),
        (lambda V: V.interpolate(lambda x, y: np.nan * x), ValueError, "f .* NaN"),
    ],
)
def test_bad_input(call, error, match):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    with np.errstate(all="ignore"), pytest.raises(fk.FemkronError, match=match) as info:
        call(V)
    assert isinstance(info.value, error)
