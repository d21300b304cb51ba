"""Tensor-product spaces and their operators as Kronecker sums.

On a box, the finite element stiffness matrix of ``-∇·(κ∇u)`` with constant κ is
``κ (Kx⊗My + Mx⊗Ky)`` in 2D (``Kx⊗My⊗Mz + Mx⊗Ky⊗Mz + Mx⊗My⊗Kz`` in 3D): a 1D **mass**
matrix stands in every axis but the differentiated one.  (``K⊗I + I⊗K`` is a scaled finite
difference operator, not the finite element one.)

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(4, 3), order=2)
>>> V.shape, V.ndofs
((9, 7), 63)
>>> A = fk.stiffness(V)
>>> bool(np.allclose(A @ np.ones(V.ndofs), 0.0))
True
>>> round(float(fk.mass(V).tocsr().sum()), 12)   # the area of the box
2.0
"""

from __future__ import annotations

import numpy as np

from ._validate import as_int, as_real, as_vector, check_vectors, evaluate, is_number
from .errors import FemkronTypeError, FemkronValueError, check_allocation
from .kron import KronOperator, apply_axis
from .mesh import Mesh1D, TensorMesh
from .space import Space1D

__all__ = [
    "TensorSpace",
    "stiffness",
    "mass",
    "advection",
    "load_vector",
    "separable_expansion",
    "SeparableExpansion",
    "Anisotropic",
    "coefficient_quad",
    "sample_coefficient",
    "weighted_coefficients",
    "AXIS_NAMES",
]

AXIS_NAMES = ("x", "y", "z")


def _axis_label(d):
    return AXIS_NAMES[d] if d < len(AXIS_NAMES) else f"x{d}"


