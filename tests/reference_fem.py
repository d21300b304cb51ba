"""Independent reference implementations for the tests: Lagrange bases by the product formula
and finite element matrices by explicit loops over cells and tensor Gauss points.  Nothing
here calls femkron."""

import functools
import itertools
import math

import numpy as np
from numpy.polynomial import legendre


def ref_nodes(p, family):
    """Reference nodes on [-1, 1]: equally spaced or Gauss–Lobatto (roots of P'_p, ±1)."""
    if family == "equispaced":
        return np.linspace(-1.0, 1.0, p + 1)
    inner = np.sort(legendre.legroots(legendre.legder(np.eye(p + 1)[p]))) if p > 1 else []
    return np.concatenate([[-1.0], inner, [1.0]])


def lagrange(nodes, x):
    """Values and derivatives of the Lagrange basis through ``nodes`` at the points ``x``."""
    x = np.asarray(x, dtype=float)
    n = nodes.size
    vals, ders = np.ones((x.size, n)), np.zeros((x.size, n))
    for j in range(n):
        others = [m for m in range(n) if m != j]
        denom = np.prod([nodes[j] - nodes[m] for m in others])
        for m in others:
            vals[:, j] *= x - nodes[m]
            ders[:, j] += np.prod([x - nodes[k] for k in others if k != m], axis=0)
        vals[:, j] /= denom
        ders[:, j] /= denom
    return vals, ders


def _cell_tables(nodes, p, family, q):
    """Per cell of a 1D mesh: global dofs, Gauss points, weights, basis values, derivatives."""
    xg, wg = np.polynomial.legendre.leggauss(q)
    out = []
    for e in range(len(nodes) - 1):
        x0, x1 = nodes[e], nodes[e + 1]
        local = x0 + (x1 - x0) * (ref_nodes(p, family) + 1) / 2
        xq = x0 + (x1 - x0) * (xg + 1) / 2
        phi, dphi = lagrange(local, xq)
        out.append((np.arange(e * p, e * p + p + 1), xq, wg * (x1 - x0) / 2, phi, dphi))
    return out


def assemble(axes, q, kappa=None, f=None, velocity=None):
    """Dense stiffness, mass and advection matrices and load vector on a tensor-product mesh.

    ``axes`` is a list of ``(mesh nodes, order, family)``; ``kappa(x, y, ...)`` and
    ``f(x, y, ...)`` are callables (``kappa`` defaults to 1, ``f`` to 0); ``velocity`` a
    constant vector; ``q`` Gauss points per cell, one number or one per axis.  Loops over every
    cell of the box and every tensor Gauss point.
    """
    D = len(axes)
    qs = [q] * D if np.ndim(q) == 0 else list(q)
    tables = [_cell_tables(np.asarray(n, float), p, fam, qd) for (n, p, fam), qd in zip(axes, qs)]
    shape = [(len(n) - 1) * p + 1 for n, p, _ in axes]
    N = int(np.prod(shape))
    K, M, C, b = np.zeros((N, N)), np.zeros((N, N)), np.zeros((N, N)), np.zeros(N)
    vel = np.zeros(D) if velocity is None else np.asarray(velocity, float)
    for cell in itertools.product(*[range(len(t)) for t in tables]):
        parts = [tables[d][e] for d, e in enumerate(cell)]
        dofs = np.ravel_multi_index(
            np.ix_(*[pt[0] for pt in parts]), shape
        ).ravel()  # C order, last axis fastest
        pts = np.meshgrid(*[pt[1] for pt in parts], indexing="ij")
        pts = [g.ravel() for g in pts]
        w = functools.reduce(np.kron, [pt[2] for pt in parts])
        phi = functools.reduce(np.kron, [pt[3] for pt in parts])
        grads = [
            functools.reduce(np.kron, [pt[4] if e == d else pt[3] for e, pt in enumerate(parts)])
            for d in range(D)
        ]
        k = np.ones_like(w) if kappa is None else np.broadcast_to(kappa(*pts), w.shape)
        idx = np.ix_(dofs, dofs)
        K[idx] += sum((grads[d] * (w * k)[:, None]).T @ grads[d] for d in range(D))
        M[idx] += (phi * w[:, None]).T @ phi
        C[idx] += sum(vel[d] * (phi * w[:, None]).T @ grads[d] for d in range(D))
        if f is not None:
            b[dofs] += phi.T @ (w * np.broadcast_to(f(*pts), w.shape))
    return K, M, C, b


