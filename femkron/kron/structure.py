"""The separable record of a Kronecker sum, carried by the operators that have it.

A Kronecker sum ``A = Σ_t c_t F_t1⊗…⊗F_tD`` is *separable* when there are 1D matrices
``M_d`` such that every term equals ``⊗M_d`` except on at most one axis, its *role*:

``A = Σ_d M_1⊗…⊗K_d⊗…⊗M_D + σ M_1⊗…⊗M_D``, ``K_d = Σ_{role(t) = d} c_t F_td``,
``σ = Σ_{role(t) = none} c_t``.

The per-axis pencils ``(K_d, M_d)`` are what :class:`~femkron.FastDiagonalization` needs.
The operators made by :func:`~femkron.stiffness`, :func:`~femkron.mass`,
:func:`~femkron.advection` and the boundary conditions know this structure when they make
it: they attach a :class:`SeparableStructure` (the mass factor of each axis and the role of
each term), and the algebra of :class:`~femkron.KronOperator` (``+``, ``*``, restriction,
projection, transpose) carries it along.  Reading the pencils then costs one pass over the
terms.  :func:`separable_structure` *discovers* the structure of a hand-built operator by
searching the factor combinations; it is only used when no record is carried.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
>>> A = fk.stiffness(V) + 2.0 * fk.mass(V)
>>> A.structure.roles
(0, 1, None)
>>> Ks, Ms, sigma = pencils(A)
>>> len(Ks), sigma
(2, 2.0)
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ..errors import StructureError

__all__ = [
    "SeparableStructure",
    "StructureError",
    "pencils",
    "separable_structure",
    "sum_structure",
]


def _same(A, B):
    if A is B:
        return True
    if A.shape != B.shape:
        return False
    if sp.issparse(A) and sp.issparse(B):
        if A.nnz != B.nnz:
            return abs(A - B).max() == 0
        return (
            np.array_equal(A.indptr, B.indptr)
            and np.array_equal(A.indices, B.indices)
            and np.array_equal(A.data, B.data)
        )
    return np.array_equal(_dense(A), _dense(B))


def _has_negative(A):
    data = A.data if sp.issparse(A) else A
    return bool(np.any(data < 0))


def _is_spd(M):
    if np.abs(M - M.T).max() > 1e-12 * max(np.abs(M).max(), 1e-300):
        return False
    n = M.shape[0]
    rows, cols = np.nonzero(M)
    w = int(np.abs(rows - cols).max(initial=0))
    try:
        if 4 * w < n:  # banded (1D finite element matrices): O(n w²) Cholesky
            band = np.zeros((w + 1, n))
            for k in range(w + 1):
                band[w - k, k:] = np.diagonal(M, k)
            pivots = sla.cholesky_banded(band, lower=False)[w] ** 2
        else:
            pivots = np.diag(np.linalg.cholesky(M)) ** 2
    except (np.linalg.LinAlgError, sla.LinAlgError):
        return False
    # a semidefinite matrix (a Neumann stiffness) can pass Cholesky on round-off alone
    return bool(pivots.min() > 1e-12 * pivots.max())


def _mass_like(A):
    """Positive row sums (∫φ_i > 0); a stiffness factor has zero row sums away from ends."""
    rows = np.asarray(A.sum(axis=1)).ravel()
    scale = np.asarray(abs(A).sum(axis=1)).ravel()
    return bool(np.all(rows > 1e-8 * scale))


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)


def separable_structure(op):
    """Find ``M_d`` per axis such that every term deviates from ``⊗M_d`` in at most one axis.

    Returns ``(K_list, M_list, sigma)`` (dense 1D arrays) with
    ``op = Σ_d M..K_d..M + sigma ⊗M``; raises :class:`StructureError` naming the reason
    otherwise.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
    >>> Ks, Ms, sigma = separable_structure(fk.stiffness(V) + 2.0 * fk.mass(V))
    >>> len(Ks), sigma
    (2, 2.0)
    """
    D = op.naxes
    terms = op.terms
    for d, (r, c) in enumerate(op.axis_shapes):
        if r != c:
            raise StructureError(f"factor on axis {d} is not square ({r}×{c})")
    if D == 1:
        K = sum(c * _dense(f[0]) for c, f in terms)
        return [K], [np.eye(op.axis_shapes[0][0])], 0.0
    # candidate masses: the distinct factors on each axis, mass-like ones first (positive row
    # sums, no negative entries, used by more terms); a candidate set is accepted when every
    # term deviates from it in at most one axis and every mass factor is positive definite.
    candidates = []
    for d in range(D):
        uniq, counts = [], []
        for _, f in terms:
            for i, u in enumerate(uniq):
                if _same(f[d], u):
                    counts[i] += 1
                    break
            else:
                uniq.append(f[d])
                counts.append(1)
        rank = sorted(
            range(len(uniq)),
            key=lambda i: (not _mass_like(uniq[i]), _has_negative(uniq[i]), -counts[i]),
        )
        candidates.append([uniq[i] for i in rank])
    n_combos = np.prod([len(c) for c in candidates], dtype=float)
    if n_combos > 4096:
        raise StructureError("too many distinct factors to find a separable structure")
    spd = {}
    for Ms in itertools.product(*candidates):
        Ks = [None] * D
        sigma = 0.0
        ok = True
        for c, f in terms:
            dev = [d for d in range(D) if not _same(f[d], Ms[d])]
            if len(dev) > 1:
                ok = False
                break
            if not dev:
                sigma += c
            else:
                d = dev[0]
                Ks[d] = c * _dense(f[d]) if Ks[d] is None else Ks[d] + c * _dense(f[d])
        if not ok:
            continue
        Ms_dense = [_dense(M) for M in Ms]
        if not all(spd.setdefault(id(M), _is_spd(Md)) for M, Md in zip(Ms, Ms_dense)):
            continue
        Ks = [np.zeros_like(Ms_dense[d]) if Ks[d] is None else Ks[d] for d in range(D)]
        return Ks, Ms_dense, sigma
    raise StructureError(
        "the operator is not of the form Σ_d M_1⊗…⊗K_d⊗…⊗M_D (+ σ ⊗M): some term differs from "
        "the mass factors in more than one axis (e.g. a general coefficient), or no choice of "
        "mass factors is symmetric positive definite"
    )


class SeparableStructure:
    """Which 1D matrix each term of a Kronecker sum holds on each axis.

    Parameters
    ----------
    masses : tuple
        The mass factor ``M_d`` of each axis (the very objects the terms hold).
    roles : tuple of (int or None)
        Per term, the axis on which it differs from ``⊗M_d`` (``None``: a mass term).

    Examples
    --------
    >>> import numpy as np
    >>> M, K = np.eye(2), np.array([[2.0, -1.0], [-1.0, 2.0]])
    >>> s = SeparableStructure.from_terms([(1.0, (K, M)), (1.0, (M, K))], roles=(0, 1))
    >>> s.roles, s.masses[0] is M
    ((0, 1), True)
    """

    __slots__ = ("masses", "roles")

    def __init__(self, masses, roles):
        self.masses = tuple(masses)
        self.roles = tuple(roles)

    def __repr__(self):
        return f"SeparableStructure(roles={self.roles})"

    @classmethod
    def from_terms(cls, terms, roles, masses=None):
        """The record of ``terms`` (pairs ``(coef, factors)``) with the given ``roles``.

        ``None`` when the terms do not share one mass object per axis off their roles.

        ``masses`` names the mass factor of each axis explicitly (needed where no term
        holds it, e.g. the stiffness of a 1D space); by default it is read off the terms.
        """
        terms = list(terms)
        roles = tuple(roles)
        if not terms or len(roles) != len(terms):
            return None
        D = len(terms[0][1])
        found = [None] * D if masses is None else list(masses)
        for (_, f), role in zip(terms, roles):
            for e in range(D):
                if e == role:
                    continue
                if found[e] is None:
                    found[e] = f[e]
                elif f[e] is not found[e]:
                    return None
        if any(M is None for M in found):  # an axis whose mass no term shows
            return None
        return cls(found, roles)

    def fits(self, terms):
        """True when every term holds the recorded mass object off its role axis."""
        if len(terms) != len(self.roles):
            return False
        for (_, f), role in zip(terms, self.roles):
            for e, M in enumerate(self.masses):
                if e != role and f[e] is not M:
                    return False
        return True

    def mapped(self, factor_map):
        """The record after every factor ``F`` on axis ``d`` became ``factor_map(F, d)``."""
        return SeparableStructure([factor_map(M, d) for d, M in enumerate(self.masses)], self.roles)


def sum_structure(a, b):
    """The record of ``a + b`` for two KronOperators, and the terms of ``b`` to use.

    Returns ``(structure, b_terms)``: when both carry a record and their mass factors agree
    (the same objects, or equal matrices, which are then shared), the roles concatenate;
    else ``(None, b.terms)``.
    """
    sa, sb = a.structure, b.structure
    if sa is None or sb is None:
        return None, b.terms
    swap = {}
    for Ma, Mb in zip(sa.masses, sb.masses):
        if Ma is Mb:
            continue
        if Ma is None or Mb is None or not _same(Ma, Mb):
            return None, b.terms
        swap[id(Mb)] = Ma
    terms = b.terms
    if swap:
        terms = tuple(
            (c, tuple(swap.get(id(F), F) if e != role else F for e, F in enumerate(f)))
            for (c, f), role in zip(b.terms, sb.roles)
        )
    return SeparableStructure(sa.masses, sa.roles + sb.roles), terms


def pencils(op, split_1d=False):
    """``(K_list, M_list, sigma)`` with ``op = Σ_d M..K_d..M + sigma ⊗M``.

    A 1D operator is one factor: it is returned whole with ``M = I``, unless ``split_1d``
    asks for its recorded mass (``K``, ``M`` and ``σ`` as recorded: what the eigenproblem
    ``K u = λ M u`` needs).

    Read from the record the operator carries (one pass over its terms); discovered by
    :func:`separable_structure` for a hand-built operator without one.  ``K_d`` and ``M_d``
    are the 1D matrices (sparse or dense) as the terms hold them.

    Raises
    ------
    StructureError
        When the operator is not separable.
    """
    for d, (r, c) in enumerate(op.axis_shapes):
        if r != c:
            raise StructureError(f"factor on axis {d} is not square ({r}×{c})")
    rec = getattr(op, "structure", None)
    D = op.naxes
    if rec is None or not rec.fits(op.terms) or (D == 1 and not split_1d):
        return separable_structure(op)
    Ks = [None] * D
    sigma = 0.0
    for (c, f), role in zip(op.terms, rec.roles):
        if role is None:
            sigma += c
        else:
            Ks[role] = c * f[role] if Ks[role] is None else Ks[role] + c * f[role]
    Ms = list(rec.masses)
    Ks = [0.0 * Ms[d] if K is None else K for d, K in enumerate(Ks)]
    return Ks, Ms, sigma
