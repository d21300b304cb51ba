"""Heat equation: measured time orders of the θ-scheme against the exact-in-time modal
integrator, the modal integrator against the analytic decay, variable κ, bad input."""

import numpy as np
import pytest

import femkron as fk

U0 = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y) + x * y * (1 - x)  # noqa: E731
BC = {"right": fk.Dirichlet(lambda x, y: 0.5 * y), "top": fk.Neumann(0.2)}


@pytest.mark.parametrize("theta, order", [(1.0, 1), (0.5, 2)])
def test_time_order(theta, order):
    # data compatible with the boundary conditions, so no stiff transient spoils the order
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    u0 = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y) * (1 + x)  # noqa: E731
    f = lambda x, y: np.sin(np.pi * x) * np.sin(2 * np.pi * y)  # noqa: E731
    kw = dict(t_end=0.2, f=f, snapshots=2, progress=False)
    exact = fk.heat(V, u0, dt=0.1, scheme="modal", **kw).values[-1]  # only the time error
    dts = [0.02, 0.01, 0.005]
    errs = [np.abs(fk.heat(V, u0, dt=dt, theta=theta, **kw).values[-1] - exact).max() for dt in dts]
    assert abs(fk.convergence_rate(dts, errs) - order) < 0.15, errs


def test_modal_against_analytic_decay_and_steady_state():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=3)
    eig = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)  # noqa: E731
    ht = fk.heat(V, eig, t_end=0.1, dt=0.02, scheme="modal", snapshots=6, progress=False)
    assert np.allclose(ht.t, np.linspace(0, 0.1, 6)) and ht.steps == 0
    for t, frame in zip(ht.t, ht.values):
        ref = np.exp(-2 * np.pi**2 * t) * V.interpolate(eig)
        assert np.abs(frame - ref).max() < 2e-5
    # long times: the steady Poisson solution with the same data
    late = fk.heat(V, 0.0, t_end=50.0, dt=25.0, bc=BC, f=1.0, scheme="modal", progress=False)
    steady = fk.poisson(V, 1.0, bc=BC)
    assert np.abs(late.values[-1] - steady.values).max() < 1e-10


def test_modal_pure_neumann_keeps_the_mean_growing():
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=5, order=2)
    ht = fk.heat(V, 1.0, t_end=1.0, dt=0.5, bc=fk.Neumann(0.0), f=3.0, scheme="modal")
    M = fk.mass(V)
    means = [float(np.ones(V.ndofs) @ (M @ v.reshape(-1))) / 2.0 for v in ht.values]
    assert np.allclose(means, 1.0 + 3.0 * ht.t)


def test_variable_kappa_with_every_solver():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    kappa = lambda x, y: 1 + 0.5 * np.sin(3 * x) * y  # noqa: E731
    kw = dict(t_end=0.05, dt=0.01, kappa=kappa, f=1.0, snapshots=3, progress=False)
    ref = fk.heat(V, U0, coefficient="assembled", method="direct", **kw)
    for coefficient, method in [("matfree", "fdm"), ("lowrank", "auto"), ("matfree", "cg")]:
        ht = fk.heat(V, U0, coefficient=coefficient, method=method, **kw)
        assert np.abs(ht.values - ref.values).max() < 1e-8, (coefficient, method)
    assert fk.heat(V, U0, coefficient="matfree", **kw).info.method == "fdm-cg"


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(dt=0.0), ["dt", "> 0"]),
        (dict(dt=-1.0), ["dt", "> 0"]),
        (dict(t_end=-0.1), ["t_end", ">= 0"]),
        (dict(theta=1.5), ["theta", "[0, 1]"]),
        (dict(scheme="euler"), ["scheme", "'euler'", "modal"]),
        (dict(scheme="modal", kappa=lambda x, y: 1 + x), ["modal", "constant kappa"]),
        (dict(kappa=lambda x, y: x - 1), ["kappa", "> 0"]),
    ],
)
def test_bad_input(kwargs, words):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    args = dict(t_end=0.1, dt=0.01)
    args.update(kwargs)
    with pytest.raises(fk.FemkronValueError) as err:
        fk.heat(V, 0.0, **args)
    for w in words:
        assert w in str(err.value), (w, str(err.value))
