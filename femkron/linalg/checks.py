"""Checks of a solve's result.

The componentwise backward error of fast diagonalization and the condition estimate of a
sparse LU.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> A = fk.KronOperator.kron(np.array([[2.0, -1.0], [-1.0, 2.0]]))
>>> backward_error(A, np.array([1.0, 1.0]), np.array([1.0, 1.0]))
0.0
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._threads import threads_for
from ..errors import StructureError
from ..kron.operator import KronOperator

__all__ = [
    "FDM_BACKWARD_ERROR",
    "FDM_FORWARD_ERROR",
    "FDM_REFINE_BELOW",
    "SINGULAR_CONDITION",
    "backward_error",
    "check_fdm_accuracy",
    "condition_estimate",
    "slab_residual",
]

#: Condition number (1-norm estimate) above which a direct solve is refused as singular.
SINGULAR_CONDITION = 1e13

#: Largest componentwise backward error a fast-diagonalization solve may leave; above it the
#: 1D eigenproblems were too ill-conditioned (e.g. cells from 1e-11 to 0.3 on one axis).
FDM_BACKWARD_ERROR = 1e-8

#: Largest relative forward error, estimated by one step of iterative refinement, that a
#: fast-diagonalization solve may leave (eight correct digits).
FDM_FORWARD_ERROR = 1e-8

#: Below this estimated relative forward error the refinement step is not taken (it would
#: change the solution by less than this): the solve then costs no further operator product,
#: its residual being the one the check computed.
FDM_REFINE_BELOW = 1e-12


def backward_error(A, x, b, r=None, normwise=False):
    """Componentwise (Oettli–Prager) backward error ``max_i |b - A x|_i / (|A| |x| + |b|)_i``.

    About machine precision for a componentwise backward-stable solve, whatever the scaling
    of ``A``; ``|A|`` is applied as the Kronecker sum of the entrywise absolute factors.
    ``normwise=True`` gives ``max_i |b - A x|_i / max_i (|A| |x| + |b|)_i`` instead, about
    machine precision for a normwise backward-stable solve (fast diagonalization, whose
    orthogonal transforms spread rounding over every component).

    Examples
    --------
    >>> import femkron as fk
    >>> A = fk.KronOperator.kron(np.array([[2.0, -1.0], [-1.0, 2.0]]))
    >>> bool(backward_error(A, np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0)
    True
    """
    absA = KronOperator([(abs(c), tuple(abs(F) for F in f)) for c, f in A.terms])
    r = np.abs(b - A @ x) if r is None else np.abs(r)  # r: the residual b - A x, if known
    den = absA @ np.abs(x) + np.abs(b)
    if normwise:
        top, scale = float(r.max(initial=0.0)), float(den.max(initial=0.0))
        return top / scale if scale > 0 else (np.inf if top > 0 else 0.0)
    out = np.zeros_like(r)
    np.divide(r, den, out=out, where=den > 0)
    out[(den == 0) & (r > 0)] = np.inf
    return float(out.max()) if out.size else 0.0


def check_fdm_accuracy(A, fdm, project=None):
    """Raise :class:`StructureError` when the fast diagonalization ``fdm`` of ``A`` is inaccurate.

    The error (``reason="lost-accuracy"``) is raised when ``fdm`` leaves a componentwise
    backward error above ``FDM_BACKWARD_ERROR`` on one random right-hand side (ill-conditioned
    1D eigenproblems, e.g. a strongly graded mesh).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> check_fdm_accuracy(A, fk.FastDiagonalization(A)) is None
    True
    """
    x = np.random.default_rng(0).standard_normal(A.shape[1])
    if project is not None:
        x = project(x)
    b = A @ x
    xs = fdm.solve(b)
    if project is not None:
        xs = project(xs)
    omega = backward_error(A, xs, b)
    if not omega <= FDM_BACKWARD_ERROR:
        raise StructureError(
            f"fast diagonalization lost accuracy (componentwise backward error {omega:.1e}: "
            "the 1D eigenproblems are too ill-conditioned, e.g. a strongly graded mesh)",
            reason="lost-accuracy",
        )


def condition_estimate(Acsr, lu):
    """1-norm condition number estimate of the diagonally scaled ``D A D``.

    ``D = diag(|a_ii|)^(-1/2)`` removes what a graded mesh puts in the scale of the rows
    (cells from 1e-11 to 0.3 give ``‖A‖ ‖A⁻¹‖ > 1e20`` for a well-posed SPD problem), so
    only a (nearly) singular operator shows a huge estimate (van der Sluis: this scaling is
    within a factor ``n`` of the best one for SPD matrices).  Computed as
    ``‖DAD‖₁ ‖D⁻¹A⁻¹D⁻¹‖₁`` with the LU factors of ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> import scipy.sparse.linalg as spla
    >>> A = sp.csr_matrix(np.diag([1e-12, 1.0, 1e12]))
    >>> float(condition_estimate(A, spla.splu(A.tocsc())))
    1.0
    """
    n = Acsr.shape[0]
    diag = np.abs(Acsr.diagonal())
    d = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    D = sp.diags(d)
    norm_a = float(abs(D @ Acsr @ D).sum(axis=0).max())

    def solve(y, trans="N"):
        y = np.asarray(y, dtype=float)
        dd = d if y.ndim == 1 else d[:, None]
        return lu.solve(y / dd, trans=trans) / dd

    inv = spla.LinearOperator((n, n), matvec=solve, rmatvec=lambda y: solve(y, "T"), dtype=float)
    with np.errstate(all="ignore"):
        norm_inv = float(spla.onenormest(inv)) if n > 1 else float(abs(solve(np.ones(1)))[0])
    return norm_a * norm_inv if np.isfinite(norm_inv) else np.inf


def slab_residual(A, x, b, slab_bytes=2**24):
    """``(‖b - A x‖, ‖b‖)`` for a Kronecker sum ``A``, one slab of the first axis at a time.

    One operator product in all (plus the overlap of the slabs), and no full-size
    temporary: with ``A = Σ_t c_t F_t ⊗ G_t`` (``F_t`` the first-axis factors, ``G_t`` the
    rest), each slab of output planes ``i0 ≤ i < i1`` needs the input planes its rows of
    ``F_t`` touch; ``G_t`` is applied to those planes (sum factorisation on the slab), the
    terms that share a first factor are summed, and the rows ``i0:i1`` of each first factor
    are applied along the first axis.  When every first-axis factor is banded (rows reaching
    at most :data:`STREAM_BANDWIDTH` planes; not a periodic wrap) the product is taken plane by
    plane instead (:func:`_streamed_residual`): each plane's inner products are formed once,
    in cache, and kept while the band needs them, so the data is read once.

    Parameters
    ----------
    A : KronOperator
    x : ndarray
        Flat, of length ``A.shape[1]``, or on the grid ``A.in_shape``.
    b : ndarray or callable
        The right-hand side (flat or on the grid), or ``b(i0, i1)`` giving its planes
        ``i0:i1`` of the first axis (a separable load need never be formed whole).
    slab_bytes : int
        About the bytes of one slab of planes (16 MiB: under glibc's largest mmap threshold,
        so the slabs' memory is reused rather than faulted in afresh for every slab).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1), (0, 1)], cells=5)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> x = np.random.default_rng(0).standard_normal(A.shape[1])
    >>> b = A @ x + 1.0
    >>> r, bn = slab_residual(A, x, b, slab_bytes=100)
    >>> bool(np.isclose(r, np.linalg.norm(b - A @ x))), bool(np.isclose(bn, np.linalg.norm(b)))
    (True, True)
    """
    from ..kron._apply import factor_kernel
    from ..kron.operator import apply_axis

    X = np.asarray(x, dtype=float).reshape(A.in_shape)
    if callable(b):
        planes = b
    else:
        B = np.asarray(b, dtype=float).reshape(A.out_shape)
        planes = lambda i0, i1: B[i0:i1]  # noqa: E731
    groups, kernels = {}, {}
    for c, f in A.terms:
        key = id(f[0])
        if key not in groups:
            groups[key] = (sp.csr_matrix(f[0]), [])
        for G in f[1:]:  # the operator's own per-factor kernels (banded, dense or CSR)
            if id(G) not in kernels:
                kernels[id(G)] = factor_kernel(G)
        groups[key][1].append((c, [kernels[id(G)] for G in f[1:]]))
    n0 = A.out_shape[0]
    width = max((_bandwidth(F) for F, _ in groups.values()), default=0)
    if n0 == A.in_shape[0] and width <= STREAM_BANDWIDTH:
        # one BLAS thread: the plane-sized dot products gain nothing from a second, whose
        # spinning between them doubled the CPU time of the 10^8 run's residual
        with threads_for(0):
            return _streamed_residual(list(groups.values()), X, planes, n0, width)
    plane = 8 * max(1, int(np.prod(A.in_shape[1:], dtype=np.int64)))
    step = max(1, min(int(slab_bytes // plane), n0 // 8))  # at most 1/8 of the grid
    rr = bb = 0.0
    for i0 in range(0, n0, step):
        i1 = min(n0, i0 + step)
        acc = None
        for F, inner in groups.values():
            rows = F[i0:i1]
            if rows.nnz == 0:
                continue
            j0, j1 = int(rows.indices.min()), int(rows.indices.max()) + 1
            Y = None
            for c, factors in inner:
                Z = X[j0:j1] if factors else X[j0:j1].copy()  # never scale x itself
                for e, kern in enumerate(factors):
                    Z = kern.apply(Z, e + 1)
                    if Z.base is not None and np.shares_memory(Z, X):  # an identity factor
                        Z = Z.copy()
                if c != 1.0:
                    Z *= c
                if Y is None:
                    Y = Z
                else:
                    Y += Z
            part = apply_axis(rows[:, j0:j1].tocsr(), Y, 0)
            del Y
            if acc is None:
                acc = part
            else:
                acc += part
        Bi = np.asarray(planes(i0, i1), dtype=float)
        bb += float(np.vdot(Bi, Bi))
        if acc is not None:
            np.subtract(Bi, acc, out=acc)  # the residual, in the product's array
            Bi = acc
        rr += float(np.vdot(Bi, Bi))
    return float(np.sqrt(rr)), float(np.sqrt(bb))


#: First-axis factors whose rows reach at most this far from the diagonal are applied by
#: :func:`_streamed_residual` (a window of planes); wider ones (periodic wrap) by slabs.
STREAM_BANDWIDTH = 8


def _bandwidth(F):
    """``max |i - j|`` over the stored entries of a CSR matrix (0 when empty)."""
    if F.nnz == 0:
        return 0
    rows = np.repeat(np.arange(F.shape[0]), np.diff(F.indptr))
    return int(np.abs(F.indices - rows).max())


def _streamed_residual(groups, X, planes, n0, width):
    """:func:`slab_residual` plane by plane for banded first-axis factors.

    Each input plane's inner products ``Σ_t c_t G_t X[j]`` are formed once, while the plane
    is in cache, and kept only while an output plane within the band still needs them; each
    output plane combines the kept planes by its row of the first-axis factor.  The data is
    read once, and nothing larger than a few planes is written: the planes' work arrays are
    recycled, so no fresh memory is faulted in plane after plane.  On a 3D grid the last
    axis is applied to a transposed copy of each partial product (shared, like the partial
    products, by every term that needs it), so every one-axis product runs along the first
    axis of its plane; the output planes are then transposed, which the residual ignores
    (``b`` is read through the transpose).
    """
    kept = [{} for _ in groups]  # per group: input plane j → its inner products
    # partial products shared by terms and groups (K⊗M⊗M and M⊗M⊗K share M X on axis 1),
    # by plane and the factors applied so far; a term's last product is its own array
    partial = {}
    flip = X.ndim == 3
    pool = {}  # shape → recycled work arrays

    def take(shape):
        free = pool.get(shape)
        return free.pop() if free else np.empty(shape)

    def give(arr):
        # once only: an identity factor passes one array on as two partial products
        if arr.base is None and arr.flags.c_contiguous and not np.shares_memory(arr, X):
            free = pool.setdefault(arr.shape, [])
            if all(a is not arr for a in free):
                free.append(arr)

    def product(kern, Z, axis):
        """``kern`` along ``axis`` of ``Z``, and whether the result is a recycled array."""
        shape = Z.shape[:axis] + (kern.shape[0],) + Z.shape[axis + 1 :]
        out = take(shape)
        res = kern.apply(Z, axis, out=out)
        if np.shares_memory(res, out):
            return out, True
        give(out)  # an identity (``Z`` itself) or a fresh array
        return res, False

    def inner(g, j):
        if j not in kept[g]:
            Y = None
            for c, factors in groups[g][1]:
                Z, key = X[j : j + 1], (j,)
                for e, kern in enumerate(factors[:-1]):  # partial products, shared
                    key += (id(kern),)
                    if key not in partial:
                        partial[key] = product(kern, Z, e + 1)[0]
                    Z = partial[key]
                axis = len(factors)
                if flip:  # the last axis, as the first of the transposed plane
                    tkey = key + ("T",)
                    if tkey not in partial:
                        partial[tkey] = take((1, Z.shape[2], Z.shape[1]))
                        np.copyto(partial[tkey][0], Z[0].T)
                    Z, axis = partial[tkey], 1
                if Y is not None and c == 1.0 and factors:  # added by the product itself
                    factors[-1].apply(Z, axis, out=Y, add=True)
                    continue
                owned = False
                if factors:
                    Z, owned = product(factors[-1], Z, axis)
                # never scale or add into x, a kept partial product, or what an identity passed
                if not owned:
                    Z = np.multiply(Z, c, out=take(Z.shape))
                elif c != 1.0:
                    Z *= c
                if Y is None:
                    Y = Z
                else:
                    Y += Z
                    give(Z)
            kept[g][j] = Y
        return kept[g][j]

    rr = bb = 0.0
    acc = tmp = None
    for i in range(n0):
        first = True
        for g, (F, _) in enumerate(groups):
            for k in range(F.indptr[i], F.indptr[i + 1]):
                Y = inner(g, int(F.indices[k]))
                if acc is None:  # (a 3D grid's ``tmp`` is its transpose, as ``b``'s planes)
                    acc = np.empty(Y.shape)
                    tmp = np.empty((1, Y.shape[2], Y.shape[1]) if flip else Y.shape)
                if first:
                    np.multiply(Y, F.data[k], out=acc)
                    first = False
                else:
                    np.multiply(Y, F.data[k], out=tmp.reshape(Y.shape))
                    acc += tmp.reshape(Y.shape)
        for g in range(len(groups)):  # planes no later row needs (rows reach ``width``)
            for j in [j for j in kept[g] if j < i + 1 - width]:
                give(kept[g].pop(j))
        for key in [key for key in partial if key[0] < i + 1 - width]:
            give(partial.pop(key))
        Bi = np.asarray(planes(i, i + 1), dtype=float)
        bb += float(np.vdot(Bi, Bi))
        if not first:  # the residual, in a work array of b's layout
            if flip:
                np.copyto(tmp, np.swapaxes(acc, 1, 2))
                np.subtract(Bi, tmp, out=tmp)
                Bi = tmp
            else:
                np.subtract(Bi, acc, out=acc)
                Bi = acc
        rr += float(np.vdot(Bi, Bi))
    return float(np.sqrt(rr)), float(np.sqrt(bb))
