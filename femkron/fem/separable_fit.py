"""Fast diagonalization of a separable fit of a variable coefficient.

It is the preconditioner of the matrix-free operator.

A general coefficient ``κ`` is fitted, in the weighted least-squares sense of ``log κ``, by
``κ̃_d(x) = k_d(x_d) Π_{e≠d} m_e(x_e)``; the operator with ``κ̃`` is a Kronecker sum of 1D
finite element matrices that :class:`~femkron.FastDiagonalization` inverts exactly.

Examples
--------
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=2)
>>> op = fk.MatrixFreeOperator(V, lambda x, y: 1 + x * y, bcs=fk.BoundaryConditions(V))
>>> P = fk.SeparablePreconditioner(op)
>>> bool(P.contrast < 2.0)
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.fft as sfft
import scipy.sparse as sp

from .._validate import check_choice
from ..errors import FemkronTypeError, FemkronValueError
from ..kron.diagonalize import FFT_WORKERS, FastDiagonalization
from ..kron.operator import apply_axis
from .coefficients import axis_shape, outer_product

__all__ = ["SeparablePreconditioner"]

#: What the fit reads of a :class:`~femkron.MatrixFreeOperator` (checked by name: the
#: operator module imports this one for :meth:`MatrixFreeOperator.preconditioner`).
_OPERATOR_FIELDS = ("V", "geometry", "kappa_values", "sigma_values", "quad", "bcs")


def _transform_axes(V, bcs):
    """Whether every axis is uniform Q1 with Dirichlet or periodic ends.

    Constant-coefficient factors then are Toeplitz/circulant: sine/Fourier transforms.
    """
    if bcs is None:
        return False
    for s, ax in zip(V.spaces, bcs.axes):
        if s.order != 1 or getattr(s.mesh, "kind", None) != "uniform":
            return False
        if ax != "periodic" and not all(c.kind == "dirichlet" for c in ax):
            return False
    return True


def _weighted_mean(values, weights, keep):
    """Weighted mean of ``values`` (an array on the Gauss grid) over every axis but ``keep``.

    Returns a 1D array along ``keep``.
    """
    X = values
    for e in reversed(range(values.ndim)):
        if e != keep:
            X = np.moveaxis(X, e, -1) @ (weights[e] / weights[e].sum())
    return X


#: A ratio ``r = κ/κ̃`` counts as resolved by the mesh (so the diagonal scaling is applied)
#: when its largest jump between neighbouring dofs, times the dofs along that axis, is at
#: most this multiple of its range: a smooth ``r`` jumps by about ``|∇ log r| h``, a few times
#: ``range / n`` even for a narrow peak (measured 3-5 for ``1 + 50 exp(-50 |x - c|²)``), while a
#: coefficient that varies from cell to cell jumps by a fixed part of its range at every ``h``
#: (measured 30-120 at 64-128 cells).  On such a coefficient the scaling loses the ``h``-free
#: bound ``max(κ/κ̃)/min(κ/κ̃)`` of the unscaled preconditioner: 270 CG iterations instead of 16
#: (Q3, 128² cells, κ uniform in [1, 2] per cell).
RESOLVED_JUMP = 10.0


def _resolved(log_ratio):
    """Whether ``log r`` on the dof grid varies slowly enough for the diagonal scaling."""
    spread = float(np.ptp(log_ratio))
    if spread <= 1e-12:  # a constant ratio: the fit is exact up to a factor, nothing to scale
        return False
    jumps = (
        float(np.abs(np.diff(log_ratio, axis=a)).max()) * log_ratio.shape[a]
        for a in range(log_ratio.ndim)
        if log_ratio.shape[a] > 1
    )
    return max(jumps, default=0.0) <= RESOLVED_JUMP * spread


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
    precision : {"single", "double"}
        Arithmetic of the fast diagonalization.  ``"single"`` halves the cost of its dense
        products (or sine transforms, when every axis has them); the Krylov method
        (:func:`fcg`, flexible CG) still computes residuals in double precision, so the
        accuracy of the solution is unchanged.  Fourier transforms run in double precision.
    fit : {"auto", "separable", "constant"}
        ``"separable"``: the fit above; ``"constant"``: ``κ̃`` its weighted geometric mean, so
        the 1D factors of uniform Q1 axes with Dirichlet or periodic ends are Toeplitz or
        circulant and the fast diagonalization uses sine/Fourier transforms (no dense
        eigenproblem; the diagonal scaling then carries all of ``κ``: about one more CG
        iteration at contrast 10, still independent of ``h``).  ``"auto"``: ``"constant"``
        when every axis is of that kind, else ``"separable"``.

    Attributes
    ----------
    fdm : FastDiagonalization
        The fast diagonalization of the separable fit.
    scaling : ndarray or None
        The diagonal of ``S`` (``None``: no scaling, e.g. an exactly separable κ).
    contrast : float
        ``max(κ/κ̃) / min(κ/κ̃)`` over the Gauss points and components: a bound of the
        condition number of the preconditioned diffusion operator.
    setup_seconds : float
    """

    def __init__(self, operator, singular=False, scale=True, precision="single", fit="auto"):
        if not all(hasattr(operator, a) for a in _OPERATOR_FIELDS):  # a MatrixFreeOperator
            raise FemkronTypeError(
                f"operator must be a MatrixFreeOperator, got {type(operator).__name__}"
            )
        if operator.V.coordinates.curvilinear:  # its Cartesian factors lack the metric
            raise FemkronValueError(
                f"SeparablePreconditioner fits Cartesian factors; in "
                f"{operator.V.coordinates.name} coordinates use operator.preconditioner() "
                "(nested diagonalization of a radial fit, with the metric)",
                reason="curvilinear",
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
        margs = {}  # per distinct component (a scalar κ: one set of D marginals, not D²)
        for d in range(D):
            if id(L[d]) not in margs:
                margs[id(L[d])] = [_weighted_mean(L[d], g.weights, e) for e in range(D)]
        marg = [margs[id(L[d])] for d in range(D)]
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
        # log(κ_d/κ̃_d) = L_d - Σ_e (1D fit values): computed once per distinct component
        # and fit (a scalar κ with a constant fit: one Gauss-grid array, not D)
        ratios, seen, keys = [], {}, []
        for d in range(D):
            parts = [(alpha[d] if e == d else beta[e]) for e in range(D)]
            if all(np.ptp(v) == 0 for v in parts):  # a constant fit: only its value matters
                # (equal in exact arithmetic for a scalar κ: compared to 12 digits)
                keys.append((id(L[d]), round(float(sum(v[0] for v in parts)), 12)))
            else:
                keys.append((id(L[d]),) + tuple(np.asarray(v).tobytes() for v in parts))
        for d in range(D):
            parts = [(alpha[d] if e == d else beta[e]) for e in range(D)]
            key = keys[d]
            if key not in seen:
                # the log array itself when no other ratio needs it (no Gauss-grid copy)
                alone = len({k for k in keys if k[0] == key[0]}) == 1
                X = L[d] if alone else L[d].copy()
                for e, v in enumerate(parts):
                    X -= v.reshape(axis_shape(D, e))
                seen[key] = X
            ratios.append(seen[key])
        self.contrast = float(np.exp(max(r.max() for r in ratios) - min(r.min() for r in ratios)))
        # diagonal scaling by the remaining ratio r = κ/κ̃ (Concus & Golub 1973): the
        # preconditioner S F⁻¹ S with S = diag(r)^(-1/2) at the dofs matches the local
        # magnitude of κ at every frequency, which leaves only the smooth part of r to CG
        self.scaling = None
        if scale and not singular and op.kappa_values is not None:
            if all(r is ratios[0] for r in ratios):
                mean = ratios[0]  # not needed after this: exp in place
            else:
                mean = sum(ratios) / D
            np.exp(mean, out=mean)
            for e in range(D):  # times the tensor of weights, without forming it
                mean *= g.weights[e].reshape(axis_shape(D, e))
            num = mean
            for e in range(D):
                num = apply_axis(abs(g.Bt[e]), num, e)
            # the same averages of 1: the weights are a tensor product, so per axis
            den = outer_product([abs(g.Bt[e]) @ g.weights[e] for e in range(D)])
            ratio = num / den.reshape(num.shape)
            if _resolved(np.log(ratio)):
                self.scaling = 1.0 / np.sqrt(ratio.reshape(-1))
        Ks, Ms = [], []
        for d, s in enumerate(V.spaces):
            q = op.quad[d]
            cells = s.mesh.cells
            K = s.stiffness(np.exp(alpha[d]).reshape(cells, q))
            M = s.mass(np.exp(beta[d]).reshape(cells, q))
            bcs = op.bcs
            if bcs is not None:
                R = bcs.axis_robin(d) if op.boundary is not None else None
                if R is not None:
                    K = K + op.boundary_scale * R
                P = bcs.P[d]
                K, M = P.T @ K @ P, P.T @ M @ P
            Ks.append(K.tocsr())  # sparse: dense only where fdm needs the eigenproblem
            Ms.append(M.tocsr())
        sigma = 0.0
        if op.sigma_values is not None:
            mprod = np.exp(sum(beta[e].reshape(axis_shape(D, e)) for e in range(D)))
            ratio = np.broadcast_to(op.sigma_values, g.shape) / mprod
            sigma = float(np.sum(ratio * g.W) / np.sum(g.W))
        if op.kappa_values is None:
            Ks = [sp.csr_matrix(M.shape) for M in Ms]
        self.fdm = FastDiagonalization(stiffness=Ks, masses=Ms, sigma=sigma, singular=singular)
        self.shape = self.fdm.shape
        self.precision = check_choice(precision, "precision", ("single", "double"))
        self._S = None
        if precision == "single" and "dense" in self.fdm.transforms:
            self._S = [np.ascontiguousarray(S, dtype=np.float32) for S in self.fdm.S]
            self._St = [np.ascontiguousarray(S, dtype=np.float32) for S in self.fdm.St]
            self._inv = self.fdm.inv_lam.astype(np.float32)
        self._dst = None  # every axis a sine transform: single precision, scales folded in
        inv = getattr(self.fdm, "_inv", None)
        if (
            precision == "single"
            and all(t == "dst" for t in self.fdm.transforms)
            and inv is not None
            and inv.shape == tuple(self.fdm.shape1d)
        ):
            # dst·dst = (n+1)/2 I per axis: forward ½ dst, backward dst/(n+1), one scalar
            c = float(np.prod([0.5 / (n + 1) for n in self.fdm.shape1d]))
            self._dst = (inv * c).astype(np.float32)
        self.setup_seconds = time.perf_counter() - t0

    def solve(self, r):
        """Apply the preconditioner ``S F⁻¹ S`` (``F`` the separable operator)."""
        s = self.scaling
        if self._dst is not None:  # sine transforms in single precision, in place
            U = np.empty(self.fdm.shape1d, dtype=np.float32)
            flat = U.reshape(-1)
            if s is None:
                flat[...] = r
            else:
                np.multiply(r, s, out=flat, casting="same_kind")
            for d in range(U.ndim):
                U = sfft.dst(U, type=1, axis=d, overwrite_x=True, workers=FFT_WORKERS)
            U *= self._dst
            for d in range(U.ndim):
                U = sfft.dst(U, type=1, axis=d, overwrite_x=True, workers=FFT_WORKERS)
            return U.reshape(-1) * (1.0 if s is None else s)  # float64 again
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
