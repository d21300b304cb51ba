"""Whole stationary problems on a tensor space: Poisson (any coefficient), Helmholtz,
advection–diffusion, eigenvalues.

The system of a problem is built by :class:`~femkron.LinearSystem` (:mod:`femkron.linear_system`)
and its result is a :class:`~femkron.Solution` (:mod:`femkron.solution`); the heat equation lives
in :mod:`femkron.timestepping`.  All of these are re-exported here.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
>>> exact = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
>>> sol = fk.poisson(V, lambda x, y: 2 * np.pi**2 * exact(x, y))
>>> sol.info.method
'fdm'
>>> bool(sol.error(exact, "L2") < 1e-4)
True
"""

from __future__ import annotations

import time

import numpy as np

from ._validate import as_int, as_real, check_choice, check_vectors, is_number
from .bc import BoundaryConditions
from .errors import ConvergenceError, FemkronTypeError, FemkronValueError
from .kron import KronOperator
from .krylov import bicgstab, gmres, jacobi, relative_residual
from .linear_system import COEFFICIENTS, LinearSystem, _is_negative_number
from .matfree import SeparablePreconditioner
from .solution import HeatSolution, Solution
from .solvers import (
    LOCAL_METHODS,
    METHODS,
    FastDiagonalization,
    SolveInfo,
    StructureError,
    krylov_solve,
    solve,
)
from .tensor import advection, as_tensor_space, load_vector, stiffness
from .timestepping import MAX_STEPS, SCHEMES, heat  # noqa: F401 (re-exported)

__all__ = [
    "poisson",
    "helmholtz",
    "advection_diffusion",
    "heat",
    "eigen",
    "Solution",
    "HeatSolution",
    "LinearSystem",
    "COEFFICIENTS",
]


def _solve_csr(A, b, method, rtol, maxiter, singular):
    """Direct (sparse LU) or AMG-preconditioned CG on an assembled matrix."""
    t0 = time.perf_counter()
    if method == "direct":
        # through fk.solve: LU size estimate, singular-matrix detection, residual check
        return solve(KronOperator.kron(A), b, method="direct", singular=singular)
    import pyamg

    ml = pyamg.smoothed_aggregation_solver(A, B=np.ones((A.shape[0], 1)), symmetry="hermitian")
    M = ml.aspreconditioner(cycle="V")
    setup = time.perf_counter() - t0
    x, info = krylov_solve(A, b, "cg", M.matvec, rtol, maxiter, singular, label="amg")
    info.setup_seconds = setup
    info.seconds = time.perf_counter() - t0
    return x, info


def _fdm_krylov(system, rtol, maxiter):
    """Krylov iterations preconditioned by fast diagonalization of a separable fit."""
    t0 = time.perf_counter()
    P = SeparablePreconditioner(system.matrix_free_operator(), singular=system.singular)
    krylov = "gmres" if system.indefinite else "cg"
    x, info = krylov_solve(
        system.A, system.b, krylov, P.solve, rtol, maxiter, system.singular, label=f"fdm-{krylov}"
    )
    info.setup_seconds = P.setup_seconds
    info.seconds = time.perf_counter() - t0
    info.note = (
        f"{krylov} preconditioned by fdm of a separable fit of the coefficient "
        f"(max/min of κ/κ̃: {P.contrast:.3g})"
    )
    return x, info


def _solve_system(system, method, rtol, maxiter):
    A, b, path = system.A, system.b, system.path
    if path == "lowrank":
        if method in ("auto", "fdm"):
            try:
                return solve(A, b, method="fdm", rtol=rtol, singular=system.singular)
            except StructureError:
                return _fdm_krylov(system, rtol, maxiter)
        return solve(A, b, method=method, rtol=rtol, maxiter=maxiter, singular=system.singular)
    if method == "auto":
        if path == "matfree":
            method = "fdm"
        else:
            method = "direct" if A.shape[0] <= 200_000 else "amg"
    if method == "fdm":
        return _fdm_krylov(system, rtol, maxiter)
    if method == "cg":
        return krylov_solve(
            A, b, "cg", jacobi(A.diagonal()), rtol, maxiter, system.singular, label="cg"
        )
    csr = A.tocsr() if path == "matfree" else A
    return _solve_csr(csr, b, method, rtol, maxiter, system.singular)


