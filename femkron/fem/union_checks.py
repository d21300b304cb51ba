"""Checks and helpers of :class:`~femkron.BoxUnion`: boxes given, conformity, partition.

Examples
--------
>>> import numpy as np
>>> bool(split_windows(2)[0b1001])     # two cells meeting at a corner only
True
>>> greedy_boxes(np.array([[True, True], [True, False]]), (0, 1))
[((0, 2), (0, 1)), ((0, 1), (1, 2))]
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import FemkronTypeError, FemkronValueError

__all__ = [
    "as_boxes",
    "axis_name",
    "cell_slice",
    "check_conforming",
    "check_connected",
    "greedy_boxes",
    "overlap",
    "split_windows",
]


def axis_name(d):
    """``"x"``, ``"y"``, ``"z"`` (``"x3"``, ... beyond)."""
    return ("x", "y", "z")[d] if d < 3 else f"x{d}"


def check_conforming(self):
    """Refuse cells of the union ``self`` touching the rest only at a corner (3D: an edge)."""
    D = self.dim
    pad = np.pad(self.cell_mask, 1)
    table = split_windows(D)
    # every 2^D window around a mesh node, and in 3D every 2×2 window around an edge
    checks = list(itertools.combinations(range(D), 2)) if D == 3 else []
    checks.append(tuple(range(D)))
    for axes in checks:
        k = len(axes)
        codes = np.zeros([n - 1 if d in axes else n for d, n in enumerate(pad.shape)], int)
        for bit, corner in enumerate(itertools.product((0, 1), repeat=k)):
            sl = [slice(None)] * D
            for a, c in zip(axes, corner):
                sl[a] = slice(c, c + pad.shape[a] - 1)
            codes |= pad[tuple(sl)].astype(int) << bit
        bad = split_windows(k) if k != D else table
        hit = np.argwhere(bad[codes])
        if hit.size:
            node = hit[0]
            what = "a corner" if k == D and D == 2 or k == 3 else "an edge"
            where = [int(node[d]) if d in axes else None for d in range(D)]
            shown = ", ".join(
                f"{axis_name(d)}={self.space.spaces[d].mesh.nodes[i]:g}"
                for d, i in enumerate(where)
                if i is not None
            )
            raise FemkronValueError(
                f"the union is not conforming: active cells touch each other only at "
                f"{what} at {shown}; every cell must share a face with its neighbours there "
                "(add or remove a box so the cells meet along a face)",
                reason="corner-contact",
            )


def check_connected(self):
    """Refuse a union ``self`` whose active cells fall apart into pieces."""
    from scipy import ndimage

    labels, count = ndimage.label(self.cell_mask)
    if count > 1:
        sizes = np.bincount(labels.ravel())[1:]
        small = int(np.argmin(sizes)) + 1
        cell = np.argwhere(labels == small)[0]
        raise FemkronValueError(
            f"the removed boxes disconnect the domain into {count} pieces; the smallest "
            f"({int(sizes[small - 1])} cells) starts at the cell with lower corner "
            f"{self._point(cell)}",
            reason="disconnected",
        )


def as_boxes(boxes, name, D):
    """The boxes given as ``name``: lists of ``D`` float pairs (checked)."""
    try:
        boxes = list(boxes)
    except TypeError:
        raise FemkronTypeError(
            f"{name} must be a sequence of boxes, each {D} (a, b) pairs, got {boxes!r}"
        ) from None
    if not boxes:
        raise FemkronValueError(f"{name} must hold at least one box")
    out = []
    for i, box in enumerate(boxes):
        try:
            pairs = [tuple(float(v) for v in ab) for ab in box]
        except (TypeError, ValueError):
            raise FemkronTypeError(
                f"{name}[{i}] must be {D} (a, b) pairs of numbers, got {box!r}"
            ) from None
        if len(pairs) != D or any(len(p) != 2 for p in pairs):
            raise FemkronValueError(
                f"{name}[{i}] must be {D} (a, b) pairs (one per axis), got {box!r}"
            )
        if not np.all(np.isfinite(pairs)):
            raise FemkronValueError(f"{name}[{i}] must be finite, got {box!r}")
        out.append(pairs)
    return out


def cell_slice(r):
    """The cells of a box of mesh-node ranges, as slices."""
    return tuple(slice(lo, hi) for lo, hi in r)


def overlap(r1, r2):
    """The common node ranges of two boxes, or ``None``."""
    out = []
    for (a1, b1), (a2, b2) in zip(r1, r2):
        lo, hi = max(a1, a2), min(b1, b2)
        if lo >= hi:
            return None
        out.append((lo, hi))
    return out


_SPLIT = {}


def split_windows(k):
    """Boolean table over the 2^(2^k) patterns of a 2^k window: active cells not face-connected."""
    if k in _SPLIT:
        return _SPLIT[k]
    corners = list(itertools.product((0, 1), repeat=k))
    table = np.zeros(2 ** len(corners), dtype=bool)
    for code in range(table.size):
        on = [c for bit, c in enumerate(corners) if code >> bit & 1]
        if len(on) < 2:
            continue
        seen, stack = {on[0]}, [on[0]]
        while stack:
            c = stack.pop()
            for o in on:
                if o not in seen and sum(abs(a - b) for a, b in zip(c, o)) == 1:
                    seen.add(o)
                    stack.append(o)
        table[code] = len(seen) < len(on)
    _SPLIT[k] = table
    return table


def greedy_boxes(active, order):
    """Cover the active entries of a small boolean block grid by boxes, greedily."""
    D = active.ndim
    free = active.copy()
    boxes = []
    for start in np.argwhere(active):
        start = tuple(int(s) for s in start)
        if not free[start]:
            continue
        lo, hi = list(start), [s + 1 for s in start]
        for d in order:
            while hi[d] < active.shape[d]:
                sl = tuple(
                    slice(hi[e], hi[e] + 1) if e == d else slice(lo[e], hi[e]) for e in range(D)
                )
                if free[sl].all():
                    hi[d] += 1
                else:
                    break
        free[tuple(slice(a, b) for a, b in zip(lo, hi))] = False
        boxes.append(tuple(zip(lo, hi)))
    return boxes
