"""Boundary conditions and operators on a :class:`~femkron.BoxUnion`.

Faces of the union's boundary are named by the plane they lie in (``"x=0"``, ``"y=-1"``,
matched with a tolerance), ``"boundary"`` names them all (a named plane overrides it), the
face names of the bounding box (``"left"``, ``"right"``, ...) name its planes; faces not
named are homogeneous Dirichlet.  Dirichlet, Neumann and Robin apply to any face, the
re-entrant ones included; periodic conditions are refused.

The operators are assembled box by box of the union's partition — on a box the stiffness is
the Kronecker sum of its 1D matrices — into CSR on the free dofs, and carry the record the
Schur complement solver (:mod:`femkron.linalg.schur`) reads: per box the constrained 1D
pencils of its interior dofs, per interface piece the pencils of its face-wise preconditioner.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> L = fk.BoxUnion.lshape(cells=4, order=1)
>>> conds = UnionConditions(L, {"x=0": fk.Neumann(0.0)})
>>> conds.ndofs, conds.singular      # 5 interior dofs and one on the Neumann edge
(6, False)
>>> A = union_operator(L, conds)
>>> A.shape, bool(abs(A.tocsr() - A.tocsr().T).max() < 1e-14)
((6, 6), True)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validate import evaluate, is_number
from ..errors import FemkronTypeError, FemkronValueError
from .bc import FACES, Condition, Dirichlet, Periodic, _face_data, _on_face
from .tensor import TensorSpace, load_vector
from .union import NODE_TOL, BoxUnion, parse_plane
from .union_record import schur_structure

__all__ = ["UnionConditions", "UnionOperator", "union_operator", "union_matrix", "union_load"]

_NAMES = ("x", "y", "z")


class UnionConditions:
    """The boundary conditions of one problem on a :class:`BoxUnion`.

    Parameters
    ----------
    U : BoxUnion
    bc : dict, Condition or None
        ``{plane or "boundary": condition}``; see :mod:`femkron.fem.union_ops`.

    Attributes
    ----------
    U : BoxUnion
    faces : list
        The boundary block faces ``(axis, side, node, block, name, condition)``.
    dirichlet : ndarray of bool
        Dirichlet dofs on the bounding grid.
    free : ndarray
        Flat bounding-grid indices of the free dofs (sorted).
    fixed : ndarray
        Flat bounding-grid indices of the Dirichlet dofs (sorted).
    ndofs : int
        Number of free dofs.
    singular : bool
        No Dirichlet face and no Robin face with ``alpha != 0``: constants are in the kernel.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=2)
    >>> UnionConditions(L, fk.Neumann()).singular
    True
    """

    def __init__(self, U, bc=None):
        if not isinstance(U, BoxUnion):
            raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
        self.U = U
        named, default = self._parse(bc)
        self.faces = []
        for d, side, node, block, name in U.boundary_blocks():
            self.faces.append((d, side, node, block, name, named.get((d, node), default)))
        mask = np.zeros(U.shape, dtype=bool)
        for d, _side, node, block, _name, cond in self.faces:
            if cond.kind == "dirichlet":
                mask.reshape(-1)[self.face_index(d, node, block).ravel()] = True
        self.dirichlet = mask & U.dof_mask
        flat = self.dirichlet.reshape(-1)
        self.free = U.dofs[~flat[U.dofs]]
        self.fixed = U.dofs[flat[U.dofs]]
        self.ndofs = int(self.free.size)
        if self.ndofs == 0:
            raise FemkronValueError("the union has no free dofs (refine the mesh)")
        self.singular = not any(
            c.kind == "dirichlet" or (c.kind == "robin" and c.alpha != 0.0) for *_, c in self.faces
        )
        self._face_of = {(d, side, block): cond for d, side, _, block, _, cond in self.faces}

    def _parse(self, bc):
        U = self.U
        if bc is None:
            bc = {}
        if isinstance(bc, Condition):
            bc = {"boundary": bc}
        if not isinstance(bc, dict):
            raise FemkronTypeError(
                f"bc must be a dict {{plane: condition}}, a condition, or None, got "
                f"{type(bc).__name__}"
            )
        planes = {}
        for d, _, node, _, name in U.boundary_blocks():
            planes[(d, node)] = name
        available = U.planes()
        named, default = {}, Dirichlet(0.0)
        for key, cond in bc.items():
            if not isinstance(cond, Condition):
                raise FemkronTypeError(
                    f"bc[{key!r}] must be Dirichlet, Neumann or Robin, got {type(cond).__name__}"
                )
            if isinstance(cond, Periodic) or key in _NAMES:
                raise FemkronValueError(
                    f"bc[{key!r}]: periodic conditions are not supported on a union of boxes "
                    f"(axis {key!r} is not a full box axis of the union); use a TensorSpace "
                    "for a periodic box",
                    reason="periodic-union",
                )
            if key == "boundary":
                default = cond
                continue
            if key in FACES and FACES[key][0] < U.dim:
                d, side = FACES[key]
                m = U.spaces[d].mesh
                target = (d, m.a if side == 0 else m.b)
            else:
                target = parse_plane(key)
            if target is None:
                raise FemkronValueError(
                    f"unknown face {key!r} in bc; a union's faces are named by their plane "
                    f"({', '.join(available)}), 'boundary', or the bounding box's faces "
                    "(left, right, bottom, top[, front, back])",
                    reason="unknown-face",
                )
            d, value = target
            if d >= U.dim:
                raise FemkronValueError(f"unknown face {key!r}: the union is {U.dim}D")
            m = U.spaces[d].mesh
            nodes = m.nodes
            i = int(np.argmin(np.abs(nodes - value)))
            tol = NODE_TOL * (m.b - m.a) * 10
            if abs(nodes[i] - value) > tol or (d, i) not in planes:
                raise FemkronValueError(
                    f"bc[{key!r}]: no boundary face of the union lies in the plane "
                    f"{_NAMES[d]}={value:g}; its boundary planes are {', '.join(available)}",
                    reason="unknown-face",
                )
            named[(d, i)] = cond
        return named, default

    # ---- index sets ---------------------------------------------------------------------
    def face_index(self, d, node, block):
        """Flat grid indices of the dofs of a block face (closure), shape = the face grid."""
        U = self.U
        ranges = []
        for e, (lo, hi) in enumerate(U.block_ranges(block)):
            if e == d:
                ranges.append(np.array([U.spaces[d].order * node]))
            else:
                ranges.append(U.dof_range(e, lo, hi))
        return U.flat_index(ranges)

    def box_face(self, box, d, side):
        """``(natural, alpha)`` of a face of a partition box.

        ``natural``: the whole face is union boundary with a Neumann or Robin condition (its
        dofs stay in the box's own problem); ``alpha`` its Robin coefficient.
        """
        U = self.U
        blocks = []
        for e, (lo, hi) in enumerate(box):
            b = U.breaks[e]
            i0, i1 = int(np.searchsorted(b, lo)), int(np.searchsorted(b, hi))
            if e == d:
                blocks.append([i0] if side == 0 else [i1 - 1])
            else:
                blocks.append(range(i0, i1))
        conds = []
        for block in np.array(np.meshgrid(*blocks, indexing="ij")).reshape(U.dim, -1).T:
            cond = self._face_of.get((d, side, tuple(int(v) for v in block)))
            if cond is None or cond.kind == "dirichlet":
                return False, 0.0
            conds.append(cond)
        alphas = {c.alpha if c.kind == "robin" else 0.0 for c in conds}
        if len(alphas) != 1:
            return False, 0.0
        return True, alphas.pop()

    def values(self):
        """Flat bounding-grid vector of the Dirichlet data (zero elsewhere); ``None`` if zero."""
        U = self.U
        if not any(
            c.kind == "dirichlet" and not (is_number(c.value) and c.value == 0.0)
            for *_, c in self.faces
        ):
            return None
        out = np.zeros(int(np.prod(U.shape)))
        for d, _side, node, block, name, cond in self.faces:
            if cond.kind != "dirichlet":
                continue
            idx = self.face_index(d, node, block)
            pts = np.unravel_index(idx, U.shape)
            coords = [s.x[i] for s, i in zip(U.spaces, pts)]
            out[idx] = evaluate(cond.value, f"Dirichlet value on plane {name}", coords, idx.shape)
        return out

    def boundary_load(self, quad=None):
        """Flat bounding-grid load ``∫_face g v`` of the Neumann and Robin data (or ``None``)."""
        U = self.U
        out = None
        for d, _side, node, block, name, cond in self.faces:
            data = _face_data(cond)
            if data is None:
                continue
            g, label = data
            ranges = U.block_ranges(block)
            others = [U.subspace(e, lo, hi) for e, (lo, hi) in enumerate(ranges) if e != d]
            point = U.spaces[d].mesh.nodes[node]
            try:
                face = load_vector(TensorSpace(others), _on_face(g, d, point), quad=quad)
            except FemkronValueError as err:
                raise FemkronValueError(f"{label} on plane {name}: {err}") from None
            if out is None:
                out = np.zeros(int(np.prod(U.shape)))
            np.add.at(out, self.face_index(d, node, block).ravel(), face)
        return out


class UnionOperator:
    """An operator on the free dofs of a union: assembled CSR plus the record of its boxes.

    Attributes
    ----------
    shape : tuple
    csr : scipy.sparse.csr_matrix
    schur_structure : SimpleNamespace or None
        ``boxes`` (per box ``index``, ``stiffness``, ``masses``) and ``pieces`` (per
        interface piece ``index``, ``plane`` pencils, ``sides`` normal pencils), ``sigma``;
        read by :class:`femkron.linalg.schur.SchurComplementSolver`.  ``None`` when a box is
        not a Kronecker sum (a variable coefficient).
    """

    def __init__(self, csr, schur_structure=None):
        self.csr = csr.tocsr()
        self.shape = self.csr.shape
        self.schur_structure = schur_structure

    def __repr__(self):
        boxes = "no" if self.schur_structure is None else len(self.schur_structure.boxes)
        return f"<UnionOperator {self.shape[0]}×{self.shape[1]}, {boxes} boxes>"

    def __matmul__(self, x):
        return self.csr @ x

    def tocsr(self):
        """The assembled matrix."""
        return self.csr

    def diagonal(self):
        """The diagonal."""
        return self.csr.diagonal()

    def csr_nbytes(self):
        """Bytes of the CSR form."""
        return int(self.csr.nnz * 12 + (self.shape[0] + 1) * 8)


def _coefficient(kappa):
    if is_number(kappa):
        k = float(kappa)
        if not (np.isfinite(k) and k > 0):
            raise FemkronValueError(f"kappa must be a finite number > 0, got {kappa!r}")
        return k
    if callable(kappa):
        return kappa
    raise FemkronTypeError(
        f"kappa on a union must be a number or a callable kappa(x, y[, z]), got "
        f"{type(kappa).__name__}"
    )


def _ext_numbering(U, conds):
    ext = np.full(int(np.prod(U.shape)), -1, dtype=np.int64)
    ext[conds.free] = np.arange(conds.ndofs)
    ext[conds.fixed] = conds.ndofs + np.arange(conds.fixed.size)
    return ext


def _box_matrix(U, box, kappa, sigma):
    """The CSR of ``∫ κ ∇u·∇v + σ u v`` over one box (its own dof numbering)."""
    subs = [U.subspace(d, lo, hi) for d, (lo, hi) in enumerate(box)]
    Ms = [s.mass() for s in subs]
    if callable(kappa):  # element by element (sum factorised), its Gauss rule
        from .assembly import assemble

        out = assemble(TensorSpace(subs), kappa=kappa).tocsr()
    else:  # the Kronecker sum κ Σ_d M ⊗ .. K_d .. ⊗ M
        Ks = [s.stiffness() for s in subs]
        out = None
        for d in range(U.dim):
            term = None
            for e in range(U.dim):
                f = Ks[e] if e == d else Ms[e]
                term = f if term is None else sp.kron(term, f, format="csr")
            out = kappa * term if out is None else out + kappa * term
    if sigma != 0.0:
        term = Ms[0]
        for e in range(1, U.dim):
            term = sp.kron(term, Ms[e], format="csr")
        out = out + sigma * term
    return out


def union_matrix(U, conds, kappa=1.0, sigma=0.0, robin=True):
    """``∫ κ ∇u·∇v + σ u v`` (+ Robin ``∮ α u v``) on the union, in the extended numbering.

    Rows and columns: the free dofs of ``conds`` first, then its Dirichlet dofs.  Returns a
    CSR matrix of size ``U.ndofs``.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=2)
    >>> M = union_matrix(L, UnionConditions(L, fk.Neumann()), kappa=0.0, sigma=1.0)
    >>> round(float(M.sum()), 12)           # the area of the L
    3.0
    """
    ext = _ext_numbering(U, conds)
    rows, cols, vals = [], [], []
    kappa = kappa if (callable(kappa) or kappa == 0.0) else _coefficient(kappa)
    for box in U.boxes:
        A = _box_matrix(U, box, kappa, float(sigma)).tocoo()
        g = ext[U.flat_index([U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)]).ravel()]
        rows.append(g[A.row])
        cols.append(g[A.col])
        vals.append(A.data)
    if robin:
        for d, _side, node, block, _name, cond in conds.faces:
            if cond.kind != "robin" or cond.alpha == 0.0:
                continue
            ranges = U.block_ranges(block)
            term = None
            for e, (lo, hi) in enumerate(ranges):
                if e == d:
                    continue
                m = U.subspace(e, lo, hi).mass()
                term = m if term is None else sp.kron(term, m, format="csr")
            R = (cond.alpha * term).tocoo()
            g = ext[conds.face_index(d, node, block).ravel()]
            rows.append(g[R.row])
            cols.append(g[R.col])
            vals.append(R.data)
    n = U.ndofs
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    A.sort_indices()
    return A


def union_load(U, conds, f, quad=None):
    """Flat bounding-grid load ``∫ f v`` over the union plus the Neumann/Robin loads.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4, order=2)
    >>> round(float(union_load(L, UnionConditions(L), 1.0).sum()), 12)   # the area
    3.0
    """
    out = np.zeros(int(np.prod(U.shape)))
    for box in U.boxes:
        b = load_vector(U.box_space(box), f, quad=quad)
        idx = U.flat_index([U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)])
        np.add.at(out, idx.ravel(), b)
    extra = conds.boundary_load(quad)
    if extra is not None:
        out += extra
    return out


def union_operator(U, conds, kappa=1.0, sigma=0.0, scale=1.0):
    """The operator ``scale (∫ κ ∇u·∇v + σ u v + ∮ α u v)`` on the free dofs of a union.

    With a constant ``kappa`` it carries the record of its boxes for the Schur complement
    solver; with a callable ``kappa`` it is assembled only.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=4)
    >>> A = union_operator(L, UnionConditions(L))
    >>> len(A.schur_structure.boxes), len(A.schur_structure.pieces)
    (2, 1)
    """
    kappa = _coefficient(kappa)
    full = union_matrix(U, conds, kappa, sigma)
    n = conds.ndofs
    A = UnionOperator(scale * full[:n, :n])
    A.fixed_columns = scale * full[:n, n:]
    if not callable(kappa):
        A.schur_structure = schur_structure(U, conds, kappa, sigma, scale)
    return A
