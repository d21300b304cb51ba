"""Whole distributed problems: :func:`poisson` and its :class:`DistributedSolution`.

:func:`poisson` is what ``fk.poisson(V, f, bc=bc, method="petsc", **options)`` runs: the
constrained operator becomes a distributed matrix, each rank integrates the load over the
cells of its own slab of the x axis only, and KSP solves.  Every rank gets a
:class:`DistributedSolution`, gathered by default for moderate sizes, its local block always.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .._validate import as_real
from ..errors import FemkronError, FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions
from ..fem.space import Space1D
from ..fem.tensor import TensorSpace, mass, stiffness
from ..kron.operator import KronOperator, apply_axis
from ..problems.linear_system import LinearSystem
from ..problems.solution import Solution
from .collective import agree, allgather_blocks, communicators
from .convert import to_petsc, to_petsc_vec
from .ksp import ksp_solve
from .rows import row_partition, slab_rhs

__all__ = ["GATHER_LIMIT", "DistributedSolution", "poisson"]

#: Gather the solution on every rank by default up to this many dofs.
GATHER_LIMIT = 10**7


class DistributedSolution(Solution):
    """The solution of a distributed solve, on every rank.

    Attributes
    ----------
    values : ndarray of shape ``V.shape``, or None
        The whole solution when gathered (the default up to :data:`GATHER_LIMIT` dofs).
    local : ndarray
        This rank's block of the solution on the full dof grid: ``values[local_slice]``
        (axis 0 = x), Dirichlet values included.
    local_slice : slice
        The range of axis-0 dofs this rank holds.
    rank, size : int
        This rank and the number of ranks.
    info : SolveInfo
        ``method="petsc"``, iterations, residual, seconds, KSP/PC types in ``note``.
    """

    def __init__(self, V, values, info, problem, local, local_slice, rank, size):
        self.V = V
        self.values = None if values is None else np.asarray(values, float).reshape(V.shape)
        self.info = info
        self.problem = problem
        self.local = local
        self.local_slice = local_slice
        self.rank = rank
        self.size = size

    def __repr__(self):
        held = "gathered" if self.values is not None else "local block only"
        return (
            f"<DistributedSolution of {self.problem} on {self.V.shape} dofs, rank "
            f"{self.rank}/{self.size}, {held} ({self.info})>"
        )

    def _need_values(self, what):
        if self.values is None:
            raise FemkronValueError(
                f"{what} needs the whole solution, which was not gathered (gather=False); "
                "solve with gather=True, or work with .local"
            )

    @property
    def vector(self):
        """The whole solution as a flat vector (needs the gathered solution)."""
        self._need_values("vector")
        return self.values.reshape(-1)

    def error(self, exact, norm="L2", grad=None, quad=None):
        """As :meth:`femkron.Solution.error` (needs the gathered solution)."""
        self._need_values("error()")
        return super().error(exact, norm=norm, grad=grad, quad=quad)

    def __call__(self, *points):
        """Evaluate at points, as a :class:`~femkron.Solution` (needs the gathered solution)."""
        self._need_values("evaluation")
        return super().__call__(*points)

    def plot(self, **kwargs):
        """As :meth:`femkron.Solution.plot` (needs the gathered solution)."""
        self._need_values("plot()")
        return super().plot(**kwargs)

    def to_vtk(self, path, name="u"):
        """As :meth:`femkron.Solution.to_vtk` (needs the gathered solution)."""
        self._need_values("to_vtk()")
        return super().to_vtk(path, name=name)


def poisson(
    V,
    f,
    kappa=1.0,
    bc=None,
    rtol=1e-10,
    sigma=0.0,
    maxiter=None,
    comm=None,
    gather=None,
    options_prefix=None,
    **options,
):
    """Solve ``-∇·(κ∇u) + σ u = f`` with PETSc over the ranks of ``comm``.

    This is ``fk.poisson(V, f, ..., method="petsc", **options)``.  The constrained operator
    becomes a distributed matrix (:func:`to_petsc`, rows split into slabs of the x axis);
    each rank integrates the load over the cells of its own slab only, then KSP solves.
    Collective: call it on every rank with the same arguments.

    Parameters
    ----------
    V, f, kappa, bc, sigma
        As in :func:`femkron.poisson`.
    rtol, maxiter
        KSP tolerance (relative, unpreconditioned residual with CG) and iteration limit.
    comm : optional
        ``PETSc.COMM_WORLD`` by default.
    gather : bool, optional
        Gather the whole solution on every rank (default: up to :data:`GATHER_LIMIT` dofs).
    options_prefix : str, optional
        Prefix of the options in the PETSc options database.
    **options
        PETSc options such as ``ksp_type="cg"``, ``pc_type="gamg"`` (the defaults) or
        ``pc_type="hypre"``; see :func:`ksp_solve`.

    Returns
    -------
    DistributedSolution

    Notes
    -----
    A periodic x axis, and problems with only Neumann/periodic conditions (a constant in the
    kernel), build their right-hand side on every rank in full (O(N) memory per rank) and
    always gather; the matrix is distributed in every case.

    Examples
    --------
    >>> import pytest
    >>> PETSc = pytest.importorskip("petsc4py.PETSc")
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> sol = fk.poisson(V, lambda x, y: 2 * np.pi**2 * ex(x, y), method="petsc",
    ...                  ksp_type="cg", pc_type="gamg")
    >>> sol.info.method, bool(sol.error(ex) < 1e-3)
    ('petsc', True)
    """
    PETSc, pcomm, mpicomm = communicators(comm)  # noqa: N806 (petsc4py's module name)
    size, rank = mpicomm.Get_size(), mpicomm.Get_rank()
    t0 = time.perf_counter()
    message, system = None, None
    try:
        if gather is not None and not isinstance(gather, bool):
            raise FemkronTypeError(f"gather must be None, True or False, got {gather!r}")
        if isinstance(V, Space1D):
            V = TensorSpace([V])
        if not isinstance(V, TensorSpace):
            raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")
        sigma = as_real(sigma, "sigma")
        bcs = BoundaryConditions(V, bc)
        singular = bcs.singular and sigma == 0.0
        global_rhs = singular or bcs.axes[0] == "periodic"
        if global_rhs:
            system = LinearSystem(V, f, kappa, bc, sigma)
            A_full, A = system.A_full, system.A
        else:
            A_full = stiffness(V, kappa)
            if sigma != 0.0:
                A_full = A_full + sigma * mass(V)
            robin = bcs.robin_operator()
            if robin is not None:
                A_full = A_full + robin
            A = bcs.constrain(A_full)
        m0 = bcs.shape[0]
        if m0 < size:
            raise FemkronValueError(
                f"the x axis has {m0} free dofs, fewer than the {size} ranks: each rank needs "
                "at least one slab; refine the x axis or use fewer ranks"
            )
    except FemkronError as err:
        message = err
    agree(mpicomm, message)
    block = int(np.prod(bcs.shape[1:], dtype=np.int64))
    offsets = row_partition(bcs.shape, size)
    mat = to_petsc(A, comm=pcomm, rows=offsets)
    c_lo, c_hi = int(offsets[rank]) // block, int(offsets[rank + 1]) // block
    free0 = bcs.free_dofs(0)
    n0 = V.shape[0]
    bounds = [0] + [int(free0[offsets[r] // block]) for r in range(1, size)] + [n0]
    if bcs.axes[0] == "periodic":
        bounds[-1] = n0  # the identified last dof goes with the last rank
    local_slice = slice(bounds[rank], bounds[rank + 1])
    i_lo, i_hi = int(free0[c_lo]), int(free0[c_hi - 1]) + 1
    restrict_rest = KronOperator.kron(
        sp.identity(c_hi - c_lo, format="csr"), *[P.T.tocsr() for P in bcs.P[1:]]
    )
    message, lift = None, None
    try:
        if global_rhs:
            b_local = system.b[offsets[rank] : offsets[rank + 1]]
        else:
            rows, lift, s_lo = slab_rhs(V, bcs, A_full, f, i_lo, i_hi)
            b_local = restrict_rest.apply_grid(rows).reshape(-1)
    except FemkronError as err:
        message = err
    agree(mpicomm, message)
    bvec = to_petsc_vec(b_local, mat, local=True)
    setup = time.perf_counter() - t0
    x, info = ksp_solve(
        mat, bvec, rtol=rtol, maxiter=maxiter, nullspace=singular,
        options_prefix=options_prefix, **options,
    )  # fmt: skip
    uc = x.getArray(readonly=True).copy()
    problem = "helmholtz" if sigma < 0 else "poisson"
    if global_rhs:
        uc_all = allgather_blocks(mpicomm, uc, (int(offsets[-1]),), offsets)
        values = system.solution_vector(uc_all).reshape(V.shape)
        local = values[local_slice].copy()
    else:
        grid = uc.reshape((c_hi - c_lo,) + bcs.shape[1:])
        for d in range(1, V.dim):
            grid = apply_axis(bcs.P[d], grid, d)
        local = np.zeros((local_slice.stop - local_slice.start,) + V.shape[1:])
        local[i_lo - local_slice.start : i_hi - local_slice.start] = grid
        if lift is not None:
            local += lift[local_slice.start - s_lo : local_slice.stop - s_lo]
        values = None
        if gather or (gather is None and V.ndofs <= GATHER_LIMIT):
            values = allgather_blocks(mpicomm, local, V.shape, bounds)
    x.destroy()
    bvec.destroy()
    mat.destroy()
    info.setup_seconds += setup
    info.seconds = time.perf_counter() - t0
    return DistributedSolution(V, values, info, problem, local, local_slice, rank, size)
