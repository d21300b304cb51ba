"""Reaction–diffusion by IMEX steps: measured orders, Allen–Cahn energy, species, bad input.

Truths used:

* the logistic equation ``u' = u(1 - u)`` (exact ``u = u0 eᵗ / (1 - u0 + u0 eᵗ)``) with
  spatially constant data under zero flux: the constant stays constant exactly (``A 1 = 0``),
  so the error is the scheme's time error alone;
* manufactured solutions with a source passed through the reaction's ``x, y, t`` arguments,
  on high-order spaces whose spatial error (``~h^{p+1}`` ≈ 1e-8 at ``p = 6``) is far below
  the time errors measured (≥ 1e-5);
* a linear exchange ``a ⇄ b`` with its exact exponential solution (two species);
* the Allen–Cahn energy ``∫ ε²/2 |∇u|² + (u² - 1)²/4``, which the flow decreases.
"""

import numpy as np
import pytest

import femkron as fk

ORDERS = {"imex-euler": 1, "sbdf2": 2}


def rates(errors):
    errors = np.asarray(errors)
    return np.log2(errors[:-1] / errors[1:])


@pytest.mark.parametrize("scheme", ["imex-euler", "sbdf2"])
def test_logistic_order_with_constant_data_under_zero_flux(scheme):
    # error = C dtᵖ (1 + O(dt)) with no spatial part: each halving shows p within 0.05
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(3, 2), order=2)
    exact = 0.1 * np.exp(2.0) / (0.9 + 0.1 * np.exp(2.0))
    errs = []
    for dt in (0.05, 0.025, 0.0125):
        rd = fk.reaction_diffusion(V, 0.1, 1.0, lambda u: u * (1 - u), t_end=2.0, dt=dt,
                                   scheme=scheme, snapshots=2)  # fmt: skip
        assert np.ptp(rd.values[-1]) < 1e-13  # still constant in space
        errs.append(np.abs(rd.values[-1] - exact).max())
    assert np.all(np.abs(rates(errs) - ORDERS[scheme]) < 0.05), (errs, rates(errs))


D = 0.1


def u_exact(x, y, t):
    return (1 + 0.5 * np.cos(np.pi * x) * np.cos(np.pi * y)) * np.exp(-t)


def manufactured(u, x, y, t):
    # R = -u² + s with s = u_t - D Δu + u² of the exact solution (zero flux on [0,1]²)
    ue = u_exact(x, y, t)
    lap = -(np.pi**2) * np.cos(np.pi * x) * np.cos(np.pi * y) * np.exp(-t)
    return -(u**2) + (-ue - D * lap + ue**2)


@pytest.mark.parametrize("scheme", ["imex-euler", "sbdf2"])
def test_manufactured_order_in_2d_with_a_source_of_x_y_t(scheme):
    # spatial error ~1e-8 (Q6, 4 cells) ≪ time errors ≥ 1e-6: rates within 0.15 of p (the
    # next term of the error, O(dt^{p+1}), moves the measured rate by O(dt): SBDF2 measures
    # 2.21, 2.12, 2.06 over successive halvings from dt = 0.05, approaching 2 from above)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=6)
    errs = []
    for dt in (0.025, 0.0125, 0.00625):
        rd = fk.reaction_diffusion(V, lambda x, y: u_exact(x, y, 0.0), D, manufactured,
                                   t_end=1.0, dt=dt, scheme=scheme, snapshots=2)  # fmt: skip
        ref = V.interpolate(lambda x, y: u_exact(x, y, 1.0))
        errs.append(np.abs(rd.values[-1] - ref).max())
    assert np.all(np.abs(rates(errs) - ORDERS[scheme]) < 0.15), (errs, rates(errs))
    assert rd.info.method == "fdm" and rd.operators == (2 if scheme == "sbdf2" else 1)


