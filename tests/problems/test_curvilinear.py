"""Problems in curvilinear coordinates against analytic truth: Bessel zeros, measured rates."""

import numpy as np
import pytest
from scipy.special import jn_zeros, jnp_zeros

import femkron as fk


def _rates(h, errors):
    e = np.asarray(errors)
    return [fk.convergence_rate(h[-2:], e[-2:, j]) for j in range(e.shape[1])]


# ---- the circular drum ------------------------------------------------------------------
def _bessel_spectrum(zeros, k, with_zero=False):
    values = [0.0] if with_zero else []
    for m in range(8):
        for z in zeros(m, 6):
            values += [z**2] * (1 if m == 0 else 2)
    return np.sort(values)[:k]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_disk_dirichlet_eigenvalues_are_bessel_zeros(order):
    # λ = (j_{m,n}/R)² with multiplicity 2 for m >= 1; the error of a conforming Galerkin
    # eigenvalue is O(h^2p): the measured rate must be 2p
    R = 1.5
    exact = _bessel_spectrum(jn_zeros, 9) / R**2  # 9: up to j_{0,2}, no near-degenerate pair
    n = {1: (8, 16, 32), 2: (4, 8, 16), 3: (3, 6, 12)}[order]
    errors, h = [], []
    for cells in n:
        D = fk.TensorSpace.disk(radius=R, cells=(cells, 4 * cells), order=order)
        w, v = fk.eigen(D, k=9)
        errors.append([np.abs(w - exact).max() / exact.max()])
        h.append(1.0 / cells)
    assert errors[-1][0] < {1: 2e-2, 2: 2e-4, 3: 2e-6}[order]
    assert abs(_rates(h, errors)[0] - 2 * order) < 0.3
    # the multiplicities: pairs for m >= 1
    assert np.allclose(w[1], w[2], rtol=1e-10) and np.allclose(w[3], w[4], rtol=1e-10)
    M = fk.mass(D)
    assert np.allclose(v.T @ (M @ v), np.eye(9), atol=1e-10)


def test_disk_neumann_eigenvalues_are_zeros_of_the_bessel_derivative():
    exact = _bessel_spectrum(jnp_zeros, 8, with_zero=True)  # R = 1
    errors, h = [], []
    for cells in (4, 8, 16):
        D = fk.TensorSpace.disk(radius=1.0, cells=(cells, 4 * cells), order=2)
        w, _ = fk.eigen(D, k=8, bc={"outer": fk.Neumann()})
        errors.append([np.abs(w - exact)[1:].max() / exact.max()])
        h.append(1.0 / cells)
    assert abs(w[0]) < 1e-9
    assert abs(_rates(h, errors)[0] - 4) < 0.3


def test_cylinder_eigenvalues():
    # Dirichlet everywhere: (j_{m,n}/R)² + (kπ/H)²
    R, H = 1.0, 2.0
    vals = []
    for m in range(5):
        for z in jn_zeros(m, 3):
            for k in range(1, 4):
                vals += [(z / R) ** 2 + (k * np.pi / H) ** 2] * (1 if m == 0 else 2)
    exact = np.sort(vals)[:5]
    C = fk.TensorSpace.cylinder(radius=R, height=H, cells=(6, 16, 6), order=3)
    w, _ = fk.eigen(C, k=5)
    # p = 3 on this mesh: eigenvalue error ~ (h/R)^6 × λ ≈ 1e-4 relative
    assert np.allclose(w, exact, rtol=3e-4)


# ---- manufactured solutions -------------------------------------------------------------
def _polar_grad(ux, uy):
    """(∂u/∂r, ∂u/∂θ) from the Cartesian gradient."""
    return (
        lambda r, t: ux(r, t) * np.cos(t) + uy(r, t) * np.sin(t),
        lambda r, t: r * (-ux(r, t) * np.sin(t) + uy(r, t) * np.cos(t)),
    )


