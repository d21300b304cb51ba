"""Row blocks of a Kronecker sum and of a load vector, and row partitions (no PETSc).

The kernels behind :mod:`femkron.petsc` that need only numpy and scipy:
:func:`row_partition` splits the rows of a dof grid into contiguous blocks (one per rank),
:func:`kron_rows` generates one block of rows of a :class:`~femkron.KronOperator` from its 1D
factors, with the exact row lengths known before any value is computed, and
:func:`slab_rhs` integrates the right-hand side of a slab of the first axis over that slab's
cells only.  :func:`row_partition` and :func:`kron_rows` are re-exported by
:mod:`femkron.petsc`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import as_int
from ..errors import FemkronTypeError
from ..fem.bc import FACES, BoundaryConditions, Neumann, Periodic
from ..fem.mesh import Mesh1D
from ..fem.space import Space1D
from ..fem.tensor import TensorSpace, load_vector
from ..kron._csr import _Axis
from ..kron.operator import KronOperator, kron_csr

__all__ = ["CHUNK_ENTRIES", "kron_rows", "row_partition", "slab_rhs"]

#: Entries generated per chunk by :func:`kron_rows` (bounds its temporaries).
CHUNK_ENTRIES = 2**16


def row_partition(shape, size, aligned=True):
    """Offsets of a contiguous split of the rows of a grid ``shape`` over ``size`` ranks.

    With ``aligned`` (the default) every boundary falls between slabs of the first axis, so
    each rank owns whole slabs ``U[i0:i1, ...]``, as evenly as the slabs allow; ranks get no
    rows only when there are fewer slabs than ranks.  Without it the rows are split as evenly
    as possible (PETSc's default).

    Returns
    -------
    ndarray of int64, shape ``(size + 1,)``
        Rank ``r`` owns rows ``offsets[r]:offsets[r + 1]``.

    Examples
    --------
    >>> row_partition((5, 3), 2)
    array([ 0,  9, 15])
    >>> row_partition((5, 3), 2, aligned=False)
    array([ 0,  8, 15])
    """
    shape = tuple(as_int(n, "shape entry", minimum=0) for n in np.atleast_1d(shape))
    size = as_int(size, "size", minimum=1)
    n0 = shape[0] if aligned else int(np.prod(shape, dtype=np.int64))
    block = int(np.prod(shape[1:], dtype=np.int64)) if aligned else 1
    counts = np.full(size, n0 // size, dtype=np.int64)
    counts[: n0 % size] += 1
    return np.concatenate([[0], np.cumsum(counts) * block]).astype(np.int64)


def kron_rows(op, start, stop):
    """Rows ``start:stop`` of a :class:`~femkron.KronOperator` as a canonical CSR matrix.

    The rows are generated from the 1D factors without forming the operator.

    Row ``r`` of ``A_1 ⊗ … ⊗ A_D`` is the multi-index ``(i_1, …, i_D)`` of ``r`` (C order); its
    entries are the products of the entries of row ``i_d`` of each factor, at the columns
    ``(j_1, …, j_D)``.  The pattern of a sum of terms is the Kronecker product of the per-axis
    union patterns, so the row lengths (and exact preallocation) are known before any value is
    computed.  Entries that cancel to zero are kept (the pattern is structural).  Work and
    memory are proportional to the entries of the requested rows.

    Parameters
    ----------
    op : KronOperator
    start, stop : int
        Row range, ``0 <= start <= stop <= op.shape[0]``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(stop - start, op.shape[1])``, sorted indices, no duplicates.

    Examples
    --------
    >>> import numpy as np
    >>> from femkron import KronOperator
    >>> A = np.array([[2.0, -1.0], [-1.0, 2.0]])
    >>> B = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 0.0]])
    >>> op = KronOperator([(1.0, (A, B)), (0.5, (np.eye(2), B))])
    >>> rows = kron_rows(op, 1, 3)
    >>> full = np.kron(A, B) + 0.5 * np.kron(np.eye(2), B)
    >>> bool(np.array_equal(rows.toarray(), full[1:3]))
    True
    """
    if not isinstance(op, KronOperator):
        raise FemkronTypeError(f"op must be a KronOperator, got {type(op).__name__}")
    nrows = op.shape[0]
    start = as_int(start, "start", minimum=0, maximum=nrows)
    stop = as_int(stop, "stop", minimum=start, maximum=nrows)
    block = int(np.prod(op.out_shape[1:], dtype=np.int64))
    if op.naxes > 1 and start % block == 0 and stop % block == 0 and stop > start:
        # whole slabs of the first axis: the block is itself a Kronecker sum (first factors
        # restricted to those rows), assembled by femkron's CSR kernel
        sub = op.restrict(
            [np.arange(start // block, stop // block)] + [None] * (op.naxes - 1),
            [None] * op.naxes,
        )
        return kron_csr(sub)
    patterns = [_Axis([f[d] for _, f in op.terms]) for d in range(op.naxes)]
    values = [[axis.values[id(f[d])] for _, f in op.terms] for d, axis in enumerate(patterns)]
    coefs = np.array([c for c, _ in op.terms])
    D = op.naxes
    in_shape = op.in_shape
    R = stop - start
    # row lengths first: exact sizes, one allocation of the output
    counts = np.ones(R, dtype=np.int64)
    multi = np.unravel_index(np.arange(start, stop, dtype=np.int64), op.out_shape)
    for d in range(D):
        counts *= np.diff(patterns[d].indptr)[multi[d]]
    indptr = np.zeros(R + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    # 32-bit indices where they fit (what scipy and most PETSc builds use)
    small = max(int(indptr[-1]), op.shape[1]) < 2**31
    itype = np.int32 if small else np.int64
    indices = np.empty(int(indptr[-1]), dtype=itype)
    data = np.empty(int(indptr[-1]))
    c0 = 0
    while c0 < R:
        # rows c0:c1 hold at most CHUNK_ENTRIES entries (at least one row)
        c1 = int(np.searchsorted(indptr, indptr[c0] + CHUNK_ENTRIES, side="right")) - 1
        c1 = min(R, max(c1, c0 + 1))
        lo, hi = int(indptr[c0]), int(indptr[c1])
        idx = [m[c0:c1] for m in multi]
        # entries as (row, column prefix, per-term value prefix), expanded axis by axis; each
        # row's entries stay contiguous and sorted because column prefixes only grow
        row = np.arange(c1 - c0, dtype=np.int64)
        col = np.zeros(c1 - c0, dtype=np.int64)
        val = np.repeat(coefs[:, None], c1 - c0, axis=1)
        for d in range(D):
            U = patterns[d]
            i_d = idx[d][row]
            first = U.indptr[i_d]
            n = U.indptr[i_d + 1] - first
            total = int(n.sum())
            offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
            pos = np.repeat(first, n) + offs
            row = np.repeat(row, n)
            col = np.repeat(col, n) * in_shape[d] + U.indices[pos]
            val = np.repeat(val, n, axis=1)
            for t in range(len(coefs)):
                val[t] *= values[d][t][pos]
        indices[lo:hi] = col
        data[lo:hi] = val.sum(axis=0)
        c0 = c1
    return sp.csr_matrix((data, indices, indptr.astype(itype)), shape=(R, op.shape[1]))


def _slab_bc(bcs, e_lo, e_hi, ncells):
    """The conditions of a slab of axis-0 cells.

    The box's own faces where the slab touches them, natural (zero Neumann, contributing
    nothing) on the cut faces.
    """
    names = {(a, s): n for n, (a, s) in FACES.items()}
    out = {}
    for d, ax in enumerate(bcs.axes):
        if ax == "periodic":
            out["xyz"[d]] = Periodic()
            continue
        for side, cond in enumerate(ax):
            if d == 0 and ((side == 0 and e_lo > 0) or (side == 1 and e_hi < ncells - 1)):
                cond = Neumann(0.0)
            if (d, side) in names:
                out[names[(d, side)]] = cond
    return out


def slab_rhs(V, bcs, A_full, f, i_lo, i_hi):
    """Rows ``i_lo:i_hi`` (axis-0 dofs, all others) of ``b - A_full @ lift``.

    Computed on the cells touching them only; returns ``(rows block, lift block on
    s_lo:s_hi, s_lo)``.
    """
    s0 = V.spaces[0]
    p, ncells = s0.order, s0.mesh.cells
    e_lo = max(0, -(-i_lo // p) - 1)
    e_hi = min(ncells - 1, (i_hi - 1) // p)
    sub = Space1D(Mesh1D(s0.mesh.nodes[e_lo : e_hi + 2]), order=p, nodes=s0.nodes)
    W = TensorSpace((sub,) + V.spaces[1:])
    wbcs = BoundaryConditions(W, _slab_bc(bcs, e_lo, e_hi, ncells))
    s_lo = e_lo * p
    rows = slice(i_lo - s_lo, i_hi - s_lo)
    b = load_vector(W, f).reshape(W.shape)[rows]
    extra = wbcs.boundary_load()
    if extra is not None:
        b = b + extra.reshape(W.shape)[rows]
    lift = wbcs.boundary_values()
    if lift is not None:
        block = A_full.restrict(
            [np.arange(i_lo, i_hi)] + [None] * (V.dim - 1),
            [np.arange(s_lo, s_lo + sub.ndofs)] + [None] * (V.dim - 1),
        )
        b = b - block.apply_grid(lift.reshape(W.shape))
        lift = lift.reshape(W.shape)
    return b, lift, s_lo
