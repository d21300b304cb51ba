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

from .._validate import as_int, as_vector, check_vectors, evaluate, is_number
from ..errors import FemkronTypeError, FemkronValueError
from ..kron.operator import KronOperator, apply_axis
from .coefficients import (  # the coefficient handling; re-exported from here
    AXIS_NAMES,
    Anisotropic,
    SeparableExpansion,
    check_components,
    coefficient_components,  # noqa: F401 (re-exported)
    coefficient_quad,
    coefficient_terms,
    is_constant_coefficient,  # noqa: F401 (re-exported)
    is_kronecker_coefficient,  # noqa: F401 (re-exported)
    outer_product,
    quadrature_points,  # noqa: F401 (re-exported)
    sample_coefficient,
    separable_expansion,
    weighted_coefficients,
)
from .coordinates import coordinates as _coordinates
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
    "as_tensor_space",
]


class TensorSpace:
    """The tensor product of 1D spaces: ``Q_p`` elements on a box.

    Parameters
    ----------
    spaces : sequence of Space1D
        One space per axis (any number of axes, orders may differ).
    coordinates : {"cartesian", "polar", "axisymmetric", "cylindrical", "spherical"}
        The coordinates of the axes (:mod:`femkron.fem.coordinates`): operators, loads and
        norms carry the metric weights, callables take the space's own coordinates, faces
        are named by coordinate (see :attr:`faces`), full turns are periodic and the ends
        where the coordinates degenerate are poles (:mod:`femkron.fem.curvilinear`).

    Attributes
    ----------
    spaces : tuple of Space1D
    dim : int
    shape : tuple of int
        Dofs per axis.
    ndofs : int
    mesh : TensorMesh
    coordinates : Coordinates
    faces : tuple of str
        The names of the boundary faces that take conditions.
    periodic_axes : tuple of int
        Angle axes over a full turn (periodic by themselves).
    poles : tuple
        ``(axis, side, angular axes)`` of each end where the coordinates degenerate.

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

    def __init__(self, spaces, coordinates="cartesian"):
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
        self.coordinates = _coordinates(coordinates, self.dim)
        self._weighted = {}
        if self.coordinates.curvilinear:
            from .curvilinear import check_curvilinear

            self.periodic_axes, self.poles, self.faces = check_curvilinear(self)
        else:
            self.periodic_axes, self.poles = (), ()
            self.faces = tuple(self.coordinates.faces)

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
    def disk(cls, radius=1.0, cells=(16, 32), order=1, nodes="gll"):
        """Polar space on the disk ``r <= radius`` (θ periodic; faces: ``"outer"``).

        ``cells = (n_r, n_θ)``; the centre is the pole (see :mod:`femkron.fem.curvilinear`).

        Examples
        --------
        >>> D = TensorSpace.disk(radius=2.0, cells=(4, 8), order=2)
        >>> D.coordinates.name, D.shape, D.faces, round(D.volume / np.pi, 12)
        ('polar', (9, 17), ('outer',), 4.0)
        """
        from .curvilinear import polar_spaces

        return cls(polar_spaces(0.0, radius, None, cells, order, nodes, "radius"), "polar")

    @classmethod
    def annulus(cls, inner, outer, cells=(16, 32), order=1, nodes="gll"):
        """Polar space on ``inner <= r <= outer`` (θ periodic; faces ``"inner"``, ``"outer"``).

        Examples
        --------
        >>> A = TensorSpace.annulus(0.5, 1.0, cells=(4, 8), order=1)
        >>> A.faces, round(A.volume / np.pi, 12)
        (('inner', 'outer'), 0.75)
        """
        from .curvilinear import polar_spaces

        return cls(polar_spaces(inner, outer, None, cells, order, nodes, "inner"), "polar")

    @classmethod
    def sector(cls, inner, outer, angle, cells=(16, 16), order=1, nodes="gll"):
        """Polar space on ``inner <= r <= outer``, ``angle[0] <= θ <= angle[1]``.

        ``inner = 0`` puts the pole at the tip.  Faces ``"inner"`` (when ``inner > 0``),
        ``"outer"``, ``"start"`` (θ = angle[0]) and ``"end"``.

        Examples
        --------
        >>> S = TensorSpace.sector(0.5, 1.0, angle=(0.0, np.pi / 2), cells=(2, 4), order=2)
        >>> S.faces
        ('inner', 'outer', 'start', 'end')
        """
        from .curvilinear import polar_spaces

        return cls(polar_spaces(inner, outer, angle, cells, order, nodes, "inner"), "polar")

    @classmethod
    def cylinder(cls, radius=1.0, height=1.0, cells=(8, 16, 8), order=1, nodes="gll", inner=0.0):
        """Cylindrical space ``(r, θ, z)`` on ``inner <= r <= radius``, ``0 <= z <= height``.

        Faces ``"outer"``, ``"bottom"``, ``"top"`` (and ``"inner"`` for a pipe wall,
        ``inner > 0``); θ is periodic, the axis ``r = 0`` a pole.

        Examples
        --------
        >>> C = TensorSpace.cylinder(radius=1.0, height=2.0, cells=(2, 4, 2), order=1)
        >>> C.shape, C.faces, round(C.volume / np.pi, 12)
        ((3, 5, 3), ('outer', 'bottom', 'top'), 2.0)
        """
        from .curvilinear import cylinder_spaces

        return cls(cylinder_spaces(inner, radius, height, cells, order, nodes), "cylindrical")

    @classmethod
    def spherical_shell(cls, inner, outer, cells=(4, 8, 16), order=1, nodes="gll"):
        """Spherical space ``(r, θ, φ)`` on ``inner <= r <= outer``: faces "inner", "outer".

        θ ∈ [0, π] is the polar angle (its ends are poles), φ ∈ [0, 2π) the periodic azimuth.
        The ball (``inner = 0``) is not supported.

        Examples
        --------
        >>> H = TensorSpace.spherical_shell(0.5, 1.0, cells=(2, 4, 8), order=1)
        >>> H.faces, round(H.volume / (4 * np.pi / 3 * (1 - 0.125)), 12)
        (('inner', 'outer'), 1.0)
        """
        from .curvilinear import spherical_spaces

        return cls(spherical_spaces(inner, outer, cells, order, nodes), "spherical")

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
        """The polynomial order of each axis."""
        return tuple(s.order for s in self.spaces)

    @property
    def bounds(self):
        """The interval ``(a, b)`` of each axis (the mesh's)."""
        return self.mesh.bounds

    @property
    def volume(self):
        """Volume of the domain: of the box, or ``∫ J dq`` in curvilinear coordinates."""
        if self.coordinates.curvilinear:
            from .curvilinear import physical_volume

            return physical_volume(self)
        return self.mesh.volume

    def to_cartesian(self, *q):
        """Cartesian coordinates of points given in the space's own coordinates.

        Examples
        --------
        >>> import femkron as fk
        >>> D = fk.TensorSpace.disk(radius=1.0, cells=(2, 4), order=1)
        >>> X, Y = D.to_cartesian(*D.grid())
        >>> float(abs(X + 1j * Y).max())
        1.0
        """
        return self.coordinates.to_cartesian(*q)

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


def as_tensor_space(V):
    """``V`` as a :class:`TensorSpace`.

    ``V`` itself when it is a :class:`TensorSpace`; a :class:`Space1D` as the 1D tensor space;
    anything else is a :class:`TypeError` naming ``V``.

    Examples
    --------
    >>> import femkron as fk
    >>> as_tensor_space(fk.Space1D(fk.Mesh1D.uniform(0, 1, 4), order=2)).shape
    (9,)
    """
    if not isinstance(V, TensorSpace):
        if isinstance(V, Space1D):
            return TensorSpace([V])
        raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")
    return V


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
        Gauss points per cell of the expansions (default ``p + 1``).
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
    V = as_tensor_space(V)
    if V.coordinates.curvilinear:  # weighted 1D matrices (fem/curvilinear.py)
        from .curvilinear import curvilinear_terms

        terms, roles = curvilinear_terms(V, kappa, "stiffness")
        return KronOperator.kron_sum(terms, roles)
    terms, roles = [], []
    if isinstance(kappa, Anisotropic):
        for d, comp in enumerate(check_components(kappa, V.dim)):
            name = f"kappa component {d}"
            for w, coefs in coefficient_terms(V, comp, name, True, tol, quad, expansions):
                factors = tuple(
                    s.stiffness(c) if e == d else s.mass(c)
                    for e, (s, c) in enumerate(zip(V.spaces, coefs))
                )
                terms.append((w, factors))
                roles.append(d)
        masses = [s.mass() for s in V.spaces] if V.dim == 1 else None
        return KronOperator.kron_sum(terms, roles, masses)
    for w, coefs in coefficient_terms(V, kappa, "kappa", True, tol, quad, expansions):
        Ms = [s.mass(c) for s, c in zip(V.spaces, coefs)]
        Ks = [s.stiffness(c) for s, c in zip(V.spaces, coefs)]
        for d in range(V.dim):
            terms.append((w, tuple(Ks[e] if e == d else Ms[e] for e in range(V.dim))))
            roles.append(d)
    masses = [V.spaces[0].mass()] if V.dim == 1 else None  # a 1D term holds no mass
    return KronOperator.kron_sum(terms, roles, masses)


def mass(V, coef=None, tol=1e-12, quad=None, expansions=None):
    """Mass operator ``∫ c u v`` as a :class:`KronOperator`.

    ``coef`` as in :func:`stiffness`, but may be zero or negative; ``tol``, ``quad`` and
    ``expansions`` too.
    """
    V = as_tensor_space(V)
    if V.coordinates.curvilinear:  # ∫ c u v J dq, c constant or separable
        from .curvilinear import curvilinear_terms

        if is_number(coef) and float(coef) == 0.0:
            raise FemkronValueError("coef of a curvilinear mass must be nonzero")
        terms, roles = curvilinear_terms(V, coef, "mass")
        return KronOperator.kron_sum(terms, roles)
    terms = []
    for w, coefs in coefficient_terms(V, coef, "coef", False, tol, quad, expansions):
        terms.append((w, tuple(s.mass(c) for s, c in zip(V.spaces, coefs))))
    return KronOperator.kron_sum(terms, [None] * len(terms))


def advection(V, velocity):
    """Advection operator ``∫ (b·∇u) v`` for a constant velocity ``b`` (one number per axis).

    In curvilinear coordinates ``b`` holds the constant coordinate rates ``dq_d/dt``
    (polar ``(0, ω)``: the rigid rotation ``ω r θ̂``; ``(c, 0)``: radial speed ``c``), so that
    ``b·∇u = Σ_d b_d ∂_d u`` and the operator stays a Kronecker sum with the metric ``J``.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    >>> C = advection(V, (1.0, 0.0))
    >>> bool(abs((C @ V.interpolate(lambda x, y: x)).sum() - 1.0) < 1e-12)
    True
    """
    V = as_tensor_space(V)
    if callable(velocity):
        raise FemkronTypeError(
            f"velocity must be {V.dim} numbers (constant), got a callable "
            f"{getattr(velocity, '__name__', 'velocity')}"
        )
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
    if V.coordinates.curvilinear:  # constant coordinate rates dq_d/dt (fem/curvilinear_general)
        from .curvilinear_general import curvilinear_advection

        return curvilinear_advection(V, b)
    Ms = [s.mass() for s in V.spaces]
    Cs = [s.advection() for s in V.spaces]
    axes = [d for d in range(V.dim) if b[d] != 0.0]
    terms = [(float(b[d]), tuple(Cs[e] if e == d else Ms[e] for e in range(V.dim))) for d in axes]
    if not terms:
        terms, axes = [(0.0, tuple(Ms))], [None]
    return KronOperator.kron_sum(terms, axes, Ms)


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
    V = as_tensor_space(V)
    if V.coordinates.curvilinear:  # ∫ f φ_i J dq
        from .curvilinear import metric_load

        f = metric_load(V, f)
        if quad is None:  # the metric raises the degree (and sin θ is no polynomial)
            quad = max(V.orders) + 4
    if isinstance(f, (tuple, list)):
        if len(f) != V.dim:
            raise FemkronValueError(f"f given per axis must have {V.dim} entries, got {len(f)}")
        return outer_product([s.load(g, quad) for s, g in zip(V.spaces, f)]).reshape(-1)
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
