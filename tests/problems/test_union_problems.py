"""Problems on unions of boxes: published eigenvalues, measured singular rates, exact
polynomial solutions, and heat steps against an independent assembly."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from union_reference import BruteForce, plane_bc

import femkron as fk

LSHAPE_EIGENVALUE = 9.6397238440219  # Fox, Henrici & Moler 1967; Trefethen & Betcke 2006


def _theta(x, y):
    t = np.arctan2(y, x)
    return np.where(t < 0, t + 2 * np.pi, t)  # from the re-entrant edge y = 0, x > 0


def corner(x, y):
    """The corner singularity ``r^{2/3} sin(2θ/3)``: harmonic, zero on the re-entrant edges."""
    return np.hypot(x, y) ** (2 / 3) * np.sin(2 * _theta(x, y) / 3)


def corner_dx(x, y):
    r = np.maximum(np.hypot(x, y), 1e-300)
    return -(2 / 3) * r ** (-1 / 3) * np.sin(_theta(x, y) / 3)


def corner_dy(x, y):
    r = np.maximum(np.hypot(x, y), 1e-300)
    return (2 / 3) * r ** (-1 / 3) * np.cos(_theta(x, y) / 3)


def _power_mesh(n, beta):
    """Nodes ``±(i/n)^β`` on [-1, 1]: graded toward the corner at 0 for β > 1."""
    s = (np.arange(n + 1) / n) ** beta
    return fk.Mesh1D(np.concatenate([-s[::-1], s[1:]]))


def _rates(order, beta, cells=(8, 16, 32)):
    h, e1, e0 = [], [], []
    for n in cells:
        L = fk.BoxUnion.lshape(order=order, mesh=_power_mesh(n, beta))
        sol = fk.poisson(L, 0.0, bc={"boundary": fk.Dirichlet(corner)})
        h.append(1.0 / n)
        e1.append(sol.error(corner, "H1", grad=(corner_dx, corner_dy), quad=order + 6))
        e0.append(sol.error(corner, "L2", quad=order + 6))
    return fk.convergence_rate(h, e1), fk.convergence_rate(h, e0)


def test_lshape_first_eigenvalue_on_a_graded_mesh():
    # geometric layers toward the corner (each cell 3× the next), order 6: the eigenvalue
    # error decays exponentially in the layers; 10 layers reach ~3e-8, 1e-6 is asked
    m = fk.Mesh1D.graded(0.0, 1.0, cells=10, ratio=3.0)
    L = fk.BoxUnion.lshape(order=6, mesh=fk.Mesh1D(np.concatenate([-m.nodes[::-1], m.nodes[1:]])))
    w, v = fk.eigen(L, k=2)
    assert abs(w[0] - LSHAPE_EIGENVALUE) < 1e-6
    assert abs(w[1] - 15.197251926454) < 1e-6  # the smooth second mode (published)
    # uniform meshes converge at the singular rate h^{4/3}: far from 1e-6 at a similar size
    wu, _ = fk.eigen(fk.BoxUnion.lshape(cells=16, order=2), k=1)
    assert abs(wu[0] - LSHAPE_EIGENVALUE) > 1e-3


def test_eigenvectors_are_mass_orthonormal_and_vanish_on_the_boundary():
    L = fk.BoxUnion.lshape(cells=8, order=2)
    w, v = fk.eigen(L, k=3)
    assert v.shape == (L.ndofs, 3)
    x, y = L.points()
    on_boundary = (
        (np.abs(x) == 1) | (np.abs(y) == 1) | ((x >= 0) & (y == 0)) | ((x == 0) & (y <= 0))
    )
    assert np.abs(v[on_boundary]).max() == 0.0
    # Rayleigh quotients against an independent assembly
    ref = BruteForce([s.mesh.nodes for s in L.spaces], 2, L.cell_mask, plane_bc({}))
    A = ref.A[L.dofs][:, L.dofs]
    M = ref.mass()[L.dofs][:, L.dofs]
    G = v.T @ (M @ v)
    assert np.allclose(G, np.eye(3), atol=1e-10)
    assert np.allclose(np.diag(v.T @ (A @ v)), w, rtol=1e-10)


def test_corner_singularity_rates_on_uniform_meshes():
    # u = r^{2/3} sin(2θ/3) is in H^{1+2/3-ε}: H1 error ~ h^{2/3}, L2 ~ h^{4/3} for every p;
    # the rates from 8 → 32 cells are within ±0.08 of the asymptotic ones
    for order in (1, 2):
        h1, l2 = _rates(order, beta=1.0)
        assert abs(h1 - 2 / 3) < 0.08, (order, h1)
        assert abs(l2 - 4 / 3) < 0.1, (order, l2)


@pytest.mark.parametrize("order, beta", [(1, 2.0), (2, 3.5)])
def test_graded_meshes_restore_rate_p(order, beta):
    # nodes (i/n)^β with β > 3p/2 balance the error over the cells: H1 ~ n^{-p}
    h1, l2 = _rates(order, beta)
    assert h1 > order - 0.1, h1
    assert l2 > order + 0.85, l2


def test_mixed_conditions_reproduce_a_quadratic_exactly():
    # u = x² - y² + xy + x is in Q2: the discrete solution is exact up to rounding
    u = lambda x, y: x * x - y * y + x * y + x  # noqa: E731
    ux = lambda x, y: 2 * x + y + 1  # noqa: E731
    uy = lambda x, y: -2 * y + x  # noqa: E731
    bc = {
        "x=0": fk.Neumann(ux),  # re-entrant edge, outward normal +x
        "y=0": fk.Neumann(lambda x, y: -uy(x, y)),  # re-entrant edge, outward normal -y
        "y=1": fk.Robin(2.0, lambda x, y: uy(x, y) + 2.0 * u(x, y)),
        "boundary": fk.Dirichlet(u),
    }
    L = fk.BoxUnion.lshape(cells=6, order=2)
    sol = fk.poisson(L, 0.0, bc=bc)
    assert sol.info.method == "schur"
    assert sol.error(u, "max") < 1e-11
    assert sol.error(u, "H1", grad=(ux, uy)) < 1e-10
    # Helmholtz with the same data: f = -Δu - k² u
    k = 1.5
    sol = fk.helmholtz(L, lambda x, y: -(k**2) * u(x, y), wavenumber=k, bc=bc)
    assert sol.error(u, "max") < 1e-10
    # a variable coefficient: assembled, CG preconditioned by the union solve of a constant
    kap = lambda x, y: 1 + x * x  # noqa: E731
    f = lambda x, y: -2 * x * ux(x, y)  # noqa: E731  (-∇·(κ∇u) with Δu = 0)
    sol = fk.poisson(L, f, kappa=kap, bc={"boundary": fk.Dirichlet(u)})
    assert sol.info.method == "schur-cg" and sol.error(u, "max") < 1e-9
    direct = fk.poisson(L, f, kappa=kap, bc={"boundary": fk.Dirichlet(u)}, method="direct")
    assert direct.info.method == "direct" and direct.error(u, "max") < 1e-11


def test_fichera_corner_solves_and_converges():
    ex = lambda x, y, z: np.sin(x + 0.5) * np.cos(y) * np.exp(0.3 * z)  # noqa: E731
    f = lambda x, y, z: (2 - 0.09) * ex(x, y, z)  # noqa: E731
    errs = []
    for n in (4, 8):
        F = fk.BoxUnion.fichera(cells=n, order=2)
        sol = fk.poisson(F, f, bc={"boundary": fk.Dirichlet(ex)})
        assert sol.info.method == "schur" and sol.info.iterations < 40
        errs.append(sol.error(ex, "L2"))
    assert 2.6 < np.log2(errs[0] / errs[1]) < 3.4  # smooth solution: L2 rate p + 1 = 3


def test_heat_steps_equal_an_independent_theta_scheme():
    L = fk.BoxUnion.lshape(cells=4, order=2)
    u0 = lambda x, y: (1 - x * x) * (1 - y * y)  # noqa: E731
    bc = {"x=0": fk.Neumann(0.5), "boundary": fk.Dirichlet(0.0)}
    ht = fk.heat(L, u0, t_end=0.1, dt=0.025, theta=0.5, bc=bc, f=1.0, snapshots=3)
    assert ht.values.shape == (3,) + L.shape and np.isnan(ht.values[:, -1, 0]).all()
    ref = BruteForce(
        [s.mesh.nodes for s in L.spaces],
        2,
        L.cell_mask,
        plane_bc({(0, 0.0): ("neumann", 0.5)}),
    )
    A, b, free, fixed, _ = ref.system(1.0)
    M = ref.mass()[free][:, free]
    X, Y = L.grid()
    w = u0(X, Y).ravel()[free]
    lu = spla.splu((M + 0.0125 * A).tocsc())
    for _ in range(4):
        w = lu.solve(M @ w - 0.0125 * (A @ w) + 0.025 * b)
    assert np.abs(ht.values[-1].ravel()[free] - w).max() < 1e-10 * np.abs(w).max()


def test_union_solution_plots_and_errors():
    L = fk.BoxUnion.lshape(cells=4, order=1)
    sol = fk.poisson(L, 1.0)
    assert isinstance(sol, fk.UnionSolution)
    assert np.isnan(sol.values).sum() == L.shape[0] * L.shape[1] - L.ndofs
    with pytest.raises(fk.FemkronValueError):
        fk.poisson(L, 1.0, method="fdm")
    with pytest.raises(fk.FemkronValueError, match="kappa"):
        fk.poisson(L, 1.0, kappa=lambda x, y: x)
    with pytest.raises(fk.FemkronValueError, match="kappa"):
        fk.poisson(L, 1.0, kappa=-1.0)


def test_plots_leave_the_removed_part_blank():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = fk.BoxUnion.lshape(cells=8, order=2)
    sol = fk.poisson(L, 1.0)
    ax = sol.plot()
    inside = drawn = 0
    for artist in ax.collections:
        for path in getattr(artist, "get_paths", list)():
            v = path.vertices
            drawn += len(v)
            # no drawn vertex strictly inside the removed quadrant (0, 1] × [-1, 0)
            inside += int(np.sum((v[:, 0] > 0.01) & (v[:, 0] < 0.99) & (v[:, 1] < -0.01)))
    assert drawn > 100 and inside == 0
    assert ax.get_xlabel() == "x" and ax.get_aspect() == 1.0
    assert len(ax.child_axes) == 1  # the colorbar
    plt.close("all")
    ax = fk.plot.plot_union(L)  # the partition: one patch per box
    assert len(ax.patches) == len(L.boxes) == 2
    plt.close("all")
    with pytest.raises(fk.FemkronValueError):
        fk.plot.plot_union(L, np.ones(3))
    with pytest.raises(fk.FemkronValueError, match="2D"):
        fk.plot.plot_union(fk.BoxUnion.fichera(cells=2))


def test_vtk_writes_only_the_active_cells(tmp_path):
    meshio = pytest.importorskip("meshio")
    L = fk.BoxUnion.lshape(cells=4, order=2)
    sol = fk.poisson(L, 1.0)
    path = tmp_path / "u.vtu"
    sol.to_vtk(path)
    m = meshio.read(path)
    assert m.points.shape == (L.ndofs, 3)
    cells = m.cells[0].data
    assert cells.shape == (12 * 4, 4)  # 12 active Q2 cells, 2 × 2 sub-quadrilaterals each
    centre = m.points[cells].mean(axis=1)
    assert not np.any((centre[:, 0] > 0) & (centre[:, 1] < 0))
    assert np.allclose(m.point_data["u"], sol.vector)


def test_heat_on_a_union_refuses_what_it_does_not_do():
    L = fk.BoxUnion.lshape(cells=4)
    # (data depending on time are accepted: tests/problems/test_union_dynamics.py)
    with pytest.raises(fk.FemkronValueError) as err:
        fk.heat(L, 1.0, 0.1, 0.01, scheme="modal")
    assert err.value.reason == "scheme-union"
    with pytest.raises(fk.FemkronValueError, match="theta"):
        fk.heat(L, 1.0, 0.1, 0.01, theta=0.2)


def test_advection_diffusion_reproduces_a_quadratic():
    # u = xy + x² - y is in Q2; -ε Δu + b·∇u = f exactly, Neumann data ε ∂u/∂n on x = 0
    eps, b = 0.3, (1.0, -0.5)
    u = lambda x, y: x * y + x * x - y  # noqa: E731
    f = lambda x, y: -2 * eps + b[0] * (y + 2 * x) + b[1] * (x - 1)  # noqa: E731
    bc = {"x=0": fk.Neumann(lambda x, y: eps * (y + 2 * x)), "boundary": fk.Dirichlet(u)}
    L = fk.BoxUnion.lshape(cells=8, order=2)
    sol = fk.advection_diffusion(L, f, velocity=b, epsilon=eps, bc=bc)
    assert sol.info.method == "schur-gmres" and sol.error(u, "max") < 1e-8
    sol = fk.advection_diffusion(L, f, velocity=b, epsilon=eps, bc=bc, method="direct")
    assert sol.error(u, "max") < 1e-12


def test_separable_kappa_equals_its_product_solved_directly():
    L = fk.BoxUnion.lshape(cells=8, order=2)
    a, b = (lambda x: 1 + x * x), (lambda y: 2 + y)
    sep = fk.poisson(L, 1.0, kappa=(a, b))
    ref = fk.poisson(L, 1.0, kappa=lambda x, y: a(x) * b(y), method="direct")
    # CG to rtol 1e-10 against a sparse LU: cond(A) (~1e3 here) times rtol
    assert np.abs(sep.vector - ref.vector).max() < 1e-7 * np.abs(ref.vector).max()
    with pytest.raises(fk.FemkronValueError, match="per axis"):
        fk.poisson(L, 1.0, kappa=(a,))


def test_solution_evaluates_between_the_dofs_and_is_nan_outside():
    L = fk.BoxUnion.lshape(cells=4, order=3)
    u = lambda x, y: x**3 - 2 * x * y * y + y  # noqa: E731  (in Q3: exact everywhere)
    sol = fk.UnionSolution(L, L.interpolate(u))
    x, y = np.linspace(-1, 1, 13), np.linspace(-1, 1, 11)
    got = sol(x, y)
    X, Y = np.meshgrid(x, y, indexing="ij")
    outside = (X > 0) & (Y < 0)
    assert np.isnan(got[outside]).all()
    assert np.abs(got[~outside] - u(X, Y)[~outside]).max() < 1e-13


def test_union_solution_declares_every_attribute():
    doc = fk.UnionSolution.__doc__.split("Attributes")[1].split("Examples")[0].split()
    sol = fk.poisson(fk.BoxUnion.lshape(cells=4), 1.0)
    assert set(vars(sol)) <= set(doc), set(vars(sol)) - set(doc)
