"""Measured convergence with manufactured solutions: for orders 1–4 in 1D, 2D and 3D, on
uniform and graded meshes, with Dirichlet (homogeneous and not), Neumann, Robin, periodic and
mixed conditions, constant and variable coefficients.  The L2 error must decay like h^(p+1)
and the H1-seminorm error like h^p: the least-squares slope of log(error) against log(h)
(``fk.convergence_rate``) is asserted within 0.2 of p + 1 and p."""

import functools
import operator

import numpy as np
import pytest

import femkron as fk

BOX = [(0.0, 1.0), (-0.5, 1.0), (0.25, 1.25)]
PHI = 0.3
FACES = [("left", "right"), ("bottom", "top"), ("front", "back")]
# coarse cells per axis and refinement factors: inside the asymptotic range, but small
REFINE = {
    1: {1: (8, (1, 2, 4)), 2: (8, (1, 2, 4)), 3: (8, (1, 2, 4)), 4: (8, (1, 2, 4))},
    2: {1: (8, (1, 2, 4)), 2: (4, (1, 2, 4)), 3: (4, (1, 2, 3)), 4: (4, (1, 2, 3))},
    3: {1: (8, (1, 2, 3)), 2: (4, (1, 2, 3)), 3: (3, (1, 2, 3)), 4: (2, (2, 3, 4))},
}


class PlaneWave:
    """u = sin(k·x + φ) with κ = kappa(x) (a callable, a tuple of 1D factors or a number)."""

    def __init__(self, k, kappa=1.0):
        self.k = np.asarray(k, dtype=float)
        self.kappa = kappa

    def theta(self, *x):
        return sum(kd * xd for kd, xd in zip(self.k, x)) + PHI

    def u(self, *x):
        return np.sin(self.theta(*x))

    def grad(self, d):
        return lambda *x: self.k[d] * np.cos(self.theta(*x))

    def kappa_and_grad(self, *x):
        """κ and ∇κ at the points (a separable tuple is multiplied out here)."""
        kap = self.kappa
        if isinstance(kap, (int, float)):
            return kap, [0.0] * len(x)
        if isinstance(kap, tuple):  # κ = Π a_d(x_d) with a_d = (value, derivative) pairs
            vals = [a(xd) for (a, _), xd in zip(kap, x)]
            ders = [da(xd) for (_, da), xd in zip(kap, x)]
            total = functools.reduce(operator.mul, vals)
            grads = [
                functools.reduce(
                    operator.mul, [ders[e] if e == d else vals[e] for e in range(len(x))]
                )
                for d in range(len(x))
            ]
            return total, grads
        return kap(*x), [kap.grad(d)(*x) for d in range(len(x))]

    def f(self, *x):
        # -∇·(κ∇u) = κ|k|² sin θ - cos θ Σ_d k_d ∂_d κ
        kap, dk = self.kappa_and_grad(*x)
        th = self.theta(*x)
        return kap * (self.k @ self.k) * np.sin(th) - np.cos(th) * sum(
            kd * g for kd, g in zip(self.k, dk)
        )

    def flux(self, d, side):
        """κ ∂u/∂n on the face (outward normal ±e_d)."""
        sign = 1.0 if side else -1.0
        return lambda *x: sign * self.kappa_and_grad(*x)[0] * self.grad(d)(*x)

    def mean(self, dim):
        """Mean of u over the box (exact)."""
        z = np.exp(1j * PHI)
        for kd, (a, b) in zip(self.k, BOX[:dim]):
            z = z * (np.exp(1j * kd * b) - np.exp(1j * kd * a)) / (1j * kd * (b - a))
        return float(np.imag(z))

    def fk_kappa(self):
        if isinstance(self.kappa, tuple):
            return tuple(a for a, _ in self.kappa)
        return self.kappa


