"""The generic inexact Newton–Krylov driver (femkron.linalg.newton) on small systems with known
roots: the root found, q-quadratic convergence with Eisenstat–Walker forcing, linear
convergence with a constant forcing term, the line search rescuing a step that diverges, the
preconditioned paths through make_solver, failures reported with their history, bad input."""

import math

import numpy as np
import pytest

import femkron as fk
from femkron.linalg.newton import eisenstat_walker, newton_krylov

RNG = np.random.default_rng(7)


def laplacian(n):
    """The 1D finite difference Laplacian (SPD, condition ~ n²) as a dense matrix."""
    return (n + 1) ** 2 * (2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1))


def cubic_problem(n=30):
    """F(x) = A x + x³ - b with the root x* chosen first (b = A x* + x*³): exact truth."""
    A = laplacian(n)
    xs = np.sin(np.linspace(0.2, 3.0, n)) * 2.0
    b = A @ xs + xs**3

    def F(x):
        return A @ x + x**3 - b

    def J(x):
        return A + np.diag(3 * x**2)

    return A, xs, F, J


def test_root_and_quadratic_convergence():
    A, xs, F, J = cubic_problem()
    x, info = newton_krylov(F, np.zeros(xs.size), J, rtol=1e-14, atol=1e-300)
    # backward error ‖F‖ ≤ 1e-14 ‖F(0)‖ and cond(J) ≤ cond(A) ~ 4n²/π² → forward error ~1e-10
    assert np.linalg.norm(x - xs) <= 1e-8 * np.linalg.norm(xs)
    assert info.converged and info.iterations == len(info.history) - 1
    r = np.array(info.history)
    # q-quadratic: r_{k+1} = C r_k² with C = O(1); in steps well above rounding (r ≥ 1e-12)
    # and inside the quadratic range (r_k ≤ 1e-3) log r_{k+1} / log r_k = 2 + log C / log r_k
    # lies in 2 ± 1/3 for C in [0.1, 10]
    tail = [(a, b) for a, b in zip(r, r[1:]) if a <= 1e-3 and b >= 1e-12]
    assert tail, r
    for a, b in tail:
        assert abs(math.log(b) / math.log(a) - 2) <= 1 / 3, r
        assert 0.1 <= b / a**2 <= 10, r
    assert info.forcing[0] == 0.5 and all(0 < e <= 0.9 for e in info.forcing)


def test_constant_forcing_converges_linearly():
    _, xs, F, J = cubic_problem()
    eta = 0.3
    x, info = newton_krylov(F, np.zeros(xs.size), J, forcing=eta, rtol=1e-10, krylov="cg")
    r = np.array(info.history)
    # ‖F_{k+1}‖ ≤ η ‖F_k‖ + O(‖F_k‖²): near the root every ratio is at most about η
    ratios = r[1:] / r[:-1]
    assert np.all(ratios[-3:] <= eta * 1.05), ratios
    assert info.iterations > 6  # slower than the quadratic run (5-6 steps)
    assert np.linalg.norm(x - xs) <= 1e-6 * np.linalg.norm(xs)


def test_jacobian_free_matches_the_root():
    _, xs, F, _ = cubic_problem(12)
    x, info = newton_krylov(F, np.zeros(xs.size), rtol=1e-10)
    # forward error ≤ cond × (rtol + the O(√ε) error of the directional difference)
    assert np.linalg.norm(x - xs) <= 1e-6 * np.linalg.norm(xs)
    assert info.linear_method == "gmres"


@pytest.mark.parametrize("krylov", ["cg", "gmres"])
def test_fdm_fit_preconditions_through_make_solver(krylov):
    # F(u) = K u + u³ - b on Q1 with K the constrained FEM stiffness, root chosen first
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=24, order=1)
    K = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    us = RNG.standard_normal(K.shape[0])
    b = K @ us + us**3

    def F(u):
        return K @ u + u**3 - b

    def J(u):
        return lambda v: K @ v + 3 * u**2 * v

    x, info = newton_krylov(F, np.zeros_like(us), J, fit=K, krylov=krylov, rtol=1e-12)
    assert np.linalg.norm(x - us) <= 1e-8 * np.linalg.norm(us)
    assert info.linear_method == f"fdm-{krylov}"
    # fdm of K is an exact inverse of the linear part: few Krylov iterations per step
    assert max(info.linear_iterations) <= 40, info.linear_iterations
    # the same with the fit rebuilt from u at every step
    x2, info2 = newton_krylov(F, np.zeros_like(us), J, fit=lambda u: K, krylov=krylov, rtol=1e-12)
    assert np.linalg.norm(x2 - us) <= 1e-8 * np.linalg.norm(us)


