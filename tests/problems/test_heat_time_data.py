"""Heat with data that depend on time: ``f(x, y, t)`` and boundary data ``g(x, y, t)``.

The truth is an exact solution that lies in the finite element space at every time,
``u = cos 2t (1 + x² + y²) + sin t · x y`` with Q2 elements: the Galerkin semi-discrete
solution then equals it exactly (the load and face integrals are polynomials integrated
exactly by the default Gauss rule), so the whole error at the nodes is the θ-scheme's time
error ``C dtᵖ`` (+ rounding) and the measured order is the scheme's.
"""

import numpy as np
import pytest

import femkron as fk
from femkron.problems.timedata import conditions_at, takes_time


def exact(x, y, t):
    return np.cos(2 * t) * (1 + x**2 + y**2) + np.sin(t) * x * y


def source(x, y, t):  # u_t - Δu
    u_t = -2 * np.sin(2 * t) * (1 + x**2 + y**2) + np.cos(t) * x * y
    return u_t - 4 * np.cos(2 * t)


def flux_top(x, y, t):  # ∂u/∂y at y = 1 (outward normal +y)
    return 2 * y * np.cos(2 * t) + x * np.sin(t)


BC = {
    "left": fk.Dirichlet(exact),
    "right": fk.Dirichlet(exact),
    "bottom": fk.Dirichlet(exact),
    "top": fk.Neumann(flux_top),
}
V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=2)


def final_error(theta, dt, bc=BC, t_end=1.0):
    ht = fk.heat(
        V, lambda x, y: exact(x, y, 0.0), t_end=t_end, dt=dt, theta=theta, bc=bc, f=source,
        snapshots=2,
    )  # fmt: skip
    assert ht.dt == dt and ht.steps == round(t_end / dt)
    return np.abs(ht.values[-1] - V.interpolate(lambda x, y: exact(x, y, t_end))).max()


@pytest.mark.parametrize(
    "theta, order, dts",
    [(1.0, 1, [0.02, 0.01, 0.005]), (0.5, 2, [0.1, 0.05, 0.025])],
    ids=["backward-euler", "crank-nicolson"],
)
def test_measured_order_with_moving_source_and_dirichlet_data(theta, order, dts):
    # the error is C dtᵖ (1 + O(dt)) (no spatial error, see the module docstring): each
    # halving must show the order within 0.1; BE's next term c dt² moves its rate by ~c dt
    errs = np.array([final_error(theta, dt) for dt in dts])
    rates = np.log2(errs[:-1] / errs[1:])
    assert np.all(np.abs(rates - order) < 0.1), (errs, rates)
    assert errs[-1] < 1e-3  # and the errors are the scheme's, not a constant offset


def test_dropping_the_lifting_mass_term_would_lose_the_order():
    # the same run with Dirichlet data frozen at t = 0 is not the same problem: the error does
    # not go to zero (this would catch a lifting evaluated at the wrong time)
    frozen = {k: (fk.Dirichlet(lambda x, y: exact(x, y, 0.0)) if k != "top" else c)
              for k, c in BC.items()}  # fmt: skip
    assert final_error(0.5, 0.025, frozen) > 100 * final_error(0.5, 0.025)


def test_snapshots_carry_the_time_and_the_moving_boundary_values():
    ht = fk.heat(V, lambda x, y: exact(x, y, 0.0), t_end=1.0, dt=0.01, theta=0.5, bc=BC,
                 f=source, snapshots=5)  # fmt: skip
    np.testing.assert_allclose(ht.t, [0, 0.25, 0.5, 0.75, 1.0])
    assert ht.values.shape == (5,) + V.shape
    for t, frame in zip(ht.t, ht.values):
        # Dirichlet dofs hold g(t) exactly; the interior the CN error (C dt², C ~ 0.5)
        ref = V.interpolate(lambda x, y, t=t: exact(x, y, t))
        np.testing.assert_allclose(frame[0], ref[0], rtol=0, atol=1e-13)
        np.testing.assert_allclose(frame[:, 0], ref[:, 0], rtol=0, atol=1e-13)
        assert np.abs(frame - ref).max() < 1e-4


def test_a_callable_without_t_stays_constant_and_matches_the_old_path():
    f2 = lambda x, y: np.sin(np.pi * x) * y  # noqa: E731
    f3 = lambda x, y, t: np.sin(np.pi * x) * y  # noqa: E731
    bc2 = {"right": fk.Dirichlet(lambda x, y: y)}
    bc3 = {"right": fk.Dirichlet(lambda x, y, t: y)}
    a = fk.heat(V, 0.0, t_end=0.2, dt=0.02, bc=bc2, f=f2, snapshots=3)
    b = fk.heat(V, 0.0, t_end=0.2, dt=0.02, bc=bc3, f=f3, snapshots=3)
    # the same arithmetic up to the order of additions: rounding of O(10) flops per entry
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-13)


@pytest.mark.parametrize(
    "func, expected",
    [
        (1.0, False),
        (lambda x, y: x, False),
        (lambda x, y, t: x, True),
        (lambda x, y, t=0.0: x, True),
        (lambda x, y, c=2.0: x, False),  # a captured constant is not the time
        (lambda *xs: xs[0], False),  # a field or a wrapper of the coordinates
        (np.hypot, False),
        ((np.sin, np.cos), False),  # per-axis factors
    ],
)
def test_how_the_signature_is_read(func, expected):
    assert takes_time(func, dim=2) is expected


def test_an_expression_takes_time_when_its_last_variable_is_t():
    from femkron.fem.expressions import parse_expression

    assert takes_time(parse_expression("x*t", ("x", "y", "t")), dim=2)
    assert not takes_time(parse_expression("x*y", ("x", "y")), dim=2)


def test_conditions_at_fix_the_time_of_every_datum():
    bc = conditions_at({"left": fk.Robin(2.0, lambda x, y, t: t), "y": fk.Periodic()}, 3.0, 2)
    assert bc["left"].alpha == 2.0 and float(bc["left"].g(0.0, 0.0)) == 3.0
    assert isinstance(bc["y"], fk.Periodic)


def test_bad_time_data_are_refused_clearly():
    with pytest.raises(fk.FemkronTypeError, match=r"f .* requires 4 arguments"):
        fk.heat(V, 0.0, t_end=0.1, dt=0.01, f=lambda x, y, t, s: x)
    with pytest.raises(fk.FemkronValueError, match="modal") as err:
        fk.heat(V, 0.0, t_end=0.1, dt=0.01, f=source, scheme="modal")
    assert err.value.reason == "time-dependent"
    with pytest.raises(fk.FemkronValueError, match="modal"):
        fk.heat(V, 0.0, t_end=0.1, dt=0.01, bc=BC, scheme="modal")


def test_explicit_scheme_keeps_its_stability_refusal_with_moving_data():
    with pytest.raises(fk.FemkronValueError) as err:
        fk.heat(V, 0.0, t_end=0.1, dt=0.01, theta=0.0, bc=BC, f=source)
    assert err.value.reason == "unstable"
