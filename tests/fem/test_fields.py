"""Fields from data: cell values, nodal interpolants and images, as coefficients and loads.

Truth: the same piecewise-constant κ given as a plain callable (the discrete operator is the
same to rounding), exact polynomial reproduction of Q_p interpolants, block means of synthetic
images computed with numpy, dense SVD ranks.
"""

import matplotlib.image
import numpy as np
import pytest

import femkron as fk
from femkron.fem.fields import read_gray_image, separable_rank

EPS = np.finfo(float).eps


def piecewise(V, table):
    """The same cell-wise κ as a callable, by locating points in the 1D meshes."""
    mx, my = (s.mesh for s in V.spaces)

    def kappa(x, y):
        i = np.clip(np.searchsorted(mx.nodes, x, side="right") - 1, 0, mx.cells - 1)
        j = np.clip(np.searchsorted(my.nodes, y, side="right") - 1, 0, my.cells - 1)
        return table[i, j]

    return kappa


@pytest.mark.parametrize("order", [1, 3])
def test_cells_equals_the_same_piecewise_constant_callable(order):
    rng = np.random.default_rng(0)
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(6, 5), order=order)
    table = rng.uniform(1.0, 1e3, size=(6, 5))  # contrast 1e3, full rank
    field = fk.Field.cells(V, table)
    A1 = fk.assemble(V, field).toarray()
    A2 = fk.assemble(V, piecewise(V, table)).toarray()
    # the same Gauss values enter the same sums: equal to rounding of the assembly
    assert np.abs(A1 - A2).max() <= 1e3 * EPS * np.abs(A2).max()
    f = lambda x, y: np.sin(3 * x) + y
    s1 = fk.poisson(V, f, kappa=field)
    s2 = fk.poisson(V, f, kappa=piecewise(V, table))
    # both iterative solves stop at rtol=1e-10 on the same operator (condition ~ contrast·h⁻²)
    scale = np.abs(s2.values).max()
    assert np.abs(s1.values - s2.values).max() <= 1e-7 * scale
    sd = fk.poisson(V, f, kappa=field, coefficient="assembled", method="direct")
    assert np.abs(sd.values - s2.values).max() <= 1e-7 * scale


def test_rank_one_cells_take_the_exact_fdm_path():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    a, b = np.linspace(1, 2, 8), np.linspace(3, 1, 8)
    field = fk.Field.cells(V, np.outer(a, b))
    assert field.separable_rank == 1
    sol = fk.poisson(V, 1.0, kappa=field)
    assert sol.info.method == "fdm" and sol.coefficient["path"] == "lowrank"
    ref = fk.poisson(V, 1.0, kappa=field, coefficient="assembled", method="direct")
    assert np.abs(sol.values - ref.values).max() <= 1e-10 * np.abs(ref.values).max()
    # the expansion of any positive rank-one κ has positive factors (SPD 1D masses): fdm
    sep = fk.poisson(V, 1.0, kappa=lambda x, y: (1 + x) * (2 + y), coefficient="lowrank")
    assert sep.info.method == "fdm" and sep.info.fallback is None


def test_cells_are_exact_for_a_jump_along_cell_faces():
    # -(κu')' = 0 on (0,1), u(0)=0, u(1)=1 with κ = 1 | 4 at x = 1/2: u piecewise linear,
    # u(1/2) = 4/5; a cell-aligned jump is integrated exactly, so Q1 is exact at the nodes
    V = fk.TensorSpace.box([(0, 1)], cells=4, order=1)
    kappa = fk.Field.cells(V, [1.0, 1.0, 4.0, 4.0])
    sol = fk.poisson(
        V, 0.0, kappa=kappa, bc={"left": fk.Dirichlet(0.0), "right": fk.Dirichlet(1.0)}
    )
    exact = np.array([0.0, 0.4, 0.8, 0.9, 1.0])
    assert np.abs(sol.values - exact).max() <= 1e-14


