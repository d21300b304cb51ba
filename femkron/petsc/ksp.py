"""Solving with PETSc KSP: option checking, :func:`ksp_solve` and :func:`solve`.

:func:`ksp_solve` runs a KSP (CG + GAMG by default, BoomerAMG with ``pc_type="hypre"``) on a
PETSc matrix and vector, with options from the caller (checked to be valid and the same on
every rank) and from the PETSc options database; :func:`solve` is what
``fk.solve(A, b, method="petsc")`` runs for a :class:`~femkron.KronOperator`.
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_int, as_real
from ..errors import ConvergenceError, FemkronError, FemkronTypeError, FemkronValueError
from ..linalg.info import SolveInfo
from .collective import agree, allgather_blocks, communicators
from .convert import to_petsc, to_petsc_vec
from .env import import_petsc

__all__ = ["ksp_solve", "solve"]

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


def _check_options(PETSc, options, mpicomm):  # noqa: N803 (petsc4py's module name)
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
    agree(mpicomm, message)
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
    PETSc, _ = import_petsc()  # noqa: N806 (petsc4py's module name)
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
    agree(mcomm, message)
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
    info = SolveInfo(
        method="petsc",
        iterations=int(its),
        residual=residual,
        seconds=seconds,
        setup_seconds=setup,
        converged=reason > 0,
        history=history,
        note=note,
    )
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
    _, pcomm, mpicomm = communicators(comm)
    mat = to_petsc(A, comm=pcomm)
    bvec = to_petsc_vec(b, mat)
    x, info = ksp_solve(mat, bvec, rtol=rtol, maxiter=maxiter, nullspace=singular, **options)
    lo, _ = mat.getOwnershipRange()
    bounds = mpicomm.allgather(lo) + [A.shape[0]]
    out = allgather_blocks(mpicomm, x.getArray(readonly=True), (A.shape[0],), bounds)
    for obj in (x, bvec, mat):
        obj.destroy()
    return out, info