@pytest.mark.parametrize("order", [1, 2, 3])
def test_disk_manufactured_solution_through_the_pole(order):
    # u = exp(x) sin(y) is harmonic: f = 0, Dirichlet data on the circle
    def u(r, t):
        return np.exp(r * np.cos(t)) * np.sin(r * np.sin(t))

    grad = _polar_grad(
        lambda r, t: np.exp(r * np.cos(t)) * np.sin(r * np.sin(t)),
        lambda r, t: np.exp(r * np.cos(t)) * np.cos(r * np.sin(t)),
    )
    errors, h = [], []
    for cells in (4, 8, 16):
        D = fk.TensorSpace.disk(radius=1.0, cells=(cells, 4 * cells), order=order)
        sol = fk.poisson(D, 0.0, bc={"outer": fk.Dirichlet(u)})
        assert sol.info.method == "nested" and sol.info.residual < 1e-12
        errors.append([sol.error(u, "L2"), sol.error(u, "H1", grad=grad)])
        h.append(1.0 / cells)
    l2, h1 = _rates(h, errors)
    assert abs(l2 - (order + 1)) < 0.2 and abs(h1 - order) < 0.2


@pytest.mark.parametrize("order", [1, 2, 3])
def test_annulus_log_r_with_robin_and_neumann_inner(order):
    # u = log r: harmonic; on r = 0.5 the outward normal is -e_r, ∂u/∂n = -1/r = -2
    def u(r, t):
        return np.log(r) + 0 * t

    grad = (lambda r, t: 1 / r + 0 * t, lambda r, t: 0 * r * t)
    for inner in (fk.Robin(1.0, -2.0 + np.log(0.5)), fk.Neumann(-2.0)):
        errors, h = [], []
        for cells in (4, 8, 16):
            V = fk.TensorSpace.annulus(0.5, 1.0, cells=(cells, 8), order=order)
            sol = fk.poisson(V, 0.0, bc={"inner": inner, "outer": fk.Dirichlet(0.0)})
            errors.append([sol.error(u, "L2"), sol.error(u, "H1", grad=grad)])
            h.append(0.5 / cells)
        l2, h1 = _rates(h, errors)
        assert abs(l2 - (order + 1)) < 0.2 and abs(h1 - order) < 0.2


@pytest.mark.parametrize("order", [1, 2, 3])
def test_sector_with_dirichlet_edges_through_the_tip(order):
    # u = r³ e^{-r} sin 3θ vanishes on θ = 0 and θ = π/3; f = -Δu in polar form
    def u(r, t):
        return r**3 * np.exp(-r) * np.sin(3 * t)

    def f(r, t):
        g = r**3 * np.exp(-r)
        g1 = 3 * r**2 * np.exp(-r) - g
        g2 = 6 * r * np.exp(-r) - 6 * r**2 * np.exp(-r) + g
        return -(g2 + g1 / r - 9 * g / r**2) * np.sin(3 * t)

    grad = (
        lambda r, t: (3 * r**2 - r**3) * np.exp(-r) * np.sin(3 * t),
        lambda r, t: 3 * r**3 * np.exp(-r) * np.cos(3 * t),
    )
    errors, h = [], []
    for cells in (4, 8, 16):
        S = fk.TensorSpace.sector(
            0.0, 1.0, angle=(0.0, np.pi / 3), cells=(cells, cells), order=order
        )
        sol = fk.poisson(S, f, bc={"outer": fk.Dirichlet(u)})
        errors.append([sol.error(u, "L2"), sol.error(u, "H1", grad=grad)])
        h.append(1.0 / cells)
    l2, h1 = _rates(h, errors)
    assert abs(l2 - (order + 1)) < 0.2 and abs(h1 - order) < 0.2


def test_pure_neumann_disk_solution():
    # u = r² cos 2θ = x² - y²: harmonic, ∂u/∂r = 2 cos 2θ on r = 1, zero mean (so the
    # solution, normalised to zero mean, converges to u itself at rate p + 1)
    def u(r, t):
        return r**2 * np.cos(2 * t)

    errors, h = [], []
    for cells in (4, 8, 16):
        D = fk.TensorSpace.disk(radius=1.0, cells=(cells, 4 * cells), order=2)
        sol = fk.poisson(D, 0.0, bc={"outer": fk.Neumann(lambda r, t: 2 * r * np.cos(2 * t))})
        assert sol.info.method == "nested"
        errors.append([sol.error(u, "L2")])
        h.append(1.0 / cells)
    assert abs(_rates(h, errors)[0] - 3) < 0.2


