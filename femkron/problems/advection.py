"""Advection–diffusion ``-ε Δu + b·∇u = f`` with a constant velocity (Galerkin).

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> sol = fk.advection_diffusion(V, 1.0, velocity=(1.0, 0.5), epsilon=0.1)
>>> sol.info.method, bool(sol.peclet < 1)
('gmres', True)
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_int, as_real, check_choice, is_number
from ..errors import ConvergenceError, FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions
from ..fem.curvilinear_general import max_scale_factors
from ..fem.tensor import advection, as_tensor_space, load_vector, stiffness
from ..linalg.solve import make_solver
from .solution import Solution
from .union_problems import BoxUnion, union_advection_diffusion

__all__ = ["advection_diffusion", "ADVECTION_METHODS"]


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
        In curvilinear coordinates the constant coordinate rates ``dq_d/dt`` (polar
        ``(0, ω)``: rigid rotation; see :func:`femkron.advection`); the preconditioner is
        then the nested diagonalization of the diffusion part.
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
    if isinstance(V, BoxUnion):  # GMRES preconditioned by the union solve of ε K
        return union_advection_diffusion(V, f, velocity, epsilon, bc, method, rtol, maxiter)
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
        solver = make_solver(A, "direct", rtol=rtol)
    else:
        krylov = "gmres" if method == "auto" else method
        solver = make_solver(
            A,
            krylov,
            rtol=rtol,
            maxiter=maxiter,
            restart=restart,
            fit=bcs.constrain(diffusion),
            check=True,
        )
        exact = "nested diagonalization" if V.coordinates.curvilinear else "fdm"
        solver.info.note = f"preconditioned by {exact} of the diffusion part"
    try:
        uc = solver.solve(rhs)
    except ConvergenceError as err:
        raise ConvergenceError(
            f"{err}; strong advection may also need a finer mesh",
            iterations=err.iterations,
            residuals=err.residuals,
        ) from None
    info = solver.info
    u = bcs.extend(uc, lift)
    info.seconds = time.perf_counter() - t0
    # physical speed h_d |q̇_d| over physical cell size h_d Δq_d (h_d = 1 on a box)
    scale = max_scale_factors(V) if V.coordinates.curvilinear else (1.0,) * V.dim
    peclet = max(
        float(np.max(abs(b_vec[d]) * scale[d] ** 2 * s.mesh.h / (2 * eps * s.order)))
        for d, s in enumerate(V.spaces)
    )
    return Solution(V, u, info, problem="advection-diffusion", peclet=peclet)