class TensorSpace:
    """The tensor product of 1D spaces: ``Q_p`` elements on a box.

    Parameters
    ----------
    spaces : sequence of Space1D
        One space per axis (any number of axes, orders may differ).

    Attributes
    ----------
    spaces : tuple of Space1D
    dim : int
    shape : tuple of int
        Dofs per axis.
    ndofs : int
    mesh : TensorMesh

    Examples
    --------
    >>> import femkron as fk
    >>> Vx = fk.Space1D(fk.Mesh1D.uniform(0, 1, 2), order=1)
    >>> Vy = fk.Space1D(fk.Mesh1D.uniform(0, 1, 1), order=3)
    >>> V = TensorSpace([Vx, Vy])
    >>> V.shape
    (3, 4)
    >>> X, Y = V.grid()
    >>> X.shape
    (3, 4)
    """

    def __init__(self, spaces):
        if isinstance(spaces, Space1D):
            spaces = [spaces]
        try:
            spaces = list(spaces)
        except TypeError:
            raise FemkronTypeError(
                f"spaces must be a sequence of Space1D, got {type(spaces).__name__}"
            ) from None
        if not spaces:
            raise FemkronValueError("spaces must hold at least one Space1D")
        for i, s in enumerate(spaces):
            if not isinstance(s, Space1D):
                raise FemkronTypeError(f"spaces[{i}] must be a Space1D, got {type(s).__name__}")
        self.spaces = tuple(spaces)
        self.dim = len(spaces)
        self.shape = tuple(s.ndofs for s in spaces)
        self.ndofs = int(np.prod(self.shape, dtype=np.int64))
        self.mesh = TensorMesh([s.mesh for s in spaces])

    @classmethod
    def box(cls, bounds, cells, order=1, nodes="gll"):
        """Uniform space on the box ``bounds = [(a0, b0), (a1, b1), ...]``.

        ``cells`` and ``order`` are an int (every axis) or one per axis.

        Examples
        --------
        >>> TensorSpace.box([(0, 1)] * 3, cells=2, order=(1, 2, 3)).shape
        (3, 5, 7)
        """
        try:
            bounds = [tuple(b) for b in bounds]
        except TypeError:
            raise FemkronTypeError("bounds must be a sequence of (a, b) pairs") from None
        if not bounds or any(len(b) != 2 for b in bounds):
            raise FemkronValueError(f"bounds must be a sequence of (a, b) pairs, got {bounds!r}")
        dim = len(bounds)
        cells = _per_axis(cells, dim, "cells")
        order = _per_axis(order, dim, "order")
        nodes = _per_axis_nodes(nodes, dim)
        spaces = [
            Space1D(Mesh1D.uniform(a, b, n), order=p, nodes=fam)
            for (a, b), n, p, fam in zip(bounds, cells, order, nodes)
        ]
        return cls(spaces)

    @classmethod
    def from_mesh(cls, mesh, order=1, nodes="gll"):
        """Space of a :class:`TensorMesh` (or one :class:`Mesh1D`)."""
        if isinstance(mesh, Mesh1D):
            mesh = TensorMesh([mesh])
        if not isinstance(mesh, TensorMesh):
            raise FemkronTypeError(
                f"mesh must be a TensorMesh or Mesh1D, got {type(mesh).__name__}"
            )
        order = _per_axis(order, mesh.dim, "order")
        nodes = _per_axis_nodes(nodes, mesh.dim)
        return cls([Space1D(m, p, f) for m, p, f in zip(mesh.meshes, order, nodes)])

    def __repr__(self):
        orders = ", ".join(str(s.order) for s in self.spaces)
        return f"TensorSpace(shape={self.shape}, orders=({orders}), bounds={self.bounds})"

    @property
    def orders(self):
        return tuple(s.order for s in self.spaces)

    @property
    def bounds(self):
        return self.mesh.bounds

    @property
    def volume(self):
        return self.mesh.volume

    @property
    def coords(self):
        """The 1D dof coordinates of each axis."""
        return tuple(s.x for s in self.spaces)

    def grid(self, sparse=False):
        """Dof coordinates as arrays of shape :attr:`shape` (``indexing="ij"``)."""
        if not sparse:
            check_vectors(self.ndofs, self.dim, f"the dof grid of {self.ndofs} dofs")
        return tuple(np.meshgrid(*self.coords, indexing="ij", sparse=sparse))

    def interpolate(self, f):
        """Values of ``f(x, y, ...)`` at the dofs, shape :attr:`shape`."""
        check_vectors(self.ndofs, 2, f"f at {self.ndofs} dofs")
        return np.array(evaluate(f, "f", self.grid(sparse=True), self.shape))

    def eval_matrices(self, points, derivative=None):
        """Per-axis evaluation matrices at the tensor grid ``points`` (one 1D array per axis)."""
        if len(points) != self.dim:
            raise FemkronValueError(f"points must give one 1D array per axis ({self.dim})")
        derivative = derivative or (0,) * self.dim
        return [s.eval_matrix(p, k) for s, p, k in zip(self.spaces, points, derivative)]

    def evaluate(self, u, points):
        """Evaluate the dof vector ``u`` on the tensor grid of 1D ``points``."""
        u = as_vector(u, "u", self.ndofs).reshape(self.shape)
        E = self.eval_matrices(points)
        return KronOperator.kron(*E).apply_grid(u)


def _per_axis_nodes(nodes, dim):
    if isinstance(nodes, str):
        return [nodes] * dim
    if not isinstance(nodes, (tuple, list)) or len(nodes) != dim:
        raise FemkronValueError(
            f"nodes must be 'gll', 'equispaced' or a sequence of {dim} of them (one per axis), "
            f"got {nodes!r}"
        )
    return list(nodes)


