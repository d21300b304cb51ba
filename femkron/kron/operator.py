"""Sums of Kronecker products, ``A = Σ_t c_t · A_t1 ⊗ A_t2 ⊗ … ⊗ A_tD``.

Plain Kronecker algebra on sparse or dense 1D factors; nothing here knows about finite
elements.  The product is never formed to apply the operator: with the C-order (last axis
fastest) convention, ``(A ⊗ B) vec(U) = vec(A U Bᵀ)``, so ``A @ u`` multiplies the reshaped
grid by each factor along its axis (sum factorisation).

Examples
--------
>>> import numpy as np
>>> from femkron.kron import KronOperator
>>> A = np.array([[2.0, -1.0], [-1.0, 2.0]])
>>> B = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]])
>>> op = KronOperator([(1.0, (A, B)), (3.0, (np.eye(2), B))])
>>> op.shape
(6, 6)
>>> u = np.arange(6.0)
>>> bool(np.allclose(op @ u, (np.kron(A, B) + 3 * np.kron(np.eye(2), B)) @ u))
True
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._limits import check_allocation, format_bytes
from .._validate import as_real
from ..errors import FemkronTypeError, FemkronValueError
from ._apply import DENSE_APPLY_LIMIT, apply_axis, csr_apply3, factor_kernel  # noqa: F401
from ._csr import _matmul_factor, _union_nnz, kron_csr_terms
from .structure import SeparableStructure, sum_structure

__all__ = ["KronOperator", "apply_axis", "kron_csr"]

#: Scratch arrays up to this size are kept by an operator between applications.
_POOL_BYTES = 2**26


def _as_factor(A, where):
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=float)
        A.sum_duplicates()
        A.sort_indices()
        return A
    if isinstance(A, (list, tuple)) or isinstance(A, np.ndarray):
        try:
            arr = np.array(A, dtype=float)
        except (TypeError, ValueError):
            raise FemkronTypeError(f"{where} must be a 2D array or sparse matrix") from None
        if arr.ndim != 2:
            raise FemkronValueError(f"{where} must be 2D, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise FemkronValueError(f"{where} contains NaN or inf")
        return arr
    raise FemkronTypeError(
        f"{where} must be a 2D numpy array or a scipy.sparse matrix, got {type(A).__name__}"
    )


def _dense(A):
    return A.toarray() if sp.issparse(A) else A


class KronOperator:
    """A linear operator ``Σ_t c_t · A_t1 ⊗ … ⊗ A_tD`` kept as its 1D factors.

    Parameters
    ----------
    terms : sequence of (coef, factors)
        ``coef`` a real number, ``factors`` a sequence of D 2D arrays or sparse matrices
        (the same D and the same shape per axis in every term).  Sparse factors are stored as
        CSR, dense ones as float arrays.

    Attributes
    ----------
    terms : tuple of (float, tuple)
    naxes : int
        Number of Kronecker factors D.
    axis_shapes : tuple of (rows, cols)
    shape : (int, int)
        ``(prod rows, prod cols)``.
    structure : SeparableStructure or None
        The separable record (which factor is each axis's mass, which axis each term
        differs on) when the maker of the operator knew it; kept through ``+``, ``*``,
        :meth:`restrict`, :meth:`project` and ``.T`` (see :mod:`femkron.kron.structure`).

    Notes
    -----
    Vectors are flattened grids in C order (last axis fastest), so ``(A ⊗ B) @ vec(U)`` is
    ``vec(A @ U @ B.T)``.  ``@`` accepts a vector of length ``shape[1]`` or a stack of
    vectors of shape ``(shape[1], k)``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> I = sp.identity(3)
    >>> T = sp.diags([[-1.0] * 2, [2.0] * 3, [-1.0] * 2], [-1, 0, 1])
    >>> L = KronOperator.kron(T, I) + KronOperator.kron(I, T)
    >>> L.shape, len(L.terms)
    ((9, 9), 2)
    >>> float(L.diagonal()[0])
    4.0
    """

    def __init__(self, terms, structure=None):
        try:
            terms = list(terms)
        except TypeError:
            raise FemkronTypeError("terms must be a sequence of (coef, factors) pairs") from None
        if not terms:
            raise FemkronValueError("terms must hold at least one (coef, factors) pair")
        clean = []
        axis_shapes = None
        for t, term in enumerate(terms):
            if not isinstance(term, (tuple, list)) or len(term) != 2:
                raise FemkronTypeError(f"terms[{t}] must be a (coef, factors) pair, got {term!r}")
            coef, factors = term
            coef = as_real(coef, f"terms[{t}] coef")
            if sp.issparse(factors) or isinstance(factors, np.ndarray):
                factors = [factors]
            factors = tuple(
                f if _is_canonical(f) else _as_factor(f, f"terms[{t}] factor {d}")
                for d, f in enumerate(factors)
            )
            if not factors:
                raise FemkronValueError(f"terms[{t}] has no factors")
            shapes = tuple(f.shape for f in factors)
            if axis_shapes is None:
                axis_shapes = shapes
            elif shapes != axis_shapes:
                raise FemkronValueError(
                    f"terms[{t}] has factor shapes {shapes}, but terms[0] has {axis_shapes}"
                )
            clean.append((coef, factors))
        self.terms = tuple(clean)
        self.axis_shapes = axis_shapes
        self.naxes = len(axis_shapes)
        self.out_shape = tuple(s[0] for s in axis_shapes)
        self.in_shape = tuple(s[1] for s in axis_shapes)
        self.shape = (
            int(np.prod(self.out_shape, dtype=np.int64)),
            int(np.prod(self.in_shape, dtype=np.int64)),
        )
        self.dtype = np.dtype(float)
        if structure is not None and not isinstance(structure, SeparableStructure):
            raise FemkronTypeError(
                f"structure must be a SeparableStructure or None, got {type(structure).__name__}"
            )
        self.structure = structure if structure is None or structure.fits(self.terms) else None
        self._kernels = {}
        self._pool = {}

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def kron(cls, *factors, coef=1.0):
        """One Kronecker product ``coef · A1 ⊗ A2 ⊗ …``."""
        return cls([(coef, factors)])

    @classmethod
    def kron_sum(cls, terms, roles, masses=None):
        """A Kronecker sum whose makers know its separable structure.

        Parameters
        ----------
        terms : sequence of (coef, factors)
            As for the constructor; off its role axis every term must hold the same factor
            object per axis (the axis's mass matrix).
        roles : sequence of (int or None)
            Per term, the axis on which it differs from the mass factors (``None``: a pure
            mass term).
        masses : sequence, optional
            The mass factor of each axis, where no term shows it (a 1D stiffness).

        Examples
        --------
        >>> M, K = np.eye(2), np.array([[2.0, -1.0], [-1.0, 2.0]])
        >>> A = KronOperator.kron_sum([(1.0, (K, M)), (1.0, (M, K))], roles=(0, 1))
        >>> A.structure.roles
        (0, 1)
        """
        op = cls(terms)
        op.structure = SeparableStructure.from_terms(op.terms, roles, masses)
        return op

    def __repr__(self):
        dims = "×".join(str(n) for n in self.out_shape)
        return (
            f"<KronOperator {self.shape[0]}×{self.shape[1]} (grid {dims}), {len(self.terms)} terms>"
        )

    # ---- algebra ------------------------------------------------------------------------
    def _check_same(self, other, op):
        if not isinstance(other, KronOperator):
            return NotImplemented
        if other.axis_shapes != self.axis_shapes:
            raise FemkronValueError(
                f"cannot {op} KronOperators with factor shapes {self.axis_shapes} and "
                f"{other.axis_shapes}"
            )
        return None

    def __add__(self, other):
        check = self._check_same(other, "add")
        if check is NotImplemented:
            return NotImplemented
        structure, terms = sum_structure(self, other)
        return KronOperator(self.terms + tuple(terms), structure)

    def __sub__(self, other):
        check = self._check_same(other, "subtract")
        if check is NotImplemented:
            return NotImplemented
        return self + (-1.0) * other

    def __mul__(self, scalar):
        if isinstance(scalar, bool) or not isinstance(scalar, numbers.Real):
            return NotImplemented
        s = as_real(scalar, "scalar")
        return KronOperator([(s * c, f) for c, f in self.terms], self.structure)

    __rmul__ = __mul__

    def __truediv__(self, scalar):
        if isinstance(scalar, bool) or not isinstance(scalar, numbers.Real):
            return NotImplemented
        s = as_real(scalar, "scalar")
        if s == 0:
            raise FemkronValueError("cannot divide a KronOperator by zero")
        return self * (1.0 / s)

    def __neg__(self):
        return self * -1.0

    def __pos__(self):
        return self

    @property
    def T(self):
        """The transpose, ``Σ c · A1ᵀ ⊗ … ⊗ ADᵀ``."""
        cache = {}

        def tr(A):
            key = id(A)
            if key not in cache:
                cache[key] = A.T.tocsr() if sp.issparse(A) else np.ascontiguousarray(A.T)
            return cache[key]

        return KronOperator(
            [(c, tuple(tr(A) for A in f)) for c, f in self.terms],
            self._mapped_structure(lambda A, d: tr(A)),
        )

    def _mapped_structure(self, factor_map):
        """The record after each factor became ``factor_map(A, axis)``.

        Cached maps keep the shared mass objects shared.
        """
        return None if self.structure is None else self.structure.mapped(factor_map)

    def transpose(self):
        """The transposed operator (:attr:`T`)."""
        return self.T

    # ---- apply --------------------------------------------------------------------------
    def kernel(self, A):
        """The cached apply kernel of the factor ``A`` (see :mod:`femkron._kernels`)."""
        hit = self._kernels.get(id(A))
        if hit is None or hit[0] is not A:
            hit = (A, factor_kernel(A))
            self._kernels[id(A)] = hit
        return hit[1]

    def apply_grid(self, U):
        """Apply to an array of shape ``in_shape`` (or ``in_shape + (k,)``).

        Returns an array of shape ``out_shape`` (or ``out_shape + (k,)``).
        """
        return self._apply(np.asarray(U, dtype=float))

    def _apply(self, U):
        # Depth-first over the axes from last to first, terms grouped by the identity of their
        # factor on each axis so shared partial products are computed once; on axis 0 the
        # partial results of all terms with the same first factor are summed BEFORE that
        # factor is applied (Kx⊗My⊗Mz + Mx⊗Ky⊗Mz + Mx⊗My⊗Kz: 7 one-axis products, not 9).
        # Live memory: the input, one partial result per axis and one sum per first factor.
        # Scratch arrays are kept between calls (up to _POOL_BYTES) to avoid page faults.
        pool = self._pool
        batch = U.shape[self.naxes :]

        def get(shape):
            free = pool.get(shape)
            return free.pop() if free else np.empty(shape)

        def put(arr):
            if arr.nbytes <= _POOL_BYTES and len(pool.get(arr.shape, ())) < 4:
                pool.setdefault(arr.shape, []).append(arr)

        acc = {}

        def accumulate(A0, c, V, owned):
            ent = acc.get(id(A0))
            if ent is None:
                if owned:
                    if c != 1.0:
                        V *= c
                    acc[id(A0)] = [A0, V]
                else:
                    acc[id(A0)] = [A0, np.multiply(V, c, out=get(V.shape))]
            elif c == 1.0:
                ent[1] += V
            else:
                ent[1] += c * V

        def rec(items, V, axis, owned):
            groups = {}
            if axis == 0:
                for c, f in items:
                    ent = groups.setdefault(id(f[0]), [f[0], 0.0])
                    ent[1] += c
                last = len(groups) - 1
                for j, (A0, s) in enumerate(groups.values()):
                    accumulate(A0, s, V, owned and j == last)
                return owned
            for c, f in items:
                groups.setdefault(id(f[axis]), (f[axis], []))[1].append((c, f))
            last = len(groups) - 1
            taken = False
            for j, (A, members) in enumerate(groups.values()):
                kern = self.kernel(A)
                if kern.kind == "identity":
                    taken |= rec(members, V, axis - 1, owned and j == last)
                    continue
                shape = V.shape[:axis] + (A.shape[0],) + V.shape[axis + 1 :]
                W = kern.apply(V, axis, out=get(shape))
                if not rec(members, W, axis - 1, True):
                    put(W)
            return taken

        rec(list(self.terms), U, self.naxes - 1, False)
        out = None
        out_shape = self.out_shape + batch
        for key in list(acc):
            A0, V = acc.pop(key)
            kern = self.kernel(A0)
            if out is None:
                out = kern.apply(V, 0, out=np.empty(out_shape))
                if out is V:  # identity: V is ours, hand it out
                    continue
            else:
                kern.apply(V, 0, out=out, add=True)
            put(V)
        return out

    def __matmul__(self, x):
        if isinstance(x, KronOperator):
            return self._compose(x)
        if sp.issparse(x):
            x = x.toarray()
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise FemkronTypeError(f"cannot apply a KronOperator to an array of dtype {x.dtype}")
        n = self.shape[1]
        if x.ndim == 1 and x.shape[0] == n:
            U = x.astype(float, copy=False).reshape(self.in_shape)
            return self._apply(U).reshape(-1)
        if x.ndim == 2 and x.shape[0] == n:
            k = x.shape[1]
            U = np.ascontiguousarray(x, dtype=float).reshape(self.in_shape + (k,))
            return self._apply(U).reshape(self.shape[0], k)
        if x.shape == self.in_shape:
            return self._apply(x.astype(float, copy=False))
        raise FemkronValueError(
            f"cannot apply an operator of shape {self.shape} to an array of shape {x.shape}; "
            f"expected ({n},), ({n}, k) or the grid shape {self.in_shape}"
        )

    def dot(self, x):
        """The operator applied to ``x`` (``self @ x``)."""
        return self @ x

    def _compose(self, other):
        if self.in_shape != other.out_shape:
            raise FemkronValueError(
                f"cannot compose operators with grid shapes {self.in_shape} and {other.out_shape}"
            )
        terms = []
        for c1, f1 in self.terms:
            for c2, f2 in other.terms:
                terms.append((c1 * c2, tuple(_matmul_factor(A, B) for A, B in zip(f1, f2))))
        return KronOperator(terms)

    # ---- materialisation ----------------------------------------------------------------
    def nnz_bound(self):
        """Upper bound of the stored entries of :meth:`tocsr` (product of per-axis unions)."""
        total = 1
        for d in range(self.naxes):
            total *= _union_nnz([f[d] for _, f in self.terms])
        return total

    def csr_nbytes(self):
        """Estimated bytes of the CSR form (data, indices, index pointer)."""
        nnz = self.nnz_bound()
        idx = 4 if max(nnz, self.shape[1]) < 2**31 else 8
        return nnz * (8 + idx) + (self.shape[0] + 1) * idx

    def tocsr(self):
        """The assembled matrix as ``scipy.sparse.csr_matrix``.

        Canonical: sorted indices, no duplicates.

        Refuses (``ResourceError``) when the estimated size exceeds
        :func:`femkron.memory_limit`.
        """
        nbytes = self.csr_nbytes()
        check_allocation(
            nbytes,
            f"the CSR form of this {self.shape[0]}×{self.shape[1]} operator",
            "apply it matrix-free with `@` / .aslinearoperator(), or solve with method='fdm'",
        )
        return kron_csr(self)

    def toarray(self):
        """The dense matrix (refused above :func:`femkron.memory_limit`)."""
        nbytes = 8 * self.shape[0] * self.shape[1]
        check_allocation(
            nbytes,
            f"a dense {self.shape[0]}×{self.shape[1]} matrix",
            "use .tocsr() or apply it matrix-free with `@`",
        )
        out = np.zeros(self.shape)
        for c, f in self.terms:
            out += c * functools.reduce(np.kron, [_dense(A) for A in f])
        return out

    todense = toarray

    def diagonal(self):
        """The main diagonal, from the diagonals of the factors (square factors only)."""
        if self.shape[0] != self.shape[1] or self.in_shape != self.out_shape:
            raise FemkronValueError("diagonal() needs square factors")
        out = np.zeros(self.out_shape)
        for c, f in self.terms:
            part = c
            for d, A in enumerate(f):
                diag = A.diagonal() if sp.issparse(A) else np.diag(A)
                shape = [1] * self.naxes
                shape[d] = -1
                part = part * diag.reshape(shape)
            out += part
        return out.reshape(-1)

    # ---- restriction and views ----------------------------------------------------------
    def restrict(self, rows, cols=None):
        """Keep the rows (and columns) of a product of 1D index sets.

        Parameters
        ----------
        rows : sequence
            One entry per axis: an integer index array, a boolean mask, or ``None`` (all).
        cols : sequence, optional
            The same for columns; defaults to ``rows``.

        Examples
        --------
        >>> op = KronOperator.kron(np.eye(3), 2 * np.eye(4))
        >>> op.restrict([[0, 2], None]).shape
        (8, 8)
        """
        cols = rows if cols is None else cols
        rows = self._index_sets(rows, 0, "rows")
        cols = self._index_sets(cols, 1, "cols")
        cache = {}

        def sub(A, d):
            key = (id(A), d)
            if key not in cache:
                r, c = rows[d], cols[d]
                B = A
                if r is not None:
                    B = B[r]
                if c is not None:
                    B = B[:, c]
                cache[key] = B.tocsr() if sp.issparse(B) else np.ascontiguousarray(B)
            return cache[key]

        return KronOperator(
            [(c, tuple(sub(A, d) for d, A in enumerate(f))) for c, f in self.terms],
            self._mapped_structure(sub),
        )

    def _index_sets(self, sets, which, name):
        if len(sets) != self.naxes:
            raise FemkronValueError(
                f"{name} must give one index set per axis ({self.naxes}), got {len(sets)}"
            )
        out = []
        for d, s in enumerate(sets):
            if s is None:
                out.append(None)
                continue
            n = self.axis_shapes[d][which]
            arr = np.asarray(s)
            if arr.dtype == bool:
                if arr.shape != (n,):
                    raise FemkronValueError(f"{name}[{d}] mask must have length {n}")
                arr = np.flatnonzero(arr)
            elif arr.dtype.kind not in "iu" and arr.size:
                raise FemkronTypeError(f"{name}[{d}] must hold integer indices or be a mask")
            arr = arr.astype(np.int64).ravel()
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise FemkronValueError(f"{name}[{d}] has indices outside [0, {n})")
            out.append(arr)
        return out

    def project(self, P, Q=None):
        """The Galerkin product ``(⊗Q_d)ᵀ A (⊗P_d)`` with per-axis matrices.

        ``None`` stands for the identity; ``Q`` defaults to ``P``.
        """
        Q = P if Q is None else Q
        if len(P) != self.naxes or len(Q) != self.naxes:
            raise FemkronValueError(f"P and Q must give one matrix per axis ({self.naxes})")
        cache = {}

        def proj(A, d):
            key = (id(A), d)
            if key not in cache:
                B = A
                if P[d] is not None:
                    B = _matmul_factor(B, P[d])
                if Q[d] is not None:
                    B = _matmul_factor(Q[d].T, B)
                cache[key] = B
            return cache[key]

        return KronOperator(
            [(c, tuple(proj(A, d) for d, A in enumerate(f))) for c, f in self.terms],
            self._mapped_structure(proj),
        )

    def aslinearoperator(self):
        """A ``scipy.sparse.linalg.LinearOperator`` view (matvec, rmatvec, matmat)."""
        At = None

        def rmatvec(y):
            nonlocal At
            if At is None:
                At = self.T
            return At @ np.ravel(y)

        return spla.LinearOperator(
            self.shape,
            matvec=lambda x: self @ np.ravel(x),
            rmatvec=rmatvec,
            matmat=lambda X: self @ np.asarray(X),
            dtype=float,
        )

    def describe(self):
        """One line with the shape, terms and estimated CSR size."""
        return (
            f"{self.shape[0]}×{self.shape[1]} Kronecker sum of {len(self.terms)} terms over "
            f"{self.naxes} axes; CSR would take about {format_bytes(self.csr_nbytes())}"
        )


def _is_canonical(A):
    if sp.isspmatrix_csr(A):
        return A.dtype == np.float64 and A.has_canonical_format
    return isinstance(A, np.ndarray) and A.ndim == 2 and A.dtype == np.float64


def kron_csr(op):
    """Assemble a :class:`KronOperator` as a canonical CSR matrix.

    No size check; see :meth:`KronOperator.tocsr`.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> T = sp.diags([[-1.0] * 2, [2.0] * 3, [-1.0] * 2], [-1, 0, 1], format="csr")
    >>> M = sp.identity(3, format="csr") * 2.0
    >>> A = kron_csr(KronOperator([(1.0, (T, M)), (1.0, (M, T))]))
    >>> A.nnz, bool(A.has_canonical_format)
    (33, True)
    """
    return kron_csr_terms(op.terms, op.shape)
