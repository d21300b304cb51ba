"""Tensor spaces in curvilinear coordinates: checks, weighted 1D matrices, poles.

The operators of a curvilinear :class:`~femkron.TensorSpace` are Kronecker sums of weighted
1D matrices (:mod:`femkron.fem.coordinates`).  Where the radius vanishes (the centre of a
disk, the axis of a cylinder) or the polar angle of spherical coordinates reaches 0 or π,
the tensor dofs on that end of the axis are **one physical point per line**: the conforming
space holds the functions that are constant along the angle there.  The space records each
such end as a *pole* ``(axis, side, angular axes)``; the boundary conditions collapse those
dofs (:class:`~femkron.kron.nested.PoleConstrainedOperator`), and the nested diagonalization
keeps the end dof only for the angular mode of eigenvalue 0 (the constant, built exactly).
The divergent entries ``∫ φ_0² / r`` (``∫ φ_0² / sin θ``) are never formed: the rows and
columns of the pole dof in the matrices of negative weight powers are zero, which is exact on
the conforming space (the angular derivative of a constant vanishes).

Examples
--------
>>> import femkron as fk
>>> D = fk.TensorSpace.disk(radius=1.0, cells=(4, 8), order=1)
>>> D.poles, D.periodic_axes
(((0, 0, (1,)),), (1,))
>>> A = weighted_matrix(D, 0, "M", -1)          # M_r[1/r]: the pole row is not formed
>>> float(abs(A[0]).sum())
0.0
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .._validate import as_int, as_real, is_number
from ..errors import FemkronTypeError, FemkronValueError
from .coordinates import ANGLE_RTOL
from .mesh import Mesh1D
from .space import Space1D

__all__ = [
    "check_curvilinear",
    "physical_volume",
    "polar_spaces",
    "cylinder_spaces",
    "spherical_spaces",
    "weighted_matrix",
    "curvilinear_terms",
    "metric_load",
    "MIN_ANGLE_CELLS",
]

#: Fewest cells of a full turn: fewer cannot resolve a circle (or the pole).
MIN_ANGLE_CELLS = 3

_TWO_PI = 2.0 * np.pi


def _is_full_turn(length):
    return abs(length - _TWO_PI) <= ANGLE_RTOL * _TWO_PI * 10


def _cells(cells, dim, names):
    if isinstance(cells, numbers.Integral) and not isinstance(cells, bool):
        cells = (cells,) * dim
    try:
        cells = tuple(cells)
    except TypeError:
        raise FemkronTypeError(
            f"cells must be an int or {dim} ints ({', '.join(names)}), got {cells!r}"
        ) from None
    if len(cells) != dim:
        raise FemkronValueError(
            f"cells must be an int or {dim} ints ({', '.join(names)}), got {cells!r}"
        )
    return tuple(as_int(c, f"cells[{i}] ({names[i]})", minimum=1) for i, c in enumerate(cells))


def _orders(order, dim):
    if isinstance(order, numbers.Integral) and not isinstance(order, bool):
        return (int(order),) * dim
    try:
        order = tuple(order)
    except TypeError:
        raise FemkronTypeError(f"order must be an int or {dim} ints, got {order!r}") from None
    if len(order) != dim:
        raise FemkronValueError(f"order must be an int or {dim} ints, got {order!r}")
    return order


def _nodes(nodes, dim):
    return (nodes,) * dim if isinstance(nodes, str) else tuple(nodes)


def _radii(inner, outer, inner_name):
    outer = as_real(outer, "outer" if inner_name == "inner" else "radius")
    if outer <= 0:
        name = "radius" if inner_name == "radius" else "outer"
        raise FemkronValueError(f"{name} must be > 0, got {outer}")
    inner = as_real(inner, "inner")
    if inner < 0:
        raise FemkronValueError(f"inner must be >= 0 (a radius), got {inner}")
    if inner >= outer:
        raise FemkronValueError(
            f"inner must be smaller than outer, got inner={inner}, outer={outer}"
        )
    return inner, outer


def _angle(angle):
    if angle is None:
        return 0.0, _TWO_PI
    try:
        a, b = angle
    except (TypeError, ValueError):
        raise FemkronTypeError(
            f"angle must be a pair (start, end) in radians, got {angle!r}"
        ) from None
    a, b = as_real(a, "angle[0]"), as_real(b, "angle[1]")
    if b <= a:
        raise FemkronValueError(
            f"angle must be increasing, (start, end) with start < end, got {angle!r}"
        )
    if b - a > _TWO_PI * (1 + ANGLE_RTOL):
        raise FemkronValueError(
            f"angle must span at most a full turn, end - start in (0, 2π], got {b - a!r}"
        )
    return a, b


def polar_spaces(inner, outer, angle, cells, order, nodes, inner_name):
    """The 1D spaces ``(V_r, V_θ)`` of a disk, annulus or sector (checked arguments)."""
    inner, outer = _radii(inner, outer, inner_name)
    a, b = _angle(angle)
    nr, nt = _cells(cells, 2, ("r", "theta"))
    pr, pt = _orders(order, 2)
    fr, ft = _nodes(nodes, 2)
    return [
        Space1D(Mesh1D.uniform(inner, outer, nr), pr, fr),
        Space1D(Mesh1D.uniform(a, b, nt), pt, ft),
    ]


def cylinder_spaces(inner, radius, height, cells, order, nodes):
    """The 1D spaces ``(V_r, V_θ, V_z)`` of a cylinder or pipe wall."""
    inner, radius = _radii(inner, radius, "radius")
    height = as_real(height, "height")
    if height <= 0:
        raise FemkronValueError(f"height must be > 0, got {height}")
    nr, nt, nz = _cells(cells, 3, ("r", "theta", "z"))
    pr, pt, pz = _orders(order, 3)
    fr, ft, fz = _nodes(nodes, 3)
    return [
        Space1D(Mesh1D.uniform(inner, radius, nr), pr, fr),
        Space1D(Mesh1D.uniform(0.0, _TWO_PI, nt), pt, ft),
        Space1D(Mesh1D.uniform(0.0, height, nz), pz, fz),
    ]


def spherical_spaces(inner, outer, cells, order, nodes):
    """The 1D spaces ``(V_r, V_θ, V_φ)`` of a spherical shell."""
    inner, outer = _radii(inner, outer, "inner")
    if inner == 0:
        raise FemkronValueError(
            "inner must be > 0: the ball (a pole at r = 0 for every direction) is not "
            "supported; use a small inner radius with a Neumann or Dirichlet condition"
        )
    nr, nt, nf = _cells(cells, 3, ("r", "theta", "phi"))
    pr, pt, pf = _orders(order, 3)
    fr, ft, ff = _nodes(nodes, 3)
    return [
        Space1D(Mesh1D.uniform(inner, outer, nr), pr, fr),
        Space1D(Mesh1D.uniform(0.0, np.pi, nt), pt, ft),
        Space1D(Mesh1D.uniform(0.0, _TWO_PI, nf), pf, ff),
    ]


def check_curvilinear(V):
    """Check the axes of a curvilinear space: ``(periodic_axes, poles, faces)``.

    ``poles`` holds ``(axis, side, angular axes)`` per end where the coordinates degenerate.
    """
    c = V.coordinates
    if V.dim != c.dim:
        raise FemkronValueError(
            f"coordinates={c.name!r} needs {c.dim} spaces ({', '.join(c.axes)}), got {V.dim}"
        )
    periodic, poles, closed = [], [], set()
    (ra, rb) = V.spaces[0].mesh.a, V.spaces[0].mesh.b
    if ra < 0:
        raise FemkronValueError(f"the radial axis must lie in r >= 0, got [{ra}, {rb}]")
    for d in c.angular:
        a, b = V.spaces[d].mesh.a, V.spaces[d].mesh.b
        if b - a > _TWO_PI * (1 + ANGLE_RTOL):
            raise FemkronValueError(
                f"axis {c.axes[d]!r} spans {b - a!r} radians; an angle spans at most 2π"
            )
        if _is_full_turn(b - a):
            cells = V.spaces[d].mesh.cells
            if cells < MIN_ANGLE_CELLS:
                raise FemkronValueError(
                    f"cells of axis {c.axes[d]!r} must be >= {MIN_ANGLE_CELLS} on a full "
                    f"turn (fewer cannot resolve the circle or its centre), got {cells}"
                )
            periodic.append(d)
            closed.add((d, 0))
            closed.add((d, 1))
    if c.name == "spherical":
        ta, tb = V.spaces[1].mesh.a, V.spaces[1].mesh.b
        if abs(ta) > ANGLE_RTOL or abs(tb - np.pi) > ANGLE_RTOL * np.pi:
            raise FemkronValueError(
                f"the polar angle theta of spherical coordinates must run over [0, π], got "
                f"[{ta}, {tb}]"
            )
        if 2 not in periodic:
            raise FemkronValueError("the azimuth phi of spherical coordinates must be a full turn")
        if ra == 0:
            raise FemkronValueError("spherical coordinates need r > 0 (the ball is not supported)")
        if V.spaces[1].mesh.cells < 2:
            raise FemkronValueError(
                "cells of axis 'theta' must be >= 2 (the poles must not share a cell)"
            )
        poles = [(1, 0, (2,)), (1, 1, (2,))]
        closed.update({(1, 0), (1, 1)})
    elif ra == 0:
        closed.add((0, 0))
        if c.angular:
            poles.append((0, 0, tuple(c.angular)))
    faces = tuple(name for name, where in c.faces.items() if where not in closed)
    return tuple(periodic), tuple(poles), faces


def physical_volume(V):
    """``∫ J dq`` over the coordinate box (exact for the polynomial weights)."""
    c = V.coordinates
    out = 1.0
    for e in range(V.dim):
        out *= float(weighted_matrix(V, e, "M", c.mass_powers[e]).sum())
    return out


def _singular_ends(V, e, power):
    """Dofs of axis ``e`` where a weight of negative ``power`` is infinite."""
    if power >= 0:
        return []
    s, kind = V.spaces[e], V.coordinates.kinds[e]
    ends = []
    if kind == "r" and s.mesh.a == 0:
        ends.append(0)
    if kind == "sin":
        if abs(s.mesh.a) <= ANGLE_RTOL:
            ends.append(0)
        if abs(s.mesh.b - np.pi) <= ANGLE_RTOL * np.pi:
            ends.append(s.ndofs - 1)
    return ends


def weighted_matrix(V, e, kind, power, coef=None):
    """The 1D matrix ``K[w]`` (``kind="K"``) or ``M[w]`` of axis ``e``, ``w`` the metric weight.

    ``w`` is ``r**power`` or ``sin(θ)**power`` (by the axis's kind), times ``coef`` (a
    number or a callable of the axis coordinate: a factor of a separable κ).  Without
    ``coef`` the matrix is made once per space (the same object in every operator, which
    the solvers use to recognise shared factors).  Rows and columns of the dofs where a
    negative power is infinite (poles) are zero: never formed.

    Examples
    --------
    >>> import femkron as fk
    >>> A = fk.TensorSpace.annulus(1.0, 2.0, cells=(4, 8), order=2)
    >>> round(float(weighted_matrix(A, 0, "M", 1).sum()), 12)   # ∫ r dr over [1, 2]
    1.5
    """
    key = (e, kind, power)
    if coef is None and key in V._weighted:
        return V._weighted[key]
    s = V.spaces[e]
    w = V.coordinates.weight(e, power)
    if coef is not None and not (is_number(coef) and float(coef) == 1.0):
        if is_number(coef):
            c = float(coef)
            f = (
                (lambda x, _c=c: np.full(np.shape(x), _c))
                if w is None
                else (lambda x, _w=w, _c=c: _c * _w(x))
            )
        else:
            f = coef if w is None else (lambda x, _w=w, _g=coef: _w(x) * _g(x))
    else:
        f = w
    smooth = V.coordinates.kinds[e] == "r" and power >= 0
    quad = None if f is None else (2 * s.order + 2 if smooth and coef is None else 2 * s.order + 8)
    A = s.stiffness(f, quad=quad) if kind == "K" else s.mass(f, quad=quad)
    ends = _singular_ends(V, e, power)
    if ends:
        keep = np.ones(s.ndofs)
        keep[ends] = 0.0
        D = sp.diags(keep)
        A = (D @ A @ D).tocsr()
        A.eliminate_zeros()
    A = A.tocsr()
    A.sort_indices()
    if coef is None:
        for arr in (A.data, A.indices, A.indptr):
            arr.flags.writeable = False
        V._weighted[key] = A
    return A


def _kappa_factors(V, kappa, name="kappa"):
    """``(scale, per-axis coefficient factors)`` of a constant or separable κ."""
    c = V.coordinates
    if kappa is None:
        return 1.0, [None] * V.dim
    if is_number(kappa):
        value = as_real(kappa, name)
        if value <= 0 and name == "kappa":
            raise FemkronValueError(f"kappa must be > 0, got {value}")
        return value, [None] * V.dim
    if isinstance(kappa, (tuple, list)):
        if len(kappa) != V.dim:
            raise FemkronValueError(
                f"{name} given per axis must have {V.dim} entries ({', '.join(c.axes)}), got "
                f"{len(kappa)}"
            )
        for i, k in enumerate(kappa):
            if not (is_number(k) or callable(k)):
                raise FemkronTypeError(
                    f"{name}[{i}] must be a number or a callable of {c.axes[i]}, got {k!r}"
                )
        return 1.0, list(kappa)
    raise FemkronTypeError(
        f"in {c.name} coordinates {name} must be a number or a tuple of per-axis "
        f"factors ({', '.join(c.axes)}) (a separable κ) to stay one Kronecker sum; a general "
        f"κ({', '.join(c.axes)}) takes the element paths with the metric weights "
        "(fk.assemble, fk.MatrixFreeOperator, or fk.poisson, which chooses them), got "
        f"{type(kappa).__name__}"
    )


def curvilinear_terms(V, kappa=None, which="stiffness"):
    """``(terms, roles)`` of the weighted stiffness or mass Kronecker sum of ``V``."""
    c = V.coordinates
    scale, factors = _kappa_factors(V, kappa, "kappa" if which == "stiffness" else "coef")
    terms, roles = [], []
    if which == "mass":
        mats = tuple(weighted_matrix(V, e, "M", c.mass_powers[e], factors[e]) for e in range(V.dim))
        return [(scale, mats)], [None]
    for d in range(V.dim):
        mats = tuple(
            weighted_matrix(V, e, "K" if e == d else "M", c.stiffness_powers[d][e], factors[e])
            for e in range(V.dim)
        )
        terms.append((scale, mats))
        roles.append(d)
    return terms, roles


def _call(func, q, name, c):
    """``func(*q)``; a wrong number of coordinates is reported with the coordinate names."""
    try:
        return func(*q)
    except TypeError as err:
        raise FemkronTypeError(
            f"{name} ({getattr(func, '__name__', 'callable')}) must take the {len(q)} "
            f"coordinates of the space, ({', '.join(c.axes)}) in {c.name} coordinates: {err}"
        ) from err


def metric_load(V, f):
    """``f`` times the metric ``J`` (a callable of the space's coordinates, or per axis)."""
    c = V.coordinates
    weights = [c.weight(e, p) for e, p in enumerate(c.mass_powers)]
    if isinstance(f, (tuple, list)):
        if len(f) != V.dim:
            return f  # refused with its message by load_vector
        out = []
        for g, w in zip(f, weights):
            if w is None:
                out.append(g)
            elif is_number(g):
                out.append(lambda x, _w=w, _g=float(g): _g * _w(x))
            else:
                out.append(lambda x, _w=w, _g=g: _g(x) * _w(x))
        return tuple(out)
    if not (is_number(f) or callable(f)):
        return f

    def weighted(*q):
        value = f if is_number(f) else _call(f, q, "f", c)
        out = np.asarray(value, dtype=float) if not is_number(value) else float(value)
        for e, w in enumerate(weights):
            if w is not None:
                out = out * w(q[e])
        return out

    weighted.__name__ = getattr(f, "__name__", "f")
    return weighted