def _per_axis(value, dim, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return [int(value)] * dim
    try:
        values = list(value)
    except TypeError:
        raise FemkronTypeError(
            f"{name} must be an int or one int per axis, got {value!r}"
        ) from None
    if len(values) != dim:
        raise FemkronValueError(
            f"{name} must be an int or {dim} ints (one per axis), got {value!r}"
        )
    return [as_int(v, f"{name}[{i}]", minimum=1) for i, v in enumerate(values)]


def _check_space(V):
    if not isinstance(V, TensorSpace):
        if isinstance(V, Space1D):
            return TensorSpace([V])
        raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")
    return V


# ---- coefficients -----------------------------------------------------------------------
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


def is_constant_coefficient(kappa):
    """True for ``None``, a number or an :class:`Anisotropic` of numbers."""
    if kappa is None or is_number(kappa):
        return True
    return isinstance(kappa, Anisotropic) and all(is_number(c) for c in kappa.components)


def is_kronecker_coefficient(kappa):
    """True when ``kappa`` keeps the stiffness one exact Kronecker sum (a constant, an
    :class:`Anisotropic` of numbers, or a separable tuple of per-axis factors)."""
    return is_constant_coefficient(kappa) or isinstance(kappa, (tuple, list))


def coefficient_quad(V, quad=None):
    """Gauss points per cell and axis used for variable coefficients: ``p + 2`` by default
    (one number for every axis, or one per axis)."""
    V = _check_space(V)
    if quad is None:
        return tuple(s.order + 2 for s in V.spaces)
    if isinstance(quad, (tuple, list)):
        if len(quad) != V.dim:
            raise FemkronValueError(f"quad must be an int or {V.dim} ints, got {quad!r}")
        return tuple(as_int(q, f"quad[{d}]", minimum=1) for d, q in enumerate(quad))
    q = as_int(quad, "quad", minimum=1)
    return (q,) * V.dim


def quadrature_points(V, quad=None):
    """Per-axis Gauss points and weights (flat, cell by cell) of :func:`coefficient_quad`."""
    quad = coefficient_quad(V, quad)
    pts, wts = [], []
    for s, q in zip(V.spaces, quad):
        x, w = s.quadrature(q)
        pts.append(x.ravel())
        wts.append(w.ravel())
    return pts, wts, quad


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
    (6, 6)
    >>> try:
    ...     sample_coefficient(V, lambda x, y: x - 0.5)
    ... except ValueError as err:
    ...     print(str(err)[:40])
    kappa must be > 0 at every quadrature po
    """
    V = _check_space(V)
    pts, _, quad = quadrature_points(V, quad)
    shape = tuple(p.size for p in pts)
    check_allocation(
        8 * int(np.prod(shape, dtype=np.int64)),
        f"sampling {name} on the {'×'.join(map(str, shape))} quadrature grid",
        "use a coarser mesh, fewer quadrature points, or a constant/separable coefficient",
    )
    if isinstance(coef, (tuple, list)):
        if len(coef) != V.dim:
            raise FemkronValueError(
                f"{name} given per axis must have {V.dim} entries, got {len(coef)}"
            )
        values = np.ones(shape)
        for d, c in enumerate(coef):
            sh = [1] * V.dim
            sh[d] = -1
            if c is not None:
                values = values * evaluate(c, f"{name}[{d}]", (pts[d],)).reshape(sh)
    elif is_number(coef) or callable(coef):
        grids = np.meshgrid(*pts, indexing="ij", sparse=True)
        values = np.array(evaluate(coef, name, grids, shape), dtype=float)
    else:
        raise FemkronTypeError(
            f"{name} must be a number, a callable {name}(x, y, ...) or a tuple of per-axis "
            f"callables, got {type(coef).__name__}"
        )
    _check_sign(values, name, sign, pts)
    return values


def _check_sign(values, name, sign, pts):
    if sign is None:
        return
    bad = values <= 0 if sign == "positive" else values < 0
    if np.any(bad):
        where = np.unravel_index(int(np.argmin(values)), values.shape)
        at = ", ".join(f"{_axis_label(d)}={pts[d][i]:.4g}" for d, i in enumerate(where))
        rule = "> 0" if sign == "positive" else ">= 0"
        raise FemkronValueError(
            f"{name} must be {rule} at every quadrature point; got {float(values.min()):.4g} "
            f"at ({at}) ({int(np.count_nonzero(bad))} of {values.size} points violate it)"
        )


def coefficient_components(V, kappa, quad=None, name="kappa"):
    """Per-axis diffusion components on the Gauss grid: a list of ``V.dim`` arrays.

    A scalar κ gives the same array for every axis; an :class:`Anisotropic` one array per
    component.  Every value is checked to be positive and finite.
    """
    V = _check_space(V)
    if isinstance(kappa, Anisotropic):
        if len(kappa) != V.dim:
            raise FemkronValueError(
                f"{name} = {kappa!r} has {len(kappa)} components; this {V.dim}D space needs {V.dim}"
            )
        return [
            sample_coefficient(V, c, f"{name} component {d}", quad)
            for d, c in enumerate(kappa.components)
        ]
    values = sample_coefficient(V, 1.0 if kappa is None else kappa, name, quad)
    return [values] * V.dim


def weighted_coefficients(V, kappa=1.0, sigma=0.0, quad=None):
    """Coefficients times quadrature weights and Jacobians at the Gauss points.

    With reference basis tables ``B`` (values) and ``D`` (``d/dξ``) per axis, the operator
    ``∫ κ∇u·∇v + σ u v`` is ``Σ_d (⊗B..D_d..B)ᵀ diag(c_d) (⊗B..D_d..B) + (⊗B)ᵀ diag(c_σ) (⊗B)``.
    Returns ``(c, c_sigma, quad)`` with ``c`` a list of ``V.dim`` arrays on the Gauss grid
    and ``c_sigma`` an array or ``None`` (no reaction).  ``sigma`` must be ``>= 0``.
    """
    V = _check_space(V)
    quad = coefficient_quad(V, quad)
    comps = coefficient_components(V, kappa, quad)
    jac, wphys = [], []
    for s, q in zip(V.spaces, quad):
        _, w = s.quadrature(q)  # physical weights = reference weights * h/2
        jac.append(np.repeat(0.5 * s.mesh.h, q))
        wphys.append(w.ravel())
    shape = comps[0].shape

    def outer(vectors):
        out = np.ones(shape)
        for d, v in enumerate(vectors):
            sh = [1] * V.dim
            sh[d] = -1
            out = out * v.reshape(sh)
        return out

    W = outer(wphys)
    cache = {}
    c = []
    for d in range(V.dim):
        key = id(comps[d])
        base = cache.get(key)
        if base is None:
            base = cache[key] = comps[d] * W
        sh = [1] * V.dim
        sh[d] = -1
        c.append(base / (jac[d] ** 2).reshape(sh))
    c_sigma = None
    if not (is_number(sigma) and float(sigma) == 0.0):
        c_sigma = sample_coefficient(V, sigma, "sigma", quad, sign="nonnegative") * W
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

    ``kappa(x, y[, z])`` is sampled on the tensor grid of Gauss points (``p + 2`` per cell by
    default, see :func:`coefficient_quad`) and compressed by a sequence of SVDs truncated at
    relative Frobenius tolerance ``tol``.  The result reports its ``rank`` and its relative
    max-norm ``error`` on that grid.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    >>> e = separable_expansion(V, lambda x, y: 1 + x * y)
    >>> e.rank, e.error < 1e-12
    (2, True)
    """
    V = _check_space(V)
    tol = as_real(tol, "tol", positive=True)
    max_rank = as_int(max_rank, "max_rank", minimum=1)
    quad = coefficient_quad(V, quad)
    values = sample_coefficient(V, kappa, name, quad, sign=sign)
    return _expand_values(V, values, tol, quad, max_rank)


def _expand_values(V, values, tol, quad, max_rank=64):
    shape = values.shape
    vmin = float(values.min())
    norm = np.linalg.norm(values)
    D = V.dim
    cores = []
    C = values
    r_prev = 1
    ranks = []
    delta = tol * norm / np.sqrt(max(D - 1, 1))
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
            cores[d][full[d], :, full[d + 1]].reshape(V.spaces[d].mesh.cells, quad[d])
            for d in range(D)
        ]
        terms.append((1.0, factors))
    approx = _evaluate_terms(terms, shape)
    err = float(np.max(np.abs(approx - values)) / max(np.max(np.abs(values)), 1e-300))
    return SeparableExpansion(terms, tuple(ranks), err, quad, vmin)


