"""Heat equation.

The references are independent of femkron's time integrators: the exact semi-discrete
solution ``w(t) = w_∞ + e^{-t M⁻¹A} (w(0) - w_∞)`` by ``scipy.linalg.expm`` on small dense
matrices, and the analytic decay ``e^{-λt} u0`` of a Dirichlet eigenfunction.  Also: the step
and snapshot times reported, the info of the step solver, the stability bound of θ < 1/2,
variable κ and bad input.
"""

import re

import numpy as np
import pytest
import scipy.linalg

import femkron as fk

U0 = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y) + x * y * (1 - x)  # noqa: E731
BC = {"right": fk.Dirichlet(lambda x, y: 0.5 * y), "top": fk.Neumann(0.2)}
KAPPA = lambda x, y: 1 + 0.5 * np.sin(3 * x) * y  # noqa: E731

# data compatible with homogeneous Dirichlet conditions, so no stiff transient spoils the order
SMOOTH_U0 = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y) * (1 + x)  # noqa: E731
SMOOTH_F = lambda x, y: np.sin(np.pi * x) * np.sin(2 * np.pi * y)  # noqa: E731


def dense(X, n):
    """A constrained operator as a dense array (any operator with ``@``)."""
    return X.toarray() if hasattr(X, "toarray") else np.column_stack([X @ e for e in np.eye(n)])


def free_values(bcs, u):
    """The values of a full-grid ``u`` at the free dofs (what the time stepping evolves)."""
    U = np.asarray(u).reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)


def semi_discrete(V, u0, f, t, bc=None):
    """The exact solution of ``M w' + A w = b`` at ``t`` (full grid), by dense ``expm``.

    Homogeneous data of the conditions only (no lifting): ``w_∞ = A⁻¹b`` is the steady state.
    """
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    A = bcs.constrain(A).toarray()
    M = bcs.constrain(fk.mass(V)).toarray()
    b = bcs.restrict(fk.load_vector(V, f))
    w0 = free_values(bcs, V.interpolate(u0))
    w_inf = np.linalg.solve(A, b)
    w = w_inf + scipy.linalg.expm(-t * np.linalg.solve(M, A)) @ (w0 - w_inf)
    return bcs.extend(w, None).reshape(V.shape)


@pytest.mark.parametrize("theta, order", [(1.0, 1), (0.5, 2)])
def test_time_order_against_the_exact_semi_discrete_solution(theta, order):
    # the reference is exact in time for the same spatial discretisation: the error is the
    # time error alone, C dtᵖ; each of 3 halvings of dt must show the order within ±0.15
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    kw = dict(t_end=0.2, f=SMOOTH_F, snapshots=2, progress=False)
    exact = semi_discrete(V, SMOOTH_U0, SMOOTH_F, 0.2)
    dts = [0.04, 0.02, 0.01, 0.005]
    errs = []
    for dt in dts:
        ht = fk.heat(V, SMOOTH_U0, dt=dt, theta=theta, **kw)
        assert ht.dt == pytest.approx(dt, rel=1e-12)  # these steps divide t_end
        errs.append(np.abs(ht.values[-1] - exact).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(rates - order) < 0.15), (rates, errs)


@pytest.mark.parametrize(
    "bc", [None, {"left": fk.Neumann(0.0), "top": fk.Robin(2.0, 0.0)}, {"x": fk.Periodic()}]
)
def test_modal_is_the_exact_semi_discrete_solution(bc):
    # exact in time: equal to the expm reference up to rounding (× a modest condition)
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(4, 5), order=2)
    ht = fk.heat(V, SMOOTH_U0, t_end=0.3, dt=0.1, bc=bc, f=SMOOTH_F, scheme="modal",
                 snapshots=4, progress=False)  # fmt: skip
    for t, frame in zip(ht.t, ht.values):
        ref = semi_discrete(V, SMOOTH_U0, SMOOTH_F, t, bc)
        assert np.abs(frame - ref).max() < 1e-11 * np.abs(ref).max(), t


