"""The pole constraint of curvilinear coordinates: ``Pᵀ A P``.

The tensor dofs on the end of a *pole axis* (``r = 0`` of a disk, the axis of a cylinder,
``θ = 0, π`` of a sphere) are one physical point for every angle: the conforming space holds
functions constant along the *angular axes* there.  ``P`` copies the one value of each such
point to its ring of tensor dofs; :class:`PoleConstrainedOperator` is ``Pᵀ A P``, the operator
on the reduced dofs.  :class:`~femkron.kron.nested.NestedDiagonalization` solves it exactly.

Examples
--------
>>> P = pole_prolongation((3, 4), [(0, 0, (1,))])  # r axis 0, its end 0, angle axis 1
>>> P.shape  # the 4 dofs at r = 0 collapse into one
(12, 9)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._limits import check_allocation
from ..errors import FemkronTypeError, FemkronValueError
from .operator import KronOperator

__all__ = ["PoleConstrainedOperator", "pole_prolongation", "pole_select"]


def _pole_layout(shape, poles):
    """Reduced column of every grid dof, and the blocks of the collapsed pole dofs."""
    D = len(shape)
    N = int(np.prod(shape, dtype=np.int64))
    cols = np.full(shape, -1, dtype=np.int64)
    blocks = []
    offset = 0
    for axis, side, angular in poles:
        idx = [slice(None)] * D
        idx[axis] = 0 if side == 0 else shape[axis] - 1
        idx = tuple(idx)
        keep = [d for d in range(D) if d != axis and d not in angular]
        sub = tuple(shape[d] for d in keep)
        count = int(np.prod(sub, dtype=np.int64))
        # the hyperplane's axes (all but `axis`), angular ones of length 1
        hyper = [d for d in range(D) if d != axis]
        bshape = tuple(1 if d in angular else shape[d] for d in hyper)
        block = offset + np.arange(count).reshape(bshape)
        if np.any(cols[idx] >= 0):
            raise FemkronValueError("two poles share grid dofs")
        cols[idx] = np.broadcast_to(block, cols[idx].shape)
        blocks.append((slice(offset, offset + count), idx, tuple(angular), sub))
        offset += count
    rest = cols < 0
    nrest = int(rest.sum())
    cols[rest] = offset + np.arange(nrest)
    return cols.reshape(N), blocks, np.flatnonzero(rest.reshape(N)), offset + nrest


def pole_select(shape, poles, U):
    """The reduced values of a grid array: pole dofs averaged along their angular axes.

    The inverse of :func:`pole_prolongation` on grids that are constant at the poles.

    Examples
    --------
    >>> U = np.arange(12.0).reshape(3, 4)
    >>> U[0] = 7.0
    >>> pole_select((3, 4), [(0, 0, (1,))], U)[:3]
    array([7., 4., 5.])
    """
    shape = tuple(shape)
    U = np.asarray(U, dtype=float).reshape(shape)
    _, blocks, rest, nred = _pole_layout(shape, poles)
    out = np.empty(nred)
    out[nred - rest.size :] = U.reshape(-1)[rest]
    for (axis, _, _), (sl, idx, angular, _) in zip(poles, blocks):
        hyper = tuple(a - (a > axis) for a in angular)
        out[sl] = U[idx].mean(axis=hyper).reshape(-1)
    return out


def pole_prolongation(shape, poles):
    """The ``N × N_reduced`` matrix ``P`` that copies each pole dof along its angular axes.

    Examples
    --------
    >>> P = pole_prolongation((3, 4), [(0, 0, (1,))])
    >>> P.shape, P[:4].toarray().ravel().tolist()   # the 4 dofs of r = 0 are one
    ((12, 9), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, \
0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    cols, _, _, nred = _pole_layout(tuple(shape), poles)
    N = cols.size
    return sp.csr_matrix((np.ones(N), (np.arange(N), cols)), shape=(N, nred))


class PoleConstrainedOperator:
    """``Pᵀ A P``: a Kronecker sum ``A`` on the conforming functions at poles.

    Parameters
    ----------
    A : KronOperator
        Square, on the tensor grid (after the per-axis boundary conditions).
    poles : sequence of (axis, side, angular axes)
        At the end ``side`` (0 lower, 1 upper) of ``axis`` the values are constant along
        the ``angular`` axes.

    Attributes
    ----------
    A : KronOperator
    poles : tuple
    P : scipy.sparse.csr_matrix
        The prolongation (see :func:`pole_prolongation`).
    shape : tuple of int
    grid_shape, in_shape : tuple of int
        The tensor grid of ``A``.
    naxes : int

    Examples
    --------
    >>> import femkron as fk
    >>> D = fk.TensorSpace.disk(radius=1.0, cells=(2, 4), order=1)
    >>> A = fk.BoundaryConditions(D).constrain(fk.stiffness(D))
    >>> type(A).__name__, A.shape        # one centre dof and 1 × 4 ring dofs
    ('PoleConstrainedOperator', (5, 5))
    """

    def __init__(self, A, poles):
        if not isinstance(A, KronOperator):
            raise FemkronTypeError(f"A must be a KronOperator, got {type(A).__name__}")
        if A.shape[0] != A.shape[1]:
            raise FemkronValueError(f"A must be square, got {A.shape}")
        self.A = A
        self.poles = tuple((int(a), int(s), tuple(int(x) for x in ang)) for a, s, ang in poles)
        self.grid_shape = self.in_shape = A.in_shape
        self.naxes = A.naxes
        cols, self.blocks, self.rest, nred = _pole_layout(self.grid_shape, self.poles)
        N = cols.size
        self.P = sp.csr_matrix((np.ones(N), (np.arange(N), cols)), shape=(N, nred))
        self._Pt = self.P.T.tocsr()
        self.shape = (nred, nred)
        self.dtype = np.dtype(float)
        self.structure = None

    def __repr__(self):
        return f"<PoleConstrainedOperator {self.shape[0]}×{self.shape[1]}, poles {self.poles}>"

    def __matmul__(self, x):
        x = np.asarray(x, dtype=float)
        return self._Pt @ (self.A @ (self.P @ x))

    def dot(self, x):
        """``self @ x``."""
        return self @ x

    def _same_poles(self, other):
        return isinstance(other, PoleConstrainedOperator) and other.poles == self.poles

    def __add__(self, other):
        if not self._same_poles(other):
            return NotImplemented
        return PoleConstrainedOperator(self.A + other.A, self.poles)

    def __sub__(self, other):
        if not self._same_poles(other):
            return NotImplemented
        return PoleConstrainedOperator(self.A - other.A, self.poles)

    def __mul__(self, scalar):
        return PoleConstrainedOperator(self.A * scalar, self.poles)

    __rmul__ = __mul__

    def tocsr(self):
        """``Pᵀ A P`` assembled (CSR)."""
        return (self._Pt @ self.A.tocsr() @ self.P).tocsr()

    def toarray(self):
        """Dense form (small operators only)."""
        check_allocation(
            8 * self.shape[0] ** 2, "the dense pole-constrained operator", "use tocsr()"
        )
        return self.tocsr().toarray()

    def diagonal(self):
        """The diagonal of ``Pᵀ A P``."""
        return self.tocsr().diagonal()

    def csr_nbytes(self):
        """Bytes of the CSR form (that of ``A``, an upper bound)."""
        return int(self.A.csr_nbytes())

    def extend(self, x):
        """Grid values ``P x`` of a reduced vector."""
        return self.P @ np.asarray(x, dtype=float)

    def restrict(self, b):
        """Reduced right-hand side ``Pᵀ b`` of a grid vector."""
        return self._Pt @ np.asarray(b, dtype=float)
