"""Gauss–Legendre and Gauss–Lobatto–Legendre rules: exactness on the promised degree, and
failure one degree above it (so the exactness tests can fail)."""

import numpy as np
import pytest
from numpy.polynomial import legendre

import femkron as fk
from femkron.fem.quadrature import points_for_degree

EPS = np.finfo(float).eps


def exactness_tolerance(n):
    """Rounding of Σ w_i x_i^k for k < 2n: a sum of n terms with Σ |w_i x_i^k| <= Σ w_i = 2
    (n·2ε), plus the nodes' own rounding (ε |x_i|) amplified by the power k < 2n (2n·2ε):
    at most 6nε; 8nε."""
    return 8 * n * EPS


def monomial_integral(k):
    """∫_{-1}^{1} x^k dx."""
    return 0.0 if k % 2 else 2.0 / (k + 1)


@pytest.mark.parametrize("n", range(1, 65))
def test_gauss_legendre_exact_up_to_degree_2n_minus_1(n):
    x, w = fk.gauss_legendre(n)
    assert x.shape == w.shape == (n,)
    powers = x[None, :] ** np.arange(2 * n)[:, None]
    exact = np.array([monomial_integral(k) for k in range(2 * n)])
    np.testing.assert_allclose(powers @ w, exact, rtol=0, atol=exactness_tolerance(n))


@pytest.mark.parametrize("n", range(1, 65))
def test_gauss_legendre_not_exact_at_degree_2n(n):
    # P_n² has degree 2n and vanishes at every point of the rule, but ∫ P_n² = 2 / (2n + 1)
    x, w = fk.gauss_legendre(n)
    pn = legendre.legval(x, np.eye(n + 1)[n])
    assert abs(w @ pn**2 - 2.0 / (2 * n + 1)) > 0.5 * 2.0 / (2 * n + 1)


@pytest.mark.parametrize("n", range(2, 65))
def test_gauss_lobatto_exact_up_to_degree_2n_minus_3(n):
    x, w = fk.gauss_lobatto(n)
    assert x.shape == w.shape == (n,)
    assert x[0] == -1.0 and x[-1] == 1.0
    powers = x[None, :] ** np.arange(2 * n - 2)[:, None]
    exact = np.array([monomial_integral(k) for k in range(2 * n - 2)])
    np.testing.assert_allclose(powers @ w, exact, rtol=0, atol=exactness_tolerance(n))


@pytest.mark.parametrize("n", range(2, 65))
def test_gauss_lobatto_not_exact_at_degree_2n_minus_2(n):
    # (1 - x²) P'_{n-1}(x)² has degree 2n - 2, is zero at every Lobatto point, positive inside
    x, w = fk.gauss_lobatto(n)
    dp = legendre.legder(np.eye(n)[n - 1])
    q = lambda t: (1 - t**2) * legendre.legval(t, dp) ** 2  # noqa: E731
    xg, wg = np.polynomial.legendre.leggauss(n + 1)  # exact for degree 2n + 1
    integral = wg @ q(xg)
    assert integral > 0
    assert abs(w @ q(x) - integral) > 0.5 * integral


@pytest.mark.parametrize("rule, nmin", [(fk.gauss_legendre, 1), (fk.gauss_lobatto, 2)])
def test_points_sorted_symmetric_positive_weights(rule, nmin):
    for n in range(nmin, 65):
        x, w = rule(n)
        assert np.all(np.diff(x) > 0)
        np.testing.assert_allclose(x, -x[::-1], atol=1e-15)
        np.testing.assert_allclose(w, w[::-1], rtol=1e-13)
        assert np.all(w > 0)
        assert abs(w.sum() - 2.0) < 1e-13


def test_lobatto_interior_points_are_roots_of_legendre_derivative():
    for n in (3, 7, 20, 64):
        x, _ = fk.gauss_lobatto(n)
        dp = legendre.legder(np.eye(n)[n - 1])
        roots = np.sort(legendre.legroots(dp))
        np.testing.assert_allclose(x[1:-1], roots, atol=1e-12)


def test_rules_are_read_only():
    x, w = fk.gauss_legendre(4)
    with pytest.raises(ValueError):
        x[0] = 0.0
    with pytest.raises(ValueError):
        w[0] = 0.0


@pytest.mark.parametrize("degree", range(0, 20))
def test_points_for_degree_is_the_fewest_exact(degree):
    n = points_for_degree(degree)
    assert 2 * n - 1 >= degree and (n == 1 or 2 * (n - 1) - 1 < degree)
    m = points_for_degree(degree, kind="lobatto")
    assert 2 * m - 3 >= degree and (m == 2 or 2 * (m - 1) - 3 < degree)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fk.gauss_legendre(0), ValueError, "n must be an integer >= 1, got 0"),
        (lambda: fk.gauss_legendre(-3), ValueError, "n must be"),
        (lambda: fk.gauss_legendre(2.5), TypeError, "n must be an integer >= 1, got 2.5"),
        (lambda: fk.gauss_legendre(True), TypeError, "n must be an integer"),
        (lambda: fk.gauss_lobatto(1), ValueError, "n must be an integer >= 2, got 1"),
        (lambda: fk.gauss_lobatto("4"), TypeError, "n must be an integer"),
        (
            lambda: points_for_degree(3, kind="simpson"),
            ValueError,
            "kind must be 'gauss' or 'lobatto'",
        ),
        (lambda: points_for_degree(-1), ValueError, "degree must be"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(fk.FemkronError, match=match) as info:
        call()
    assert isinstance(info.value, error)
