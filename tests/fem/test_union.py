"""Unions of boxes: geometry, face naming, and operators against element-by-element assembly.

The truth is ``tests/union_reference.py``: loops over the active cells and boundary facets
with Gauss quadrature and Vandermonde-built Lagrange bases, sharing nothing with femkron.
Matrices and loads agree to rounding: tolerance 1e-12 relative to the largest entry (sums
of a few dozen products of O(1) numbers).
"""

import numpy as np
import pytest
from union_reference import BruteForce, plane_bc

import femkron as fk
from femkron.fem.union_ops import UnionConditions, union_load, union_matrix, union_operator


def _compare(U, bc_union, table, f, default=("dirichlet", 0.0), sigma=0.0):
    nodes = [s.mesh.nodes for s in U.spaces]
    ref = BruteForce(nodes, U.orders[0], U.cell_mask, plane_bc(table, default), sigma=sigma)
    conds = UnionConditions(U, bc_union)
    A = union_operator(U, conds, 1.0, sigma)
    Ar, br, free, fixed, g = ref.system(f)
    assert np.array_equal(free, conds.free)
    assert np.array_equal(fixed, conds.fixed)
    scale = abs(Ar).max()
    assert abs(A.tocsr() - Ar).max() <= 1e-12 * scale
    b = union_load(U, conds, f)[conds.free]
    lift = conds.values()
    if lift is not None:
        b = b - A.fixed_columns @ lift[conds.fixed]
        assert np.allclose(lift[conds.fixed], g, rtol=0, atol=1e-14)
    assert np.abs(b - br).max() <= 1e-12 * max(np.abs(br).max(), 1.0)
    return conds, A, Ar, br


def _f(x, y, z=None):
    return 1.0 + x * x - 0.5 * y if z is None else 1.0 + x - y * z


@pytest.mark.parametrize("order", [1, 2, 3])
def test_lshape_dirichlet_operator_equals_brute_force(order):
    L = fk.BoxUnion.lshape(cells=4, order=order)
    _compare(L, None, {}, _f)


@pytest.mark.parametrize("order", [1, 2])
def test_lshape_mixed_conditions_equal_brute_force(order):
    g = lambda x, y: 1 + x * y  # noqa: E731
    bc = {
        "x=0": fk.Neumann(g),  # the re-entrant face x = 0
        "y=0": fk.Robin(2.5, lambda x, y: x),  # the re-entrant face y = 0
        "y=1": fk.Dirichlet(lambda x, y: x + 2.0),
        "boundary": fk.Neumann(0.5),
    }
    table = {
        (0, 0.0): ("neumann", g),
        (1, 0.0): ("robin", 2.5, lambda x, y: x),
        (1, 1.0): ("dirichlet", lambda x, y: x + 2.0),
    }
    L = fk.BoxUnion.lshape(cells=4, order=order)
    _compare(L, bc, table, _f, default=("neumann", 0.5), sigma=0.7)


def test_step_tshape_cross_operators_equal_brute_force():
    for U in (
        fk.BoxUnion.step(cells=2, order=2, length=3.0),
        fk.BoxUnion.tshape(cells=2, order=1),
        fk.BoxUnion.cross(cells=2, order=2),
    ):
        bc = {f"x={U.bounds[0][0]:g}": fk.Robin(1.0, 2.0), "boundary": fk.Neumann(-0.25)}
        table = {(0, float(U.bounds[0][0])): ("robin", 1.0, 2.0)}
        _compare(U, bc, table, _f, default=("neumann", -0.25))


def test_fichera_mixed_operator_equals_brute_force():
    F = fk.BoxUnion.fichera(cells=2, order=2)
    bc = {
        "z=0": fk.Robin(1.5, lambda x, y, z: x + y),  # holds a re-entrant face
        "x=-1": fk.Dirichlet(lambda x, y, z: y * z),
        "boundary": fk.Neumann(1.0),
    }
    table = {
        (2, 0.0): ("robin", 1.5, lambda x, y, z: x + y),
        (0, -1.0): ("dirichlet", lambda x, y, z: y * z),
    }
    _compare(F, bc, table, _f, default=("neumann", 1.0))


def test_mass_and_stiffness_of_the_union_equal_brute_force():
    L = fk.BoxUnion.lshape(cells=4, order=2)
    conds = UnionConditions(L, fk.Neumann())
    ref = BruteForce(
        [s.mesh.nodes for s in L.spaces], 2, L.cell_mask, plane_bc({}, ("neumann", 0.0))
    )
    order = np.concatenate([conds.free, conds.fixed])
    M = union_matrix(L, conds, kappa=0.0, sigma=1.0, robin=False)
    Mr = ref.mass()[order][:, order]
    assert abs(M - Mr).max() < 1e-14
    K = union_matrix(L, conds)
    assert abs(K - ref.A[order][:, order]).max() < 1e-12 * abs(K).max()
    assert abs(M.sum() - 3.0) < 1e-13  # the area of the L


def test_variable_kappa_operator_equals_brute_force():
    L = fk.BoxUnion.lshape(cells=4, order=2)
    kappa = lambda x, y: 2 + x * y + 0.5 * y  # noqa: E731
    ref = BruteForce([s.mesh.nodes for s in L.spaces], 2, L.cell_mask, plane_bc({}), kappa=kappa)
    conds = UnionConditions(L)
    A = union_operator(L, conds, kappa)
    Ar, *_ = ref.system(1.0)
    assert A.schur_structure is None
    # the quadrature of femkron's assembly (p + 1 points, exact to degree 2p + 1 per axis) is
    # exact for this κ of degree 1 per axis
    assert abs(A.tocsr() - Ar).max() < 1e-12 * abs(Ar).max()