# ---- exact eigenvalues of -u'' on an interval, and the Galerkin error constant -------------
def wavenumbers(kind, length, count):
    """The ``count`` smallest k >= 0 with -u'' = k² u on [0, length] (with multiplicity).

    ``kind``: "DD", "NN", "DN" / "ND" (Dirichlet at one end, Neumann at the other), "P"
    (periodic: 0 once, then 2πj/L twice), or ("DR", α) / ("NR", α): Dirichlet / Neumann at 0
    and Robin u'(L) + α u(L) = 0 at L, the roots of k cos(kL) + α sin(kL) = 0 in
    ((j + 1/2)π/L, (j + 1)π/L), resp. k sin(kL) - α cos(kL) = 0 in (jπ/L, (j + 1/2)π/L),
    found by bracketing (scipy.optimize.brentq).
    """
    from scipy.optimize import brentq

    j = np.arange(count)
    if kind == "DD":
        return (j + 1) * np.pi / length
    if kind in ("DN", "ND"):
        return (j + 0.5) * np.pi / length
    if kind == "NN":
        return j * np.pi / length
    if kind == "P":
        return np.r_[0.0, np.repeat(2 * np.pi * (j + 1) / length, 2)][:count]
    (left, alpha), L = kind, length
    if left == "DR":
        f = lambda k: k * np.cos(k * L) + alpha * np.sin(k * L)  # noqa: E731
        brackets = [((i + 0.5) * np.pi / L, (i + 1) * np.pi / L) for i in j]
    else:
        f = lambda k: k * np.sin(k * L) - alpha * np.cos(k * L)  # noqa: E731
        brackets = [(i * np.pi / L, (i + 0.5) * np.pi / L) for i in j]
    return np.array([brentq(f, a, b, xtol=1e-15, rtol=1e-15) for a, b in brackets])


def box_eigenvalues(axes, count):
    """The ``count`` smallest Σ_d k_d² over products of 1D modes, each with its k per axis:
    ``axes`` is a list of (kind, length); returns (eigenvalues, k array of shape (count, d))."""
    ks = [wavenumbers(kind, length, count) for kind, length in axes]
    modes = sorted(itertools.product(*ks), key=lambda k: sum(x * x for x in k))[:count]
    k = np.array(modes)
    return (k**2).sum(axis=1), k


def galerkin_constant(p):
    """c_p² of the relative error λ_h / λ - 1 = c_p² (kh)^{2p} (1 + O((kh)²)) of a Lagrange
    element of order p for -u'' = k² u on a uniform mesh: the squared L2-projection error of
    u^{(p)} onto polynomials of degree p - 1 on a cell, c_p = p! / ((2p)! √(2p + 1)) (1/12 for
    p = 1, 1/720 for p = 2, as the closed forms of the linear and quadratic elements give)."""
    return (math.factorial(p) / math.factorial(2 * p)) ** 2 / (2 * p + 1)


def ritz_l2_constant(p):
    """C_p of the L2 error ‖u - u_h‖ = C_p h^{p+1} (Σ_d ‖∂_d^{p+1} u‖²)^{1/2} (1 + O((kh)²)) of the
    Ritz projection (the Galerkin solution of -Δu = f) with Q_p, p >= 2, on a uniform mesh.

    In 1D on a cell (x = x_c + t h/2) the derivative error is the L2 projection error of u'
    onto degree p - 1, h^p u^{(p+1)} p!/(2p)! P_p(t); integrated, e = (h/2) h^p u^{(p+1)}
    p!/(2p)! L_p(t) with L_p = (P_{p+1} - P_{p-1}) / (2p + 1), so C_p = p!/(2p)! · ‖L_p‖ / (2√2),
    ‖L_p‖² = (2/(2p + 3) + 2/(2p - 1)) / (2p + 1)².  The directions add in squares.  (Not for
    p = 1: there the tensor-product error has a cross term of the same order.)
    """
    if p < 2:
        raise ValueError("the Ritz L2 constant holds for p >= 2")
    norm_lp = math.sqrt((2 / (2 * p + 3) + 2 / (2 * p - 1)) / (2 * p + 1) ** 2)
    return math.factorial(p) / math.factorial(2 * p) * norm_lp / (2 * math.sqrt(2))
