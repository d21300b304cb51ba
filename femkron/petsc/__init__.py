"""femkron operators in PETSc, distributed over MPI ranks (optional; needs petsc4py).

A :class:`~femkron.KronOperator` ``Σ_t c_t · A_t1 ⊗ … ⊗ A_tD`` becomes a PETSc ``AIJ``
matrix (``MPIAIJ`` on more than one rank) without any rank holding the global matrix: every
rank generates **only its own block of rows** from the 1D factors (:func:`kron_rows`) and
hands PETSc an exactly preallocated local CSR.  The load vector of a problem is computed the
same way, each rank integrating only over the cells of its slab of the first axis.

* :func:`to_petsc` — distributed ``PETSc.Mat`` of any KronOperator (boundary conditions are
  applied to the operator first, e.g. ``fk.BoundaryConditions(V, bc).constrain(A)``);
  :func:`to_petsc_vec` — distributed ``PETSc.Vec`` in the row layout of a matrix
  (:mod:`femkron.petsc.convert`).
* :func:`ksp_solve` — PETSc KSP (CG + GAMG by default, BoomerAMG with ``pc_type="hypre"``),
  options from the caller and from the PETSc options database; :func:`solve` — what
  ``fk.solve(A, b, method="petsc")`` runs (:mod:`femkron.petsc.ksp`).
* :func:`poisson` — what ``fk.poisson(V, f, bc=bc, method="petsc", **options)`` runs: a
  :class:`DistributedSolution` on every rank, gathered by default for moderate sizes, the
  local block always available (:mod:`femkron.petsc.problem`).
* :func:`kron_rows` and :func:`row_partition` — the plain numpy/scipy kernels (no PETSc),
  with the slab right-hand side of :func:`poisson` (:mod:`femkron.petsc.rows`).
* :func:`bench` — timing of the distributed assembly, also ``python -m femkron.petsc``
  (:mod:`femkron.petsc.benchmark`).
* :func:`available` and :class:`PetscUnavailableError` — whether petsc4py and mpi4py can be
  imported (:mod:`femkron.petsc.env`); collective helpers are in
  :mod:`femkron.petsc.collective`.

Run a script under ``mpiexec -n 4 python script.py``; see ``docs/distributed.md``.  petsc4py
and mpi4py are imported only when a function here needs them.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> from femkron.petsc import kron_rows, row_partition
>>> A = fk.stiffness(fk.TensorSpace.box([(0, 1), (0, 1)], cells=(3, 2), order=2))
>>> A.shape, row_partition(A.out_shape, 2)      # 7×5 grid on 2 ranks: 4 and 3 slabs of x
((35, 35), array([ 0, 20, 35]))
>>> block = kron_rows(A, 20, 35)                # rank 1's rows, from the 1D factors only
>>> block.shape
(15, 35)
>>> bool(abs(block - A.tocsr()[20:35]).max() < 1e-14)
True
"""

from .benchmark import bench
from .convert import to_petsc, to_petsc_vec
from .env import PetscUnavailableError, available
from .ksp import ksp_solve, solve
from .problem import GATHER_LIMIT, DistributedSolution, poisson  # noqa: F401 (GATHER_LIMIT: documented)
from .rows import kron_rows, row_partition

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
