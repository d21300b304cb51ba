"""Coefficients of the operators: checks, sampling on the Gauss grid, separable expansions.

A coefficient is a number, a tuple of per-axis factors (the separable ``κ = a(x)·b(y)``), a
callable ``κ(x, y, ...)`` of all coordinates, or an :class:`Anisotropic` diagonal tensor.
This module turns one into what an operator needs: values on the tensor grid of Gauss points
(checked for sign and NaN), those values times the quadrature weights and Jacobians, or a
short sum of separable terms (:func:`separable_expansion`, a truncated tensor train) that keeps
the stiffness a Kronecker sum.

It needs only the 1D spaces of each axis: every function takes a tensor space (anything with
a ``spaces`` tuple of :class:`~femkron.Space1D`) or one :class:`~femkron.Space1D`.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> coefficient_quad(V)
(2, 2)
>>> sample_coefficient(V, lambda x, y: 1 + x * y).shape   # 4 cells × 2 points per axis
(8, 8)
>>> separable_expansion(V, lambda x, y: 1 + x * y).rank
2
"""

from __future__ import annotations

import numpy as np

from .._limits import check_allocation
from .._validate import as_int, as_real, evaluate, is_number
from ..errors import FemkronTypeError, FemkronValueError
from .space import Space1D

__all__ = [
    "Anisotropic",
    "SeparableExpansion",
    "separable_expansion",
    "coefficient_quad",
    "sample_coefficient",
    "weighted_coefficients",
    "AXIS_NAMES",
]

AXIS_NAMES = ("x", "y", "z")


def axis_label(d):
    """Name of axis ``d``: ``x``, ``y``, ``z``, then ``x3``, ``x4``, ..."""
    return AXIS_NAMES[d] if d < len(AXIS_NAMES) else f"x{d}"


def axis_spaces(V):
    """The per-axis :class:`~femkron.Space1D` of a tensor space (a Space1D is one axis)."""
    if isinstance(V, Space1D):
        return (V,)
    spaces = getattr(V, "spaces", None)
    if isinstance(spaces, tuple) and spaces and all(isinstance(s, Space1D) for s in spaces):
        return spaces
    raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")


def axis_shape(D, d):
    """Shape ``[1, .., -1, .., 1]`` that lays a 1D array along axis ``d`` of ``D``."""
    sh = [1] * D
    sh[d] = -1
    return sh


def outer_product(vectors):
    """``v_0 ⊗ v_1 ⊗ ...`` as an array of shape ``(len(v_0), len(v_1), ...)``."""
    out = np.ones(())
    for v in vectors:
        out = np.multiply.outer(out, v)
    return out


class Anisotropic:
    """A diagonal anisotropic coefficient ``κ = diag(κ_x, κ_y[, κ_z])``.

    ``-∇·(κ∇u)`` becomes ``-Σ_d ∂_d(κ_d ∂_d u)``.  Each component is a positive number or a
    callable of *all* coordinates, ``κ_d(x, y, ...)``.  (A plain tuple ``kappa=(a, b)`` means
    something else: the *separable scalar* coefficient ``κ = a(x)·b(y)``.)

    Parameters
    ----------
    *components : number or callable
        One per axis.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    >>> kappa = fk.Anisotropic(2.0, lambda x, y: 1 + x * y)
    >>> kappa
    Anisotropic(2.0, <lambda>)
    >>> fk.stiffness(V, kappa).shape
    (9, 9)
    """

    def __init__(self, *components):
        if len(components) == 1 and isinstance(components[0], (tuple, list)):
            components = tuple(components[0])
        if not components:
            raise FemkronValueError("Anisotropic needs one component per axis, got none")
        for d, c in enumerate(components):
            if is_number(c):
                as_real(c, f"kappa component {d}", positive=True)
            elif not callable(c):
                raise FemkronTypeError(
                    f"kappa component {d} must be a positive number or a callable "
                    f"κ_{d}(x, y, ...), got {c!r}"
                )
        self.components = tuple(float(c) if is_number(c) else c for c in components)

    def __len__(self):
        return len(self.components)

    def __repr__(self):
        parts = [
            repr(c) if is_number(c) else getattr(c, "__name__", type(c).__name__)
            for c in self.components
        ]
        return f"Anisotropic({', '.join(parts)})"