@pytest.mark.parametrize("order", [2, 3])
def test_modal_decays_like_the_analytic_solution_to_the_spatial_error(order):
    # u0 = sin(πx) sin(πy/2) on [0,1]×[0,2], homogeneous Dirichlet: u(t) = e^{-λt} u0 with
    # λ = π²(1 + 1/4).  The modal integrator adds no time error, so its L2 error is the
    # spatial one, C h^{p+1} at every time: the rate over two mesh halvings must be p + 1
    eig = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y / 2)  # noqa: E731
    lam = np.pi**2 * (1 + 0.25)
    errs = []
    for cells in (4, 8, 16):
        V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(cells, 2 * cells), order=order)
        ht = fk.heat(V, eig, t_end=0.2, dt=0.05, scheme="modal", snapshots=5, progress=False)
        assert np.allclose(ht.t, np.linspace(0, 0.2, 5)) and ht.steps == 0
        errs.append(max(
            ht.snapshot(i).error(lambda x, y, t=t: np.exp(-lam * t) * eig(x, y), "L2")
            for i, t in enumerate(ht.t) if t > 0
        ))  # fmt: skip
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(rates - (order + 1)) < 0.15), (rates, errs)


def test_modal_steady_state_is_the_poisson_solution():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=3)
    late = fk.heat(V, 0.0, t_end=50.0, dt=25.0, bc=BC, f=1.0, scheme="modal", progress=False)
    steady = fk.poisson(V, 1.0, bc=BC)
    assert np.abs(late.values[-1] - steady.values).max() < 1e-10


