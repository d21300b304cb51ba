"""femkron operators in PETSc, distributed over MPI ranks (optional; needs petsc4py).

A :class:`~femkron.KronOperator` ``Σ_t c_t · A_t1 ⊗ … ⊗ A_tD`` becomes a PETSc ``AIJ``
matrix (``MPIAIJ`` on more than one rank) without any rank holding the global matrix: every
rank generates **only its own block of rows** from the 1D factors (:func:`kron_rows`) and
hands PETSc an exactly preallocated local CSR.  The load vector of a problem is computed the
same way, each rank integrating only over the cells of its slab of the first axis.

* :func:`to_petsc` — distributed ``PETSc.Mat`` of any KronOperator (boundary conditions are
  applied to the operator first, e.g. ``fk.BoundaryConditions(V, bc).constrain(A)``).
* :func:`to_petsc_vec` — distributed ``PETSc.Vec`` in the row layout of a matrix.
* :func:`ksp_solve` — PETSc KSP (CG + GAMG by default, BoomerAMG with ``pc_type="hypre"``),
  options from the caller and from the PETSc options database.
* :func:`poisson` — what ``fk.poisson(V, f, bc=bc, method="petsc", **options)`` runs: a
  :class:`DistributedSolution` on every rank, gathered by default for moderate sizes, the
  local block always available.
* :func:`kron_rows` and :func:`row_partition` — the plain numpy/scipy kernels (no PETSc),
  defined in ``femkron._petsc_rows`` with the slab right-hand side of :func:`poisson`.

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

from __future__ import annotations

import os
import time

import numpy as np
import scipy.sparse as sp

from .._validate import as_int, as_real
from ..errors import ConvergenceError, FemkronError, FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions
from ..fem.space import Space1D
from ..fem.tensor import TensorSpace, mass, stiffness
from ..kron.operator import KronOperator, apply_axis
from ..linalg.solve import SolveInfo
from ..problems import LinearSystem, Solution
from .rows import (
    CHUNK_ENTRIES,  # noqa: F401 (re-exported)
    kron_rows,
    row_partition,
    slab_rhs,
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

#: Gather the solution on every rank by default up to this many dofs.
GATHER_LIMIT = 10**7

_INSTALL = (
    "install PETSc for Python: with the distribution's packages, e.g. Debian/Ubuntu "
    "`apt-get install python3-petsc4py python3-mpi4py mpi-default-bin` and run femkron with "
    "that system Python (/usr/bin/python3), or `pip install petsc petsc4py mpi4py`, which "
    "compiles PETSc from source and needs MPI compilers"
)


class PetscUnavailableError(FemkronError, ImportError):
    """petsc4py or mpi4py cannot be imported (the message names the install routes)."""


def _import_petsc():
    """``(PETSc, MPI)``, or :class:`PetscUnavailableError` with the install routes."""
    try:
        from petsc4py import PETSc
    except ImportError as err:
        hint = ""
        debian = "/usr/lib/petscdir"
        if os.path.isdir(debian) and not os.environ.get("PETSC_DIR"):
            versions = sorted(os.listdir(debian))
            if versions:
                hint = (
                    f"; PETSc is installed under {debian} but petsc4py is not found: set "
                    f"PETSC_DIR={debian}/{versions[-1]}/x86_64-linux-gnu-real (or the arch "
                    "directory there), or also install petsc-dev"
                )
        raise PetscUnavailableError(
            f"femkron.petsc needs petsc4py, which cannot be imported ({err}); {_INSTALL}{hint}"
        ) from err
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise PetscUnavailableError(
            f"femkron.petsc needs mpi4py, which cannot be imported ({err}); {_INSTALL}"
        ) from err
    return PETSc, MPI


def available():
    """True when petsc4py and mpi4py can be imported.

    Examples
    --------
    >>> available() in (True, False)
    True
    """
    try:
        _import_petsc()
    except PetscUnavailableError:
        return False
    return True


# ---- communicators and agreement -----------------------------------------------------------
def _comms(comm):
    """``(PETSc, pcomm, mpicomm)``: petsc4py, the ``PETSc.Comm`` of ``comm`` (``None`` for
    COMM_WORLD, a PETSc or an mpi4py communicator) and its mpi4py communicator."""
    PETSc, MPI = _import_petsc()
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


def _agree(mpicomm, message, cls=FemkronValueError):
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


# ---- matrices and vectors -------------------------------------------------------------------
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
    PETSc, pcomm, mpicomm = _comms(comm)
    rank = mpicomm.Get_rank()
    message = None
    if not isinstance(operator, KronOperator):
        message = f"operator must be a KronOperator, got {type(operator).__name__}"
    shapes = mpicomm.allgather(None if message else operator.axis_shapes)
    _agree(mpicomm, message, FemkronTypeError)
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
    _agree(mpicomm, message, FemkronValueError)
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
        _agree(mpicomm, message)
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
    _agree(mpicomm, message)
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
    PETSc, _ = _import_petsc()
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
    _agree(mpicomm, message)
    vec = PETSc.Vec().createMPI((nloc, N), comm=pcomm)
    vec.getArray()[:] = arr if local else arr[lo:hi]
    return vec


# ---- KSP ------------------------------------------------------------------------------------
_DEFAULTS = {"ksp_type": "cg", "pc_type": "gamg"}


def _option_text(key, value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating, str)):
        return str(value)
    raise FemkronTypeError(
        f"PETSc option {key!r} must be a string, number, bool or None (a flag), got "
        f"{type(value).__name__}"
    )


def _check_options(PETSc, options, mpicomm):
    """Validated ``{name: text}`` (same on every rank) from the caller's options."""
    message, clean = None, {}
    try:
        for key, value in options.items():
            if not isinstance(key, str) or not key.strip("-"):
                raise FemkronTypeError(f"PETSc option names must be strings, got {key!r}")
            name = key.lstrip("-")
            clean[name] = _option_text(name, value)
        kinds = {
            "ksp_type": sorted(v for k, v in vars(PETSc.KSP.Type).items() if not k.startswith("_")),
            "pc_type": sorted(v for k, v in vars(PETSc.PC.Type).items() if not k.startswith("_")),
        }
        for name, accepted in kinds.items():
            if name in clean and clean[name] not in accepted:
                raise FemkronValueError(
                    f"{name}={clean[name]!r} is not a PETSc type; accepted: {', '.join(accepted)}"
                )
        if clean.get("pc_type") == "hypre" and not PETSc.Sys.hasExternalPackage("hypre"):
            raise FemkronValueError(
                "pc_type='hypre' (BoomerAMG) needs a PETSc built with hypre; this one has "
                "none: use pc_type='gamg'"
            )
    except FemkronError as err:
        message = err
    _agree(mpicomm, message)
    everyone = mpicomm.allgather(sorted(clean.items(), key=lambda kv: kv[0]))
    differ = [r for r, o in enumerate(everyone) if o != everyone[0]]
    if differ:
        raise FemkronValueError(
            f"PETSc options differ between ranks: rank 0 has {dict(everyone[0])}, rank "
            f"{differ[0]} has {dict(everyone[differ[0]])}; pass the same options everywhere"
        )
    return clean