def _solve_problem(V, f, kappa, bc, method, rtol, sigma, maxiter, coefficient, quad, tol, name):
    check_choice(method, "method", LOCAL_METHODS)
    rtol = as_real(rtol, "rtol", positive=True)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    t0 = time.perf_counter()
    system = LinearSystem(V, f, kappa, bc, sigma, coefficient=coefficient, quad=quad, tol=tol)
    uc, info = _solve_system(system, method, rtol, maxiter)
    u = system.solution_vector(uc)
    info.seconds = time.perf_counter() - t0
    sol = Solution(system.V, u, info, problem=name)
    sol.coefficient = dict(system.coefficient_info)
    if info.note and "fdm of a separable fit" in info.note:
        sol.coefficient["preconditioner"] = info.note
    return sol


def poisson(
    V,
    f,
    kappa=1.0,
    bc=None,
    method="auto",
    rtol=1e-10,
    sigma=0.0,
    maxiter=None,
    coefficient="auto",
    quad=None,
    tol=1e-12,
    **petsc_options,
):
    """Solve ``-∇·(κ∇u) + σ u = f`` on the box with boundary conditions ``bc``.

    Parameters
    ----------
    V : TensorSpace
    f : number, callable ``f(x, y, ...)`` or tuple of per-axis callables
    kappa : number, tuple, callable or Anisotropic
        A number; a tuple ``(a, b[, c])`` of per-axis factors (the *separable* scalar
        ``κ = a(x) b(y) c(z)``); a callable ``κ(x, y, ...)``; or
        :class:`~femkron.Anisotropic` ``(κ_x, κ_y[, κ_z])`` for the diagonal tensor
        ``diag(κ_x, κ_y, κ_z)`` (each component a number or a callable of all coordinates).
        Must be ``> 0`` at every Gauss point.
    bc : dict or Condition, optional
        See :mod:`femkron.bc`; faces not named are homogeneous Dirichlet.
    method : {"auto", "fdm", "amg", "cg", "direct", "petsc"}
        ``"fdm"``: fast diagonalization, exact for a separable operator, else the
        preconditioner of conjugate gradients (GMRES for Helmholtz) built from a separable
        fit of κ; ``"amg"``: AMG-preconditioned CG on the assembled matrix; ``"cg"``:
        Jacobi-preconditioned CG; ``"direct"``: sparse LU; ``"auto"``: ``fdm`` for
        separable and matrix-free operators, else ``direct`` (small) or ``amg``.
        ``"petsc"``: distributed over the MPI ranks, see :func:`femkron.petsc.poisson`.
    rtol : float
        Tolerance of iterative methods.
    sigma : number or callable
        Reaction coefficient ``σ(x, y, ...) >= 0`` (for ``-k² u`` use :func:`helmholtz`).
    coefficient : {"auto", "lowrank", "assembled", "matfree"}
        How a variable κ (or σ) is represented: ``"lowrank"``: a :class:`KronOperator` of
        the truncated separable expansion (:func:`~femkron.separable_expansion`, exact up
        to ``tol``); ``"assembled"``: element-by-element CSR (:func:`~femkron.assemble`);
        ``"matfree"``: :class:`~femkron.MatrixFreeOperator`.  ``"auto"``: ``lowrank`` for
        constant or separable coefficients (one exact Kronecker sum) and in 1D, else
        ``matfree``.  All three use the same Gauss rule and give the same discrete
        operator up to the truncation tolerance.
    quad : int, optional
        Gauss points per cell for variable coefficients (default ``p + 2``).
    tol : float
        Truncation tolerance of the low-rank expansion.
    **petsc_options
        Only with ``method="petsc"``: PETSc options (``ksp_type="cg"``, ``pc_type="gamg"``,
        ...) and ``comm``, ``gather``, ``options_prefix``.

    Returns
    -------
    Solution
        ``sol.coefficient`` reports the path and, for the low-rank path, the expansion
        rank(s) and error.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=2)
    >>> sol = fk.poisson(V, 2.0, bc={"left": fk.Dirichlet(0.0), "right": fk.Neumann(-1.0)})
    >>> bool(abs(sol.error(lambda x: x * (1 - x), "max")) < 1e-12)
    True

    A variable coefficient, matrix-free with the fdm-preconditioned CG:

    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=16, order=2)
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> kappa = lambda x, y: 1 + x * y
    >>> f = lambda x, y: (1 + x * y) * 2 * np.pi**2 * ex(x, y) - np.pi * (
    ...     y * np.cos(np.pi * x) * np.sin(np.pi * y) + x * np.sin(np.pi * x) * np.cos(np.pi * y))
    >>> sol = fk.poisson(V, f, kappa=kappa)
    >>> sol.info.method, sol.coefficient["path"], bool(sol.error(ex) < 1e-4)
    ('fdm-cg', 'matfree', True)
    """
    check_choice(method, "method", METHODS)
    if method == "petsc":
        from .petsc import poisson as petsc_poisson

        return petsc_poisson(
            V, f, kappa=kappa, bc=bc, rtol=rtol, sigma=sigma, maxiter=maxiter, **petsc_options
        )
    if petsc_options:
        raise FemkronTypeError(
            f"poisson() got unexpected keyword argument(s) {', '.join(sorted(petsc_options))} "
            "(PETSc options are accepted only with method='petsc')"
        )
    if _is_negative_number(sigma):
        raise FemkronValueError(
            f"sigma must be >= 0 (a reaction coefficient), got {float(sigma)}; for "
            "-∇·(κ∇u) - k²u = f use fk.helmholtz(V, f, wavenumber=k)"
        )
    return _solve_problem(
        V, f, kappa, bc, method, rtol, sigma, maxiter, coefficient, quad, tol, "poisson"
    )