def _evaluate_terms(terms, shape):
    out = np.zeros(shape)
    for w, factors in terms:
        part = w
        for d, g in enumerate(factors):
            sh = [1] * len(shape)
            sh[d] = -1
            part = part * g.reshape(sh)
        out += part
    return out


def _coefficient_terms(V, coef, name, positive, tol=1e-12, quad=None, expansions=None):
    """Split a coefficient into separable terms: list of (weight, per-axis 1D coefs)."""
    D = V.dim
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
                values = (
                    V.spaces[d].quadrature(2 * V.spaces[d].order + 2)[0] if callable(c) else None
                )
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


# ---- operators --------------------------------------------------------------------------
def stiffness(V, kappa=None, tol=1e-12, quad=None, expansions=None):
    """Stiffness operator of ``-∇·(κ∇u)`` as a :class:`KronOperator`.

    Parameters
    ----------
    V : TensorSpace
    kappa : None, number, tuple, callable or Anisotropic
        ``None``/number: constant; a tuple ``(a, b[, c])`` of per-axis callables or numbers:
        the separable ``κ = a(x) b(y) c(z)``, which stays one Kronecker sum
        ``K[a]⊗M[b] + M[a]⊗K[b]``; a callable ``κ(x, y, ...)``: expanded into separable terms
        by :func:`separable_expansion` (exact up to ``tol``); :class:`Anisotropic`
        ``(κ_x, κ_y, ...)``: the diagonal tensor, one expansion per component (axis ``d`` only
        takes terms with ``K`` in axis ``d``).
    tol : float
        Truncation tolerance of the expansions.
    quad : int, optional
        Gauss points per cell of the expansions (default ``p + 2``).
    expansions : list, optional
        When given, the :class:`SeparableExpansion` objects made are appended to it (to read
        their ``rank`` and ``error``).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    >>> len(stiffness(V).terms), len(stiffness(V, kappa=(lambda x: 1 + x, 2.0)).terms)
    (2, 2)
    >>> made = []
    >>> A = stiffness(V, lambda x, y: 1 + x * y, expansions=made)
    >>> len(A.terms), made[0].rank
    (4, 2)
    """
    V = _check_space(V)
    terms = []
    if isinstance(kappa, Anisotropic):
        if len(kappa) != V.dim:
            raise FemkronValueError(
                f"kappa = {kappa!r} has {len(kappa)} components; this {V.dim}D space needs {V.dim}"
            )
        for d, comp in enumerate(kappa.components):
            name = f"kappa component {d}"
            for w, coefs in _coefficient_terms(V, comp, name, True, tol, quad, expansions):
                factors = tuple(
                    s.stiffness(c) if e == d else s.mass(c)
                    for e, (s, c) in enumerate(zip(V.spaces, coefs))
                )
                terms.append((w, factors))
        return KronOperator(terms)
    for w, coefs in _coefficient_terms(V, kappa, "kappa", True, tol, quad, expansions):
        Ms = [s.mass(c) for s, c in zip(V.spaces, coefs)]
        Ks = [s.stiffness(c) for s, c in zip(V.spaces, coefs)]
        for d in range(V.dim):
            terms.append((w, tuple(Ks[e] if e == d else Ms[e] for e in range(V.dim))))
    return KronOperator(terms)