def check_components(kappa, dim, name="kappa"):
    """The components of an :class:`Anisotropic` ``kappa``, checked to be ``dim`` of them."""
    if len(kappa) != dim:
        raise FemkronValueError(
            f"{name} = {kappa!r} has {len(kappa)} components; this {dim}D space needs {dim}"
        )
    return kappa.components


def is_constant_coefficient(kappa):
    """True for ``None``, a number or an :class:`Anisotropic` of numbers."""
    if kappa is None or is_number(kappa):
        return True
    return isinstance(kappa, Anisotropic) and all(is_number(c) for c in kappa.components)


def is_kronecker_coefficient(kappa):
    """True when ``kappa`` keeps the stiffness one exact Kronecker sum.

    Such a ``kappa`` is a constant, an :class:`Anisotropic` of numbers, a separable tuple of
    per-axis factors, or a callable that reports ``separable_rank == 1`` (a
    :class:`~femkron.Field` of rank one: its expansion is one exact term).
    """
    if is_constant_coefficient(kappa) or isinstance(kappa, (tuple, list)):
        return True
    return callable(kappa) and getattr(kappa, "separable_rank", None) == 1


# ---- sampling on the Gauss grid ----------------------------------------------------------
def coefficient_quad(V, quad=None):
    """Gauss points per cell and axis used for variable coefficients: ``p + 1`` by default.

    ``p + 1`` points integrate polynomials of degree ``2p + 1`` exactly: every element
    integral of a coefficient that is bilinear (or constant, e.g. a :class:`Field` of cell
    values) per axis, and for a smooth coefficient the quadrature error is below the
    discretisation error (optimal rates ``p + 1`` in L2 and ``p`` in H1; Ciarlet & Raviart).
    ``quad`` is one number for every axis, or one per axis.
    """
    spaces = axis_spaces(V)
    dim = len(spaces)
    if quad is None:
        return tuple(s.order + 1 for s in spaces)
    if isinstance(quad, (tuple, list)):
        if len(quad) != dim:
            raise FemkronValueError(f"quad must be an int or {dim} ints, got {quad!r}")
        return tuple(as_int(q, f"quad[{d}]", minimum=1) for d, q in enumerate(quad))
    q = as_int(quad, "quad", minimum=1)
    return (q,) * dim


def quadrature_points(V, quad=None):
    """Per-axis Gauss points and weights (flat, cell by cell) of :func:`coefficient_quad`."""
    quad = coefficient_quad(V, quad)
    pts, wts = [], []
    for s, q in zip(axis_spaces(V), quad):
        x, w = s.quadrature(q)
        pts.append(x.ravel())
        wts.append(w.ravel())
    return pts, wts, quad


def gauss_weights(V, quad):
    """Per-axis physical Gauss weights and Jacobians ``h/2`` (flat, cell by cell).

    For ``quad`` points per cell and axis; returns two lists of 1D arrays.
    """
    weights, jac = [], []
    for s, q in zip(axis_spaces(V), quad):
        _, w = s.quadrature(q)  # physical weights = reference weights * h/2
        weights.append(w.ravel())
        jac.append(np.repeat(0.5 * s.mesh.h, q))
    return weights, jac


def sample_coefficient(V, coef, name="kappa", quad=None, sign="positive"):
    """Values of a scalar coefficient on the tensor Gauss grid, shape ``(Q_0, Q_1, ...)``.

    ``coef`` is a number, a callable ``c(x, y, ...)`` or a tuple of per-axis factors.
    ``sign`` is ``"positive"`` (κ > 0), ``"nonnegative"`` (ρ ≥ 0) or ``None``; a violation or
    a NaN raises an error naming ``name``, the value and the point.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    >>> sample_coefficient(V, lambda x, y: 1 + x + y).shape
    (4, 4)
    >>> try:
    ...     sample_coefficient(V, lambda x, y: x - 0.5)
    ... except ValueError as err:
    ...     print(str(err)[:40])
    kappa must be > 0 at every quadrature po
    """
    dim = len(axis_spaces(V))
    pts, _, quad = quadrature_points(V, quad)
    shape = tuple(p.size for p in pts)
    check_allocation(
        8 * int(np.prod(shape, dtype=np.int64)),
        f"sampling {name} on the {'×'.join(map(str, shape))} quadrature grid",
        "use a coarser mesh, fewer quadrature points, or a constant/separable coefficient",
    )
    if isinstance(coef, (tuple, list)):
        if len(coef) != dim:
            raise FemkronValueError(
                f"{name} given per axis must have {dim} entries, got {len(coef)}"
            )
        values = np.ones(shape)
        for d, c in enumerate(coef):
            if c is not None:
                values = values * evaluate(c, f"{name}[{d}]", (pts[d],)).reshape(axis_shape(dim, d))
    elif is_number(coef) or callable(coef):
        grids = np.meshgrid(*pts, indexing="ij", sparse=True)
        values = np.array(evaluate(coef, name, grids, shape), dtype=float)
    else:
        raise FemkronTypeError(
            f"{name} must be a number, a callable {name}(x, y, ...) or a tuple of per-axis "
            f"callables, got {type(coef).__name__}"
        )
    _check_sign(values, name, sign, pts, getattr(getattr(V, "coordinates", None), "axes", None))
    return values