def ksp_solve(mat, b, rtol=1e-10, maxiter=None, nullspace=False, options_prefix=None, **options):
    """Solve ``mat x = b`` with PETSc KSP.

    Parameters
    ----------
    mat : PETSc.Mat
    b : PETSc.Vec
        In the row layout of ``mat`` (see :func:`to_petsc_vec`).
    rtol : float
        Relative tolerance; with CG the unpreconditioned residual ``‖b - A x‖ ≤ rtol ‖b‖`` is
        used, like femkron's own solvers.
    maxiter : int, optional
    nullspace : bool
        The constant vector spans the kernel (pure Neumann / periodic).
    options_prefix : str, optional
        Prefix of this solve's options in the PETSc options database.
    **options
        PETSc options without the leading dash, e.g. ``ksp_type="cg"``, ``pc_type="gamg"``
        (the defaults), ``pc_type="hypre"`` (BoomerAMG), ``ksp_monitor=None`` (a flag).
        Options given on the command line (``-ksp_type gmres``) take precedence.

    Returns
    -------
    x : PETSc.Vec
    info : SolveInfo
        ``method="petsc"``, iterations, the true relative residual, seconds, and the
        KSP/PC types in ``note``.

    Raises
    ------
    ConvergenceError
        When KSP reports divergence (on every rank).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> import pytest
    >>> PETSc = pytest.importorskip("petsc4py.PETSc")
    >>> mat = to_petsc(A)
    >>> x, info = ksp_solve(mat, to_petsc_vec(np.ones(A.shape[0]), mat), rtol=1e-12)
    >>> info.method, bool(info.residual < 1e-12)
    ('petsc', True)
    """
    PETSc, _ = _import_petsc()
    if not isinstance(mat, PETSc.Mat):
        raise FemkronTypeError(f"mat must be a PETSc.Mat, got {type(mat).__name__}")
    if not isinstance(b, PETSc.Vec):
        raise FemkronTypeError(f"b must be a PETSc.Vec, got {type(b).__name__}")
    from mpi4py import MPI

    mcomm = mat.getComm().tompi4py()
    bcomm = b.getComm().tompi4py()
    if MPI.Comm.Compare(mcomm, bcomm) not in (MPI.IDENT, MPI.CONGRUENT):
        raise FemkronValueError(
            f"b lives on a different communicator ({bcomm.Get_size()} rank(s)) than mat "
            f"({mcomm.Get_size()} rank(s)); create b with to_petsc_vec(values, mat)"
        )
    message = None
    if b.getSizes() != mat.getSizes()[0]:
        message = (
            f"b has layout (local, global) = {b.getSizes()}, but mat's rows are "
            f"{mat.getSizes()[0]}; create b with to_petsc_vec(values, mat)"
        )
    try:
        rtol = as_real(rtol, "rtol", positive=True)
        if maxiter is not None:
            maxiter = as_int(maxiter, "maxiter", minimum=1)
        if options_prefix is not None and not isinstance(options_prefix, str):
            raise FemkronTypeError(
                f"options_prefix must be a string, got {type(options_prefix).__name__}"
            )
    except FemkronError as err:
        message = message or err
    _agree(mcomm, message)
    clean = _check_options(PETSc, {**_DEFAULTS, **options}, mcomm)
    prefix = options_prefix or ""
    t0 = time.perf_counter()
    ksp = PETSc.KSP().create(comm=mat.getComm())
    ksp.setOperators(mat)
    if prefix:
        ksp.setOptionsPrefix(prefix)
    db = PETSc.Options()
    inserted = []
    for name, text in clean.items():
        if not db.hasName(prefix + name):  # the options database (command line) wins
            db.setValue(prefix + name, text)
            inserted.append(prefix + name)
    ns = None
    try:
        ksp.setTolerances(rtol=rtol, atol=0.0, max_it=maxiter or PETSc.DEFAULT)
        if nullspace:
            ns = PETSc.NullSpace().create(constant=True, comm=mat.getComm())
            mat.setNullSpace(ns)
        ksp.setFromOptions()
        if ksp.getType() == "cg" and not db.hasName(prefix + "ksp_norm_type"):
            ksp.setNormType(PETSc.KSP.NormType.UNPRECONDITIONED)
        ksp.setConvergenceHistory()
        ksp.setUp()
    except PETSc.Error as err:
        raise FemkronValueError(
            f"PETSc rejected the solver options {clean}: {str(err).strip()}"
        ) from None
    finally:
        for name in inserted:
            db.delValue(name)
    setup = time.perf_counter() - t0
    x = mat.createVecRight()
    rhs = b
    if ns is not None:
        rhs = b.copy()
        ns.remove(rhs)
    ksp.solve(rhs, x)
    if ns is not None:
        ns.remove(x)
    seconds = time.perf_counter() - t0
    reason = ksp.getConvergedReason()
    its = ksp.getIterationNumber()
    r = rhs.duplicate()
    mat.mult(x, r)
    r.aypx(-1.0, rhs)
    bnorm = rhs.norm()
    residual = float(r.norm() / bnorm) if bnorm > 0 else 0.0
    hist = np.asarray(ksp.getConvergenceHistory(), dtype=float)
    history = (hist / bnorm).tolist() if bnorm > 0 else hist.tolist()
    note = (
        f"KSP {ksp.getType()} + PC {ksp.getPC().getType()} on {mcomm.Get_size()} rank(s), "
        f"reason {reason}"
    )
    info = SolveInfo("petsc", int(its), residual, seconds, setup, reason > 0, history, note)
    ksp.destroy()
    if reason <= 0:
        names = {v: k for k, v in vars(PETSc.KSP.ConvergedReason).items() if not k.startswith("_")}
        raise ConvergenceError(
            f"PETSc KSP did not converge: {names.get(reason, reason)} after {its} iterations "
            f"(relative residual {residual:.2e}, rtol={rtol:g}); raise maxiter or change "
            "ksp_type/pc_type",
            iterations=int(its),
            residuals=history,
        )
    return x, info


