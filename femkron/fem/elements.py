"""Reference 1D Lagrange elements on [-1, 1].

A :class:`Lagrange` element of order ``p`` has ``p + 1`` nodal basis functions, with nodes at
the Gauss–Lobatto–Legendre points (``nodes="gll"``, well conditioned at high order) or equally
spaced (``nodes="equispaced"``).  Values and first derivatives are evaluated through the
Legendre expansion of each basis function, which is stable up to the highest supported order.

Examples
--------
>>> import numpy as np
>>> from femkron.fem.elements import Lagrange
>>> el = Lagrange(2)
>>> el.nodes
array([-1.,  0.,  1.])
>>> np.round(el.values(np.array([0.5])), 3)
array([[-0.125,  0.75 ,  0.375]])
>>> bool(np.allclose(el.values(el.nodes), np.eye(3)))
True
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial import legendre

from .._validate import as_int, check_choice
from ..errors import FemkronValueError
from .quadrature import gauss_lobatto

__all__ = ["Lagrange", "MAX_ORDER", "NODE_FAMILIES"]

#: Highest supported polynomial order.
MAX_ORDER = 24
#: Accepted node families.
NODE_FAMILIES = ("gll", "equispaced")


@functools.lru_cache(maxsize=128)
def _coefficients(order, family):
    if family == "gll":
        nodes = np.array(gauss_lobatto(order + 1)[0])
    else:
        nodes = np.linspace(-1.0, 1.0, order + 1)
    vander = legendre.legvander(nodes, order)
    coef = np.linalg.solve(vander, np.eye(order + 1))  # column j: Legendre coefficients of phi_j
    dcoef = legendre.legder(coef, axis=0) if order > 0 else np.zeros((1, order + 1))
    for arr in (nodes, coef, dcoef):
        arr.flags.writeable = False
    return nodes, coef, dcoef


class Lagrange:
    """Nodal Lagrange element of a given order on the reference interval [-1, 1].

    Parameters
    ----------
    order : int
        Polynomial order ``p`` (1 to :data:`MAX_ORDER`).
    nodes : {"gll", "equispaced"}
        Node family: Gauss–Lobatto–Legendre points (default) or equally spaced points.

    Attributes
    ----------
    order : int
    family : str
    nodes : ndarray, shape (p + 1,)
        Sorted reference nodes; ``nodes[0] = -1`` and ``nodes[-1] = 1``.
    ndofs : int
        ``p + 1``.

    Examples
    --------
    >>> el = Lagrange(3, nodes="equispaced")
    >>> el.ndofs
    4
    >>> el.derivatives([0.0]).shape
    (1, 4)
    """

    def __init__(self, order, nodes="gll"):
        self.order = as_int(order, "order", minimum=1, maximum=MAX_ORDER)
        self.family = check_choice(nodes, "nodes", NODE_FAMILIES)
        self.nodes, self._coef, self._dcoef = _coefficients(self.order, self.family)
        self.ndofs = self.order + 1

    def __repr__(self):
        return f"Lagrange(order={self.order}, nodes={self.family!r})"

    def __eq__(self, other):
        return (
            isinstance(other, Lagrange)
            and other.order == self.order
            and other.family == self.family
        )

    def __hash__(self):
        return hash((self.order, self.family))

    @staticmethod
    def _points(x):
        x = np.asarray(x, dtype=float)
        if x.ndim > 1:
            raise FemkronValueError(
                f"x must be a 1D array of reference points, got shape {x.shape}"
            )
        x = np.atleast_1d(x)
        if not np.all(np.isfinite(x)):
            raise FemkronValueError("x must contain finite reference points")
        return x

    def values(self, x):
        """Basis values at reference points: array of shape ``(len(x), p + 1)``.

        Examples
        --------
        >>> Lagrange(1).values([-1.0, 0.0, 1.0])
        array([[1. , 0. ],
               [0.5, 0.5],
               [0. , 1. ]])
        """
        x = self._points(x)
        return legendre.legvander(x, self.order) @ self._coef

    def derivatives(self, x):
        """First derivatives d/dξ of the basis at reference points, shape ``(len(x), p + 1)``.

        Examples
        --------
        >>> Lagrange(1).derivatives([0.3])
        array([[-0.5,  0.5]])
        """
        x = self._points(x)
        return legendre.legvander(x, self.order - 1) @ self._dcoef
