"""Whole problems: Poisson reproduces polynomial solutions exactly under every boundary
condition, pure Neumann data are checked for compatibility, eigenpairs match scipy's dense eigh
on the assembled matrices, and bad input is refused."""

import numpy as np
import pytest
import scipy.linalg as sla
from reference_fem import box_eigenvalues, galerkin_constant

import femkron as fk

EPS = np.finfo(float).eps

BOX = [(0.0, 1.0), (-0.5, 1.0), (0.25, 1.25)]
FACES = [("left", "right"), ("bottom", "top"), ("front", "back")]


def quadratic(dim):
    """u = Σ c_d x_d² + x_0 x_{-1} / 2 + 1, its gradient and Δu (a constant)."""
    c = np.array([1.0, -0.5, 0.75])[:dim]

    def u(*x):
        return sum(cd * xd**2 for cd, xd in zip(c, x)) + 0.5 * x[0] * x[-1] + 1.0

    def grad(d):
        def g(*x):
            out = 2 * c[d] * x[d]
            if d == 0:
                out = out + 0.5 * x[-1]
            if d == dim - 1:
                out = out + 0.5 * x[0]
            return out

        return g

    lap = 2 * c.sum() + (1.0 if dim == 1 else 0.0)  # in 1D x_0 x_{-1} / 2 = x² / 2
    return u, [grad(d) for d in range(dim)], lap


def conditions(kind, dim, u, grad, kappa=1.0, alpha=1.5):
    def flux(d, side):
        s = 1.0 if side else -1.0
        return lambda *x: s * kappa * grad[d](*x)

    bc = {}
    for d in range(dim):
        for side, name in enumerate(FACES[d]):
            g = flux(d, side)
            robin = fk.Robin(alpha, lambda *x, g=g: g(*x) + alpha * u(*x))
            choice = {
                "dirichlet": fk.Dirichlet(u),
                "neumann": fk.Neumann(g),
                "robin": robin,
                "mixed": (fk.Dirichlet(u), fk.Neumann(g), robin)[(d + side) % 3],
            }[kind]
            bc[name] = choice
    return bc


def space(dim, p, graded=True):
    ms = [
        fk.Mesh1D.graded(a, b, 3, ratio=1.4) if graded else fk.Mesh1D.uniform(a, b, 3)
        for a, b in BOX[:dim]
    ]
    return fk.TensorSpace([fk.Space1D(m, order=p) for m in ms])


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("kind", ["dirichlet", "neumann", "robin", "mixed"])
@pytest.mark.parametrize("method", ["fdm", "direct", "cg", "amg"])
def test_quadratic_solution_is_reproduced_exactly(dim, kind, method):
    # u lies in the Q2 space: the Galerkin solution is u itself, up to round-off
    u, grad, lap = quadratic(dim)
    kappa = 2.5
    V = space(dim, 2)
    bc = conditions(kind, dim, u, grad, kappa=kappa)
    sol = fk.poisson(V, -kappa * lap, kappa=kappa, bc=bc, method=method, rtol=1e-13)
    assert isinstance(sol, fk.Solution) and sol.values.shape == V.shape
    assert sol.info.method == method
    exact = u
    if kind == "neumann":  # determined up to a constant: the solution has zero mean
        ones = np.ones(V.ndofs)
        mean = float(ones @ (fk.mass(V) @ V.interpolate(u).reshape(-1))) / V.volume
        exact = lambda *x: u(*x) - mean  # noqa: E731
        assert abs(ones @ (fk.mass(V) @ sol.vector)) < 1e-10
    assert sol.error(exact, "max") < 1e-9
    assert sol.error(exact, "L2") < 1e-9
    assert sol.error(exact, "H1", grad=grad) < 1e-8


@pytest.mark.parametrize("p", [3, 4])
def test_higher_orders_reproduce_the_quadratic_too(p):
    u, grad, lap = quadratic(2)
    V = space(2, p)
    sol = fk.poisson(V, -lap, bc=conditions("mixed", 2, u, grad))
    assert sol.error(u, "max") < 1e-9 and sol.error(u, "H1", grad=grad) < 1e-8


def test_periodic_with_dirichlet_in_the_other_axis():
    # u = sin(2πx) (1 + y) is periodic in x on [0, 1] and linear in y: exact in y
    V = space(2, 3, graded=False)
    u = lambda x, y: np.sin(2 * np.pi * x) * (1.0 + y)  # noqa: E731
    f = lambda x, y: 4 * np.pi**2 * u(x, y)  # noqa: E731
    bc = {"x": fk.Periodic(), "bottom": fk.Dirichlet(u), "top": fk.Dirichlet(u)}
    errs, hs = [], []
    for n in (4, 8, 16):
        ms = [fk.Mesh1D.uniform(0, 1, n), fk.Mesh1D.uniform(-0.5, 1.0, 2)]
        V = fk.TensorSpace([fk.Space1D(m, 3) for m in ms])
        errs.append(fk.poisson(V, f, bc=bc).error(u))
        hs.append(1.0 / n)
    assert abs(fk.convergence_rate(hs, errs) - 4) < 0.2  # order 3: L2 error ~ h⁴