@pytest.mark.parametrize("scheme", ["imex-euler", "sbdf2"])
def test_manufactured_order_with_moving_dirichlet_data(scheme):
    # u = 2 + sin(x + t) on [0, 1], Dirichlet data u(·, t) at both ends: lifting at tⁿ⁺¹
    V = fk.TensorSpace.box([(0, 1)], cells=4, order=6)

    def ue(x, t):
        return 2 + np.sin(x + t)

    def reaction(u, x, t):
        return -(u**2) + np.cos(x + t) + D * np.sin(x + t) + ue(x, t) ** 2

    errs = []
    for dt in (0.05, 0.025, 0.0125):
        rd = fk.reaction_diffusion(V, lambda x: ue(x, 0.0), D, reaction, t_end=1.0, dt=dt,
                                   scheme=scheme, bc=fk.Dirichlet(ue), snapshots=2)  # fmt: skip
        errs.append(np.abs(rd.values[-1] - V.interpolate(lambda x: ue(x, 1.0))).max())
    assert np.all(np.abs(rates(errs) - ORDERS[scheme]) < 0.2), (errs, rates(errs))


def test_two_species_linear_exchange_against_its_exponential_solution():
    # a' = -k a + k b, b' = k a - k b: a = m + (a0 - m) e^{-2kt}, m = (a0 + b0)/2; SBDF2 error
    # C dt² with C ~ (2k)³/3 · t ≈ 2: at dt = 0.01 below 1e-3 relative, and species distinct
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    k, a0, b0 = 1.5, 1.0, 0.2
    rd = fk.reaction_diffusion(V, (a0, b0), (1.0, 0.01), lambda a, b: (k * (b - a), k * (a - b)),
                               t_end=1.0, dt=0.01, snapshots=5)  # fmt: skip
    assert rd.values.shape == (5, 2, 3, 3) and rd.species == 2
    m = (a0 + b0) / 2
    for t, frame in zip(rd.t, rd.values):
        a = m + (a0 - m) * np.exp(-2 * k * t)
        b = m + (b0 - m) * np.exp(-2 * k * t)
        np.testing.assert_allclose(frame[0], a, rtol=1e-3)
        np.testing.assert_allclose(frame[1], b, rtol=1e-3)
    assert rd.operators == 4  # two diffusions × (Euler starter, SBDF2)
    np.testing.assert_array_equal(rd.component(1).values, rd.values[:, 1])
    assert rd.snapshot(-1, species=1).values.shape == V.shape


def test_diffusion_of_one_species_matches_the_heat_equation():
    # no reaction: IMEX Euler is backward Euler for u_t = D Δu (same dofs, zero flux)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    u0 = lambda x, y: np.cos(np.pi * x) * (1 + y**2)  # noqa: E731
    rd = fk.reaction_diffusion(V, u0, 0.3, lambda u: 0 * u, t_end=0.2, dt=0.01,
                               scheme="imex-euler", snapshots=3)  # fmt: skip
    ht = fk.heat(V, u0, t_end=0.2, dt=0.01, theta=1.0, kappa=0.3, bc=fk.Neumann(0.0),
                 snapshots=3)  # fmt: skip
    # the same linear systems solved by fdm: equal up to rounding × modest condition
    np.testing.assert_allclose(rd.values, ht.values, rtol=0, atol=1e-12)


def allen_cahn_energy(V, u, eps):
    """``ε²/2 uᵀKu + ∫ (u_h² - 1)²/4`` with Gauss quadrature of the FE function u_h."""
    K = fk.stiffness(V)
    grad = 0.5 * eps**2 * float(u @ (K @ u))
    pts, wts = [], []
    for s in V.spaces:  # 2p + 2 Gauss points per cell: exact for the degree-4p integrand
        x, w = fk.gauss_legendre(2 * s.order + 2)
        a = s.mesh.nodes[:-1, None]
        hcell = np.diff(s.mesh.nodes)[:, None]
        pts.append((a + hcell * (x + 1) / 2).ravel())
        wts.append((hcell / 2 * w).ravel())
    U = V.evaluate(u, pts)
    return grad + float(np.einsum("i,j,ij->", *wts, (U**2 - 1) ** 2 / 4))


