"""fk.nonlinear_poisson: -∇·(κ(u)∇u) + g(u) = f by Newton–Krylov, matrix-free.

Truth is independent of the code: manufactured solutions with the load derived symbolically
by sympy (measured L2 rates p + 1), the Jacobian against central differences of the residual
(error model O(h²)), the Newton residual history against the quadratic model, and a problem
without solution (Bratu beyond its fold) for the failure."""

import math

import numpy as np
import pytest
import sympy

import femkron as fk
from femkron.fem.bc import BoundaryConditions
from femkron.problems.nonlinear import _Form, _PointFunction

X, Y = sympy.symbols("x y")


def manufactured(u_expr, kappa, reaction=None):
    """(exact, f) for -∇·(κ(u)∇u) + g(u) = f, derived by sympy from the expressions."""
    k = kappa(u_expr)
    f = -sympy.diff(k * sympy.diff(u_expr, X), X) - sympy.diff(k * sympy.diff(u_expr, Y), Y)
    if reaction is not None:
        f = f + reaction(u_expr)
    return sympy.lambdify((X, Y), u_expr, "numpy"), sympy.lambdify((X, Y), f, "numpy")


SINE = sympy.sin(sympy.pi * X) * sympy.sin(sympy.pi * Y)
EXACT, F_QUADRATIC = manufactured(SINE, lambda u: 1 + u**2)


def kappa_quadratic(u):
    return 1 + u**2


def rate(errors, cells):
    return fk.convergence_rate([1.0 / n for n in cells], errors)


@pytest.mark.parametrize("p, cells", [(1, (8, 16, 32)), (2, (8, 16))])
def test_manufactured_rate_p_plus_one(p, cells):
    errors = []
    for n in cells:
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=p)
        sol = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=kappa_quadratic)
        assert sol.info.converged and sol.info.residual <= 1e-10
        errors.append(sol.error(EXACT))
    # L2 error C h^{p+1} (1 + O(h²)): the measured slope within 0.1 of p + 1 on these meshes
    assert abs(rate(errors, cells) - (p + 1)) < 0.1, errors
    # κ' ≠ 0 makes the Jacobian non-symmetric: GMRES, preconditioned by fdm of the fit
    assert sol.info.linear_method == "fdm-gmres" and sol.info.derivatives == "complex-step"
    assert sol.problem == "nonlinear-poisson"


def test_quadratic_convergence_in_the_residual_history():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    sol = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=kappa_quadratic, rtol=1e-13)
    r = np.array(sol.info.history)
    assert r[0] == 1.0 and r[-1] <= 1e-13
    # Newton with Eisenstat-Walker forcing (η_k = O(r_k)) is q-quadratic: r_{k+1} = C r_k².
    # Then log r_{k+1} / log r_k = 2 + log C / log r_k, within 2 ± 1/3 for 0.1 <= C <= 10
    # once r_k <= 1e-3; judged on the steps above the rounding floor of the residual
    # (r_{k+1} >= 1e-12; the floor is about 1e-14 here)
    tail = [(a, b) for a, b in zip(r, r[1:]) if a <= 1e-3 and b >= 1e-12]
    assert tail, r
    for a, b in tail:
        assert abs(math.log(b) / math.log(a) - 2) <= 1 / 3, r
        assert 0.1 <= b / a**2 <= 10, r
    # the forcing terms follow: tight (≤ 1e-3) in the quadratic phase
    assert min(sol.info.forcing) <= 1e-3
    assert len(sol.info.forcing) == len(sol.info.step_lengths) == sol.info.iterations


