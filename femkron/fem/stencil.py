"""Variable-coefficient operators stored by diagonals: the stencil form of a full band.

On a box of ``Q1`` elements every row of the assembled ``∫ κ∇u·∇v + σ u v`` couples a dof
with its neighbours ``i + k``, ``k ∈ {-1, 0, 1}^D``: the matrix is a stencil of ``3^D``
diagonals of the free-dof grid.  Stored by diagonals (:class:`SymmetricStencil`) it needs
no column indices and no row pointers, and being symmetric only the diagonals on and above
the main one are kept (``(3^D + 1) / 2``): 4 bytes per entry instead of CSR's 12, and no
index array to compute and fault in, while a product costs the same as a CSR product.  The values
come from the same sum factorisation on the symmetric half patterns as
:func:`~femkron.assemble`, gathered into the diagonals chunk by chunk.

The form applies when the 1D pattern of every axis is a full band (each row couples all
dofs within its bandwidth: ``Q1``, Dirichlet or Neumann ends; not periodic axes, not
``p >= 2``, whose vertex and interior rows differ) and there are no Robin terms and no pole
constraints.  :func:`assemble_stencil` returns ``None`` otherwise.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> S = assemble_stencil(V, kappa=lambda x, y: 1 + x * y, bcs={})
>>> S.format, S.offsets.tolist()      # the diagonals 0, 1 and 3 - 1, 3, 3 + 1 of a 3 × 3 grid
('stencil', [0, 1, 2, 3, 4])
>>> A = fk.assemble(V, kappa=lambda x, y: 1 + x * y, bcs={})
>>> bool(abs(S.tocsr() - A).max() < 1e-14)
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import FemkronValueError
from .assembly import SLAB_ENTRIES, as_conditions, half_chunks, scatter_axes
from .coefficients import weighted_coefficients
from .tensor import as_tensor_space

try:  # scipy's DIA product kernel (private), with a numpy fallback
    from scipy.sparse._sparsetools import dia_matvec as _dia_matvec
except ImportError:  # pragma: no cover
    _dia_matvec = None

__all__ = ["SymmetricStencil", "assemble_stencil", "stencil_axes"]


def _band(ax):
    """The bandwidth of an axis's pattern when every row is a full band, else ``None``."""
    if ax.m == 0:
        return None
    r = int(np.abs(ax.row_of - ax.indices).max())
    rows = np.arange(ax.m)
    full = np.minimum(ax.m - 1, rows + r) - np.maximum(0, rows - r) + 1
    return r if int(full.sum()) == ax.nnz else None


def _slot_table(ax, r):
    """``T[j, k + r]``: the half entry of ``(j, j - k)``, ``-1`` outside the pattern."""
    T = np.full((ax.m, 2 * r + 1), -1, dtype=np.int64)
    T[ax.row_of, ax.row_of - ax.indices + r] = ax.half
    return T


def stencil_axes(V, quad, bcs, scales=None):
    """The per-axis scatter data and bandwidths; ``None`` where the stencil form does not apply."""
    if bcs is not None and (getattr(bcs, "poles", ()) or bcs.robin_operator() is not None):
        return None
    Ps = bcs.P if bcs is not None else [None] * V.dim
    axes = scatter_axes(V, Ps, quad, scales)
    bands = [_band(ax) for ax in axes]
    if any(r is None for r in bands) or _offsets(axes, bands) is None:
        return None
    return axes, bands


def _offsets(axes, bands):
    """Global diagonal offsets in slot order ``(k_0, k_1, …)`` (``k = row - column``).

    ``None`` when two slots share an offset (an axis of fewer than ``2 r + 1`` dofs).
    """
    ms = [ax.m for ax in axes]
    strides = np.cumprod([1] + ms[::-1])[:-1][::-1]
    ks = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in bands], indexing="ij"), -1)
    offsets = (ks.reshape(-1, len(axes)) * strides).sum(axis=1)
    return offsets if np.unique(offsets).size == offsets.size else None


