"""Reference Lagrange elements: nodality, partition of unity, polynomial reproduction and
derivatives, checked against the product formula and finite differences."""

import numpy as np
import pytest
from numpy.polynomial import legendre

import femkron as fk
from femkron.fem.elements import MAX_ORDER

# every order 1..12 for both families, and every order up to the maximum for GLL nodes
CASES = [(p, "gll") for p in range(1, MAX_ORDER + 1)] + [(p, "equispaced") for p in range(1, 13)]
IDS = [f"{fam}-p{p}" for p, fam in CASES]
XS = np.linspace(-1.0, 1.0, 401)


def reference_nodes(p, family):
    if family == "equispaced":
        return np.linspace(-1.0, 1.0, p + 1)
    inner = np.sort(legendre.legroots(legendre.legder(np.eye(p + 1)[p]))) if p > 1 else []
    return np.concatenate([[-1.0], inner, [1.0]])


def product_formula(nodes, x):
    """Lagrange basis ℓ_j(x) = Π_{m≠j} (x - x_m) / (x_j - x_m) and its derivative."""
    n = nodes.size
    vals = np.ones((x.size, n))
    ders = np.zeros((x.size, n))
    for j in range(n):
        others = [m for m in range(n) if m != j]
        denom = np.prod([nodes[j] - nodes[m] for m in others])
        for m in others:
            vals[:, j] *= x - nodes[m]
            term = np.ones_like(x)
            for k in others:
                if k != m:
                    term *= x - nodes[k]
            ders[:, j] += term
        vals[:, j] /= denom
        ders[:, j] /= denom
    return vals, ders


@pytest.mark.parametrize("p, family", CASES, ids=IDS)
def test_nodes(p, family):
    el = fk.Lagrange(p, nodes=family)
    assert el.order == p and el.ndofs == p + 1 and el.family == family
    np.testing.assert_allclose(el.nodes, reference_nodes(p, family), atol=1e-14)
    assert el.nodes[0] == -1.0 and el.nodes[-1] == 1.0


@pytest.mark.parametrize("p, family", CASES, ids=IDS)
def test_nodality(p, family):
    el = fk.Lagrange(p, nodes=family)
    np.testing.assert_allclose(el.values(el.nodes), np.eye(p + 1), atol=1e-13)


def lebesgue(p, family, x=XS):
    """max Σ_j |ℓ_j(x)| and max Σ_j |ℓ'_j(x)| over x (the product formula): the factors by
    which rounding in the p + 1 terms of a sum over the basis can grow."""
    vals, ders = product_formula(reference_nodes(p, family), x)
    return np.abs(vals).sum(axis=1).max(), np.abs(ders).sum(axis=1).max()


def sum_tolerance(p, growth):
    """Rounding of a sum of p + 1 basis values: (p + 1)·ε·Σ|terms|, times 4 for the values'
    own rounding (each evaluated to a few ε relative to Σ|terms|)."""
    return 4 * (p + 1) * np.finfo(float).eps * growth


@pytest.mark.parametrize("p, family", CASES, ids=IDS)
def test_partition_of_unity_and_its_derivative(p, family):
    el = fk.Lagrange(p, nodes=family)
    assert el.values(XS).shape == el.derivatives(XS).shape == (XS.size, p + 1)
    lam, dlam = lebesgue(p, family)
    np.testing.assert_allclose(el.values(XS).sum(axis=1), 1.0, atol=sum_tolerance(p, lam))
    np.testing.assert_allclose(el.derivatives(XS).sum(axis=1), 0.0, atol=sum_tolerance(p, dlam))


@pytest.mark.parametrize("p, family", CASES, ids=IDS)
def test_values_and_derivatives_match_product_formula(p, family):
    el = fk.Lagrange(p, nodes=family)
    vals, ders = product_formula(reference_nodes(p, family), XS)
    np.testing.assert_allclose(el.values(XS), vals, atol=1e-12)
    np.testing.assert_allclose(el.derivatives(XS), ders, atol=1e-12 * np.abs(ders).max())


@pytest.mark.parametrize("p, family", CASES, ids=IDS)
def test_derivatives_match_central_differences(p, family):
    el = fk.Lagrange(p, nodes=family)
    h = 1e-6
    x = np.linspace(-1.0 + 2 * h, 1.0 - 2 * h, 157)
    fd = (el.values(x + h) - el.values(x - h)) / (2 * h)
    d = el.derivatives(x)
    # central differences: O(h²) truncation plus O(eps/h) round-off, relative to the scale
    assert np.abs(fd - d).max() <= 1e-7 * np.abs(d).max()


@pytest.mark.parametrize("p, family", CASES, ids=IDS)
def test_reproduces_polynomials_of_its_order(p, family):
    el = fk.Lagrange(p, nodes=family)
    for k in range(p + 1):
        coef = el.nodes**k  # nodal interpolant of x^k is x^k itself
        np.testing.assert_allclose(el.values(XS) @ coef, XS**k, atol=1e-12)
        dk = k * XS ** (k - 1) if k else np.zeros_like(XS)
        np.testing.assert_allclose(el.derivatives(XS) @ coef, dk, atol=1e-11 * max(k, 1) ** 2)


def test_high_order_equispaced_still_nodal_and_exact():
    # equispaced nodes are ill-conditioned at high order, but the basis stays nodal
    for p in (16, 20, MAX_ORDER):
        el = fk.Lagrange(p, nodes="equispaced")
        np.testing.assert_allclose(el.values(el.nodes), np.eye(p + 1), atol=1e-10)
        lam, _ = lebesgue(p, "equispaced")  # about 2^p / (e p log p): 1e5 at p = 24
        np.testing.assert_allclose(el.values(XS).sum(axis=1), 1.0, atol=sum_tolerance(p, lam))


def test_scalar_point_and_equality():
    el = fk.Lagrange(2)
    assert el.values(0.0).shape == (1, 3)
    np.testing.assert_allclose(el.values(0.0), [[0.0, 1.0, 0.0]], atol=1e-15)
    assert fk.Lagrange(2) == el and fk.Lagrange(2, "equispaced") != el
    assert hash(fk.Lagrange(2)) == hash(el)
    assert "order=2" in repr(el)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((0,), ValueError, "order must be >= 1, got 0"),
        ((-2,), ValueError, "order must be >= 1"),
        ((MAX_ORDER + 1,), ValueError, f"order must be <= {MAX_ORDER}, got {MAX_ORDER + 1}"),
        ((2.0,), TypeError, "order must be an integer, got 2.0"),
        (("3",), TypeError, "order must be an integer"),
        ((True,), TypeError, "order must be an integer"),
        ((2, "chebyshev"), ValueError, "nodes must be one of 'gll', 'equispaced', got 'chebyshev'"),
        ((2, None), ValueError, "nodes must be one of"),
    ],
)
def test_bad_arguments(args, error, match):
    with pytest.raises(fk.FemkronError, match=match) as info:
        fk.Lagrange(*args)
    assert isinstance(info.value, error)


def test_bad_points():
    el = fk.Lagrange(2)
    with pytest.raises(fk.FemkronValueError, match="x must be a 1D array"):
        el.values(np.zeros((2, 2)))
    with pytest.raises(fk.FemkronValueError, match="x must contain finite"):
        el.derivatives([0.0, np.nan])