# ---- geometry ---------------------------------------------------------------------------
def test_dofs_grid_and_masks():
    L = fk.BoxUnion.lshape(cells=4, order=2)
    assert L.shape == (9, 9)
    assert L.cell_mask.sum() == 12 and not L.cell_mask[2:, :2].any()
    # dofs: the grid minus the open removed quadrant (x > 0, y < 0)
    X, Y = L.grid()
    expect = ~((X > 0) & (Y < 0))
    assert np.array_equal(L.dof_mask, expect)
    assert L.ndofs == int(expect.sum())
    u = L.interpolate(lambda x, y: x - y)
    full = L.to_full(u)
    assert np.isnan(full[~expect]).all()
    assert np.array_equal(L.from_full(full), u)
    assert np.array_equal(full[expect], (X - Y)[expect])
    x, y = L.points()
    assert np.allclose(x - y, u)


def test_graded_lshape_and_fichera_volumes():
    m = fk.Mesh1D.graded(0.0, 1.0, cells=5, ratio=1.5)
    nodes = np.concatenate([-m.nodes[::-1], m.nodes[1:]])
    L = fk.BoxUnion.lshape(order=2, mesh=fk.Mesh1D(nodes))
    assert L.volume == 3.0 and len(L.boxes) == 2
    assert fk.BoxUnion.fichera(cells=2).volume == 7.0


def test_keep_boxes_are_the_partition():
    V = fk.TensorSpace.box([(0, 3), (0, 1)], cells=(6, 2))
    U = fk.BoxUnion(V, keep=[((0, 1), (0, 1)), ((1, 3), (0, 1))])
    assert U.boxes == [((0, 2), (0, 2)), ((2, 6), (0, 2))]
    assert U.volume == 3.0


def test_plane_names_tolerant_and_bounding_face_names():
    L = fk.BoxUnion.lshape(cells=4, order=1)
    a = UnionConditions(L, {"x = 0.0000000000001": fk.Neumann(), "left": fk.Neumann()})
    b = UnionConditions(L, {"x=0": fk.Neumann(), "x=-1": fk.Neumann()})
    assert np.array_equal(a.free, b.free)
    # a named plane overrides "boundary"
    c = UnionConditions(L, {"boundary": fk.Neumann(), "y=1": fk.Dirichlet(1.0)})
    top = np.flatnonzero(np.isclose(L.grid()[1].ravel(), 1.0))
    assert np.array_equal(c.fixed, top)


# ---- bad input --------------------------------------------------------------------------
def _box(cells=4):
    return fk.TensorSpace.box([(0, 1), (0, 1)], cells=cells)


@pytest.mark.parametrize(
    "kwargs, reason, words",
    [
        (dict(remove=[((0.3, 1), (0, 0.5))]), "off-node", ["remove[0]", "x=0.3", "mesh node"]),
        (dict(remove=[((0, 1), (0, 1))]), "empty", ["no active cell"]),
        (dict(remove=[((0.5, 0.75), (0, 1))]), "disconnected", ["disconnect", "2 pieces"]),
        (
            dict(keep=[((0, 0.5), (0, 1)), ((0.25, 1), (0, 0.5))]),
            "overlap",
            ["keep[0]", "keep[1]", "x in [0.25, 0.5]"],
        ),
        (
            dict(keep=[((0, 0.5), (0, 0.5)), ((0.5, 1), (0.5, 1))]),
            "corner-contact",
            ["corner", "x=0.5", "y=0.5"],
        ),
    ],
)
def test_bad_unions_are_refused_naming_what_and_where(kwargs, reason, words):
    with pytest.raises(fk.FemkronValueError) as err:
        fk.BoxUnion(_box(), **kwargs)
    assert err.value.reason == reason
    for w in words:
        assert w in str(err.value)


def test_3d_edge_contact_is_refused():
    V = fk.TensorSpace.box([(0, 1)] * 3, cells=2)
    with pytest.raises(fk.FemkronValueError) as err:
        fk.BoxUnion(V, keep=[((0, 0.5), (0, 0.5), (0, 1)), ((0.5, 1), (0.5, 1), (0, 1))])
    assert err.value.reason == "corner-contact" and "edge" in str(err.value)


def test_bad_boxes_and_conditions():
    with pytest.raises(fk.FemkronValueError, match="leaves the bounding box"):
        fk.BoxUnion(_box(), remove=[((0.5, 1.5), (0, 0.5))])
    with pytest.raises(fk.FemkronValueError, match="exactly one"):
        fk.BoxUnion(_box(), remove=[((0.5, 1), (0, 0.5))], keep=[((0, 1), (0, 1))])
    with pytest.raises(fk.FemkronTypeError):
        fk.BoxUnion(_box(), remove=[((0.5, "a"), (0, 0.5))])
    L = fk.BoxUnion.lshape(cells=4)
    with pytest.raises(fk.FemkronValueError) as err:
        UnionConditions(L, {"x=0.5": fk.Neumann()})
    assert err.value.reason == "unknown-face" and "x=0.5" in str(err.value)
    assert "x=-1, x=0, x=1" in str(err.value)
    with pytest.raises(fk.FemkronValueError) as err:
        UnionConditions(L, {"outlet": fk.Neumann()})
    assert err.value.reason == "unknown-face"
    with pytest.raises(fk.FemkronValueError) as err:
        UnionConditions(L, {"x": fk.Periodic()})
    assert err.value.reason == "periodic-union" and "'x'" in str(err.value)
    with pytest.raises(fk.FemkronValueError) as err:
        fk.poisson(L, 1.0, bc={"y": fk.Periodic()})
    assert err.value.reason == "periodic-union"
