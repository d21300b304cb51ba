"""Manufactured solutions: choose ``u``, get ``f`` and the boundary data symbolically.

The classic test of a finite element code: pick a smooth exact solution ``u``, compute the
load ``f = -∇·(κ∇u) + σu + b·∇u`` and the data of every face (``u`` for Dirichlet, the flux
``κ∂u/∂n`` for Neumann, ``κ∂u/∂n + αu`` for Robin) with sympy, solve, and measure the error
against ``u``.  :func:`manufactured` does the symbolic part from safe expressions
(:mod:`femkron.fem.expressions`); every result is a callable taking the space's coordinates.

Available today: cartesian coordinates on boxes (faces ``left``/``right``, ``bottom``/``top``,
``front``/``back``).

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> ms = fk.manufactured("sin(pi*x)*y**2", kappa="1 + x*y")
>>> ms.dim, ms.variables
(2, ('x', 'y'))
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=3)
>>> bc = ms.bc({"left": "dirichlet", "right": "neumann", "top": ("robin", 2.0)})
>>> sol = fk.poisson(V, ms.f, kappa=ms.kappa, bc=bc)
>>> bool(sol.error(ms.u) < 1e-4), bool(sol.error(ms.u, "H1", grad=ms.grad) < 1e-2)
(True, True)
"""

from __future__ import annotations

from .._validate import as_real
from ..errors import FemkronTypeError, FemkronValueError
from .bc import FACES, Dirichlet, Neumann, Periodic, Robin
from .expressions import Expression, parse_expression

__all__ = ["ManufacturedSolution", "manufactured", "COORDINATE_SYSTEMS"]

#: Coordinate systems and their variable names; only "cartesian" is available today.
COORDINATE_SYSTEMS = {
    "cartesian": ("x", "y", "z"),
    "polar": ("r", "theta"),
    "cylindrical": ("r", "theta", "z"),
    "spherical": ("r", "theta", "phi"),
    "axisymmetric": ("r", "z"),
}
_FACE_NAMES = {d: [n for n, (a, _) in FACES.items() if a < d] for d in (1, 2, 3)}


class ManufacturedSolution:
    """The exact solution of a manufactured problem with its load and face data.

    Made by :func:`manufactured`.  Every attribute that is a function is an
    :class:`~femkron.fem.expressions.Expression`: a callable of the coordinates
    (:attr:`variables`), with its text and sympy form.

    Attributes
    ----------
    u : Expression
        The exact solution.
    f : Expression
        The load ``-∇·(κ∇u) + σu + b·∇u``.
    kappa, sigma : Expression
        The coefficients (constant ones too; ``.is_constant`` and ``.value`` tell).
    velocity : tuple of Expression or None
        The advection velocity ``b`` when one was given.
    grad : tuple of Expression
        ``∂u/∂x_d`` per axis (for ``sol.error(u, "H1", grad=grad)``).
    coordinates : str
    variables : tuple of str
    dim : int

    Examples
    --------
    >>> ms = manufactured("x**2", kappa=2.0)
    >>> ms.f.text, ms.flux("right").text, ms.robin_data("left", 3.0).text
    ('-4.00000000000000', '4.0*x', '3.0*x**2 - 4.0*x')
    """

    def __init__(self, u, kappa, sigma, velocity, coordinates):
        import sympy

        self.u, self.kappa, self.sigma, self.velocity = u, kappa, sigma, velocity
        self.coordinates = coordinates
        self.variables = u.variables
        self.dim = len(u.variables)
        symbols = [sympy.Symbol(name, real=True) for name in self.variables]
        grads = [sympy.diff(u.sympy, s) for s in symbols]
        self.grad = tuple(
            u.derived(g, where=f"{u.where}: ∂u/∂{name}") for g, name in zip(grads, self.variables)
        )
        f = -sum(sympy.diff(kappa.sympy * g, s) for g, s in zip(grads, symbols))
        f = f + sigma.sympy * u.sympy
        if velocity is not None:
            f = f + sum(b.sympy * g for b, g in zip(velocity, grads))
        if f.has(sympy.DiracDelta):
            raise FemkronValueError(
                f"{u.where}: the load of u = {u.text!r} holds Dirac deltas (u or κ is not "
                "smooth enough: a kink in where/heaviside/abs/min/max); choose a smooth u"
            )
        self.f = u.derived(f, where=f"{u.where}: f")

    def __repr__(self):
        return f"ManufacturedSolution(u={self.u.text!r}, coordinates={self.coordinates!r})"

    def _face(self, face):
        names = _FACE_NAMES[min(self.dim, 3)]
        if face not in names:
            raise FemkronValueError(
                f"unknown face {face!r} for a {self.dim}D box; faces: {', '.join(names)}"
            )
        return FACES[face]

    def flux(self, face):
        """``κ ∂u/∂n`` on ``face`` (``n`` the outward normal): the data of a Neumann face."""
        axis, side = self._face(face)
        value = self.kappa.sympy * self.grad[axis].sympy
        return self.u.derived(value if side else -value, where=f"{self.u.where}: flux on {face}")

    def robin_data(self, face, alpha):
        """``κ ∂u/∂n + α u`` on ``face``: the data ``g`` of ``Robin(alpha, g)``."""
        alpha = as_real(alpha, "alpha")
        value = self.flux(face).sympy + alpha * self.u.sympy
        return self.u.derived(value, where=f"{self.u.where}: Robin data on {face}")

    def bc(self, kinds):
        """Boundary conditions that ``u`` satisfies, from the kind of each face.

        Parameters
        ----------
        kinds : dict
            ``{face: "dirichlet" | "neumann" | ("robin", alpha)}`` and ``{axis: "periodic"}``
            (``"x"``, ``"y"``, ``"z"``); faces not named are Dirichlet with the data of ``u``
            (not the homogeneous default of :class:`~femkron.BoundaryConditions`).

        Returns
        -------
        dict
            ``{face or axis: Condition}`` for :func:`~femkron.poisson` and the others.
        """
        if not isinstance(kinds, dict):
            raise FemkronTypeError(f"kinds must be a dict {{face: kind}}, got {kinds!r}")
        axes = {"x": 0, "y": 1, "z": 2}
        out = {}
        periodic = set()
        for key, kind in kinds.items():
            if kind == "periodic":
                if key not in axes or axes[key] >= self.dim:
                    raise FemkronValueError(
                        f"periodic is set on an axis ({', '.join(list(axes)[: self.dim])}), "
                        f"got {key!r}"
                    )
                out[key] = Periodic()
                periodic.add(axes[key])
                continue
            self._face(key)
            if kind == "dirichlet":
                out[key] = Dirichlet(self.u)
            elif kind == "neumann":
                out[key] = Neumann(self.flux(key))
            elif isinstance(kind, tuple) and len(kind) == 2 and kind[0] == "robin":
                out[key] = Robin(kind[1], self.robin_data(key, kind[1]))
            else:
                raise FemkronValueError(
                    f"face {key!r}: kind must be 'dirichlet', 'neumann' or ('robin', alpha), "
                    f"got {kind!r}"
                )
        for face in _FACE_NAMES[min(self.dim, 3)]:
            if face not in out and FACES[face][0] not in periodic:
                out[face] = Dirichlet(self.u)
        return out


