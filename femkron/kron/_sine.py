"""Sine-transform axes of the fast diagonalization, and its streamed solve.

A uniform Q1/P1 axis with Dirichlet ends has symmetric tridiagonal Toeplitz factors ``K``,
``M``: the discrete sines diagonalize both, and ``scipy.fft.dst`` (type I) applies them
(:class:`_SineAxis`).  When every axis of a large grid is such an axis,
:class:`StreamedSine` solves in three passes over the array and never forms ``1/Λ`` whole;
axis 0 is solved by :class:`_ToeplitzSweeps` (recurrences on whole planes) rather than by two
more transforms when its 1D systems allow.

Used by :class:`femkron.kron.diagonalize.FastDiagonalization`.
"""

from __future__ import annotations

import os

import numpy as np
import scipy.fft as sfft

from .structure import StructureError

__all__ = ["FFT_WORKERS", "StreamedSine", "rest_spectrum"]


def _default_workers():
    """Threads of scipy.fft: ``OMP_NUM_THREADS`` when it is set (as BLAS has), else all cores.

    >>> n = _default_workers()
    >>> n == -1 or n >= 1
    True
    """
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return -1
    return n if n >= 1 else -1


#: Threads of scipy.fft (-1: all cores), read once from ``OMP_NUM_THREADS`` when set
#: (``femkron bench --threads N`` sets it), so that the transforms keep to the same count as
#: BLAS.
FFT_WORKERS = _default_workers()

#: Bytes of one slab of a sine transform (below glibc's mmap threshold: reused memory).
_DST_SLAB_BYTES = 2**23
#: Bytes of one slab of a streamed solve (about half a core's L2 cache).
_STREAM_SLAB_BYTES = 2**21
#: The sweeps of a streamed solve (:class:`_ToeplitzSweeps`) need ``|s| <= 1 - margin`` in
#: every column: their backward error grows as ``1 - |s|`` falls (measured on Q1 columns of
#: 10^3–10^5 rows: 2e-16 at 1e-2, up to 1.4e-15 at 1e-3, 2.6e-14 at 1e-4, 1e-12 at 1e-5);
#: closer to 1 the transforms are used.
_SWEEP_MARGIN = 1e-4


