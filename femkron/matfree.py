"""Matrix-free variable-coefficient operators, their separable preconditioner, and Krylov
solvers.

:class:`MatrixFreeOperator` applies ``∫ κ∇u·∇v + σ u v`` for *any* coefficient without a
matrix: the coefficient lives at the Gauss points of the tensor grid, and the operator is

``A = Σ_d (⊗_e B_e..D_d..B_e)ᵀ diag(c_d) (⊗_e B_e..D_d..B_e) + (⊗B)ᵀ diag(c_σ) (⊗B)``

with ``B_e`` / ``D_e`` the sparse 1D maps from dofs to values / reference derivatives at the
Gauss points and ``c`` the coefficient times weights and Jacobians.  Every factor is applied
along its own axis (sum factorisation), so one product costs ``O(N·q)`` work and ``O(N·q^D /
p^D)`` memory; partial products are shared between the terms.

:class:`SeparablePreconditioner` approximates the coefficient by the separable field
``κ̃_d(x) = k_d(x_d) Π_{e≠d} m_e(x_e)`` (a least-squares fit of ``log κ``), whose stiffness
is a Kronecker sum that :class:`~femkron.FastDiagonalization` inverts exactly.  As a
preconditioner of conjugate gradients its condition number is bounded by the spread of
``κ/κ̃`` alone, so the iteration count does not grow with the mesh.

The Krylov methods that use them (:func:`~femkron.krylov.fcg`, :func:`~femkron.krylov.gmres`,
:func:`~femkron.krylov.bicgstab`) live in :mod:`femkron.krylov` and
:func:`~femkron.solvers.krylov_solve` in :mod:`femkron.solvers`; they are re-exported here.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> kappa = lambda x, y: 1 + 0.5 * np.sin(3 * x) * y
>>> A = fk.MatrixFreeOperator(V, kappa, bcs={})
>>> u = np.random.default_rng(0).standard_normal(A.shape[0])
>>> bool(np.allclose(A @ u, A.tocsr() @ u))
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._validate import as_real, check_choice, is_number
from .assembly import as_conditions, assemble_weighted, canonical_csr, reference_tables
from .coefficients import axis_shape, gauss_weights, outer_product, weight_components
from .errors import FemkronTypeError, FemkronValueError
from .kron import apply_axis
from .krylov import KRYLOV, bicgstab, fcg, gmres  # noqa: F401 (re-exported)
from .solvers import FastDiagonalization, krylov_solve  # noqa: F401 (krylov_solve re-exported)
from .tensor import (
    as_tensor_space,
    coefficient_components,
    coefficient_quad,
    sample_coefficient,
)

__all__ = [
    "MatrixFreeOperator",
    "SeparablePreconditioner",
    "gmres",
    "bicgstab",
    "fcg",
    "krylov_solve",
    "KRYLOV",
]


class _Geometry:
    """Per-axis Gauss weights, Jacobians and the sparse dof → Gauss point maps."""

    def __init__(self, V, quad, bcs):
        self.V = V
        self.quad = quad
        self.weights, self.jac = gauss_weights(V, quad)
        self.B, self.D = [], []
        for d, (s, q) in enumerate(zip(V.spaces, quad)):
            Bt, Dt = reference_tables(s, q)
            rows = np.repeat(np.arange(s.mesh.cells * q), s.order + 1)
            cols = np.repeat(s.cell_dofs, q, axis=0).ravel()
            shape = (s.mesh.cells * q, s.ndofs)
            B = sp.csr_matrix((np.tile(Bt, (s.mesh.cells, 1)).ravel(), (rows, cols)), shape)
            Dm = sp.csr_matrix((np.tile(Dt, (s.mesh.cells, 1)).ravel(), (rows, cols)), shape)
            if bcs is not None:
                B, Dm = B @ bcs.P[d], Dm @ bcs.P[d]
            self.B.append(canonical_csr(B))
            self.D.append(canonical_csr(Dm))
        self.Bt = [canonical_csr(B.T) for B in self.B]
        self.Dt = [canonical_csr(Dm.T) for Dm in self.D]
        self.W = outer_product(self.weights)
        self.shape = tuple(w.size for w in self.weights)


class MatrixFreeOperator:
    """``∫ κ∇u·∇v + σ u v`` applied by sum factorisation at the Gauss points.

    Parameters
    ----------
    V : TensorSpace
    kappa : number, callable, tuple of per-axis factors, or Anisotropic
        Diffusion coefficient, ``> 0`` at every Gauss point (checked).
    sigma : number or callable
        Reaction coefficient, ``>= 0`` (checked).
    bcs : BoundaryConditions, dict, or None
        ``None``: the operator on all dofs; otherwise on the free dofs of these conditions
        (Robin terms included), like ``bcs.constrain(A)`` of a :class:`KronOperator`.
    quad : int or tuple of int, optional
        Gauss points per cell and axis (default ``p + 2``, as in :func:`femkron.assemble`).

    Attributes
    ----------
    shape : (int, int)
    grid_shape : tuple of int
        Shape of the dof grid the operator acts on.
    quad : tuple of int

    Notes
    -----
    Operators on the same space, quadrature and conditions combine linearly
    (``M + 0.5 * A``) by combining their coefficients; :meth:`tocsr` assembles the same
    discrete operator element by element (:func:`femkron.assemble_weighted`).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)], cells=(3, 2, 2), order=(1, 2, 1))
    >>> A = fk.MatrixFreeOperator(V, kappa=lambda x, y, z: 1 + x * y * z, sigma=2.0)
    >>> A.shape
    (60, 60)
    >>> u = np.random.default_rng(1).standard_normal(60)
    >>> bool(np.allclose(A @ u, fk.assemble(V, lambda x, y, z: 1 + x * y * z, 2.0) @ u))
    True
    """

    def __init__(self, V, kappa=1.0, sigma=0.0, bcs=None, quad=None):
        V = as_tensor_space(V)
        bcs = as_conditions(V, bcs)
        quad = coefficient_quad(V, quad)
        comps = coefficient_components(V, kappa, quad)
        if is_number(sigma):
            sig = as_real(sigma, "sigma", nonnegative=True)
            sig = sig if sig != 0.0 else None
        else:
            sig = sample_coefficient(V, sigma, "sigma", quad, sign="nonnegative")
        self._init(V, bcs, quad, comps, sig, None, 1.0)

    @classmethod
    def _from_values(cls, V, bcs, quad, kappa_values, sigma_values, geometry, boundary_scale):
        op = cls.__new__(cls)
        op._init(V, bcs, quad, kappa_values, sigma_values, geometry, boundary_scale)
        return op

    def _init(self, V, bcs, quad, kappa_values, sigma_values, geometry, boundary_scale):
        self.V = V
        self.bcs = bcs
        self.quad = tuple(quad)
        self.kappa_values = kappa_values  # list of D arrays or None (no diffusion)
        self.sigma_values = sigma_values  # array, float or None
        self.geometry = geometry if geometry is not None else _Geometry(V, self.quad, bcs)
        self.boundary_scale = boundary_scale
        boundary = bcs.robin_operator() if bcs is not None else None
        self.boundary = (
            None
            if boundary is None or boundary_scale == 0.0
            else boundary_scale * bcs.constrain(boundary)
        )
        self.grid_shape = bcs.shape if bcs is not None else V.shape
        n = int(np.prod(self.grid_shape, dtype=np.int64))
        self.shape = (n, n)
        self.dtype = np.dtype(float)
        g = self.geometry
        self._c = None if kappa_values is None else weight_components(kappa_values, g.W, g.jac)
        self._c_sigma = None if sigma_values is None else sigma_values * g.W

    def __repr__(self):
        parts = []
        if self.kappa_values is not None:
            parts.append("diffusion")
        if self.sigma_values is not None:
            parts.append("reaction")
        if self.boundary is not None:
            parts.append("Robin")
        return (
            f"<MatrixFreeOperator {self.shape[0]}×{self.shape[1]} ({' + '.join(parts)}), "
            f"quad={self.quad}>"
        )

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def mass(cls, V, bcs=None, quad=None):
        """The mass operator ``∫ u v`` in the same representation (for time stepping)."""
        V = as_tensor_space(V)
        bcs = as_conditions(V, bcs)
        quad = coefficient_quad(V, quad)
        return cls._from_values(V, bcs, quad, None, 1.0, None, 0.0)

    def mass_operator(self):
        """The mass operator ``∫ u v`` on the same space, quadrature, conditions and Gauss
        grid, so that it combines with this one (``M + θ dt A``).

        Examples
        --------
        >>> import numpy as np
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
        >>> A = fk.MatrixFreeOperator(V, kappa=2.0)
        >>> np.round((A.mass_operator() + A).tocsr().toarray(), 3)
        array([[ 4.167, -3.917,  0.   ],
               [-3.917,  8.333, -3.917],
               [ 0.   , -3.917,  4.167]])
        """
        return MatrixFreeOperator._from_values(
            self.V, self.bcs, self.quad, None, 1.0, self.geometry, 0.0
        )

    def constrained(self, bcs):
        """The same coefficients on the free dofs of ``bcs`` (``None``: all dofs)."""
        bcs = as_conditions(self.V, bcs)
        return MatrixFreeOperator._from_values(
            self.V,
            bcs,
            self.quad,
            self.kappa_values,
            self.sigma_values,
            None,
            self.boundary_scale,
        )

    def _combine(self, other, a, b):
        if not isinstance(other, MatrixFreeOperator):
            return NotImplemented
        if other.V is not self.V or other.quad != self.quad or other.bcs is not self.bcs:
            raise FemkronValueError(
                "matrix-free operators combine only on the same space, quadrature and "
                "boundary conditions"
            )

        def mix(x, y):
            if x is None and y is None:
                return None
            if x is None:
                return b * y
            if y is None:
                return a * x
            return a * x + b * y

        if self.kappa_values is None and other.kappa_values is None:
            kv = None
        else:
            D = self.V.dim
            xs = self.kappa_values or [None] * D
            ys = other.kappa_values or [None] * D
            kv = [mix(x, y) for x, y in zip(xs, ys)]
        sv = mix(self.sigma_values, other.sigma_values)
        scale = a * self.boundary_scale + b * other.boundary_scale
        return MatrixFreeOperator._from_values(
            self.V, self.bcs, self.quad, kv, sv, self.geometry, scale
        )

    def _scaled(self, s):
        kv = None if self.kappa_values is None else [s * k for k in self.kappa_values]
        sv = None if self.sigma_values is None else s * self.sigma_values
        return MatrixFreeOperator._from_values(
            self.V, self.bcs, self.quad, kv, sv, self.geometry, s * self.boundary_scale
        )

    def __add__(self, other):
        return self._combine(other, 1.0, 1.0)

    def __sub__(self, other):
        return self._combine(other, 1.0, -1.0)

    def __mul__(self, scalar):
        if isinstance(scalar, bool) or not is_number(scalar):
            return NotImplemented
        return self._scaled(as_real(scalar, "scalar"))

    __rmul__ = __mul__

    def __neg__(self):
        return self._scaled(-1.0)

    # ---- application ----------------------------------------------------------------------
    def apply_grid(self, U):
        """Apply to an array of shape :attr:`grid_shape`."""
        g = self.geometry
        D = self.V.dim
        stiff = self._c is not None
        react = self._c_sigma is not None
        if not (stiff or react):
            out = np.zeros(self.grid_shape)
        else:
            parts = {None: np.asarray(U, dtype=float)}
            for e in reversed(range(D)):
                new = {}
                for key, X in parts.items():
                    if key is None:
                        if react or (stiff and e > 0):
                            new[None] = apply_axis(g.B[e], X, e)
                        if stiff:
                            new[e] = apply_axis(g.D[e], X, e)
                    else:
                        new[key] = apply_axis(g.B[e], X, e)
                parts = new
            weighted = {}
            for key, X in parts.items():
                if key is None:
                    if react:
                        weighted[None] = self._c_sigma * X
                else:
                    weighted[key] = self._c[key] * X
            for e in range(D):
                new, acc = {}, None
                for key, H in weighted.items():
                    if key is None or key == e:
                        part = apply_axis(g.Bt[e] if key is None else g.Dt[e], H, e)
                        acc = part if acc is None else acc + part
                    else:
                        new[key] = apply_axis(g.Bt[e], H, e)
                if acc is not None:
                    new[None] = acc
                weighted = new
            out = weighted[None]
        if self.boundary is not None:
            out = out + self.boundary.apply_grid(U)
        return out

    def __matmul__(self, x):
        x = np.asarray(x, dtype=float)
        n = self.shape[1]
        if x.ndim == 1 and x.shape[0] == n:
            return self.apply_grid(x.reshape(self.grid_shape)).reshape(-1)
        if x.ndim == 2 and x.shape[0] == n:
            return np.column_stack([self @ x[:, j] for j in range(x.shape[1])])
        if x.shape == tuple(self.grid_shape):
            return self.apply_grid(x)
        raise FemkronValueError(
            f"cannot apply an operator of shape {self.shape} to an array of shape {x.shape}; "
            f"expected ({n},), ({n}, k) or the grid shape {tuple(self.grid_shape)}"
        )

    def dot(self, x):
        return self @ x

    def diagonal(self):
        """The main diagonal, by sum factorisation with squared 1D maps."""
        g = self.geometry
        D = self.V.dim
        out = np.zeros(self.grid_shape)
        sq = lambda A: A.multiply(A).tocsr()  # noqa: E731
        terms = []
        if self._c is not None:
            terms += [(self._c[d], d) for d in range(D)]
        if self._c_sigma is not None:
            terms.append((np.broadcast_to(self._c_sigma, g.shape), None))
        for c, k in terms:
            X = c
            for e in range(D):
                X = apply_axis(sq(g.Dt[e] if e == k else g.Bt[e]), X, e)
            out += X
        out = out.reshape(-1)
        if self.boundary is not None:
            out = out + self.boundary.diagonal()
        return out

    def tocsr(self):
        """The same discrete operator assembled element by element (canonical CSR)."""
        g = self.geometry
        c = self._c if self._c is not None else [np.zeros(g.shape)] * self.V.dim
        c_sigma = None if self._c_sigma is None else np.broadcast_to(self._c_sigma, g.shape)
        A = assemble_weighted(self.V, c, c_sigma, self.quad, self.bcs)
        if self.bcs is not None and self.boundary_scale != 1.0:
            robin = self.bcs.robin_operator()
            if robin is not None:  # assemble_weighted adds the Robin terms once
                A = canonical_csr(
                    A + (self.boundary_scale - 1.0) * self.bcs.constrain(robin).tocsr()
                )
        return A

    def aslinearoperator(self):
        """A ``scipy.sparse.linalg.LinearOperator`` view."""
        return spla.LinearOperator(self.shape, matvec=lambda x: self @ np.ravel(x), dtype=float)

    def preconditioner(self, singular=False):
        """:class:`SeparablePreconditioner` of this operator."""
        return SeparablePreconditioner(self, singular=singular)


# ---- separable preconditioner -------------------------------------------------------------
def _transform_axes(V, bcs):
    """Whether every axis is uniform Q1 with Dirichlet or periodic ends (constant-coefficient
    factors then are Toeplitz/circulant: sine/Fourier transforms)."""
    if bcs is None:
        return False
    for s, ax in zip(V.spaces, bcs.axes):
        if s.order != 1 or getattr(s.mesh, "kind", None) != "uniform":
            return False
        if ax != "periodic" and not all(c.kind == "dirichlet" for c in ax):
            return False
    return True


def _weighted_mean(values, weights, keep):
    """Weighted mean of ``values`` (an array on the Gauss grid) over every axis but
    ``keep``: a 1D array along ``keep``."""
    X = values
    for e in reversed(range(values.ndim)):
        if e != keep:
            X = np.moveaxis(X, e, -1) @ (weights[e] / weights[e].sum())
    return X


class SeparablePreconditioner:
    """Fast diagonalization of a separable approximation of a :class:`MatrixFreeOperator`.

    Each diffusion component is approximated by ``κ̃_d(x) = k_d(x_d) Π_{e≠d} m_e(x_e)``, the
    weighted least-squares fit of ``log κ_d`` by a sum of 1D functions with one shared mass
    weight ``m_e`` per axis.  Then ``Σ_d M[m_0]⊗…⊗K[k_d]⊗…⊗M[m_{D-1}] (+ σ̃ ⊗M[m_e])`` is a
    Kronecker sum that :class:`~femkron.FastDiagonalization` inverts exactly in ``O(N·n)``;
    the reaction is replaced by its best constant multiple of ``Π m_e``.  Its condition
    number as a preconditioner is bounded by ``max(κ/κ̃) / min(κ/κ̃)``, independent of ``h``;
    a diagonal scaling by the remaining ratio ``κ/κ̃`` (``scale=True``) reduces it further.

    Parameters
    ----------
    operator : MatrixFreeOperator
        With boundary conditions (the preconditioner acts on the free dofs).
    singular : bool
        Pure Neumann/periodic without reaction: one zero eigenvalue is projected out.
    scale : bool
        Apply the diagonal scaling ``S = diag(κ/κ̃)^(-1/2)`` at the dofs around the fast
        diagonalization (``S F⁻¹ S``, Concus & Golub 1973), which corrects the local size of
        the coefficient and typically cuts the CG iterations by a factor 2-3.
    fdm : FastDiagonalization
    precision : {"single", "double"}
        Arithmetic of the fast diagonalization.  ``"single"`` halves the cost of its dense
        products; the Krylov method (:func:`fcg`, flexible CG) still computes residuals in
        double precision, so the accuracy of the solution is unchanged.  Sine/Fourier
        transforms run in double precision.
    fit : {"auto", "separable", "constant"}
        ``"separable"``: the fit above; ``"constant"``: ``κ̃`` its weighted geometric mean, so
        the 1D factors of uniform Q1 axes with Dirichlet or periodic ends are Toeplitz or
        circulant and the fast diagonalization uses sine/Fourier transforms (no dense
        eigenproblem; the diagonal scaling then carries all of ``κ``: about one more CG
        iteration at contrast 10, still independent of ``h``).  ``"auto"``: ``"constant"``
        when every axis is of that kind, else ``"separable"``.

    Attributes
    ----------
    scaling : ndarray or None
        The diagonal of ``S`` (``None``: no scaling, e.g. an exactly separable κ).
    contrast : float
        ``max(κ/κ̃) / min(κ/κ̃)`` over the Gauss points and components: a bound of the
        condition number of the preconditioned diffusion operator.
    setup_seconds : float
    """

    def __init__(self, operator, singular=False, scale=True, precision="single", fit="auto"):
        if not isinstance(operator, MatrixFreeOperator):
            raise FemkronTypeError(
                f"operator must be a MatrixFreeOperator, got {type(operator).__name__}"
            )
        t0 = time.perf_counter()
        op = operator
        V, g, D = op.V, op.geometry, op.V.dim
        kv = op.kappa_values
        if kv is None:
            kv = [np.ones(g.shape) * 1e-300] * D
        logs = {}
        for d in range(D):
            if id(kv[d]) not in logs:
                k = np.broadcast_to(kv[d], g.shape)
                if np.any(k <= 0):
                    raise FemkronValueError(
                        "the separable preconditioner needs a positive diffusion coefficient"
                    )
                logs[id(kv[d])] = np.log(k)
        L = [logs[id(kv[d])] for d in range(D)]
        marg = [[_weighted_mean(L[d], g.weights, e) for e in range(D)] for d in range(D)]
        grand = [float(np.sum(marg[d][0] * g.weights[0]) / g.weights[0].sum()) for d in range(D)]
        alpha = [marg[d][d] for d in range(D)]
        beta = []
        for e in range(D):
            others = [marg[d][e] - grand[d] for d in range(D) if d != e]
            beta.append(np.mean(others, axis=0) if others else np.zeros(g.shape[e]))
        fit = check_choice(fit, "fit", ("auto", "separable", "constant"))
        if fit == "auto":
            fit = "constant" if _transform_axes(V, op.bcs) else "separable"
        if fit == "constant":
            w = g.weights
            alpha = [np.full_like(a, np.sum(a * w[d]) / w[d].sum()) for d, a in enumerate(alpha)]
            beta = [np.full_like(b, np.sum(b * w[e]) / w[e].sum()) for e, b in enumerate(beta)]
        self.fit = fit
        # contrast of κ / κ̃ (a bound of the preconditioned condition number)
        ratios = []
        for d in range(D):
            fit = sum((alpha[d] if e == d else beta[e]).reshape(axis_shape(D, e)) for e in range(D))
            ratios.append(L[d] - fit)
        self.contrast = float(np.exp(max(r.max() for r in ratios) - min(r.min() for r in ratios)))
        # diagonal scaling by the remaining ratio r = κ/κ̃ (Concus & Golub 1973): the
        # preconditioner S F⁻¹ S with S = diag(r)^(-1/2) at the dofs matches the local
        # magnitude of κ at every frequency, which leaves only the smooth part of r to CG
        self.scaling = None
        if scale and not singular and op.kappa_values is not None:
            rq = np.exp(sum(ratios) / D) * g.W
            num, den = rq, g.W
            for e in range(D):
                absBt = abs(g.Bt[e])
                num, den = apply_axis(absBt, num, e), apply_axis(absBt, den, e)
            ratio = (num / den).reshape(-1)
            if np.ptp(np.log(ratio)) > 1e-12:
                self.scaling = 1.0 / np.sqrt(ratio)
        Ks, Ms = [], []
        for d, s in enumerate(V.spaces):
            q = op.quad[d]
            cells = s.mesh.cells
            K = s.stiffness(np.exp(alpha[d]).reshape(cells, q))
            M = s.mass(np.exp(beta[d]).reshape(cells, q))
            bcs = op.bcs
            if bcs is not None:
                ax = bcs.axes[d]
                if ax != "periodic" and op.boundary is not None:
                    for side, cond in enumerate(ax):
                        if cond.kind == "robin" and cond.alpha != 0.0:
                            E = s.boundary("left" if side == 0 else "right")
                            K = K + (op.boundary_scale * cond.alpha) * E
                P = bcs.P[d]
                K, M = P.T @ K @ P, P.T @ M @ P
            Ks.append(K.toarray())
            Ms.append(M.toarray())
        sigma = 0.0
        if op.sigma_values is not None:
            mprod = np.exp(sum(beta[e].reshape(axis_shape(D, e)) for e in range(D)))
            ratio = np.broadcast_to(op.sigma_values, g.shape) / mprod
            sigma = float(np.sum(ratio * g.W) / np.sum(g.W))
        if op.kappa_values is None:
            Ks = [np.zeros_like(M) for M in Ms]
        self.fdm = FastDiagonalization(stiffness=Ks, masses=Ms, sigma=sigma, singular=singular)
        self.shape = self.fdm.shape
        self.precision = check_choice(precision, "precision", ("single", "double"))
        self._S = None
        if precision == "single" and "dense" in self.fdm.transforms:
            self._S = [np.ascontiguousarray(S, dtype=np.float32) for S in self.fdm.S]
            self._St = [np.ascontiguousarray(S, dtype=np.float32) for S in self.fdm.St]
            self._inv = self.fdm.inv_lam.astype(np.float32)
        self.setup_seconds = time.perf_counter() - t0

    def solve(self, r):
        """Apply the preconditioner ``S F⁻¹ S`` (``F`` the separable operator)."""
        s = self.scaling
        if s is not None:
            r = s * r
        if self._S is None:
            z = self.fdm.solve(r)
        else:
            U = np.asarray(r, dtype=np.float32).reshape(self.fdm.shape1d)
            for d in range(U.ndim):
                U = apply_axis(self._St[d], U, d)
            U *= self._inv
            for d in range(U.ndim):
                U = apply_axis(self._S[d], U, d)
            z = U.reshape(-1).astype(float)
        return z if s is None else s * z

    __call__ = solve