def _check_sign(values, name, sign, pts, axes=None):
    """Refuse values of the wrong sign, naming the point in the space's own coordinates."""
    if sign is None:
        return
    bad = values <= 0 if sign == "positive" else values < 0
    if np.any(bad):
        where = np.unravel_index(int(np.argmin(values)), values.shape)
        label = (lambda d: axes[d]) if axes is not None and len(axes) == len(where) else axis_label
        at = ", ".join(f"{label(d)}={pts[d][i]:.4g}" for d, i in enumerate(where))
        rule = "> 0" if sign == "positive" else ">= 0"
        raise FemkronValueError(
            f"{name} must be {rule} at every quadrature point; got {float(values.min()):.4g} "
            f"at ({at}) ({int(np.count_nonzero(bad))} of {values.size} points violate it)"
        )


def coefficient_components(V, kappa, quad=None, name="kappa"):
    """Per-axis diffusion components on the Gauss grid: a list of ``dim`` arrays.

    A scalar κ gives the same array for every axis; an :class:`Anisotropic` one array per
    component.  Every value is checked to be positive and finite.
    """
    dim = len(axis_spaces(V))
    if isinstance(kappa, Anisotropic):
        return [
            sample_coefficient(V, c, f"{name} component {d}", quad)
            for d, c in enumerate(check_components(kappa, dim, name))
        ]
    values = sample_coefficient(V, 1.0 if kappa is None else kappa, name, quad)
    return [values] * dim


def weight_components(components, W, jac):
    """``c_d = κ_d · W / J_d²`` per axis ``d``.

    The diffusion components on the Gauss grid times the tensor weights ``W`` and over the
    squared Jacobian of axis ``d`` (a component shared by several axes is multiplied by ``W``
    once).
    """
    D = len(components)
    # constant Jacobians (uniform axes): c_d = κ_d W / J_d² with a number J_d, and axes of
    # equal J_d share one array (a cube: one Gauss-grid array for every axis instead of D)
    scale = [float(j[0]) ** -2 if j.size and np.ptp(j) == 0 else None for j in jac]
    cache, out = {}, []
    for d in range(D):
        key = (id(components[d]), scale[d])
        if scale[d] is None or key not in cache:
            c = components[d] * W
            if scale[d] is None:
                c /= (jac[d] ** 2).reshape(axis_shape(D, d))
            else:
                c *= scale[d]
            if scale[d] is None:
                out.append(c)
                continue
            cache[key] = c
        out.append(cache[key])
    return out