def _expression(value, name, variables):
    if isinstance(value, Expression):
        if not set(value.used) <= set(variables):
            raise FemkronValueError(
                f"{name} uses {', '.join(sorted(set(value.used) - set(variables)))}, not a "
                f"coordinate of {', '.join(variables)}"
            )
        return Expression(value.sympy, variables, value.text, where=name)
    return parse_expression(value, variables, where=name)


def manufactured(u, kappa=1.0, sigma=0.0, coordinates="cartesian", dim=None, velocity=None):
    """The load and face data of the manufactured solution ``u``, computed with sympy.

    For ``-∇·(κ∇u) + σu + b·∇u = f`` (Poisson; Helmholtz is ``σ = -k²``; advection–diffusion
    has ``κ = ε`` and a ``velocity`` ``b``).

    Parameters
    ----------
    u : str or number
        The exact solution as a safe expression (:mod:`femkron.fem.expressions`) in the
        coordinates, e.g. ``"sin(pi*x)*exp(y)"``.
    kappa, sigma : str or number
        Scalar diffusion and reaction coefficients (expressions or numbers).
    coordinates : {"cartesian"}
        Only cartesian coordinates (boxes) are available in this version; ``"polar"``,
        ``"cylindrical"``, ``"spherical"`` and ``"axisymmetric"`` are refused as not
        available yet.
    dim : int, optional
        Number of coordinates (1 to 3); default: the last coordinate any input uses
        (``"x*z"`` is 3D), at least 1.
    velocity : sequence of str or number, optional
        The advection velocity, one component per axis.

    Returns
    -------
    ManufacturedSolution
        With ``u``, ``f``, ``grad``, ``kappa``, ``sigma`` as callables of the coordinates
        and ``flux(face)``, ``robin_data(face, alpha)`` and ``bc(kinds)`` for the faces.

    Examples
    --------
    >>> import femkron as fk
    >>> ms = fk.manufactured("x*(1 - x)")
    >>> float(ms.f(0.3))                      # -u'' = 2
    2.0
    >>> try:
    ...     fk.manufactured("r**2", coordinates="polar")
    ... except ValueError as err:
    ...     print(err.reason)
    not-available
    """
    if coordinates not in COORDINATE_SYSTEMS:
        raise FemkronValueError(
            f"coordinates must be one of {', '.join(map(repr, COORDINATE_SYSTEMS))}, "
            f"got {coordinates!r}"
        )
    if coordinates != "cartesian":
        raise FemkronValueError(
            f"coordinates={coordinates!r} is not available yet in this version of femkron "
            "(available: 'cartesian', on boxes)",
            reason="not-available",
        )
    names = COORDINATE_SYSTEMS[coordinates]
    inputs = {"u": u, "kappa": kappa, "sigma": sigma}
    if velocity is not None:
        if isinstance(velocity, (str, bytes)) or not hasattr(velocity, "__len__"):
            raise FemkronTypeError(
                f"velocity must be a sequence of one component per axis, got {velocity!r}"
            )
        inputs.update({f"velocity[{i}]": b for i, b in enumerate(velocity)})
    if dim is None:
        used = set()
        for name, value in inputs.items():
            used |= _expression(value, name, names).used
        dim = max([names.index(n) + 1 for n in used] + [1])
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= 3:
        raise FemkronValueError(f"dim must be 1, 2 or 3, got {dim!r}")
    if velocity is not None and len(velocity) != dim:
        raise FemkronValueError(
            f"velocity must have {dim} components (one per axis), got {len(velocity)}"
        )
    variables = names[:dim]
    ex = {name: _expression(value, name, variables) for name, value in inputs.items()}
    b = None if velocity is None else tuple(ex[f"velocity[{i}]"] for i in range(dim))
    return ManufacturedSolution(ex["u"], ex["kappa"], ex["sigma"], b, coordinates)