@pytest.mark.parametrize("order", [1, 2, 3])
def test_cylinder_manufactured_solution(order):
    # u = exp(x) sin(y) (1 + z²): -Δu = -2 exp(x) sin(y)
    def u(r, t, z):
        return np.exp(r * np.cos(t)) * np.sin(r * np.sin(t)) * (1 + z**2)

    def f(r, t, z):
        return -2 * np.exp(r * np.cos(t)) * np.sin(r * np.sin(t)) + 0 * z

    def ux(r, t, z):
        return u(r, t, z)

    def uy(r, t, z):
        return np.exp(r * np.cos(t)) * np.cos(r * np.sin(t)) * (1 + z**2)

    grad = (
        lambda r, t, z: ux(r, t, z) * np.cos(t) + uy(r, t, z) * np.sin(t),
        lambda r, t, z: r * (-ux(r, t, z) * np.sin(t) + uy(r, t, z) * np.cos(t)),
        lambda r, t, z: np.exp(r * np.cos(t)) * np.sin(r * np.sin(t)) * 2 * z,
    )
    errors, h = [], []
    for cells in (2, 4, 8):
        C = fk.TensorSpace.cylinder(
            radius=1.0, height=1.0, cells=(cells, 4 * cells, cells), order=order
        )
        sol = fk.poisson(
            C, f, bc={"outer": fk.Dirichlet(u), "bottom": fk.Dirichlet(u), "top": fk.Dirichlet(u)}
        )
        assert sol.info.method == "nested"
        errors.append([sol.error(u, "L2"), sol.error(u, "H1", grad=grad)])
        h.append(1.0 / cells)
    l2, h1 = _rates(h, errors)
    assert abs(l2 - (order + 1)) < 0.3 and abs(h1 - order) < 0.2


@pytest.mark.parametrize("order", [1, 2, 3])
def test_spherical_shell_potential_and_harmonic(order):
    # u = 1/r (potential between spheres) and u = z = r cos θ (through the poles); both harmonic
    cases = [
        (
            lambda r, t, p: 1 / r + 0 * t * p,
            (
                lambda r, t, p: -1 / r**2 + 0 * t * p,
                lambda r, t, p: 0 * r * t * p,
                lambda r, t, p: 0 * r * t * p,
            ),
        ),
        (
            lambda r, t, p: r * np.cos(t) + 0 * p,
            (
                lambda r, t, p: np.cos(t) + 0 * r * p,
                lambda r, t, p: -r * np.sin(t) + 0 * p,
                lambda r, t, p: 0 * r * t * p,
            ),
        ),
    ]
    for u, grad in cases:
        errors, h = [], []
        for cells in (2, 4, 8):
            H = fk.TensorSpace.spherical_shell(
                0.5, 1.0, cells=(cells, 2 * cells, 4 * cells), order=order
            )
            sol = fk.poisson(H, 0.0, bc={"inner": fk.Dirichlet(u), "outer": fk.Dirichlet(u)})
            assert sol.info.method == "nested"
            errors.append([sol.error(u, "L2"), sol.error(u, "H1", grad=grad)])
            h.append(1.0 / cells)
        l2, h1 = _rates(h, errors)
        assert abs(l2 - (order + 1)) < 0.3 and abs(h1 - order) < 0.2


def test_axisymmetric_meridian_problem():
    # u = r² + z² in (r, z) with J = r: -Δu = -6; Dirichlet on the outer wall, bottom, top;
    # the axis r = 0 takes no condition (symmetry is natural); Q2 holds u exactly
    Vr = fk.Space1D(fk.Mesh1D.uniform(0.0, 1.0, 4), order=2)
    Vz = fk.Space1D(fk.Mesh1D.uniform(0.0, 1.0, 3), order=2)
    A = fk.TensorSpace([Vr, Vz], coordinates="axisymmetric")
    assert A.faces == ("outer", "bottom", "top")

    def u(r, z):
        return r**2 + z**2

    sol = fk.poisson(
        A, -6.0, bc={"outer": fk.Dirichlet(u), "bottom": fk.Dirichlet(u), "top": fk.Dirichlet(u)}
    )
    assert sol.error(u, "max") < 1e-12


def test_disk_plot_is_drawn_in_physical_coordinates():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    D = fk.TensorSpace.disk(radius=2.0, cells=(4, 12), order=2)
    sol = fk.poisson(D, 1.0)
    ax = sol.plot(label="u")
    try:
        x0, x1 = ax.dataLim.intervalx
        y0, y1 = ax.dataLim.intervaly
        # a disk of radius 2 (the seam closed: θ samples run over the whole turn)
        assert np.allclose([x0, x1, y0, y1], [-2, 2, -2, 2], atol=1e-9)
        assert ax.get_aspect() == 1.0 and ax.get_xlabel() == "x"
        assert len(ax.child_axes) == 1  # the colorbar, inset beside the panel
    finally:
        plt.close("all")


