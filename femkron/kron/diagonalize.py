"""Fast diagonalization: the exact solver of separable Kronecker sums.

For ``A = Σ_d M_1⊗…⊗K_d⊗…⊗M_D + σ M_1⊗…⊗M_D`` with symmetric ``K_d`` and SPD ``M_d``
(Lynch, Rice & Thomas 1964) each axis is diagonalized once: ``K_d = L_d diag(κ_d) R_d`` and
``M_d = L_d diag(μ_d) R_d``; then

``A⁻¹ = (⊗R_d⁻¹) diag(1 / Σ_d κ_d Π_{e≠d} μ_e) (⊗L_d⁻¹)``,

applied axis by axis in ``O(N)`` memory.  Three kinds of axis:

* ``dense`` — the generalized eigenproblem ``K S = M S Λ`` (``Sᵀ M S = I``, ``μ = 1``):
  ``L⁻¹ = Sᵀ``, ``R⁻¹ = S``, two BLAS products per axis, ``O(N n)`` work;
* ``dst`` — ``K`` and ``M`` symmetric tridiagonal Toeplitz (uniform Q1/P1 with Dirichlet
  ends): the eigenvectors are the discrete sines, so ``scipy.fft.dst`` (type I) replaces
  the products: ``O(N log n)``;
* ``fft`` — ``K`` and ``M`` symmetric circulant (uniform periodic axis): Fourier modes,
  ``scipy.fft.rfftn`` / ``irfftn`` over all such axes at once.

``transform="auto"`` uses ``dst``/``fft`` on every axis whose factors have that structure and
enough dofs to gain (:data:`FFT_MIN`), dense products elsewhere.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=128, order=1)
>>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
>>> fdm = fk.FastDiagonalization(A)
>>> fdm.transforms
('dst', 'dst')
>>> b = np.ones(A.shape[0])
>>> bool(np.linalg.norm(A @ fdm.solve(b) - b) < 1e-10 * np.linalg.norm(b))
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.fft as sfft
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._limits import check_allocation
from .._threads import threads_for
from .._validate import as_real, check_choice
from ..errors import FemkronTypeError, FemkronValueError
from ._sine import FFT_WORKERS, StreamedSine, _SineAxis, rest_spectrum
from .operator import KronOperator, apply_axis
from .structure import StructureError, _dense, _same, pencils, separable_structure  # noqa: F401

__all__ = [
    "FastDiagonalization",
    "StructureError",
    "separable_structure",
    "transform_kind",
    "FFT_MIN",
    "STREAM_MIN",
]

#: Axes with fewer dofs use dense products even when a sine/Fourier transform applies
#: (measured crossover of a DST-I against two BLAS products per axis); lengths whose FFT is
#: not 2·3·5·7·11-smooth (Bluestein's algorithm, about 3x slower) need 4 times as many.
FFT_MIN = 64
#: Relative tolerance for recognising Toeplitz / circulant factors.
_STRUCTURE_RTOL = 1e-13
#: Grids of at least this many values, sine transforms on every axis (and no zero mode), are
#: solved in three streamed passes (:class:`femkron.kron._sine.StreamedSine`): ``1/Λ`` is
#: never stored whole.
STREAM_MIN = 2**22


def _within(values, tol):
    """``|values| <= tol`` without a full-size float temporary (two boolean ones)."""
    out = values <= tol
    out &= values >= -tol
    return out


def _matrix(A):
    """A 1D factor as CSR (sparse input) or a float array."""
    return sp.csr_matrix(A, dtype=float) if sp.issparse(A) else np.asarray(A, dtype=float)


def _values(A):
    return A.data if sp.issparse(A) else A


def _absmax(A):
    return float(np.abs(_values(A)).max(initial=0.0))


def _asymmetry(A):
    return _absmax(A - A.T)


def _tridiagonal_toeplitz(A):
    """``(diagonal, off-diagonal)`` when ``A`` is symmetric tridiagonal Toeplitz, else None."""
    n = A.shape[0]
    if n < 2:
        return None
    tol = _STRUCTURE_RTOL * max(_absmax(A), 1e-300)
    if sp.issparse(A):
        C = A.tocoo()
        band = np.abs(C.data[np.abs(C.row - C.col) > 1]).max(initial=0.0)
        d0, d1, dm = A.diagonal(0), A.diagonal(1), A.diagonal(-1)
    else:
        band = np.abs(np.triu(A, 2)).max(initial=0.0) + np.abs(np.tril(A, -2)).max(initial=0.0)
        d0, d1, dm = np.diag(A), np.diag(A, 1), np.diag(A, -1)
    if band > tol or np.ptp(d0) > tol or np.ptp(d1) > tol or np.abs(dm - d1).max() > tol:
        return None
    return float(d0.mean()), float(d1.mean())


def _symmetric_circulant(A):
    """First column of ``A`` when it is a symmetric circulant, else None."""
    n = A.shape[0]
    if n < 3:
        return None
    tol = _STRUCTURE_RTOL * max(_absmax(A), 1e-300)
    if sp.issparse(A):
        c = np.asarray(A[:, [0]].todense()).ravel()
        C = A.tocoo()
        # every stored entry is c[(i - j) % n], and every nonzero of c is stored n times
        if np.abs(C.data - c[(C.row - C.col) % n]).max(initial=0.0) > tol:
            return None
        if np.count_nonzero(np.abs(C.data) > tol) != n * np.count_nonzero(np.abs(c) > tol):
            return None
    else:
        c = A[:, 0]
        idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n  # A[i, j] = c[(i - j) % n]
        if np.abs(A - c[idx.T]).max() > tol:
            return None
    if np.abs(c[1:] - c[1:][::-1]).max(initial=0.0) > tol:
        return None
    return c


# ---- axis transforms ----------------------------------------------------------------------
class _DenseAxis:
    """``K S = M S Λ``, ``Sᵀ M S = I``: forward ``Sᵀ``, backward ``S``, ``μ = 1``."""

    kind = "dense"

    def __init__(self, K, M, d):
        # symmetric diagonal scaling D K D, D M D with D = diag(M)^(-1/2): on strongly graded
        # meshes (cells from 1e-11 to 0.3) the unscaled pencil gives wrong, even negative,
        # eigenvalues; the scaled one keeps them (S = D Ŝ, still Sᵀ M S = I)
        mdiag = np.diag(M)
        dscale = 1.0 / np.sqrt(mdiag) if np.all(mdiag > 0) else np.ones(K.shape[0])
        Kd = (0.5 * (K + K.T)) * dscale[:, None] * dscale[None, :]
        Md = (0.5 * (M + M.T)) * dscale[:, None] * dscale[None, :]
        # reduction to a standard problem by the Cholesky factor Md = L Lᵀ, C = L⁻¹ Kd L⁻ᵀ,
        # then divide and conquer (syevd): what eigh(Kd, Md) does (sygvd), but two
        # triangular solves in place of sygst are measured ~1.5x faster at n ~ 1000
        try:
            L = sla.cholesky(Md, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise StructureError(f"axis {d}: the mass factor is not positive definite") from None
        C = sla.solve_triangular(L, Kd, lower=True, check_finite=False)
        C = sla.solve_triangular(L, C.T, lower=True, overwrite_b=True, check_finite=False)
        # (scipy < 1.11 sizes syevd's workspace wrongly for n = 1, where the default driver is
        # as good)
        driver = "evd" if C.shape[0] > 1 else None
        lam, W = sla.eigh(C, overwrite_a=True, driver=driver, check_finite=False)
        S = sla.solve_triangular(L, W, lower=True, trans="T", overwrite_b=True, check_finite=False)
        S = dscale[:, None] * S
        self.lam = lam
        self.mu = None
        self.S = np.ascontiguousarray(S)
        self.St = np.ascontiguousarray(S.T)

    def forward(self, U, axis):
        return apply_axis(self.St, U, axis)

    def backward(self, U, axis):
        return apply_axis(self.S, U, axis)


class _FourierAxis:
    """Symmetric circulant ``K``, ``M``: Fourier modes (``rfftn`` over all such axes)."""

    kind = "fft"

    def __init__(self, kc, mc, n, d):
        self.n = n
        self.kappa = np.real(np.fft.fft(kc))
        self.mu = np.real(np.fft.fft(mc))
        if not np.all(self.mu > 0):
            raise StructureError(f"axis {d}: the mass factor is not positive definite")
        self.lam_unsorted = self.kappa / self.mu

    @property
    def lam(self):
        return self.lam_unsorted

    def eigenvectors(self):
        """Real M-orthonormal eigenvectors, column ``k`` belonging to ``lam[k]``."""
        n = self.n
        j = np.arange(n)
        V = np.empty((n, n))
        for k in range(n):
            if k == 0 or 2 * k == n:
                v = np.cos(2 * np.pi * j * k / n)
            elif k < n - k:
                v = np.cos(2 * np.pi * j * k / n)
            else:
                v = np.sin(2 * np.pi * j * (n - k) / n)
            V[:, k] = v / np.sqrt(self.mu[k] * (v @ v))
        return V


def _worth_it(length, n):
    return n >= (FFT_MIN if sfft.next_fast_len(length) == length else 4 * FFT_MIN)


def transform_kind(K, M):
    """``"dst"``, ``"fft"`` or ``"dense"``: how ``transform="auto"`` diagonalizes an axis.

    Examples
    --------
    >>> import femkron as fk
    >>> s = fk.Space1D(fk.Mesh1D.uniform(0, 1, 100), order=1)
    >>> transform_kind(s.stiffness()[1:-1, 1:-1], s.mass()[1:-1, 1:-1])
    'dst'
    """
    n = K.shape[0]
    if _tridiagonal_toeplitz(K) is not None and _tridiagonal_toeplitz(M) is not None:
        if _worth_it(2 * (n + 1), n):
            return "dst"
    elif _symmetric_circulant(K) is not None and _symmetric_circulant(M) is not None:
        if _worth_it(n, n):
            return "fft"
    return "dense"


def _axis_transform(K, M, d, transform):
    n = K.shape[0]
    if transform != "dense":
        force = transform == "fft"
        Kc, Mc = _tridiagonal_toeplitz(K), _tridiagonal_toeplitz(M)
        if Kc is not None and Mc is not None and (force or _worth_it(2 * (n + 1), n)):
            return _SineAxis(Kc, Mc, n, d)
        kc, mc = _symmetric_circulant(K), _symmetric_circulant(M)
        if kc is not None and mc is not None and (force or _worth_it(n, n)):
            return _FourierAxis(kc, mc, n, d)
        if transform == "fft":
            raise StructureError(
                f"axis {d}: transform='fft' needs symmetric tridiagonal Toeplitz factors "
                "(uniform mesh, order 1, Dirichlet ends) or circulant ones (uniform periodic)"
            )
    check_allocation(  # K, M, S, Sᵀ, made dense
        8 * 4 * n * n,
        f"the dense 1D eigenproblem of axis {d} ({n}×{n})",
        "use method='direct' (1D, banded) or method='amg'",
    )
    with threads_for(n * n):  # a small eigenproblem is faster on one thread
        return _DenseAxis(_dense(K), _dense(M), d)


class FastDiagonalization:
    """Exact solver for ``A = Σ_d M_1⊗…⊗K_d⊗…⊗M_D + σ M_1⊗…⊗M_D``.

    Per axis ``K_d`` and ``M_d`` are diagonalized once (a generalized symmetric eigenproblem,
    or the discrete sine / Fourier transform when the factors are Toeplitz / circulant); each
    solve then costs a few axis-wise transforms and one division: ``O(N Σ n_d)`` work
    (``O(N log N)`` with transforms) and ``O(N)`` memory.

    Parameters
    ----------
    operator : KronOperator, optional
        Analysed to find ``K_d``, ``M_d`` and ``σ``.
    stiffness, masses : sequence of array_like, optional
        The 1D factors given directly instead of ``operator``.
    sigma : float
        Reaction coefficient added to the operator (``+ σ ⊗M``); may be negative (Helmholtz).
    singular : bool
        Allow exactly one zero eigenvalue (pure Neumann / periodic): its mode is projected out.
    transform : {"auto", "dense", "fft"}
        ``"auto"``: sine/Fourier transforms on axes that allow them (and have at least
        :data:`FFT_MIN` dofs), dense eigenvectors elsewhere; ``"dense"``: dense everywhere;
        ``"fft"``: transforms on every axis or a :class:`StructureError`.

    Attributes
    ----------
    transforms : tuple of str
        Per axis ``"dense"``, ``"dst"`` or ``"fft"``.
    lams : list of ndarray
        Per-axis generalized eigenvalues.
    lam_grid : ndarray
        ``Σ_d λ_d`` on the grid (eigenvalues of ``A u = λ (⊗M) u``).
    S, St : list of ndarray
        Per-axis M-orthonormal eigenvectors (built on first access for transform axes).
    streamed : bool
        Sine transforms on every axis of a grid of at least :data:`STREAM_MIN` values: each
        solve makes three passes over the array (transforms of axes ``1 … D-1`` slab by
        slab, then axis 0 forward, ``1/Λ`` and back, then axes ``1 … D-1`` again), with
        ``1/Λ`` formed per slab from the 1D eigenvalues, never stored whole.
    setup_seconds : float

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=1)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> fdm = FastDiagonalization(A)
    >>> b = np.random.default_rng(0).standard_normal(A.shape[0])
    >>> bool(np.allclose(A @ fdm.solve(b), b))
    True
    >>> float(round(fdm.eigenvalues().min(), 3))   # 2π² ≈ 19.74 on the unit square
    20.194
    """

    def __init__(
        self,
        operator=None,
        *,
        stiffness=None,
        masses=None,
        sigma=0.0,
        singular=False,
        transform="auto",
    ):
        t0 = time.perf_counter()
        check_choice(transform, "transform", ("auto", "dense", "fft"))
        if operator is not None:
            if not isinstance(operator, KronOperator):
                raise FemkronTypeError(
                    f"operator must be a KronOperator, got {type(operator).__name__}"
                )
            Ks, Ms, sig = pencils(operator)
        else:
            if stiffness is None or masses is None:
                raise FemkronValueError("give an operator, or both stiffness and masses")
            Ks = [_matrix(K) for K in stiffness]
            Ms = [_matrix(M) for M in masses]
            if len(Ks) != len(Ms):
                raise FemkronValueError("stiffness and masses need one factor per axis each")
            sig = 0.0
        sig += as_real(sigma, "sigma")
        self.shape1d = tuple(K.shape[0] for K in Ks)
        for d, (K, M) in enumerate(zip(Ks, Ms)):
            if K.shape != M.shape or K.shape[0] != K.shape[1]:
                raise StructureError(
                    f"axis {d}: K_d {K.shape} and M_d {M.shape} must be square and alike",
                    reason="not-square",
                )
            if not (np.all(np.isfinite(_values(K))) and np.all(np.isfinite(_values(M)))):
                raise FemkronValueError(f"axis {d}: the factors contain NaN or inf")
        # sparse factors stay sparse: an axis becomes dense only where its transform is the
        # dense eigenproblem (a uniform Q1 axis of 10^5 dofs takes sine transforms, O(n))
        Ks = list(Ks)
        Ks[0] = Ks[0] + sig * Ms[0]
        self.sigma = sig
        self.axes = []
        noise, noise_of = 0.0, []
        for d, (K, M) in enumerate(zip(Ks, Ms)):
            shared = next((e for e in range(d) if _same(K, Ks[e]) and _same(M, Ms[e])), None)
            if shared is not None:  # the same factors as an earlier axis (a cube): set up once
                self.axes.append(self.axes[shared])
                noise += noise_of[shared]
                noise_of.append(noise_of[shared])
                continue
            if _asymmetry(K) > 1e-12 * max(_absmax(K), 1e-300):
                raise StructureError(
                    f"axis {d}: the stiffness factor is not symmetric", reason="not-symmetric"
                )
            if _asymmetry(M) > 1e-12 * max(_absmax(M), 1e-300):
                raise StructureError(
                    f"axis {d}: the mass factor is not symmetric", reason="not-symmetric"
                )
            self.axes.append(_axis_transform(K, M, d, transform))
            # absolute rounding level of the eigenvalues of smooth modes: eps Σ|K| / 1ᵀM1
            msum = float(M.sum())
            mscale = msum if msum > 0 else float(M.diagonal().sum())
            noise_of.append(np.finfo(float).eps * float(abs(K).sum()) / max(mscale, 1e-300))
            noise += noise_of[-1]
        self.transforms = tuple(ax.kind for ax in self.axes)
        self.lams = [ax.lam for ax in self.axes]
        self._S = [getattr(ax, "S", None) for ax in self.axes]
        # Λ = Σ_d λ_d on the grid; zero: within a thousand times the rounding level of the
        # assembled factors (not relative to the largest eigenvalue, which graded meshes push
        # to 1e22 and beyond)
        self.zero_tolerance = 1e3 * noise
        size = int(np.prod(self.shape1d, dtype=np.int64))
        self.streamed = (
            len(self.axes) >= 2 and all(ax.kind == "dst" for ax in self.axes) and size >= STREAM_MIN
        )
        lam_grid = None
        if self.streamed:  # no full-size array: the zero modes plane by plane
            self.zero_modes = self._zero_modes_by_planes()
            self.streamed = not self.zero_modes.size
        else:
            lam_grid = self._lam_grid()
            self.zero_modes = np.flatnonzero(_within(lam_grid, self.zero_tolerance).ravel())
        if self.zero_modes.size and not singular:
            raise FemkronValueError(
                f"the operator is singular: {self.zero_modes.size} eigenvalue(s) of the "
                f"Kronecker sum are zero to rounding (|λ| <= {self.zero_tolerance:.1e}): a pure "
                "Neumann/periodic problem, a Robin coefficient that (nearly) cancels, or a "
                "Helmholtz wavenumber at a resonance",
                reason="singular",
            )
        if singular and self.zero_modes.size != 1:
            raise FemkronValueError(
                f"expected exactly one zero eigenvalue for a singular problem, found "
                f"{self.zero_modes.size}"
            )
        self._stream = StreamedSine(self.axes) if self.streamed else None
        self._inv_grid = None  # 1/Λ, whole: formed here unless the solves stream it
        if not self.streamed:
            self._inv_grid = self._spectral_inverse(
                self._lam_grid() if lam_grid is None else lam_grid
            )
        del lam_grid
        self.shape = (int(np.prod(self.shape1d, dtype=np.int64)),) * 2
        self.setup_seconds = time.perf_counter() - t0

    # ---- spectra ------------------------------------------------------------------------
    def _lam_grid(self):
        D = len(self.shape1d)
        out = np.zeros(self.shape1d)
        for d, lam in enumerate(self.lams):
            sh = [1] * D
            sh[d] = -1
            out += lam.reshape(sh)
        return out

    @property
    def lam_grid(self):
        """``Σ_d λ_d`` on the grid (computed on access)."""
        return self._lam_grid()

    @property
    def inv_lam(self):
        """``1 / lam_grid`` with zero at the zero modes."""
        lam = self._lam_grid()
        out = np.zeros_like(lam)
        np.divide(1.0, lam, out=out, where=np.abs(lam) > self.zero_tolerance)
        return out

    def _zero_modes_by_planes(self):
        """Flat indices of ``|Σ_d λ_d| <= zero_tolerance``, one plane of axis 0 at a time."""
        rest = rest_spectrum(self.axes, 1)[0]
        found = [
            np.flatnonzero(_within(lam0 + rest, self.zero_tolerance)) + i * rest.size
            for i, lam0 in enumerate(self.lams[0])
        ]
        return np.concatenate(found)

    @property
    def _inv(self):
        """``1/Λ`` in the layout of the transformed array (formed on first use if streamed)."""
        if self._inv_grid is None:
            self._inv_grid = self._spectral_inverse(self._lam_grid())
        return self._inv_grid

    def _fourier_axes(self):
        return [d for d, ax in enumerate(self.axes) if ax.kind == "fft"]

    def _spectral_inverse(self, lam_grid):
        """``1 / (Σ_d κ_d Π_{e≠d} μ_e)`` in the layout of the transformed array.

        The last Fourier axis is halved by rfftn; zero at the zero modes.  Reuses ``lam_grid``.
        """
        D = len(self.shape1d)
        fourier = self._fourier_axes()
        if fourier:
            last = fourier[-1]
            lam_grid = lam_grid[(slice(None),) * last + (slice(0, self.shape1d[last] // 2 + 1),)]
            lam_grid = np.array(lam_grid)
        tiny = _within(lam_grid, self.zero_tolerance)
        for d, ax in enumerate(self.axes):
            if ax.mu is None:
                continue
            mu = ax.mu[: lam_grid.shape[d]]
            sh = [1] * D
            sh[d] = -1
            lam_grid *= mu.reshape(sh)
        lam_grid[tiny] = 1.0
        np.divide(1.0, lam_grid, out=lam_grid)
        lam_grid[tiny] = 0.0
        return lam_grid

    def eigenvalues(self):
        """All eigenvalues of ``A u = λ (⊗M) u`` on the grid, flattened (unsorted)."""
        return self._lam_grid().ravel()

    @property
    def S(self):
        """Per-axis M-orthonormal eigenvectors (``K_d S_d = M_d S_d diag(lams[d])``)."""
        for d, ax in enumerate(self.axes):
            if self._S[d] is None:
                self._S[d] = np.ascontiguousarray(ax.eigenvectors())
        return list(self._S)

    @property
    def St(self):
        """Per-axis transposed eigenvectors ``S_d.T``, C-contiguous."""
        return [np.ascontiguousarray(S.T) for S in self.S]

    # ---- solve --------------------------------------------------------------------------
    def solve(self, b, overwrite_b=False):
        """Apply ``A⁻¹`` to a vector (or a stack ``(N, k)`` of vectors).

        Sine transforms run in place on the solver's own array (and on ``b`` itself with
        ``overwrite_b=True``, which then holds the solution: no full-size temporary).
        """
        b = np.asarray(b, dtype=float)
        if b.ndim not in (1, 2) or b.shape[0] != self.shape[0]:
            raise FemkronValueError(f"b must have {self.shape[0]} rows, got shape {b.shape}")
        batch = b.ndim == 2
        U = b.reshape(self.shape1d + ((b.shape[1],) if batch else ()))
        if self.streamed and not batch:
            own = bool(overwrite_b) and U.flags.writeable and U.flags.c_contiguous
            return self._stream.solve(U if own else U.copy()).reshape(b.shape)
        fourier = self._fourier_axes()
        inv = self._inv[..., None] if batch else self._inv
        own = bool(overwrite_b) and U.flags.writeable
        for d, ax in enumerate(self.axes):
            if ax.kind == "dst":  # in place once the array is the solver's own
                U = ax.forward(U, d, overwrite=own)
                own = True
            elif ax.kind != "fft":
                U = ax.forward(U, d)
                own = True
        if fourier:
            U = sfft.rfftn(U, axes=fourier, workers=FFT_WORKERS)
        U *= inv
        if fourier:
            n = [self.shape1d[d] for d in fourier]
            U = sfft.irfftn(U, s=n, axes=fourier, workers=FFT_WORKERS)
        for d, ax in enumerate(self.axes):
            if ax.kind != "fft":
                U = ax.backward(U, d)
        return U.reshape(b.shape)

    __call__ = solve

    def aslinearoperator(self):
        """``A⁻¹`` as a ``scipy.sparse.linalg.LinearOperator`` (e.g. a preconditioner)."""
        return spla.LinearOperator(self.shape, matvec=self.solve, matmat=self.solve, dtype=float)