def test_pure_neumann_incompatible_data_is_refused():
    V = space(2, 2)
    with pytest.raises(fk.FemkronValueError, match="incompatible data") as info:
        fk.poisson(V, 1.0, bc=fk.Neumann(0.0))
    assert "∫f + ∮g" in str(info.value)
    with pytest.raises(fk.FemkronValueError, match="incompatible data"):
        fk.poisson(V, 0.0, bc=fk.Neumann(1.0))
    with pytest.raises(fk.FemkronValueError, match="incompatible data"):
        fk.poisson(V, lambda x, y: x, bc=fk.Periodic())
    # a small but real imbalance is refused too
    with pytest.raises(fk.FemkronValueError, match="incompatible data"):
        fk.poisson(V, lambda x, y: np.cos(np.pi * x) + 1e-3, bc=fk.Neumann(0.0))


@pytest.mark.parametrize("method", ["fdm", "direct", "cg", "amg"])
def test_pure_neumann_compatible_data_gives_mean_zero_solution(method):
    # compatible data whose discrete load is not exactly balanced on a coarse graded mesh
    V = space(2, 1)
    f = lambda x, y: np.pi**2 * np.cos(np.pi * x) + 0.0 * y  # noqa: E731
    sol = fk.poisson(V, f, bc=fk.Neumann(0.0), method=method)
    ones = np.ones(V.ndofs)
    assert abs(ones @ (fk.mass(V) @ sol.vector)) < 1e-10
    exact = lambda x, y: np.cos(np.pi * x) + 0.0 * y  # noqa: E731  (mean zero)
    coarse = sol.error(exact, "L2")
    assert coarse < 0.15
    W = fk.TensorSpace([fk.Space1D(s.mesh.refine(4), order=1) for s in V.spaces])
    fine = fk.poisson(W, f, bc=fk.Neumann(0.0), method=method)
    assert fine.error(exact, "L2") < coarse / 10  # p = 1: about 16 times smaller
    # the same data with a Robin face with alpha = 0 is also pure Neumann
    sol2 = fk.poisson(V, f, bc=fk.Robin(0.0, 0.0), method=method)
    np.testing.assert_allclose(sol2.values, sol.values, atol=1e-8)


def test_solution_object():
    V = space(2, 2)
    u, grad, lap = quadratic(2)
    sol = fk.poisson(V, -lap, bc={n: fk.Dirichlet(u) for pair in FACES[:2] for n in pair})
    assert sol.info.residual < 1e-10 and sol.info.seconds >= 0
    assert "poisson" in repr(sol) and sol.vector.shape == (V.ndofs,)
    pts = [np.array([0.1, 0.77]), np.array([-0.3, 0.0, 0.9])]
    np.testing.assert_allclose(sol(*pts), u(*np.meshgrid(*pts, indexing="ij")), atol=1e-10)
    with pytest.raises(fk.FemkronValueError, match="H1.* needs grad"):
        sol.error(u, "H1")
    with pytest.raises(fk.FemkronValueError, match="norm must be one of"):
        sol.error(u, "L3")


def test_helmholtz_and_reaction():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=3)
    ex = lambda x, y: np.sin(np.pi * x) * np.sin(2 * np.pi * y)  # noqa: E731
    sol = fk.helmholtz(V, lambda x, y: (5 * np.pi**2 - 4.0) * ex(x, y), wavenumber=2.0)
    assert sol.error(ex) < 1e-4 and sol.problem == "helmholtz"
    sol = fk.poisson(V, lambda x, y: (5 * np.pi**2 + 3.0) * ex(x, y), sigma=3.0)
    assert sol.error(ex) < 1e-4


def reference_eigen(V, bc, k):
    """k smallest eigenvalues of the constrained K u = λ M u with scipy's dense eigh (at most
    180 dofs here), and how far rounding may move them: c·ε·(‖K‖₂‖M⁻¹‖₂ + |λ| κ₂(M)) for a
    Cholesky-based symmetric-definite solver (Golub & Van Loan §8.7), c = 10 (measured
    c <= 0.5 on these cases)."""
    bcs = fk.BoundaryConditions(V, bc)
    A = fk.stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    K = bcs.constrain(A).toarray()
    M = bcs.constrain(fk.mass(V)).toarray()
    w = sla.eigh(K, M, eigvals_only=True)[:k]
    m = np.linalg.eigvalsh(M)
    return w, bcs, 10 * EPS * (np.linalg.norm(K, 2) / m[0] + np.abs(w) * m[-1] / m[0])


