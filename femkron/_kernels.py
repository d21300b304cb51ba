"""How one 1D factor is multiplied along one axis of a grid array (private).

A factor becomes one of five kernels, chosen once per factor by a cost model:

* ``identity`` — nothing to do;
* ``diagonal`` — one broadcast multiply;
* ``band`` — a sparse factor with few diagonals: one multiply-add per diagonal on shifted
  slices, in cache-sized chunks (memory speed, ``O(N)`` scratch);
* ``dense`` — a BLAS product (``A @ U``, ``U @ Aᵀ`` or a batched ``matmul``), best when the
  factor is small or dense;
* ``sparse`` — scipy's CSR product (wide-band or irregular sparse factors).

The cost model compares ``2 n`` flops per entry of a dense product with about
``DENSE_PER_DIAGONAL`` per diagonal of the banded kernel (measured: a banded pass costs about
as much as a dense product with 12 columns on this kind of machine).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["factor_kernel", "DENSE_PER_DIAGONAL", "DENSE_APPLY_LIMIT"]

#: Factors with at most this many entries may be applied as dense BLAS products.
DENSE_APPLY_LIMIT = 2048 * 2048
#: A sparse factor with ``n`` columns and ``p`` (row-weighted) diagonals is applied dense
#: when ``n <= DENSE_PER_DIAGONAL * p``.
DENSE_PER_DIAGONAL = 12
#: Banded kernels work on chunks of about this many entries (fits in L2 cache).
_CHUNK = 2**16
#: More diagonals than this: scipy's CSR product.
_MAX_DIAGONALS = 48


def _split(shape, axis):
    a = int(np.prod(shape[:axis], dtype=np.int64))
    b = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    return a, shape[axis], b


class _Kernel:
    kind = "dense"

    def __init__(self, A):
        self.shape = A.shape

    def apply(self, U, axis, out=None):
        """``A`` along ``axis`` of ``U``, written to ``out`` (a C-contiguous array of the
        result's shape) when given; ``identity`` returns ``U`` itself."""
        shape = U.shape
        if shape[axis] != self.shape[1]:
            raise ValueError(
                f"factor of shape {self.shape} cannot act on axis {axis} of length {shape[axis]}"
            )
        a, n, b = _split(shape, axis)
        m = self.shape[0]
        out_shape = shape[:axis] + (m,) + shape[axis + 1 :]
        if self.kind == "identity":
            return U
        O3 = None if out is None else out.reshape(a, m, b)
        res = self._apply3(np.ascontiguousarray(U).reshape(a, n, b), a, n, b, m, O3)
        return res.reshape(out_shape)


class _Identity(_Kernel):
    kind = "identity"


class _Diagonal(_Kernel):
    kind = "diagonal"

    def __init__(self, A, diag):
        super().__init__(A)
        self.diag = diag

    def _apply3(self, U3, a, n, b, m, out):
        return np.multiply(U3, self.diag[None, :, None], out=out)


class _Dense(_Kernel):
    kind = "dense"

    def __init__(self, A):
        super().__init__(A)
        self.A = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
        self.At = np.ascontiguousarray(self.A.T)

    def _apply3(self, U3, a, n, b, m, out):
        if a == 1:
            return np.matmul(self.A, U3.reshape(n, b), out=None if out is None else out[0])
        if b == 1:
            return np.matmul(U3.reshape(a, n), self.At, out=None if out is None else out[..., 0])
        return np.matmul(self.A, U3, out=out)


class _Sparse(_Kernel):
    kind = "sparse"

    def __init__(self, A):
        super().__init__(A)
        self.A = sp.csr_matrix(A)
        self.At = self.A.T.tocsr()

    def _apply3(self, U3, a, n, b, m, out):
        if a == 1:
            res = np.asarray(self.A @ U3.reshape(n, b))
        elif b == 1:
            res = np.asarray(self.At.T @ U3.reshape(a, n).T).T
        else:
            V = np.asarray(self.A @ U3.transpose(1, 0, 2).reshape(n, a * b))
            res = V.reshape(m, a, b).transpose(1, 0, 2)
        if out is None:
            return np.ascontiguousarray(res).reshape(a, m, b)
        out[...] = res.reshape(a, m, b)
        return out


class _Band(_Kernel):
    """A square sparse factor with few diagonals.

    On the first axis, row blocks of scipy's CSR product with the ``(n, b)`` matrix of grid
    lines; on the other axes the contiguous ``(c, n, b)`` slabs are multiplied by the block
    operator ``I_c ⊗ A ⊗ I_b`` stored as DIA (the diagonals of ``A`` spread by ``b``), built
    once per ``(c, b)`` and small enough to stay in cache.  Results go to cache-sized pieces
    and are copied once into the output.
    """

    kind = "band"

    def __init__(self, A, diagonals):
        super().__init__(A)
        self.A = sp.csr_matrix(A)
        self.diagonals = diagonals  # (k, lo, hi, values of rows lo..hi-1)
        self._blocks = {}
        self._rows = {}

    def _block(self, c, b):
        key = (c, b)
        D = self._blocks.get(key)
        if D is None:
            n = self.shape[0]
            offsets, rows = [], []
            for k, lo, hi, vals in self.diagonals:
                col = np.zeros(n)  # DIA stores by column: value at column j = row j - k
                col[lo + k : hi + k] = vals
                offsets.append(k * b)
                rows.append(np.tile(np.repeat(col, b), c))
            L = c * n * b
            D = sp.dia_matrix((np.array(rows), np.array(offsets)), shape=(L, L))
            if len(self._blocks) > 8:
                self._blocks.clear()
            self._blocks[key] = D
        return D

    def _row_blocks(self, r):
        blocks = self._rows.get(r)
        if blocks is None:
            n = self.shape[0]
            blocks = [(s, self.A[s : s + r]) for s in range(0, n, r)]
            if len(self._rows) > 8:
                self._rows.clear()
            self._rows[r] = blocks
        return blocks

    def _apply3(self, U3, a, n, b, m, out):
        if out is None:
            out = np.empty((a, n, b))
        if a == 1:
            U2, O2 = U3.reshape(n, b), out.reshape(n, b)
            if n * b <= _CHUNK:
                O2[...] = self.A @ U2
                return out
            r = max(1, _CHUNK // b)
            for s, As in self._row_blocks(r):
                O2[s : s + r] = As @ U2
            return out
        c = max(1, min(a, _CHUNK // max(n * b, 1)))
        D = self._block(c, b)
        flat_in = U3.reshape(a, n * b)
        flat_out = out.reshape(a, n * b)
        full = (a // c) * c
        for s in range(0, full, c):
            flat_out[s : s + c] = (D @ flat_in[s : s + c].reshape(-1)).reshape(c, -1)
        if full < a:
            r = a - full
            flat_out[full:] = (self._block(r, b) @ flat_in[full:].reshape(-1)).reshape(r, -1)
        return out


def _diagonals(A):
    """Stored diagonals of a CSR matrix: list of (k, lo, hi, values) and row-weighted count."""
    m, n = A.shape
    rows = np.repeat(np.arange(m), np.diff(A.indptr))
    offs = A.indices.astype(np.int64) - rows
    uniq, inv = np.unique(offs, return_inverse=True)
    if uniq.size > _MAX_DIAGONALS:
        return None, np.inf
    out = []
    weight = 0.0
    for j, k in enumerate(uniq):
        sel = inv == j
        r = rows[sel]
        lo, hi = int(r.min()), int(r.max()) + 1
        vals = np.zeros(hi - lo)
        vals[r - lo] = A.data[sel]
        out.append((int(k), lo, hi, vals))
        weight += (hi - lo) / max(m, 1)
    return out, weight


def factor_kernel(A):
    """Choose the kernel of one factor (a dense array or a scipy sparse matrix)."""
    m, n = A.shape
    if not sp.issparse(A):
        A = np.asarray(A, dtype=float)
        if m == n and m <= 4096 and np.count_nonzero(A - np.diag(np.diag(A))) == 0:
            d = np.diag(A).copy()
            return _Identity(A) if np.all(d == 1.0) else _Diagonal(A, d)
        return _Dense(A)
    A = sp.csr_matrix(A)
    if m == n:
        offdiag = A.indices != np.repeat(np.arange(m), np.diff(A.indptr))
        if not np.any(A.data[offdiag]):
            d = A.diagonal()
            return _Identity(A) if np.all(d == 1.0) else _Diagonal(A, d)
    diagonals, weight = _diagonals(A)
    small = m * n <= DENSE_APPLY_LIMIT
    if diagonals is None:
        return _Dense(A) if small and n <= 4 * DENSE_PER_DIAGONAL * _MAX_DIAGONALS else _Sparse(A)
    if small and n <= DENSE_PER_DIAGONAL * weight:
        return _Dense(A)
    if m != n:
        return _Sparse(A)
    return _Band(A, diagonals)
