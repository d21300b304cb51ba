"""The boundary conditions a face can carry: Dirichlet, Neumann, Robin, periodic.

Each is a small record of its data (a number, a callable of the coordinates, or a
:class:`~femkron.Field`); :class:`~femkron.BoundaryConditions` turns them into operators.

Examples
--------
>>> import femkron as fk
>>> fk.Robin(2.0, g=1.0)
Robin(2.0, 1.0)
"""

from __future__ import annotations

from .._validate import as_real, is_number
from ..errors import FemkronTypeError

__all__ = ["Condition", "Dirichlet", "Neumann", "Robin", "Periodic"]


def _check_data(value, name):
    if is_number(value):
        return as_real(value, name)
    if callable(value):
        return value
    raise FemkronTypeError(f"{name} must be a number or a callable, got {value!r}")


def _show(value):
    return repr(float(value)) if is_number(value) else getattr(value, "__name__", "callable")


class Condition:
    """Base class of the boundary conditions.

    Examples
    --------
    >>> isinstance(Neumann(1.0), Condition), Neumann(1.0).kind
    (True, 'neumann')
    """

    kind = "condition"

    def __repr__(self):  # pragma: no cover - overridden
        return f"{type(self).__name__}()"


class Dirichlet(Condition):
    """``u = value`` on the face (a number or a callable of all coordinates).

    Examples
    --------
    >>> Dirichlet(1.5)
    Dirichlet(1.5)
    """

    kind = "dirichlet"

    def __init__(self, value=0.0):
        self.value = _check_data(value, "value")

    def __repr__(self):
        return f"Dirichlet({_show(self.value)})"


class Neumann(Condition):
    """``κ ∂u/∂n = flux`` on the face, ``n`` the outward normal.

    Examples
    --------
    >>> Neumann()
    Neumann(0.0)
    """

    kind = "neumann"

    def __init__(self, flux=0.0):
        self.flux = _check_data(flux, "flux")

    def __repr__(self):
        return f"Neumann({_show(self.flux)})"


class Robin(Condition):
    """``κ ∂u/∂n + alpha u = g`` on the face; ``alpha`` a number (constant on the face).

    Examples
    --------
    >>> Robin(2.0, 1.0)
    Robin(2.0, 1.0)
    """

    kind = "robin"

    def __init__(self, alpha, g=0.0):
        if callable(alpha) and not is_number(alpha):
            raise FemkronTypeError(
                "alpha must be a real number (a coefficient constant on the face), got a callable"
            )
        self.alpha = as_real(alpha, "alpha")
        self.g = _check_data(g, "g")

    def __repr__(self):
        return f"Robin({self.alpha!r}, {_show(self.g)})"


class Periodic(Condition):
    """Periodic axis: named by the axis, ``{"x": Periodic()}``.

    Examples
    --------
    >>> Periodic()
    Periodic()
    """

    kind = "periodic"

    def __repr__(self):
        return "Periodic()"
