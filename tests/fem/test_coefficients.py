"""Variable coefficients: manufactured solutions with measured rates through the three
representations (low-rank expansion, element-by-element assembly, matrix-free), their
agreement, the separable preconditioner, and bad coefficients."""

import numpy as np
import pytest

import femkron as fk


def product(funcs, xs):
    out = 1.0
    for g, x in zip(funcs, xs):
        out = out * g(x)
    return out


class Manufactured:
    """u = Π sin(π x_d), κ = 1 + ½ sin(π x) · y (· z) (not separable), σ optional."""

    def __init__(self, dim, anisotropic=False, reaction=False):
        self.dim = dim
        self.anisotropic = anisotropic
        self.reaction = reaction

    def u(self, *x):
        return product([lambda t: np.sin(np.pi * t)] * self.dim, x)

    def du(self, d, *x):
        fs = [lambda t: np.sin(np.pi * t)] * self.dim
        fs[d] = lambda t: np.pi * np.cos(np.pi * t)
        return product(fs, x)

    def kappa_scalar(self, *x):
        rest = 1.0
        for t in x[1:]:
            rest = rest * t
        return 1.0 + 0.5 * np.sin(np.pi * x[0]) * rest

    def dkappa(self, d, *x):
        rest = 1.0
        for e, t in enumerate(x[1:], start=1):
            rest = rest * (1.0 if e == d else t)
        if d == 0:
            return 0.5 * np.pi * np.cos(np.pi * x[0]) * rest
        return 0.5 * np.sin(np.pi * x[0]) * rest

    def component(self, d, *x):  # anisotropic: κ_d = (1 + d/2) κ
        return (1.0 + 0.5 * d) * self.kappa_scalar(*x)

    def sigma(self, *x):
        return 2.0 + np.cos(np.pi * x[0])

    @property
    def kappa(self):
        if self.anisotropic:
            return fk.Anisotropic(
                *[(lambda *x, d=d: self.component(d, *x)) for d in range(self.dim)]
            )
        return self.kappa_scalar

    def f(self, *x):
        # -Σ_d ∂_d(κ_d ∂_d u) = Σ_d (κ_d π² u - ∂_d κ_d ∂_d u)
        out = 0.0
        for d in range(self.dim):
            scale = (1.0 + 0.5 * d) if self.anisotropic else 1.0
            kd = scale * self.kappa_scalar(*x)
            out = out + kd * np.pi**2 * self.u(*x) - scale * self.dkappa(d, *x) * self.du(d, *x)
        if self.reaction:
            out = out + self.sigma(*x) * self.u(*x)
        return out


PATHS = [("lowrank", "fdm"), ("assembled", "direct"), ("matfree", "fdm")]
RATE_CASES = [(2, p, path, m) for p in (1, 2, 3) for path, m in PATHS] + [
    (3, p, path, m) for p in (1, 2) for path, m in PATHS
]
CELLS = {2: {1: (4, 8, 16), 2: (4, 8, 16), 3: (3, 6, 12)}, 3: {1: (3, 6, 12), 2: (2, 4, 8)}}


@pytest.mark.parametrize(
    "dim, p, path, method", RATE_CASES, ids=[f"{d}d-p{p}-{c}" for d, p, c, _ in RATE_CASES]
)
def test_variable_kappa_rates(dim, p, path, method):
    prob = Manufactured(dim, anisotropic=(p == 2), reaction=(p == 3))
    hs, l2, h1 = [], [], []
    for n in CELLS[dim][p]:
        V = fk.TensorSpace.box([(0.0, 1.0)] * dim, cells=n, order=p)
        sigma = prob.sigma if prob.reaction else 0.0
        sol = fk.poisson(
            V, prob.f, kappa=prob.kappa, sigma=sigma, coefficient=path, method=method, rtol=1e-12
        )
        assert sol.coefficient["path"] == path
        hs.append(1.0 / n)
        l2.append(sol.error(prob.u, "L2"))
        grad = tuple((lambda *x, d=d: prob.du(d, *x)) for d in range(dim))
        h1.append(sol.error(prob.u, "H1", grad=grad))
    assert abs(fk.convergence_rate(hs, l2) - (p + 1)) < 0.25, l2
    assert abs(fk.convergence_rate(hs, h1) - p) < 0.2, h1


