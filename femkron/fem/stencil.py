"""Variable-coefficient operators stored by diagonals: the stencil form of a full band.

On a box of ``Q1`` elements every row of the assembled ``∫ κ∇u·∇v + σ u v`` couples a dof
with its neighbours ``i + k``, ``k ∈ {-1, 0, 1}^D``: the matrix is a stencil of ``3^D``
diagonals of the free-dof grid.  Stored by diagonals (``scipy.sparse.dia_matrix``) it needs
no column indices and no row pointers: 8 bytes per entry instead of CSR's 12, and no index
array to compute and fault in, while a product costs the same as a CSR product.  The values
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
>>> S.format, S.offsets.size
('dia', 9)
>>> A = fk.assemble(V, kappa=lambda x, y: 1 + x * y, bcs={})
>>> bool(abs(S.tocsr() - A).max() < 1e-14)
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .assembly import SLAB_ENTRIES, as_conditions, half_chunks, scatter_axes
from .coefficients import weighted_coefficients
from .tensor import as_tensor_space

__all__ = ["assemble_stencil", "stencil_axes"]


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
    """The per-axis scatter data and bandwidths, or ``None`` when the stencil form does not apply."""
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
    data = np.empty((offsets.size, N))
    T0 = tables[0]
    rows_per = max(1, SLAB_ENTRIES // max(offsets.size * M_in, 1))
    gathers = {}
    for r0, r1, h0, F in half_chunks(axes, terms, rows_per):
        t0 = T0[r0:r1]
        ident = (r1 - r0, np.where(t0 < 0, -1, t0 - h0).tobytes())
        gather = gathers.get(ident)
        if gather is None:
            outer = np.where(t0 < 0, -1, t0 - h0).T[:, None, :, None]  # (k0, 1, row, 1)
            g = outer * nhalf_in + inner[None, :, None, :]
            g[(outer < 0) | (inner[None, :, None, :] < 0)] = F.size - 1  # the zero
            gather = gathers[ident] = g.reshape(offsets.size, -1)
        for s in range(offsets.size):
            np.take(F, gather[s], out=data[s, r0 * M_in : r1 * M_in], mode="clip")
    # scipy's diagonals: data[s, j] = A[j - offset_s, j] = A[j, j - offset_s] (symmetric)
    return sp.dia_matrix((data, offsets), shape=(N, N))


def assemble_stencil(V, kappa=1.0, sigma=0.0, bcs=None, quad=None):
    """Assemble ``∫ κ ∇u·∇v + σ u v`` as a ``scipy.sparse.dia_matrix`` of its stencil.

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
    scipy.sparse.dia_matrix or None

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)] * 3, cells=4, order=1)
    >>> assemble_stencil(V, kappa=2.0, bcs={}).offsets.size
    27
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
