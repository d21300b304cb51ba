"""Nested diagonalization: exact solves of Kronecker sums with one non-pencil axis.

Fast diagonalization needs every axis to carry two matrices (a pencil ``K, M``).  The
operators of curvilinear coordinates carry three or more on one axis (polar:
``K_r[r]⊗M_θ + M_r[1/r]⊗K_θ + σ M_r[r]⊗M_θ``).  :class:`NestedDiagonalization`
generalises it as a recursion over the axes, read from the terms of the operator:

1. An axis ``e`` is *diagonalizable* when, grouping the terms by their factors on the other
   remaining axes, every group's factor on ``e`` is ``a M_e + b K_e`` for one mass ``M_e``
   (symmetric positive definite) and one ``K_e`` — which may depend on the modes of the axes
   diagonalized before (the θ axis of spherical coordinates carries the pencil
   ``(K_θ[s] + μ_m M_θ[1/s], M_θ[s])`` per azimuthal mode ``m``).  It is diagonalized by
   the generalized eigenproblem ``K_e S = M_e S Λ`` (``Sᵀ M_e S = I``), once per distinct
   pencil, and every group becomes one term with the coefficient ``a + b λ`` per mode.
2. The last axis (the *banded* axis, the one carrying the most distinct factors) is solved
   per mode by a banded LU, factorised once and reused by every solve.

Fast diagonalization (every axis a pencil) is the case where the banded systems are
diagonal.

Poles
-----
A :class:`PoleConstrainedOperator` is ``Pᵀ A P`` where ``P`` makes the tensor dofs on the
end of a *pole axis* constant along its *angular axes* (the centre of a disk, the axis of a
cylinder, the poles of a sphere).  In the angular eigenbasis the constant is the mode of
eigenvalue 0, built exactly (deflated, not found numerically); that mode keeps the end dof
of the pole axis and every other mode has a Dirichlet condition there.  The change of
variables is a congruence, so the solve stays exact.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> D = fk.TensorSpace.disk(radius=1.0, cells=(6, 12), order=2)
>>> A = fk.BoundaryConditions(D).constrain(fk.stiffness(D) + 3.0 * fk.mass(D))
>>> solver = NestedDiagonalization(A)
>>> b = np.random.default_rng(1).standard_normal(A.shape[0])
>>> bool(np.linalg.norm(A @ solver.solve(b) - b) < 1e-11 * np.linalg.norm(b))
True
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .._limits import check_allocation
from ..errors import FemkronTypeError, FemkronValueError, StructureError
from ._nested_plan import _bandwidth, _canonical, _dense, _merge, _real_fourier, nested_plan
from .operator import KronOperator
from .poles import PoleConstrainedOperator, pole_prolongation, pole_select

__all__ = [
    "NestedDiagonalization",
    "PoleConstrainedOperator",
    "pole_prolongation",
    "pole_select",
    "nested_plan",
    "nested_nbytes",
    "nested_structure",
]


def _plain_band(F, w):
    """``B[w + i - j, j] = F[i, j]`` for a CSR ``F`` of bandwidth ``<= w``."""
    C = sp.coo_matrix(F)
    n = F.shape[0]
    B = np.zeros((2 * w + 1, n))
    np.add.at(B, (w + C.row - C.col, C.col), C.data)
    return B


def _identity_row(band, i, w):
    """Make dof ``i`` of a plain band an identity row and column."""
    n = band.shape[-1]
    for k in range(-w, w + 1):
        j = i + k  # row i, column j: band[w + i - j, j]
        if 0 <= j < n:
            band[w - k, j] = 0.0
    band[:, i] = 0.0
    band[w, i] = 1.0


class NestedDiagonalization:
    """Exact solver of a Kronecker sum whose axes but one diagonalize per mode.

    Parameters
    ----------
    operator : KronOperator or PoleConstrainedOperator
    singular : bool
        The operator has the constants as kernel (pure Neumann): the mode where every
        diagonalized axis is constant is pinned at one dof (right-hand sides must be
        compatible; the caller projects the solution).
    mass : KronOperator or PoleConstrainedOperator, optional
        Carried through the same transforms, for :meth:`eigenpairs` (nothing is factorised
        then: the object serves eigenpairs, not solves).
    banded : int, optional
        The axis solved by banded LU (default: chosen from the terms).

    Attributes
    ----------
    steps : list
        The diagonalized axes in order, each with its distinct pencils.
    banded_axis : int
    factorizations : int
        Distinct banded LU factorisations (modes sharing coefficients share one).
    setup_seconds : float

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.annulus(0.5, 1.0, cells=(8, 16), order=2)
    >>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V) + fk.mass(V))
    >>> s = NestedDiagonalization(A)
    >>> s.banded_axis, [st.axis for st in s.steps]
    (0, [1])
    """

    def __init__(self, operator, *, singular=False, mass=None, banded=None):
        t0 = time.perf_counter()
        if isinstance(operator, PoleConstrainedOperator):
            self.pc = operator
            kron, poles = operator.A, operator.poles
        elif isinstance(operator, KronOperator):
            self.pc, kron, poles = None, operator, ()
        else:
            raise FemkronTypeError(
                f"operator must be a KronOperator or PoleConstrainedOperator, got "
                f"{type(operator).__name__}"
            )
        for d, (r, c) in enumerate(kron.axis_shapes):
            if r != c:
                raise StructureError(f"factor on axis {d} is not square", reason="not-square")
        items = [(c, f, 0) for c, f in kron.terms]
        if mass is not None:
            mk = mass.A if isinstance(mass, PoleConstrainedOperator) else mass
            items += [(c, f, 1) for c, f in mk.terms]
        items = _canonical(items)
        self.shape1d = kron.in_shape
        self.poles = poles
        self.shape = operator.shape
        self.singular = bool(singular)
        self.steps, b, terms, active = nested_plan(items, self.shape1d, poles, banded)
        self.banded_axis = b
        self.order = [s.axis for s in self.steps]
        self.mode_shape = tuple(self.shape1d[a] for a in self.order)
        self.active = np.broadcast_to(active, self.mode_shape).reshape(-1)
        self._terms = terms
        self.factorizations = 0
        if mass is None:  # with a mass: for eigenpairs, no solves
            self._factorize()
        self.setup_seconds = time.perf_counter() - t0

    # ---- banded systems per mode ----------------------------------------------------
    def _radial(self, tag):
        """Distinct banded-axis factors and their coefficients per mode (n_modes columns)."""
        b = self.banded_axis
        items = _merge(
            [
                (t.factors[b], np.broadcast_to(t.coef, self.mode_shape).reshape(-1))
                for t in self._terms
                if t.tag == tag
            ]
        )
        return [F for F, _ in items], np.stack([c for _, c in items])

    def _end_flags(self):
        """Per mode and pole of the banded axis: is its end dof Dirichlet (not constant)."""
        b = self.banded_axis
        flags = []
        for axis, side, angular in self.poles:
            if axis != b:
                continue
            inactive = np.zeros(self.mode_shape, dtype=bool)
            for a in angular:
                j = self.order.index(a)
                sh = [1] * len(self.order)
                sh[j] = -1
                not_const = np.arange(self.mode_shape[j]) != self.steps[j].const
                inactive = inactive | not_const.reshape(sh)
            flags.append((0 if side == 0 else self.shape1d[b] - 1, inactive.reshape(-1)))
        return flags

    def _zero_mode(self):
        """The flat index of the mode constant in every diagonalized axis, or -1."""
        idx = []
        for st in self.steps:
            keys = np.broadcast_to(st.keys, self.mode_shape[: len(idx)])
            c = int(st.consts[keys[tuple(idx)]])
            if c < 0:
                return -1
            idx.append(c)
        return int(np.ravel_multi_index(idx, self.mode_shape)) if idx else 0

    def _factorize(self):
        b = self.banded_axis
        n = self.shape1d[b]
        factors, C = self._radial(0)
        w = max(_bandwidth(F) for F in factors)
        self.w = w
        flags = self._end_flags()
        nmodes = C.shape[1]
        pin = np.zeros(nmodes)
        if self.singular:
            z = self._zero_mode()
            if z < 0:
                raise FemkronValueError(
                    "singular=True needs a mode constant along every diagonalized axis",
                    reason="singular",
                )
            pin[z] = 1.0
        self._pin = pin.astype(bool)
        columns = [C.T] + [f.astype(float)[:, None] for _, f in flags] + [pin[:, None]]
        table = np.concatenate(columns, axis=1)
        table[~self.active] = np.nan
        uniq, inverse = np.unique(np.nan_to_num(table, nan=np.inf), axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        self._mode_key = np.where(self.active, inverse, -1)
        check_allocation(
            8 * len(uniq) * (3 * w + 1) * n,
            f"{len(uniq)} banded factorisations of {n} dofs",
            "use method='amg'",
        )
        bands = np.stack([_plain_band(F, w) for F in factors])  # (n_f, 2w+1, n)
        gbtrf = sla.get_lapack_funcs("gbtrf", (bands,))
        self._lu = []
        self._dropped = []
        for row in uniq:
            if not np.all(np.isfinite(row)):
                self._lu.append(None)
                self._dropped.append(())
                continue
            band = row[0] * bands[0]
            for c, B in zip(row[1 : len(factors)], bands[1:]):
                band += c * B
            dropped = [dof for (dof, _), f in zip(flags, row[len(factors) : -1]) if f]
            if row[-1]:
                dropped.append(n - 1)
            for dof in dropped:
                _identity_row(band, dof, w)
            ab = np.zeros((3 * w + 1, n))
            ab[w:] = band
            lu, piv, info = gbtrf(ab, w, w)
            pivots = np.abs(lu[2 * w])
            # a singular system leaves a pivot at rounding level of the largest one
            if info != 0 or pivots.min() <= 100 * n * np.finfo(float).eps * pivots.max():
                raise FemkronValueError(
                    "the operator is singular: a banded system of the nested diagonalization "
                    "has a zero pivot (a pure Neumann problem, or a Helmholtz resonance)",
                    reason="singular",
                )
            self._lu.append((lu, piv))
            self._dropped.append(tuple(dropped))
        self.factorizations = len([x for x in self._lu if x is not None])
        self._gbtrs = sla.get_lapack_funcs("gbtrs", (bands,))

    # ---- transforms -----------------------------------------------------------------
    def _apply_step(self, U, st, forward):
        e = st.axis
        nb = len(st.before)
        if st.S is None:  # real Fourier modes
            return _real_fourier(U, e, forward)
        if st.nkeys == 1:
            S = st.S[0].T if forward else st.S[0]
            return np.moveaxis(np.tensordot(S, U, axes=([1], [e])), 0, e)
        order = [self.order[j] for j in range(nb)]
        Ut = np.moveaxis(U, order + [e], list(range(nb + 1)))
        keys = np.broadcast_to(st.keys, Ut.shape[:nb])
        for k in range(st.nkeys):
            mask = keys == k
            if not mask.any():
                continue
            sub = Ut[mask]  # (count, n_e, rest...)
            S = st.S[k]
            Ut[mask] = (
                np.einsum("ji,cj...->ci...", S, sub)
                if forward
                else np.einsum("ij,cj...->ci...", S, sub)
            )
        return U

    def _to_modes(self, b):
        """Grid array of ``b`` (reduced) transformed to the modes, poles inserted."""
        U = np.zeros(self.shape1d)
        if self.pc is not None:
            flat = U.reshape(-1)
            flat[self.pc.rest] = b[len(b) - self.pc.rest.size :]
        else:
            U = np.array(b, dtype=float).reshape(self.shape1d)
        angular = {a for _, _, ang in self.poles for a in ang}
        inserted = not self.poles
        for st in self.steps:
            U = np.ascontiguousarray(U)
            U = self._apply_step(U, st, True)
            done = {s.axis for s in self.steps[: self.steps.index(st) + 1]}
            if not inserted and angular <= done:
                self._insert_poles(U, b)
                inserted = True
        return np.ascontiguousarray(U)

    def _insert_poles(self, U, b):
        for sl, idx, angular, sub in self.pc.blocks:
            U[idx] = 0.0
            sel = list(idx)
            gamma = 1.0
            for a in angular:
                st = self.steps[self.order.index(a)]
                sel[a] = st.const
                gamma *= st.gamma
            block = gamma * np.asarray(b[sl]).reshape(sub)
            U[tuple(sel)] = block

    def _from_modes(self, U):
        for st in reversed(self.steps):
            U = self._apply_step(np.ascontiguousarray(U), st, False)
        if self.pc is None:
            return U.reshape(-1)
        out = np.empty(self.shape[0])
        flat = U.reshape(-1)
        out[len(out) - self.pc.rest.size :] = flat[self.pc.rest]
        for (axis, _, _), (sl, idx, angular, _) in zip(self.pc.poles, self.pc.blocks):
            plane = U[idx]  # the hyperplane: every axis but `axis`
            hyper = tuple(a - (a > axis) for a in angular)
            out[sl] = plane.mean(axis=hyper).reshape(-1)
        return out

    def solve(self, b):
        """Apply the inverse to a reduced vector (or a stack ``(N, k)`` of them)."""
        b = np.asarray(b, dtype=float)
        if b.ndim == 2:
            return np.stack([self.solve(b[:, j]) for j in range(b.shape[1])], axis=1)
        if b.shape != (self.shape[0],):
            raise FemkronValueError(f"b must have shape ({self.shape[0]},), got {b.shape}")
        U = self._to_modes(b)
        B = self.banded_axis
        order = self.order
        Ut = np.moveaxis(U, order + [B], list(range(len(order) + 1)))
        R = np.ascontiguousarray(Ut).reshape(-1, self.shape1d[B])
        X = np.zeros_like(R)
        w = self.w
        for k, fac in enumerate(self._lu):
            if fac is None:
                continue
            modes = np.flatnonzero(self._mode_key == k)
            if modes.size == 0:
                continue
            rhs = R[modes].T.copy()
            for dof in self._dropped[k]:
                rhs[dof] = 0.0
            x, info = self._gbtrs(fac[0], w, w, rhs, fac[1])
            X[modes] = x.T
        Xt = X.reshape(Ut.shape)
        U = np.moveaxis(Xt, list(range(len(order) + 1)), order + [B])
        return self._from_modes(U)

    __call__ = solve

    # ---- the whole eigenbasis (modal time integration) ------------------------------
    def _spectrum(self):
        """Per distinct mode pencil ``(λ, Y, keep)``, and each mode's pencil index."""
        if getattr(self, "_spec", None) is not None:
            return self._spec
        fa, Ca = self._radial(0)
        fm, Cm = self._radial(1)
        if not fm:
            raise FemkronValueError(
                "the eigenbasis needs the mass (NestedDiagonalization(A, mass=M))",
                reason="no-mass",
            )
        Fa, Fm = np.stack([_dense(F) for F in fa]), np.stack([_dense(F) for F in fm])
        flags = self._end_flags()
        n = self.shape1d[self.banded_axis]
        cols = np.concatenate([Ca.T, Cm.T] + [f.astype(float)[:, None] for _, f in flags], axis=1)
        uniq, inverse = np.unique(cols, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        cache = {}
        for q in sorted(set(inverse[self.active].tolist())):
            row = uniq[q]
            A = np.tensordot(row[: len(fa)], Fa, axes=1)
            M = np.tensordot(row[len(fa) : len(fa) + len(fm)], Fm, axes=1)
            keep = np.ones(n, dtype=bool)
            for (dof, _), f in zip(flags, row[len(fa) + len(fm) :]):
                if f:
                    keep[dof] = False
            lam, Y = sla.eigh(A[np.ix_(keep, keep)], M[np.ix_(keep, keep)])
            cache[q] = (lam, Y, keep)
        self._spec = (cache, np.where(self.active, inverse, -1))
        return self._spec

    def _mode_rows(self, U):
        """A grid array as ``(modes, n_banded)`` rows (a view of a moved copy)."""
        B = self.banded_axis
        Ut = np.moveaxis(U, self.order + [B], list(range(len(self.order) + 1)))
        return np.ascontiguousarray(Ut).reshape(-1, self.shape1d[B])

    def modal_eigenvalues(self):
        """Eigenvalues of ``A x = λ M x`` as ``(modes, n_banded)`` (0 where no eigenpair).

        Entry ``[m, i]`` belongs to the ``i``-th radial eigenvector of mode ``m``; padded
        entries (inactive modes, dropped pole dofs) are 0 and so are their coefficients in
        :meth:`modal_coefficients`.  Needs ``mass``.

        Examples
        --------
        >>> import femkron as fk
        >>> from scipy.special import jn_zeros
        >>> D = fk.TensorSpace.disk(radius=1.0, cells=(8, 16), order=3)
        >>> bcs = fk.BoundaryConditions(D, {"outer": fk.Dirichlet(0.0)})
        >>> nd = NestedDiagonalization(
        ...     bcs.constrain(fk.stiffness(D)), mass=bcs.constrain(fk.mass(D))
        ... )
        >>> lam = nd.modal_eigenvalues()
        >>> bool(abs(lam[lam > 0].min() - jn_zeros(0, 1)[0] ** 2) < 1e-6)
        True
        """
        cache, key = self._spectrum()
        out = np.zeros((key.size, self.shape1d[self.banded_axis]))
        for q, (lam, _, _) in cache.items():
            out[key == q, : lam.size] = lam
        return out

    def modal_coefficients(self, b):
        """``Xᵀ b`` for the M-orthonormal eigenvectors ``X`` of ``A x = λ M x``.

        ``b`` is reduced; the result is shaped as :meth:`modal_eigenvalues`.  With
        ``b = M x`` these are the coordinates of ``x`` in the eigenbasis.

        Examples
        --------
        >>> import femkron as fk
        >>> D = fk.TensorSpace.disk(radius=1.0, cells=(3, 8), order=2)
        >>> bcs = fk.BoundaryConditions(D, {"outer": fk.Dirichlet(0.0)})
        >>> M = bcs.constrain(fk.mass(D))
        >>> nd = NestedDiagonalization(bcs.constrain(fk.stiffness(D)), mass=M)
        >>> x = np.random.default_rng(0).standard_normal(M.shape[0])
        >>> bool(np.allclose(nd.from_modal(nd.modal_coefficients(M @ x)), x))
        True
        """
        cache, key = self._spectrum()
        R = self._mode_rows(self._to_modes(np.asarray(b, dtype=float)))
        out = np.zeros_like(R)
        for q, (lam, Y, keep) in cache.items():
            rows = key == q
            out[rows, : lam.size] = R[rows][:, keep] @ Y
        return out

    def from_modal(self, C):
        """``X C``: the reduced vector of the eigen-coordinates ``C``.

        ``C`` is shaped as :meth:`modal_eigenvalues`; the inverse of
        :meth:`modal_coefficients` applied to ``M x`` (see its example).
        """
        cache, key = self._spectrum()
        n = self.shape1d[self.banded_axis]
        G = np.zeros((key.size, n))
        for q, (lam, Y, keep) in cache.items():
            rows = np.flatnonzero(key == q)
            G[np.ix_(rows, np.flatnonzero(keep))] = C[rows, : lam.size] @ Y.T
        U = G.reshape(self.mode_shape + (n,))
        U = np.moveaxis(U, list(range(len(self.order) + 1)), self.order + [self.banded_axis])
        return self._from_modes(U)

    # ---- eigenpairs -----------------------------------------------------------------
    def eigenpairs(self, k):
        """The ``k`` smallest eigenpairs of ``A x = λ M x`` (needs ``mass``).

        Returns ``(w, X)`` with ``X`` reduced vectors, M-orthonormal.
        """
        fa, Ca = self._radial(0)
        fm, Cm = self._radial(1)
        Fa, Fm = [_dense(F) for F in fa], [_dense(F) for F in fm]
        flags = self._end_flags()
        n = self.shape1d[self.banded_axis]
        cols = np.concatenate([Ca.T, Cm.T] + [f.astype(float)[:, None] for _, f in flags], axis=1)
        uniq, inverse = np.unique(cols, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        vals, where = [], []
        cache = {}
        used = set(inverse[self.active].tolist())
        for q, row in enumerate(uniq):
            if q not in used:  # modes of padded (dropped) dofs
                continue
            A = np.tensordot(row[: len(Fa)], np.stack(Fa), axes=1)
            M = np.tensordot(row[len(Fa) : len(Fa) + len(Fm)], np.stack(Fm), axes=1)
            keep = np.ones(n, dtype=bool)
            for (dof, _), f in zip(flags, row[len(Fa) + len(Fm) :]):
                if f:
                    keep[dof] = False
            lam, Y = sla.eigh(A[np.ix_(keep, keep)], M[np.ix_(keep, keep)])
            cache[q] = (lam, Y, keep)
        for mode in np.flatnonzero(self.active):
            lam = cache[inverse[mode]][0]
            m = min(k, lam.size)
            vals.append(lam[:m])
            where.append(np.stack([np.full(m, mode), np.arange(m)], axis=1))
        vals = np.concatenate(vals)
        where = np.concatenate(where)
        pick = np.argsort(vals, kind="stable")[:k]
        X = np.empty((self.shape[0], pick.size))
        B = self.banded_axis
        for j, p in enumerate(pick):
            mode, i = where[p]
            lam, Y, keep = cache[inverse[mode]]
            U = np.zeros(self.mode_shape + (n,))
            vec = np.zeros(n)
            vec[keep] = Y[:, i]
            U.reshape(-1, n)[mode] = vec
            G = np.moveaxis(U, list(range(len(self.order) + 1)), self.order + [B])
            X[:, j] = self._from_modes(G)
        return vals[pick], X


def nested_structure(operator):
    """Check that :class:`NestedDiagonalization` applies, solving no eigenproblem.

    Returns ``(banded axis, diagonalized axes in order)``; raises :class:`StructureError`.

    Examples
    --------
    >>> import femkron as fk
    >>> C = fk.TensorSpace.cylinder(1.0, 1.0, cells=(2, 4, 2), order=1)
    >>> nested_structure(fk.BoundaryConditions(C).constrain(fk.stiffness(C)))
    (0, [1, 2])
    """
    if isinstance(operator, PoleConstrainedOperator):
        kron, poles = operator.A, operator.poles
    elif isinstance(operator, KronOperator):
        kron, poles = operator, ()
    else:
        raise StructureError("not a Kronecker sum", reason="not-kronecker")
    if any(r != c for r, c in kron.axis_shapes):
        raise StructureError("a factor is not square", reason="not-square")
    if kron.naxes < 2:
        raise StructureError("a 1D operator", reason="one-axis")
    items = _canonical([(c, f, 0) for c, f in kron.terms])
    steps, b, _, _ = nested_plan(items, kron.in_shape, poles, dry=True)
    return b, [st.axis for st in steps]


def nested_nbytes(operator):
    """Rough bytes of a nested diagonalization: dense angular bases and banded factors."""
    shape = getattr(operator, "grid_shape", None) or operator.in_shape
    N = int(np.prod(shape, dtype=np.int64))
    return int(8 * 4 * sum(n * n for n in shape[1:]) + 8 * 8 * N)