class SineProduct:
    """u = Π sin(m_d π (x_d - a_d) / L_d): zero on every face, κ = 1."""

    def __init__(self, dim, m=(1, 1, 2)):
        self.w = np.array([m[d] * np.pi / (BOX[d][1] - BOX[d][0]) for d in range(dim)])
        self.a = np.array([BOX[d][0] for d in range(dim)])

    def _parts(self, x, d=None):
        return [
            (wd * np.cos(wd * (xd - ad)) if e == d else np.sin(wd * (xd - ad)))
            for e, (wd, ad, xd) in enumerate(zip(self.w, self.a, x))
        ]

    def u(self, *x):
        return functools.reduce(operator.mul, self._parts(x))

    def grad(self, d):
        return lambda *x: functools.reduce(operator.mul, self._parts(x, d))

    def f(self, *x):
        return (self.w @ self.w) * self.u(*x)


class Kappa:
    """A general (non-separable) coefficient κ = 1 + 0.5·x·y(·z) with its gradient."""

    def __call__(self, *x):
        return 1.0 + 0.5 * functools.reduce(operator.mul, x)

    def grad(self, d):
        def g(*x):
            return 0.5 * functools.reduce(
                operator.mul, [1.0 if e == d else xe for e, xe in enumerate(x)]
            )

        return g


def problem(kind, dim):
    """(manufactured solution, bc dict, exact for the error, whether mean-zero)."""
    k = np.array([1.3, -0.9, 1.1])[:dim] * np.pi
    alpha = 2.0
    if kind == "dirichlet0":
        sol = SineProduct(dim)
        return sol, None, sol.u
    if kind == "periodic":
        # k_d L_d a multiple of 2π on every axis
        kp = np.array([1.0, -1.0, 1.0])[:dim] * 2 * np.pi / np.array([b - a for a, b in BOX[:dim]])
        sol = PlaneWave(kp)
        return sol, {"xyz"[d]: fk.Periodic() for d in range(dim)}, sol.u
    kappa = {
        "kappa-separable": (
            (lambda x: 1 + 0.5 * x, lambda x: 0.5 + 0 * x),
            (lambda y: 2 + np.sin(y), np.cos),
            (lambda z: np.exp(z / 2), lambda z: 0.5 * np.exp(z / 2)),
        )[:dim],
        "kappa-general": Kappa(),
    }.get(kind, 1.0)
    sol = PlaneWave(k, kappa)
    bc = {}
    for d in range(dim):
        for side, name in enumerate(FACES[d]):
            g = sol.flux(d, side)
            if kind in ("dirichlet", "kappa-separable", "kappa-general"):
                bc[name] = fk.Dirichlet(sol.u)
            elif kind == "neumann":
                bc[name] = fk.Neumann(g)
            elif kind == "robin":
                bc[name] = fk.Robin(alpha, lambda *x, g=g: g(*x) + alpha * sol.u(*x))
            elif kind == "mixed":
                choice = (d + side) % 3
                if choice == 0:
                    bc[name] = fk.Dirichlet(sol.u)
                elif choice == 1:
                    bc[name] = fk.Neumann(g)
                else:
                    bc[name] = fk.Robin(alpha, lambda *x, g=g: g(*x) + alpha * sol.u(*x))
    if kind == "neumann":
        mean = sol.mean(dim)
        return sol, bc, lambda *x: sol.u(*x) - mean
    return sol, bc, sol.u


def meshes(dim, mesh_kind, n0, factor):
    out = []
    for d in range(dim):
        a, b = BOX[d]
        if mesh_kind == "uniform":
            out.append(fk.Mesh1D.uniform(a, b, n0 * factor))
        else:  # one fixed graded mesh, refined by splitting every cell: a nested family
            ratio = (1.3, 0.8, 1.25)[d]  # max/min cell about 2 on the coarsest mesh
            out.append(fk.Mesh1D.graded(a, b, n0, ratio=ratio).refine(factor))
    return out


SOLVERS = {1: ("direct", "auto"), 2: ("amg", "cg", "fdm", "auto"), 3: ("fdm", "auto")}