def solve(A, b, rtol=1e-10, maxiter=None, singular=False, comm=None, **options):
    """Solve ``A x = b`` for a :class:`~femkron.KronOperator` with PETSc; ``x`` gathered.

    What ``fk.solve(A, b, method="petsc")`` runs.  ``b`` is the whole right-hand side (the
    same on every rank); the matrix is distributed by :func:`to_petsc`.  Collective.

    Returns
    -------
    x : ndarray
        The whole solution, on every rank.
    info : SolveInfo

    Examples
    --------
    >>> import femkron as fk
    >>> import pytest
    >>> PETSc = pytest.importorskip("petsc4py.PETSc")
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
    >>> b = np.ones(A.shape[0])
    >>> x, info = fk.solve(A, b, method="petsc", rtol=1e-12)
    >>> bool(np.allclose(x, fk.solve(A, b, method="fdm")[0], rtol=1e-9, atol=0))
    True
    """
    _, pcomm, mpicomm = _comms(comm)
    mat = to_petsc(A, comm=pcomm)
    bvec = to_petsc_vec(b, mat)
    x, info = ksp_solve(mat, bvec, rtol=rtol, maxiter=maxiter, nullspace=singular, **options)
    lo, _ = mat.getOwnershipRange()
    bounds = mpicomm.allgather(lo) + [A.shape[0]]
    out = _allgather_blocks(mpicomm, x.getArray(readonly=True), (A.shape[0],), bounds)
    for obj in (x, bvec, mat):
        obj.destroy()
    return out, info


