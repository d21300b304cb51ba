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

from . import plot
from .assembly import assemble
from .bc import BoundaryConditions, Condition, Dirichlet, Neumann, Periodic, Robin
from .elements import Lagrange
from .errors import (
    ConvergenceError,
    FemkronError,
    FemkronTypeError,
    FemkronValueError,
    ResourceError,
    memory_limit,
    set_memory_limit,
)
from .io import load_mesh, save_mesh, write_vtk
from .kron import KronOperator
from .matfree import MatrixFreeOperator, SeparablePreconditioner
from .mesh import Mesh1D, TensorMesh
from .norms import convergence_rate, error, norm
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
from .quadrature import gauss_legendre, gauss_lobatto
from .solvers import FastDiagonalization, SolveInfo, StructureError, solve
from .space import Space1D
from .tensor import (
    Anisotropic,
    SeparableExpansion,
    TensorSpace,
    advection,
    load_vector,
    mass,
    separable_expansion,
    stiffness,
)

__version__ = "0.1.0"

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