def study(dim, p, kind, mesh_kind, method):
    sol, bc, exact = problem(kind, dim)
    kappa = sol.fk_kappa() if isinstance(sol, PlaneWave) else 1.0
    n0, factors = REFINE[dim][p]
    hs, l2, h1 = [], [], []
    for factor in factors:
        ms = meshes(dim, mesh_kind, n0, factor)
        V = fk.TensorSpace([fk.Space1D(m, order=p) for m in ms])
        s = fk.poisson(V, sol.f, kappa=kappa, bc=bc, method=method, rtol=1e-12)
        hs.append(max(float(m.h.max()) for m in ms))
        l2.append(s.error(exact, "L2"))
        h1.append(s.error(exact, "H1", grad=tuple(sol.grad(d) for d in range(dim))))
        if kind in ("neumann", "periodic"):  # pure Neumann / periodic: mean-zero solution
            assert abs(fk.mass(V) @ s.values.reshape(-1) @ np.ones(V.ndofs)) < 1e-10
    return fk.convergence_rate(hs, l2), fk.convergence_rate(hs, h1), l2, h1


KINDS = ("dirichlet0", "dirichlet", "neumann", "robin", "periodic", "mixed")
CASES = [
    (dim, p, kind, mesh_kind)
    for dim in (1, 2, 3)
    for p in (1, 2, 3, 4)
    for kind in KINDS
    for mesh_kind in ("uniform", "graded")
]
CASES += [
    (dim, p, kind, "graded")
    for dim in (2, 3)
    for p in (1, 2, 3)
    for kind in ("kappa-separable", "kappa-general")
]


@pytest.mark.parametrize(
    "dim, p, kind, mesh_kind", CASES, ids=[f"{d}d-p{p}-{k}-{m}" for d, p, k, m in CASES]
)
def test_convergence_rates(dim, p, kind, mesh_kind):
    methods = SOLVERS[dim]
    method = methods[(p + KINDS.index(kind) if kind in KINDS else p) % len(methods)]
    if kind == "kappa-general":  # not a separable Kronecker sum: no fdm
        method = "amg" if dim == 2 else ("direct" if p == 1 else "cg")
    rate_l2, rate_h1, l2, h1 = study(dim, p, kind, mesh_kind, method)
    assert abs(rate_l2 - (p + 1)) < 0.2, (rate_l2, l2)
    assert abs(rate_h1 - p) < 0.2, (rate_h1, h1)
    assert l2[-1] < l2[0] and h1[-1] < h1[0]


def test_a_wrong_operator_does_not_converge():
    # the finite difference shortcut K⊗I + I⊗K in place of K⊗M + M⊗K: the same load and
    # boundary handling, but the solution does not converge to u (the rate test can fail)
    sol = SineProduct(2)
    errs, hs = [], []
    for n in (4, 8, 16):
        V = fk.TensorSpace.box(BOX[:2], cells=n, order=1)
        bcs = fk.BoundaryConditions(V)
        Kx, Ky = (s.stiffness() for s in V.spaces)
        Ix, Iy = (np.eye(s.ndofs) for s in V.spaces)
        A = bcs.constrain(fk.KronOperator([(1.0, (Kx, Iy)), (1.0, (Ix, Ky))]))
        b = bcs.restrict(fk.load_vector(V, sol.f))
        x, _ = fk.solve(A, b, method="direct")
        errs.append(fk.error(V, bcs.extend(x), sol.u))
        hs.append(V.spaces[0].mesh.h.max())
    assert min(errs) > 0.1 * max(errs)  # no convergence


@pytest.mark.parametrize("mesh_kind", ["uniform", "graded"])
def test_exponential_convergence_in_the_order(mesh_kind):
    # fixed mesh, growing order (GLL nodes): the error of a smooth solution decays
    # exponentially, down to round-off by order 12
    sol, bc, exact = problem("dirichlet", 2)
    errs = []
    for p in (2, 4, 6, 8, 10, 12):
        V = fk.TensorSpace([fk.Space1D(m, order=p) for m in meshes(2, mesh_kind, 2, 1)])
        errs.append(fk.poisson(V, sol.f, bc=bc).error(exact))
    errs = np.array(errs)
    assert np.all(errs[1:4] < errs[:3] / 50)  # each +2 in order gains > 50x while resolved
    assert errs[-1] < 1e-11
