"""Matrix-free variable-coefficient operators by sum factorisation.

:class:`MatrixFreeOperator` applies ``∫ κ∇u·∇v + σ u v`` for *any* coefficient without a
matrix: the coefficient lives at the Gauss points of the tensor grid, and the operator is

``A = Σ_d (⊗_e B_e..D_d..B_e)ᵀ diag(c_d) (⊗_e B_e..D_d..B_e) + (⊗B)ᵀ diag(c_σ) (⊗B)``

with ``B_e`` / ``D_e`` the sparse 1D maps from dofs to values / reference derivatives at the
Gauss points and ``c`` the coefficient times weights and Jacobians.  Every factor is applied
along its own axis (sum factorisation), so one product costs ``O(N·q)`` work and ``O(N·q^D /
p^D)`` memory; partial products are shared between the terms.

Its preconditioner, fast diagonalization of a separable fit of the coefficient, is
:class:`~femkron.SeparablePreconditioner` (:mod:`femkron.fem.separable_fit`).

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

import functools

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validate import as_real, is_number
from ..errors import FemkronValueError
from ..kron.operator import apply_axis
from .assembly import as_conditions, assemble_weighted, canonical_csr, reference_tables
from .coefficients import gauss_weights, outer_product, weight_components
from .tensor import (
    as_tensor_space,
    coefficient_components,
    coefficient_quad,
    sample_coefficient,
)

__all__ = ["MatrixFreeOperator"]


class _Geometry:
    """Per-axis Gauss weights, Jacobians and the sparse dof → Gauss point maps."""

    @functools.cached_property
    def W(self):
        """The tensor of Gauss weights on the Gauss grid (formed on first use)."""
        return outer_product(self.weights)

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
        self.shape = tuple(w.size for w in self.weights)
        # curvilinear: the metric weights J/h_d² and J per axis (fem/curvilinear_general.py)
        self.metric = None
        if V.coordinates.curvilinear:
            from .curvilinear_general import metric_factors

            self.metric = metric_factors(V, quad)


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
        Gauss points per cell and axis (default ``p + 1``, as in :func:`femkron.assemble`).

    Attributes
    ----------
    shape : (int, int)
    grid_shape : tuple of int
        Shape of the dof grid the operator acts on.
    quad : tuple of int
    poles : tuple
        The pole constraints of ``bcs`` (curvilinear spaces): the operator is then
        ``Pᵀ A P`` on the reduced dofs (``shape``), ``A`` acting on ``grid_shape``.

    Notes
    -----
    In curvilinear coordinates the metric weights ``J / h_d²`` (diffusion) and ``J``
    (reaction) multiply the coefficient at the Gauss points
    (:mod:`femkron.fem.curvilinear_general`); the preconditioner is then the nested
    diagonalization of a radial fit.

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
        self.boundary = (  # on the tensor grid of the free dofs (before any pole constraint)
            None
            if boundary is None or boundary_scale == 0.0
            else boundary_scale * boundary.project(bcs.P)
        )
        self.grid_shape = bcs.shape if bcs is not None else V.shape
        self.poles = tuple(getattr(bcs, "poles", ())) if bcs is not None else ()
        self._pole = None
        n = int(np.prod(self.grid_shape, dtype=np.int64))
        if self.poles:  # curvilinear poles: the operator is Pᵀ A P (kron/nested.py)
            self._pole = (bcs._pole_P, bcs._pole_P.T.tocsr())
            n = int(bcs._pole_P.shape[1])
        self.shape = (n, n)
        self.dtype = np.dtype(float)
        self._weighted = None  # (c, c_sigma): formed on first use (the products need them)

    @property
    def _c(self):
        """The diffusion components times weights and Jacobians (``None``: no diffusion)."""
        return self._weighted_coefficients()[0]

    @property
    def _c_sigma(self):
        """The reaction times weights (``None``: no reaction)."""
        return self._weighted_coefficients()[1]

    def _weighted_coefficients(self):
        if self._weighted is None:
            g = self.geometry
            c = c_sigma = None
            if self.kappa_values is not None:
                comps = self.kappa_values
                if g.metric is not None:
                    from .curvilinear_general import with_metric

                    comps = [with_metric(k, g.metric[0][d]) for d, k in enumerate(comps)]
                c = weight_components(comps, g.W, g.jac)
            if self.sigma_values is not None:
                c_sigma = self.sigma_values * g.W
                if g.metric is not None:
                    from .curvilinear_general import with_metric

                    c_sigma = with_metric(c_sigma, g.metric[1])
            self._weighted = (c, c_sigma)
        return self._weighted

    def _assembly_input(self):
        """``(c, c_sigma, scales)`` for the assemblers.

        Without a metric the Gauss weights and Jacobians are a tensor product, so they go
        into the per-axis maps (``scales``) and the coefficients are the sampled values
        themselves: no weighted copy on the Gauss grid.
        """
        g = self.geometry
        if g.metric is not None:
            c, c_sigma = self._weighted_coefficients()
            scales = None
        else:
            c, c_sigma, scales = self.kappa_values, self.sigma_values, (g.weights, g.jac)
        if c is None:
            c = [np.zeros(g.shape)] * self.V.dim
        if c_sigma is not None:
            c_sigma = np.broadcast_to(c_sigma, g.shape)
        return c, c_sigma, scales

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
        """The mass operator ``∫ u v`` on the same space, quadrature, conditions and Gauss grid.

        Built so that it combines with this one (``M + θ dt A``).

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
            if self._pole is not None:  # Pᵀ A P: the pole dofs copied along their rings
                U = (self._pole[0] @ x).reshape(self.grid_shape)
                return self._pole[1] @ self.apply_grid(U).reshape(-1)
            return self.apply_grid(x.reshape(self.grid_shape)).reshape(-1)
        if x.ndim == 2 and x.shape[0] == n:
            return np.column_stack([self @ x[:, j] for j in range(x.shape[1])])
        if x.shape == tuple(self.grid_shape) and self._pole is None:
            return self.apply_grid(x)
        raise FemkronValueError(
            f"cannot apply an operator of shape {self.shape} to an array of shape {x.shape}; "
            f"expected ({n},), ({n}, k) or the grid shape {tuple(self.grid_shape)}"
        )

    def dot(self, x):
        """The operator applied to ``x`` (``self @ x``)."""
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
        if self._pole is not None:  # a pole dof's entry sums its ring's block
            from .curvilinear_general import pole_diagonal

            return pole_diagonal(self.apply_grid, out, self.bcs)
        return out

    def tocsr(self):
        """The same discrete operator assembled element by element (canonical CSR)."""
        c, c_sigma, scales = self._assembly_input()
        A = assemble_weighted(self.V, c, c_sigma, self.quad, self.bcs, scales=scales)
        if self.bcs is not None and self.boundary_scale != 1.0:
            robin = self.bcs.robin_operator()
            if robin is not None:  # assemble_weighted adds the Robin terms once
                A = canonical_csr(
                    A + (self.boundary_scale - 1.0) * self.bcs.constrain(robin).tocsr()
                )
        return A

    @functools.cached_property
    def has_stencil(self):
        """Whether :meth:`tostencil` gives a stencil (read by the solver's cost model)."""
        from .stencil import stencil_axes

        if self._pole is not None or self.boundary is not None:
            return False
        return stencil_axes(self.V, self.quad, self.bcs) is not None

    def tostencil(self):
        """The same discrete operator stored by its diagonals, or ``None`` where it has none.

        A :class:`~femkron.fem.stencil.SymmetricStencil` with the values of :meth:`tocsr`
        when every axis's 1D pattern is a full band (``Q1`` without periodic axes, Robin
        terms or poles; see :mod:`femkron.fem.stencil`): no index arrays and only the
        diagonals on and above the main one, a third of CSR's memory, products as fast.  The
        solver home applies this form when its cost model assembles.

        Examples
        --------
        >>> import numpy as np
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
        >>> A = fk.MatrixFreeOperator(V, kappa=lambda x, y: 1 + x * y, bcs={})
        >>> S = A.tostencil()
        >>> S.format, S.offsets.size
        ('stencil', 5)
        >>> u = np.random.default_rng(0).standard_normal(A.shape[0])
        >>> bool(np.allclose(S @ u, A @ u))
        True
        """
        from .stencil import assemble_stencil_weighted

        if not self.has_stencil:
            return None
        c, c_sigma, scales = self._assembly_input()
        return assemble_stencil_weighted(self.V, c, c_sigma, self.quad, self.bcs, scales=scales)

    def contrast(self):
        """``max κ / min κ`` over the Gauss points and diffusion components (1 without κ).

        A bound of the contrast ``max(κ/κ̃) / min(κ/κ̃)`` of any constant fit, read by the
        cost model of :func:`femkron.make_solver` to predict fdm-CG iterations.

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=1)
        >>> A = fk.MatrixFreeOperator(V, lambda x: 1 + 8 * x, quad=1)  # midpoints 1/8 … 7/8
        >>> float(A.contrast())
        4.0
        """
        if self.kappa_values is None:
            return 1.0
        seen, lo, hi = set(), np.inf, 0.0
        for k in self.kappa_values:
            if id(k) not in seen:
                seen.add(id(k))
                lo, hi = min(lo, float(np.min(k))), max(hi, float(np.max(k)))
        return hi / lo if lo > 0 else np.inf

    @property
    def fit_transforms(self):
        """Whether fdm of the separable fit uses sine/Fourier transforms (no dense axis).

        True for uniform Q1 axes with Dirichlet or periodic ends (the constant fit of
        :class:`~femkron.SeparablePreconditioner` with ``fit="auto"``).
        """
        from .separable_fit import _transform_axes

        if self.V.coordinates.curvilinear:  # nested diagonalization: banded radial solves
            return False
        return _transform_axes(self.V, self.bcs)

    def aslinearoperator(self):
        """A ``scipy.sparse.linalg.LinearOperator`` view."""
        return spla.LinearOperator(self.shape, matvec=lambda x: self @ np.ravel(x), dtype=float)

    def preconditioner(self, singular=False):
        """:class:`~femkron.SeparablePreconditioner` of this operator.

        In curvilinear coordinates: the nested diagonalization of its radial-profile fit
        (:class:`~femkron.fem.curvilinear_general.CurvilinearFitPreconditioner`).
        """
        if self.V.coordinates.curvilinear:
            from .curvilinear_general import CurvilinearFitPreconditioner

            if self.bcs is None:
                raise FemkronValueError(
                    "the preconditioner of a curvilinear matrix-free operator needs its "
                    "boundary conditions (bcs=...)",
                    reason="no-conditions",
                )
            return CurvilinearFitPreconditioner(self, singular=singular)
        from .separable_fit import SeparablePreconditioner

        return SeparablePreconditioner(self, singular=singular)