def helmholtz(
    V,
    f,
    wavenumber,
    kappa=1.0,
    bc=None,
    method="auto",
    rtol=1e-10,
    maxiter=None,
    coefficient="auto",
    quad=None,
    tol=1e-12,
):
    """Solve ``-∇·(κ∇u) - k² u = f`` (``k`` = ``wavenumber`` >= 0).

    Dirichlet, Neumann and Robin faces are all Kronecker sums, so with constant κ ``fdm``
    solves it directly (it refuses a wavenumber at a resonance, where the operator is
    singular).  A variable κ takes the paths of :func:`poisson`; the operator is
    indefinite, so the iterative path is GMRES preconditioned by fdm of a separable fit.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=12, order=3)
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(2 * np.pi * y)
    >>> sol = fk.helmholtz(V, lambda x, y: (5 * np.pi**2 - 9) * ex(x, y), wavenumber=3.0)
    >>> bool(sol.error(ex) < 1e-4)
    True
    """
    k = as_real(wavenumber, "wavenumber", nonnegative=True)
    return _solve_problem(
        V, f, kappa, bc, method, rtol, -k * k, maxiter, coefficient, quad, tol, "helmholtz"
    )


#: Solvers of :func:`advection_diffusion`.
ADVECTION_METHODS = ("auto", "gmres", "bicgstab", "direct")


def _velocity(V, velocity):
    if callable(velocity) and not is_number(velocity):
        raise FemkronTypeError(
            f"velocity must be a constant vector of {V.dim} numbers (one per axis), got a callable"
        )
    try:
        b = np.asarray(velocity, dtype=float)
    except (TypeError, ValueError):
        raise FemkronTypeError(
            f"velocity must be {V.dim} numbers (one per axis), got {velocity!r}"
        ) from None
    if b.shape != (V.dim,):
        raise FemkronValueError(
            f"velocity must have shape ({V.dim},) (one component per axis of this {V.dim}D "
            f"space), got shape {b.shape}"
        )
    if not np.all(np.isfinite(b)):
        raise FemkronValueError(f"velocity must be finite, got {velocity!r}")
    return b


