"""Continuous Lagrange finite element space on a 1D mesh: dofs and 1D matrices.

Every matrix is assembled for all cells at once (one batched product over cells and
quadrature points, then one COO → CSR conversion); there is no Python loop over cells.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.Space1D(fk.Mesh1D.uniform(0.0, 1.0, cells=4), order=2)
>>> V.ndofs
9
>>> K, M = V.stiffness(), V.mass()
>>> bool(np.allclose(K @ np.ones(V.ndofs), 0.0)), round(float(M.sum()), 12)
(True, 1.0)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import as_array, as_int, evaluate, is_number
from ..errors import FemkronTypeError, FemkronValueError
from .elements import Lagrange
from .mesh import Mesh1D
from .quadrature import gauss_legendre

__all__ = ["Space1D"]


class Space1D:
    """Continuous piecewise-polynomial space of one order on a :class:`Mesh1D`.

    Dofs are numbered left to right: the dofs of cell ``e`` are ``p*e, ..., p*e + p``, so
    neighbouring cells share one vertex dof and ``Space1D.x`` is sorted.

    Parameters
    ----------
    mesh : Mesh1D
    order : int
        Polynomial order ``p >= 1``.
    nodes : {"gll", "equispaced"}
        Node family of the reference element.

    Attributes
    ----------
    mesh, element, order, ndofs
    x : ndarray
        Dof coordinates (sorted).
    cell_dofs : ndarray, shape (cells, p + 1)
        Global dof numbers of each cell.
    boundary_dofs : ndarray
        ``[0, ndofs - 1]``.

    Examples
    --------
    >>> V = Space1D(Mesh1D.uniform(0.0, 2.0, cells=2), order=2, nodes="equispaced")
    >>> V.x
    array([0. , 0.5, 1. , 1.5, 2. ])
    >>> V.cell_dofs
    array([[0, 1, 2],
           [2, 3, 4]])
    """

    def __init__(self, mesh, order=1, nodes="gll"):
        if not isinstance(mesh, Mesh1D):
            raise FemkronTypeError(f"mesh must be a Mesh1D, got {type(mesh).__name__}")
        self.mesh = mesh
        self.element = Lagrange(order, nodes)
        self.order = self.element.order
        p = self.order
        self.ndofs = mesh.cells * p + 1
        self.cell_dofs = p * np.arange(mesh.cells)[:, None] + np.arange(p + 1)[None, :]
        x = np.empty(self.ndofs)
        x[self.cell_dofs] = self._to_physical(self.element.nodes)
        x[::p] = mesh.nodes  # vertices exactly
        x.flags.writeable = False
        self.x = x
        self.boundary_dofs = np.array([0, self.ndofs - 1])
        self._matrices = {}

    def __repr__(self):
        return f"Space1D({self.mesh!r}, order={self.order}, nodes={self.element.family!r})"

    @property
    def nodes(self):
        """Node family of the element (``"gll"`` or ``"equispaced"``).

        Examples
        --------
        >>> Space1D(Mesh1D.uniform(0, 1, 2), order=2).nodes
        'gll'
        """
        return self.element.family

    # ---- geometry and quadrature --------------------------------------------------------
    def _to_physical(self, xi):
        """Map reference points ``xi`` into every cell: shape ``(cells, len(xi))``."""
        m = self.mesh
        return m.nodes[:-1, None] + 0.5 * m.h[:, None] * (np.asarray(xi)[None, :] + 1.0)

    def default_quadrature(self, coef=None):
        """Gauss points per cell used by the matrices.

        ``p + 1`` (exact for constant coefficients), ``2p + 2`` when a coefficient function is
        given.

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 2), order=2)
        >>> V.default_quadrature(), V.default_quadrature(lambda x: 1 + x)
        (3, 6)
        """
        if coef is None or is_number(coef):
            return self.order + 1
        if isinstance(coef, np.ndarray) and coef.ndim == 2:
            return coef.shape[1]
        return 2 * self.order + 2

    def quadrature(self, points=None):
        """Physical Gauss–Legendre points and weights, both of shape ``(cells, points)``.

        Examples
        --------
        >>> x, w = Space1D(Mesh1D([0.0, 1.0, 3.0]), order=1).quadrature(2)
        >>> x.shape, float(w.sum())
        ((2, 2), 3.0)
        """
        q = self.order + 1 if points is None else as_int(points, "points", minimum=1)
        xi, w = gauss_legendre(q)
        return self._to_physical(xi), 0.5 * self.mesh.h[:, None] * w[None, :]

    def _reference_tables(self, q):
        xi, w = gauss_legendre(q)
        return self.element.values(xi), self.element.derivatives(xi), w

    def _coef_values(self, coef, q, name="coef"):
        """``None``, a float, or an array of coefficient values of shape ``(cells, q)``."""
        if coef is None:
            return None
        if is_number(coef):
            value = float(coef)
            if not np.isfinite(value):
                raise FemkronValueError(f"{name} must be finite, got {value}")
            return value
        if isinstance(coef, np.ndarray):
            if coef.shape != (self.mesh.cells, q):
                raise FemkronValueError(
                    f"{name} given as an array must hold values at the quadrature points, "
                    f"shape ({self.mesh.cells}, {q}), got {coef.shape}"
                )
            if not np.all(np.isfinite(coef)):
                raise FemkronValueError(f"{name} contains NaN or inf")
            return np.asarray(coef, dtype=float)
        if callable(coef):
            xq, _ = self.quadrature(q)
            return evaluate(coef, name, (xq,))
        raise FemkronTypeError(
            f"{name} must be None, a number, a callable c(x) or an array of values at the "
            f"quadrature points, got {type(coef).__name__}"
        )

    # ---- assembly -----------------------------------------------------------------------
    def _assemble(self, local):
        n = self.order + 1
        rows = np.repeat(self.cell_dofs, n, axis=1).ravel()
        cols = np.tile(self.cell_dofs, (1, n)).ravel()
        A = sp.coo_matrix((local.ravel(), (rows, cols)), shape=(self.ndofs, self.ndofs)).tocsr()
        A.sum_duplicates()
        A.sort_indices()
        return A

    def _bilinear(self, coef, quad, left, right, jac_power, name):
        if coef is None and quad is None:
            # the constant-coefficient matrices are made once and shared (read-only), so
            # the operators built from them can recognise their mass factors by identity
            key = (left, right)
            A = self._matrices.get(key)
            if A is None:
                A = self._bilinear_new(None, None, left, right, jac_power, name)
                for arr in (A.data, A.indices, A.indptr):
                    arr.flags.writeable = False
                self._matrices[key] = A
            return A
        return self._bilinear_new(coef, quad, left, right, jac_power, name)

    def _bilinear_new(self, coef, quad, left, right, jac_power, name):
        q = self.default_quadrature(coef) if quad is None else as_int(quad, "quad", minimum=1)
        c = self._coef_values(coef, q, name)
        phi, dphi, w = self._reference_tables(q)
        tables = {"v": phi, "d": dphi}
        L, R = tables[left], tables[right]
        scale = (0.5 * self.mesh.h) ** jac_power  # (cells,)
        if c is None or isinstance(c, float):
            ref = np.einsum("q,qi,qj->ij", w, L, R)
            factor = 1.0 if c is None else c
            local = factor * scale[:, None, None] * ref[None, :, :]
        else:
            local = np.einsum("eq,q,qi,qj->eij", c, w, L, R) * scale[:, None, None]
        return self._assemble(local)

    def stiffness(self, coef=None, quad=None):
        """Stiffness matrix ``K[i, j] = ∫ c φ_i' φ_j' dx`` as CSR.

        Without ``coef`` and ``quad`` the matrix is made once per space and shared: it is
        read-only (copy it to modify it in place).

        Parameters
        ----------
        coef : None, float, callable or ndarray
            Coefficient ``c(x)``; an array gives its values at the Gauss points,
            shape ``(cells, quad)``.
        quad : int, optional
            Gauss points per cell (default: :meth:`default_quadrature`).

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 2), order=1)
        >>> V.stiffness().toarray()
        array([[ 2., -2.,  0.],
               [-2.,  4., -2.],
               [ 0., -2.,  2.]])
        """
        return self._bilinear(coef, quad, "d", "d", -1, "coef")

    def mass(self, coef=None, quad=None, lumped=False):
        """Mass matrix ``M[i, j] = ∫ c φ_i φ_j dx`` as CSR.

        Shared and read-only without ``coef`` and ``quad``, as for :meth:`stiffness`.

        ``lumped=True`` uses the nodal (Gauss–Lobatto) rule of the element's nodes instead of
        exact quadrature; with GLL nodes the result is diagonal.

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 1), order=1)
        >>> V.mass().toarray() * 6
        array([[2., 1.],
               [1., 2.]])
        """
        if lumped:
            return self._lumped_mass(coef)
        return self._bilinear(coef, quad, "v", "v", 1, "coef")

    def _lumped_mass(self, coef):
        if self.element.family != "gll":
            raise FemkronValueError("lumped=True needs nodes='gll' (a diagonal nodal rule)")
        from .quadrature import gauss_lobatto

        _, w = gauss_lobatto(self.order + 1)
        xq = self._to_physical(self.element.nodes)
        c = 1.0 if coef is None else evaluate(coef, "coef", (xq,))
        local_diag = c * w[None, :] * 0.5 * self.mesh.h[:, None]
        diag = np.zeros(self.ndofs)
        np.add.at(diag, self.cell_dofs, local_diag)
        return sp.diags(diag, format="csr")

    def advection(self, coef=None, quad=None):
        """Advection matrix ``C[i, j] = ∫ c φ_j' φ_i dx`` (row: test, column: trial).

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 1), order=1)
        >>> V.advection().toarray()
        array([[-0.5,  0.5],
               [-0.5,  0.5]])
        """
        return self._bilinear(coef, quad, "v", "d", 0, "coef")

    def boundary(self, side):
        """Point matrix ``e eᵀ`` at the ``"left"`` (a) or ``"right"`` (b) end, as CSR.

        Examples
        --------
        >>> Space1D(Mesh1D.uniform(0, 1, 2), order=1).boundary("right").toarray()
        array([[0., 0., 0.],
               [0., 0., 0.],
               [0., 0., 1.]])
        """
        if side not in ("left", "right"):
            raise FemkronValueError(f"side must be 'left' or 'right', got {side!r}")
        i = 0 if side == "left" else self.ndofs - 1
        return sp.csr_matrix(([1.0], ([i], [i])), shape=(self.ndofs, self.ndofs))

    def load(self, f, quad=None):
        """Load vector ``b[i] = ∫ f φ_i dx`` for a callable (or number) ``f(x)``.

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 2), order=1)
        >>> V.load(1.0)
        array([0.25, 0.5 , 0.25])
        """
        q = self.order + 3 if quad is None else as_int(quad, "quad", minimum=1)
        xq, wq = self.quadrature(q)
        values = evaluate(f, "f", (xq,))
        return self.basis_at_quadrature(q).T @ (values * wq).ravel()

    # ---- evaluation ---------------------------------------------------------------------
    def basis_at_quadrature(self, points, derivative=0):
        """CSR matrix mapping dofs to values (or x-derivatives) at the Gauss points of every cell.

        ``derivative=1`` gives x-derivatives; the points are flattened cell by cell: shape
        ``(cells*points, ndofs)``.

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 2), order=1)
        >>> B = V.basis_at_quadrature(2, derivative=1)
        >>> B.shape, B @ V.x                     # the derivative of x is 1
        ((4, 3), array([1., 1., 1., 1.]))
        """
        q = as_int(points, "points", minimum=1)
        if derivative not in (0, 1):
            raise FemkronValueError(f"derivative must be 0 or 1, got {derivative!r}")
        phi, dphi, _ = self._reference_tables(q)
        table = phi if derivative == 0 else dphi
        cells, n = self.mesh.cells, self.order + 1
        vals = np.broadcast_to(table[None, :, :], (cells, q, n))
        if derivative:
            vals = vals * (2.0 / self.mesh.h)[:, None, None]
        rows = np.repeat(np.arange(cells * q), n)
        cols = np.repeat(self.cell_dofs, q, axis=0).ravel()
        return sp.csr_matrix((vals.ravel(), (rows, cols)), shape=(cells * q, self.ndofs))

    def eval_matrix(self, points, derivative=0):
        """CSR matrix ``E`` that evaluates a function from its dofs at arbitrary points.

        ``E @ u`` = the function with dofs ``u`` (or its derivative, ``derivative=1``) at
        arbitrary points of the interval.

        Examples
        --------
        >>> V = Space1D(Mesh1D.uniform(0, 1, 2), order=1)
        >>> E = V.eval_matrix([0.25, 1.0])
        >>> E @ V.x
        array([0.25, 1.  ])
        """
        if derivative not in (0, 1):
            raise FemkronValueError(f"derivative must be 0 or 1, got {derivative!r}")
        pts = as_array(points, "points").ravel()
        cell = self.mesh.locate(pts)
        h = self.mesh.h[cell]
        xi = np.clip(2.0 * (pts - self.mesh.nodes[cell]) / h - 1.0, -1.0, 1.0)
        if derivative:
            vals = self.element.derivatives(xi) * (2.0 / h)[:, None]
        else:
            vals = self.element.values(xi)
        n = self.order + 1
        rows = np.repeat(np.arange(pts.size), n)
        cols = self.cell_dofs[cell].ravel()
        E = sp.csr_matrix((vals.ravel(), (rows, cols)), shape=(pts.size, self.ndofs))
        E.sum_duplicates()
        return E

    def interpolate(self, f):
        """Nodal interpolant: ``f`` at the dof coordinates.

        Examples
        --------
        >>> Space1D(Mesh1D.uniform(0, 1, 2), order=1).interpolate(lambda x: 2 * x)
        array([0., 1., 2.])
        """
        return evaluate(f, "f", (self.x,)).copy()
