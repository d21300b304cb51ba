"""Meshes of an interval and of a box: constructors, checks, refinement, point location."""

import numpy as np
import pytest

import femkron as fk


@pytest.mark.parametrize("a, b, n", [(0.0, 1.0, 1), (0.0, 1.0, 7), (-3.0, 2.5, 16)])
def test_uniform(a, b, n):
    m = fk.Mesh1D.uniform(a, b, cells=n)
    assert m.cells == n and m.nodes.shape == (n + 1,)
    assert m.a == a and m.b == b and m.nodes[0] == a and m.nodes[-1] == b
    np.testing.assert_allclose(m.h, (b - a) / n, rtol=1e-13)
    assert m.length == pytest.approx(b - a)


@pytest.mark.parametrize("ratio", [0.5, 0.9, 1.0, 1.1, 2.0])
def test_graded_is_geometric(ratio):
    m = fk.Mesh1D.graded(-1.0, 3.0, cells=9, ratio=ratio)
    assert m.cells == 9 and m.nodes[0] == -1.0 and m.nodes[-1] == 3.0
    np.testing.assert_allclose(m.h[1:] / m.h[:-1], ratio, rtol=1e-10)
    assert m.h.sum() == pytest.approx(4.0, rel=1e-14)
    # closed form of the first cell of a geometric series
    h0 = 4.0 / 9 if ratio == 1.0 else 4.0 * (ratio - 1) / (ratio**9 - 1)
    assert m.h[0] == pytest.approx(h0, rel=1e-12)


def test_graded_clusters_at_the_right_end():
    fine_left = fk.Mesh1D.graded(0.0, 1.0, cells=8, ratio=1.5)
    fine_right = fk.Mesh1D.graded(0.0, 1.0, cells=8, ratio=1 / 1.5)
    assert fine_left.h[0] < fine_left.h[-1] and fine_right.h[0] > fine_right.h[-1]
    np.testing.assert_allclose(fine_right.h, fine_left.h[::-1], rtol=1e-12)
    np.testing.assert_allclose(
        fk.Mesh1D.graded(0.0, 2.0, 5, ratio=1.0).nodes, fk.Mesh1D.uniform(0.0, 2.0, 5).nodes
    )


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_chebyshev(n):
    m = fk.Mesh1D.chebyshev(2.0, 4.0, cells=n)
    t = np.arange(n + 1) / n
    np.testing.assert_allclose(m.nodes, 3.0 - np.cos(np.pi * t), atol=1e-14)
    assert m.nodes[0] == 2.0 and m.nodes[-1] == 4.0
    np.testing.assert_allclose(m.h, m.h[::-1], rtol=1e-12)  # symmetric
    if n >= 4:
        assert m.h[0] < m.h[n // 2]  # clustered at both ends


def test_explicit_nodes():
    m = fk.Mesh1D([0.0, 0.1, 0.5, 2.0])
    assert m.cells == 3 and m.a == 0.0 and m.b == 2.0
    np.testing.assert_allclose(m.h, [0.1, 0.4, 1.5])
    assert m == fk.Mesh1D(np.array([0.0, 0.1, 0.5, 2.0]))
    assert m != fk.Mesh1D([0.0, 0.2, 0.5, 2.0])
    with pytest.raises(ValueError):
        m.nodes[0] = 1.0  # read-only


@pytest.mark.parametrize(
    "nodes, match",
    [
        ([0.0, 1.0, 0.5], "nodes must be strictly increasing"),
        ([1.0, 0.0], "nodes must be strictly increasing"),
        ([0.0, 0.5, 0.5, 1.0], "zero-length cells"),
        ([0.0, np.nan, 1.0], "nodes must be finite"),
        ([0.0, 1.0, np.inf], "nodes must be finite"),
        ([0.0], "nodes must be a 1D array of at least 2 points"),
        ([[0.0, 1.0], [2.0, 3.0]], "nodes must be a 1D array"),
        ([0.0, 1e-300, 1.0], "nodes"),
    ],
)
def test_bad_nodes(nodes, match):
    with pytest.raises(fk.FemkronValueError, match=match):
        fk.Mesh1D(nodes)


def test_bad_node_types():
    with pytest.raises(fk.FemkronTypeError, match="nodes"):
        fk.Mesh1D(["a", "b"])
    with pytest.raises(fk.FemkronError, match="nodes"):
        fk.Mesh1D(None)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fk.Mesh1D.uniform(0, 1, 0), ValueError, "cells must be >= 1, got 0"),
        (lambda: fk.Mesh1D.uniform(0, 1, 2.5), TypeError, "cells must be an integer"),
        (lambda: fk.Mesh1D.uniform(1, 1, 4), ValueError, "b > a"),
        (lambda: fk.Mesh1D.uniform(2, 1, 4), ValueError, "b > a"),
        (lambda: fk.Mesh1D.uniform(0, np.nan, 4), ValueError, "b must be finite"),
        (lambda: fk.Mesh1D.uniform("0", 1, 4), TypeError, "a must be a real number"),
        (lambda: fk.Mesh1D.graded(0, 1, 4, ratio=0.0), ValueError, "ratio must be > 0"),
        (lambda: fk.Mesh1D.graded(0, 1, 4, ratio=-2.0), ValueError, "ratio must be > 0"),
        (lambda: fk.Mesh1D.chebyshev(0, 1, -1), ValueError, "cells must be >= 1"),
    ],
)
def test_bad_constructor_arguments(call, error, match):
    with pytest.raises(fk.FemkronError, match=match) as info:
        call()
    assert isinstance(info.value, error)


