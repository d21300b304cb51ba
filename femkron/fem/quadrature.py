"""Quadrature rules on the reference interval [-1, 1].

Two families, any number of points:

* Gauss–Legendre with ``n`` points, exact for polynomials of degree ``2n - 1``;
* Gauss–Lobatto–Legendre with ``n`` points (both end points included), exact for
  degree ``2n - 3``.

Examples
--------
>>> import numpy as np
>>> from femkron.fem.quadrature import gauss_legendre, gauss_lobatto
>>> x, w = gauss_legendre(3)
>>> bool(np.isclose(w @ x**4, 2 / 5))
True
>>> x, w = gauss_lobatto(4)
>>> float(x[0]), float(x[-1])
(-1.0, 1.0)
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial import legendre

from ..errors import FemkronTypeError, FemkronValueError

__all__ = ["gauss_legendre", "gauss_lobatto", "points_for_degree"]


def _check_count(n, minimum, name="n"):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise FemkronTypeError(f"{name} must be an integer >= {minimum}, got {n!r}")
    if n < minimum:
        raise FemkronValueError(f"{name} must be an integer >= {minimum}, got {n}")
    return int(n)


@functools.lru_cache(maxsize=256)
def _gauss_legendre(n):
    x, w = legendre.leggauss(n)
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def gauss_legendre(n):
    """Gauss–Legendre rule with ``n >= 1`` points on [-1, 1].

    Parameters
    ----------
    n : int
        Number of points.

    Returns
    -------
    points, weights : ndarray
        Sorted points and their weights; exact for polynomials of degree ``2n - 1``.
        The arrays are read-only (they are cached).

    Examples
    --------
    >>> x, w = gauss_legendre(2)
    >>> x
    array([-0.57735027,  0.57735027])
    >>> float(w.sum())
    2.0
    """
    return _gauss_legendre(_check_count(n, 1))


@functools.lru_cache(maxsize=256)
def _gauss_lobatto(n):
    if n == 2:
        x = np.array([-1.0, 1.0])
    else:
        # Interior points are the roots of P'_{n-1}; Newton from the Chebyshev–Lobatto points.
        k = n - 1
        x = -np.cos(np.pi * np.arange(n) / k)
        dk = legendre.legder(np.eye(n)[k])  # coefficients of P'_k
        d2k = legendre.legder(dk)
        inner = x[1:-1].copy()
        for _ in range(100):
            step = legendre.legval(inner, dk) / legendre.legval(inner, d2k)
            inner -= step
            if np.max(np.abs(step)) < 1e-15:
                break
        x[1:-1] = np.sort(inner)
        x[0], x[-1] = -1.0, 1.0
        # enforce exact symmetry
        x = 0.5 * (x - x[::-1])
    pk = legendre.legval(x, np.eye(n)[n - 1])
    w = 2.0 / (n * (n - 1) * pk**2)
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def gauss_lobatto(n):
    """Gauss–Lobatto–Legendre rule with ``n >= 2`` points on [-1, 1].

    The points are -1, 1 and the roots of the derivative of the Legendre polynomial
    ``P_{n-1}``; the rule is exact for polynomials of degree ``2n - 3``.

    Examples
    --------
    >>> x, w = gauss_lobatto(3)
    >>> x
    array([-1.,  0.,  1.])
    >>> w
    array([0.33333333, 1.33333333, 0.33333333])
    """
    return _gauss_lobatto(_check_count(n, 2))


def points_for_degree(degree, kind="gauss"):
    """Fewest points of a rule that integrates polynomials of ``degree`` exactly.

    Examples
    --------
    >>> points_for_degree(4), points_for_degree(4, kind="lobatto")
    (3, 4)
    """
    degree = _check_count(degree, 0, name="degree")
    if kind == "gauss":
        return max(1, (degree + 2) // 2)
    if kind == "lobatto":
        return max(2, (degree + 4) // 2)
    raise FemkronValueError(f"kind must be 'gauss' or 'lobatto', got {kind!r}")