def advection_diffusion(
    V,
    f,
    velocity,
    epsilon=1.0,
    bc=None,
    method="auto",
    rtol=1e-10,
    maxiter=None,
    restart=50,
):
    """Solve ``-ε Δu + b·∇u = f`` with a constant velocity ``b`` (Galerkin).

    The operator ``ε Σ_d M..K_d..M + Σ_d b_d M..C_d..M`` is a non-symmetric Kronecker sum of
    1D stiffness, mass and advection matrices.  ``method="gmres"`` (the default) and
    ``"bicgstab"`` are right-preconditioned by fast diagonalization of the symmetric
    diffusion part ``ε K`` (Robin terms included), which is exact when ``b = 0`` and needs a
    number of iterations independent of ``h`` for a fixed mesh Péclet number regime;
    ``"direct"`` is a sparse LU.  Neumann data are ``ε ∂u/∂n = g``.  Plain Galerkin is
    stable when diffusion dominates (cell Péclet number ``|b| h / (2ε p) < 1``).

    Parameters
    ----------
    velocity : sequence of V.dim numbers
    epsilon : float
        Diffusion coefficient, ``> 0``.
    restart : int
        GMRES restart length.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=12, order=2)
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> f = lambda x, y: (0.1 * 2 * np.pi**2 * ex(x, y)
    ...                   + np.pi * np.cos(np.pi * x) * np.sin(np.pi * y))
    >>> sol = fk.advection_diffusion(V, f, velocity=(1.0, 0.0), epsilon=0.1)
    >>> sol.info.method, bool(sol.error(ex) < 1e-4)
    ('gmres', True)
    """
    V = as_tensor_space(V)
    b_vec = _velocity(V, velocity)
    eps = as_real(epsilon, "epsilon", positive=True)
    check_choice(method, "method", ADVECTION_METHODS)
    rtol = as_real(rtol, "rtol", positive=True)
    restart = as_int(restart, "restart", minimum=1)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    t0 = time.perf_counter()
    bcs = BoundaryConditions(V, bc)
    if bcs.singular:
        raise FemkronValueError(
            "advection_diffusion needs a Dirichlet or Robin face (with only Neumann/periodic "
            "conditions the solution is not unique); got bc "
            f"{'; '.join(bcs.describe())}"
        )
    diffusion = eps * stiffness(V)
    robin = bcs.robin_operator()
    if robin is not None:
        diffusion = diffusion + robin
    A_full = diffusion + advection(V, b_vec)
    rhs = load_vector(V, f)
    extra = bcs.boundary_load()
    if extra is not None:
        rhs = rhs + extra
    lift = bcs.boundary_values()
    if lift is not None:
        rhs = rhs - A_full @ lift
    A = bcs.constrain(A_full)
    rhs = bcs.restrict(rhs)
    if method == "direct":
        import scipy.sparse.linalg as spla

        ts = time.perf_counter()
        Acsr = A.tocsr()
        lu = spla.splu(Acsr.tocsc())
        setup = time.perf_counter() - ts
        uc = lu.solve(rhs)
        info = SolveInfo("direct", 0, relative_residual(A, uc, rhs), 0.0, setup)
    else:
        krylov = "gmres" if method == "auto" else method
        fdm = FastDiagonalization(bcs.constrain(diffusion))
        if krylov == "gmres":
            x, it, hist = gmres(A.__matmul__, rhs, fdm.solve, rtol, maxiter, restart)
        else:
            x, it, hist = bicgstab(A.__matmul__, rhs, fdm.solve, rtol, maxiter)
        uc = x
        res = relative_residual(A, uc, rhs)
        if res > 10 * rtol:
            raise ConvergenceError(
                f"{krylov} did not reach rtol={rtol:g} in {it} iterations (relative residual "
                f"{res:.2e}); raise maxiter, or use method='direct' (strong advection may "
                "also need a finer mesh)",
                iterations=it,
                residuals=hist,
            )
        info = SolveInfo(krylov, it, res, 0.0, fdm.setup_seconds, True, hist)
        info.note = "preconditioned by fdm of the diffusion part"
    u = bcs.extend(uc, lift)
    info.seconds = time.perf_counter() - t0
    sol = Solution(V, u, info, problem="advection-diffusion")
    peclet = max(
        float(np.max(abs(b_vec[d]) * s.mesh.h / (2 * eps * s.order)))
        for d, s in enumerate(V.spaces)
    )
    sol.peclet = peclet
    return sol


def eigen(V, k=6, bc=None):
    """The ``k`` smallest eigenpairs of ``K u = λ M u`` (the Laplacian) on the box.

    Computed exactly from 1D eigenpairs: ``λ = λ_x + λ_y (+ λ_z)``, eigenvectors are
    Kronecker products of 1D ones.  Returns ``(w, v)`` like ``scipy.sparse.linalg.eigsh``:
    ``w`` ascending of shape ``(k,)`` and ``v`` of shape ``(V.ndofs, k)`` (full dofs, zero on
    Dirichlet faces, M-orthonormal).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=16, order=3)
    >>> w, v = fk.eigen(V, k=4)
    >>> np.round(w, 5)
    array([2., 5., 5., 8.])
    """
    V = as_tensor_space(V)
    bcs = BoundaryConditions(V, bc)
    n_free = bcs.ndofs
    k = as_int(k, "k", minimum=1, maximum=n_free)
    mats = bcs.axis_matrices()
    fdm = FastDiagonalization(
        stiffness=[K for K, _ in mats], masses=[M for _, M in mats], singular=bcs.singular
    )
    lam = fdm.lam_grid
    # the k smallest sums only involve the k smallest 1D eigenvalues of each axis
    order1d = [np.argsort(l)[: min(k, l.size)] for l in fdm.lams]
    sub = lam[np.ix_(*order1d)]
    flat = np.argsort(sub, axis=None, kind="stable")[:k]
    idx = np.unravel_index(flat, sub.shape)
    w = sub.ravel()[flat]
    check_vectors(V.ndofs, k, f"{k} eigenvectors of {V.ndofs} dofs")
    vecs = np.empty((V.ndofs, k))
    for j in range(k):
        parts = [fdm.S[d][:, order1d[d][idx[d][j]]] for d in range(V.dim)]
        full = [bcs.P[d] @ p for d, p in enumerate(parts)]
        vec = full[0]
        for p in full[1:]:
            vec = np.multiply.outer(vec, p)
        vecs[:, j] = vec.reshape(-1)
    return w, vecs
