"""Independent reference implementations for the tests: Lagrange bases by the product formula
and finite element matrices by explicit loops over cells and tensor Gauss points.  Nothing
here calls femkron."""

import functools
import itertools

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