@pytest.mark.parametrize(
    "dim, bc",
    [
        (1, None),
        (1, {"left": fk.Neumann(), "right": fk.Robin(2.0)}),
        (2, None),
        (2, fk.Neumann()),
        (2, {"x": fk.Periodic(), "top": fk.Robin(1.0)}),
        (3, {"left": fk.Neumann(), "z": fk.Periodic()}),
    ],
)
def test_eigen_against_dense_eigh(dim, bc):
    V = (
        space(dim, 2)
        if dim > 1
        else fk.TensorSpace([fk.Space1D(fk.Mesh1D.graded(0, 1, 6, 1.2), 2)])
    )
    k = 6
    w, v = fk.eigen(V, k=k, bc=bc)
    w_ref, bcs, tol = reference_eigen(V, bc, k)
    assert w.shape == (k,) and v.shape == (V.ndofs, k)
    assert np.all(np.abs(w - w_ref) <= tol), (w - w_ref, tol)
    assert np.all(np.diff(w) >= 0)  # sorted
    # full-size vectors: K v = λ M v on the free dofs, M-orthonormal, and extended from them
    # (zero on Dirichlet faces, equal on identified periodic ends)
    A = fk.stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        A = A + robin
    K, M = bcs.constrain(A), bcs.constrain(fk.mass(V))
    vf = np.column_stack([_free_values(bcs, v[:, j]) for j in range(k)])
    np.testing.assert_allclose(np.column_stack([bcs.extend(c) for c in vf.T]), v, atol=1e-14)
    # residual c·ε·(‖K‖₂ + |λ| ‖M‖₂)‖v‖ and M-orthonormality c·ε·κ₂(M), c = 10 as above
    Kd, Md = K.toarray(), M.toarray()
    m = np.linalg.eigvalsh(Md)
    residual = np.linalg.norm(Kd @ vf - (Md @ vf) * w, axis=0)
    bound = 10 * EPS * (np.linalg.norm(Kd, 2) + np.abs(w) * m[-1]) * np.linalg.norm(vf, axis=0)
    assert np.all(residual <= bound), (residual, bound)
    assert np.abs(vf.T @ (Md @ vf) - np.eye(k)).max() <= 10 * EPS * m[-1] / m[0]


def _free_values(bcs, v):
    U = v.reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)


def test_eigen_analytic_unit_square():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=12, order=4)
    w, _ = fk.eigen(V, k=4)
    exact, k = box_eigenvalues([("DD", 1.0), ("DD", 1.0)], 4)
    np.testing.assert_allclose(exact, np.pi**2 * np.array([2, 5, 5, 8]))
    # Galerkin error on a uniform mesh: λ_h - λ = Σ_d c_p² k_d² (k_d h)^{2p} (1 + O((kh)²)),
    # c_p analytic (tests/reference_fem.py), the O((kh)²) term below 0.1 (kh)² for p <= 4,
    # kh <= 2; rounding: 10 ε λmax, λmax the sum of the 1D pencils' largest (Weyl)
    model = galerkin_constant(4) * (k**2 * (k / 12) ** 8).sum(axis=1)  # 2e-10 relative
    kh = k.max(axis=1) / 12
    s = V.spaces[0]
    top = 2 * sla.eigh(s.stiffness().toarray(), s.mass().toarray(), eigvals_only=True)[-1]
    tol = 0.1 * kh**2 * model + 10 * EPS * top
    assert np.all(np.abs(w - exact - model) <= tol), (w - exact, model, tol)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda V: fk.poisson(V, lambda x, y: np.ones(3)), ValueError, r"f \(<lambda>\)"),
        (lambda V: fk.poisson(V, lambda x, y: x * np.nan), ValueError, "f .*NaN"),
        (lambda V: fk.poisson(V, "f"), TypeError, "f must be"),
        (lambda V: fk.poisson(V, 1.0, method="gmres"), ValueError, "method must be one of"),
        (lambda V: fk.poisson("V", 1.0), TypeError, "V must be a TensorSpace"),
        (lambda V: fk.poisson(V, 1.0, bc={"east": fk.Neumann()}), ValueError, "unknown face"),
        (lambda V: fk.poisson(V, 1.0, bc={"left": 1.0}), TypeError, r"bc\['left'\]"),
        (lambda V: fk.poisson(V, 1.0, kappa=-1.0), ValueError, "kappa must be > 0"),
        (
            lambda V: fk.poisson(V, 1.0, bc={"left": fk.Dirichlet(lambda x, y: np.nan * y)}),
            ValueError,
            "Dirichlet value on face left",
        ),
        (lambda V: fk.eigen(V, k=0), ValueError, "k must be >= 1"),
        (lambda V: fk.eigen(V, k=10**6), ValueError, "k must be <="),
        (lambda V: fk.eigen(V, k=2.5), TypeError, "k must be an integer"),
    ],
)
def test_bad_input(call, error, match):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    with np.errstate(all="ignore"), pytest.raises(fk.FemkronError, match=match) as info:
        call(V)
    assert isinstance(info.value, error)
