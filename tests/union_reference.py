"""Element-by-element assembly on the active cells of a union, written independently.

A loop over active cells and boundary facets with tensor Gauss quadrature and Lagrange bases
on Gauss–Lobatto nodes built from Vandermonde matrices; it shares nothing with femkron but the
mesh nodes it is given.  Used as the truth of the union tests.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.sparse as sp


def gll_nodes(p):
    """Gauss–Lobatto–Legendre nodes on [-1, 1]: ±1 and the roots of P_p'."""
    if p == 1:
        return np.array([-1.0, 1.0])
    c = np.zeros(p + 1)
    c[p] = 1.0
    inner = np.polynomial.legendre.legroots(np.polynomial.legendre.legder(c))
    return np.concatenate([[-1.0], np.sort(inner.real), [1.0]])


def basis(p, x):
    """Values and derivatives of the Lagrange basis on the GLL nodes at points ``x``."""
    nodes = gll_nodes(p)
    coef = np.linalg.inv(np.vander(nodes, p + 1, increasing=True))
    V = np.vander(x, p + 1, increasing=True)
    dV = np.zeros_like(V)
    for k in range(1, p + 1):
        dV[:, k] = k * x ** (k - 1)
    return V @ coef, dV @ coef


def _tensor(factors):
    """(q_1, ..., q_k, n_1 ⋯ n_k) tensor-product table of per-axis (q_d, n_d) tables."""
    out = factors[0]
    for f in factors[1:]:
        out = out[..., None, :, None] * f[:, None, :]
        out = out.reshape(out.shape[:-2] + (-1,))
    return out


def _gram(a, b, w):
    """``Σ_q w_q a_q,i b_q,j`` (or ``Σ_q w_q a_q,i`` without ``b``) over all point axes."""
    a2 = a.reshape(-1, a.shape[-1])
    w2 = np.broadcast_to(w, a.shape[:-1]).reshape(-1)
    if b is None:
        return a2.T @ w2
    return (a2 * w2[:, None]).T @ b.reshape(-1, b.shape[-1])


