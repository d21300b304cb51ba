"""Errors by tensor quadrature against brute-force integration over the cells, exact values on
polynomials, and convergence rates."""

import itertools

import numpy as np
import pytest
from reference_fem import lagrange, ref_nodes

import femkron as fk


def brute_force_errors(V, u, exact, grad, q=12):
    """L2 and H1-seminorm errors by loops over the cells and a strong tensor Gauss rule."""
    xg, wg = np.polynomial.legendre.leggauss(q)
    U = np.asarray(u).reshape(V.shape)
    l2 = h1 = 0.0
    for cell in itertools.product(*[range(s.mesh.cells) for s in V.spaces]):
        tabs, pts, wts, dofs = [], [], [], []
        for s, e in zip(V.spaces, cell):
            x0, x1 = s.mesh.nodes[e], s.mesh.nodes[e + 1]
            local = x0 + (x1 - x0) * (ref_nodes(s.order, s.nodes) + 1) / 2
            xq = x0 + (x1 - x0) * (xg + 1) / 2
            tabs.append(lagrange(local, xq))
            pts.append(xq)
            wts.append(wg * (x1 - x0) / 2)
            dofs.append(np.arange(e * s.order, e * s.order + s.order + 1))
        Ue = U[np.ix_(*dofs)]
        grids = np.meshgrid(*pts, indexing="ij")
        W = np.ones(())
        for w in wts:
            W = np.multiply.outer(W, w)

        def apply(tables, G=Ue):
            for d, T in enumerate(tables):
                G = np.moveaxis(np.tensordot(T, G, (1, d)), 0, d)
            return G

        uh = apply([t[0] for t in tabs])
        l2 += np.sum(W * (uh - exact(*grids)) ** 2)
        for d in range(V.dim):
            duh = apply([t[1] if e == d else t[0] for e, t in enumerate(tabs)])
            h1 += np.sum(W * (duh - grad[d](*grids)) ** 2)
    return np.sqrt(l2), np.sqrt(h1)


def wave(*x):
    return np.sin(2.0 * x[0] + 0.5) * np.exp(0.3 * x[-1]) if len(x) > 1 else np.sin(2 * x[0])


def wave_grad(dim):
    if dim == 1:
        return [lambda x: 2 * np.cos(2 * x)]
    gs = [lambda *x: 2 * np.cos(2.0 * x[0] + 0.5) * np.exp(0.3 * x[-1])]
    gs += [lambda *x: 0 * x[0]] * (dim - 2)
    gs += [lambda *x: 0.3 * np.sin(2.0 * x[0] + 0.5) * np.exp(0.3 * x[-1])]
    return gs


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("p", [1, 2, 4])
@pytest.mark.parametrize("family", ["gll", "equispaced"])
def test_errors_against_brute_force(dim, p, family):
    ms = [fk.Mesh1D.graded(a, b, 3, 1.5) for a, b in [(0, 1), (-0.5, 1), (0.25, 1)][:dim]]
    V = fk.TensorSpace([fk.Space1D(m, order=p, nodes=family) for m in ms])
    rng = np.random.default_rng(p)
    u = V.interpolate(wave).reshape(-1) + 1e-3 * rng.standard_normal(V.ndofs)
    grad = wave_grad(dim)
    l2, h1 = brute_force_errors(V, u, wave, grad)
    assert fk.error(V, u, wave, "L2", quad=12) == pytest.approx(l2, rel=1e-10)
    assert fk.error(V, u, wave, "H1", grad=grad, quad=12) == pytest.approx(h1, rel=1e-10)
    # the default rule (p + 3 points) is not exact for the wave; the same rule in the
    # independent loop gives the same number (rounding in a sum of squares of errors ~1e-3
    # of |u|: ε·1e3 per term, far below 1e-10)
    default_l2, _ = brute_force_errors(V, u, wave, grad, q=p + 3)
    assert fk.error(V, u, wave) == pytest.approx(default_l2, rel=1e-10)
    exact_at_dofs = wave(*V.grid())
    assert fk.error(V, u, wave, "max") == pytest.approx(np.abs(u - exact_at_dofs.ravel()).max())


