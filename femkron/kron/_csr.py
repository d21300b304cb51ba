"""Assembly of a Kronecker sum ``Σ_t c_t A_t1 ⊗ … ⊗ A_tD`` as CSR at memory speed (private).

Per axis the union sparsity pattern of that axis' factors is computed once and every factor's
values are aligned to it.  When every factor of an axis has the full union pattern (the finite
element case: ``K`` and ``M`` share the pattern of the 1D mesh) the pattern of the sum is the
Kronecker product of the per-axis patterns, and it is written directly in C order:

* ``indptr[(i, r)] = ptrA[i] nnz(B) + lenA[i] ptrB[r]`` for an outer row ``i`` and an inner
  row ``r`` (``B`` the Kronecker pattern of the remaining axes);
* the entries of outer row ``i`` form one contiguous block of ``lenA[i] nnz(B)`` values; for
  the outer rows that share a row length ``a`` (and, for the indices, the relative column
  offsets) the blocks are an arithmetic progression in memory, so the whole set is one strided
  2D view ``(rows, a nnz(B))``;
* that view equals ``X @ E`` with ``X[i, (g, k)] = V_g[i, k]`` (the ``k``-th entry of row
  ``i`` of the outer factor of group ``g``) and ``E[(g, k), ·]`` scattering the inner values
  ``W_g`` to their places: ONE dense product writes the output once, straight into ``data``;
* the indices of the same view are ``shift[i] + base`` (a broadcast add).

``E`` and ``base`` are built per chunk of inner rows so that they stay in cache.  Terms are
grouped by their outer factor (``Kx⊗(My⊗Mz) + Mx⊗(Ky⊗Mz + My⊗Kz)``), so the inner values are
sums computed recursively by the same kernel on the (much smaller) inner patterns.

When the patterns differ (``K⊗I + I⊗K``), each term is built alone by the same kernel and the
terms are summed by scipy, which yields the canonical form of the true pattern.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import as_strided

__all__ = ["kron_csr_terms"]

#: Bytes of the scatter matrix ``E`` (and ``base``) per chunk of inner rows.
_CHUNK_BYTES = 2**20


def _pattern_of(A):
    """(indptr, indices, values, shape) of a factor, CSR with sorted indices."""
    if sp.issparse(A):
        A = sp.csr_matrix(A)
        if not A.has_canonical_format:
            A = A.copy()
            A.sum_duplicates()
        return A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data, A.shape
    A = np.asarray(A, dtype=float)
    rows, cols = np.nonzero(A)
    indptr = np.zeros(A.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=A.shape[0]), out=indptr[1:])
    return indptr, cols.astype(np.int64), A[rows, cols], A.shape


class _Axis:
    """Union pattern of the factors on one axis and their values aligned to it."""

    def __init__(self, factors):
        parts = {}
        for A in factors:
            if id(A) not in parts:
                parts[id(A)] = _pattern_of(A)
        shape = next(iter(parts.values()))[3]
        keys = {}
        for key, (ptr, idx, _, _) in parts.items():
            rows = np.repeat(np.arange(shape[0], dtype=np.int64), np.diff(ptr))
            keys[key] = rows * shape[1] + idx
        union = np.unique(np.concatenate(list(keys.values()))) if keys else np.zeros(0, np.int64)
        self.shape = shape
        self.indices = union % max(shape[1], 1)
        rows = union // max(shape[1], 1)
        self.indptr = np.zeros(shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=shape[0]), out=self.indptr[1:])
        self.nnz = union.size
        self.values = {}
        self.full = True
        for key, (_, _, data, _) in parts.items():
            if keys[key].size == union.size:
                self.values[key] = np.asarray(data, dtype=float)
            else:
                self.full = False
                aligned = np.zeros(union.size)
                aligned[np.searchsorted(union, keys[key])] = data
                self.values[key] = aligned


class _Level:
    """Kronecker pattern of an outer axis pattern A with an inner pattern B, and the plan.

    The plan (row groups as strided progressions, inner-row chunks) is shared by values and
    indices.
    """

    def __init__(self, ptrA, idxA, ncA, ptrB, idxB, ncB, idx_dtype):
        self.ptrA, self.idxA = ptrA, idxA
        self.ptrB, self.idxB, self.ncB = ptrB, idxB, ncB
        self.idx_dtype = idx_dtype
        nA, nB = ptrA.size - 1, ptrB.size - 1
        self.lenA = np.diff(ptrA)
        self.lenB = np.diff(ptrB)
        self.nnzB = int(ptrB[-1])
        self.nnz = int(ptrA[-1]) * self.nnzB
        self.shape = (nA * nB, ncA * ncB)
        self.rowB = np.repeat(np.arange(nB, dtype=np.int64), self.lenB)
        self.lB = np.arange(self.nnzB, dtype=np.int64) - ptrB[:-1][self.rowB]
        self.groups = self._row_groups()

    def indptr(self):
        ptr = np.empty(self.shape[0] + 1, dtype=self.idx_dtype)
        body = ptr[:-1].reshape(self.ptrA.size - 1, self.ptrB.size - 1)
        np.multiply(self.lenA[:, None], self.ptrB[None, :-1], out=body, casting="unsafe")
        body += (self.ptrA[:-1] * self.nnzB)[:, None].astype(self.idx_dtype)
        ptr[-1] = self.nnz
        return ptr

    def _row_groups(self):
        """{a: [(rel offsets, [progressions (rows array)]), ...]} over outer rows."""
        lenA, ptrA, idxA = self.lenA, self.ptrA, self.idxA
        rows = np.flatnonzero(lenA > 0)
        out = {}
        if rows.size == 0:
            return out
        amax = int(lenA.max())
        pad = np.full((rows.size, amax + 1), -1, dtype=np.int64)
        pad[:, 0] = lenA[rows]
        first = idxA[ptrA[rows]]
        for k in range(amax):
            has = lenA[rows] > k
            r = rows[has]
            pad[has, k + 1] = idxA[ptrA[r] + k] - first[has]
        sig, inverse = np.unique(pad, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        for s in range(sig.shape[0]):
            a = int(sig[s, 0])
            rel = sig[s, 1 : a + 1].copy()
            members = rows[inverse == s]
            out.setdefault(a, []).append((rel, _progressions(members, ptrA[members])))
        return out

    def chunks(self, row_bytes):
        """Inner-row boundaries so that one chunk's E/base stays within _CHUNK_BYTES."""
        per = max(1, _CHUNK_BYTES // max(row_bytes, 1))
        nB = self.ptrB.size - 1
        if self.nnzB <= per:
            return [(0, nB)]
        marks = np.searchsorted(self.ptrB, np.arange(0, self.nnzB, per), side="right") - 1
        bounds = np.unique(np.concatenate([marks, [nB]]))
        bounds[0] = 0
        return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))

    def _chunk_positions(self, r0, r1, a):
        """Entries e of inner rows [r0, r1) and their columns in a row block for k = 0."""
        e0, e1 = int(self.ptrB[r0]), int(self.ptrB[r1])
        rowB = self.rowB[e0:e1]
        col0 = a * (self.ptrB[rowB] - e0) + self.lB[e0:e1]
        return e0, e1, col0, self.lenB[rowB]

    def fill_values(self, V, W, out):
        """out[:] = Σ_g V[g] ⊗ W[g] on this pattern (V: (G, nnzA), W: (G, nnzB))."""
        G = V.shape[0]
        for a, sigs in self.groups.items():
            progs = [p for _, plist in sigs for p in plist]
            X = [self._gather(V, rows, a) for rows in progs]
            for r0, r1 in self.chunks(8 * G * a * a):
                e0, e1, col0, lenr = self._chunk_positions(r0, r1, a)
                Lc = a * (e1 - e0)
                E = np.zeros((G, a, Lc))
                for k in range(a):
                    E[:, k, col0 + k * lenr] = W[:, e0:e1]
                E = E.reshape(G * a, Lc)
                for rows, Xp in zip(progs, X):
                    np.matmul(Xp, E, out=self._view(out, rows, a, e0, Lc))

    def fill_indices(self, out):
        dt = self.idx_dtype
        for a, sigs in self.groups.items():
            for r0, r1 in self.chunks(out.itemsize * a):
                e0, e1, col0, lenr = self._chunk_positions(r0, r1, a)
                Lc = a * (e1 - e0)
                inner = self.idxB[e0:e1]
                for rel, progs in sigs:
                    base = np.empty(Lc, dtype=dt)
                    for k in range(a):
                        base[col0 + k * lenr] = inner + rel[k] * self.ncB
                    for rows in progs:
                        shift = (self.idxA[self.ptrA[rows]] * self.ncB).astype(dt)
                        np.add(shift[:, None], base[None, :], out=self._view(out, rows, a, e0, Lc))

    def _gather(self, V, rows, a):
        # X[j, g*a + k] = V[g, ptrA[rows[j]] + k]
        idx = self.ptrA[rows][:, None] + np.arange(a)[None, :]
        return np.ascontiguousarray(V[:, idx].transpose(1, 0, 2).reshape(rows.size, -1))

    def _view(self, out, rows, a, e0, Lc):
        start = int(self.ptrA[rows[0]]) * self.nnzB + a * e0
        step = int(self.ptrA[rows[1]] - self.ptrA[rows[0]]) * self.nnzB if rows.size > 1 else Lc
        isz = out.itemsize
        return as_strided(out[start:], shape=(rows.size, Lc), strides=(step * isz, isz))


