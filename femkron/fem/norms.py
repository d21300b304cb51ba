"""Errors of finite element functions by tensor Gauss quadrature, and convergence rates.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
>>> u = V.interpolate(lambda x, y: x**2 * y)          # exactly representable
>>> bool(fk.error(V, u, lambda x, y: x**2 * y, "L2") < 1e-14)
True
>>> fk.convergence_rate([0.1, 0.05, 0.025], [1e-2, 2.5e-3, 6.25e-4])
2.0
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, as_int, as_vector, check_choice, evaluate
from ..errors import FemkronValueError
from ..kron.operator import apply_axis
from .tensor import as_tensor_space

__all__ = ["error", "norm", "convergence_rate", "NORMS"]

NORMS = ("L2", "H1", "max")


def _check(V, u):
    return as_vector(u, "u", V.ndofs).reshape(V.shape)


def _at_quadrature(V, U, derivative_axis, q):
    G = U
    for d, s in enumerate(V.spaces):
        B = s.basis_at_quadrature(q[d], derivative=1 if d == derivative_axis else 0)
        G = apply_axis(B, G, d)
    return G


def _quadrature_grid(V, q):
    pts, wts = [], []
    for s, qd in zip(V.spaces, q):
        x, w = s.quadrature(qd)
        pts.append(x.ravel())
        wts.append(w.ravel())
    grid = tuple(np.meshgrid(*pts, indexing="ij", sparse=True))
    W = wts[0]
    for w in wts[1:]:
        W = np.multiply.outer(W, w)
    return grid, W


def _metric(V, grid, W, d):
    """Quadrature weights times ``J`` (``d=None``) or ``J / h_d²`` in curvilinear spaces."""
    c = V.coordinates
    if not c.curvilinear:
        return W
    powers = c.mass_powers if d is None else c.stiffness_powers[d]
    out = W
    for e, power in enumerate(powers):
        w = c.weight(e, power)
        if w is not None:
            out = out * w(grid[e])
    return out


def error(V, u, exact, norm="L2", grad=None, quad=None):
    """Error of the dof vector ``u`` on ``V`` against a callable ``exact(x, y, ...)``.

    Parameters
    ----------
    norm : {"L2", "H1", "max"}
        ``"L2"``: ``‖u_h - u‖_L2``; ``"H1"``: the H1 seminorm ``‖∇(u_h - u)‖_L2``, which
        needs ``grad`` (one callable per axis); ``"max"``: the largest error at the dofs.
        In curvilinear coordinates the integrals carry the metric: ``∫ e² J dq`` and
        ``Σ_d ∫ (J / h_d²) (∂_d e)² dq``, and ``grad`` holds the partial derivatives in the
        space's own coordinates (``∂u/∂r, ∂u/∂θ[, ...]``).
    quad : int, optional
        Gauss points per cell and axis (default ``p + 3``, stronger than the element).

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=8, order=1)
    >>> u = V.interpolate(lambda x, y: x * y)       # exactly representable in Q1
    >>> float(round(fk.error(V, u, lambda x, y: x * y), 14))
    0.0
    >>> ex = lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y)
    >>> e = fk.error(V, V.interpolate(ex), ex, "L2")
    >>> bool(0.0 < e < 0.05)
    True
    """
    V = as_tensor_space(V)
    U = _check(V, u)
    check_choice(norm, "norm", NORMS)
    if norm == "max":
        ex = evaluate(exact, "exact", V.grid(sparse=True), V.shape)
        return float(np.max(np.abs(U - ex)))
    q = [s.order + 3 if quad is None else as_int(quad, "quad", minimum=1) for s in V.spaces]
    grid, W = _quadrature_grid(V, q)
    if norm == "L2":
        diff = _at_quadrature(V, U, None, q) - evaluate(exact, "exact", grid, W.shape)
        return float(np.sqrt(np.sum(_metric(V, grid, W, None) * diff**2)))
    if grad is None or not isinstance(grad, (tuple, list)) or len(grad) != V.dim:
        raise FemkronValueError(
            f"norm='H1' needs grad: a tuple of {V.dim} callables (the exact partial derivatives)"
        )
    total = 0.0
    for d in range(V.dim):
        diff = _at_quadrature(V, U, d, q) - evaluate(grad[d], f"grad[{d}]", grid, W.shape)
        total += float(np.sum(_metric(V, grid, W, d) * diff**2))
    return float(np.sqrt(total))


def norm(V, u, norm="L2", quad=None):
    """The L2 norm or H1 seminorm of the finite element function with dofs ``u``.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 2)], cells=4, order=1)
    >>> u = V.interpolate(lambda x: x)
    >>> round(fk.norm(V, u, "L2") ** 2, 12), round(fk.norm(V, u, "H1") ** 2, 12)
    (2.666666666667, 2.0)
    """
    V = as_tensor_space(V)
    check_choice(norm, "norm", ("L2", "H1"))
    zero = 0.0
    grad = (zero,) * V.dim if norm == "H1" else None
    return error(V, u, zero, norm=norm, grad=grad, quad=quad)


def convergence_rate(h, errors):
    """Least-squares slope of ``log(error)`` against ``log(h)``.

    Examples
    --------
    >>> round(convergence_rate([1, 0.5, 0.25], [1, 0.125, 0.015625]), 6)
    3.0
    """
    h = as_array(h, "h", finite=False)
    e = as_array(errors, "errors", finite=False)
    if h.shape != e.shape or h.ndim != 1 or h.size < 2:
        raise FemkronValueError(
            f"h and errors must be 1D arrays of the same length >= 2, got shapes {h.shape} "
            f"and {e.shape}"
        )
    for name, arr in (("h", h), ("errors", e)):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise FemkronValueError(f"{name} must be positive and finite, got {arr.tolist()}")
    if np.ptp(np.log(h)) == 0:
        raise FemkronValueError(f"h must hold at least two different sizes, got {h.tolist()}")
    return float(np.round(np.polyfit(np.log(h), np.log(e), 1)[0], 12))
