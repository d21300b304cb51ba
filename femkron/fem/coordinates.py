"""Separable orthogonal coordinates: the metric weights of the Kronecker-sum operators.

In orthogonal coordinates ``q`` with scale factors ``h_i`` the weak Laplacian is
``∫ κ Σ_i (J / h_i²) ∂_i u ∂_i v dq`` with ``J = h_1 h_2 h_3``.  For the systems here every
``J / h_i²``, ``J`` and face element ``J / h_i`` is a product of one power of ``r`` (the radial
axis) or of ``sin θ`` (the polar angle of spherical coordinates) per axis, so stiffness and
mass stay Kronecker sums of *weighted* 1D matrices.

=============  ============  ==========================  =====================
coordinates    axes          ``J``                       scale factors ``h``
=============  ============  ==========================  =====================
cartesian      x, y[, z]     1                           1, 1, 1
polar          r, θ          r                           1, r
axisymmetric   r, z          r (per radian)              1, 1
cylindrical    r, θ, z       r                           1, r, 1
spherical      r, θ, φ       r² sin θ                    1, r, r sin θ
=============  ============  ==========================  =====================

θ of spherical coordinates is the polar angle (from the +z axis), φ the azimuth.

Examples
--------
>>> c = coordinates("polar")
>>> c.axes, c.faces
(('r', 'theta'), {'inner': (0, 0), 'outer': (0, 1), 'start': (1, 0), 'end': (1, 1)})
>>> c.stiffness_powers      # term d, axis e: the power of the axis's weight function
((1, 0), (-1, 0))
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronTypeError, FemkronValueError

__all__ = ["Coordinates", "coordinates", "COORDINATES", "weight_function"]

#: The coordinate systems by name.
COORDINATES = ("cartesian", "polar", "axisymmetric", "cylindrical", "spherical")

#: Relative tolerance for recognising a full turn ``2π`` and the poles ``0``, ``π``.
ANGLE_RTOL = 1e-12


def weight_function(kind, power):
    """The 1D weight ``r**power`` (``kind="r"``) or ``sin(θ)**power`` (``kind="sin"``).

    ``None`` for the weight 1.

    Examples
    --------
    >>> float(weight_function("r", 2)(3.0)), weight_function("r", 0)
    (9.0, None)
    """
    if power == 0 or kind == "1":
        return None
    if kind == "r":
        if power == 1:
            return _r
        return lambda x, _p=power: np.asarray(x, dtype=float) ** _p
    if kind == "sin":
        return lambda x, _p=power: np.sin(np.asarray(x, dtype=float)) ** _p
    raise FemkronValueError(f"unknown weight kind {kind!r}")  # pragma: no cover


def _r(x):
    return np.asarray(x, dtype=float)


class Coordinates:
    """One separable orthogonal coordinate system.

    Parameters
    ----------
    name : str
    axes : tuple of str
        Names of the coordinates (``"r"``, ``"theta"``, ``"phi"``, ``"z"``, ``"x"``, ...).
    kinds : tuple of str
        Per axis the function its weights are powers of: ``"r"``, ``"sin"`` or ``"1"``.
    jacobian : tuple of int
        Per axis the power of ``J``.
    scale : tuple of tuple of int
        ``scale[i][e]``: the power of axis ``e``'s function in ``h_i``.
    faces : dict
        Face name → ``(axis, side)``.
    angular : tuple of int
        The angle axes (θ of polar/cylindrical, φ of spherical), periodic over a full turn.

    Attributes
    ----------
    dim : int
    stiffness_powers : tuple of tuple of int
        ``[d][e]``: the power in the weight of axis ``e`` in the stiffness term of axis ``d``
        (``J / h_d²``).
    mass_powers : tuple of int
        The powers of ``J``.

    Examples
    --------
    >>> c = coordinates("spherical")
    >>> c.stiffness_powers
    ((2, 1, 0), (0, 1, 0), (0, -1, 0))
    >>> c.face_powers(0)          # J / h_r on a sphere r = R: R² sin θ
    (2, 1, 0)
    """

    def __init__(self, name, axes, kinds, jacobian, scale, faces, angular=()):
        self.name = name
        self.axes = tuple(axes)
        self.kinds = tuple(kinds)
        self.dim = len(self.axes)
        self.jacobian = tuple(jacobian)
        self.scale = tuple(tuple(s) for s in scale)
        self.faces = dict(faces)
        self.angular = tuple(angular)
        self.stiffness_powers = tuple(
            tuple(j - 2 * h for j, h in zip(self.jacobian, self.scale[d])) for d in range(self.dim)
        )
        self.mass_powers = self.jacobian

    def __repr__(self):
        return f"Coordinates({self.name!r}, axes={self.axes})"

    def __eq__(self, other):
        return isinstance(other, Coordinates) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    @property
    def curvilinear(self):
        """True for every system but cartesian."""
        return self.name != "cartesian"

    def face_powers(self, axis):
        """Per axis the power in the face element ``J / h_axis`` of a face of ``axis``."""
        return tuple(j - h for j, h in zip(self.jacobian, self.scale[axis]))

    def weight(self, axis, power):
        """The weight function of ``axis`` to ``power`` (``None`` for 1)."""
        return weight_function(self.kinds[axis], power)

    def metric(self, *q):
        """``J`` at the broadcastable coordinate arrays ``q``.

        Examples
        --------
        >>> float(coordinates("polar").metric(2.0, 0.3))
        2.0
        """
        out = np.ones(np.broadcast_shapes(*(np.shape(x) for x in q)))
        for e, power in enumerate(self.mass_powers):
            w = self.weight(e, power)
            if w is not None:
                out = out * w(q[e])
        return out

    def to_cartesian(self, *q):
        """Cartesian coordinates of the points ``q`` (one broadcastable array per axis).

        Axisymmetric coordinates return the meridian plane ``(r, z)`` unchanged.

        Examples
        --------
        >>> x, y = coordinates("polar").to_cartesian(2.0, np.pi / 2)
        >>> round(float(x), 12), round(float(y), 12)
        (0.0, 2.0)
        """
        if len(q) != self.dim:
            raise FemkronValueError(
                f"{self.name} coordinates take {self.dim} arrays ({', '.join(self.axes)}), "
                f"got {len(q)}"
            )
        q = [np.asarray(x, dtype=float) for x in q]
        if self.name in ("cartesian", "axisymmetric"):
            return tuple(q)
        if self.name == "polar":
            r, t = q
            return r * np.cos(t), r * np.sin(t)
        if self.name == "cylindrical":
            r, t, z = q
            return r * np.cos(t), r * np.sin(t), z + 0.0 * r * t
        r, t, p = q  # spherical
        return r * np.sin(t) * np.cos(p), r * np.sin(t) * np.sin(p), r * np.cos(t) + 0.0 * p


_RADIAL = {"inner": (0, 0), "outer": (0, 1)}

_SYSTEMS = {
    "polar": dict(
        axes=("r", "theta"),
        kinds=("r", "1"),
        jacobian=(1, 0),
        scale=((0, 0), (1, 0)),
        faces={**_RADIAL, "start": (1, 0), "end": (1, 1)},
        angular=(1,),
    ),
    "axisymmetric": dict(
        axes=("r", "z"),
        kinds=("r", "1"),
        jacobian=(1, 0),
        scale=((0, 0), (0, 0)),
        faces={**_RADIAL, "bottom": (1, 0), "top": (1, 1)},
    ),
    "cylindrical": dict(
        axes=("r", "theta", "z"),
        kinds=("r", "1", "1"),
        jacobian=(1, 0, 0),
        scale=((0, 0, 0), (1, 0, 0), (0, 0, 0)),
        faces={**_RADIAL, "start": (1, 0), "end": (1, 1), "bottom": (2, 0), "top": (2, 1)},
        angular=(1,),
    ),
    "spherical": dict(
        axes=("r", "theta", "phi"),
        kinds=("r", "sin", "1"),
        jacobian=(2, 1, 0),
        scale=((0, 0, 0), (1, 0, 0), (1, 1, 0)),
        faces=dict(_RADIAL),
        angular=(2,),
    ),
}


def coordinates(name, dim=None):
    """The :class:`Coordinates` called ``name`` (``dim`` axes for cartesian).

    Examples
    --------
    >>> coordinates("cartesian", 2).stiffness_powers
    ((0, 0), (0, 0))
    >>> coordinates("cylindrical").axes
    ('r', 'theta', 'z')
    """
    if isinstance(name, Coordinates):
        return name
    if not isinstance(name, str):
        raise FemkronTypeError(
            f"coordinates must be a name ({', '.join(COORDINATES)}), got {type(name).__name__}"
        )
    if name not in COORDINATES:
        raise FemkronValueError(
            f"coordinates must be one of {', '.join(COORDINATES)}, got {name!r}"
        )
    if name == "cartesian":
        dim = 1 if dim is None else dim
        axes = ("x", "y", "z")[:dim] if dim <= 3 else tuple(f"x{d}" for d in range(dim))
        faces = {}
        names = (("left", "right"), ("bottom", "top"), ("front", "back"))
        for d in range(min(dim, 3)):
            faces[names[d][0]] = (d, 0)
            faces[names[d][1]] = (d, 1)
        zeros = (0,) * dim
        return Coordinates("cartesian", axes, ("1",) * dim, zeros, (zeros,) * dim, faces)
    return Coordinates(name, **_SYSTEMS[name])