@pytest.mark.parametrize(
    "mesh",
    [
        fk.Mesh1D.uniform(0.0, 1.0, 3),
        fk.Mesh1D.graded(0.0, 2.0, 4, ratio=1.7),
        fk.Mesh1D.chebyshev(-1.0, 1.0, 5),
    ],
    ids=["uniform", "graded", "chebyshev"],
)
@pytest.mark.parametrize("factor", [1, 2, 3])
def test_refine(mesh, factor):
    fine = mesh.refine(factor)
    assert fine.cells == factor * mesh.cells
    assert fine.a == mesh.a and fine.b == mesh.b
    # nested: every old node is a new node, and each old cell is split in equal parts
    np.testing.assert_allclose(fine.nodes[::factor], mesh.nodes, rtol=0, atol=1e-15)
    np.testing.assert_allclose(fine.h, np.repeat(mesh.h / factor, factor), rtol=1e-12)
    assert fine.h.max() == pytest.approx(mesh.h.max() / factor)


def test_refine_bad_factor():
    with pytest.raises(fk.FemkronValueError, match="factor must be >= 1, got 0"):
        fk.Mesh1D.uniform(0, 1, 2).refine(0)


def test_locate():
    m = fk.Mesh1D([0.0, 0.5, 1.5, 2.0])
    x = np.array([0.0, 0.25, 0.5, 0.7, 1.5, 1.99, 2.0])
    np.testing.assert_array_equal(m.locate(x), [0, 0, 0, 1, 1, 2, 2])
    # brute force: the cell e with nodes[e] <= x <= nodes[e + 1]
    pts = np.random.default_rng(1).uniform(0.0, 2.0, 50)
    cells = m.locate(pts)
    assert np.all((m.nodes[cells] <= pts) & (pts <= m.nodes[cells + 1]))
    for bad in ([-0.1], [2.5], [np.nan]):
        with pytest.raises(fk.FemkronValueError, match="points"):
            m.locate(bad)


def test_tensor_mesh():
    mx, my = fk.Mesh1D.uniform(0, 1, 2), fk.Mesh1D.graded(-1, 2, 3, ratio=1.5)
    tm = fk.TensorMesh([mx, my])
    assert tm.dim == len(tm) == 2 and tm.shape == (2, 3)
    assert tm.bounds == ((0.0, 1.0), (-1.0, 2.0))
    assert tm.volume == pytest.approx(3.0)
    assert tm[1] is my and list(tm) == [mx, my]
    assert fk.TensorMesh(mx).dim == 1
    with pytest.raises(fk.FemkronTypeError, match=r"meshes\[1\] must be a Mesh1D"):
        fk.TensorMesh([mx, "y"])
    with pytest.raises(fk.FemkronValueError, match="at least one"):
        fk.TensorMesh([])
    with pytest.raises(fk.FemkronTypeError, match="meshes must be a sequence"):
        fk.TensorMesh(3)


def test_repr():
    assert "uniform" in repr(fk.Mesh1D.uniform(0, 1, 2))
    assert "cells=2" in repr(fk.Mesh1D([0.0, 0.3, 1.0]))
