"""The record of a union operator that the Schur complement solver reads.

Per box of the partition: the free dofs of its own problem (its interfaces and Dirichlet faces
removed, its natural faces kept) and their constrained 1D pencils — a Kronecker sum.  Per
*piece* of the interface Γ (the faces of the block grid on Γ, merged into rectangles beside
the same pair of boxes): its dofs, the 1D pencils of the face and the normal 1D pencils of the
boxes on each side, from which :class:`femkron.linalg.schur.SchurComplementSolver` builds a
preconditioner diagonal in the face's eigenbasis.

Examples
--------
>>> import femkron as fk
>>> from femkron.fem.union_ops import UnionConditions
>>> L = fk.BoxUnion.lshape(cells=4)
>>> rec = schur_structure(L, UnionConditions(L), 1.0, 0.0, 1.0)
>>> len(rec.boxes), len(rec.pieces), rec.pieces[0].shape
(2, 1, (1,))
"""

from __future__ import annotations

import types

import numpy as np

from ..errors import FemkronValueError

__all__ = ["schur_structure"]


# ---- the record of the Schur complement solver ------------------------------------------
def _axis_pencil(U, d, lo, hi, kappa, alphas=(0.0, 0.0)):
    """Dense ``(κ K + Robin ends, M)`` of axis ``d`` on the mesh nodes ``lo..hi``."""
    s = U.subspace(d, lo, hi)
    K = kappa * s.stiffness().toarray()
    M = s.mass().toarray()
    K[0, 0] += alphas[0]
    K[-1, -1] += alphas[1]
    return K, M


def schur_structure(U, conds, kappa, sigma, scale):
    """The record the Schur complement solver reads, for a constant ``kappa``.

    ``boxes``: per box of the partition the free-dof ``index`` of its own dofs (C order of
    its grid) and their constrained 1D ``stiffness`` and ``masses`` (Robin folded in);
    ``pieces``: per piece of Γ its ``index``, ``shape``, the ``plane`` pencils of the face
    and the normal pencils of the boxes on its ``sides`` (end dof first or last); ``sigma``.
    """
    D = U.dim
    pos = np.full(int(np.prod(U.shape)), -1, dtype=np.int64)
    pos[conds.free] = np.arange(conds.ndofs)
    local = np.zeros(int(np.prod(U.shape)), dtype=bool)
    boxes, keep_sets, pencil = [], [], []
    for box in U.boxes:
        sets, Ks, Ms, axis_pencils = [], [], [], []
        for d, (lo, hi) in enumerate(box):
            faces = [conds.box_face(box, d, side) for side in (0, 1)]
            K, M = _axis_pencil(U, d, lo, hi, kappa, [f[1] if f[0] else 0.0 for f in faces])
            n = K.shape[0]
            keep = np.arange(n)
            keep = keep[(keep > 0) | faces[0][0]]
            keep = keep[(keep < n - 1) | faces[1][0]]
            sets.append(keep)
            axis_pencils.append((K, M, keep))
            Ks.append(scale * K[np.ix_(keep, keep)])
            Ms.append(M[np.ix_(keep, keep)])
        ranges = [U.dof_range(d, lo, hi)[s] for d, ((lo, hi), s) in enumerate(zip(box, sets))]
        flat = U.flat_index(ranges)
        index = pos[flat.ravel()]
        if index.size and index.min() < 0:  # a Dirichlet dof inside a box: not expected
            raise FemkronValueError("internal: a box's own dofs include a Dirichlet dof")
        local[flat.ravel()] = True
        boxes.append(
            types.SimpleNamespace(index=index, stiffness=Ks, masses=Ms, sigma=scale * sigma)
        )
        keep_sets.append(sets)
        pencil.append(axis_pencils)
    gamma = np.zeros_like(local)
    gamma[conds.free] = True
    gamma &= ~local
    block_box = -np.ones(U.block_mask.shape, dtype=np.int64)
    for i, box in enumerate(U.boxes):
        sl = tuple(
            slice(int(np.searchsorted(U.breaks[d], lo)), int(np.searchsorted(U.breaks[d], hi)))
            for d, (lo, hi) in enumerate(box)
        )
        block_box[sl] = i
    pieces = []
    claimed = np.zeros_like(local)  # Γ dofs already on a piece
    for d in range(D):
        for k in U.breaks[d]:
            for rect, pair in _plane_rectangles(U, d, int(k), block_box, gamma):
                free = gamma & ~claimed
                piece = _piece(U, conds, kappa, scale, d, int(k), rect, pair, pencil, free)
                if piece is None:
                    continue
                flat, ranges, plane, sides = piece
                claimed[flat] = True
                pieces.append(
                    types.SimpleNamespace(
                        index=pos[flat],
                        shape=tuple(r.size for e, r in enumerate(ranges) if e != d),
                        plane=plane,
                        sides=sides,
                    )
                )
    return types.SimpleNamespace(boxes=boxes, pieces=pieces, sigma=scale * sigma)


