"""How one 1D factor is multiplied along one axis of a grid array (private).

A factor becomes one of five kernels, chosen once per factor by a cost model:

* ``identity`` — nothing to do;
* ``diagonal`` — one broadcast multiply;
* ``band`` — a sparse factor with few diagonals: scipy's CSR loop over many right-hand sides
  at once (the grid lines of the first axis, stacked slabs of a middle axis, blocks of the
  last axis transposed in cache), written in place, ``O(chunk)`` scratch;
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

from ..errors import FemkronValueError

try:  # scipy's multi-vector CSR product (what ``csr @ dense`` calls), writing in place
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a scipy without it: the public ``@`` instead
    _csr_matvecs = None

__all__ = ["apply_axis", "factor_kernel", "DENSE_PER_DIAGONAL", "DENSE_APPLY_LIMIT"]

#: Factors with at most this many entries may be applied as dense BLAS products.
DENSE_APPLY_LIMIT = 2048 * 2048
#: A sparse factor with ``n`` columns and ``p`` (row-weighted) diagonals is applied dense
#: when ``n <= DENSE_PER_DIAGONAL * p``.
DENSE_PER_DIAGONAL = 12
#: Banded kernels work on chunks of about this many entries (fits in L2 cache).
_CHUNK = 2**16
#: Middle-axis slabs at least this wide are multiplied one by one (else stacked as I_c ⊗ A).
_WIDE = 256
#: More diagonals than this: scipy's CSR product.
_MAX_DIAGONALS = 48


def _split(shape, axis):
    a = int(np.prod(shape[:axis], dtype=np.int64))
    b = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    return a, shape[axis], b


class _Kernel:
    kind = "dense"
    #: whether ``_apply3`` accumulates into ``out`` itself (else ``apply`` adds a temporary)
    adds = False

    def __init__(self, A):
        self.shape = A.shape

    def apply(self, U, axis, out=None, add=False):
        """``A`` along ``axis`` of ``U``, written to ``out`` when given, or added to it.

        ``out`` is a C-contiguous array of the result's shape; the result is added to it with
        ``add=True``; ``identity`` returns ``U`` itself (and adds it to ``out`` with
        ``add=True``).
        """
        shape = U.shape
        if shape[axis] != self.shape[1]:
            raise ValueError(
                f"factor of shape {self.shape} cannot act on axis {axis} of length {shape[axis]}"
            )
        a, n, b = _split(shape, axis)
        m = self.shape[0]
        out_shape = shape[:axis] + (m,) + shape[axis + 1 :]
        if add:
            if out is None:
                raise ValueError("add=True needs out")
            if self.kind == "identity":
                out += U
                return out
            if not self.adds:
                out += self.apply(U, axis)
                return out
        elif self.kind == "identity":
            return U
        O3 = None if out is None else out.reshape(a, m, b)
        res = self._apply3(np.ascontiguousarray(U).reshape(a, n, b), a, n, b, m, O3, add)
        return res.reshape(out_shape)


class _Identity(_Kernel):
    kind = "identity"


class _Diagonal(_Kernel):
    kind = "diagonal"

    def __init__(self, A, diag):
        super().__init__(A)
        self.diag = diag

    def _apply3(self, U3, a, n, b, m, out, add=False):
        return np.multiply(U3, self.diag[None, :, None], out=out)


class _Dense(_Kernel):
    kind = "dense"

    def __init__(self, A):
        super().__init__(A)
        self.A = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)
        self.At = np.ascontiguousarray(self.A.T)

    def _apply3(self, U3, a, n, b, m, out, add=False):
        if a == 1:
            return np.matmul(self.A, U3.reshape(n, b), out=None if out is None else out[0])
        if b == 1:
            return np.matmul(U3.reshape(a, n), self.At, out=None if out is None else out[..., 0])
        return np.matmul(self.A, U3, out=out)


class _Sparse(_Kernel):
    """A sparse factor, applied by :func:`csr_apply3`.

    That is scipy's CSR loop over many right-hand sides, in place; ``I_c ⊗ A`` blocks of middle
    axes are kept.
    """

    kind = "sparse"
    adds = True

    def __init__(self, A):
        super().__init__(A)
        self.A = sp.csr_matrix(A)
        self._blocks = {}

    def _block(self, c):
        """``I_c ⊗ A`` as CSR."""
        B = self._blocks.get(c)
        if B is None:
            B = sp.kron(sp.identity(c, format="csr"), self.A, format="csr")
            if len(self._blocks) > 8:
                self._blocks.clear()
            self._blocks[c] = B
        return B

    def _apply3(self, U3, a, n, b, m, out, add=False):
        return csr_apply3(self.A, U3, a, n, b, out, add, self._block)


class _Band(_Sparse):
    """A square sparse factor with few diagonals, applied like :class:`_Sparse`.

    The cost model compares its diagonals with a dense product.
    """

    kind = "band"

    def __init__(self, A, diagonals):
        super().__init__(A)
        self.diagonals = diagonals  # (k, lo, hi, values of rows lo..hi-1)


def csr_apply3(A, U3, a, n, b, out=None, add=False, block=None):
    """``A`` (CSR, ``m × n``) along the middle axis of ``U3`` into ``out``, or added to it.

    ``U3`` is ``(a, n, b)``, C-contiguous float64, and ``out`` is ``(a, m, b)``; applied by
    scipy's multi-vector CSR loop over many right-hand sides at once.

    * first axis (``a = 1``): one product with the ``(n, b)`` matrix of grid lines;
    * middle axes: each ``(n, b)`` slab when ``b`` is wide, else the block-diagonal
      ``I_c ⊗ A`` (``block(c)``, built on the fly when not given) times ``c`` stacked slabs;
    * last axis (``b = 1``): blocks of ``c`` grid lines transposed to ``(n, c)`` in cache,
      multiplied, and transposed back.
    """
    m = A.shape[0]
    if out is None:
        out = np.empty((a, m, b))
    if a == 1:
        _csr_matmul(A, U3.reshape(n, b), out.reshape(m, b), add)
    elif b == 1:
        U2, O2 = U3.reshape(a, n), out.reshape(a, m)
        c = max(1, min(a, _CHUNK // (n + m)))
        T, R = np.empty((n, c)), np.empty((m, c))
        for s in range(0, a, c):
            e = min(a, s + c)
            Ts, Rs = T, R
            if e - s < c:
                Ts, Rs = np.empty((n, e - s)), np.empty((m, e - s))
            np.copyto(Ts, U2[s:e].T)
            _csr_matmul(A, Ts, Rs, False)
            if add:
                O2[s:e] += Rs.T
            else:
                np.copyto(O2[s:e], Rs.T)
    elif b >= _WIDE:
        for i in range(a):
            _csr_matmul(A, U3[i], out[i], add)
    else:
        if block is None:

            def block(c):
                return sp.kron(sp.identity(c, format="csr"), A, format="csr")

        c = max(1, min(a, 4 * _CHUNK // (max(n, m) * b)))
        flat_in, flat_out = U3.reshape(a * n, b), out.reshape(a * m, b)
        for s in range(0, a, c):
            e = min(a, s + c)
            _csr_matmul(block(e - s), flat_in[s * n : e * n], flat_out[s * m : e * m], add)
    return out


def _csr_matmul(A, X, Y, add):
    """``Y = A @ X`` (or ``Y += A @ X``) for a CSR ``A`` and C-contiguous 2D ``X``, ``Y``.

    Written in place: scipy's multi-vector CSR loop, without its temporary result.
    """
    if _csr_matvecs is None or not (X.flags.c_contiguous and Y.flags.c_contiguous):
        if add:
            Y += A @ X
        else:
            Y[...] = A @ X
        return Y
    if not add:
        Y.fill(0.0)
    m, n = A.shape
    _csr_matvecs(m, n, X.shape[1], A.indptr, A.indices, A.data, X.reshape(-1), Y.reshape(-1))
    return Y


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


def apply_axis(A, U, axis):
    """Multiply the array ``U`` by the matrix ``A`` along ``axis``.

    ``U`` has shape ``(..., n, ...)`` with ``n = A.shape[1]`` at ``axis``; the result has
    ``A.shape[0]`` there.  Equivalent to ``np.moveaxis(np.tensordot(A, U, (1, axis)), 0,
    axis)`` but without the transposing copies.

    Examples
    --------
    >>> U = np.arange(6.0).reshape(2, 3)
    >>> A = np.array([[1.0, 1.0, 1.0]])
    >>> apply_axis(A, U, 1)
    array([[ 3.],
           [12.]])
    """
    shape = U.shape
    a = int(np.prod(shape[:axis], dtype=np.int64))
    n = shape[axis]
    b = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    m = A.shape[0]
    out_shape = shape[:axis] + (m,) + shape[axis + 1 :]
    if A.shape[1] != n:
        raise FemkronValueError(
            f"factor of shape {A.shape} cannot act on axis {axis} of length {n}"
        )
    if sp.isspmatrix_csr(A) and A.dtype == np.float64 and U.dtype == np.float64:
        U3 = np.ascontiguousarray(U).reshape(a, n, b)
        return csr_apply3(A, U3, a, n, b).reshape(out_shape)
    if a == 1:
        return np.asarray(A @ U.reshape(n, b)).reshape(out_shape)
    if b == 1:
        U2 = U.reshape(a, n)
        if sp.issparse(A):
            return np.asarray(A @ U2.T).T.reshape(out_shape)
        return (U2 @ A.T).reshape(out_shape)
    if sp.issparse(A):
        U3 = U.reshape(a, n, b).transpose(1, 0, 2).reshape(n, a * b)
        V = np.asarray(A @ U3).reshape(m, a, b).transpose(1, 0, 2)
        return np.ascontiguousarray(V).reshape(out_shape)
    return np.matmul(A, U.reshape(a, n, b)).reshape(out_shape)