@pytest.mark.parametrize("dim", [2, 3])
def test_three_paths_agree(dim):
    prob = Manufactured(dim, reaction=True)
    V = fk.TensorSpace.box([(0.0, 1.0)] * dim, cells=(5, 4, 3)[:dim], order=2)
    bc = {"left": fk.Neumann(0.3), "right": fk.Robin(2.0, 1.0), "bottom": fk.Dirichlet(0.5)}
    sols = {
        path: fk.poisson(
            V, prob.f, kappa=prob.kappa, sigma=prob.sigma, bc=bc, coefficient=path, rtol=1e-13
        )
        for path in ("lowrank", "assembled", "matfree")
    }
    ref = sols["assembled"].values
    scale = np.abs(ref).max()
    for path in ("lowrank", "matfree"):
        assert np.abs(sols[path].values - ref).max() < 1e-9 * scale, path
    info = sols["lowrank"].coefficient
    # κ = 1 + ½ sin(πx)·y(·z): TT ranks 2 (2, 2 in 3D: 4 terms); σ = 2 + cos(πx): rank 1
    assert info["error"] < 1e-10 and info["rank"] == [2 if dim == 2 else 4, 1]


def test_lowrank_is_exact_up_to_its_truncation():
    kappa = lambda x, y: np.exp(np.sin(2 * x) * np.cos(3 * y))  # noqa: E731
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    A = fk.assemble(V, kappa).toarray()
    errors, gaps = [], []
    for tol in (1e-2, 1e-4, 1e-8, 1e-12):
        made = []
        B = fk.stiffness(V, kappa, tol=tol, expansions=made).toarray()
        errors.append(made[0].error)
        gaps.append(np.abs(A - B).max() / np.abs(A).max())
    ranks = [fk.separable_expansion(V, kappa, tol=t).rank for t in (1e-2, 1e-4, 1e-8, 1e-12)]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]
    # the operator error follows the coefficient error, down to round-off
    for e, g in zip(errors, gaps):
        assert g <= 4 * e + 1e-13
    assert gaps[-1] < 1e-11 and gaps[0] > 1e-6


def test_paths_agree_on_polynomial_kappa_with_one_d_matrices():
    # for a polynomial κ the expansion is exact and every 1D matrix comes from Space1D,
    # an assembly independent of the tensor element assembly and the matrix-free operator
    V = fk.TensorSpace.box([(0, 1), (0, 2), (-1, 1)], cells=(2, 3, 2), order=(2, 1, 3))
    kappa = lambda x, y, z: 2 + x * y + z**2  # noqa: E731
    K = fk.stiffness(V, kappa).toarray()
    assert np.abs(fk.assemble(V, kappa).toarray() - K).max() < 1e-12 * np.abs(K).max()
    A = fk.MatrixFreeOperator(V, kappa)
    u = np.random.default_rng(3).standard_normal(V.ndofs)
    assert np.abs(A @ u - K @ u).max() < 1e-12 * np.abs(K @ u).max()


def test_anisotropic_constants_are_a_kronecker_sum():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(4, 5), order=2)
    Kx, Ky = V.spaces[0].stiffness(), V.spaces[1].stiffness()
    Mx, My = V.spaces[0].mass(), V.spaces[1].mass()
    dense = 3.0 * np.kron(Kx.toarray(), My.toarray()) + 0.5 * np.kron(Mx.toarray(), Ky.toarray())
    A = fk.stiffness(V, fk.Anisotropic(3.0, 0.5))
    assert np.abs(A.toarray() - dense).max() < 1e-12
    assert np.abs(fk.assemble(V, fk.Anisotropic(3.0, 0.5)).toarray() - dense).max() < 1e-12
    # separable, so fdm solves it exactly
    sol = fk.poisson(V, 1.0, kappa=fk.Anisotropic(3.0, 0.5))
    assert sol.info.method == "fdm"


def test_preconditioned_iterations_do_not_grow_with_the_mesh():
    kappa = lambda x, y: 1 + 9 * np.sin(np.pi * x) ** 2 * np.cos(np.pi * y) ** 2  # noqa: E731
    its = []
    for n in (8, 16, 32, 64, 128):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=1)
        sol = fk.poisson(V, 1.0, kappa=kappa, coefficient="matfree", method="fdm", rtol=1e-8)
        assert sol.info.method == "fdm-cg"
        its.append(sol.info.iterations)
    # bounded, and constant once the mesh resolves κ (coarse meshes have fewer modes)
    assert max(its[2:]) - min(its[2:]) <= 2 and max(its) <= 25, its
    # Jacobi-preconditioned CG on the same operator grows like 1/h
    jac = [
        fk.poisson(
            fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=1),
            1.0,
            kappa=kappa,
            method="cg",
            rtol=1e-8,
        ).info.iterations
        for n in (16, 32)
    ]
    assert jac[1] > 1.6 * jac[0] and jac[0] > its[1]