@pytest.mark.parametrize("order", [1, 2, 3])
def test_nodal_interpolant_is_exact_for_qp_polynomials(order):
    V = fk.TensorSpace(
        [
            fk.Space1D(fk.Mesh1D.graded(0.0, 1.0, cells=5, ratio=3.0), order=order),
            fk.Space1D(fk.Mesh1D.uniform(-1.0, 2.0, cells=4), order=order, nodes="equispaced"),
        ]
    )
    p = lambda x, y: (1 + x) ** order * (y - 0.3) ** order + x**order - 2.0
    field = fk.Field.nodal(V, V.interpolate(p))
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, 200), rng.uniform(-1, 2, 200)
    # pointwise and on broadcast grids (the Gauss-grid path): exact to rounding of the basis
    assert np.abs(field(x, y) - p(x, y)).max() <= 1e3 * EPS
    X, Y = x[:20, None], y[None, :30]
    assert np.abs(field(X, Y) - p(X, Y)).max() <= 1e3 * EPS
    assert field.separable_rank <= 2
    # as a load, equal to the load of the polynomial (same quadrature of the same function)
    b1, b2 = fk.load_vector(V, field), fk.load_vector(V, p)
    assert np.abs(b1 - b2).max() <= 1e3 * EPS * np.abs(b2).max()


def test_nodal_field_as_heat_initial_value_is_taken_exactly():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
    u0 = fk.Field.nodal(V, V.interpolate(lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)))
    ht = fk.heat(V, u0, t_end=0.01, dt=0.005, snapshots=2)
    # interior dofs bitwise (the boundary dofs take the Dirichlet value)
    assert np.array_equal(ht.values[0][1:-1, 1:-1], u0.values[1:-1, 1:-1])


def test_nodal_field_in_3d_and_1d():
    V = fk.TensorSpace.box([(0, 1)] * 3, cells=2, order=2)
    p = lambda x, y, z: x * y * z + x * x
    field = fk.Field.nodal(V, V.interpolate(p).ravel())  # a flat dof vector is accepted
    pts = np.random.default_rng(2).uniform(0, 1, (3, 50))
    assert np.abs(field(*pts) - p(*pts)).max() <= 1e3 * EPS
    V1 = fk.Space1D(fk.Mesh1D.uniform(0, 1, 3), order=2)
    f1 = fk.Field.nodal(V1, V1.interpolate(lambda x: x * x))
    assert np.abs(f1(np.array([0.1, 0.55])) - [0.01, 0.3025]).max() <= 1e3 * EPS


def test_separable_rank_matches_numpy_matrix_rank():
    rng = np.random.default_rng(3)
    for r in (1, 2, 5):
        A = rng.standard_normal((12, r)) @ rng.standard_normal((r, 9))
        assert separable_rank(A) == np.linalg.matrix_rank(A) == r
    T = np.einsum("i,j,k->ijk", *rng.standard_normal((3, 4)))
    assert separable_rank(T) == 1
    assert separable_rank(np.zeros((3, 3))) == 0


def write_png(path, gray):
    """8-bit gray levels as R = G = B (no colormap, so no rounding of the levels)."""
    level = np.rint(gray * 255).astype(np.uint8)
    matplotlib.image.imsave(path, np.stack([level] * 3, axis=-1))


