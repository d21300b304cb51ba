"""Unions of boxes on one tensor mesh: L-, T-, step- and cross-shaped domains.

A :class:`BoxUnion` is a set of *active cells* of a :class:`~femkron.TensorSpace`, given as
boxes kept or removed whose corners are mesh nodes.  Its space is continuous ``Q_p`` on the
active cells: its dofs are the grid dofs touching an active cell.  The union is cut into a few
boxes (the *partition*); on each the operators are Kronecker sums, which is what the solver of
:mod:`femkron.linalg.schur` uses.  Boundary conditions and operators live in
:mod:`femkron.fem.union_ops`.

Examples
--------
>>> import femkron as fk
>>> L = fk.BoxUnion.lshape(cells=4, order=1)
>>> int(L.cell_mask.sum()), L.ndofs, len(L.boxes)
(12, 21, 2)
>>> L.volume
3.0
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from .._validate import as_int, evaluate
from ..errors import FemkronTypeError, FemkronValueError
from .mesh import Mesh1D
from .space import Space1D
from .tensor import TensorSpace
from .union_checks import (
    as_boxes,
    cell_slice,
    check_conforming,
    check_connected,
    greedy_boxes,
    overlap,
)

__all__ = ["BoxUnion", "parse_plane"]

_AXIS = ("x", "y", "z")

#: Relative tolerance (to the axis length) of box corners and face planes on mesh nodes.
NODE_TOL = 1e-9


def _axis_name(d):
    return _AXIS[d] if d < 3 else f"x{d}"


def parse_plane(name):
    """``(axis, value)`` of a plane name ``"x=0"``, ``"y = -1.5"``; ``None`` if not one.

    Examples
    --------
    >>> parse_plane("y = -1"), parse_plane("left")
    ((1, -1.0), None)
    """
    if not isinstance(name, str):
        return None
    m = re.fullmatch(r"\s*([xyz])\s*=\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*", name)
    if m is None:
        return None
    try:
        return _AXIS.index(m.group(1)), float(m.group(2))
    except ValueError:
        return None


class BoxUnion:
    """A union of boxes on the mesh of a tensor space.

    Parameters
    ----------
    V : TensorSpace
        The bounding box and its mesh (Cartesian, 2D or 3D).
    remove : sequence of boxes, optional
        Boxes cut out of ``V``'s box; each box is one ``(a, b)`` pair per axis whose ends are
        mesh nodes.  Removed boxes may overlap.
    keep : sequence of boxes, optional
        The boxes whose union is the domain (instead of ``remove``); they may not overlap,
        and they are the partition the solver uses (as given).

    Attributes
    ----------
    space : TensorSpace
        The bounding space.
    dim : int
    shape : tuple of int
        Dofs per axis of the bounding grid.
    cell_mask : ndarray of bool
        Active cells, shape = cells per axis.
    dof_mask : ndarray of bool
        Dofs of the union on the bounding grid, shape :attr:`shape`.
    dofs : ndarray
        Flat (C order) bounding-grid indices of the union's dofs, sorted; a vector on the
        union holds values at these dofs.
    ndofs : int
    breaks : tuple of ndarray
        Per axis the mesh-node indices where boxes begin or end (block boundaries).
    block_mask : ndarray of bool
        Active blocks of the grid of :attr:`breaks`.
    boxes : list
        The partition: per box one ``(lo, hi)`` pair of mesh-node indices per axis.

    Raises
    ------
    FemkronValueError
        A box not on mesh nodes or outside the bounding box, kept boxes that overlap, a union
        that is empty, disconnected, or has cells touching the rest only at a corner or an
        edge.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 3), (0, 1)], cells=(6, 2), order=2)
    >>> U = fk.BoxUnion(V, remove=[((1, 2), (0.5, 1))])
    >>> int(U.cell_mask.sum()), U.volume
    (10, 2.5)
    """

    def __init__(self, V, remove=None, keep=None):
        if not isinstance(V, TensorSpace):
            raise FemkronTypeError(f"V must be a TensorSpace, got {type(V).__name__}")
        coords = getattr(V, "coordinates", None)
        coords = getattr(coords, "name", coords)
        if coords not in (None, "cartesian"):
            raise FemkronValueError(
                f"a BoxUnion needs Cartesian coordinates, got V.coordinates = {coords!r}"
            )
        if V.dim not in (2, 3):
            raise FemkronValueError(f"a BoxUnion needs a 2D or 3D space, got dim={V.dim}")
        if (remove is None) == (keep is None):
            raise FemkronValueError("give exactly one of remove=[boxes] or keep=[boxes]")
        self.space = V
        self.dim = D = V.dim
        self.shape = V.shape
        self.orders = V.orders
        cells = tuple(s.mesh.cells for s in V.spaces)
        which = "keep" if keep is not None else "remove"
        given = as_boxes(keep if keep is not None else remove, which, D)
        ranges = [self._node_range(box, f"{which}[{i}]") for i, box in enumerate(given)]
        if keep is not None:
            count = np.zeros(cells, dtype=np.int32)
            for i, r in enumerate(ranges):
                count[cell_slice(r)] += 1
                if np.any(count > 1):
                    j = next(j for j in range(i) if overlap(ranges[j], r) is not None)
                    raise FemkronValueError(
                        f"keep[{j}] and keep[{i}] overlap in "
                        f"{self._describe_range(overlap(ranges[j], r))}; kept boxes are the "
                        "partition of the domain and may not overlap (give disjoint boxes, or "
                        "use remove=[...])",
                        reason="overlap",
                    )
            mask = count > 0
        else:
            mask = np.ones(cells, dtype=bool)
            for r in ranges:
                mask[cell_slice(r)] = False
        if not mask.any():
            raise FemkronValueError(
                f"the boxes given as {which}= leave no active cell: the union is empty",
                reason="empty",
            )
        self.cell_mask = mask
        self.cells = cells
        check_conforming(self)
        check_connected(self)
        brk = [{0, n} for n in cells]
        for r in ranges:
            for d, (lo, hi) in enumerate(r):
                brk[d].update((lo, hi))
        self.breaks = tuple(np.array(sorted(b)) for b in brk)
        starts = np.ix_(*[b[:-1] for b in self.breaks])
        self.block_mask = mask[starts]
        if keep is not None:
            self.boxes = [tuple(r) for r in ranges]
        else:
            self.boxes = self._partition()
        self.dof_mask = self._dof_mask()
        self.dofs = np.flatnonzero(self.dof_mask.ravel())
        self.ndofs = int(self.dofs.size)
        self._subspaces = {}

    # ---- construction helpers ----------------------------------------------------------
    def _node_range(self, box, name):
        out = []
        for d, (a, b) in enumerate(box):
            m = self.space.spaces[d].mesh
            tol = NODE_TOL * (m.b - m.a)
            if not a < b:
                raise FemkronValueError(
                    f"{name}: the {_axis_name(d)}-range ({a:g}, {b:g}) must have a < b"
                )
            if a < m.a - tol or b > m.b + tol:
                raise FemkronValueError(
                    f"{name}: the {_axis_name(d)}-range ({a:g}, {b:g}) leaves the bounding "
                    f"box [{m.a:g}, {m.b:g}]"
                )
            idx = []
            for v in (a, b):
                i = int(np.argmin(np.abs(m.nodes - v)))
                if abs(m.nodes[i] - v) > tol:
                    raise FemkronValueError(
                        f"{name}: {_axis_name(d)}={v:g} is not a mesh node of axis "
                        f"{_axis_name(d)} (nearest node {m.nodes[i]:.10g}); box corners must "
                        "fall on mesh nodes",
                        reason="off-node",
                    )
                idx.append(i)
            out.append((idx[0], idx[1]))
        return out

    def _describe_range(self, r):
        parts = []
        for d, (lo, hi) in enumerate(r):
            x = self.space.spaces[d].mesh.nodes
            parts.append(f"{_axis_name(d)} in [{x[lo]:g}, {x[hi]:g}]")
        return " × ".join(parts)

    def _point(self, index):
        """Coordinates of the mesh node ``index`` as text."""
        return (
            "("
            + ", ".join(f"{self.space.spaces[d].mesh.nodes[i]:g}" for d, i in enumerate(index))
            + ")"
        )

    def _partition(self):
        """Few boxes covering the active blocks: greedy, best over the axis orders."""
        best = None
        for order in itertools.permutations(range(self.dim)):
            boxes = greedy_boxes(self.block_mask, order)
            if best is None or len(boxes) < len(best):
                best = boxes
        out = []
        for box in best:
            out.append(
                tuple(
                    (int(self.breaks[d][lo]), int(self.breaks[d][hi]))
                    for d, (lo, hi) in enumerate(box)
                )
            )
        return out

    def _dof_mask(self):
        D = self.dim
        lo_hi = []
        for s in self.space.spaces:
            i = np.arange(s.ndofs)
            p, n = s.order, s.mesh.cells
            lo_hi.append((np.clip((i - 1) // p, 0, n - 1), np.clip(i // p, 0, n - 1)))
        out = np.zeros(self.shape, dtype=bool)
        for pick in itertools.product((0, 1), repeat=D):
            out |= self.cell_mask[np.ix_(*[lo_hi[d][k] for d, k in enumerate(pick)])]
        return out

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def _from_bounds(cls, bounds, cells, order, nodes, mesh):
        if mesh is None:
            return TensorSpace.box(bounds, cells=cells, order=order, nodes=nodes)
        meshes = mesh if isinstance(mesh, (list, tuple)) else [mesh] * len(bounds)
        if len(meshes) != len(bounds):
            raise FemkronValueError(f"mesh must be one Mesh1D or {len(bounds)} of them")
        for d, (m, (a, b)) in enumerate(zip(meshes, bounds)):
            if not isinstance(m, Mesh1D):
                raise FemkronTypeError(f"mesh[{d}] must be a Mesh1D, got {type(m).__name__}")
            if abs(m.a - a) > 1e-12 * (b - a) or abs(m.b - b) > 1e-12 * (b - a):
                raise FemkronValueError(
                    f"mesh[{d}] spans [{m.a:g}, {m.b:g}], this domain needs [{a:g}, {b:g}]"
                )
        orders = order if isinstance(order, (list, tuple)) else [order] * len(bounds)
        return TensorSpace([Space1D(m, p, nodes) for m, p in zip(meshes, orders)])

    @classmethod
    def lshape(cls, cells=32, order=1, nodes="gll", mesh=None, dim=2):
        """The L-shape: the square ``[-1,1]²`` without ``(0,1]×[-1,0)``.

        ``dim=3``: the Fichera cube ``[-1,1]³`` without the octant ``(0,1]³``.

        ``cells`` per axis over ``[-1, 1]`` (even, so 0 is a node) or ``mesh`` one
        :class:`Mesh1D` of ``[-1, 1]`` (or one per axis) holding the node 0, e.g. graded
        toward the re-entrant corner.

        Examples
        --------
        >>> L = BoxUnion.lshape(cells=8, order=2)
        >>> L.volume, L.boxes
        (3.0, [((0, 4), (0, 8)), ((4, 8), (4, 8))])
        """
        dim = as_int(dim, "dim", minimum=2, maximum=3)
        V = cls._from_bounds([(-1.0, 1.0)] * dim, cells, order, nodes, mesh)
        cut = [(0.0, 1.0), (-1.0, 0.0)] if dim == 2 else [(0.0, 1.0)] * 3
        return cls(V, remove=[cut])

    @classmethod
    def fichera(cls, cells=8, order=1, nodes="gll", mesh=None):
        """The Fichera corner: ``[-1,1]³`` without the octant ``(0,1]³``.

        Examples
        --------
        >>> BoxUnion.fichera(cells=2).volume
        7.0
        """
        return cls.lshape(cells=cells, order=order, nodes=nodes, mesh=mesh, dim=3)

    @classmethod
    def tshape(cls, cells=32, order=1, nodes="gll", width=1.0):
        """The T-shape: the bar ``[-1.5,1.5]×[0,1]`` on the stem ``[-w/2,w/2]×[-1,0]``.

        ``cells`` per unit length (the mesh of ``[-1.5,1.5]×[-1,1]`` has ``3 cells × 2
        cells``); ``width`` of the stem must fall on nodes.

        Examples
        --------
        >>> T = BoxUnion.tshape(cells=2)
        >>> T.volume
        4.0
        """
        cells = as_int(cells, "cells", minimum=1)
        V = cls._from_bounds([(-1.5, 1.5), (-1.0, 1.0)], (3 * cells, 2 * cells), order, nodes, None)
        w = 0.5 * float(width)
        return cls(V, remove=[((-1.5, -w), (-1.0, 0.0)), ((w, 1.5), (-1.0, 0.0))])

    @classmethod
    def step(cls, cells=16, order=1, nodes="gll", length=6.0, step=(1.0, 0.5), height=1.0):
        """A backward-facing step channel ``[0,L]×[0,H]`` without the step ``[0,s]×[0,h]``.

        The inflow is the face ``x=0`` above the step, the outflow ``x=L``; ``cells`` per
        unit length.

        Examples
        --------
        >>> S = BoxUnion.step(cells=2, length=4.0)
        >>> S.volume, sorted(S.planes())[:3]
        (3.5, ['x=0', 'x=1', 'x=4'])
        """
        cells = as_int(cells, "cells", minimum=1)
        s, h = float(step[0]), float(step[1])
        nx = max(1, int(round(cells * length)))
        ny = max(1, int(round(cells * height)))
        V = cls._from_bounds([(0.0, length), (0.0, height)], (nx, ny), order, nodes, None)
        return cls(V, remove=[((0.0, s), (0.0, h))])

    @classmethod
    def cross(cls, cells=32, order=1, nodes="gll", arm=1.0):
        """The plus-shaped cross: ``[-a-½, a+½]`` arms of width 1 around the unit centre.

        ``cells`` per unit length; ``arm`` the arm length ``a``.

        Examples
        --------
        >>> BoxUnion.cross(cells=2).volume
        5.0
        """
        cells = as_int(cells, "cells", minimum=1)
        e = 0.5 + float(arm)
        n = int(round(cells * 2 * e))
        V = cls._from_bounds([(-e, e)] * 2, n, order, nodes, None)
        q = [(-e, -0.5), (0.5, e)]
        return cls(V, remove=[(a, b) for a in q for b in q])

    # ---- geometry -----------------------------------------------------------------------
    def __repr__(self):
        return (
            f"BoxUnion({self.ndofs} dofs, {int(self.cell_mask.sum())} of "
            f"{self.cell_mask.size} cells, {len(self.boxes)} boxes, bounds={self.bounds})"
        )

    @property
    def spaces(self):
        """The 1D spaces of the bounding grid."""
        return self.space.spaces

    @property
    def bounds(self):
        """The bounding box."""
        return self.space.bounds

    @property
    def volume(self):
        """Area (2D) or volume (3D) of the union.

        Examples
        --------
        >>> BoxUnion.lshape(cells=2).volume
        3.0
        """
        h = [s.mesh.h for s in self.spaces]
        cell = h[0]
        for hd in h[1:]:
            cell = np.multiply.outer(cell, hd)
        return float(np.round(np.sum(cell[self.cell_mask]), 13))

    def grid(self, sparse=False):
        """The bounding grid's dof coordinates (``V.grid()``); mask them with :attr:`dof_mask`."""
        return self.space.grid(sparse=sparse)

    def points(self):
        """Coordinates of the union's dofs: one array per axis, each of length :attr:`ndofs`.

        Examples
        --------
        >>> x, y = BoxUnion.lshape(cells=2).points()
        >>> x.shape
        (8,)
        """
        idx = np.unravel_index(self.dofs, self.shape)
        return tuple(s.x[i] for s, i in zip(self.spaces, idx))

    def interpolate(self, f):
        """Values of ``f(x, y[, z])`` at the union's dofs (a vector of length :attr:`ndofs`).

        Examples
        --------
        >>> BoxUnion.lshape(cells=2).interpolate(lambda x, y: x + y)[:3]
        array([-2., -1.,  0.])
        """
        return np.array(evaluate(f, "f", self.points(), (self.ndofs,)), dtype=float)

    def to_full(self, u, fill=np.nan):
        """A union vector on the bounding grid, ``fill`` (NaN) outside the union.

        Examples
        --------
        >>> L = BoxUnion.lshape(cells=2)
        >>> U = L.to_full(np.ones(L.ndofs))
        >>> U.shape, int(np.isnan(U).sum())
        ((3, 3), 1)
        """
        u = np.asarray(u, dtype=float)
        if u.shape[:1] != (self.ndofs,):
            raise FemkronValueError(
                f"u must hold one value per dof of the union ({self.ndofs}), got shape {u.shape}"
            )
        out = np.full((int(np.prod(self.shape)),) + u.shape[1:], float(fill))
        out[self.dofs] = u
        return out.reshape(self.shape + u.shape[1:])

    def from_full(self, U):
        """The union's dofs of a grid array of shape :attr:`shape` (or its flat form).

        Examples
        --------
        >>> L = BoxUnion.lshape(cells=2)
        >>> L.from_full(np.arange(9.0))
        array([0., 1., 2., 3., 4., 5., 7., 8.])
        """
        U = np.asarray(U, dtype=float)
        N = int(np.prod(self.shape))
        if U.shape == self.shape:
            U = U.reshape(-1)
        if U.shape != (N,):
            raise FemkronValueError(
                f"U must have the bounding grid's shape {self.shape} or ({N},), got {U.shape}"
            )
        return U[self.dofs]

    def planes(self):
        """Names of the planes holding boundary faces (``"x=0"``, ...), for ``bc`` keys.

        Examples
        --------
        >>> BoxUnion.lshape(cells=2).planes()
        ['x=-1', 'x=0', 'x=1', 'y=-1', 'y=0', 'y=1']
        """
        names = set()
        for face in self.boundary_blocks():
            names.add(face[4])
        return sorted(names, key=lambda s: (s[0], float(s[2:])))

    def boundary_blocks(self):
        """The boundary block faces: ``(axis, side, node, block, name)`` per face.

        ``side`` 0: the active block lies above the plane (outward normal ``-e_axis``), 1:
        below; ``node`` the mesh-node index of the plane along ``axis``; ``block`` the block
        index of the active block; ``name`` the plane ``"x=c"``.
        """
        out = []
        D = self.dim
        act = self.block_mask
        for d in range(D):
            pad = np.pad(act, [(1, 1) if e == d else (0, 0) for e in range(D)])
            for side in (0, 1):
                # side 0: block active, the one below (index - 1) not; side 1: the one above not
                nb = np.take(pad, np.arange(act.shape[d]) + (0 if side == 0 else 2), axis=d)
                for block in np.argwhere(act & ~nb):
                    node = int(self.breaks[d][block[d] + side])
                    c = self.spaces[d].mesh.nodes[node]
                    out.append((d, side, node, tuple(int(b) for b in block), _plane(d, c)))
        return out

    def block_ranges(self, block):
        """Mesh-node ranges ``(lo, hi)`` per axis of a block index."""
        return tuple(
            (int(self.breaks[d][b]), int(self.breaks[d][b + 1])) for d, b in enumerate(block)
        )

    def subspace(self, d, lo, hi):
        """The 1D space of axis ``d`` on the mesh nodes ``lo..hi`` (made once, shared).

        Its dofs are the bounding space's ``p*lo .. p*hi``, at the same coordinates.
        """
        key = (d, lo, hi)
        s = self._subspaces.get(key)
        if s is None:
            full = self.spaces[d]
            s = Space1D(Mesh1D(full.mesh.nodes[lo : hi + 1]), full.order, full.nodes)
            self._subspaces[key] = s
        return s

    def box_space(self, box):
        """The :class:`TensorSpace` of one box of the partition."""
        return TensorSpace([self.subspace(d, lo, hi) for d, (lo, hi) in enumerate(box)])

    def dof_range(self, d, lo, hi):
        """Bounding-grid dof indices of axis ``d`` on the mesh nodes ``lo..hi``."""
        p = self.spaces[d].order
        return np.arange(p * lo, p * hi + 1)

    def flat_index(self, ranges):
        """Flat bounding-grid indices of the tensor set of 1D dof index arrays (C order)."""
        strides = np.cumprod((1,) + self.shape[::-1])[:-1][::-1]
        out = np.zeros([len(r) for r in ranges], dtype=np.int64)
        for d, r in enumerate(ranges):
            sh = [1] * len(ranges)
            sh[d] = -1
            out += np.asarray(r, dtype=np.int64).reshape(sh) * int(strides[d])
        return out


def _plane(d, c):
    c = 0.0 if c == 0 else c
    return f"{_axis_name(d)}={c:g}"