def _progressions(rows, starts):
    """Split sorted ``rows`` into arithmetic progressions whose ``starts`` are progressions too.

    So their output blocks form one strided view.
    """
    if rows.size <= 2:
        return [rows]
    dr, ds = np.diff(rows), np.diff(starts)
    if np.all(dr == dr[0]) and np.all(ds == ds[0]):
        return [rows]
    pos = {int(r): j for j, r in enumerate(rows)}
    start_of = {int(r): int(s) for r, s in zip(rows, starts)}
    left = set(pos)
    order = [int(r) for r in rows]
    out = []
    cursor = 0
    while left:
        while order[cursor] not in left:
            cursor += 1
        r0 = order[cursor]
        best = [r0]
        seen = 0
        for r1 in order[cursor + 1 :]:
            if r1 not in left:
                continue
            seen += 1
            step, sstep = r1 - r0, start_of[r1] - start_of[r0]
            prog = [r0]
            r = r0 + step
            while r in left and start_of[r] - start_of[prog[-1]] == sstep:
                prog.append(r)
                r += step
            if len(prog) > len(best):
                best = prog
            if seen >= 8:
                break
        left.difference_update(best)
        out.append(np.array(best, dtype=np.int64))
    return out


def _index_dtype(nnz, ncols):
    return np.int32 if max(nnz, ncols) < 2**31 - 1 else np.int64


