"""Finite element discretisation on tensor-product grids; imports :mod:`femkron.kron` only.

quadrature → elements → mesh → :class:`Space1D` (1D matrices) → :class:`TensorSpace` and the
Kronecker-sum operators (:func:`stiffness`, :func:`mass`, :func:`advection`,
:func:`load_vector`), coefficients, boundary conditions (:mod:`~femkron.fem.bc`),
element-by-element assembly (CSR, or by diagonals for ``Q1`` stencils), the matrix-free
operator and its separable preconditioner, and norms.
"""

from .assembly import assemble
from .bc import BoundaryConditions, Condition, Dirichlet, Neumann, Periodic, Robin
from .coefficients import Anisotropic, SeparableExpansion, separable_expansion
from .elements import Lagrange
from .fields import Field
from .manufactured import ManufacturedSolution, manufactured
from .matfree import MatrixFreeOperator
from .mesh import Mesh1D, TensorMesh
from .norms import convergence_rate, error, norm
from .quadrature import gauss_legendre, gauss_lobatto
from .random_field import matern_correlation, matern_variance, random_field
from .separable_fit import SeparablePreconditioner
from .space import Space1D
from .stencil import SymmetricStencil, assemble_stencil
from .tensor import TensorSpace, advection, load_vector, mass, stiffness

__all__ = [
    "Anisotropic",
    "BoundaryConditions",
    "Condition",
    "Dirichlet",
    "Field",
    "Lagrange",
    "ManufacturedSolution",
    "MatrixFreeOperator",
    "Mesh1D",
    "Neumann",
    "Periodic",
    "Robin",
    "SeparableExpansion",
    "SeparablePreconditioner",
    "Space1D",
    "SymmetricStencil",
    "TensorMesh",
    "TensorSpace",
    "advection",
    "assemble",
    "assemble_stencil",
    "convergence_rate",
    "error",
    "gauss_legendre",
    "gauss_lobatto",
    "load_vector",
    "manufactured",
    "mass",
    "norm",
    "matern_correlation",
    "matern_variance",
    "random_field",
    "separable_expansion",
    "stiffness",
]
