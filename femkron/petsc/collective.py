"""Collective helpers on a communicator: resolve it, agree on errors, gather blocks.

Every function here is collective: all ranks of the communicator must call it at the same
point.  :func:`agree` is how a rank-local problem (a wrong local size, an option that differs
between ranks) becomes the same exception on every rank instead of a deadlock in the next
collective call.
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronError, FemkronTypeError, FemkronValueError
from .env import import_petsc

__all__ = ["communicators", "agree", "allgather_blocks"]


def communicators(comm):
    """``(PETSc, pcomm, mpicomm)``: petsc4py and the communicator in both forms.

    ``pcomm`` is the ``PETSc.Comm`` of ``comm`` (``None`` for COMM_WORLD, a PETSc or an
    mpi4py communicator) and ``mpicomm`` its mpi4py communicator.
    """
    PETSc, MPI = import_petsc()  # noqa: N806 (the modules' own names)
    if comm is None:
        pcomm = PETSc.COMM_WORLD
    elif isinstance(comm, PETSc.Comm):
        pcomm = comm
    elif isinstance(comm, MPI.Comm):
        pcomm = PETSc.Comm(comm)
    else:
        raise FemkronTypeError(
            f"comm must be None (PETSc.COMM_WORLD), a petsc4py PETSc.Comm or an mpi4py "
            f"communicator, got {type(comm).__name__}"
        )
    return PETSc, pcomm, pcomm.tompi4py()


def agree(mpicomm, message, cls=FemkronValueError):
    """Collective check: raise ``cls`` on every rank when any rank has a ``message``.

    ``message`` may also be a femkron exception: its class and text are raised everywhere.

    Every rank must call this at the same point; it is the only way a rank-local problem
    (a wrong local size, an option that differs between ranks) becomes the same error
    everywhere instead of a deadlock in the next collective call.
    """
    if isinstance(message, FemkronError):
        message = (type(message).__name__, str(message))
    messages = mpicomm.allgather(message)
    bad = [(r, m) for r, m in enumerate(messages) if m is not None]
    if bad:
        r, m = bad[0]
        if isinstance(m, tuple):
            kinds = {c.__name__: c for c in (FemkronTypeError, FemkronValueError)}
            cls, m = kinds.get(m[0], FemkronValueError), m[1]
        where = f"rank {r}" if mpicomm.Get_size() > 1 else "this rank"
        more = f" (and {len(bad) - 1} other rank(s))" if len(bad) > 1 else ""
        raise cls(f"{m} [on {where}{more}]")


def allgather_blocks(mpicomm, local, shape, bounds):
    """The whole array of ``shape`` on every rank, from each rank's block of axis 0.

    Its slabs ``bounds[r]:bounds[r + 1]`` of axis 0 are the ``local`` blocks of the ranks ``r``.
    """
    from mpi4py import MPI

    block = int(np.prod(shape[1:], dtype=np.int64))
    counts = np.diff(bounds) * block
    displs = np.asarray(bounds[:-1]) * block
    out = np.empty(int(np.prod(shape, dtype=np.int64)))
    mpicomm.Allgatherv(
        np.ascontiguousarray(local, dtype=float).reshape(-1), [out, counts, displs, MPI.DOUBLE]
    )
    return out.reshape(shape)
