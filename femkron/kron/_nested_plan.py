"""The plan of a nested diagonalization: which axis is diagonalized by which pencil.

Private to :mod:`femkron.kron.nested`: the operator's terms are grouped per axis, each axis
but the banded one is diagonalized once per distinct pencil (dense generalized eigenvectors,
or real Fourier transforms for a uniform periodic axis), and the plan records the order.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
import scipy.linalg as sla
import scipy.sparse as sp

from .._limits import check_allocation
from ..errors import StructureError
from .diagonalize import _symmetric_circulant
from .structure import _same


class _Term:
    __slots__ = ("coef", "factors", "tag")

    def __init__(self, coef, factors, tag):
        self.coef, self.factors, self.tag = coef, factors, tag


def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A, dtype=float)


def _bandwidth(A):
    if sp.issparse(A):
        C = A.tocoo()
        return int(np.abs(C.row - C.col).max(initial=0))
    r, c = np.nonzero(A)
    return int(np.abs(r - c).max(initial=0))


def _spd(M):
    c = _symmetric_circulant(M)
    if c is not None:  # a periodic uniform axis: its eigenvalues are the DFT of a column
        return bool(np.all(np.real(np.fft.rfft(c)) > 0))
    Md = _dense(M)
    if np.abs(Md - Md.T).max(initial=0.0) > 1e-12 * max(np.abs(Md).max(initial=0.0), 1e-300):
        return False
    try:
        np.linalg.cholesky(Md)
    except np.linalg.LinAlgError:
        return False
    return True


def _merge(items):
    """``[(factor, coef)]`` with coefficients of the same factor object summed."""
    out = {}
    for F, c in items:
        if id(F) in out:
            out[id(F)] = (F, out[id(F)][1] + c)
        else:
            out[id(F)] = (F, c)
    return [out[k] for k in sorted(out)]


def _canonical(items):
    """Terms whose equal factors (per axis) are one object, so grouping sees them as one."""
    seen = {}
    out = []
    for c, f, tag in items:
        new = []
        for d, F in enumerate(f):
            found = F
            for G in seen.setdefault(d, []):
                if G is F or _same(G, F):
                    found = G
                    break
            else:
                seen[d].append(F)
            new.append(found)
        out.append((c, tuple(new), tag))
    return out


class _Step:
    """One diagonalized axis: per distinct pencil an M-orthonormal basis."""

    __slots__ = ("axis", "keys", "S", "const", "gamma", "before", "consts", "n", "nkeys")

    def __init__(self, axis, keys, S, const, gamma, before, consts, n, nkeys):
        self.consts = np.asarray(consts, dtype=int)
        self.n, self.nkeys = n, nkeys  # S is None for the real Fourier transform
        self.axis = axis
        self.keys = keys  # int array over the modes of `before` axes (broadcastable)
        self.S = S  # (n_keys, n, n)
        self.const = const  # index of the exactly constant mode, or -1
        self.gamma = gamma  # its constant value
        self.before = before  # axes diagonalized earlier (processing order)


#: Fewest dofs of a periodic axis diagonalized by real FFTs instead of dense eigenvectors.
FOURIER_MIN = 16


def _fourier_pencil(K, M):
    """Real Fourier modes of a symmetric circulant pencil, or None.

    The orthonormal real basis ``C`` (``1/√n``, ``√(2/n) cos``, ``√(2/n) sin``, packed as
    ``[c_0, c_1, s_1, c_2, s_2, …]``) gives ``Cᵀ K C = diag(κ)``, ``Cᵀ M C = diag(μ)``.
    """
    kc, mc = _symmetric_circulant(K), _symmetric_circulant(M)
    if kc is None or mc is None:
        return None
    n = K.shape[0]
    kap, mu = np.real(np.fft.rfft(kc)), np.real(np.fft.rfft(mc))
    if np.any(mu <= 0):
        return None
    k = _packed_frequencies(n)
    kappa, mus = kap[k], mu[k]
    scale = np.abs(kc).sum()
    const = -1
    if np.abs(kc.sum()) <= 1e-11 * max(scale, 1e-300):
        kappa[0] = 0.0  # the constant mode, exactly
        const = 0
    return None, kappa, mus, np.ones(n, dtype=bool), const, 1.0 / np.sqrt(n)


def _packed_frequencies(n):
    """The frequency of each packed real Fourier mode ``[0, 1, 1, 2, 2, …]``."""
    k = np.zeros(n, dtype=int)
    k[1::2] = np.arange(1, (n + 1) // 2 + (n % 2 == 0))[: k[1::2].size]
    k[2::2] = np.arange(1, k[2::2].size + 1)
    if n % 2 == 0:
        k[n - 1] = n // 2
    return k


def _real_fourier(U, axis, forward):
    """``Cᵀ U`` (forward) or ``C U`` along ``axis`` with the packed real Fourier basis."""
    n = U.shape[axis]
    U = np.moveaxis(U, axis, 0)
    half = (n - 1) // 2
    if forward:
        X = sfft.rfft(U, axis=0, workers=-1)
        out = np.empty(U.shape)
        out[0] = X[0].real / np.sqrt(n)
        c = np.sqrt(2.0 / n)
        out[1 : 2 * half : 2] = c * X[1 : half + 1].real
        out[2 : 2 * half + 1 : 2] = -c * X[1 : half + 1].imag
        if n % 2 == 0:
            out[n - 1] = X[n // 2].real / np.sqrt(n)
    else:
        Y = np.zeros((n // 2 + 1,) + U.shape[1:], dtype=complex)
        Y[0] = np.sqrt(n) * U[0]
        c = np.sqrt(n / 2.0)
        Y[1 : half + 1] = c * (U[1 : 2 * half : 2] - 1j * U[2 : 2 * half + 1 : 2])
        if n % 2 == 0:
            Y[n // 2] = np.sqrt(n) * U[n - 1]
        out = sfft.irfft(Y, n=n, axis=0, workers=-1)
    return np.moveaxis(out, 0, axis)


def _eig_pencil(K, M, active, deflate, dry=False):
    """M-orthonormal eigenvectors of the pencil on the ``active`` dofs, padded to full size.

    ``dry``: the structure only (no eigenproblem; distinct placeholder eigenvalues).
    """
    n = K.shape[0]
    idx = np.flatnonzero(active)
    Ka, Ma = K[np.ix_(idx, idx)], M[np.ix_(idx, idx)]
    if dry:
        lam, W = 1.0 + np.random.default_rng(idx.size).random(idx.size), np.eye(idx.size)
    else:
        lam, W = sla.eigh(Ka, Ma, check_finite=False)
    const = -1
    gamma = 0.0
    if deflate:
        scale = np.abs(Ka).sum(axis=1).max(initial=0.0)
        ones = np.ones(idx.size)
        if scale == 0.0 or np.abs(Ka @ ones).max() <= 1e-11 * scale:
            i0 = int(np.argmin(np.abs(lam)))
            gamma = 1.0 / np.sqrt(ones @ Ma @ ones)
            v0 = gamma * ones
            W = W - np.outer(v0, v0 @ Ma @ W)
            W[:, i0] = v0
            lam[i0] = 0.0
            const = i0
    S = np.zeros((n, n))
    S[np.ix_(idx, np.arange(idx.size))] = W
    kappa = np.zeros(n)
    kappa[: idx.size] = lam
    mu = np.zeros(n)
    mu[: idx.size] = 1.0
    act = np.zeros(n, dtype=bool)
    act[: idx.size] = True
    return S, kappa, mu, act, const, gamma


def _diagonalize_axis(terms, e, remaining, poles, steps, mode_ndim, dry=False):
    """Try to diagonalize axis ``e``: ``(new terms, step, kappa/mu tables)`` or None."""
    groups = {}
    for t in terms:
        key = (t.tag,) + tuple(id(t.factors[d]) for d in remaining if d != e)
        groups.setdefault(key, []).append(t)
    counts = {}
    objs = {}
    for t in terms:
        F = t.factors[e]
        counts[id(F)] = counts.get(id(F), 0) + 1
        objs[id(F)] = F
    for mid in sorted(counts, key=lambda k: -counts[k]):
        M = objs[mid]
        if not _spd(M):
            continue
        plan = []
        ref = None
        ok = True
        for ts in groups.values():
            a = sum((t.coef for t in ts if t.factors[e] is M), np.zeros((1,) * mode_ndim))
            others = _merge([(t.factors[e], t.coef) for t in ts if t.factors[e] is not M])
            b = np.zeros((1,) * mode_ndim)
            if others:
                if ref is None:
                    ref = others
                    b = np.ones((1,) * mode_ndim)
                else:
                    if [id(F) for F, _ in others] != [id(F) for F, _ in ref]:
                        ok = False
                        break
                    ratios = [
                        np.asarray(c) / np.asarray(cr) for (_, c), (_, cr) in zip(others, ref)
                    ]
                    if not all(np.all(np.isfinite(r)) for r in ratios):
                        ok = False
                        break
                    if any(not np.allclose(r, ratios[0], rtol=1e-13, atol=0) for r in ratios):
                        ok = False
                        break
                    b = ratios[0]
            plan.append((ts[0], a, b))
        if ok:
            return _build_step(terms, e, M, ref, plan, poles, steps, mode_ndim, dry)
    return None


def _build_step(terms, e, M, ref, plan, poles, steps, mode_ndim, dry=False):
    n = M.shape[0]
    ref = ref or []
    # the pencil's K per mode: Σ c_i F_i, with coefficients over the modes so far
    coefs = [np.asarray(c, dtype=float) for _, c in ref]
    shape = np.broadcast_shapes((1,) * mode_ndim, *(c.shape for c in coefs))
    # ends of this axis made Dirichlet by poles whose angular modes are not constant
    end_masks = []
    done = [s.axis for s in steps]
    for axis, side, angular in poles:
        if axis != e:
            continue
        if any(a not in done for a in angular):
            return None  # its angular axes must be diagonalized first
        inactive = np.zeros((1,) * mode_ndim, dtype=bool)
        for a in angular:
            st = steps[done.index(a)]
            j = done.index(a)
            sh = [1] * mode_ndim
            sh[j] = -1
            not_const = np.arange(n_modes_of(steps, j)) != st.const
            inactive = inactive | not_const.reshape(sh)
        end_masks.append((0 if side == 0 else n - 1, inactive))
        shape = np.broadcast_shapes(shape, inactive.shape)
    columns = [np.broadcast_to(c, shape).ravel() for c in coefs]
    columns += [np.broadcast_to(m, shape).ravel().astype(float) for _, m in end_masks]
    table = np.stack(columns, axis=1) if columns else np.zeros((int(np.prod(shape)), 0))
    uniq, inverse = np.unique(table, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(shape)
    is_angular = any(e in ang for _, _, ang in poles)
    if not dry and len(uniq) > 1:  # one dense basis per distinct pencil
        check_allocation(
            8 * len(uniq) * n * n,
            f"{len(uniq)} dense {n}×{n} eigenbases of axis {e} (one per mode of the axes before)",
            "use fewer cells on that axis, or method='amg'",
        )
    Ss, kap, mus, acts, const, gamma, consts = [], [], [], [], -1, 0.0, []
    Md = None
    for row in uniq:
        fourier = None
        if len(uniq) == 1 and not end_masks and not dry and n >= FOURIER_MIN:
            Ksp = sum((ci * F for (F, _), ci in zip(ref, row[: len(ref)])), 0.0 * M)
            fourier = _fourier_pencil(Ksp, M)
        if fourier is not None:  # uniform periodic Q1: real Fourier modes, rfft
            S, kappa, mu, act, c0, g0 = fourier
        else:
            Md = _dense(M) if Md is None else Md
            K = np.zeros((n, n))
            for (F, _), ci in zip(ref, row[: len(ref)]):
                K += ci * _dense(F)
            active = np.ones(n, dtype=bool)
            for (dof, _), flag in zip(end_masks, row[len(ref) :]):
                if flag:
                    active[dof] = False
            S, kappa, mu, act, c0, g0 = _eig_pencil(K, Md, active, deflate=True, dry=dry)
        Ss.append(S)
        kap.append(kappa)
        mus.append(mu)
        acts.append(act)
        consts.append(c0)
        if len(uniq) == 1:
            const, gamma = c0, g0
    if is_angular and (len(uniq) > 1):
        return None  # an angular axis must be one global pencil
    S_all = None if Ss[0] is None else np.stack(Ss)
    step = _Step(e, inverse, S_all, const, gamma, tuple(done), consts, n, len(uniq))
    kap, mus, acts = np.stack(kap), np.stack(mus), np.stack(acts)
    KAP, MU, ACT = kap[inverse], mus[inverse], acts[inverse]  # shape + (n,)
    new = []
    for t0, a, b in plan:
        coef = np.asarray(a)[..., None] * MU + np.asarray(b)[..., None] * KAP
        factors = list(t0.factors)
        factors[e] = None
        new.append(_Term(coef, factors, t0.tag))
    return new, step, ACT


def n_modes_of(steps, j):
    """Number of modes of the ``j``-th diagonalized axis."""
    return steps[j].n


def nested_plan(terms_list, shape, poles, banded=None, dry=False):
    """Diagonalize every axis but one: ``(steps, banded axis, terms, active mask)``.

    ``terms_list`` holds ``(coef, factors, tag)``; raises :class:`StructureError`
    (``reason="not-nested"``) when no order of the axes works.
    """
    D = len(shape)
    angular = sorted({a for _, _, ang in poles for a in ang})
    candidates = list(range(D)) if banded is None else [banded]

    def distinct(d):
        return len({id(f[d]) for _, f, _ in terms_list})

    def wide(d):
        return max(_bandwidth(f[d]) for _, f, _ in terms_list) > max(4, shape[d] // 4)

    candidates.sort(key=lambda d: (wide(d), d in angular, -distinct(d), d))
    for b in candidates:
        terms = [_Term(np.asarray(float(c)).reshape(()), list(f), tag) for c, f, tag in terms_list]
        steps = []
        active = np.ones((), dtype=bool)
        remaining = [d for d in range(D) if d != b]
        failed = False
        while remaining:
            order = sorted(remaining, key=lambda d: (d not in angular, d))
            for e in order:
                got = _diagonalize_axis(terms, e, [b] + remaining, poles, steps, len(steps), dry)
                if got is not None:
                    terms, step, act = got
                    steps.append(step)
                    active = np.logical_and(active[..., None], act)
                    remaining.remove(e)
                    break
            else:
                failed = True
                break
        if not failed:
            return steps, b, terms, active
    raise StructureError(
        "the operator is not a nested Kronecker sum: no axis order leaves every axis but one "
        "with one pencil (K, M) per mode",
        reason="not-nested",
    )
