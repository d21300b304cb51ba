"""Whole problems: data and boundary conditions in, a :class:`Solution` out.

:class:`LinearSystem` builds the constrained system of a stationary problem; the problems
(:func:`poisson`, :func:`helmholtz` in :mod:`~femkron.problems.stationary`,
:func:`advection_diffusion`, :func:`eigen`, :func:`heat`) ask
:func:`femkron.linalg.make_solver` for their solver and return a :class:`Solution` or
:class:`HeatSolution`.
"""

from .advection import advection_diffusion
from .continuation import Branch, continuation
from .eigen import eigen
from .linear_system import COEFFICIENTS, LinearSystem
from .nonlinear import nonlinear_poisson
from .solution import HeatSolution, Solution
from .stationary import helmholtz, poisson
from .timestepping import heat

__all__ = [
    "COEFFICIENTS",
    "HeatSolution",
    "LinearSystem",
    "Solution",
    "advection_diffusion",
    "Branch",
    "continuation",
    "nonlinear_poisson",
    "eigen",
    "heat",
    "helmholtz",
    "poisson",
]