def weighted_coefficients(V, kappa=1.0, sigma=0.0, quad=None):
    """Coefficients times quadrature weights and Jacobians at the Gauss points.

    With reference basis tables ``B`` (values) and ``D`` (``d/dξ``) per axis, the operator
    ``∫ κ∇u·∇v + σ u v`` is ``Σ_d (⊗B..D_d..B)ᵀ diag(c_d) (⊗B..D_d..B) + (⊗B)ᵀ diag(c_σ) (⊗B)``.
    Returns ``(c, c_sigma, quad)`` with ``c`` a list of ``dim`` arrays on the Gauss grid
    and ``c_sigma`` an array or ``None`` (no reaction).  ``sigma`` must be ``>= 0``.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 2), (0, 1)], cells=2, order=1)
    >>> c, c_sigma, quad = weighted_coefficients(V, kappa=1.0, sigma=3.0)
    >>> len(c), c[0].shape, quad
    (2, (4, 4), (2, 2))
    >>> round(float(c_sigma.sum()), 12)   # 3 × the area
    6.0
    """
    axis_spaces(V)
    quad = coefficient_quad(V, quad)
    comps = coefficient_components(V, kappa, quad)
    weights, jac = gauss_weights(V, quad)
    W = outer_product(weights)
    metric = getattr(getattr(V, "coordinates", None), "curvilinear", False)
    if metric:  # curvilinear: the weights J/h_d² and J (fem/curvilinear_general.py)
        from .curvilinear_general import metric_factors, with_metric

        stiff, mass = metric_factors(V, quad)
        comps = [with_metric(k, stiff[d]) for d, k in enumerate(comps)]
    c = weight_components(comps, W, jac)
    c_sigma = None
    if not (is_number(sigma) and float(sigma) == 0.0):
        c_sigma = sample_coefficient(V, sigma, "sigma", quad, sign="nonnegative") * W
        if metric:
            c_sigma = with_metric(c_sigma, mass)
    return c, c_sigma, quad


# ---- low-rank separable expansion --------------------------------------------------------
class SeparableExpansion:
    """``κ(x) ≈ Σ_r w_r Π_d g_rd(x_d)`` with the ``g_rd`` sampled at each axis's Gauss points.

    Attributes
    ----------
    terms : list of (float, list of ndarray)
        Weight and per-axis values, each of shape ``(cells_d, quad_d)``.
    rank : int
        Number of separable terms.
    ranks : tuple of int
        Tensor-train ranks between consecutive axes.
    error : float
        Relative max-norm error of the expansion on the quadrature grid.
    quad : tuple of int
        Gauss points per cell on each axis.
    min_value : float
        Smallest sampled value of the coefficient.
    """

    def __init__(self, terms, ranks, error, quad, vmin):
        self.terms = terms
        self.rank = len(terms)
        self.ranks = ranks
        self.error = error
        self.quad = quad
        self.min_value = vmin

    def __repr__(self):
        return f"<SeparableExpansion rank={self.rank} ranks={self.ranks} error={self.error:.2e}>"


def separable_expansion(V, kappa, tol=1e-12, quad=None, name="kappa", max_rank=64, sign="positive"):
    """Expand a general coefficient into separable terms by truncated SVDs (tensor train).

    ``kappa(x, y[, z])`` is sampled on the tensor grid of Gauss points (``p + 1`` per cell by
    default, see :func:`coefficient_quad`) and compressed by a sequence of SVDs truncated so
    that the max-norm error on that grid stays below ``tol`` relative to ``min |κ|`` (for a
    coefficient of one sign; else to ``max |κ|``): at a contrast ``max κ / min κ = 1e8`` the
    operator still changes by at most ``tol`` relative, in the energy norm.  The result
    reports its ``rank`` and that relative ``error``.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    >>> e = separable_expansion(V, lambda x, y: 1 + x * y)
    >>> e.rank, e.error < 1e-12
    (2, True)
    """
    spaces = axis_spaces(V)
    tol = as_real(tol, "tol", positive=True)
    max_rank = as_int(max_rank, "max_rank", minimum=1)
    quad = coefficient_quad(V, quad)
    values = sample_coefficient(V, kappa, name, quad, sign=sign)
    return _expand_values(spaces, values, tol, quad, max_rank)