def _stencil_from_axes(axes, bands, terms):
    """Fill the diagonals from the half values of :func:`half_chunks`."""
    N = int(np.prod([ax.m for ax in axes], dtype=np.int64))
    tables = [_slot_table(ax, r) for ax, r in zip(axes, bands)]
    # the inner axes' slots × inner grid points → their Kronecker half index (-1: none)
    inner = np.zeros((1, 1), dtype=np.int64)
    nhalf_in = 1
    for ax, T in zip(axes[1:], tables[1:]):
        a = inner[:, None, :, None]
        t = T.T[None, :, None, :]  # (slot, point)
        joined = a * ax.nhalf + t
        joined[(a < 0) | (t < 0)] = -1
        inner = joined.reshape(inner.shape[0] * T.shape[1], inner.shape[1] * T.shape[0])
        nhalf_in *= ax.nhalf
    M_in = inner.shape[1]
    offsets = _offsets(axes, bands)
    keep = np.flatnonzero(offsets >= 0)  # the symmetric matrix: diagonals on and above
    data = np.empty((keep.size, N))
    T0 = tables[0]
    rows_per = max(1, SLAB_ENTRIES // max(keep.size * M_in, 1))
    gathers = {}
    for r0, r1, h0, F in half_chunks(axes, terms, rows_per):
        t0 = T0[r0:r1]
        ident = (r1 - r0, np.where(t0 < 0, -1, t0 - h0).tobytes())
        gather = gathers.get(ident)
        if gather is None:
            outer = np.where(t0 < 0, -1, t0 - h0).T[:, None, :, None]  # (k0, 1, row, 1)
            g = outer * nhalf_in + inner[None, :, None, :]
            g[(outer < 0) | (inner[None, :, None, :] < 0)] = F.size - 1  # the zero
            gather = gathers[ident] = g.reshape(offsets.size, -1)[keep]
        for s, row in enumerate(gather):
            np.take(F, row, out=data[s, r0 * M_in : r1 * M_in], mode="clip")
    # scipy's diagonals: data[s, j] = A[j - offset_s, j] = A[j, j - offset_s] (symmetric)
    return SymmetricStencil(data, offsets[keep], (N, N))


class SymmetricStencil:
    """A symmetric matrix stored by its diagonals on and above the main one.

    ``data[s, j] = A[j - offsets[s], j]`` (scipy's DIA convention) for ``offsets >= 0``;
    the diagonal below, ``A[j + o, j] = A[j, j + o]``, is the same row of ``data`` read
    ``o`` places further on, so products need no second copy.

    Attributes
    ----------
    data : ndarray, shape (n_diagonals, N)
    offsets : ndarray of int
        Non-negative, with ``0`` (the main diagonal) among them.
    shape : (int, int)
    format : str
        ``"stencil"``.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> A = sp.diags([[-1.0] * 4, [2.0] * 5, [-1.0] * 4], [-1, 0, 1]).tocsr()
    >>> S = SymmetricStencil(np.array([[2.0] * 5, [0.0] + [-1.0] * 4]), np.array([0, 1]), (5, 5))
    >>> x = np.arange(5.0)
    >>> bool(np.allclose(S @ x, A @ x)), bool(abs(S.tocsr() - A).max() == 0)
    (True, True)
    """

    format = "stencil"
    dtype = np.dtype(float)

    def __init__(self, data, offsets, shape):
        self.data = np.asarray(data, dtype=float)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.shape = tuple(shape)
        if self.data.shape != (self.offsets.size, self.shape[1]) or np.any(self.offsets < 0):
            raise FemkronValueError(
                f"data of shape {self.data.shape} and offsets {self.offsets.tolist()} do not "
                f"describe the upper diagonals of a {self.shape[0]}×{self.shape[1]} matrix"
            )

    def __matmul__(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim != 1 or x.size != self.shape[1]:
            raise FemkronValueError(f"cannot apply a {self.shape} stencil to shape {x.shape}")
        n = self.shape[0]
        y = np.zeros(n)
        if _dia_matvec is None:  # pragma: no cover - scipy without its DIA kernel
            for o, d in zip(self.offsets, self.data):
                y[: n - o] += d[o:] * x[o:]
                if o:
                    y[o:] += d[o:] * x[: n - o]
            return y
        _dia_matvec(n, n, self.offsets.size, n, self.offsets, self.data, x, y)  # on and above
        for o, d in zip(self.offsets, self.data):
            if 0 < o < n:  # below: A[j + o, j] = data[s, j + o]
                _dia_matvec(n, n, 1, n - o, np.array([-o]), d[o:], x, y)
        return y

    def __repr__(self):
        return (
            f"<SymmetricStencil {self.shape[0]}×{self.shape[1]}, "
            f"{self.offsets.size} stored diagonals (offsets {self.offsets.tolist()})>"
        )

    def dot(self, x):
        """``self @ x`` (as scipy matrices spell it)."""
        return self @ x

    matvec = dot

    def diagonal(self):
        """The main diagonal."""
        return self.data[int(np.flatnonzero(self.offsets == 0)[0])].copy()

    def toarray(self):
        """The same matrix as a dense array (small matrices only)."""
        return self.tocsr().toarray()

    def tocsr(self):
        """The same matrix as canonical scipy CSR."""
        n = self.shape[0]
        data = np.zeros((2 * self.offsets.size, n))
        offs = np.concatenate([self.offsets, -self.offsets])
        data[: self.offsets.size] = self.data
        for s, o in enumerate(self.offsets):
            data[self.offsets.size + s, : n - o] = self.data[s, o:]
        keep = np.concatenate([np.ones(self.offsets.size, bool), self.offsets > 0])
        A = sp.dia_matrix((data[keep], offs[keep]), shape=self.shape).tocsr()
        A.sort_indices()
        return A


def assemble_stencil(V, kappa=1.0, sigma=0.0, bcs=None, quad=None):
    """Assemble ``∫ κ ∇u·∇v + σ u v`` as a :class:`SymmetricStencil` (stored by diagonals).

    The same matrix as :func:`~femkron.assemble` (to rounding), stored by diagonals; only for
    operators whose 1D patterns are full bands (``Q1`` boxes without Robin terms or periodic
    axes), else ``None``.

    Parameters
    ----------
    V : TensorSpace
    kappa, sigma, bcs, quad
        As in :func:`~femkron.assemble`.

    Returns
    -------
    SymmetricStencil or None

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)] * 3, cells=4, order=1)
    >>> assemble_stencil(V, kappa=2.0, bcs={}).offsets.size   # 27 diagonals, 14 kept
    14
    >>> assemble_stencil(fk.TensorSpace.box([(0, 1)], cells=3, order=2)) is None
    True
    """
    V = as_tensor_space(V)
    bcs = as_conditions(V, bcs)
    c, c_sigma, quad = weighted_coefficients(V, kappa, sigma, quad)
    return assemble_stencil_weighted(V, c, c_sigma, quad, bcs)


def assemble_stencil_weighted(V, c, c_sigma, quad, bcs=None, scales=None):
    """:func:`assemble_stencil` from weighted coefficients (as :func:`assemble_weighted`)."""
    found = stencil_axes(V, quad, bcs, scales)
    if found is None:
        return None
    D = V.dim
    terms = [(c[d], ["d" if e == d else "v" for e in range(D)]) for d in range(D)]
    if c_sigma is not None:
        terms.append((c_sigma, ["v"] * D))
    return _stencil_from_axes(*found, terms)
