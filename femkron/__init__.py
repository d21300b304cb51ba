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
    Field,
    Lagrange,
    MatrixFreeOperator,
    Mesh1D,
    Neumann,
    Periodic,
    Robin,
    SeparableExpansion,
    SeparablePreconditioner,
    Space1D,
    SymmetricStencil,
    TensorMesh,
    TensorSpace,
    advection,
    assemble,
    assemble_stencil,
    convergence_rate,
    error,
    gauss_legendre,
    gauss_lobatto,
    load_vector,
    manufactured,
    mass,
    matern_correlation,
    matern_variance,
    norm,
    random_field,
    separable_expansion,
    stiffness,
)
from .fem.coordinates import Coordinates
from .fem.union import BoxUnion
from .io import load_mesh, load_solution, save_mesh, write_vtk
from .kron import FastDiagonalization, KronOperator, NestedDiagonalization
from .linalg import NewtonInfo, SolveInfo, make_solver, solve
from .problems import (
    Branch,
    HeatSolution,
    LinearSystem,
    Solution,
    advection_diffusion,
    continuation,
    eigen,
    heat,
    helmholtz,
    nonlinear_poisson,
    poisson,
)
from .problems.reaction import ReactionDiffusionSolution, reaction_diffusion
from .problems.union_problems import UnionSolution

__all__ = [
    "Anisotropic",
    "assemble",
    "assemble_stencil",
    "SymmetricStencil",
    "Branch",
    "BoxUnion",
    "UnionSolution",
    "continuation",
    "NewtonInfo",
    "nonlinear_poisson",
    "BoundaryConditions",
    "Condition",
    "ConvergenceError",
    "Coordinates",
    "NestedDiagonalization",
    "Dirichlet",
    "FastDiagonalization",
    "FemkronError",
    "FemkronTypeError",
    "FemkronValueError",
    "Field",
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
    "reaction_diffusion",
    "ReactionDiffusionSolution",
    "load_mesh",
    "load_solution",
    "load_vector",
    "make_solver",
    "manufactured",
    "matern_correlation",
    "matern_variance",
    "mass",
    "memory_limit",
    "norm",
    "plot",
    "poisson",
    "random_field",
    "save_mesh",
    "separable_expansion",
    "set_memory_limit",
    "solve",
    "stiffness",
    "write_vtk",
]
