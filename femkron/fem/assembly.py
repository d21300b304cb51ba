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
from ..kron._apply import csr_apply3
from ..kron.operator import KronOperator
from .bc import BoundaryConditions
from .coefficients import weighted_coefficients
from .tensor import as_tensor_space

__all__ = ["assemble", "assemble_weighted", "reference_tables"]

#: Matrix entries computed per chunk (8 MiB of values: below glibc's largest mmap threshold,
#: so the chunks' temporaries reuse memory instead of faulting fresh pages in every time).
SLAB_ENTRIES = 2**20


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


class _ScatterAxis:
    """One axis of the sum-factorised assembly.

    The compact 1D pattern (the free dofs that share a cell), and per basis kind (values
    ``"v"``, derivatives ``"d"``) the sparse map ``P`` from the Gauss points of the axis to
    the pattern's entries: ``P[(i, j), (K, g)] = T(g, a) T(g, c)`` summed over the local
    pairs ``(a, c)`` of cell ``K`` with dofs ``(i, j)`` (``T`` the reference table), for the
    entries of the symmetric half ``i <= j`` (``half``: the half entry of every entry).
    """

    def __init__(self, space, P, q, weights=None, jac=None):
        dmap, m = _dof_map(P, space.ndofs)
        loc = dmap[space.cell_dofs]  # (cells, s)
        cells, s = loc.shape
        rows = np.broadcast_to(loc[:, :, None], (cells, s, s))
        cols = np.broadcast_to(loc[:, None, :], (cells, s, s))
        valid = (rows >= 0) & (cols >= 0)
        keys = rows.astype(np.int64) * m + cols
        union = np.unique(keys[valid])
        self.m = m
        self.nnz = int(union.size)
        self.indices = (union % max(m, 1)).astype(np.int64)
        row_of = union // max(m, 1)
        self.indptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_of, minlength=m), out=self.indptr[1:])
        self.rownnz = np.diff(self.indptr)
        self.row_of = row_of  # the row of every compact entry
        self.local = np.arange(self.nnz, dtype=np.int64) - self.indptr[row_of]  # within row
        # the symmetric half: an entry (i, j) and its mirror (j, i) have the same value on
        # every axis (T(g, a) T(g, c) is symmetric in a, c), so the maps are built for the
        # entries with i <= j only, and every entry knows its half entry
        upper = self.indices >= row_of
        half_keys = union[upper]
        self.nhalf = int(half_keys.size)
        lo_ = np.minimum(row_of, self.indices)
        hi_ = np.maximum(row_of, self.indices)
        self.half = np.searchsorted(half_keys, lo_ * max(m, 1) + hi_)
        pos = np.searchsorted(half_keys, np.where(valid, keys, union[0] if union.size else 0))
        B, Dr = reference_tables(space, q)
        self.maps = {}
        upper_pair = valid & (rows <= cols)
        e_idx, a_idx, c_idx = np.nonzero(upper_pair)
        prow = pos[e_idx, a_idx, c_idx]
        for kind, T in (("v", B), ("d", Dr)):
            vals = T[:, a_idx] * T[:, c_idx]  # (q, entries)
            gcol = e_idx[None, :] * q + np.arange(q)[:, None]
            if weights is not None:  # weights (and 1/J² on derivatives) folded into the map
                vals = vals * (weights if kind == "v" else weights / jac**2)[gcol]
            Pk = sp.coo_matrix(
                (vals.ravel(), (np.broadcast_to(prow, vals.shape).ravel(), gcol.ravel())),
                shape=(self.nhalf, cells * q),
            ).tocsr()
            Pk.sum_duplicates()
            Pk.sort_indices()
            self.maps[kind] = Pk
        self._blocks = {}

    def apply(self, kind, X, axis):
        """``maps[kind]`` along ``axis`` of ``X`` (the block-diagonal forms kept for reuse)."""
        A = self.maps[kind]
        shape = X.shape
        a = int(np.prod(shape[:axis], dtype=np.int64))
        b = int(np.prod(shape[axis + 1 :], dtype=np.int64))
        U3 = np.ascontiguousarray(X).reshape(a, shape[axis], b)

        def block(c):
            if (kind, c) not in self._blocks:
                self._blocks[kind, c] = sp.kron(sp.identity(c, format="csr"), A, format="csr")
            return self._blocks[kind, c]

        out = csr_apply3(A, U3, a, shape[axis], b, block=block)
        return out.reshape(shape[:axis] + (A.shape[0],) + shape[axis + 1 :])


