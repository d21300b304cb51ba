"""Finite element functions at the tensor grid of Gauss points, and weak forms of values there.

A nonlinear weak form such as ``∫ κ(u)∇u·∇v + g(u) v`` cannot be one Kronecker product, but
it is cheap at the Gauss points: :class:`QuadratureGrid` maps the dof grid of a function to its
values and gradients on the tensor Gauss grid (sum factorisation: one sparse 1D map per axis,
``O(N·q)`` work), where any pointwise nonlinearity is evaluated, and maps values and fluxes
there back to the weak form ``∫ s v + Σ_d φ_d ∂_d v`` tested against every basis function
(the transposed maps times the quadrature weights).  Nonlinear problems
(:func:`femkron.nonlinear_poisson`, :func:`femkron.continuation`) build their residuals and
matrix-free Jacobians from these two operations.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(3, 4), order=2)
>>> G = QuadratureGrid(V)
>>> U = V.interpolate(lambda x, y: x * y).reshape(V.shape)
>>> ux, uy = G.gradients(U)                       # ∂u/∂x = y, ∂u/∂y = x at the Gauss points
>>> x, y = G.points
>>> bool(np.allclose(ux, y[None, :]) and np.allclose(uy, x[:, None]))
True
>>> b = G.integrate(np.ones(G.shape))             # ∫ 1·v = the load vector of f = 1
>>> bool(np.allclose(b.ravel(), fk.load_vector(V, 1.0)))
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..kron.operator import apply_axis
from .assembly import canonical_csr, reference_tables
from .coefficients import axis_shape, coefficient_quad, gauss_weights, outer_product
from .tensor import as_tensor_space

__all__ = ["QuadratureGrid"]


class QuadratureGrid:
    """Values and gradients of finite element functions on the tensor grid of Gauss points.

    In curvilinear coordinates ``q`` the gradients are the coordinate derivatives ``∂u/∂q_d``
    and the weak form is ``∫ (s v + Σ_d φ_d ∂_d v / h_d²) J dq`` (scale factors ``h_d``,
    ``J = Π h_d``): the weights carry the metric, a flux ``φ_d = κ ∂_d u`` gives
    ``∫ κ ∇u·∇v``.

    Parameters
    ----------
    V : TensorSpace
        A box, or a space in curvilinear coordinates (disk, annulus, shell, ...).
    quad : int or tuple of int, optional
        Gauss points per cell and axis (default ``p + 2``: nonlinear terms such as
        ``κ(u)∇u·∇v`` are of higher degree than a coefficient times the basis).

    Attributes
    ----------
    V : TensorSpace
    quad : tuple of int
    shape : tuple of int
        Shape of the Gauss grid (cells × points per cell, per axis).
    points : list of ndarray
        The Gauss points of each axis (flat, cell by cell).
    W : ndarray
        Quadrature weights of the measure on the Gauss grid (products of the 1D physical
        weights, times ``J`` in curvilinear coordinates).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    >>> G = QuadratureGrid(V)
    >>> G.shape, G.quad, round(float(G.W.sum()), 12)   # the weights sum to the area
    ((12, 12), (3, 3), 1.0)
    """

    def __init__(self, V, quad=None):
        V = as_tensor_space(V)
        self.V = V
        # nonlinear terms κ(u)∇u·∇v are of higher degree than a coefficient times the basis:
        # p + 2 points unless asked otherwise
        self.quad = coefficient_quad(V, quad if quad is not None else max(V.orders) + 2)
        weights, jac = gauss_weights(V, self.quad)
        D = V.dim
        self._inv_jac = [(1.0 / j).reshape(axis_shape(D, d)) for d, j in enumerate(jac)]
        self.points, self._B, self._D = [], [], []
        for s, q in zip(V.spaces, self.quad):
            x, _ = s.quadrature(q)
            self.points.append(x.ravel())
        # curvilinear coordinates: the measure J dq and the flux weights J / h_d² are
        # products of one 1D weight per axis (femkron.fem.coordinates)
        system = getattr(V, "coordinates", None)
        if system is not None and getattr(system, "curvilinear", False):
            self.W = outer_product(
                [
                    w * _weight(system, e, p, self.points[e])
                    for e, (w, p) in enumerate(zip(weights, system.mass_powers))
                ]
            )
            self._W_flux = [
                outer_product(
                    [
                        w * _weight(system, e, p, self.points[e])
                        for e, (w, p) in enumerate(zip(weights, system.stiffness_powers[d]))
                    ]
                )
                for d in range(D)
            ]
        else:
            self.W = outer_product(weights)
            self._W_flux = [self.W] * D
        self.shape = self.W.shape
        for s, q in zip(V.spaces, self.quad):
            Bt, Dt = reference_tables(s, q)
            rows = np.repeat(np.arange(s.mesh.cells * q), s.order + 1)
            cols = np.repeat(s.cell_dofs, q, axis=0).ravel()
            shape = (s.mesh.cells * q, s.ndofs)
            B = sp.csr_matrix((np.tile(Bt, (s.mesh.cells, 1)).ravel(), (rows, cols)), shape)
            Dm = sp.csr_matrix((np.tile(Dt, (s.mesh.cells, 1)).ravel(), (rows, cols)), shape)
            self._B.append(canonical_csr(B))
            self._D.append(canonical_csr(Dm))
        self._Bt = [canonical_csr(B.T) for B in self._B]
        self._Dt = [canonical_csr(Dm.T) for Dm in self._D]

    def _map(self, U, derivative, transpose=False):
        X = U
        maps = (self._Dt, self._Bt) if transpose else (self._D, self._B)
        for e in range(self.V.dim):
            X = apply_axis(maps[0][e] if e == derivative else maps[1][e], X, e)
        return X

    def values(self, U):
        """Values at the Gauss grid of the function with dof grid ``U`` (shape ``V.shape``)."""
        return self._map(np.asarray(U, dtype=float), None)

    def gradients(self, U):
        """Physical partial derivatives ``∂_d u`` at the Gauss grid, one array per axis."""
        U = np.asarray(U, dtype=float)
        return [self._map(U, d) * self._inv_jac[d] for d in range(self.V.dim)]

    def integrate(self, source=None, fluxes=None):
        """The weak form ``∫ s v + Σ_d φ_d ∂_d v`` for every basis function ``v``.

        Parameters
        ----------
        source : ndarray, optional
            ``s`` at the Gauss grid (shape :attr:`shape`).
        fluxes : list of ndarray, optional
            ``φ_d`` at the Gauss grid, one per axis (``None`` entries are skipped).

        Returns
        -------
        ndarray, shape ``V.shape``
        """
        out = np.zeros(self.V.shape)
        if source is not None:
            out += self._map(source * self.W, None, transpose=True)
        for d, phi in enumerate(fluxes or ()):
            if phi is not None:
                out += self._map(phi * (self._W_flux[d] * self._inv_jac[d]), d, transpose=True)
        return out


def _weight(system, axis, power, x):
    """The 1D weight of ``axis`` to ``power`` at the points ``x`` (ones for weight 1)."""
    w = system.weight(axis, power)
    return np.ones_like(x) if w is None else np.asarray(w(x), dtype=float)
