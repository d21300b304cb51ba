"""femkron operators in PETSc, distributed over MPI ranks (optional; needs petsc4py).
"""

from ._all import (  # noqa: F401
    DistributedSolution,
    PetscUnavailableError,
    available,
    bench,
    kron_rows,
    ksp_solve,
    poisson,
    row_partition,
    solve,
    to_petsc,
    to_petsc_vec,
)

__all__ = [
    "PetscUnavailableError",
    "DistributedSolution",
    "available",
    "kron_rows",
    "row_partition",
    "to_petsc",
    "to_petsc_vec",
    "ksp_solve",
    "solve",
    "poisson",
    "bench",
]