def test_separable_preconditioner_is_exact_for_separable_kappa():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    A = fk.MatrixFreeOperator(V, lambda x, y: (1 + x) * np.exp(y), bcs={})
    P = fk.SeparablePreconditioner(A, precision="double")
    assert P.contrast < 1 + 1e-10 and P.scaling is None
    b = np.random.default_rng(0).standard_normal(A.shape[0])
    assert np.abs(A @ P.solve(b) - b).max() < 1e-9 * np.abs(b).max()
    # in single precision: exact to single precision
    P32 = fk.SeparablePreconditioner(A)
    err = np.abs(A @ P32.solve(b) - b).max() / np.abs(b).max()
    assert 1e-9 < err < 1e-4


def test_scaling_and_single_precision_keep_the_accuracy():
    kappa = lambda x, y: 1 + 9 * np.sin(np.pi * x) ** 2 * np.cos(np.pi * y) ** 2  # noqa: E731
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=24, order=2)
    A = fk.MatrixFreeOperator(V, kappa, bcs={})
    b = np.random.default_rng(1).standard_normal(A.shape[0])
    abs_a = abs(A.tocsr())
    its = {}
    for scale in (False, True):
        for precision in ("double", "single"):
            P = fk.SeparablePreconditioner(A, scale=scale, precision=precision)
            x, info = fk.linalg.krylov_solve(A, b, "cg", P.solve, rtol=1e-12)
            # CG stops on its recurrence's residual; the true one differs by the residual
            # gap, at most k·ε·‖|A||x|‖ after k steps (Greenbaum 1997; 2e-13 ‖b‖ here)
            gap = info.iterations * np.finfo(float).eps * np.linalg.norm(abs_a @ np.abs(x))
            assert np.linalg.norm(b - A @ x) <= 1e-12 * np.linalg.norm(b) + gap
            its[scale, precision] = info.iterations
    # the diagonal scaling cuts the iterations at least in half; single precision costs
    # at most two extra iterations
    assert its[True, "double"] <= its[False, "double"] / 2, its
    assert its[True, "single"] <= its[True, "double"] + 2, its


def test_pure_neumann_variable_kappa():
    prob = Manufactured(2)
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=12, order=2)
    # u = cos(πx)cos(πy) has zero normal flux and zero mean
    ex = lambda x, y: np.cos(np.pi * x) * np.cos(np.pi * y)  # noqa: E731
    k, dk = prob.kappa_scalar, prob.dkappa

    def f(x, y):
        ux = -np.pi * np.sin(np.pi * x) * np.cos(np.pi * y)
        uy = -np.pi * np.cos(np.pi * x) * np.sin(np.pi * y)
        return k(x, y) * 2 * np.pi**2 * ex(x, y) - dk(0, x, y) * ux - dk(1, x, y) * uy

    bc = fk.Neumann(0.0)
    for path in ("matfree", "assembled", "lowrank"):
        sol = fk.poisson(V, f, kappa=k, bc=bc, coefficient=path)
        assert sol.error(ex) < 2e-4, path


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(kappa=lambda x, y: x - 0.5), ["kappa", "> 0", "quadrature"]),
        (dict(kappa=lambda x, y: np.where(x > 0.5, np.nan, 1.0)), ["kappa", "NaN"]),
        (dict(kappa=lambda x, y: 0.0 * x), ["kappa", "> 0"]),
        (dict(sigma=lambda x, y: y - 0.5), ["sigma", ">= 0"]),
        (dict(sigma=-1.0), ["sigma", ">= 0", "helmholtz"]),
        (dict(kappa=fk.Anisotropic(1.0, 2.0, 3.0)), ["kappa", "3 components", "2"]),
        (dict(kappa=fk.Anisotropic(1.0, lambda x, y: -1.0 + 0 * x)), ["component 1", "> 0"]),
        (dict(coefficient="dense"), ["coefficient", "'dense'", "matfree"]),
    ],
)
@pytest.mark.parametrize("path", ["lowrank", "assembled", "matfree"])
def test_bad_coefficients(kwargs, words, path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    kwargs = dict(kwargs)
    kwargs.setdefault("coefficient", path)
    with pytest.raises(ValueError) as err:
        fk.poisson(V, 1.0, **kwargs)
    assert isinstance(err.value, fk.FemkronValueError)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


def test_bad_anisotropic_and_sigma_types():
    with pytest.raises(fk.FemkronValueError, match="kappa component 0"):
        fk.Anisotropic(-1.0, 1.0)
    with pytest.raises(fk.FemkronTypeError, match="kappa component 1"):
        fk.Anisotropic(1.0, "a")
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    with pytest.raises(fk.FemkronTypeError, match="sigma"):
        fk.poisson(V, 1.0, sigma="a")
    with pytest.raises(fk.FemkronTypeError, match="Anisotropic"):
        fk.mass(V, fk.Anisotropic(1.0, 1.0))