def test_line_search_rescues_a_diverging_newton():
    # arctan: full Newton steps from |x0| > 1.39 overshoot and diverge; the root is 0
    F = np.arctan

    def J(x):
        with np.errstate(over="ignore"):  # the iterates without line search grow past 1e154
            return np.diag(1 / (1 + x**2))

    x, info = newton_krylov(F, [10.0], J, rtol=1e-12)
    assert abs(x[0]) < 1e-11 and info.backtracks > 0 and min(info.step_lengths) < 1
    with pytest.raises(fk.ConvergenceError) as err:
        newton_krylov(F, [10.0], J, line_search=False, maxiter=20)
    assert err.value.reason == "not-converged"


def test_no_root_raises_with_the_history():
    F = lambda x: x**2 + 1.0  # noqa: E731  (no real root: ‖F‖ ≥ 1)
    J = lambda x: np.diag(2 * x)  # noqa: E731
    with pytest.raises(fk.ConvergenceError) as err:
        newton_krylov(F, [0.7], J, maxiter=30)
    e = err.value
    assert e.reason in ("line-search", "not-converged")
    assert len(e.residuals) == e.iterations + 1 and e.residuals[0] == 1.0
    assert min(e.residuals) > 0.5  # never near a root: ‖F‖ ≥ 1 while ‖F(x0)‖ = 1.49
    x, info = newton_krylov(F, [0.7], J, maxiter=30, raise_on_failure=False)
    assert not info.converged


def test_maxiter_reached():
    _, xs, F, J = cubic_problem()
    with pytest.raises(fk.ConvergenceError) as err:
        newton_krylov(F, np.zeros(xs.size), J, maxiter=2)
    assert err.value.reason == "not-converged" and len(err.value.residuals) == 3


def test_eisenstat_walker_safeguards():
    # choice 2: γ (ratio)^2 ...
    assert eisenstat_walker(0.1, 1.0, 0.01) == pytest.approx(0.9 * 0.01)
    # ... raised to γ η_old² when that exceeds 0.1 (a lucky fast step does not over-tighten)
    assert eisenstat_walker(0.01, 1.0, 0.9) == pytest.approx(0.9 * 0.81)
    # ... capped by eta_max and floored (no oversolving in the last step)
    assert eisenstat_walker(2.0, 1.0, 0.5) == 0.9
    assert eisenstat_walker(1e-8, 1e-4, 1e-4, floor=1e-3) == 1e-3


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(residual="F"), fk.FemkronTypeError),
        (dict(x0=[np.nan, 1.0]), fk.FemkronValueError),
        (dict(forcing=1.5), fk.FemkronValueError),
        (dict(forcing="choice-1"), fk.FemkronValueError),
        (dict(krylov="lu"), fk.FemkronValueError),
        (dict(rtol=0.0, atol=0.0), fk.FemkronValueError),
        (dict(eta_max=1.0), fk.FemkronValueError),
        (dict(maxiter=-1), fk.FemkronValueError),
        (dict(jacobian=3.0), fk.FemkronTypeError),
        (dict(fit=np.eye(2), precond=lambda r: r), fk.FemkronValueError),
    ],
)
def test_bad_input(kwargs, error):
    args = dict(residual=lambda x: x - 1.0, x0=[0.0, 0.0])
    args.update(kwargs)
    with pytest.raises(error):
        newton_krylov(args.pop("residual"), args.pop("x0"), **args)


def test_residual_of_the_wrong_shape_or_not_finite():
    with pytest.raises(fk.FemkronValueError, match="shape"):
        newton_krylov(lambda x: np.ones(3), [0.0, 0.0])
    with pytest.raises(fk.FemkronValueError, match="not finite"):
        newton_krylov(lambda x: x / 0.0, [0.0, 0.0])