# ---- whole problems -------------------------------------------------------------------------
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
        self._need_values("vector")
        return self.values.reshape(-1)

    def error(self, exact, norm="L2", grad=None, quad=None):
        self._need_values("error()")
        return super().error(exact, norm=norm, grad=grad, quad=quad)

    def __call__(self, *points):
        self._need_values("evaluation")
        return super().__call__(*points)

    def plot(self, **kwargs):
        self._need_values("plot()")
        return super().plot(**kwargs)

    def to_vtk(self, path, name="u"):
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
    PETSc, pcomm, mpicomm = _comms(comm)
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
    _agree(mpicomm, message)
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
    _agree(mpicomm, message)
    bvec = to_petsc_vec(b_local, mat, local=True)
    setup = time.perf_counter() - t0
    x, info = ksp_solve(
        mat, bvec, rtol=rtol, maxiter=maxiter, nullspace=singular,
        options_prefix=options_prefix, **options,
    )  # fmt: skip
    uc = x.getArray(readonly=True).copy()
    problem = "helmholtz" if sigma < 0 else "poisson"
    if global_rhs:
        uc_all = _allgather_blocks(mpicomm, uc, (int(offsets[-1]),), offsets)
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
            values = _allgather_blocks(mpicomm, local, V.shape, bounds)
    x.destroy()
    bvec.destroy()
    mat.destroy()
    info.setup_seconds += setup
    info.seconds = time.perf_counter() - t0
    return DistributedSolution(V, values, info, problem, local, local_slice, rank, size)


def _allgather_blocks(mpicomm, local, shape, bounds):
    """The array of ``shape`` whose slabs ``bounds[r]:bounds[r + 1]`` of axis 0 are the
    ``local`` blocks of the ranks ``r``, on every rank."""
    from mpi4py import MPI

    block = int(np.prod(shape[1:], dtype=np.int64))
    counts = np.diff(bounds) * block
    displs = np.asarray(bounds[:-1]) * block
    out = np.empty(int(np.prod(shape, dtype=np.int64)))
    mpicomm.Allgatherv(
        np.ascontiguousarray(local, dtype=float).reshape(-1), [out, counts, displs, MPI.DOUBLE]
    )
    return out.reshape(shape)


# ---- benchmark ------------------------------------------------------------------------------
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
    PETSc, pcomm, mpicomm = _comms(comm)
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
    """``mpiexec -n K python -m femkron.petsc [--cells N --order P --dim D]``: print
    :func:`bench` on rank 0."""
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


if __name__ == "__main__":  # pragma: no cover - exercised through mpiexec
    raise SystemExit(main())