def test_vtk_points_are_physical(tmp_path):
    meshio = pytest.importorskip("meshio")
    D = fk.TensorSpace.disk(radius=2.0, cells=(2, 6), order=1)
    sol = fk.poisson(D, 1.0)
    sol.to_vtk(tmp_path / "u.vtu")
    m = meshio.read(tmp_path / "u.vtu")
    X, Y = D.to_cartesian(*D.grid())
    assert np.allclose(m.points[:, 0], X.ravel()) and np.allclose(m.points[:, 1], Y.ravel())
    assert np.allclose(np.hypot(m.points[:, 0], m.points[:, 1]).max(), 2.0)


def test_cli_eig_on_the_disk_prints_bessel_comparisons(tmp_path, capsys):
    import json

    from femkron.cli import main

    out = tmp_path / "eig.json"
    assert (
        main(
            [
                "eig",
                "--domain",
                "disk",
                "--cells",
                "6",
                "--order",
                "3",
                "-k",
                "5",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    exact = sorted(
        z**2 for m in range(3) for z in jn_zeros(m, 2) for _ in range(1 if m == 0 else 2)
    )[:5]
    assert np.allclose(data["exact"], exact, rtol=1e-14)
    assert max(data["relative_error"]) < 1e-5  # Q3 on 6 × 24 cells: (kh)^6-small
    assert "(1, 1)" in capsys.readouterr().out


@pytest.mark.parametrize("method", ["auto", "fdm", "direct", "cg", "amg"])
def test_every_method_solves_the_disk(method):
    # u = (1 - r²)/4 solves -Δu = 1 with u = 0 on r = 1; Q2 holds it up to the θ mesh
    # (u is radial: the error is rounding × cond for direct/nested, rtol × cond for Krylov)
    D = fk.TensorSpace.disk(radius=1.0, cells=(6, 24), order=2)
    sol = fk.poisson(D, 1.0, method=method)
    assert sol.error(lambda r, t: (1 - r**2) / 4 + 0 * t, "max") < 1e-8
    if method in ("auto", "fdm"):
        assert sol.info.method == "nested"


def test_a_robin_sector_edge_is_not_nested_and_says_so():
    # Robin on θ = const pairs e eᵀ with M_r[1]: no per-mode pencil; auto falls back to LU
    S = fk.TensorSpace.sector(0.0, 1.0, angle=(0.0, np.pi / 2), cells=(6, 6), order=2)

    def u(r, t):
        return r**2 * np.cos(2 * t)  # ∂u/∂n = 0 on both edges: Robin data α u

    bc = {"outer": fk.Dirichlet(u), "start": fk.Robin(1.0, u), "end": fk.Neumann()}
    sol = fk.poisson(S, 0.0, bc=bc)
    assert sol.info.method == "direct" and sol.error(u) < 1e-3
    with pytest.raises(fk.StructureError) as err:
        fk.poisson(S, 0.0, bc=bc, method="fdm")
    assert err.value.reason == "not-nested"


def test_heat_on_the_disk_decays_the_bessel_mode():
    # u0 = J0(j01 r) decays as exp(-j01² t); Crank–Nicolson error ~ t λ³ dt² / 12 ≈ 3e-5 here,
    # the space error (Q3, 8 radial cells) ~ 1e-6; every step is one nested solve
    from scipy.special import j0

    j = jn_zeros(0, 1)[0]
    D = fk.TensorSpace.disk(radius=1.0, cells=(8, 16), order=3)
    ht = fk.heat(D, lambda r, t: j0(j * r) + 0 * t, t_end=0.1, dt=0.0025)
    assert ht.info.method == "nested"
    err = fk.error(D, ht.values[-1], lambda r, t: np.exp(-(j**2) * 0.1) * j0(j * r) + 0 * t)
    assert err < 1e-4
    # the modal integrator (nested eigenbasis) adds no time error: only the space error
    modal = fk.heat(D, lambda r, t: j0(j * r) + 0 * t, t_end=0.1, dt=0.1, scheme="modal")
    err = fk.error(D, modal.values[-1], lambda r, t: np.exp(-(j**2) * 0.1) * j0(j * r) + 0 * t)
    assert modal.info.method == "modal" and err < 1e-5