def _build(axes, items, idx_dtype):
    """CSR of Σ c ⊗ f for ``items`` whose factors have full (union) patterns on ``axes``."""
    D = len(axes)
    # suffix patterns: levels[d] combines axis d with the pattern of axes d+1..D-1
    patterns = [None] * D
    levels = [None] * D
    last = axes[D - 1]
    patterns[D - 1] = (last.indptr, last.indices, last.shape[1])
    for d in range(D - 2, -1, -1):
        ptrB, idxB, ncB = patterns[d + 1]
        ax = axes[d]
        dt = idx_dtype if d == 0 else np.int64
        lev = _Level(ax.indptr, ax.indices, ax.shape[1], ptrB, idxB, ncB, dt)
        levels[d] = lev
        if d > 0:
            idx = np.empty(lev.nnz, dtype=np.int64)
            lev.fill_indices(idx)
            patterns[d] = (lev.indptr().astype(np.int64), idx, lev.shape[1])
    memo = {}

    def values(members, d, out=None):
        key = (d, tuple((c, tuple(id(A) for A in f[d:])) for c, f in members))
        if out is None and key in memo:
            return memo[key]
        if d == D - 1:
            res = np.zeros(axes[d].nnz) if out is None else out
            res[...] = 0.0
            for c, f in members:
                res += c * axes[d].values[id(f[d])]
        else:
            groups = {}
            for c, f in members:
                groups.setdefault(id(f[d]), (f[d], []))[1].append((c, f))
            V = np.stack([axes[d].values[k] for k in groups])
            W = np.stack([values(m, d + 1) for _, m in groups.values()])
            res = np.empty(levels[d].nnz) if out is None else out
            levels[d].fill_values(V, W, res)
        if out is None:
            memo[key] = res
        return res

    if D == 1:
        ax = axes[0]
        data = values(items, 0)
        return sp.csr_matrix(
            (data, ax.indices.astype(idx_dtype), ax.indptr.astype(idx_dtype)), shape=ax.shape
        )
    top = levels[0]
    data = np.empty(top.nnz)
    values(items, 0, out=data)
    indices = np.empty(top.nnz, dtype=idx_dtype)
    top.fill_indices(indices)
    indptr = top.indptr()
    out = sp.csr_matrix(top.shape)
    out.data, out.indices, out.indptr = data, indices, indptr
    return out


def kron_csr_terms(terms, shape):
    """Canonical CSR of ``Σ_t c_t ⊗_d A_td`` (``terms`` as in ``KronOperator.terms``)."""
    D = len(terms[0][1])
    axes = [_Axis([f[d] for _, f in terms]) for d in range(D)]
    nnz = 1
    for ax in axes:
        nnz *= ax.nnz
    if all(ax.full for ax in axes):
        out = _build(axes, list(terms), _index_dtype(nnz, shape[1]))
        out.has_sorted_indices = True
        out.has_canonical_format = True
        return out
    # patterns differ between terms: build each term on its own pattern and let scipy sum
    total = None
    for c, f in terms:
        own = [_Axis([A]) for A in f]
        tnnz = int(np.prod([ax.nnz for ax in own], dtype=np.int64))
        part = _build(own, [(c, f)], _index_dtype(tnnz, shape[1]))
        part.has_sorted_indices = True
        part.has_canonical_format = True
        total = part if total is None else total + part
    total = sp.csr_matrix(total)
    total.sum_duplicates()
    total.sort_indices()
    return total


def _matmul_factor(A, B):
    out = A @ B
    if sp.issparse(out):
        out = sp.csr_matrix(out)
        out.sum_duplicates()
        out.sort_indices()
        return out
    return np.asarray(out, dtype=float)


def _union_nnz(mats):
    pattern = None
    for A in mats:
        S = (
            sp.csr_matrix(A != 0)
            if not sp.issparse(A)
            else sp.csr_matrix((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape)
        )
        pattern = S if pattern is None else (pattern + S)
    return pattern.nnz