def mass(V, coef=None, tol=1e-12, quad=None, expansions=None):
    """Mass operator ``∫ c u v`` as a :class:`KronOperator` (``coef`` as in :func:`stiffness`,
    but may be zero or negative; ``tol``, ``quad`` and ``expansions`` too)."""
    V = _check_space(V)
    terms = []
    for w, coefs in _coefficient_terms(V, coef, "coef", False, tol, quad, expansions):
        terms.append((w, tuple(s.mass(c) for s, c in zip(V.spaces, coefs))))
    return KronOperator(terms)


def advection(V, velocity):
    """Advection operator ``∫ (b·∇u) v`` for a constant velocity ``b`` (one number per axis).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    >>> C = advection(V, (1.0, 0.0))
    >>> bool(abs((C @ V.interpolate(lambda x, y: x)).sum() - 1.0) < 1e-12)
    True
    """
    V = _check_space(V)
    try:
        b = np.asarray(velocity, dtype=float).ravel()
    except (TypeError, ValueError):
        raise FemkronTypeError(f"velocity must be {V.dim} numbers, got {velocity!r}") from None
    if b.size != V.dim:
        raise FemkronValueError(
            f"velocity must have {V.dim} components (one per axis), got {b.size}"
        )
    if not np.all(np.isfinite(b)):
        raise FemkronValueError("velocity must be finite")
    Ms = [s.mass() for s in V.spaces]
    Cs = [s.advection() for s in V.spaces]
    terms = [
        (float(b[d]), tuple(Cs[e] if e == d else Ms[e] for e in range(V.dim)))
        for d in range(V.dim)
        if b[d] != 0.0
    ]
    if not terms:
        terms = [(0.0, tuple(Ms))]
    return KronOperator(terms)