def _dst_slabs(U, axis, overwrite, scale):
    """``scale · dst(U)`` (type I) along ``axis``, slab by slab along another axis.

    scipy's transform allocates a temporary the size of its input even with
    ``overwrite_x``; applied to slabs of about :data:`_DST_SLAB_BYTES` the temporaries are
    small and reused, so a transform of a large array faults in no fresh memory.  With
    ``overwrite`` the result is written into ``U``; otherwise into a new array.
    """
    out = U if overwrite else np.empty_like(U)
    if U.ndim == 1 or U.nbytes <= 2 * _DST_SLAB_BYTES:
        res = sfft.dst(U, type=1, axis=axis, workers=FFT_WORKERS, overwrite_x=overwrite)
        np.multiply(res, scale, out=out)
        return out
    s = 1 if axis == 0 else 0  # the slab axis
    per = U.nbytes // U.shape[s]
    step = max(1, _DST_SLAB_BYTES // per)
    for i0 in range(0, U.shape[s], step):
        sl = (slice(None),) * s + (slice(i0, i0 + step),)
        res = sfft.dst(U[sl], type=1, axis=axis, workers=FFT_WORKERS, overwrite_x=overwrite)
        np.multiply(res, scale, out=out[sl])
    return out


class _SineAxis:
    """Symmetric tridiagonal Toeplitz ``K``, ``M``: discrete sines, ``scipy.fft.dst`` (I).

    With ``Σ[j, k] = sin(π (j+1)(k+1) / (n+1))`` (symmetric, ``Σ² = (n+1)/2 I``):
    ``K = Σ⁻¹ diag(κ) Σ``, ``κ_k = k0 + 2 k1 cos θ_k`` (likewise ``μ`` for ``M``); forward
    ``Σ U = dst(U) / 2``, backward ``Σ⁻¹ U = dst(U) / (n + 1)``.
    """

    kind = "dst"

    def __init__(self, Kc, Mc, n, d):
        theta = np.pi * np.arange(1, n + 1) / (n + 1)
        self.n = n
        self.Kc, self.Mc = (float(Kc[0]), float(Kc[1])), (float(Mc[0]), float(Mc[1]))
        self.kappa = Kc[0] + 2.0 * Kc[1] * np.cos(theta)
        self.mu = Mc[0] + 2.0 * Mc[1] * np.cos(theta)
        if not np.all(self.mu > 0):
            raise StructureError(f"axis {d}: the mass factor is not positive definite")
        self.lam_unsorted = self.kappa / self.mu
        self._S = None

    @property
    def lam(self):
        return self.lam_unsorted

    def forward(self, U, axis, overwrite=False):
        return _dst_slabs(U, axis, overwrite, 0.5)

    def backward(self, U, axis):
        return _dst_slabs(U, axis, True, 1.0 / (self.n + 1))

    def eigenvectors(self):
        n = self.n
        j = np.arange(1, n + 1)
        sines = np.sin(np.pi * np.outer(j, j) / (n + 1))
        return sines / np.sqrt(self.mu * (n + 1) / 2.0)[None, :]


class _ToeplitzSweeps:
    """Solve ``(K + Λ' M) x = y`` along axis 0 of ``Y (n, m)`` for ``m`` values ``Λ'`` at once.

    ``K``, ``M`` symmetric tridiagonal Toeplitz (axis 0 of a streamed fast diagonalization,
    ``Λ'`` the eigenvalues of the other axes), so each column's matrix is ``T = tridiag(e, d,
    e)`` with ``d > 2|e|``.  With ``s + 1/s = d/e``, ``|s| < 1``::

        (s/e) T = (I + s U)(I + s L) + s² e_n e_nᵀ      (U, L: the shifts up and down)

    so ``x = (s/e) T⁻¹ y`` is a backward sweep ``(I + sU)⁻¹``, a forward sweep
    ``(I + sL)⁻¹`` and the Sherman–Morrison correction of the last row, whose vector
    ``(I + sL)⁻¹(I + sU)⁻¹ e_n = ((-s)^(n-1-i) - (-1)^(n-1-i) s^(n+i+1)) / (1 - s²)`` is two
    geometric sequences, added by one backward and one forward pass.  Nine operations per
    value in all, against two sine transforms of axis 0 and the division by ``Λ``; each step
    works on one whole plane.  Built only where every column is diagonally dominant with
    ``1 - |s| >=`` :data:`_SWEEP_MARGIN` (else a :class:`StructureError`: the transforms are
    used).
    """

    def __init__(self, Kc, Mc, lam, weight):
        k0, k1 = Kc
        m0, m1 = Mc
        d = k0 + lam * m0
        e = k1 + lam * m1
        dp = (k0 + 2.0 * k1) + lam * (m0 + 2.0 * m1)  # d ± 2e without cancellation
        dm = (k0 - 2.0 * k1) + lam * (m0 - 2.0 * m1)
        if not (np.all(dp > 0) and np.all(dm > 0)):
            raise StructureError("not diagonally dominant")
        den = d + np.sqrt(dp * dm)
        s = 2.0 * e / den
        if np.max(np.abs(s)) > 1.0 - _SWEEP_MARGIN:
            raise StructureError("too close to singular for the sweeps")
        self.ms = -s
        self.scale = weight * (2.0 / den)  # s/e, finite as e → 0
        self.s2 = s * s

    def solve(self, Y):
        """Overwrite ``Y`` (``(n, m)``, C-contiguous) with the solution, plane by plane."""
        n = Y.shape[0]
        ms, s2 = self.ms, self.s2
        tmp = np.empty_like(Y[0])
        Y[n - 1] *= self.scale
        for i in range(n - 2, -1, -1):  # (I + sU)⁻¹, the scale folded in
            np.multiply(Y[i + 1], ms, out=tmp)
            Y[i] *= self.scale
            Y[i] += tmp
        for i in range(1, n):  # (I + sL)⁻¹
            np.multiply(Y[i - 1], ms, out=tmp)
            Y[i] += tmp
        # x = w - γ g,  γ = s² w_n / (1 + s² g_n),  g_n = Σ_{j<n} s^(2j)
        one = 1.0 - s2
        g_n = -np.expm1(n * np.log(s2, where=s2 > 0, out=np.full_like(s2, -np.inf))) / one
        gam = s2 * Y[n - 1] / (1.0 + s2 * g_n) / one
        p = -gam  # · (-s)^(n-1-i), backward
        for i in range(n - 1, -1, -1):
            Y[i] += p
            p *= ms
        with np.errstate(under="ignore"):
            q = gam * (-1.0) ** (n - 1) * (-ms) ** (n + 1)  # · (-s)^i, forward
        for i in range(n):
            Y[i] += q
            q *= ms
        return Y


def rest_spectrum(axes, first):
    """``Σ_d λ_d`` and ``Π_d μ_d`` over the sine axes ``d >= first``, flat in C order."""
    shape = tuple(ax.n for ax in axes[first:])
    lam, mu = np.zeros(shape), np.ones(shape)
    for d, ax in enumerate(axes[first:]):
        sh = [1] * lam.ndim
        sh[d] = -1
        lam = lam + ax.lam.reshape(sh)
        mu = mu * ax.mu.reshape(sh)
    return lam.ravel(), mu.ravel()


class StreamedSine:
    """``A⁻¹`` in place for sine transforms on every axis, in three passes over the array.

    Pass 1 transforms axes ``1 … D-1`` slab by slab of axis 0 (slabs of
    :data:`_STREAM_SLAB_BYTES`, which stay in cache through their transforms).  Pass 2
    solves along axis 0: by :class:`_ToeplitzSweeps` on whole planes, or, where a 1D system
    is not diagonally dominant (an indefinite Helmholtz term), by a forward transform, the
    division by ``Λ`` (formed per slab from the 1D eigenvalues) and a backward transform,
    slab by slab of axis 1.  Pass 3 is pass 1 again.  The transforms' scales are folded into
    the sweeps' weights or into ``Λ``, and nothing the size of the grid is allocated.

    Parameters
    ----------
    axes : list of _SineAxis
        One per axis, at least two.
    """

    def __init__(self, axes):
        self.axes = list(axes)
        self.shape = tuple(ax.n for ax in self.axes)
        lam_rest, mu_rest = rest_spectrum(self.axes, 1)
        weight = float(np.prod([0.5 / (n + 1) for n in self.shape[1:]])) / mu_rest
        ax0 = self.axes[0]
        try:  # T = μ'(K_0 + Λ' M_0) per mode of the other axes, μ' = Π μ_d, Λ' = Σ λ_d
            self.sweeps = _ToeplitzSweeps(ax0.Kc, ax0.Mc, lam_rest, weight)
        except StructureError:
            self.sweeps = None

    def solve(self, U):
        """Overwrite ``U`` (C-contiguous, of shape :attr:`shape`) with ``A⁻¹ U``."""
        n0, n1 = self.shape[:2]
        rest = int(np.prod(self.shape[2:], dtype=np.int64))
        inner = tuple(range(1, U.ndim))
        step = max(1, _STREAM_SLAB_BYTES // (8 * rest * n1))
        for i0 in range(0, n0, step):
            _dst_inplace(U[i0 : i0 + step], inner)
        if self.sweeps is not None:
            self.sweeps.solve(U.reshape(n0, n1 * rest))
        else:
            self._axis0_by_transforms(U.reshape(n0, n1, rest))
        for i0 in range(0, n0, step):
            _dst_inplace(U[i0 : i0 + step], inner)
        return U

    def _axis0_by_transforms(self, U3):
        """Pass 2 by sine transforms of axis 0 and ``1/Λ``, slab by slab of axis 1."""
        n0, n1, rest = U3.shape
        # Λ = (Σ_d κ_d/μ_d) Π_d μ_d; forward ½·dst and backward dst/(n+1) per axis
        scale = float(np.prod([0.5 / (n + 1) for n in self.shape]))
        lam_rest, mu_rest = rest_spectrum(self.axes, 2)
        ax0, ax1 = self.axes[:2]
        lam02 = (ax0.lam[:, None] + lam_rest[None, :])[:, None, :]
        mu02 = np.multiply.outer(ax0.mu / scale, mu_rest)[:, None, :]
        step = max(1, _STREAM_SLAB_BYTES // (8 * n0 * rest))
        buf, lam = np.empty((n0, step, rest)), np.empty((n0, step, rest))
        for j0 in range(0, n1, step):
            j1 = min(n1, j0 + step)
            V, L = buf[:, : j1 - j0], lam[:, : j1 - j0]
            np.copyto(V, U3[:, j0:j1])
            _dst_inplace(V, (0,))
            np.add(lam02, ax1.lam[j0:j1, None], out=L)
            L *= mu02
            L *= ax1.mu[j0:j1, None]
            V /= L
            _dst_inplace(V, (0,))
            U3[:, j0:j1] = V


def _dst_inplace(V, axes):
    """Unscaled DST-I of ``V`` along ``axes``, written into ``V``."""
    out = sfft.dstn(V, type=1, axes=axes, workers=FFT_WORKERS, overwrite_x=True)
    if not np.shares_memory(out, V):
        V[...] = out