def scatter_axes(V, Ps, quad, scales=None):
    """The :class:`_ScatterAxis` of every axis; ``scales = (weights, jac)`` folds them in."""
    if scales is None:
        return [_ScatterAxis(s, P, q) for s, P, q in zip(V.spaces, Ps, quad)]
    weights, jac = scales
    return [_ScatterAxis(s, P, q, w, j) for s, P, q, w, j in zip(V.spaces, Ps, quad, weights, jac)]


def _pattern_matrix(ax):
    """The 1D pattern of an axis as a CSR matrix of ones."""
    return sp.csr_matrix((np.ones(ax.nnz), ax.indices, ax.indptr), shape=(ax.m, ax.m))


def _csr_positions(axes):
    """Positions in the CSR data of the Kronecker pattern of ``axes[1:]``, per compact entry.

    Returns ``(pos, ptr, length)``: for every entry of the Kronecker pattern of the inner
    axes, in Kronecker (compact, C) order, its CSR position, the CSR start and the length of
    its row.
    """
    pos = np.zeros(1, dtype=np.int64)
    ptr = np.zeros(1, dtype=np.int64)
    length = np.ones(1, dtype=np.int64)
    nnz_inner = 1
    for ax in reversed(axes):
        # entry (nA, nB) of A ⊗ B: row (i, r), CSR start ptrA[i] nnzB + lenA[i] ptrB[r],
        # position start + kA lenB[r] + kB with kB = posB - ptrB[r]
        lenA = ax.rownnz[ax.row_of][:, None]
        startA = (ax.indptr[ax.row_of] * nnz_inner)[:, None]
        new_ptr = startA + lenA * ptr[None, :]
        new_pos = new_ptr + ax.local[:, None] * length[None, :] + (pos - ptr)[None, :]
        length = (lenA * length[None, :]).ravel()
        pos, ptr = new_pos.ravel(), new_ptr.ravel()
        nnz_inner *= ax.nnz
    return pos, ptr, length


def _inner_values(axes, terms, lo, hi):
    """``Σ_t (⊗_{e≥1} P_e[kind_te]) c_t[lo:hi]`` per axis-0 kind: ``{kind: (hi-lo, nnz_in)}``.

    Sum factorisation from the last axis on a slab of axis-0 Gauss points; terms whose
    remaining factors coincide are summed before the remaining axes are applied
    (``K⊗(M⊗M) + M⊗(K⊗M + M⊗K)``).
    """
    D = len(axes)
    slabs = {}
    parts = []
    for coef, kinds in terms:  # terms on one coefficient array share its slab
        if id(coef) not in slabs:
            slabs[id(coef)] = coef[lo:hi]
        parts.append((tuple(kinds), slabs[id(coef)]))
    for e in reversed(range(1, D)):
        merged, done = {}, {}
        for kinds, X in parts:
            # one product per distinct (input, map): the terms of a scalar κ on a cube share
            # their input, so e.g. the last axis maps it once by values, once by derivatives
            ident = (id(X), kinds[e])
            if ident not in done:
                done[ident] = axes[e].apply(kinds[e], X, e)
            Y = done[ident]
            key = kinds[:e]
            if key in merged:
                merged[key] = merged[key] + Y  # Y may be shared: never added to in place
            else:
                merged[key] = Y
        parts = list(merged.items())
    return {kinds[0]: X.reshape(hi - lo, -1) for kinds, X in parts}


