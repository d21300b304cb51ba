"""Boundary conditions of curvilinear spaces: face names, face measures, poles.

Faces are named by coordinate: ``"inner"``/``"outer"`` (r), ``"start"``/``"end"`` (θ of a
sector), ``"bottom"``/``"top"`` (z).  A full turn is periodic by itself; the ends of an axis
at a pole (the centre of a disk, the axis of a cylinder, the poles of a sphere) are not faces:
they take no condition (the pole constraint makes the function single-valued there).

Face data use the face's area element ``J / h_d`` (outer circle of a disk: ``R dθ``; outer
wall of a cylinder: ``R dθ dz``; a sphere: ``R² sin θ dθ dφ``), and ``∂u/∂n`` is
``(1/h_d) ∂_d u``.

Examples
--------
>>> import femkron as fk
>>> D = fk.TensorSpace.disk(radius=2.0, cells=(4, 8), order=1)
>>> bcs = fk.BoundaryConditions(D, {"outer": fk.Neumann(1.0)})
>>> bcs.describe()
['r: centre (pole), outer Neumann(1.0)', 'theta: periodic']
>>> round(float(bcs.boundary_load().sum()), 12) == round(4 * np.pi, 12)   # 1 × 2πR
True
"""

from __future__ import annotations

import numpy as np

from .._validate import is_number
from ..errors import FemkronTypeError, FemkronValueError
from .bc import Condition, Dirichlet, Neumann, Periodic
from .curvilinear import _call, weighted_matrix

__all__ = ["curvilinear_faces", "describe", "robin_terms", "face_weighted"]


def _closed(V):
    """``(axis, side)`` pairs that are not faces: periodic ends and poles."""
    c = V.coordinates
    faces = {c.faces[n] for n in V.faces}
    out = set()
    for d in range(V.dim):
        for side in (0, 1):
            if (d, side) not in faces:
                out.add((d, side))
    return out


def curvilinear_faces(V, bc):
    """Per-axis conditions (``"periodic"`` or ``(lower, upper)``) and the active poles.

    A pole whose angular axis has a Dirichlet edge is no pole: the edge's value holds there.
    """
    c = V.coordinates
    valid = list(V.faces)
    if isinstance(bc, Periodic):
        raise FemkronValueError(
            f"bc: Periodic() applies to an axis; in {c.name} coordinates full turns are "
            "periodic by themselves"
        )
    if isinstance(bc, Condition):
        bc = {name: bc for name in valid}
    if not isinstance(bc, dict):
        raise FemkronTypeError(
            f"bc must be a dict {{face: condition}}, a condition, or None, got {type(bc).__name__}"
        )
    faces = [[Dirichlet(0.0), Dirichlet(0.0)] for _ in range(V.dim)]
    periodic = [d in V.periodic_axes for d in range(V.dim)]
    for key, cond in bc.items():
        if isinstance(key, str) and key in c.axes and isinstance(cond, Periodic):
            d = c.axes.index(key)
            if d in V.periodic_axes:
                continue
            if d in c.angular:
                raise FemkronValueError(
                    f"bc[{key!r}]: a sector (angle < 2π) cannot be periodic; only a full turn "
                    "is, and it is periodic by itself"
                )
            if key == "r":
                raise FemkronValueError(f"bc[{key!r}]: the radial axis cannot be periodic")
            periodic[d] = True
            continue
        if not isinstance(key, str) or key not in valid:
            where = ", ".join(valid) if valid else "none"
            raise FemkronValueError(
                f"unknown face {key!r} in bc; the faces of this {c.name} space are: {where} "
                f"(Cartesian names such as 'left' do not apply; periodic full turns and poles "
                "take no condition)"
            )
        if not isinstance(cond, Condition) or isinstance(cond, Periodic):
            raise FemkronTypeError(
                f"bc[{key!r}] must be Dirichlet, Neumann or Robin, got {type(cond).__name__}"
            )
        axis, side = c.faces[key]
        faces[axis][side] = cond
    for axis, side in _closed(V):
        if not periodic[axis]:
            faces[axis][side] = Neumann(0.0)  # a pole: natural (the constraint acts there)
    poles = []
    for axis, side, angular in V.poles:
        # a Dirichlet edge through the pole fixes its value: the pole end is Dirichlet too
        fixed = [
            faces[a][s]
            for a in angular
            if not periodic[a]
            for s in (0, 1)
            if faces[a][s].kind == "dirichlet"
        ]
        if fixed:
            faces[axis][side] = fixed[0]
        else:
            poles.append((axis, side, angular))
    axes = ["periodic" if periodic[d] else tuple(faces[d]) for d in range(V.dim)]
    return axes, tuple(poles)


def describe(bcs):
    """One line per axis, with the coordinate names."""
    V = bcs.V
    c = V.coordinates
    names = {w: n for n, w in c.faces.items()}
    pole_ends = {(a, s) for a, s, _ in bcs.poles}
    closed = _closed(V)
    lines = []
    for d, ax in enumerate(bcs.axes):
        if ax == "periodic":
            lines.append(f"{c.axes[d]}: periodic")
            continue
        parts = []
        for side in (0, 1):
            if (d, side) in pole_ends or ((d, side) in closed and ax[side].kind != "dirichlet"):
                parts.append("centre (pole)" if c.name != "spherical" else f"pole {side}")
            elif (d, side) in closed:  # a Dirichlet edge through the tip fixes the centre
                parts.append(f"centre {ax[side]!r}")
            else:
                parts.append(f"{names.get((d, side), f'side {side}')} {ax[side]!r}")
        lines.append(f"{c.axes[d]}: {', '.join(parts)}")
    return lines


def robin_terms(bcs):
    """``(terms, roles)`` of ``α ∫_face u v dS`` on every Robin face."""
    V = bcs.V
    c = V.coordinates
    terms, roles = [], []
    for d, ax in enumerate(bcs.axes):
        if ax == "periodic":
            continue
        powers = c.face_powers(d)
        for side, cond in enumerate(ax):
            if cond.kind != "robin" or cond.alpha == 0.0:
                continue
            s = V.spaces[d]
            point = s.mesh.a if side == 0 else s.mesh.b
            w = c.weight(d, powers[d])
            scale = 1.0 if w is None else float(w(point))
            E = cond.alpha * scale * s.boundary("left" if side == 0 else "right")
            factors = tuple(
                E if e == d else weighted_matrix(V, e, "M", powers[e]) for e in range(V.dim)
            )
            terms.append((1.0, factors))
            roles.append(d)
    return terms, roles


def face_weighted(V, d, point, g):
    """``g`` times the area element ``J / h_d`` of the face ``q_d = point``."""
    c = V.coordinates
    powers = c.face_powers(d)
    w = c.weight(d, powers[d])
    scale = 1.0 if w is None else float(w(point))
    weights = [None if e == d else c.weight(e, powers[e]) for e in range(V.dim)]

    def weighted(*q):
        value = g if is_number(g) else _call(g, q, "boundary data", c)
        out = scale * np.asarray(value, dtype=float)
        for e, we in enumerate(weights):
            if we is not None:
                out = out * we(q[e])
        return out

    weighted.__name__ = getattr(g, "__name__", "g")
    return weighted
