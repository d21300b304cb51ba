"""Timing of the distributed assembly: :func:`bench` and ``python -m femkron.petsc``.

:func:`bench` times, per rank, the generation of the rank's rows from the 1D factors and the
whole :func:`~femkron.petsc.to_petsc`, against femkron's serial ``A.tocsr()`` (on one rank),
and optionally a CG+GAMG solve; :func:`main` is the command line that prints it as JSON, run
as ``mpiexec -n K python -m femkron.petsc``.
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_int
from ..errors import FemkronError
from ..fem.bc import BoundaryConditions
from ..fem.tensor import TensorSpace, stiffness
from .collective import communicators
from .convert import to_petsc, to_petsc_vec
from .ksp import ksp_solve
from .rows import kron_rows, row_partition

__all__ = ["bench", "main"]


def bench(cells=256, order=2, dim=2, comm=None, repeat=3, solve=True):
    """Time the distributed assembly (and a CG+GAMG solve) against serial femkron.

    Every rank times :func:`kron_rows` for its rows and the whole :func:`to_petsc`; rank
    timings are gathered.  The serial reference is femkron's ``A.tocsr()`` of the same
    operator on one process (``serial_*`` entries, timed on rank 0 only when run on one rank,
    else ``None``).  Best of ``repeat``.

    Returns
    -------
    dict
        ``ranks``, ``ndofs``, ``nnz``, ``rows_per_rank``, ``kron_rows_seconds`` and
        ``to_petsc_seconds`` (one per rank), ``assembly_seconds`` (slowest rank: the wall time
        of the collective assembly), ``serial_tocsr_seconds``, ``solve_seconds``,
        ``iterations``.

    Examples
    --------
    >>> import pytest
    >>> PETSc = pytest.importorskip("petsc4py.PETSc")
    >>> r = bench(cells=8, order=2, repeat=1, solve=False)
    >>> r["ndofs"], len(r["to_petsc_seconds"]) == r["ranks"]
    (225, True)
    """
    PETSc, pcomm, mpicomm = communicators(comm)  # noqa: N806 (petsc4py's module name)
    size, rank = mpicomm.Get_size(), mpicomm.Get_rank()
    cells = as_int(cells, "cells", minimum=1)
    order = as_int(order, "order", minimum=1)
    dim = as_int(dim, "dim", minimum=1, maximum=3)
    repeat = as_int(repeat, "repeat", minimum=1)
    V = TensorSpace.box([(0.0, 1.0)] * dim, cells=cells, order=order)
    bcs = BoundaryConditions(V)
    A = bcs.constrain(stiffness(V))
    offsets = row_partition(A.out_shape, size, aligned=A.out_shape[0] >= size)
    lo, hi = int(offsets[rank]), int(offsets[rank + 1])
    t_rows, t_mat = np.inf, np.inf
    mat = None
    for _ in range(repeat):
        t = time.perf_counter()
        kron_rows(A, lo, hi)
        t_rows = min(t_rows, time.perf_counter() - t)
        if mat is not None:
            mat.destroy()
        mpicomm.Barrier()
        t = time.perf_counter()
        mat = to_petsc(A, comm=pcomm, rows=offsets)
        t_mat = min(t_mat, time.perf_counter() - t)
    nnz = int(mat.getInfo(PETSc.Mat.InfoType.GLOBAL_SUM)["nz_used"])
    serial = None
    if size == 1:
        serial = np.inf
        for _ in range(repeat):
            fresh = bcs.constrain(stiffness(V))  # nothing cached from an earlier call
            t = time.perf_counter()
            fresh.tocsr()
            serial = min(serial, time.perf_counter() - t)
    solve_s, its = None, None
    if solve:
        b = to_petsc_vec(np.ones(hi - lo), mat, local=True)
        _, info = ksp_solve(mat, b, rtol=1e-8)
        solve_s, its = info.seconds, info.iterations
    mat.destroy()
    rows_s = mpicomm.allgather(t_rows)
    mats_s = mpicomm.allgather(t_mat)
    return {
        "ranks": size,
        "dim": dim,
        "order": order,
        "cells": cells,
        "ndofs": int(A.shape[0]),
        "nnz": nnz,
        "rows_per_rank": np.diff(offsets).tolist(),
        "kron_rows_seconds": rows_s,
        "to_petsc_seconds": mats_s,
        "assembly_seconds": max(mats_s),
        "serial_tocsr_seconds": serial,
        "solve_seconds": solve_s,
        "iterations": its,
    }


def main(argv=None):
    """Command line ``mpiexec -n K python -m femkron.petsc``: print :func:`bench` on rank 0.

    Options ``--cells N --order P --dim D --repeat R --no-solve``; PETSc options may follow.
    Returns the exit status (2 when femkron rejects the arguments).
    """
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog="python -m femkron.petsc",
        description="Time distributed PETSc assembly of a femkron operator against serial.",
    )
    parser.add_argument("--cells", type=int, default=256)
    parser.add_argument("--order", type=int, default=2)
    parser.add_argument("--dim", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-solve", action="store_true")
    args, _ = parser.parse_known_args(argv)  # PETSc options may follow
    try:
        result = bench(
            args.cells, args.order, args.dim, repeat=args.repeat, solve=not args.no_solve
        )
    except FemkronError as err:
        print(f"femkron.petsc: {err}", flush=True)
        return 2
    from mpi4py import MPI

    if MPI.COMM_WORLD.Get_rank() == 0:
        print(json.dumps(result, indent=1))
    return 0
