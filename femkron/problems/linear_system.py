"""The constrained linear system of a stationary problem, before it is solved.

:class:`LinearSystem` turns the data of ``-∇·(κ∇u) + σ u = f`` (coefficients, load, boundary
conditions) into the operator and right-hand side on the free dofs, in one of three
representations of the coefficient: a :class:`~femkron.KronOperator` (``"lowrank"``: exact
for constant or separable coefficients), a :class:`~femkron.MatrixFreeOperator`
(``"matfree"``) or an element-by-element CSR matrix (``"assembled"``).  The problems
(:mod:`femkron.problems`) and the time stepping of :mod:`femkron.timestepping` solve it.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> system = LinearSystem(V, f=1.0, kappa=lambda x, y: 1 + x * y)
>>> system.path, system.A.shape, system.b.shape
('matfree', (9, 9), (9,))
"""

from __future__ import annotations

import numpy as np

from .._limits import check_peak, memory_limit
from .._validate import as_real, check_choice, is_number
from ..errors import FemkronTypeError, FemkronValueError
from ..fem.bc import BoundaryConditions
from ..fem.matfree import MatrixFreeOperator
from ..fem.tensor import (
    as_tensor_space,
    coefficient_quad,
    is_kronecker_coefficient,
    load_vector,
    mass,
    sample_coefficient,
    stiffness,
)

__all__ = ["LinearSystem", "COEFFICIENTS", "PROBLEM_VECTORS", "check_problem_size"]


#: Representations of a variable coefficient (see :func:`poisson`).
COEFFICIENTS = ("auto", "lowrank", "assembled", "matfree")


#: Largest relative error (to min |κ|) a low-rank expansion may leave: above it the
#: operator, and so the solution, would change by more than that.
EXPANSION_ERROR = 1e-8

#: Full-size float vectors a stationary problem holds besides its solver's (load vector,
#: boundary load, lifting, right-hand side, solution, its extension, error evaluation):
#: measured peaks of fdm and CG solves at 10^6 dofs are 13-17 vectors in all, solver included.
PROBLEM_VECTORS = 10


def check_problem_size(V, what, vectors=PROBLEM_VECTORS):
    """Refuse, before anything is allocated, a problem whose vectors alone pass the memory limit.

    Returns the bytes of those vectors (for the solver's whole-peak estimate).

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)] * 3, cells=800, order=1)
    >>> try:
    ...     check_problem_size(V, "poisson")
    ... except fk.ResourceError as err:
    ...     print(str(err)[:56])
    poisson on 513922401 dofs would need about 49.8 GiB at i
    """
    V = as_tensor_space(V)
    N = int(V.ndofs)
    held = 8 * N * vectors
    least = 8 * N * 3  # the cheapest solver's work vectors
    limit_dofs = memory_limit() // (8 * (vectors + 3))
    check_peak(
        {"problem vectors": held, "solver work (at least)": least},
        f"{what} on {N} dofs",
        f"at most about {limit_dofs:.3g} dofs fit: use fewer cells or a lower order, or "
        "raise the limit",
    )
    return held


def _is_negative_number(sigma):
    return is_number(sigma) and float(sigma) < 0


def _choose_path(V, kappa, sigma, coefficient):
    check_choice(coefficient, "coefficient", COEFFICIENTS)
    if V.coordinates.curvilinear:  # fem/curvilinear.py, fem/curvilinear_general.py
        # weighted Kronecker sums for constant/separable data; a general κ or σ takes the
        # element paths with the metric weights at the Gauss points (no low-rank expansion)
        kron = (kappa is None or is_number(kappa) or isinstance(kappa, (tuple, list))) and (
            is_number(sigma) or isinstance(sigma, (tuple, list))
        )
        if coefficient == "lowrank" and not kron:
            raise FemkronValueError(
                f"coefficient='lowrank' is not available for a general kappa or sigma in "
                f"{V.coordinates.name} coordinates: use 'auto', 'matfree' or 'assembled'",
                reason="curvilinear",
            )
        if coefficient == "auto":
            return "lowrank" if kron else "matfree"
        return coefficient
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
        Gauss points per cell for variable coefficients (default ``p + 1``).
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
        self.V = V = as_tensor_space(V)
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
                if info["error"] > EXPANSION_ERROR:
                    raise FemkronValueError(
                        f"coefficient='lowrank': the separable expansion of the coefficient "
                        f"misses it by {info['error']:.1e} relative to its minimum (ranks "
                        f"{info['rank']}, at most 64 per axis), so the solution would be "
                        "inaccurate; use coefficient='matfree' or 'assembled'",
                        reason="expansion-inaccurate",
                    )
            if robin is not None:
                A = A + robin
            self.A_full = A
        else:
            self._full_operator = op = self._matrix_free()
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
        """The constrained operator as a :class:`MatrixFreeOperator`.

        The separable preconditioner is built from it; made on demand for the low-rank path.
        """
        if self._operator is None:
            self._operator = self._matrix_free().constrained(self.bcs)
        return self._operator

    def _matrix_free(self):
        """The operator on all dofs as a :class:`MatrixFreeOperator` (no Robin terms)."""
        V, sig = self.V, self.sigma
        quad = coefficient_quad(V, self._quad)
        op = MatrixFreeOperator(V, self._kappa, 0.0 if is_number(sig) else sig, quad=quad)
        if is_number(sig) and sig != 0.0:
            op = op + sig * MatrixFreeOperator.mass(V, quad=quad)
        return op

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