def _fill_values(axes, terms, data):
    """Write the assembled values into ``data`` (CSR order of the Kronecker pattern).

    Every entry of the global matrix is ``Σ_q c(q) Π_e T_e(q_e, i_e) T_e(q_e, j_e)``: the
    Kronecker product of the per-axis maps ``P_e`` (Gauss points → 1D pattern entries)
    applied to ``c``.  Each factor is symmetric in ``(i_e, j_e)``, so the products are
    formed on the symmetric halves of the 1D patterns only (``2^D`` to ``3^D`` times fewer
    values than the matrix has) and every matrix entry is then read from its half entry.
    The outer axis is cut into chunks of its rows; per chunk the inner axes are applied to
    the slab of Gauss points the chunk needs, the outer map to that, and the chunk's values
    are gathered in CSR order straight into ``data``: no full-size temporary.  The gather
    indices of a chunk depend only on its rows' lengths, so chunks of interior rows share
    them.
    """
    ax0 = axes[0]
    pos_in, ptr_in, len_in = _csr_positions(axes[1:])
    nnz_in = pos_in.size
    half_in = np.zeros(1, dtype=np.int64)  # half entry of every inner entry (Kronecker order)
    for ax in axes[1:]:
        half_in = (half_in[:, None] * ax.nhalf + ax.half[None, :]).ravel()
    nhalf_in = int(np.prod([ax.nhalf for ax in axes[1:]], dtype=np.int64))
    width = int(ax0.rownnz.max()) + 1
    key = ax0.rownnz[ax0.row_of] * width + ax0.local
    shift = pos_in - ptr_in
    inner = {}
    for k in np.unique(key):
        lenA, kA = divmod(int(k), width)
        inner[int(k)] = lenA * ptr_in + kA * len_in + shift
    # chunks of whole rows of the outer pattern, about SLAB_ENTRIES values each
    rows_per = max(1, SLAB_ENTRIES // max(nnz_in * int(ax0.rownnz.max()), 1))
    gathers = {}
    for r0, r1, h0, F in half_chunks(axes, terms, rows_per):
        e0, e1 = int(ax0.indptr[r0]), int(ax0.indptr[r1])
        ident = (ax0.rownnz[r0:r1].tobytes(), (ax0.half[e0:e1] - h0).tobytes())
        gather = gathers.get(ident)
        if gather is None:
            gather = gathers[ident] = _chunk_gather(ax0, key, inner, half_in, nhalf_in, r0, r1, h0)
        start = int(ax0.indptr[r0]) * nnz_in
        np.take(F, gather, out=data[start : start + gather.size], mode="clip")


def half_chunks(axes, terms, rows_per):
    """The values on the symmetric half patterns, per chunk of ``rows_per`` outer rows.

    Yields ``(r0, r1, h0, F)``: the outer rows ``r0:r1``, the first outer half entry ``h0``
    they read, and ``F``, the flat values of half entries ``h0, h0 + 1, …`` of the outer axis
    times all half entries of the inner axes (Kronecker order), followed by one zero (the
    value of an entry outside the pattern).
    """
    ax0 = axes[0]
    maps0 = {k: ax0.maps[k] for k in sorted({kinds[0] for _, kinds in terms})}
    for r0 in range(0, ax0.m, rows_per):
        r1 = min(ax0.m, r0 + rows_per)
        e0, e1 = int(ax0.indptr[r0]), int(ax0.indptr[r1])
        if e1 == e0:
            continue
        h = ax0.half[e0:e1]
        h0, h1 = int(h.min()), int(h.max()) + 1
        sub = {k: P[h0:h1] for k, P in maps0.items()}
        lo = min(int(P.indices.min()) for P in sub.values() if P.nnz)
        hi = max(int(P.indices.max()) for P in sub.values() if P.nnz) + 1
        Y = _inner_values(axes, terms, lo, hi)
        F = None
        for k, P in sub.items():
            part = P[:, lo:hi] @ Y[k]
            if F is None:
                F = np.empty(part.size + 1)
                F[:-1] = part.ravel()
                F[-1] = 0.0
            else:
                F[:-1] += part.ravel()
        yield r0, r1, h0, F


def _chunk_gather(ax0, key, inner, half_in, nhalf_in, r0, r1, h0):
    """For the CSR entries of outer rows ``r0:r1``, their places in the chunk's half values."""
    nnz_in = half_in.size
    e0, e1 = int(ax0.indptr[r0]), int(ax0.indptr[r1])
    base = (ax0.indptr[ax0.row_of[e0:e1]] - ax0.indptr[r0]) * nnz_in
    gather = np.empty((e1 - e0) * nnz_in, dtype=np.intp)
    kc = key[e0:e1]
    for k in np.unique(kc):
        members = np.flatnonzero(kc == k)
        at = base[members][:, None] + inner[int(k)][None, :]
        src = (ax0.half[e0 + members] - h0)[:, None] * nhalf_in + half_in[None, :]
        gather[at.ravel()] = src.ravel()
    return gather


def assemble_weighted(V, c, c_sigma, quad, bcs=None, scales=None):
    """Assemble from weighted coefficients at the Gauss points as canonical CSR.

    The coefficients are those of :func:`femkron.coefficients.weighted_coefficients` (or,
    with ``scales = (weights, jac)``, the per-axis Gauss weights and Jacobians of
    :func:`~femkron.fem.coefficients.gauss_weights`, the unweighted coefficients: the weights
    are then folded into the per-axis maps); the result is
    ``Σ_d (⊗B..D_d..B)ᵀ diag(c_d) (⊗B..D_d..B) + (⊗B)ᵀ diag(c_sigma) (⊗B)`` on the free dofs
    of ``bcs`` (``None``: all dofs), Robin terms of ``bcs`` added.

    The element matrices are never formed one by one: every entry of the global matrix is
    ``Σ_q c(q) Π_e T_e(q_e, i_e) T_e(q_e, j_e)``, a Kronecker product of per-axis sparse maps
    from Gauss points to 1D pattern entries applied to ``c`` (sum factorisation), so the
    values come out on the Kronecker pattern ``⊗_e pattern_e`` and are scattered into CSR
    order chunk by chunk.  The only full-size arrays are the CSR arrays themselves.

    Examples
    --------
    >>> import femkron as fk
    >>> from femkron.fem.coefficients import weighted_coefficients
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    >>> c, cs, quad = weighted_coefficients(V, kappa=1.0)
    >>> A = assemble_weighted(V, c, cs, quad)
    >>> bool(abs(A - fk.stiffness(V).tocsr()).max() < 1e-14)
    True
    """
    V = as_tensor_space(V)
    bcs = as_conditions(V, bcs)
    D = V.dim
    Ps = bcs.P if bcs is not None else [None] * D
    axes = scatter_axes(V, Ps, quad, scales)
    nnz = int(np.prod([ax.nnz for ax in axes], dtype=np.int64))
    n = int(np.prod([ax.m for ax in axes], dtype=np.int64))
    index_bytes = 4 if max(nnz, n) < 2**31 else 8
    check_allocation(
        nnz * (8 + index_bytes) + (n + 1) * index_bytes,
        f"the assembled {n}×{n} matrix ({nnz} nonzeros)",
        "use the matrix-free operator (fk.MatrixFreeOperator) with method='fdm'",
    )
    terms = [(c[d], ["d" if e == d else "v" for e in range(D)]) for d in range(D)]
    if c_sigma is not None:
        terms.append((c_sigma, ["v"] * D))
    # the Kronecker pattern (indices, indptr); its data array is overwritten with the values
    A = KronOperator.kron(*[_pattern_matrix(ax) for ax in axes]).tocsr()
    _fill_values(axes, terms, A.data)
    if bcs is not None and getattr(bcs, "poles", ()):  # curvilinear poles: Pᵀ A P
        Pp = bcs._pole_P
        A = canonical_csr(Pp.T.tocsr() @ A @ Pp)
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
        Gauss points per cell and axis (default ``p + 1``).

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
