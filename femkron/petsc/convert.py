"""A :class:`~femkron.KronOperator` as a distributed PETSc matrix, and vectors in its layout.

:func:`to_petsc` builds the ``AIJ`` matrix (``MPIAIJ`` on more than one rank) with every rank
generating only its own block of rows from the 1D factors (:func:`~femkron.petsc.kron_rows`)
and handing PETSc an exactly preallocated local CSR; :func:`to_petsc_vec` copies an array
into a ``PETSc.Vec`` in the row layout of such a matrix.
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronTypeError, FemkronValueError
from ..kron.operator import KronOperator
from .collective import agree, communicators
from .env import import_petsc
from .rows import kron_rows, row_partition

__all__ = ["to_petsc", "to_petsc_vec"]


def to_petsc(operator, comm=None, rows=None):
    """The distributed PETSc matrix of a :class:`~femkron.KronOperator`.

    Each rank generates only its own rows from the 1D factors (:func:`kron_rows`) and passes
    them to ``MatMPIAIJSetPreallocationCSR``: the preallocation is exact, no rank ever holds
    another rank's rows, and no global matrix exists anywhere.  Collective on ``comm``.

    Parameters
    ----------
    operator : KronOperator
        The same operator on every rank (only its small 1D factors are stored).  Apply
        boundary conditions first: ``fk.BoundaryConditions(V, bc).constrain(A)``.
    comm : PETSc.Comm or mpi4py communicator, optional
        Defaults to ``PETSc.COMM_WORLD``.
    rows : int or sequence of int, optional
        This rank's number of rows, or the ``size + 1`` row offsets of all ranks.  By default
        the rows are split into whole slabs of the first grid axis (:func:`row_partition`);
        a square operator gets the same column layout.

    Returns
    -------
    petsc4py.PETSc.Mat
        Type ``aij`` (``mpiaij`` on more than one rank, ``seqaij`` on one), assembled.

    Examples
    --------
    >>> import pytest
    >>> PETSc = pytest.importorskip("petsc4py.PETSc")
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> mat = to_petsc(A)
    >>> mat.getSize()
    (49, 49)
    >>> lo, hi = mat.getOwnershipRange()
    >>> bool(abs(mat.getValues(range(lo, hi), range(49)) - A.toarray()[lo:hi]).max() < 1e-13)
    True
    """
    PETSc, pcomm, mpicomm = communicators(comm)  # noqa: N806 (petsc4py's module name)
    rank = mpicomm.Get_rank()
    message = None
    if not isinstance(operator, KronOperator):
        message = f"operator must be a KronOperator, got {type(operator).__name__}"
    shapes = mpicomm.allgather(None if message else operator.axis_shapes)
    agree(mpicomm, message, FemkronTypeError)
    if any(s != shapes[0] for s in shapes):
        differ = [r for r, s in enumerate(shapes) if s != shapes[0]]
        raise FemkronValueError(
            f"operator differs between ranks: rank 0 has factor shapes {shapes[0]}, rank "
            f"{differ[0]} has {shapes[differ[0]]}; build the same operator on every rank"
        )
    offsets = _row_offsets(operator, rows, mpicomm)
    nrows, ncols = operator.shape
    index_max = np.iinfo(PETSc.IntType).max
    if max(nrows, ncols) > index_max:
        raise FemkronValueError(
            f"the operator has {max(nrows, ncols)} rows/columns, more than this PETSc's "
            f"{np.dtype(PETSc.IntType).itemsize * 8}-bit indices allow; use a PETSc built with "
            "--with-64-bit-indices"
        )
    lo, hi = int(offsets[rank]), int(offsets[rank + 1])
    local = kron_rows(operator, lo, hi)
    message = None
    if local.nnz > index_max:
        message = f"{local.nnz} local entries exceed PETSc's index range; use more ranks"
    agree(mpicomm, message, FemkronValueError)
    square = nrows == ncols
    col_local = hi - lo if square else PETSc.DECIDE
    mat = PETSc.Mat().create(comm=pcomm)
    mat.setSizes(((hi - lo, nrows), (col_local, ncols)))
    mat.setType(PETSc.Mat.Type.AIJ)
    it = PETSc.IntType
    mat.setPreallocationCSR(
        (
            local.indptr.astype(it, copy=False),
            local.indices.astype(it, copy=False),
            local.data.astype(PETSc.ScalarType, copy=False),
        )
    )
    mat.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, True)
    mat.assemble()
    return mat


def _row_offsets(operator, rows, mpicomm):
    size = mpicomm.Get_size()
    nrows = operator.shape[0]
    if rows is None:
        shape = operator.out_shape
        return row_partition(shape, size, aligned=shape[0] >= size)
    message, offsets = None, None
    if isinstance(rows, (int, np.integer)) and not isinstance(rows, bool):
        if rows < 0:
            message = f"rows must be >= 0 (this rank's row count), got {rows}"
        counts = mpicomm.allgather(int(rows))
        agree(mpicomm, message)
        if sum(counts) != nrows:
            raise FemkronValueError(
                f"rows: the ranks' row counts {counts} add up to {sum(counts)}, but the "
                f"operator has {nrows} rows"
            )
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    try:
        offsets = np.asarray(rows, dtype=np.int64).ravel()
    except (TypeError, ValueError):
        message = f"rows must be None, an int or {size + 1} offsets, got {rows!r}"
    if message is None and (
        offsets.size != size + 1
        or offsets[0] != 0
        or offsets[-1] != nrows
        or np.any(np.diff(offsets) < 0)
    ):
        message = (
            f"rows given as offsets must be {size + 1} non-decreasing numbers from 0 to "
            f"{nrows}, got {rows!r}"
        )
    agree(mpicomm, message)
    everyone = mpicomm.allgather(offsets.tolist())
    if any(o != everyone[0] for o in everyone):
        raise FemkronValueError(f"rows: the ranks give different offsets {everyone}")
    return offsets


def to_petsc_vec(values, layout, local=False):
    """A distributed PETSc vector in the row layout of ``layout``.

    Parameters
    ----------
    values : array_like
        The whole vector (the same on every rank; each rank copies only its own part), or,
        with ``local=True``, this rank's part only.
    layout : PETSc.Mat or PETSc.Vec
        A matrix (its row layout is used) or a vector to match.
    local : bool
        ``values`` holds only this rank's entries.

    Returns
    -------
    petsc4py.PETSc.Vec

    Examples
    --------
    >>> import pytest
    >>> PETSc = pytest.importorskip("petsc4py.PETSc")
    >>> from femkron import KronOperator
    >>> mat = to_petsc(KronOperator.kron(2.0 * np.eye(3), np.eye(4)))
    >>> x = to_petsc_vec(np.arange(12.0), mat)
    >>> float(x.sum())
    66.0
    """
    PETSc, _ = import_petsc()  # noqa: N806 (petsc4py's module name)
    if isinstance(layout, PETSc.Mat):
        nloc, N = layout.getSizes()[0]  # the row layout
    elif isinstance(layout, PETSc.Vec):
        nloc, N = layout.getSizes()
    else:
        raise FemkronTypeError(
            f"layout must be a PETSc.Mat or PETSc.Vec, got {type(layout).__name__}"
        )
    pcomm = layout.getComm()
    lo, hi = layout.getOwnershipRange()
    mpicomm = pcomm.tompi4py()
    message, arr = None, None
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        message = f"values must be an array of numbers, got {type(values).__name__}"
    if message is None:
        want = nloc if local else N
        if arr.size != want:
            what = "this rank's part" if local else "the whole vector"
            message = (
                f"values has {arr.size} entries, but the layout needs {want} ({what}; "
                f"{N} in all, rows {lo}:{hi} here)"
            )
        elif not np.all(np.isfinite(arr)):
            message = "values contains NaN or inf"
    agree(mpicomm, message)
    vec = PETSc.Vec().createMPI((nloc, N), comm=pcomm)
    vec.getArray()[:] = arr if local else arr[lo:hi]
    return vec