def test_jacobian_is_the_derivative_of_the_residual():
    # κ(u) = 1 + u², g(u) = u³ + sin u, non-zero Dirichlet data, a Robin and a Neumann face
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(5, 7), order=2)
    bcs = BoundaryConditions(
        V,
        {
            "left": fk.Dirichlet(lambda x, y: 0.5 + y),
            "right": fk.Robin(2.0, 1.0),
            "top": fk.Neumann(lambda x, y: x),
        },
    )
    form = _Form(
        V,
        bcs,
        _PointFunction(kappa_quadratic, "kappa"),
        _PointFunction(lambda u: u**3 + np.sin(u), "reaction"),
        f=lambda x, y: x * y,
    )
    rng = np.random.default_rng(3)
    u = rng.standard_normal(bcs.ndofs)
    v = rng.standard_normal(bcs.ndofs)
    Jv = form.jacobian(u) @ v

    def central(h):
        return (form.residual(u + h * v) - form.residual(u - h * v)) / (2 * h)

    # central differences: error h²/6 |F'''[v,v,v]| + ε|F|/h; at h = 1e-2 the first term
    # dominates by orders of magnitude, so halving h divides the error by 4 (3.5-4.5 allows
    # the O(h⁴) term)
    e1 = np.linalg.norm(central(1e-2) - Jv)
    e2 = np.linalg.norm(central(5e-3) - Jv)
    assert 3.5 <= e1 / e2 <= 4.5, (e1, e2)
    assert e2 <= 1e-3 * np.linalg.norm(Jv)


def test_cg_path_with_dirichlet_lifting_and_a_monotone_reaction():
    # -Δu + u³ = f, u = xy + sin(πx) sin(πy): Dirichlet data xy on every face
    u_expr = X * Y + SINE
    exact, f = manufactured(u_expr, lambda u: 1, lambda u: u**3)
    errors, cells = [], (8, 16, 32)
    for n in cells:
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=1)
        sol = fk.nonlinear_poisson(
            V, f, reaction=lambda u: u**3, bc=fk.Dirichlet(lambda x, y: x * y)
        )
        errors.append(sol.error(exact))
    assert abs(rate(errors, cells) - 2) < 0.1, errors
    # κ a number and g' = 3u² ≥ 0: the Jacobian is SPD, CG
    assert sol.info.linear_method == "fdm-cg"


def test_neumann_flux_is_kappa_of_u_times_the_normal_derivative():
    # on x = 1, u = 0 so κ(u) = 1 and κ ∂u/∂x = -π sin(πy)
    errors, cells = [], (8, 16)
    for n in cells:
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        bc = {"right": fk.Neumann(lambda x, y: -np.pi * np.sin(np.pi * y))}
        sol = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=kappa_quadratic, bc=bc)
        errors.append(sol.error(EXACT))
    assert abs(rate(errors, cells) - 3) < 0.2, errors


def test_derivatives_given_complex_step_and_finite_differences():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    given = fk.nonlinear_poisson(
        V, F_QUADRATIC, kappa=kappa_quadratic, dkappa=lambda u: 2 * u, rtol=1e-12
    )
    step = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=kappa_quadratic, rtol=1e-12)
    assert given.info.derivatives == "given" and step.info.derivatives == "complex-step"
    # the complex step is exact to rounding: the same iterates, the same solution
    assert given.info.iterations == step.info.iterations
    assert np.max(np.abs(given.values - step.values)) <= 1e-12

    def real_only(u):
        if np.iscomplexobj(u):
            raise TypeError("real arrays only")
        return 1 + u**2

    fd = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=real_only, rtol=1e-12)
    assert fd.info.derivatives == "finite-difference"
    # central differences are accurate to ~1e-10: the same solution within the tolerance
    assert np.max(np.abs(fd.values - step.values)) <= 1e-9
    # u|u| (= u² here, u ≥ 0) is not analytic: its complex step gives |u| instead of 2|u|;
    # the check against a central difference on the first call detects it
    nonanalytic = fk.nonlinear_poisson(
        V, F_QUADRATIC, kappa=lambda u: 1 + u * np.abs(u), rtol=1e-12
    )
    assert nonanalytic.info.derivatives == "finite-difference"
    assert np.max(np.abs(nonanalytic.values - step.values)) <= 1e-9


