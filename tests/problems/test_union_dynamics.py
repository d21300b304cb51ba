"""Time-dependent data, reaction–diffusion, Newton and saved results on unions of boxes.

Truth: exact solutions with measured orders and rates, and the same discrete problem solved
by scipy's sparse LU on the independent element-by-element assembly of
``tests/union_reference.py``.
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from union_reference import BruteForce

import femkron as fk


# ---- heat with time-dependent data ------------------------------------------------------
def _heat_errors(theta, dts):
    # u = (1 + x + 2y) cos t: linear in space, so Q1 holds it exactly and the semi-discrete
    # solution is the exact one; what remains is the θ-scheme's global error C dt^q.  The
    # source f = u_t - Δu = -(1 + x + 2y) sin t, Dirichlet data (on the re-entrant faces too)
    # and a Neumann flux ∂u/∂n = -cos t on x = -1 all move in time.
    L = fk.BoxUnion.lshape(cells=4, order=1)

    def exact(x, y, t):
        return (1 + x + 2 * y) * np.cos(t)

    bc = {"x=-1": fk.Neumann(lambda x, y, t: -np.cos(t) + 0 * y), "boundary": fk.Dirichlet(exact)}
    truth = L.to_full(L.interpolate(lambda x, y: exact(x, y, 1.0)))
    out = []
    for dt in dts:
        ht = fk.heat(
            L,
            lambda x, y: 1 + x + 2 * y,
            1.0,
            dt,
            theta=theta,
            bc=bc,
            f=lambda x, y, t: -(1 + x + 2 * y) * np.sin(t),
            snapshots=2,
        )
        out.append(float(np.nanmax(np.abs(ht.values[-1] - truth))))
    return np.array(out)


@pytest.mark.parametrize(("theta", "order"), [(0.5, 2), (1.0, 1)])
def test_heat_with_time_dependent_data_on_a_union_measures_its_order(theta, order):
    e = _heat_errors(theta, (0.1, 0.05, 0.025))
    rates = np.log2(e[:-1] / e[1:])
    # error C dt^q (1 + O(dt)): measured 2.001, 2.000 (CN) and 1.02, 1.01 (BE)
    assert np.all(np.abs(rates - order) < 0.1), rates


# ---- reaction–diffusion -----------------------------------------------------------------
@pytest.mark.parametrize(("scheme", "order"), [("imex-euler", 1), ("sbdf2", 2)])
def test_reaction_diffusion_on_a_union_logistic_order(scheme, order):
    # a constant start under zero flux stays constant: the logistic ODE, exact solution
    # u(t) = u0 e^t / (1 - u0 + u0 e^t); the scheme's global error is C dt^q (1 + O(dt))
    L = fk.BoxUnion.lshape(cells=4, order=1)
    exact = 0.1 * np.e / (1 - 0.1 + 0.1 * np.e)
    errors = []
    for dt in (0.1, 0.05, 0.025):
        rd = fk.reaction_diffusion(L, 0.1, 1.0, lambda u: u * (1 - u), 1.0, dt, scheme=scheme)
        assert rd.info.method == "schur" and rd.values.shape == (11,) + L.shape
        assert np.isnan(rd.values[-1]).sum() == (~L.dof_mask).sum()  # blank outside
        errors.append(float(np.nanmax(np.abs(rd.values[-1] - exact))))
    rates = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all(np.abs(rates - order) < 0.15), rates


def test_two_species_on_a_union_equal_the_same_steps_by_sparse_lu():
    # Gray–Scott-like kinetics, two diffusion coefficients, zero flux, Q2 on the L-shape; the
    # same SBDF2 steps done with the brute-force K and M and scipy's sparse LU.  Each union
    # solve stops at relative residual 1e-10 and cond(c M + dt D K) ≤ 1e3 here, so each step
    # differs by ≤ 1e-7 relative, and 10 contracting steps add up to ≤ 1e-6.
    L = fk.BoxUnion.lshape(cells=4, order=2)
    D = (0.2, 0.05)
    nodes = [s.mesh.nodes for s in L.spaces]

    def neumann(d, c):
        return ("neumann", 0.0)

    K = [BruteForce(nodes, 2, L.cell_mask, neumann, kappa=d).A for d in D]
    M = BruteForce(nodes, 2, L.cell_mask, neumann, kappa=0.0, sigma=1.0).A
    act = L.dofs  # the union's dofs: the same flat bounding-grid indices
    K = [k[act][:, act].tocsc() for k in K]
    M = M[act][:, act].tocsc()

    def reaction(u, v):
        return (-u * v * v + 0.04 * (1 - u), u * v * v - 0.1 * v)

    def u0(x, y):
        return 1 - 0.5 * np.exp(-4 * (x + 0.5) ** 2 - 4 * y**2)

    def v0(x, y):
        return 0.25 * np.exp(-4 * (x + 0.5) ** 2 - 4 * y**2)

    rd = fk.reaction_diffusion(L, (u0, v0), D, reaction, 0.5, 0.05, snapshots=2)
    h = rd.dt
    U = [L.interpolate(u0), L.interpolate(v0)]
    old = R_old = None
    lu = {}
    for n in range(rd.steps):
        R = reaction(*U)
        c = 1.0 if n == 0 else 1.5
        new = []
        for i in range(2):
            if n == 0:
                z = U[i] + h * R[i]
            else:
                z = 2 * U[i] - 0.5 * old[i] + h * (2 * R[i] - R_old[i])
            if (c, i) not in lu:
                lu[c, i] = spla.splu((c * M + h * K[i]).tocsc())
            new.append(lu[c, i].solve(M @ z))
        old, U, R_old = U, new, R
    for i in range(2):
        got = L.from_full(rd.values[-1, i])
        assert np.linalg.norm(got - U[i]) <= 1e-6 * np.linalg.norm(U[i])
    assert rd.operators == 4  # two species × (IMEX-Euler start, SBDF2), each set up once


def test_reaction_diffusion_on_a_union_with_moving_dirichlet_data():
    # u = e^{-t} (x + y) solves u_t = Δu - u with reaction -u: linear in space, so Q1
    # holds it and only the time error O(dt²) of SBDF2 remains (here dt = 1/200: ≈ 1e-5)
    L = fk.BoxUnion.lshape(cells=4, order=1)
    bc = {"boundary": fk.Dirichlet(lambda x, y, t: np.exp(-t) * (x + y))}
    rd = fk.reaction_diffusion(
        L, lambda x, y: x + y, 1.0, lambda u: -u, 1.0, 0.005, bc=bc, snapshots=2
    )
    truth = L.to_full(L.interpolate(lambda x, y: np.exp(-1.0) * (x + y)))
    assert np.nanmax(np.abs(rd.values[-1] - truth)) < 1e-4


def test_reaction_diffusion_on_a_union_refuses_fdm():
    L = fk.BoxUnion.lshape(cells=2)
    with pytest.raises(fk.FemkronValueError):
        fk.reaction_diffusion(L, 0.1, 1.0, lambda u: u, 0.1, 0.01, method="fdm")


# ---- Newton -----------------------------------------------------------------------------
def _ex(x, y):
    return np.sin(np.pi * x) * np.sin(np.pi * y) + 0.5 * x


def _f(x, y):
    u = _ex(x, y)
    ux = np.pi * np.cos(np.pi * x) * np.sin(np.pi * y) + 0.5
    uy = np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
    lap = -2 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y)
    return -(1 + u**2) * lap - 2 * u * (ux**2 + uy**2)


@pytest.mark.parametrize("order", [1, 2])
def test_newton_on_a_union_converges_quadratically_and_at_rate_p_plus_1(order):
    # -∇·((1 + u²)∇u) = f with the smooth exact u (Dirichlet data on every face): the
    # discrete solution converges at L2 rate p + 1 (C h^{p+1} (1 + O(h))); the Newton
    # residuals fall quadratically once small (r_{k+1} ≤ C r_k², C ≈ 1 measured)
    errors = []
    for n in (8, 16):
        L = fk.BoxUnion.lshape(cells=n, order=order)
        sol = fk.nonlinear_poisson(
            L, _f, kappa=lambda u: 1 + u**2, bc={"boundary": fk.Dirichlet(_ex)}
        )
        assert isinstance(sol, fk.UnionSolution) and sol.info.converged
        assert "union solve" in sol.info.note
        errors.append(sol.error(_ex))
        r = np.array(sol.info.history)
        small = np.flatnonzero((r[:-1] < 5e-2) & (r[1:] > 1e-10))  # above the floor
        assert small.size and np.all(r[small + 1] <= 10 * r[small] ** 2), r
    rate = np.log2(errors[0] / errors[1])
    assert abs(rate - (order + 1)) < 0.2, rate


def test_newton_on_a_union_equals_lu_newton_on_the_brute_force_assembly():
    # -Δu + u³ = 1 with Robin on x = -1 and Dirichlet elsewhere: for Q1, u³ φ has degree ≤ 4
    # per axis, integrated exactly by both (Gauss p + 2 and p + 3 points), so both solve the
    # same discrete equations; Newton with dense Jacobians and sparse LU is the truth.
    L = fk.BoxUnion.lshape(cells=8, order=1)
    bc = {"x=-1": fk.Robin(2.0, 1.0), "boundary": fk.Dirichlet(0.0)}
    sol = fk.nonlinear_poisson(L, 1.0, reaction=lambda u: u**3, bc=bc, rtol=1e-13)

    def table(d, c):
        return ("robin", 2.0, 1.0) if (d == 0 and c == -1.0) else ("dirichlet", 0.0)

    ref = BruteForce([s.mesh.nodes for s in L.spaces], 1, L.cell_mask, table)
    A = ref.A.tocsr()
    free = np.flatnonzero(ref.active_dofs & ~ref.dirichlet)
    Af = A[free][:, free].tocsc()
    b = np.zeros(A.shape[0])
    for dofs, val, w, _ in ref.load_terms:
        np.add.at(b, dofs, (val.reshape(-1, val.shape[-1]).T @ w.reshape(-1)))
    b = (b + ref.boundary_load)[free]
    u = np.zeros(free.size)

    def cubic(u, derivative=False):
        full = np.zeros(A.shape[0])
        full[free] = u
        out = np.zeros(A.shape[0])
        rows, cols, vals = [], [], []
        for dofs, val, w, _ in ref.load_terms:
            tab = val.reshape(-1, val.shape[-1])
            uq = tab @ full[dofs]
            ww = w.reshape(-1)
            np.add.at(out, dofs, tab.T @ (ww * uq**3))
            if derivative:
                J = (tab * (ww * 3 * uq**2)[:, None]).T @ tab
                rows.append(np.repeat(dofs, len(dofs)))
                cols.append(np.tile(dofs, len(dofs)))
                vals.append(J.ravel())
        if not derivative:
            return out[free]
        import scipy.sparse as sp

        J = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=A.shape
        )
        return J[free][:, free]

    for _ in range(30):
        F = Af @ u + cubic(u) - b
        if np.linalg.norm(F) < 1e-14 * np.linalg.norm(b):
            break
        u -= spla.spsolve((Af + cubic(u, True)).tocsc(), F)
    full = np.zeros(A.shape[0])
    full[free] = u
    # both stop at residuals ~1e-13 relative; cond(J) ≈ 1e2 for 8 cells: ≤ 1e-10 relative
    got = L.to_full(sol.vector).reshape(-1)
    mask = ref.active_dofs
    assert np.allclose(got[mask], full[mask], rtol=0, atol=1e-10 * np.abs(full).max())


# ---- results saved and read back --------------------------------------------------------
@pytest.mark.parametrize("make", ["lshape", "fichera"])
def test_union_solution_saves_and_loads_bitwise(tmp_path, make):
    pytest.importorskip("xarray")
    if make == "lshape":
        U = fk.BoxUnion.lshape(cells=4, order=2)
        sol = fk.poisson(U, lambda x, y: np.exp(x * y), bc={"x=0": fk.Neumann(1.0)})
    else:
        U = fk.BoxUnion.fichera(cells=4, order=1)
        sol = fk.poisson(U, 1.0)
    ds = sol.to_xarray()
    assert np.isnan(ds["u"].values).sum() == (~U.dof_mask).sum() and "union_boxes" in ds.attrs
    path = tmp_path / f"{make}.nc"
    sol.save(path)
    back = fk.load_solution(path)
    assert isinstance(back, fk.UnionSolution) and back.V.boxes == U.boxes
    assert np.array_equal(back.V.cell_mask, U.cell_mask) and back.V.ndofs == U.ndofs
    assert back.vector.tobytes() == sol.vector.tobytes()
    assert back.values.tobytes() == sol.values.tobytes()  # the NaN outside included
    assert back.info.method == sol.info.method and back.info.residual == sol.info.residual
    assert back.problem == sol.problem


def test_union_heat_and_reaction_results_round_trip(tmp_path):
    pytest.importorskip("xarray")
    L = fk.BoxUnion.lshape(cells=4, order=1)
    ht = fk.heat(L, lambda x, y: x * y, 0.1, 0.01, snapshots=3)
    rd = fk.reaction_diffusion(L, (0.2, 0.1), (1.0, 0.5), lambda a, b: (-a * b, a * b), 0.1, 0.01,
                               snapshots=3)  # fmt: skip
    for res, name in ((ht, "heat.nc"), (rd, "rd.nc")):
        res.save(tmp_path / name)
        back = fk.load_solution(tmp_path / name)
        assert type(back) is type(res) and back.V.boxes == L.boxes
        assert back.values.tobytes() == np.asarray(res.values, dtype=float).tobytes()
        assert np.array_equal(back.t, res.t)
