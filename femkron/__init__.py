"""femkron: finite elements on boxes as sums of Kronecker products of 1D matrices.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
>>> u = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
>>> sol = fk.poisson(V, lambda x, y: 2 * np.pi**2 * u(x, y))
>>> bool(sol.error(u) < 1e-4)
True
"""

from . import _compat, plot  # noqa: F401 (_compat: the 0.1 import paths)
from ._limits import memory_limit, set_memory_limit
from ._version import __version__
from .errors import (
    ConvergenceError,
    FemkronError,
    FemkronTypeError,
    FemkronValueError,
    ResourceError,
    StructureError,
)
from .fem import (
    Anisotropic,
    BoundaryConditions,
    Condition,
    Dirichlet,
    Lagrange,
    MatrixFreeOperator,
    Mesh1D,
    Neumann,
    Periodic,
    Robin,
    SeparableExpansion,
    SeparablePreconditioner,
    Space1D,
    TensorMesh,
    TensorSpace,
    advection,
    assemble,
    convergence_rate,
    error,
    gauss_legendre,
    gauss_lobatto,
    load_vector,
    manufactured,
    mass,
    norm,
    separable_expansion,
    stiffness,
)
from .io import load_mesh, save_mesh, write_vtk
from .kron import FastDiagonalization, KronOperator
from .linalg import SolveInfo, make_solver, solve
from .problems import (
    HeatSolution,
    LinearSystem,
    Solution,
    advection_diffusion,
    eigen,
    heat,
    helmholtz,
    poisson,
)

__all__ = [
    "Anisotropic",
    "assemble",
    "BoundaryConditions",
    "Condition",
    "ConvergenceError",
    "Dirichlet",
    "FastDiagonalization",
    "FemkronError",
    "FemkronTypeError",
    "FemkronValueError",
    "HeatSolution",
    "KronOperator",
    "Lagrange",
    "MatrixFreeOperator",
    "LinearSystem",
    "Mesh1D",
    "Neumann",
    "Periodic",
    "ResourceError",
    "Robin",
    "SeparableExpansion",
    "SeparablePreconditioner",
    "Solution",
    "SolveInfo",
    "StructureError",
    "Space1D",
    "TensorMesh",
    "TensorSpace",
    "__version__",
    "advection",
    "advection_diffusion",
    "convergence_rate",
    "eigen",
    "error",
    "gauss_legendre",
    "gauss_lobatto",
    "heat",
    "helmholtz",
    "load_mesh",
    "load_vector",
    "make_solver",
    "manufactured",
    "mass",
    "memory_limit",
    "norm",
    "plot",
    "poisson",
    "save_mesh",
    "separable_expansion",
    "set_memory_limit",
    "solve",
    "stiffness",
    "write_vtk",
]
