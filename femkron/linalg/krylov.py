"""Krylov methods on any operator given as a function ``x ↦ A x``.

Preconditioned and flexible conjugate gradients, restarted GMRES and BiCGSTAB.

* :func:`pcg` — preconditioned conjugate gradients for SPD operators and preconditioners.
* :func:`fcg` — flexible CG (Polak–Ribière ``β``, Notay 2000): the same iteration, robust to a
  preconditioner that is not exactly linear or symmetric (e.g. applied in single precision).
* :func:`gmres` — restarted GMRES with right preconditioning (true residuals).
* :func:`bicgstab` — BiCGSTAB with right preconditioning (van der Vorst 1992).

Every method returns ``(x, iterations, residuals)`` with the relative residual norms, starting
with the initial one; none depends on scipy's changing keyword names.  This module is plain
linear algebra on NumPy arrays: the solvers of :mod:`femkron.solvers`, the matrix-free
operators and the problems call it (``krylov_solve`` in :mod:`femkron.solvers` reports a run as
a :class:`~femkron.SolveInfo`).

Examples
--------
>>> import numpy as np
>>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> x, it, res = pcg(A.__matmul__, np.array([1.0, 2.0]), precond=lambda r: r / np.diag(A))
>>> bool(np.allclose(A @ x, [1.0, 2.0])), it, len(res)
(True, 2, 3)
"""

from __future__ import annotations

import numpy as np

from ..errors import ConvergenceError, FemkronValueError

__all__ = [
    "pcg",
    "fcg",
    "gmres",
    "bicgstab",
    "jacobi",
    "constant_projector",
    "relative_residual",
    "KRYLOV",
]

#: Krylov methods by name (see :func:`femkron.solvers.krylov_solve`).
KRYLOV = ("cg", "gmres", "bicgstab")