def load_vector(V, f, quad=None, chunk_bytes=2**27):
    """Load vector ``b_i = ∫ f φ_i`` over the box, flat of length ``V.ndofs``.

    ``f(x, y, ...)`` is called with broadcastable coordinate arrays (one per axis) of Gauss
    points; a number or a tuple of per-axis callables (separable ``f = f0(x) f1(y)``) is also
    accepted.  The quadrature is applied by sum factorisation, in slabs along the first axis
    so memory stays O(ndofs).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(3, 2), order=2)
    >>> b = load_vector(V, lambda x, y: x + y)
    >>> round(float(b.sum()), 12)   # ∫ (x + y) over [0,1]×[0,2]
    3.0
    """
    V = _check_space(V)
    if isinstance(f, (tuple, list)):
        if len(f) != V.dim:
            raise FemkronValueError(f"f given per axis must have {V.dim} entries, got {len(f)}")
        vecs = [s.load(g, quad) for s, g in zip(V.spaces, f)]
        out = vecs[0]
        for v in vecs[1:]:
            out = np.multiply.outer(out, v)
        return out.reshape(-1)
    q = [s.order + 1 if quad is None else as_int(quad, "quad", minimum=1) for s in V.spaces]
    pts, Bt = [], []
    for s, qd in zip(V.spaces, q):
        xq, wq = s.quadrature(qd)
        pts.append(xq.ravel())
        Bt.append((s.basis_at_quadrature(qd).multiply(wq.reshape(-1, 1))).T.tocsr())
    if is_number(f):
        evaluate(f, "f", (0.0,))
    elif not callable(f):
        raise FemkronTypeError(
            f"f must be a number, a callable f(x, y, ...) or a tuple of per-axis callables, "
            f"got {type(f).__name__}"
        )
    rest = int(np.prod([p.size for p in pts[1:]], dtype=np.int64))
    cells0 = V.spaces[0].mesh.cells
    per_cell = q[0] * rest * 8
    step = max(1, int(chunk_bytes // max(per_cell, 1)))
    check_vectors(V.ndofs, 2, f"a load vector of {V.ndofs} dofs")
    out = np.zeros(V.shape)
    tail = [p.reshape([1] * (d + 1) + [-1] + [1] * (V.dim - d - 2)) for d, p in enumerate(pts[1:])]
    for start in range(0, cells0, step):
        stop = min(cells0, start + step)
        sl = slice(start * q[0], stop * q[0])
        x0 = pts[0][sl].reshape([-1] + [1] * (V.dim - 1))
        shape = (x0.shape[0],) + tuple(p.size for p in pts[1:])
        F = evaluate(f, "f", (x0, *tail), shape)
        G = np.ascontiguousarray(F)
        for d in range(V.dim - 1, 0, -1):
            G = apply_axis(Bt[d], G, d)
        out += apply_axis(Bt[0][:, sl].tocsr(), G, 0)
    return out.reshape(-1)