def _natural_end(U, conds, side_blocks, e, t):
    """Robin alpha (0 for Neumann) when a piece's end along ``e`` lies on a natural boundary.

    Every block beside the piece must end there on the union boundary (no active block
    beyond) with a Neumann or Robin face; else ``None``.
    """
    alphas = set()
    for block in side_blocks:
        beyond = list(block)
        beyond[e] += -1 if t == 0 else 1
        if 0 <= beyond[e] < U.block_mask.shape[e] and U.block_mask[tuple(beyond)]:
            return None
        cond = conds._face_of.get((e, t, tuple(block)))
        if cond is None or cond.kind == "dirichlet":
            return None
        alphas.add(cond.alpha if cond.kind == "robin" else 0.0)
    return alphas.pop() if len(alphas) == 1 else None


def _plane_rectangles(U, d, k, block_box, gamma):
    """The block faces of the plane ``x_d = node k`` on Γ, merged into rectangles.

    Block faces beside the same pair of boxes form one piece where they make a rectangle (a
    whole shared face when the boxes allow).  Yields ``(rect, (box below, box above))`` with
    ``rect`` the block-index ranges ``(j0, j1)`` of the other axes.
    """
    from .union_checks import greedy_boxes

    D = U.dim
    nb = U.block_mask.shape
    p = U.spaces[d].order
    below = int(np.searchsorted(U.breaks[d], k)) - 1
    others = [e for e in range(D) if e != d]
    labels = {}
    for jo in (
        np.array(np.meshgrid(*[range(nb[e]) for e in others], indexing="ij")).reshape(D - 1, -1).T
    ):
        pair = []
        for side in (below, below + 1):
            block = [int(v) for v in jo]
            block.insert(d, side)
            ok = 0 <= side < nb[d]
            pair.append(int(block_box[tuple(block)]) if ok else -1)
        if pair == [-1, -1]:
            continue
        ranges = [np.array([p * k])]
        for e, je in zip(others, jo):
            ranges.insert(e, U.dof_range(e, U.breaks[e][je], U.breaks[e][je + 1])[1:-1])
        if any(r.size == 0 for r in ranges) or not gamma[U.flat_index(ranges).ravel()[0]]:
            continue
        labels.setdefault(tuple(pair), []).append(tuple(int(v) for v in jo))
    for pair, blocks in labels.items():
        mask = np.zeros([nb[e] for e in others], dtype=bool)
        for jo in blocks:
            mask[jo] = True
        for rect in greedy_boxes(mask, tuple(range(D - 1))):
            yield rect, pair


def _piece(U, conds, kappa, scale, d, k, rect, pair, pencil, gamma):
    """Index, ranges, face pencils and normal pencils of one piece of Γ (or ``None``)."""
    D = U.dim
    p = U.spaces[d].order
    below = int(np.searchsorted(U.breaks[d], k)) - 1
    others = [e for e in range(D) if e != d]
    ranges, plane = [], []
    for e in range(D):
        if e == d:
            ranges.append(np.array([p * k]))
            plane.append(None)
            continue
        j0, j1 = rect[others.index(e)]
        lo, hi = int(U.breaks[e][j0]), int(U.breaks[e][j1])
        full = U.dof_range(e, lo, hi)
        alphas, sel = [0.0, 0.0], np.arange(1, full.size - 1)
        for t in (0, 1):
            # the blocks beside the piece at its end t along e
            side_blocks = []
            layer = j0 if t == 0 else j1 - 1
            for jo in (
                np.array(np.meshgrid(*[range(a, b) for a, b in rect], indexing="ij"))
                .reshape(D - 1, -1)
                .T
            ):
                if jo[others.index(e)] != layer:
                    continue
                for side, box in zip((below, below + 1), pair):
                    if box >= 0:
                        block = [int(v) for v in jo]
                        block.insert(d, side)
                        side_blocks.append(block)
            alpha = _natural_end(U, conds, side_blocks, e, t)
            if alpha is not None:
                alphas[t] = alpha
                sel = np.union1d(sel, [0 if t == 0 else full.size - 1])
        ranges.append(full[sel])
        plane.append((e, lo, hi, alphas, sel))
    flat = U.flat_index(ranges).ravel() if all(r.size for r in ranges) else None
    if flat is None or not gamma[flat].all():
        # an end not on Γ (or no dofs): the interior only
        ranges = [
            r if pl is None else U.dof_range(e, pl[1], pl[2])[1:-1]
            for e, (r, pl) in enumerate(zip(ranges, plane))
        ]
        plane = [pl if pl is None else (pl[0], pl[1], pl[2], [0.0, 0.0], None) for pl in plane]
        if any(r.size == 0 for r in ranges):
            return None
        flat = U.flat_index(ranges).ravel()
        if not gamma[flat].all():
            return None
    faces = []
    for pl in plane:
        if pl is None:
            continue
        e, lo, hi, alphas, sel = pl
        Ke, Me = _axis_pencil(U, e, lo, hi, kappa, alphas)
        if sel is None:
            sel = np.arange(1, Ke.shape[0] - 1)
        faces.append((scale * Ke[np.ix_(sel, sel)], Me[np.ix_(sel, sel)]))
    sides = []
    for i, end in zip(pair, (-1, 0)):
        if i < 0:
            continue
        K, M, keep = pencil[i][d]
        idx = np.union1d(keep, [p * (k - U.boxes[i][d][0])])
        sides.append((scale * K[np.ix_(idx, idx)], M[np.ix_(idx, idx)], end))
    return flat, ranges, faces, sides