def jacobi(diag):
    """The Jacobi preconditioner ``r ↦ r / diag`` of an operator with a positive diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> jacobi(np.array([2.0, 4.0]))(np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    if np.any(diag <= 0):
        raise FemkronValueError("method='cg' needs a positive diagonal (an SPD operator)")
    inv = 1.0 / diag
    return lambda r: inv * r


def constant_projector(n):
    """The orthogonal projection ``v ↦ v - mean(v)`` onto vectors of zero sum (length ``n``).

    It removes the kernel of a pure Neumann/periodic operator.

    Examples
    --------
    >>> import numpy as np
    >>> constant_projector(3)(np.array([1.0, 2.0, 6.0]))
    array([-2., -1.,  3.])
    """
    ones = np.ones(n) / np.sqrt(n)

    def project(v):
        return v - (ones @ v) * ones

    return project


def relative_residual(A, x, b):
    """``‖b - A x‖ / ‖b‖`` (0 for ``b = 0``), with ``A`` anything that supports ``@``.

    Examples
    --------
    >>> import numpy as np
    >>> relative_residual(np.eye(2), np.array([1.0, 0.0]), np.array([1.0, 1.0]))
    0.7071067811865475
    """
    bnorm = np.linalg.norm(b)
    return float(np.linalg.norm(b - A @ x) / bnorm) if bnorm > 0 else 0.0


def _start(b, precond, maxiter, x0):
    """Common set-up: float ``b``, the iteration limit, the preconditioner and ``x0``."""
    b = np.asarray(b, dtype=float)
    n = b.shape[0]
    maxiter = 10 * n if maxiter is None else maxiter
    P = (lambda v: v) if precond is None else precond
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=float)
    return b, n, maxiter, P, x


def _cg(apply_A, b, precond, rtol, maxiter, x0, project, flexible):
    """Preconditioned CG, flexible with ``flexible``.

    ``flexible`` takes the Polak–Ribière ``β = (r_new - r_old)·z / r·z`` instead of
    Fletcher–Reeves ``β = r_new·z / r·z`` (the same for an exact preconditioner).
    """
    b, n, maxiter, P, x = _start(b, precond, maxiter, x0)
    r = b - apply_A(x) if x0 is not None else b.copy()
    if project is not None:
        r = project(r)
    bnorm = np.linalg.norm(b)
    if bnorm == 0:
        return np.zeros(n), 0, [0.0]
    history = [np.linalg.norm(r) / bnorm]
    if history[-1] <= rtol:
        return x, 0, history
    z = P(r)
    if project is not None:
        z = project(z)
    p = z.copy()
    rz = r @ z
    for it in range(1, maxiter + 1):
        Ap = apply_A(p)
        pAp = p @ Ap
        if pAp <= 0:
            raise ConvergenceError(
                f"CG broke down at iteration {it}: the operator (or preconditioner) is not "
                "positive definite",
                iterations=it,
                residuals=history,
                x=x,
            )
        alpha = rz / pAp
        x += alpha * p
        if flexible:
            r_old, r = r, r - alpha * Ap
        else:
            r -= alpha * Ap
        history.append(np.linalg.norm(r) / bnorm)
        if history[-1] <= rtol:
            return x, it, history
        z = P(r)
        if project is not None:
            z = project(z)
        rz_new = r @ z
        p *= ((rz_new - r_old @ z) if flexible else rz_new) / rz
        p += z
        rz = rz_new
    return x, maxiter, history


def pcg(apply_A, b, precond=None, rtol=1e-10, maxiter=None, x0=None, project=None):
    """Preconditioned conjugate gradients.

    Parameters
    ----------
    apply_A, precond : callable
        ``x ↦ A x`` and ``r ↦ P⁻¹ r`` (``None``: identity).
    rtol : float
        Stop when ``‖b - A x‖ ≤ rtol ‖b‖``.
    maxiter : int, optional
        At most this many iterations (default ``10 n``).
    x0 : array_like, optional
        Initial guess (default zero).
    project : callable, optional
        Applied to residuals and preconditioned residuals (removing a null space).

    Returns
    -------
    x : ndarray
    iterations : int
    residuals : list of float
        Relative residual norms, starting with the initial one.

    Raises
    ------
    ConvergenceError
        When ``pᵀ A p ≤ 0`` (not positive definite); its ``x`` is the last iterate.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]])
    >>> x, it, res = pcg(A.__matmul__, np.ones(3), rtol=1e-12)
    >>> np.round(x, 12), it
    (array([1.5, 2. , 1.5]), 2)
    """
    return _cg(apply_A, b, precond, rtol, maxiter, x0, project, flexible=False)


def fcg(apply_A, b, precond=None, rtol=1e-10, maxiter=None, x0=None, project=None):
    """Flexible preconditioned conjugate gradients (Polak–Ribière ``β``, Notay 2000).

    Like :func:`pcg`, but robust to a preconditioner that is not exactly
    linear or symmetric (e.g. applied in single precision).  Returns ``(x, iterations,
    residuals)`` with relative residual norms.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> x, it, res = fcg(A.__matmul__, np.array([1.0, 2.0]))
    >>> bool(np.allclose(A @ x, [1.0, 2.0])), it
    (True, 2)
    """
    return _cg(apply_A, b, precond, rtol, maxiter, x0, project, flexible=True)


def gmres(apply_A, b, precond=None, rtol=1e-10, maxiter=None, restart=50, x0=None):
    """Restarted GMRES with right preconditioning.

    Minimises the true residual ``‖b - A x‖`` over the Krylov space of ``A P⁻¹``, so the
    reported residuals are those of the unpreconditioned system.

    Returns
    -------
    x : ndarray
    iterations : int
    residuals : list of float
        Relative residual norms, starting with the initial one.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0, 0.0], [-1.0, 3.0, 1.0], [0.0, -1.0, 2.0]])
    >>> x, it, res = gmres(A.__matmul__, np.ones(3))
    >>> bool(np.allclose(A @ x, 1.0)), it <= 3
    (True, True)
    """
    b, n, maxiter, P, x = _start(b, precond, maxiter, x0)
    restart = max(1, min(restart, n))
    bnorm = np.linalg.norm(b)
    if bnorm == 0:
        return np.zeros(n), 0, [0.0]
    r = b - apply_A(x) if x0 is not None else b.copy()
    history = [np.linalg.norm(r) / bnorm]
    it = 0
    while history[-1] > rtol and it < maxiter:
        beta = np.linalg.norm(r)
        m = min(restart, maxiter - it)
        Q = np.zeros((m + 1, n))
        H = np.zeros((m + 1, m))
        cs, sn = np.zeros(m), np.zeros(m)
        e1 = np.zeros(m + 1)
        e1[0] = beta
        Q[0] = r / beta
        j_done = 0
        for j in range(m):
            w = apply_A(P(Q[j]))
            for i in range(j + 1):  # modified Gram–Schmidt
                H[i, j] = Q[i] @ w
                w = w - H[i, j] * Q[i]
            H[j + 1, j] = np.linalg.norm(w)
            if H[j + 1, j] > 1e-300:
                Q[j + 1] = w / H[j + 1, j]
            for i in range(j):
                t = cs[i] * H[i, j] + sn[i] * H[i + 1, j]
                H[i + 1, j] = -sn[i] * H[i, j] + cs[i] * H[i + 1, j]
                H[i, j] = t
            denom = np.hypot(H[j, j], H[j + 1, j])
            cs[j], sn[j] = (1.0, 0.0) if denom == 0 else (H[j, j] / denom, H[j + 1, j] / denom)
            H[j, j] = cs[j] * H[j, j] + sn[j] * H[j + 1, j]
            H[j + 1, j] = 0.0
            e1[j + 1] = -sn[j] * e1[j]
            e1[j] = cs[j] * e1[j]
            it += 1
            j_done = j + 1
            history.append(abs(e1[j + 1]) / bnorm)
            if history[-1] <= rtol or H[j, j] == 0:
                break
        if j_done == 0:
            break
        y = np.linalg.lstsq(np.triu(H[:j_done, :j_done]), e1[:j_done], rcond=None)[0]
        x = x + P(Q[:j_done].T @ y)
        r = b - apply_A(x)
        history[-1] = np.linalg.norm(r) / bnorm  # the true residual after each cycle
    return x, it, history


def bicgstab(apply_A, b, precond=None, rtol=1e-10, maxiter=None, x0=None):
    """BiCGSTAB with right preconditioning (van der Vorst 1992).

    Returns ``(x, iterations, residuals)`` like :func:`gmres`.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0, 0.0], [-1.0, 3.0, 1.0], [0.0, -1.0, 2.0]])
    >>> x, it, res = bicgstab(A.__matmul__, np.ones(3))
    >>> bool(np.allclose(A @ x, 1.0))
    True
    """
    b, n, maxiter, P, x = _start(b, precond, maxiter, x0)
    bnorm = np.linalg.norm(b)
    if bnorm == 0:
        return np.zeros(n), 0, [0.0]
    r = b - apply_A(x) if x0 is not None else b.copy()
    r_hat = r.copy()
    history = [np.linalg.norm(r) / bnorm]
    rho = alpha = omega = 1.0
    v = np.zeros(n)
    p = np.zeros(n)
    it = 0
    restarts = 0
    while history[-1] > rtol and it < maxiter:
        it += 1
        rho_new = r_hat @ r
        tiny = 1e-14 * np.linalg.norm(r_hat) * np.linalg.norm(r)
        if abs(rho_new) <= tiny or omega == 0:
            # breakdown (r ⟂ r̂ or t ⟂ s): restart the shadow residual from r
            restarts += 1
            if restarts > 10:
                raise ConvergenceError(
                    f"BiCGSTAB broke down repeatedly (iteration {it}); try method='gmres'",
                    iterations=it,
                    residuals=history,
                )
            r_hat = r.copy()
            rho_new = r_hat @ r
            rho = alpha = omega = 1.0
            v = np.zeros(n)
            p = np.zeros(n)
        beta = (rho_new / rho) * (alpha / omega)
        rho = rho_new
        p = r + beta * (p - omega * v)
        p_hat = P(p)
        v = apply_A(p_hat)
        rv = r_hat @ v
        if abs(rv) <= 1e-14 * np.linalg.norm(r_hat) * np.linalg.norm(v):
            omega = 0.0  # r̂ ⟂ v: restart at the next iteration
            history.append(history[-1])
            continue
        alpha = rho / rv
        s = r - alpha * v
        if np.linalg.norm(s) / bnorm <= rtol:
            x = x + alpha * p_hat
            history.append(np.linalg.norm(s) / bnorm)
            break
        s_hat = P(s)
        t = apply_A(s_hat)
        tt = t @ t
        omega = (t @ s) / tt if tt > 0 else 0.0
        x = x + alpha * p_hat + omega * s_hat
        r = s - omega * t
        history.append(np.linalg.norm(r) / bnorm)
    return x, it, history
