"""Stationary problems on a tensor space: Poisson (any coefficient) and Helmholtz.

The system of a problem is built by :class:`~femkron.LinearSystem`
(:mod:`femkron.problems.linear_system`), solved by the solver
:func:`~femkron.make_solver` chooses, and returned as a :class:`~femkron.Solution`.

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

from .._validate import as_int, as_real, check_choice
from ..errors import FemkronTypeError, FemkronValueError
from ..linalg.solve import LOCAL_METHODS, METHODS, make_solver
from .linear_system import LinearSystem, _is_negative_number, check_problem_size
from .solution import Solution
from .union_problems import BoxUnion, union_poisson

__all__ = ["poisson", "helmholtz"]


def _solve_problem(V, f, kappa, bc, method, rtol, sigma, maxiter, coefficient, quad, tol, name):
    check_choice(method, "method", LOCAL_METHODS)
    rtol = as_real(rtol, "rtol", positive=True)
    if maxiter is not None:
        maxiter = as_int(maxiter, "maxiter", minimum=1)
    held = check_problem_size(V, name)
    t0 = time.perf_counter()
    system = LinearSystem(V, f, kappa, bc, sigma, coefficient=coefficient, quad=quad, tol=tol)
    solver = make_solver(
        system.A,
        method,
        held=held,
        rtol=rtol,
        maxiter=maxiter,
        singular=system.singular,
        fit=system.matrix_free_operator,  # curvilinear: nested solve of a radial fit
        krylov="gmres" if system.indefinite else "cg",
    )
    uc = solver.solve(system.b)
    info = solver.info
    u = system.solution_vector(uc)
    info.seconds = time.perf_counter() - t0
    coefficient_info = dict(system.coefficient_info)
    if info.method.startswith("fdm-"):
        coefficient_info["preconditioner"] = info.note
    return Solution(
        system.V, u, info, problem=name, coefficient=coefficient_info, conditions=system.bcs
    )


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
    V : TensorSpace or BoxUnion
        A union of boxes is solved exactly per box and glued by a Schur complement
        (:mod:`femkron.problems.union_problems`); it returns a
        :class:`~femkron.UnionSolution`.
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
        Gauss points per cell for variable coefficients (default ``p + 1``).
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
    if isinstance(V, BoxUnion):  # a union of boxes: problems/union_problems.py
        return union_poisson(V, f, kappa, bc, method, rtol, sigma, maxiter)
    check_choice(method, "method", METHODS)
    if method == "petsc":
        from ..petsc.problem import poisson as petsc_poisson

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
    if isinstance(V, BoxUnion):  # a union of boxes: problems/union_problems.py
        return union_poisson(V, f, kappa, bc, method, rtol, -k * k, maxiter, "helmholtz")
    return _solve_problem(
        V, f, kappa, bc, method, rtol, -k * k, maxiter, coefficient, quad, tol, "helmholtz"
    )