@pytest.mark.parametrize(
    "t_end, dt, snapshots, steps",
    [
        (0.05, 0.01, 11, 10),  # 5 steps cannot give 11 snapshots: 10 steps of 0.005
        (0.05, 0.01, 3, 6),  # 5 steps cannot be split in 2: 6 steps of 1/120
        (0.1, 0.03, 3, 4),  # ceil(0.1 / 0.03) = 4 steps of 0.025
        (0.3, 0.1, 4, 3),  # 0.3 / 0.1 = 2.9999999999999996 is 3 steps, up to rounding
        (1.0, 0.001, 11, 1000),
        (0.2, 1.0, 2, 1),  # dt > t_end: one step
    ],
)
def test_step_and_snapshot_times_are_reported_as_documented(t_end, dt, snapshots, steps):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    kw = dict(t_end=t_end, dt=dt, snapshots=snapshots, f=1.0, progress=False)
    ht = fk.heat(V, U0, **kw)
    assert ht.steps == steps and ht.dt == pytest.approx(t_end / steps, rel=1e-14)
    assert ht.dt <= dt * (1 + 1e-10)  # never a longer step than asked
    # ... and the longest such step: one block of snapshots - 1 fewer steps would exceed dt
    per = snapshots - 1
    assert steps == per or t_end / (steps - per) > dt * (1 + 1e-10)
    # snapshots: `snapshots` equally spaced multiples of the step, including 0 and t_end
    assert len(ht.t) == len(ht.values) == snapshots
    assert np.allclose(ht.t, np.linspace(0, t_end, snapshots), rtol=0, atol=1e-15)
    assert ht.t[0] == 0.0 and ht.t[-1] == t_end
    k = ht.t / ht.dt
    assert np.allclose(k, np.round(k), rtol=0, atol=1e-9)
    # the frames are the states after those steps: those of a run that saves every step
    if steps <= 100:
        every = fk.heat(V, U0, t_end=t_end, dt=dt, snapshots=steps + 1, f=1.0, progress=False)
        assert every.steps == steps
        np.testing.assert_allclose(ht.values, every.values[:: steps // per], rtol=0, atol=1e-13)
    # the modal integrator reports the same times
    modal = fk.heat(V, U0, scheme="modal", **kw)
    np.testing.assert_array_equal(modal.t, ht.t)
    assert modal.steps == 0 and modal.dt == ht.dt
    assert f"{steps} steps of dt={ht.dt:.6g}" in repr(ht)


def test_t_end_zero_gives_every_snapshot_at_t_0():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    for scheme in ("theta", "modal"):
        ht = fk.heat(V, U0, t_end=0.0, dt=0.1, snapshots=3, scheme=scheme, progress=False)
        assert ht.steps == 0 and np.array_equal(ht.t, np.zeros(3))
        assert np.all(ht.values == ht.values[0]), scheme
        assert ht.info.residual == 0.0


@pytest.mark.parametrize(
    "kwargs, method, krylov",
    [
        (dict(), "fdm", False),
        (dict(method="direct"), "direct", False),
        (dict(method="cg"), "cg", True),
        (dict(kappa=KAPPA, coefficient="matfree"), "fdm-cg", True),
    ],
)
def test_info_counts_steps_and_krylov_iterations_and_has_a_real_residual(kwargs, method, krylov):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    ht = fk.heat(V, U0, t_end=0.05, dt=0.005, f=1.0, bc=BC, snapshots=3, progress=False,
                 **kwargs)  # fmt: skip
    info = ht.info
    assert ht.steps == 10 and info.method == method
    # iterations are Krylov iterations only: none for a direct or fdm step, never the steps
    if krylov:
        assert info.iterations >= ht.steps  # at least one per step, summed over the steps
    else:
        assert info.iterations == 0
    # the true relative residual of the last step, a real number
    assert np.isfinite(info.residual) and 0.0 <= info.residual < 1e-9, info.residual
    text = str(ht)
    assert text.startswith(f"{method}: 10 steps of dt=0.005, {info.iterations} iterations, ")
    assert "nan" not in text and "nan" not in str(info) and "nan" not in repr(ht)


@pytest.mark.parametrize("method, rtol", [("cg", 1e-4), ("fdm", 1e-10)])
def test_the_reported_residual_is_the_true_residual_of_the_last_step(method, rtol):
    # recomputed here from the last two states: ‖r - (M + θ dt A) wⁿ‖ / ‖r‖ with
    # r = (M - (1-θ) dt A) wⁿ⁻¹ + dt b (a loose Krylov tolerance makes it visible)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    theta, dt = 0.5, 0.005
    ht = fk.heat(V, U0, t_end=0.05, dt=dt, f=1.0, theta=theta, method=method, rtol=rtol,
                 snapshots=11, progress=False)  # fmt: skip
    assert ht.steps == 10
    bcs = fk.BoundaryConditions(V, None)
    A, M = bcs.constrain(fk.stiffness(V)), bcs.constrain(fk.mass(V))
    b = bcs.restrict(fk.load_vector(V, 1.0))
    w_prev, w = (free_values(bcs, v) for v in ht.values[-2:])
    r = M @ w_prev - (1 - theta) * dt * (A @ w_prev) + dt * b
    true = np.linalg.norm(r - M @ w - theta * dt * (A @ w)) / np.linalg.norm(r)
    assert ht.info.residual == pytest.approx(true, rel=1e-6, abs=1e-15)
    assert ht.info.residual <= 10 * rtol


def modal_stability_limit(V, bc, kappa, theta, coefficient="auto"):
    """2 / ((1 - 2θ) λ_max) from a dense generalized eigensolve of the constrained pencil."""
    system = fk.LinearSystem(V, 0.0, kappa, bc, coefficient=coefficient, check_compatible=False)
    n = system.A.shape[0]
    A = dense(system.A, n)
    M = system.bcs.constrain(fk.mass(V)).toarray()
    lam = scipy.linalg.eigh((A + A.T) / 2, M, eigvals_only=True)[-1]
    return 2.0 / ((1.0 - 2.0 * theta) * lam)


@pytest.mark.parametrize(
    "cells, kappa, bc, coefficient, theta",
    [
        (4, 1.0, None, "auto", 0.0),  # constant κ: exact from the 1D pencils
        (5, fk.Anisotropic(1.0, 3.0), {"left": fk.Neumann(0.0), "top": fk.Robin(2.0, 0.0)},
         "auto", 0.25),
        (5, 2.0, {"x": fk.Periodic()}, "auto", 0.0),
        (5, KAPPA, None, "matfree", 0.0),  # variable κ, small: dense
        (16, KAPPA, {"left": fk.Robin(3.0, 0.0)}, "lowrank", 0.0),  # 992 dofs: Lanczos
    ],
)  # fmt: skip
def test_explicit_steps_beyond_the_stability_bound_are_refused(
    cells, kappa, bc, coefficient, theta
):
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(cells, cells), order=2)
    limit = modal_stability_limit(V, bc, kappa, theta, coefficient)
    kw = dict(bc=bc, kappa=kappa, coefficient=coefficient, theta=theta, snapshots=2,
              progress=False)  # fmt: skip
    # just inside: runs, and stays bounded (|1 - dt λ / (1 + θ dt λ)| ≤ 1 for every mode)
    dt = 0.999 * limit
    ht = fk.heat(V, U0, t_end=4 * dt, dt=dt, **kw)
    assert ht.steps == 4 and np.abs(ht.values[-1]).max() <= 2 * np.abs(ht.values[0]).max()
    # just outside: refused, naming dt, theta and the bound
    dt = 1.001 * limit
    with pytest.raises(fk.FemkronValueError) as err:
        fk.heat(V, U0, t_end=4 * dt, dt=dt, **kw)
    message = str(err.value)
    assert err.value.reason == "unstable"
    assert f"dt={dt:.6g}" in message and f"theta={theta:g}" in message, message
    bound = float(re.search(r"lambda_max\) = ([0-9.e+-]+)", message).group(1))
    assert bound == pytest.approx(limit, rel=1e-5), message


def test_an_unstable_explicit_run_is_refused_not_returned():
    # the run of the issue: forward Euler with 40× its stability limit used to return 1e17
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    with pytest.raises(fk.FemkronValueError, match="unstable") as err:
        fk.heat(V, 1.0, t_end=1.0, dt=0.01, theta=0.0, progress=False)
    assert err.value.reason == "unstable"
    # θ ≥ 1/2 has no bound: the same step is accepted, and the L2 norm does not grow
    ht = fk.heat(V, 1.0, t_end=1.0, dt=0.01, theta=0.5, progress=False)
    norms = [ht.snapshot(i).error(lambda x, y: 0 * x, "L2") for i in range(len(ht.t))]
    assert np.all(np.diff(norms) <= 1e-14), norms


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


def test_allow_unstable_runs_past_the_bound_and_the_instability_shows():
    V = fk.TensorSpace.box([(0, 1)], cells=8, order=1)
    # the largest eigenvalue of M⁻¹A on 7 interior dofs, from a dense scipy solve
    s = V.spaces[0]
    K, M = s.stiffness().toarray()[1:-1, 1:-1], s.mass().toarray()[1:-1, 1:-1]
    dt = 1.5 * 2.0 / scipy.linalg.eigh(K, M, eigvals_only=True)[-1]
    u0 = lambda x: np.sin(np.pi * x)  # noqa: E731
    with pytest.raises(fk.FemkronValueError) as err:
        fk.heat(V, u0, t_end=200 * dt, dt=dt, theta=0.0, snapshots=2)
    assert err.value.reason == "unstable"
    run = fk.heat(V, u0, t_end=200 * dt, dt=dt, theta=0.0, snapshots=2, allow_unstable=True)
    # the top mode grows by |1 - dt λ_max| = 2 per step from round-off (1e-16): 2^200 ≫ 1
    assert np.abs(run.values[-1]).max() > 1e6
    with pytest.raises(TypeError, match="allow_unstable"):
        fk.heat(V, u0, t_end=dt, dt=dt, theta=0.0, allow_unstable="yes")