def test_constant_preconditioner_and_initial_guess():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=12, order=2)
    ref = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=kappa_quadratic, rtol=1e-12)
    const = fk.nonlinear_poisson(
        V, F_QUADRATIC, kappa=kappa_quadratic, preconditioner="constant", rtol=1e-12
    )
    assert np.max(np.abs(const.values - ref.values)) <= 1e-10
    # started at the solution: at most one more step (rtol is relative to ‖F(u0)‖)
    warm = fk.nonlinear_poisson(V, F_QUADRATIC, kappa=kappa_quadratic, u0=ref.values)
    assert warm.info.iterations <= 1
    assert np.max(np.abs(warm.values - ref.values)) <= 1e-10


def test_no_solution_raises_convergence_error_with_the_history():
    # Bratu -Δu = λ eᵘ has no solution for λ > λ_c ≈ 6.808 (Newton cannot find one)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    with pytest.raises(fk.ConvergenceError) as err:
        fk.nonlinear_poisson(V, 0.0, reaction=lambda u: -10.0 * np.exp(u), maxiter=30)
    e = err.value
    assert e.reason in ("line-search", "not-converged")
    assert len(e.residuals) == e.iterations + 1 and e.residuals[0] == 1.0
    assert min(e.residuals) > 1e-3  # never close to a root
    assert e.x is not None and e.x.shape == (49,)
    # below the fold there is one (the lower solution): found
    sol = fk.nonlinear_poisson(V, 0.0, reaction=lambda u: -6.0 * np.exp(u))
    assert sol.info.converged and sol.info.linear_method == "fdm-gmres"


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(kappa="1 + u**2"), fk.FemkronTypeError),
        (dict(kappa=-1.0), fk.FemkronValueError),
        (dict(reaction=2.0), fk.FemkronTypeError),
        (dict(dkappa=lambda u: 0 * u), fk.FemkronValueError),  # κ a number
        (dict(dreaction=lambda u: 0 * u), fk.FemkronValueError),  # no reaction
        (dict(krylov="lu"), fk.FemkronValueError),
        (dict(preconditioner="amg"), fk.FemkronValueError),
        (dict(u0=np.zeros(7)), fk.FemkronValueError),
        (dict(maxiter=0), fk.FemkronValueError),
        (dict(kappa=lambda u: u), fk.FemkronValueError),  # κ(0) = 0 at the initial guess
        (dict(kappa=lambda u: np.ones(3)), fk.FemkronValueError),  # not elementwise
        (dict(bc=fk.Neumann(0.0)), fk.FemkronValueError),  # no unique solution
    ],
)
def test_bad_input(kwargs, error):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    with pytest.raises(error):
        fk.nonlinear_poisson(V, 1.0, **kwargs)


def test_one_and_three_dimensions():
    # 1D: -((1 + u²) u')' = f with u = sin(πx), f by sympy (y absent)
    x = sympy.symbols("x")
    u1 = sympy.sin(sympy.pi * x)
    f1 = sympy.lambdify(x, -sympy.diff((1 + u1**2) * sympy.diff(u1, x), x), "numpy")
    e1 = sympy.lambdify(x, u1, "numpy")
    errors = []
    for n in (8, 16):
        V = fk.TensorSpace.box([(0, 1)], cells=n, order=2)
        errors.append(fk.nonlinear_poisson(V, f1, kappa=kappa_quadratic).error(e1))
    assert abs(rate(errors, (8, 16)) - 3) < 0.1, errors
    # 3D, Q2 on 4 and 8 cells per axis: rate 3 within 0.2 (coarser meshes)
    z = sympy.symbols("z")
    u3 = SINE * sympy.sin(sympy.pi * z)
    k3 = 1 + u3**2
    f3 = -sum(sympy.diff(k3 * sympy.diff(u3, v), v) for v in (X, Y, z))
    f3 = sympy.lambdify((X, Y, z), f3, "numpy")
    e3 = sympy.lambdify((X, Y, z), u3, "numpy")
    errors = []
    for n in (4, 8):
        V = fk.TensorSpace.box([(0, 1)] * 3, cells=n, order=2)
        errors.append(fk.nonlinear_poisson(V, f3, kappa=kappa_quadratic).error(e3))
    assert abs(rate(errors, (4, 8)) - 3) < 0.2, errors