@pytest.mark.parametrize("scheme", ["imex-euler", "sbdf2"])
def test_allen_cahn_energy_never_increases(scheme):
    # the flow decreases E at the rate ∫ u_t²; the scheme's defect per snapshot interval is
    # O(dt) of that decrease, so E at the snapshots must decrease (to rounding, 1e-12 E)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    eps = 0.03
    rng = np.random.default_rng(0)
    u0 = 0.1 * rng.standard_normal(V.shape)
    rd = fk.reaction_diffusion(V, u0, eps**2, lambda u: u - u**3, t_end=20.0, dt=0.05,
                               scheme=scheme, snapshots=21)  # fmt: skip
    E = np.array([allen_cahn_energy(V, f.reshape(-1), eps) for f in rd.values])
    assert np.all(np.diff(E) <= 1e-12 * E[0]), np.diff(E)
    assert E[-1] < 0.5 * E[0]  # and it really moved: phases separated
    assert np.abs(rd.values[-1]).max() < 1.05  # the maximum principle, up to O(dt)


def test_the_reaction_may_take_the_coordinates():
    V = fk.TensorSpace.box([(0, 1)], cells=4, order=2)
    rd = fk.reaction_diffusion(V, 0.0, 1.0, lambda u, x: 1.0 + 0 * x, t_end=0.5, dt=0.05)
    np.testing.assert_allclose(rd.values[-1], 0.5, atol=1e-13)  # u' = 1 exactly


# ---- bad input ------------------------------------------------------------------------------
V2 = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(reaction=lambda u: u[:-1]), fk.FemkronValueError, ["shape", "step 0", "t = 0"]),
        (dict(reaction=lambda u: (u, u)), fk.FemkronValueError, ["1 arrays", "2 values"]),
        (dict(reaction=lambda u, v, w, s, q: u), fk.FemkronTypeError, ["5 required", "R(u1)"]),
        (dict(reaction="u**2"), fk.FemkronTypeError, ["reaction", "callable"]),
        (dict(dt=0.0), fk.FemkronValueError, ["dt", "> 0"]),
        (dict(dt=-1.0), fk.FemkronValueError, ["dt", "> 0"]),
        (dict(diffusion=(1.0, 2.0)), fk.FemkronValueError, ["diffusion", "1 number", "got 2"]),
        (dict(diffusion=-1.0), fk.FemkronValueError, ["diffusion", ">= 0"]),
        (dict(scheme="rk4"), fk.FemkronValueError, ["scheme", "sbdf2"]),
        (dict(bc=(None, None)), fk.FemkronValueError, ["bc", "1 entries"]),
        (dict(u0=np.ones(7)), fk.FemkronValueError, ["u0", "25"]),
    ],
)
def test_bad_input_is_refused_clearly(kwargs, error, words):
    args = dict(u0=0.5, diffusion=1.0, reaction=lambda u: u, t_end=0.1, dt=0.01)
    args.update(kwargs)
    with pytest.raises(error) as err:
        fk.reaction_diffusion(V2, **args)
    for word in words:
        assert word in str(err.value), str(err.value)


def test_a_run_that_blows_up_names_the_step_and_time():
    # u' = u³ from u0 = 1 blows up at t = 1/2; explicit steps overflow a few steps later
    with pytest.raises(fk.FemkronValueError) as err:
        with np.errstate(over="ignore", invalid="ignore"):
            fk.reaction_diffusion(V2, 1.0, 1.0, lambda u: u**3, t_end=2.0, dt=0.1,
                                  scheme="imex-euler", snapshots=2)  # fmt: skip
    assert err.value.reason == "not-finite"
    text = str(err.value)
    step = int(text.split("at step ")[1].split(" ")[0])
    t = float(text.split("(t = ")[1].split(")")[0])
    assert 4 <= step < 20 and t == pytest.approx(0.1 * step)


def test_several_species_need_the_right_number_of_diffusions_and_outputs():
    with pytest.raises(fk.FemkronValueError, match="2 numbers"):
        fk.reaction_diffusion(V2, (1.0, 0.0), (1.0, 2.0, 3.0), lambda a, b: (a, b), 0.1, 0.01)
    with pytest.raises(fk.FemkronValueError, match="2 arrays") as err:
        fk.reaction_diffusion(V2, (1.0, 0.0), 1.0, lambda a, b: a, 0.1, 0.01)
    assert err.value.reason == "shape"
