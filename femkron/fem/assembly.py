"""Element-by-element assembly of variable-coefficient operators on the tensor mesh.

A general coefficient ``κ(x, y[, z])`` breaks the Kronecker structure of the stiffness
matrix, so this module assembles ``∫ κ∇u·∇v + σ u v`` the classical way: every element
matrix is computed from the coefficient at the element's Gauss points, and the element
matrices are added into the global matrix.  It is vectorised over elements (no Python loop
over cells; a few slabs of elements bound the memory) and works for any order and dimension.

Two facts of the tensor mesh keep it fast:

* the element matrices are contractions of the coefficient values with per-axis tables
  ``φ_a(ξ_q) φ_c(ξ_q)`` (or their derivatives), done one axis at a time;
* the sparsity pattern of the global matrix is the Kronecker product of the 1D patterns, so
  the position of every element entry in the CSR arrays is known in closed form and the
  matrix is summed with one ``numpy.bincount`` per slab, already in canonical CSR form.

Boundary conditions are applied during assembly (a constrained dof set per axis, as in
:class:`~femkron.BoundaryConditions`), so the matrix of the free dofs is produced directly.
This is the general path for direct and AMG solvers, and the honest baseline against which
the matrix-free operator of :mod:`femkron.matfree` is measured.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=2)
>>> A = fk.assemble(V, kappa=lambda x, y: 1 + x * y)
>>> B = fk.stiffness(V, kappa=lambda x, y: 1 + x * y).tocsr()   # low-rank, same quadrature
>>> bool(abs(A - B).max() < 1e-12)
True
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._limits import check_allocation
from ..kron.operator import KronOperator
from .bc import BoundaryConditions
from .coefficients import weighted_coefficients
from .tensor import as_tensor_space

__all__ = ["assemble", "assemble_weighted", "reference_tables"]

#: Element-matrix entries computed per slab (bounds the temporary memory).
SLAB_ENTRIES = 2**22


def reference_tables(space, q):
    """Values ``B`` and reference derivatives ``D`` (``d/dξ``) of the basis of ``space``.

    Both are taken at ``q`` Gauss points of [-1, 1] and have shape ``(q, p + 1)``.
    """
    B, D, _ = space._reference_tables(q)
    return B, D


def canonical_csr(A):
    """``A`` as a CSR matrix in canonical form (duplicates summed, indices sorted)."""
    A = sp.csr_matrix(A)
    A.sum_duplicates()
    A.sort_indices()
    return A


def as_conditions(V, bcs):
    """``bcs`` as :class:`~femkron.BoundaryConditions` on ``V``.

    A dict of face conditions is converted; ``None`` and a BoundaryConditions pass through.
    """
    if bcs is None or isinstance(bcs, BoundaryConditions):
        return bcs
    return BoundaryConditions(V, bcs)


def _dof_map(P, n):
    """Full 1D dof → constrained index (``-1``: removed) from a 0/1 prolongation."""
    if P is None:
        return np.arange(n), n
    P = sp.csr_matrix(P)
    out = np.full(n, -1, dtype=np.int64)
    counts = np.diff(P.indptr)
    rows = np.flatnonzero(counts)
    out[rows] = P.indices[P.indptr[rows]]
    return out, P.shape[1]


class _Axis:
    """Sparsity pattern of one axis on its constrained dofs, and where element entries sit.

    Gives, with the pattern, where every element entry ``(cell, a, c)`` sits in it.
    """

    def __init__(self, space, P):
        dmap, m = _dof_map(P, space.ndofs)
        self.m = m
        loc = dmap[space.cell_dofs]  # (cells, s)
        rows = np.broadcast_to(loc[:, :, None], loc.shape + (loc.shape[1],))
        cols = np.broadcast_to(loc[:, None, :], rows.shape)
        valid = (rows >= 0) & (cols >= 0)
        pattern = sp.csr_matrix(
            (np.ones(int(valid.sum())), (rows[valid], cols[valid])), shape=(m, m)
        )
        pattern.sum_duplicates()
        pattern.sort_indices()
        pattern.data[:] = 1.0
        self.pattern = pattern
        self.rownnz = np.diff(pattern.indptr).astype(np.int64)
        entry_rows = np.repeat(np.arange(m, dtype=np.int64), self.rownnz)
        keys = entry_rows * m + pattern.indices
        r = np.where(valid, rows, 0)
        c = np.where(valid, cols, 0)
        off = np.searchsorted(keys, r * m + c) - pattern.indptr[r]
        self.offset = np.where(valid, off, 0).astype(np.int64)  # (cells, s, s)
        self.row = np.where(loc >= 0, loc, 0).astype(np.int64)  # (cells, s)
        self.valid = valid


def _element_kernel(tables, D):
    """The matrix ``K`` with ``local = C @ K``.

    Rows run over (term, q_0, ..., q_{D-1}), columns over the element entries
    ``(a_0, ..., a_{D-1}, c_0, ..., c_{D-1})`` (C order).

    ``tables`` holds, per term, one table ``T_d[q, a, c]`` per axis.
    """
    blocks = []
    for tabs in tables:
        K = np.ones((1, 1))
        for T in tabs:
            q, s, _ = T.shape
            K = np.kron(K, T.reshape(q, s * s))
        sizes = [T.shape[1] for T in tabs]
        K = K.reshape((K.shape[0],) + tuple(x for s in sizes for x in (s, s)))
        perm = [0] + [1 + 2 * d for d in range(D)] + [2 + 2 * d for d in range(D)]
        blocks.append(K.transpose(perm).reshape(K.shape[0], -1))
    return np.ascontiguousarray(np.vstack(blocks))


def assemble_weighted(V, c, c_sigma, quad, bcs=None):
    """Assemble from weighted coefficients at the Gauss points, element by element, as CSR.

    The coefficients are those of :func:`femkron.coefficients.weighted_coefficients`; the
    result is ``Σ_d (⊗B..D_d..B)ᵀ diag(c_d) (⊗B..D_d..B) + (⊗B)ᵀ diag(c_sigma) (⊗B)``,
    assembled element by element on the free dofs of ``bcs`` (``None``: all dofs).  Robin
    terms of ``bcs`` are added.  Returns CSR.
    """
    V = as_tensor_space(V)
    bcs = as_conditions(V, bcs)
    D = V.dim
    Ps = bcs.P if bcs is not None else [None] * D
    axes = [_Axis(s, P) for s, P in zip(V.spaces, Ps)]
    pattern_op = KronOperator.kron(*[ax.pattern for ax in axes])
    check_allocation(
        pattern_op.csr_nbytes(),
        f"the assembled {pattern_op.shape[0]}×{pattern_op.shape[1]} matrix",
        "use the matrix-free operator (fk.MatrixFreeOperator) with method='fdm'",
    )
    pattern = pattern_op.tocsr()
    nnz = pattern.nnz
    ms = [ax.m for ax in axes]
    # global indptr of the Kronecker pattern (rows in C order)
    rownnz = np.ones((), dtype=np.int64)
    for ax in axes:
        rownnz = np.multiply.outer(rownnz, ax.rownnz)
    indptr = np.zeros(int(np.prod(ms)) + 1, dtype=np.int64)
    np.cumsum(rownnz.ravel(), out=indptr[1:])
    if indptr[-1] != nnz:  # pragma: no cover - the Kronecker pattern is exact
        raise AssertionError("inconsistent Kronecker sparsity pattern")
    tabs = [reference_tables(s, q) for s, q in zip(V.spaces, quad)]

    def table(d, kind):
        B, Dr = tabs[d]
        L = Dr if kind == "d" else B
        return L[:, :, None] * L[:, None, :]

    terms = [(c[d], [table(e, "d" if e == d else "v") for e in range(D)]) for d in range(D)]
    if c_sigma is not None:
        terms.append((c_sigma, [table(e, "v") for e in range(D)]))
    kernel = _element_kernel([tabl for _, tabl in terms], D)
    Q = int(np.prod(quad))
    cells = [s.mesh.cells for s in V.spaces]
    sizes = [s.order + 1 for s in V.spaces]
    S = int(np.prod(sizes))
    per_cell0 = int(np.prod(cells[1:], dtype=np.int64)) * S * S
    step = max(1, SLAB_ENTRIES // max(per_cell0, 1))
    data = np.zeros(nnz)
    all_valid = all(bool(ax.valid.all()) for ax in axes)
    strides = [int(np.prod(ms[d + 1 :], dtype=np.int64)) for d in range(D)]

    def place(arr, dims):
        shape = [1] * (3 * D)
        for k, pos in enumerate(dims):
            shape[pos] = arr.shape[k]
        return arr.reshape(shape)

    for start in range(0, cells[0], step):
        stop = min(cells[0], start + step)
        # coefficient slabs reshaped to (E, q_0, ..., q_{D-1})
        slabs = []
        for coef, _ in terms:
            Cs = coef[start * quad[0] : stop * quad[0]]
            split = []
            for d in range(D):
                split += [(stop - start) if d == 0 else cells[d], quad[d]]
            Cs = Cs.reshape(split)
            perm = [2 * d for d in range(D)] + [2 * d + 1 for d in range(D)]
            slabs.append(Cs.transpose(perm).reshape(-1, Q))
        local = np.hstack(slabs) @ kernel  # (E, S*S)
        # positions in the CSR data array
        row = 0
        ok = True
        pos_extra = 0
        for d, ax in enumerate(axes):
            sel = slice(start, stop) if d == 0 else slice(None)
            r = ax.row[sel]
            row = row + place(r * strides[d], (d, D + d))
            ok = ok & place(ax.valid[sel], (d, D + d, 2 * D + d))
            after = 1
            for e in range(d + 1, D):
                sel_e = slice(start, stop) if e == 0 else slice(None)
                after = after * place(axes[e].rownnz[axes[e].row[sel_e]], (e, D + e))
            pos_extra = pos_extra + place(ax.offset[sel], (d, D + d, 2 * D + d)) * after
        pos = indptr[row] + pos_extra
        full = tuple([stop - start] + cells[1:] + [s for s in sizes] + [s for s in sizes])
        pos = np.broadcast_to(pos, full).reshape(-1)
        vals = local.reshape(-1)
        if not all_valid:
            vals = vals * np.broadcast_to(ok, full).reshape(-1)
        # invalid entries (a removed row or column) carry weight 0 at an in-range position
        data += np.bincount(pos, weights=vals, minlength=nnz)
    A = sp.csr_matrix((data, pattern.indices, pattern.indptr), shape=pattern.shape)
    if bcs is not None:
        robin = bcs.robin_operator()
        if robin is not None:
            A = canonical_csr(A + bcs.constrain(robin).tocsr())
    return A


def assemble(V, kappa=1.0, sigma=0.0, bcs=None, quad=None):
    """Assemble ``∫ κ ∇u·∇v + σ u v`` element by element as a CSR matrix.

    Parameters
    ----------
    V : TensorSpace
    kappa : number, callable ``κ(x, y, ...)``, tuple of per-axis factors, or Anisotropic
        Diffusion coefficient, ``> 0`` at every Gauss point (checked).
    sigma : number or callable
        Reaction coefficient ``σ(x, y, ...) >= 0`` (checked).
    bcs : BoundaryConditions, dict, or None
        ``None`` assembles on all dofs (no boundary condition); otherwise the matrix of the
        free dofs of these conditions, Robin terms included.
    quad : int or tuple of int, optional
        Gauss points per cell and axis (default ``p + 2``).

    Returns
    -------
    scipy.sparse.csr_matrix
        Canonical CSR (sorted indices, no duplicates).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1), (0, 1)], cells=2, order=1)
    >>> A = assemble(V, kappa=2.0)
    >>> bool(abs(A - 2.0 * fk.stiffness(V).tocsr()).max() < 1e-14)
    True
    >>> assemble(V, bcs={}).shape     # homogeneous Dirichlet: the 1 interior dof
    (1, 1)
    """
    V = as_tensor_space(V)
    bcs = as_conditions(V, bcs)
    c, c_sigma, quad = weighted_coefficients(V, kappa, sigma, quad)
    return assemble_weighted(V, c, c_sigma, quad, bcs)
