"""Gaussian random fields of the Matérn family, sampled exactly by fast diagonalization.

The SPDE route (Whittle 1954; Lindgren, Rue & Lindström 2011): the solution of

``(κ² − Δ)^{α/2} u = W``  (``W`` white noise, ``α = ν + d/2``)

is a Gaussian field with the Matérn covariance of smoothness ``ν`` and correlation length
``ρ = √(8ν) / κ`` (the distance at which the correlation has fallen to about 0.14).  On a
tensor space the finite element Laplacian has the exact discrete eigenpairs
``K_d S_d = M_d S_d Λ_d`` (``S_dᵀ M_d S_d = I``) of its 1D pencils, so a sample is

``u = (⊗S_d) diag((κ² + Σ_d λ_d)^{−α/2}) ξ``,  ``ξ ~ N(0, I)``:

one fast-diagonalization apply per sample, for any (fractional) ``α``, with no truncation of
the spectrum.  The covariance of the dof values is ``(⊗S_d) diag((κ²+λ)^{−α}) (⊗S_d)ᵀ``;
for ``α = 2`` it is ``(κ²M + A)⁻¹ M (κ²M + A)⁻¹``.  Samples are scaled by
``std / σ_ν`` with ``σ_ν² = Γ(ν) / (Γ(ν + d/2) (4π)^{d/2} κ^{2ν})`` the variance of the
SPDE's solution in all of space.

**Boundary effects.**  The operator needs boundary conditions: natural (Neumann) ones, the
default, reflect the field at the faces, so the variance grows towards the boundary, to about
twice ``std²`` on a face and four times in a corner of a 2D box, within about one correlation
length.  :func:`matern_variance` gives the exact pointwise variance.  ``boundary="periodic"``
avoids the inflation (the field lives on a torus: the variance is the same everywhere, but
opposite faces are correlated); or sample on a box larger by a correlation length or two on
each side and use the middle.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=32, order=1)
>>> u = fk.random_field(V, length=0.2, smoothness=1.0, std=0.5, seed=1)
>>> u.values.shape, u.kind
((33, 33), 'nodal')
>>> round(float(matern_correlation(0.2, length=0.2, smoothness=1.0)), 4)
0.1397
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.special

from .._limits import check_allocation
from .._validate import as_int, as_real
from ..errors import FemkronTypeError, FemkronValueError
from ..kron.diagonalize import FastDiagonalization
from ..kron.operator import apply_axis
from .coefficients import axis_spaces
from .fields import Field

__all__ = ["random_field", "matern_variance", "matern_correlation", "matern_marginal_std"]

BOUNDARIES = ("neumann", "periodic")

#: Samples drawn together (more are drawn in batches of this many per 2^27 bytes of a sample).
_BATCH_BYTES = 2**27


def matern_correlation(r, length, smoothness):
    """The Matérn correlation ``2^{1−ν}/Γ(ν) (κr)^ν K_ν(κr)`` with ``κ = √(8ν)/length``.

    Parameters
    ----------
    r : array_like
        Distances (any sign).
    length : float
        Correlation length ``ρ = √(8ν)/κ``.
    smoothness : float
        ``ν > 0`` (``0.5``: exponential; ``ν → ∞``: Gaussian).

    Examples
    --------
    >>> import numpy as np
    >>> matern_correlation(np.array([0.0, 1.0]), length=1.0, smoothness=0.5)   # e^{-2}
    array([1.        , 0.13533528])
    """
    length = as_real(length, "length", positive=True)
    nu = as_real(smoothness, "smoothness", positive=True)
    x = np.abs(np.asarray(r, dtype=float)) * math.sqrt(8.0 * nu) / length
    safe = np.where(x > 0, x, 1.0)
    out = 2.0 ** (1.0 - nu) / scipy.special.gamma(nu) * safe**nu * scipy.special.kv(nu, safe)
    return np.where(x > 0, out, 1.0)


def matern_marginal_std(length, smoothness, dim):
    """``σ_ν``: the standard deviation of ``(κ² − Δ)^{α/2} u = W`` in all of ``R^dim``.

    ``σ_ν² = Γ(ν) / (Γ(ν + d/2) (4π)^{d/2} κ^{2ν})`` with ``κ = √(8ν)/length``.

    Examples
    --------
    >>> round(matern_marginal_std(1.0, 0.5, 1) ** 2, 12)   # 1/(2κ) with κ = 2
    0.25
    """
    length = as_real(length, "length", positive=True)
    nu = as_real(smoothness, "smoothness", positive=True)
    d = as_int(dim, "dim", minimum=1)
    kappa = math.sqrt(8.0 * nu) / length
    var = math.exp(
        math.lgamma(nu)
        - math.lgamma(nu + d / 2.0)
        - (d / 2.0) * math.log(4.0 * math.pi)
        - 2.0 * nu * math.log(kappa)
    )
    return math.sqrt(var)


def _boundaries(boundary, dim):
    if isinstance(boundary, str):
        boundary = (boundary,) * dim
    if not isinstance(boundary, (tuple, list)) or len(boundary) != dim:
        raise FemkronValueError(
            f"boundary must be 'neumann', 'periodic' or a sequence of {dim} of them (one per "
            f"axis), got {boundary!r}"
        )
    for d, b in enumerate(boundary):
        if b not in BOUNDARIES:
            raise FemkronValueError(f"boundary[{d}] must be 'neumann' or 'periodic', got {b!r}")
    return tuple(boundary)


def _periodic_prolongation(n):
    """``P`` (n × n-1): the last dof is the first one."""
    P = np.zeros((n, n - 1))
    P[np.arange(n), np.arange(n) % (n - 1)] = 1.0
    return P


class _MaternSampler:
    """The linear map ``ξ ↦ u`` of :func:`random_field` and its pointwise variance."""

    def __init__(self, V, length, smoothness, std, boundary):
        spaces = axis_spaces(V)
        coordinates = getattr(V, "coordinates", None)
        coordinates = getattr(coordinates, "name", coordinates)
        if coordinates not in (None, "cartesian"):
            raise FemkronValueError(
                f"random fields are made on Cartesian boxes; V has {coordinates!r} coordinates"
            )
        self.length = as_real(length, "length", positive=True)
        self.nu = as_real(smoothness, "smoothness", positive=True)
        self.std = as_real(std, "std", nonnegative=True)
        D = len(spaces)
        self.boundary = _boundaries(boundary, D)
        self.kappa = math.sqrt(8.0 * self.nu) / self.length
        self.alpha = self.nu + D / 2.0
        Ks, Ms, self.P = [], [], []
        for s, b in zip(spaces, self.boundary):
            K, M = s.stiffness().toarray(), s.mass().toarray()
            if b == "periodic":
                if s.ndofs < 3:
                    raise FemkronValueError(
                        "a periodic axis needs at least 2 dofs after identification"
                    )
                P = _periodic_prolongation(s.ndofs)
                K, M = P.T @ K @ P, P.T @ M @ P
                self.P.append(P)
            else:
                self.P.append(None)
            Ks.append(K)
            Ms.append(M)
        fdm = FastDiagonalization(stiffness=Ks, masses=Ms, sigma=self.kappa**2, transform="dense")
        self.S = fdm.S
        scale = self.std / matern_marginal_std(self.length, self.nu, D)
        self.amplitude = scale * fdm.lam_grid ** (-self.alpha / 2.0)
        self.shape = self.amplitude.shape  # the free (reduced) grid
        self.out_shape = tuple(s.ndofs for s in spaces)

    def apply(self, xi):
        """Samples from standard normal ``xi`` of shape ``(k,) + self.shape``."""
        U = xi * self.amplitude
        for d, (S, P) in enumerate(zip(self.S, self.P)):
            U = apply_axis(S if P is None else P @ S, U, d + 1)
        return U

    def variance(self):
        """Exact variance of the dof values, on the dof grid."""
        W = self.amplitude**2
        for d, (S, P) in enumerate(zip(self.S, self.P)):
            SP = S if P is None else P @ S
            W = apply_axis(SP * SP, W, d)
        return W


def matern_variance(V, length, smoothness=1.0, std=1.0, boundary="neumann"):
    """The exact variance of :func:`random_field`'s values at every dof, shape ``V.shape``.

    ``Σ_k (κ²+λ_k)^{−α} e_k(x)²`` scaled like the samples: one fast-diagonalization apply
    with the squared eigenvectors.  It shows the boundary inflation of natural conditions
    (about ``2 std²`` on a face) and tends to ``std²`` away from the boundary as the mesh
    resolves ``length``.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=200, order=1)
    >>> var = matern_variance(V, length=0.1, smoothness=1.5)
    >>> round(float(var[100]), 2), round(float(var[0]), 2)   # middle, end
    (1.0, 2.0)
    """
    return _MaternSampler(V, length, smoothness, std, boundary).variance()


def _generator(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise FemkronValueError(f"seed must be >= 0, got {seed}")
        return np.random.default_rng(seed)
    raise FemkronTypeError(
        f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}"
    )


def random_field(
    V,
    length,
    smoothness=1.0,
    std=1.0,
    seed=None,
    transform=None,
    samples=1,
    mean=0.0,
    boundary="neumann",
):
    """Samples of a Matérn Gaussian random field on the dofs of ``V`` (exact, SPDE route).

    Each sample costs one fast-diagonalization apply; see :mod:`femkron.fem.random_field`
    for the method and the boundary variance inflation.

    Parameters
    ----------
    V : TensorSpace or Space1D
        A Cartesian box, any orders and meshes (graded too).
    length : float
        Correlation length ``ρ = √(8ν)/κ``: the correlation is about 0.14 at that distance
        (:func:`matern_correlation`).  Resolve it by a few cells at least.
    smoothness : float
        ``ν > 0``: ``0.5`` exponential (rough), ``1`` the Whittle field, large: smooth.
    std : float
        Standard deviation of the field away from the boundary (before ``transform``).
    seed : int, numpy.random.Generator or None
        The same seed gives the same samples (and the first sample does not depend on
        ``samples``).
    transform : callable, optional
        Applied pointwise, e.g. ``np.exp`` for a log-normal coefficient ``κ = e^{mean+u}``.
    samples : int
        How many independent samples; drawn together.
    mean : float
        Added before ``transform``.
    boundary : {"neumann", "periodic"} or one per axis
        Conditions of the SPDE: ``"neumann"`` inflates the variance near the boundary,
        ``"periodic"`` does not (the field is periodic).

    Returns
    -------
    Field or list of Field
        ``samples=1``: one :class:`~femkron.Field` (``kind="nodal"``, ``.values`` on the
        dof grid, callable at points); else a list of them.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    >>> kappa = fk.random_field(V, length=0.3, std=0.5, seed=0, transform=np.exp)
    >>> bool(kappa.values.min() > 0), fk.poisson(V, 1.0, kappa=kappa).coefficient["path"]
    (True, 'matfree')
    >>> fields = fk.random_field(V, length=0.3, std=0.5, seed=0, samples=3, transform=np.exp)
    >>> len(fields), bool(np.array_equal(fields[0].data, kappa.data))
    (3, True)
    """
    samples = as_int(samples, "samples", minimum=1)
    mean = as_real(mean, "mean")
    if transform is not None and not callable(transform):
        raise FemkronTypeError(f"transform must be a callable such as np.exp, got {transform!r}")
    rng = _generator(seed)
    sampler = _MaternSampler(V, length, smoothness, std, boundary)
    n = int(np.prod(sampler.out_shape, dtype=np.int64))
    check_allocation(
        8 * 3 * n * samples,
        f"{samples} random field samples of {n} dofs",
        "draw fewer samples at a time",
    )
    batch = max(1, _BATCH_BYTES // (8 * n))
    out = []
    for start in range(0, samples, batch):
        k = min(batch, samples - start)
        xi = rng.standard_normal((k,) + sampler.shape)
        for j in range(k):  # one apply per sample: sample j is the same whatever `samples`
            values = sampler.apply(xi[j : j + 1])[0]
            out.append(Field.nodal(V, values + mean, transform=transform, name="random field"))
    return out[0] if samples == 1 else out