@pytest.mark.parametrize("p", [1, 2, 3])
def test_polynomials_are_exact(p):
    V = fk.TensorSpace.box([(0, 2), (-1, 1)], cells=(3, 2), order=p)
    f = lambda x, y: x**p * y + 1.0  # noqa: E731
    u = V.interpolate(f)
    assert fk.error(V, u, f, "L2") < 1e-13
    grad = (lambda x, y: p * x ** (p - 1) * y, lambda x, y: x**p + 0 * y)
    assert fk.error(V, u, f, "H1", grad=grad) < 1e-12
    # norms of known functions: ∫∫ (x^p y + 1)² and ∫∫ |∇|²
    l2sq = 2 ** (2 * p + 1) / (2 * p + 1) * 2 / 3 + 4.0
    h1sq = p**2 * 2 ** (2 * p - 1) / (2 * p - 1) * 2 / 3 + 2 ** (2 * p + 1) / (2 * p + 1) * 2
    assert fk.norm(V, u, "L2") ** 2 == pytest.approx(l2sq, rel=1e-12)
    assert fk.norm(V, u, "H1") ** 2 == pytest.approx(h1sq, rel=1e-12)


def test_space1d_is_accepted():
    S = fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), order=2)
    u = S.interpolate(lambda x: x**2)
    assert fk.error(S, u, lambda x: x**2) < 1e-14
    assert fk.norm(S, u) == pytest.approx(np.sqrt(1 / 5))


def test_interpolation_error_rates():
    # interpolation errors decay like h^(p+1) (L2) and h^p (H1) on graded meshes
    for p in (1, 2, 3):
        hs, l2, h1 = [], [], []
        for k in (2, 4, 8):
            m = fk.Mesh1D.graded(0.0, 2.0, 4, ratio=1.5).refine(k)
            V = fk.TensorSpace([fk.Space1D(m, order=p)])
            u = V.interpolate(wave)
            hs.append(m.h.max())
            l2.append(fk.error(V, u, wave))
            h1.append(fk.error(V, u, wave, "H1", grad=wave_grad(1)))
        assert abs(fk.convergence_rate(hs, l2) - (p + 1)) < 0.2
        assert abs(fk.convergence_rate(hs, h1) - p) < 0.2


def test_convergence_rate():
    h = np.array([0.1, 0.05, 0.025, 0.0125])
    assert fk.convergence_rate(h, 3.0 * h**2.5) == pytest.approx(2.5)
    assert fk.convergence_rate(h[::-1], 0.1 * h[::-1] ** 4) == pytest.approx(4.0)
    # a least-squares fit: noise changes the slope only a little
    noisy = h**2 * np.array([1.02, 0.98, 1.01, 0.99])
    assert abs(fk.convergence_rate(h, noisy) - 2.0) < 0.05


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda V: fk.error(V, np.ones(3), 0.0), ValueError, "u must have 9 entries"),
        (lambda V: fk.error(V, np.full(9, np.nan), 0.0), ValueError, "u must be finite"),
        (lambda V: fk.error("V", np.ones(9), 0.0), TypeError, "V must be a TensorSpace"),
        (lambda V: fk.error(V, np.ones(9), 0.0, norm="H2"), ValueError, "norm must be one of"),
        (lambda V: fk.error(V, np.ones(9), 0.0, norm="H1"), ValueError, "needs grad"),
        (
            lambda V: fk.error(V, np.ones(9), 0.0, "H1", grad=(0.0,)),
            ValueError,
            "needs grad: a tuple of 2 callables",
        ),
        (
            lambda V: fk.error(V, np.ones(9), lambda x, y: np.ones(2)),
            ValueError,
            r"exact \(<lambda>\) returned an array",
        ),
        (lambda V: fk.error(V, np.ones(9), 0.0, quad=0), ValueError, "quad must be >= 1"),
        (lambda V: fk.convergence_rate([1, 2], [1]), ValueError, "same length"),
        (lambda V: fk.convergence_rate([1], [1]), ValueError, ">= 2"),
        (lambda V: fk.convergence_rate([1, 0.5], [1, 0]), ValueError, "errors must be positive"),
        (lambda V: fk.convergence_rate([1, -1], [1, 2]), ValueError, "h must be positive"),
        (lambda V: fk.convergence_rate([1, 1], [1, 2]), ValueError, "two different sizes"),
    ],
)
def test_bad_input(call, error, match):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    with pytest.raises(fk.FemkronError, match=match) as info:
        call(V)
    assert isinstance(info.value, error)