def test_periodic_axis_and_initial_guess_as_a_number():
    # -Δu + u³ + u = f with u = cos(2πx) sin(πy), periodic in x (truth by sympy)
    u_expr = sympy.cos(2 * sympy.pi * X) * sympy.sin(sympy.pi * Y)
    exact, f = manufactured(u_expr, lambda u: 1, lambda u: u**3 + u)
    errors = []
    for n in (8, 16):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        sol = fk.nonlinear_poisson(
            V, f, reaction=lambda u: u**3 + u, bc={"x": fk.Periodic()}, u0=0.1
        )
        errors.append(sol.error(exact))
    assert abs(rate(errors, (8, 16)) - 3) < 0.2, errors


def test_solution_declares_its_attributes_and_refuses_huge_problems():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    sol = fk.nonlinear_poisson(V, 1.0, kappa=kappa_quadratic)
    declared = set(fk.Solution.__doc__.split("Attributes")[1].split("Examples")[0].split())
    assert set(vars(sol)) <= declared
    info_doc = fk.NewtonInfo.__doc__ + fk.SolveInfo.__doc__
    assert all(name in info_doc for name in vars(sol.info))
    big = fk.TensorSpace.box([(0, 1)] * 3, cells=600, order=1)
    with pytest.raises(fk.ResourceError):
        fk.nonlinear_poisson(big, 1.0)


def test_curvilinear_annulus_manufactured():
    # polar coordinates: -(1/r)(r κ u_r)_r - (1/r²)(κ u_θ)_θ = f, derived by sympy
    r, th = sympy.symbols("r theta")
    u = sympy.sin(2 * sympy.pi * (r - sympy.Rational(1, 2))) * (1 + sympy.cos(th) / 2)
    k = 1 + u**2
    f = -sympy.diff(r * k * sympy.diff(u, r), r) / r - sympy.diff(k * sympy.diff(u, th), th) / r**2
    f = sympy.lambdify((r, th), f, "numpy")
    exact = sympy.lambdify((r, th), u, "numpy")
    for p, cells in ((1, (4, 8, 16)), (2, (4, 8))):
        errors = []
        for n in cells:
            A = fk.TensorSpace.annulus(0.5, 1.0, cells=(n, 8 * n), order=p)
            sol = fk.nonlinear_poisson(A, f, kappa=kappa_quadratic)
            errors.append(sol.error(exact))
        assert abs(rate(errors, cells) - (p + 1)) < 0.1, (p, errors)
    # the separable fit is for boxes; "auto" took the constant-coefficient operator, solved
    # exactly (fdm) and given to GMRES as its preconditioner
    assert sol.info.linear_method == "gmres"
    with pytest.raises(fk.FemkronValueError):
        fk.nonlinear_poisson(A, f, kappa=kappa_quadratic, preconditioner="separable")


def test_disk_bratu_lower_solution_is_exact():
    # Bratu on the unit disk: u = 2 ln((1 + β)/(1 + β r²)) solves -Δu = λ eᵘ with
    # λ = 8β/(1 + β)² (Liouville); β = 1/2 is the lower branch. The disk has a pole at r = 0
    beta = 0.5
    lam = 8 * beta / (1 + beta) ** 2

    def exact(r, theta):
        return 2 * np.log((1 + beta) / (1 + beta * r**2)) + 0 * theta

    errors, cells = [], (4, 8)
    for n in cells:
        D = fk.TensorSpace.disk(radius=1.0, cells=(n, 4 * n), order=2)
        sol = fk.nonlinear_poisson(D, 0.0, reaction=lambda u: -lam * np.exp(u))
        errors.append(sol.error(exact))
    assert abs(rate(errors, cells) - 3) < 0.2, errors