class BruteForce:
    """The union's matrices and loads on the bounding grid, from cell and facet loops.

    ``nodes``: the mesh nodes per axis; ``active``: the active-cell mask; ``bc``: a function
    ``(axis, coordinate) -> ("dirichlet", g) | ("neumann", g) | ("robin", alpha, g)`` giving
    the condition of a boundary facet in the plane ``x_axis = coordinate``.
    """

    def __init__(self, nodes, p, active, bc, kappa=1.0, sigma=0.0):
        self.nodes = [np.asarray(n, float) for n in nodes]
        self.p = p
        self.D = D = len(nodes)
        self.shape = tuple(p * (len(n) - 1) + 1 for n in self.nodes)
        N = int(np.prod(self.shape))
        xi, wq = np.polynomial.legendre.leggauss(p + 3)
        phi, dphi = basis(p, xi)
        ref = gll_nodes(p)
        self.coords = []
        for n in self.nodes:
            x = np.empty(p * (len(n) - 1) + 1)
            for e in range(len(n) - 1):
                x[p * e : p * e + p + 1] = n[e] + 0.5 * (n[e + 1] - n[e]) * (ref + 1)
            self.coords.append(x)
        rows, cols, vals = [], [], []
        self.load_terms = []
        self.A = None
        local = list(itertools.product(range(p + 1), repeat=D))
        for cell in np.argwhere(active):
            h = [self.nodes[d][c + 1] - self.nodes[d][c] for d, c in enumerate(cell)]
            dofs = [
                np.ravel_multi_index(tuple(p * c + k for c, k in zip(cell, loc)), self.shape)
                for loc in local
            ]
            # values / gradients of the (p+1)^D basis at the (p+3)^D points
            val = _tensor([phi] * D)  # (q, ..., q, nb)
            K = np.zeros((len(local), len(local)))
            weights = np.ones([len(xi)] * D)
            pts = []
            for d in range(D):
                sh = [1] * D
                sh[d] = -1
                weights = weights * (wq * h[d] / 2).reshape(sh)
                pts.append((self.nodes[d][cell[d]] + h[d] / 2 * (xi + 1)).reshape(sh))
            kap = np.broadcast_to(
                kappa(*pts) if callable(kappa) else np.full(weights.shape, float(kappa)),
                weights.shape,
            )
            for d in range(D):
                g = _tensor([dphi * 2 / h[e] if e == d else phi for e in range(D)])
                K += _gram(g, g, weights * kap)
            Mloc = _gram(val, val, weights)
            Aloc = K + sigma * Mloc
            rows.append(np.repeat(dofs, len(dofs)))
            cols.append(np.tile(dofs, len(dofs)))
            vals.append(Aloc.ravel())
            self.load_terms.append((dofs, val, weights, pts))
        self.dirichlet = np.zeros(N, dtype=bool)
        self.dirichlet_value = np.zeros(N)
        self.boundary_load = np.zeros(N)
        self.M_rows, self.M_cols, self.M_vals = [], [], []
        # boundary facets: a face of an active cell with no active cell across it
        pad = np.pad(active, 1)
        for cell in np.argwhere(active):
            for d in range(D):
                for side in (0, 1):
                    nb = cell.copy() + 1
                    nb[d] += -1 if side == 0 else 1
                    if pad[tuple(nb)]:
                        continue
                    plane = self.nodes[d][cell[d] + side]
                    cond = bc(d, plane)
                    loc = [loc for loc in local if loc[d] == (0 if side == 0 else p)]
                    dofs = [
                        np.ravel_multi_index(tuple(p * c + k for c, k in zip(cell, lo)), self.shape)
                        for lo in loc
                    ]
                    if cond[0] == "dirichlet":
                        for dof, lo in zip(dofs, loc):
                            self.dirichlet[dof] = True
                            x = [self.coords[e][p * cell[e] + lo[e]] for e in range(D)]
                            g = cond[1]
                            self.dirichlet_value[dof] = g(*x) if callable(g) else g
                        continue
                    others = [e for e in range(D) if e != d]
                    fphi = _tensor([phi] * (D - 1))
                    fw = np.ones([len(xi)] * (D - 1))
                    fpts = []
                    for i, e in enumerate(others):
                        sh = [1] * (D - 1)
                        sh[i] = -1
                        he = self.nodes[e][cell[e] + 1] - self.nodes[e][cell[e]]
                        fw = fw * (wq * he / 2).reshape(sh)
                        fpts.append((self.nodes[e][cell[e]] + he / 2 * (xi + 1)).reshape(sh))
                    allpts = list(fpts)
                    allpts.insert(d, np.full([1] * (D - 1), plane))
                    g = cond[-1]
                    gv = np.broadcast_to(g(*allpts) if callable(g) else float(g), fw.shape)
                    # the facet's basis functions: ordered as ``loc`` (other axes in order)
                    self.boundary_load[dofs] += _gram(fphi, None, fw * gv)
                    if cond[0] == "robin":
                        Mf = cond[1] * _gram(fphi, fphi, fw)
                        rows.append(np.repeat(dofs, len(dofs)))
                        cols.append(np.tile(dofs, len(dofs)))
                        vals.append(Mf.ravel())
        self.A = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N)
        )
        self.A.sum_duplicates()
        self.active_dofs = np.zeros(N, dtype=bool)
        for dofs, *_ in self.load_terms:
            self.active_dofs[dofs] = True

    def load(self, f):
        """``∫ f v`` over the active cells plus the Neumann/Robin loads."""
        b = self.boundary_load.copy()
        for dofs, val, weights, pts in self.load_terms:
            fv = np.broadcast_to(f(*pts) if callable(f) else float(f), weights.shape)
            b[dofs] += _gram(val, None, weights * fv)
        return b

    def mass(self):
        """The mass matrix over the active cells."""
        rows, cols, vals = [], [], []
        for dofs, val, weights, _ in self.load_terms:
            Mloc = _gram(val, val, weights)
            rows.append(np.repeat(dofs, len(dofs)))
            cols.append(np.tile(dofs, len(dofs)))
            vals.append(Mloc.ravel())
        N = int(np.prod(self.shape))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N)
        )

    def system(self, f):
        """Free-dof matrix, right-hand side (lifting applied) and the index sets."""
        free = np.flatnonzero(self.active_dofs & ~self.dirichlet)
        fixed = np.flatnonzero(self.active_dofs & self.dirichlet)
        b = self.load(f)
        g = self.dirichlet_value[fixed]
        A = self.A.tocsr()
        rhs = b[free] - A[free][:, fixed] @ g
        return A[free][:, free], rhs, free, fixed, g


def plane_bc(table, default=("dirichlet", 0.0)):
    """A ``bc(axis, coordinate)`` function from ``{(axis, value): condition}``."""

    def bc(d, c):
        for (axis, value), cond in table.items():
            if axis == d and math.isclose(c, value, abs_tol=1e-12):
                return cond
        return default

    return bc