def test_image_reproduces_a_synthetic_picture(tmp_path):
    rng = np.random.default_rng(4)
    gray = rng.integers(0, 256, size=(6, 8)) / 255.0  # the 8-bit levels of a PNG
    path = tmp_path / "map.png"
    write_png(path, gray)
    # luminance of R = G = B = k/255: (0.299 + 0.587 + 0.114) k/255, exact to rounding
    assert np.abs(read_gray_image(path) - gray).max() <= 4 * EPS
    # one cell per pixel: the picture itself, rows from the top
    V = fk.TensorSpace.box([(0, 4), (0, 3)], cells=(8, 6), order=1)
    field = fk.Field.image(V, path, low=2.0, high=7.0)
    expect = 2.0 + 5.0 * gray[::-1, :].T
    assert np.abs(field.values - expect).max() <= 1e-13
    # two pixels per cell each way: block means
    V2 = fk.TensorSpace.box([(0, 4), (0, 3)], cells=(4, 3), order=2)
    blocks = expect.reshape(4, 2, 3, 2).mean(axis=(1, 3))
    assert np.abs(fk.Field.image(V2, path, 2.0, 7.0).values - blocks).max() <= 1e-13
    # cells not aligned with pixels (a graded mesh): area average by brute-force supersampling
    mx = fk.Mesh1D.graded(0.0, 4.0, cells=5, ratio=2.5)
    my = fk.Mesh1D.uniform(0.0, 3.0, cells=4)
    V3 = fk.TensorSpace.from_mesh(fk.TensorMesh([mx, my]), order=1)
    got = fk.Field.image(V3, path, 2.0, 7.0).values
    fine = 2400  # sub-samples per cell and axis: error ≤ (pixel jumps)·(2/fine) ≈ 5 · 2/2400
    brute = np.empty((5, 4))
    for i in range(5):
        for j in range(4):
            xs = mx.nodes[i] + (np.arange(fine) + 0.5) / fine * mx.h[i]
            ys = my.nodes[j] + (np.arange(fine) + 0.5) / fine * my.h[j]
            brute[i, j] = expect[(xs * 2).astype(int)][:, (ys * 2).astype(int)].mean()
    assert np.abs(got - brute).max() <= 5.0 * 2 * 2 / fine


def test_image_from_rgb_uses_luminance(tmp_path):
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[1, 1] = (0, 0, 255)
    path = tmp_path / "rgb.png"
    matplotlib.image.imsave(path, rgb)
    gray = read_gray_image(path)
    assert np.allclose(gray, [[0.299, 0.0], [0.0, 0.114]], atol=1e-12)


def test_bad_input(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(3, 2), order=1)
    with pytest.raises(fk.FemkronValueError, match=r"shape \(3, 2\).*got shape \(2, 3\)"):
        fk.Field.cells(V, np.ones((2, 3)))
    with pytest.raises(fk.FemkronValueError, match=r"shape \(4, 3\)"):
        fk.Field.nodal(V, np.ones((3, 2)))
    bad = np.ones((3, 2))
    bad[1, 0] = np.nan
    with pytest.raises(fk.FemkronValueError, match=r"index \(1, 0\).*x=0\.5, y=0\.25"):
        fk.Field.cells(V, bad)
    neg = np.ones((3, 2))
    neg[2, 1] = -1.0
    with pytest.raises(fk.FemkronValueError, match=r"kappa must be > 0.*x=0\.[7-9]\d*, y=0\.[5-9]"):
        fk.poisson(V, 1.0, kappa=fk.Field.cells(V, neg))
    with pytest.raises(fk.FemkronTypeError):
        fk.Field.cells(V, "abc")
    with pytest.raises(fk.FemkronTypeError, match="V must be"):
        fk.Field.cells("V", np.ones((3, 2)))
    with pytest.raises(fk.FemkronValueError, match="outside"):
        fk.Field.cells(V, np.ones((3, 2)))(np.array([1.5]), np.array([0.5]))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    with pytest.raises(fk.FemkronValueError, match="cannot read"):
        fk.Field.image(V, junk)
    with pytest.raises(fk.FemkronValueError, match="not found"):
        fk.Field.image(V, tmp_path / "missing.png")
    with pytest.raises(fk.FemkronValueError, match="folder"):
        fk.Field.image(V, tmp_path)
    V3 = fk.TensorSpace.box([(0, 1)] * 3, cells=2, order=1)
    with pytest.raises(fk.FemkronValueError, match="2 axes"):
        fk.Field.image(V3, junk)
    with pytest.raises(fk.FemkronValueError, match="2 coordinate"):
        fk.Field.cells(V, np.ones((3, 2)))(0.5)
