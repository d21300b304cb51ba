"""Whole problems on a tensor space: Poisson (any coefficient), Helmholtz,
advection–diffusion, heat, eigenvalues.

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
import scipy.sparse as sp

from ._validate import as_int, as_real, as_vector, check_choice, check_vectors, is_number
from .bc import BoundaryConditions
from .errors import ConvergenceError, FemkronTypeError, FemkronValueError
from .kron import KronOperator, apply_axis
from .matfree import (
    MatrixFreeOperator,
    SeparablePreconditioner,
    bicgstab,
    fcg,
    gmres,
    krylov_solve,
)
from .norms import error as _error
from .solvers import (
    METHODS,
    FastDiagonalization,
    SolveInfo,
    StructureError,
    fallback_method,
    solve,
)
from .space import Space1D
from .tensor import (
    TensorSpace,
    advection,
    coefficient_quad,
    is_constant_coefficient,
    is_kronecker_coefficient,
    load_vector,
    mass,
    sample_coefficient,
    stiffness,
)

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

#: Most time steps one call of :func:`heat` takes.
MAX_STEPS = 10**7


def _space(V):
    if isinstance(V, Space1D):
        return TensorSpace([V])
    if not isinstance(V, TensorSpace):
        raise FemkronTypeError(f"V must be a TensorSpace or Space1D, got {type(V).__name__}")
    return V


class Solution:
    """A finite element function on a :class:`TensorSpace`, the result of a solve.

    Attributes
    ----------
    V : TensorSpace
    values : ndarray, shape ``V.shape``
        Values at the dofs (axis 0 = x).
    info : SolveInfo
    """

    def __init__(self, V, values, info=None, problem="poisson"):
        self.V = V
        self.values = np.asarray(values, dtype=float).reshape(V.shape)
        self.info = info
        self.problem = problem

    def __repr__(self):
        return f"<Solution of {self.problem} on {self.V.shape} dofs ({self.info})>"

    @property
    def vector(self):
        """The values as a flat dof vector."""
        return self.values.reshape(-1)

    def error(self, exact, norm="L2", grad=None, quad=None):
        """Error against ``exact`` in ``"L2"``, ``"H1"`` (seminorm, needs ``grad``) or
        ``"max"`` (at the dofs); see :func:`femkron.error`."""
        return _error(self.V, self.values, exact, norm=norm, grad=grad, quad=quad)

    def __call__(self, *points):
        """Evaluate on the tensor grid of 1D point arrays, one per axis."""
        return self.V.evaluate(self.values, points)

    def plot(self, **kwargs):
        """Plot with :func:`femkron.plot.plot_solution` (matplotlib is imported here)."""
        from . import plot

        return plot.plot_solution(self, **kwargs)

    def to_vtk(self, path, name="u"):
        """Write a ``.vtu`` file through meshio (extra ``femkron[io]``)."""
        from . import io

        return io.write_vtk(path, self.V, {name: self.values})


#: Representations of a variable coefficient (see :func:`poisson`).
COEFFICIENTS = ("auto", "lowrank", "assembled", "matfree")


def _is_negative_number(sigma):
    return is_number(sigma) and float(sigma) < 0


def _choose_path(V, kappa, sigma, coefficient):
    check_choice(coefficient, "coefficient", COEFFICIENTS)
    kron_kappa = is_kronecker_coefficient(kappa)
    kron_sigma = is_number(sigma) or isinstance(sigma, (tuple, list))
    if coefficient == "auto":
        if (kron_kappa and kron_sigma) or V.dim == 1:
            return "lowrank"
        return "matfree"
    return coefficient


class LinearSystem:
    """The constrained linear system of a problem, before solving.

    Parameters
    ----------
    V, f, kappa, bc, sigma
        As in :func:`poisson` (``sigma`` may be a negative number here: Helmholtz).
    coefficient : {"auto", "lowrank", "assembled", "matfree"}
        How a variable coefficient is represented, see :func:`poisson`.
    quad : int, optional
        Gauss points per cell for variable coefficients (default ``p + 2``).
    tol : float
        Truncation tolerance of the low-rank expansion.

    Attributes
    ----------
    A : KronOperator, MatrixFreeOperator or scipy.sparse.csr_matrix
        The operator on the free dofs.
    b : ndarray
        The right-hand side on the free dofs.
    bcs : BoundaryConditions
    lift : ndarray or None
        Full-size Dirichlet lifting.
    path : str
        ``"lowrank"`` (a :class:`KronOperator`; exact for constant or separable
        coefficients), ``"matfree"`` or ``"assembled"``.
    coefficient_info : dict
        ``path`` and, for the low-rank path, the ``rank`` and relative ``error`` of the
        expansion of each variable coefficient.
    """

    def __init__(
        self,
        V,
        f=0.0,
        kappa=1.0,
        bc=None,
        sigma=0.0,
        coefficient="auto",
        quad=None,
        tol=1e-12,
        check_compatible=True,
    ):
        self.V = V = _space(V)
        self.bcs = bcs = BoundaryConditions(V, bc)
        if not (is_number(sigma) or callable(sigma) or isinstance(sigma, (tuple, list))):
            raise FemkronTypeError(
                f"sigma must be a number or a callable sigma(x, y, ...) >= 0, got {sigma!r}"
            )
        if is_number(sigma):
            sigma = as_real(sigma, "sigma")
        self.sigma = sigma
        self._kappa, self._quad = kappa, quad
        self.path = path = _choose_path(V, kappa, sigma, coefficient)
        self.coefficient_info = info = {"path": path}
        self._operator = None
        robin = bcs.robin_operator()
        if path == "lowrank":
            expansions = []
            A = stiffness(V, kappa, tol=tol, quad=quad, expansions=expansions)
            if is_number(sigma):
                if sigma != 0.0:
                    A = A + sigma * mass(V)
            else:
                if callable(sigma):
                    sample_coefficient(V, sigma, "sigma", quad, sign="nonnegative")
                A = A + mass(V, sigma, tol=tol, quad=quad, expansions=expansions)
            if expansions:
                info["rank"] = [e.rank for e in expansions]
                info["error"] = max(e.error for e in expansions)
            if robin is not None:
                A = A + robin
            self.A_full = A
        else:
            quad = coefficient_quad(V, quad)
            op = MatrixFreeOperator(V, kappa, 0.0 if is_number(sigma) else sigma, quad=quad)
            if is_number(sigma) and sigma != 0.0:
                op = op + sigma * MatrixFreeOperator.mass(V, quad=quad)
            self._full_operator = op
            self.A_full = op if robin is None else _Sum(op, robin)
        b = load_vector(V, f)
        extra = bcs.boundary_load()
        if extra is not None:
            b = b + extra
        self.lift = bcs.boundary_values()
        if self.lift is not None:
            b = b - self.A_full @ self.lift
        if path == "lowrank":
            self.A = bcs.constrain(self.A_full)
        else:
            self._operator = self._full_operator.constrained(bcs)
            self.A = self._operator.tocsr() if path == "assembled" else self._operator
        self.b = bcs.restrict(b)
        self.singular = bcs.singular and is_number(sigma) and sigma == 0.0
        if self.singular and check_compatible:
            self._check_compatible(f)

    @property
    def indefinite(self):
        """True for a negative reaction (Helmholtz): CG does not apply."""
        return _is_negative_number(self.sigma)

    def matrix_free_operator(self):
        """The constrained operator as a :class:`MatrixFreeOperator` (the separable
        preconditioner is built from it); made on demand for the low-rank path."""
        if self._operator is None:
            V, sig = self.V, self.sigma
            quad = coefficient_quad(V, self._quad)
            op = MatrixFreeOperator(V, self._kappa, 0.0 if is_number(sig) else sig, quad=quad)
            if is_number(sig) and sig != 0.0:
                op = op + sig * MatrixFreeOperator.mass(V, quad=quad)
            self._operator = op.constrained(self.bcs)
        return self._operator

    def _check_compatible(self, f):
        total = float(self.b.sum())
        scale = float(np.abs(self.b).sum())
        if scale > 0 and abs(total) > 1e-6 * scale:
            # the load's quadrature error can exceed the tolerance on coarse meshes: judge the
            # data, not their discretisation, with a stronger rule before refusing them
            quad = 2 * max(self.V.orders) + 6
            b = load_vector(self.V, f, quad=quad)
            extra = self.bcs.boundary_load(quad=quad)
            if extra is not None:
                b = b + extra
            total, scale = float(b.sum()), float(np.abs(b).sum())
        if scale > 0 and abs(total) > 1e-6 * scale:
            raise FemkronValueError(
                "incompatible data for a problem with only Neumann/periodic conditions: "
                f"∫f + ∮g = {total:.3e} must vanish (relative {abs(total) / scale:.1e}); "
                "make the source balance the boundary flux, or add a Dirichlet/Robin face"
            )

    def solution_vector(self, uc):
        """Full dof vector (with lifting) from a constrained solution."""
        u = self.bcs.extend(uc, self.lift)
        if self.singular:
            m = mass(self.V)
            ones = np.ones(self.V.ndofs)
            u = u - (ones @ (m @ u)) / self.V.volume
        return u


class _Sum:
    """``A + B`` for operators of different kinds (only ``@`` is needed)."""

    def __init__(self, A, B):
        self.A, self.B = A, B
        self.shape = A.shape

    def __matmul__(self, x):
        return self.A @ x + self.B @ x


def _jacobi(diag):
    if np.any(diag <= 0):
        raise FemkronValueError("method='cg' needs a positive diagonal (an SPD operator)")
    inv = 1.0 / diag
    return lambda r: inv * r


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
            A, b, "cg", _jacobi(A.diagonal()), rtol, maxiter, system.singular, label="cg"
        )
    csr = A.tocsr() if path == "matfree" else A
    return _solve_csr(csr, b, method, rtol, maxiter, system.singular)


#: Solvers of the problems built here (``"petsc"`` is reached through :func:`poisson`).
LOCAL_METHODS = tuple(m for m in METHODS if m != "petsc")


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
    V = _space(V)
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
        bnorm = np.linalg.norm(rhs)
        res = float(np.linalg.norm(rhs - A @ uc) / bnorm) if bnorm > 0 else 0.0
        info = SolveInfo("direct", 0, res, 0.0, setup)
    else:
        krylov = "gmres" if method == "auto" else method
        fdm = FastDiagonalization(bcs.constrain(diffusion))
        if krylov == "gmres":
            x, it, hist = gmres(A.__matmul__, rhs, fdm.solve, rtol, maxiter, restart)
        else:
            x, it, hist = bicgstab(A.__matmul__, rhs, fdm.solve, rtol, maxiter)
        uc = x
        bnorm = np.linalg.norm(rhs)
        res = float(np.linalg.norm(rhs - A @ uc) / bnorm) if bnorm > 0 else 0.0
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
    V = _space(V)
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


class HeatSolution:
    """Snapshots of a heat-equation run.

    Attributes
    ----------
    t : ndarray
        Snapshot times.
    values : ndarray, shape ``(len(t),) + V.shape``
    info : SolveInfo of the step solver (from the first step)
    """

    def __init__(self, V, t, values, info, steps):
        self.V = V
        self.t = np.asarray(t)
        self.values = np.asarray(values)
        self.info = info
        self.steps = steps

    def __repr__(self):
        return f"<HeatSolution {len(self.t)} snapshots, t_end={self.t[-1]:g}, {self.steps} steps>"

    def snapshot(self, i):
        """Snapshot ``i`` as a :class:`Solution`."""
        return Solution(self.V, self.values[i], self.info, problem="heat")


#: Time integrators of :func:`heat`.
SCHEMES = ("theta", "modal")


def heat(
    V,
    u0,
    t_end,
    dt,
    theta=0.5,
    bc=None,
    f=0.0,
    kappa=1.0,
    method="auto",
    snapshots=11,
    progress=None,
    scheme="theta",
    coefficient="auto",
    rtol=1e-10,
):
    """Solve ``u_t - ∇·(κ∇u) = f`` from ``u(0) = u0``.

    ``scheme="theta"``: the θ-scheme, ``theta=1`` backward Euler (first order in time),
    ``theta=0.5`` Crank–Nicolson (second order).  Each step solves
    ``(M + θ dt A) uⁿ⁺¹ = (M - (1-θ) dt A) uⁿ + dt b``.  With a constant or separable κ that
    operator is one Kronecker sum and ``fdm`` solves it exactly after one setup; a variable
    κ takes the representation ``coefficient`` (as in :func:`poisson`) and any ``method``:
    ``fdm`` (CG preconditioned by fdm of a separable fit, warm-started from the previous
    step), ``direct`` (one LU for all steps), ``amg`` (one hierarchy) or ``cg``.

    ``scheme="modal"``: exact in time for a constant κ — in the fdm eigenbasis
    (``(⊗S)ᵀ M (⊗S) = I``, ``(⊗S)ᵀ A (⊗S) = Λ``) the semi-discrete system decouples into
    ``ŵ' + Λ ŵ = ĝ``, solved as ``ŵ(t) = e^{-Λt} ŵ(0) + (1 - e^{-Λt}) Λ⁻¹ ĝ`` at the snapshot
    times only (``dt`` fixes the snapshot times, no steps are taken).

    Boundary data and ``f`` are constant in time.  A tqdm progress bar runs over the steps
    (``progress=None``: only on a terminal; ``True``/``False`` force it).

    Returns
    -------
    HeatSolution
        ``snapshots`` equally spaced snapshots (multiples of the step) including ``t = 0``
        and ``t_end``.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
    >>> u0 = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> ht = fk.heat(V, u0, t_end=0.05, dt=0.005, snapshots=3)
    >>> ht.values.shape
    (3, 17, 17)
    >>> ratio = ht.values[-1].max() / ht.values[0].max()
    >>> bool(abs(ratio - np.exp(-2 * np.pi**2 * 0.05)) < 1e-3)
    True
    >>> exact = fk.heat(V, u0, t_end=0.05, dt=0.005, snapshots=3, scheme="modal")
    >>> bool(abs(exact.values[-1].max() / exact.values[0].max()
    ...          - np.exp(-2 * np.pi**2 * 0.05)) < 1e-5)
    True
    """
    from tqdm.auto import tqdm

    V = _space(V)
    t_end = as_real(t_end, "t_end", nonnegative=True)
    dt = as_real(dt, "dt", positive=True)
    theta = as_real(theta, "theta")
    if not 0.0 <= theta <= 1.0:
        raise FemkronValueError(f"theta must lie in [0, 1], got {theta}")
    snapshots = as_int(snapshots, "snapshots", minimum=2)
    check_choice(scheme, "scheme", SCHEMES)
    check_choice(method, "method", LOCAL_METHODS)
    rtol = as_real(rtol, "rtol", positive=True)
    if t_end / dt > MAX_STEPS:
        raise FemkronValueError(
            f"dt={dt:g} needs {t_end / dt:.3g} steps to reach t_end={t_end:g}; at most "
            f"{MAX_STEPS} steps are accepted (use a larger dt)"
        )
    if scheme == "modal" and not is_constant_coefficient(kappa):
        raise FemkronValueError(
            f"scheme='modal' needs a constant kappa (a number or an Anisotropic of numbers), "
            f"got {kappa!r}; use scheme='theta' for a variable coefficient"
        )
    steps = max(1, int(np.ceil(t_end / dt - 1e-12))) if t_end > 0 else 0
    check_vectors(V.ndofs, snapshots, f"{snapshots} snapshots of {V.ndofs} dofs")
    dt_eff = t_end / steps if steps else dt
    system = LinearSystem(V, f, kappa, bc, coefficient=coefficient, check_compatible=False)
    bcs = system.bcs
    if callable(u0) or is_number(u0):
        U0 = V.interpolate(u0).reshape(-1)
    else:
        U0 = as_vector(u0, "u0", V.ndofs)
    lift = system.lift if system.lift is not None else 0.0
    w = _select_free(bcs, U0 - lift)
    save_at = np.linspace(0, steps, snapshots).round().astype(int) if steps else [0] * snapshots
    times, frames = [], []

    def record(n, wc):
        times.append(n * dt_eff)
        frames.append(bcs.extend(wc, system.lift).reshape(V.shape))

    disable = None if progress is None else not progress
    t0 = time.perf_counter()
    if scheme == "modal":
        fdm = _modal_basis(V, bcs, kappa)
        Mc = bcs.constrain(mass(V))
        w_hat = _to_modes(fdm, Mc @ w)
        g_hat = _to_modes(fdm, system.b)
        lam = fdm.lam_grid.reshape(-1)
        zero = np.abs(lam) <= 1e-11 * np.abs(lam).max()
        safe = np.where(zero, 1.0, lam)
        for n in tqdm(list(save_at), desc="heat snapshots", disable=disable, leave=False):
            t = n * dt_eff
            decay = np.exp(-lam * t)
            phi = np.where(zero, t, -np.expm1(-lam * t) / safe)
            record(n, _from_modes(fdm, decay * w_hat + phi * g_hat))
        info = SolveInfo("modal", 0, 0.0, 0.0, fdm.setup_seconds)
        info.note = "exact in time in the fdm eigenbasis"
        info.seconds = time.perf_counter() - t0
        return HeatSolution(V, times, frames, info, 0)
    Mc, A = _mass_like(system), system.A
    left = Mc + (theta * dt_eff) * A
    right = Mc - ((1.0 - theta) * dt_eff) * A
    step_solve, info = _step_solver(system, left, theta * dt_eff, method, rtol)
    save_set = set(int(s) for s in save_at)
    if 0 in save_set:
        record(0, w)
    rhs_const = dt_eff * system.b
    for n in tqdm(range(1, steps + 1), desc="heat steps", disable=disable, leave=False):
        w = step_solve(right @ w + rhs_const, w)
        if n in save_set:
            record(n, w)
    info.seconds = time.perf_counter() - t0
    info.iterations = info.iterations or steps
    return HeatSolution(V, times, frames, info, steps)


def _modal_basis(V, bcs, kappa):
    """Fast diagonalization of the constrained constant-coefficient stiffness against the
    plain 1D masses (so that the eigenbasis is M-orthonormal)."""
    if kappa is None or is_number(kappa):
        comps = [as_real(1.0 if kappa is None else kappa, "kappa", positive=True)] * V.dim
    else:
        comps = list(kappa.components)
    Ks, Ms = [], []
    for d, s in enumerate(V.spaces):
        K = comps[d] * s.stiffness()
        ax = bcs.axes[d]
        if ax != "periodic":
            for side, cond in enumerate(ax):
                if cond.kind == "robin" and cond.alpha != 0.0:
                    K = K + cond.alpha * s.boundary("left" if side == 0 else "right")
        P = bcs.P[d]
        Ks.append((P.T @ K @ P).toarray())
        Ms.append((P.T @ s.mass() @ P).toarray())
    return FastDiagonalization(stiffness=Ks, masses=Ms, singular=bcs.singular)


def _to_modes(fdm, v):
    U = np.asarray(v, dtype=float).reshape(fdm.shape1d)
    for d in range(len(fdm.shape1d)):
        U = apply_axis(fdm.St[d], U, d)
    return U.reshape(-1)


def _from_modes(fdm, v):
    U = np.asarray(v, dtype=float).reshape(fdm.shape1d)
    for d in range(len(fdm.shape1d)):
        U = apply_axis(fdm.S[d], U, d)
    return U.reshape(-1)


def _mass_like(system):
    """The constrained mass operator in the representation of ``system.A``."""
    if system.path == "lowrank":
        return system.bcs.constrain(mass(system.V))
    op = system.matrix_free_operator()
    M = MatrixFreeOperator._from_values(system.V, op.bcs, op.quad, None, 1.0, op.geometry, 0.0)
    return M.tocsr() if system.path == "assembled" else M


def _check_fdm_accuracy(op, fdm):
    """Refuse (StructureError) a fast diagonalization that cannot solve ``op`` to
    ``FDM_BACKWARD_ERROR``, tried once on a random right-hand side (strongly graded meshes)."""
    from .solvers import FDM_BACKWARD_ERROR, backward_error

    x = np.random.default_rng(0).standard_normal(op.shape[1])
    b = op @ x
    omega = backward_error(op, fdm.solve(b), b)
    if not omega <= FDM_BACKWARD_ERROR:
        raise StructureError(
            f"fast diagonalization lost accuracy (componentwise backward error {omega:.1e}: the "
            "1D eigenproblems are too ill-conditioned, e.g. a strongly graded mesh)"
        )


def _step_solver(system, left, theta_dt, method, rtol):
    """``(solve(rhs, x0), info)`` for the operator ``left = M + θ dt A`` of every step."""
    path = system.path
    if path == "lowrank" and method in ("auto", "fdm"):
        try:
            fdm = FastDiagonalization(left)
            _check_fdm_accuracy(left, fdm)
            return (lambda rhs, x0: fdm.solve(rhs)), SolveInfo(
                "fdm", setup_seconds=fdm.setup_seconds
            )
        except StructureError as err:
            lost = "lost accuracy" in str(err)
            method = fallback_method(left) if lost and method == "auto" else "fdm"
    if method == "auto":
        method = "fdm" if path != "assembled" else "direct"
    if method == "direct" or method == "amg":
        csr = left.tocsr() if not sp.issparse(left) else sp.csr_matrix(left)
        t0 = time.perf_counter()
        if method == "direct":
            import scipy.sparse.linalg as spla

            lu = spla.splu(csr.tocsc())
            return (lambda rhs, x0: lu.solve(rhs)), SolveInfo(
                "direct", setup_seconds=time.perf_counter() - t0
            )
        import pyamg

        ml = pyamg.smoothed_aggregation_solver(csr, symmetry="hermitian")
        precond = ml.aspreconditioner(cycle="V").matvec
        apply_left = csr.__matmul__
        info = SolveInfo("amg", setup_seconds=time.perf_counter() - t0)
    elif method == "cg":
        precond = _jacobi(left.diagonal())
        apply_left = left.__matmul__
        info = SolveInfo("cg")
    else:  # fdm-preconditioned CG with a separable fit of M + θ dt A
        mf = system.matrix_free_operator()
        M = MatrixFreeOperator._from_values(system.V, mf.bcs, mf.quad, None, 1.0, mf.geometry, 0.0)
        pre = SeparablePreconditioner(M + theta_dt * mf)
        precond = pre.solve
        apply_left = left.__matmul__
        info = SolveInfo("fdm-cg", setup_seconds=pre.setup_seconds)
        info.note = f"CG preconditioned by fdm of a separable fit (max/min κ/κ̃ {pre.contrast:.3g})"
    total = [0]

    def step(rhs, x0):
        x, it, hist = fcg(apply_left, rhs, precond, rtol, None, x0=x0)
        if hist[-1] > rtol:
            raise ConvergenceError(
                f"{info.method} did not reach rtol={rtol:g} in a time step",
                iterations=it,
                residuals=hist,
            )
        total[0] += it
        info.iterations = total[0]
        return x

    return step, info


def _select_free(bcs, u):
    U = np.asarray(u).reshape(bcs.V.shape)
    for d in range(bcs.V.dim):
        U = np.take(U, bcs.free_dofs(d), axis=d)
    return U.reshape(-1)