def _expand_values(spaces, values, tol, quad, max_rank=64):
    shape = values.shape
    vmin = float(values.min())
    scale = _error_scale(values)
    D = len(spaces)
    cores = []
    C = values
    r_prev = 1
    ranks = []
    # the discarded singular values bound the max-norm error (max ≤ Frobenius): truncating
    # each of the D - 1 SVDs at tol·scale/√(D-1) keeps the error below tol·scale
    delta = tol * scale / np.sqrt(max(D - 1, 1))
    for d in range(D - 1):
        C = C.reshape(r_prev * shape[d], -1)
        U, s, Vt = np.linalg.svd(C, full_matrices=False)
        tail = np.sqrt(np.cumsum(s[::-1] ** 2))[::-1]  # tail[r] = ||s[r:]||
        r = int(np.count_nonzero(tail > delta)) or 1
        r = min(r, max_rank)
        cores.append(U[:, :r].reshape(r_prev, shape[d], r))
        C = s[:r, None] * Vt[:r]
        r_prev = r
        ranks.append(r)
    cores.append(C.reshape(r_prev, shape[-1], 1))
    # enumerate all index paths through the train
    terms = []
    idx = np.indices(tuple(ranks)).reshape(len(ranks), -1).T if ranks else np.zeros((1, 0), int)
    for path in idx:
        full = (0, *path, 0)
        factors = [
            cores[d][full[d], :, full[d + 1]].reshape(spaces[d].mesh.cells, quad[d])
            for d in range(D)
        ]
        # SVD signs are arbitrary: every factor but the last gets a positive sum and the last
        # takes the sign, so a positive rank-one coefficient has positive factors (SPD masses)
        for d in range(D - 1):
            if factors[d].sum() < 0:
                factors[d], factors[-1] = -factors[d], -factors[-1]
        terms.append((1.0, factors))
    approx = _evaluate_terms(terms, shape)
    err = float(np.max(np.abs(approx - values)) / scale)
    return SeparableExpansion(terms, tuple(ranks), err, quad, vmin)


def _error_scale(values):
    """What the expansion error is relative to.

    ``min |κ|`` for a coefficient of one sign (``max |κ - κ̃| / min κ`` bounds the relative
    change of the operator in the energy norm, whatever the contrast), else ``max |κ|``.
    """
    amax = float(np.max(np.abs(values))) if values.size else 0.0
    if values.size and (values.min() > 0 or values.max() < 0):
        return max(float(np.min(np.abs(values))), 1e-300 * max(amax, 1.0))
    return max(amax, 1e-300)


def _evaluate_terms(terms, shape):
    out = np.zeros(shape)
    for w, factors in terms:
        part = w
        for d, g in enumerate(factors):
            part = part * g.reshape(axis_shape(len(shape), d))
        out += part
    return out


def coefficient_terms(V, coef, name, positive, tol=1e-12, quad=None, expansions=None):
    """Split a coefficient into separable terms: a list of ``(weight, per-axis 1D coefs)``.

    ``None`` and numbers give one constant term, a tuple of per-axis factors one term (each
    factor checked ``> 0`` when ``positive``), a callable the terms of its
    :func:`separable_expansion` (appended to ``expansions`` when that is a list).
    """
    spaces = axis_spaces(V)
    D = len(spaces)
    if coef is None:
        return [(1.0, [None] * D)]
    if is_number(coef):
        c = as_real(coef, name, positive=positive)
        return [(c, [None] * D)]
    if isinstance(coef, Anisotropic):
        raise FemkronTypeError(
            f"{name} cannot be Anisotropic here (a diffusion tensor is only meaningful in "
            "stiffness); give a scalar coefficient"
        )
    if isinstance(coef, (tuple, list)):
        if len(coef) != D:
            raise FemkronValueError(
                f"{name} given per axis must have {D} entries (one callable or number per "
                f"axis), got {len(coef)}; for a diagonal anisotropic diffusion use "
                f"fk.Anisotropic(...)"
            )
        for d, c in enumerate(coef):
            if not (c is None or is_number(c) or callable(c)):
                raise FemkronTypeError(
                    f"{name}[{d}] must be a number or a callable of one coordinate, got {c!r}"
                )
            if positive:
                values = spaces[d].quadrature(2 * spaces[d].order + 2)[0] if callable(c) else None
                v = evaluate(c, f"{name}[{d}]", (values,)) if values is not None else c
                if v is not None and np.min(v) <= 0:
                    raise FemkronValueError(
                        f"{name}[{d}] must be > 0 everywhere, got min {float(np.min(v)):.3g}"
                    )
        return [(1.0, list(coef))]
    if callable(coef):
        exp = separable_expansion(
            V, coef, tol=tol, quad=quad, name=name, sign="positive" if positive else None
        )
        if expansions is not None:
            expansions.append(exp)
        return exp.terms
    raise FemkronTypeError(
        f"{name} must be None, a number, a tuple of per-axis callables or a callable "
        f"{name}(x, y, ...), got {type(coef).__name__}"
    )
