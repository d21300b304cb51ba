"""Meshes of an interval (:class:`Mesh1D`) and of a box (:class:`TensorMesh`).

Examples
--------
>>> import femkron as fk
>>> m = fk.Mesh1D.uniform(0.0, 1.0, cells=4)
>>> m.nodes
array([0.  , 0.25, 0.5 , 0.75, 1.  ])
>>> g = fk.Mesh1D.graded(0.0, 1.0, cells=3, ratio=2.0)
>>> [round(float(h), 4) for h in g.h]
[0.1429, 0.2857, 0.5714]
>>> fk.TensorMesh([m, g]).shape
(4, 3)
"""

from __future__ import annotations

import numpy as np

from .._limits import check_allocation
from .._validate import as_array, as_int, as_real
from ..errors import FemkronTypeError, FemkronValueError

__all__ = ["Mesh1D", "TensorMesh"]


class Mesh1D:
    """A mesh of the interval ``[nodes[0], nodes[-1]]``.

    Parameters
    ----------
    nodes : array_like
        Strictly increasing, finite cell end points (at least two).

    Attributes
    ----------
    nodes : ndarray
    cells : int
        Number of cells, ``len(nodes) - 1``.
    h : ndarray
        Cell lengths.
    a, b : float
        End points.

    Examples
    --------
    >>> Mesh1D([0.0, 0.5, 2.0]).h
    array([0.5, 1.5])
    """

    def __init__(self, nodes):
        try:
            arr = np.array(nodes, dtype=float)
        except (TypeError, ValueError):
            raise FemkronTypeError(
                f"nodes must be a 1D array of numbers, got {type(nodes).__name__}"
            ) from None
        if arr.ndim != 1 or arr.size < 2:
            raise FemkronValueError(
                f"nodes must be a 1D array of at least 2 points, got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise FemkronValueError("nodes must be finite, got NaN or inf")
        h = np.diff(arr)
        if np.any(h <= 0):
            i = int(np.argmax(h <= 0))
            raise FemkronValueError(
                "nodes must be strictly increasing (no zero-length cells); "
                f"nodes[{i}] = {float(arr[i])!r} and nodes[{i + 1}] = {float(arr[i + 1])!r}"
            )
        scale = max(abs(arr[0]), abs(arr[-1]))
        if np.min(h) <= 64 * np.finfo(float).eps * scale:
            raise FemkronValueError(
                f"nodes: a cell of length {np.min(h):.3g} is below the floating-point "
                f"resolution at coordinates of size {scale:.3g}"
            )
        arr.flags.writeable = False
        self.nodes = arr
        self.h = h
        self.h.flags.writeable = False
        self.cells = arr.size - 1
        self.a = float(arr[0])
        self.b = float(arr[-1])
        self.kind = "nodes"
        self.params = {}

    # ---- constructors -------------------------------------------------------------------
    @staticmethod
    def _cells(cells):
        cells = as_int(cells, "cells", minimum=1)
        check_allocation(24 * (cells + 1), f"a mesh of cells={cells}", "use fewer cells")
        return cells

    @staticmethod
    def _interval(a, b):
        a = as_real(a, "a")
        b = as_real(b, "b")
        if not b > a:
            raise FemkronValueError(f"the interval must have b > a, got a={a}, b={b}")
        return a, b

    @classmethod
    def uniform(cls, a, b, cells):
        """``cells`` equal cells on ``[a, b]``.

        Examples
        --------
        >>> Mesh1D.uniform(0.0, 2.0, cells=4).h
        array([0.5, 0.5, 0.5, 0.5])
        """
        a, b = cls._interval(a, b)
        cells = cls._cells(cells)
        mesh = cls(np.linspace(a, b, cells + 1))
        mesh.kind, mesh.params = "uniform", {"a": a, "b": b, "cells": cells}
        return mesh

    @classmethod
    def graded(cls, a, b, cells, ratio=1.1):
        """Geometric grading: each cell is ``ratio`` times longer than the one before.

        ``ratio < 1`` clusters cells at ``b``, ``ratio > 1`` at ``a``.

        Examples
        --------
        >>> m = Mesh1D.graded(0.0, 1.0, cells=10, ratio=1.2)
        >>> round(float(m.h[1] / m.h[0]), 12)
        1.2
        """
        a, b = cls._interval(a, b)
        cells = cls._cells(cells)
        ratio = as_real(ratio, "ratio", positive=True)
        # powers scaled so the largest is 1: no overflow for any ratio
        k = np.arange(cells, dtype=float)
        w = ratio ** (k - (cells - 1)) if ratio > 1 else ratio**k
        x = np.concatenate([[0.0], np.cumsum(w)])
        x = a + (b - a) * x / x[-1]
        x[-1] = b
        try:
            mesh = cls(x)
        except FemkronValueError as err:
            raise FemkronValueError(
                f"ratio={ratio} over cells={cells} makes the smallest cell "
                f"{float(np.min(w) / np.sum(w)):.3g} of the interval, too short to resolve: {err}"
            ) from None
        mesh.kind, mesh.params = "graded", {"a": a, "b": b, "cells": cells, "ratio": ratio}
        return mesh

    @classmethod
    def chebyshev(cls, a, b, cells):
        """Chebyshev–Lobatto points: cells cluster at both ends.

        Examples
        --------
        >>> m = Mesh1D.chebyshev(-1.0, 1.0, cells=4)
        >>> np.round(m.nodes, 4) + 0.0
        array([-1.    , -0.7071,  0.    ,  0.7071,  1.    ])
        """
        a, b = cls._interval(a, b)
        cells = cls._cells(cells)
        t = 0.5 * (1.0 - np.cos(np.pi * np.arange(cells + 1) / cells))
        x = a + (b - a) * t
        x[0], x[-1] = a, b
        mesh = cls(x)
        mesh.kind, mesh.params = "chebyshev", {"a": a, "b": b, "cells": cells}
        return mesh

    # ---- queries ------------------------------------------------------------------------
    @property
    def length(self):
        """``b - a``.

        Examples
        --------
        >>> Mesh1D([1.0, 1.5, 4.0]).length
        3.0
        """
        return self.b - self.a

    def locate(self, x):
        """Index of the cell holding each point.

        Points on a node go to the cell on the left, except the first node.  Points outside
        ``[a, b]`` raise.

        Examples
        --------
        >>> Mesh1D([0.0, 1.0, 3.0]).locate([0.0, 0.5, 1.0, 2.0, 3.0])
        array([0, 0, 0, 1, 1])
        """
        x = as_array(x, "points")
        tol = 1e-12 * max(1.0, abs(self.a), abs(self.b))
        if np.any(x < self.a - tol) or np.any(x > self.b + tol):
            bad = x[(x < self.a - tol) | (x > self.b + tol)]
            raise FemkronValueError(
                f"points must lie in the mesh interval [{self.a}, {self.b}], got "
                f"{bad.size} outside (e.g. {float(bad.flat[0])!r})"
            )
        cell = np.searchsorted(self.nodes, x, side="left") - 1
        return np.clip(cell, 0, self.cells - 1)

    def refine(self, factor=2):
        """Split every cell into ``factor`` equal cells (keeps the grading pattern).

        Examples
        --------
        >>> Mesh1D([0.0, 1.0, 3.0]).refine(2).nodes
        array([0. , 0.5, 1. , 2. , 3. ])
        """
        factor = as_int(factor, "factor", minimum=1)
        t = np.arange(factor) / factor
        x = (self.nodes[:-1, None] + self.h[:, None] * t[None, :]).ravel()
        return Mesh1D(np.append(x, self.b))

    def __repr__(self):
        if self.kind == "nodes":
            return f"Mesh1D(cells={self.cells}, a={self.a}, b={self.b})"
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"Mesh1D.{self.kind}({args})"

    def __eq__(self, other):
        return isinstance(other, Mesh1D) and np.array_equal(self.nodes, other.nodes)

    __hash__ = None


class TensorMesh:
    """The product of 1D meshes: a box divided into rectangles / bricks.

    Parameters
    ----------
    meshes : sequence of Mesh1D
        One mesh per axis (x, y, z, ...).

    Examples
    --------
    >>> tm = TensorMesh([Mesh1D.uniform(0, 1, 2), Mesh1D.uniform(0, 3, 3)])
    >>> tm.dim, tm.shape, tm.bounds
    (2, (2, 3), ((0.0, 1.0), (0.0, 3.0)))
    """

    def __init__(self, meshes):
        if isinstance(meshes, Mesh1D):
            meshes = [meshes]
        try:
            meshes = list(meshes)
        except TypeError:
            raise FemkronTypeError(
                f"meshes must be a sequence of Mesh1D, got {type(meshes).__name__}"
            ) from None
        if not meshes:
            raise FemkronValueError("meshes must hold at least one Mesh1D")
        for i, m in enumerate(meshes):
            if not isinstance(m, Mesh1D):
                raise FemkronTypeError(f"meshes[{i}] must be a Mesh1D, got {type(m).__name__}")
        self.meshes = tuple(meshes)

    @property
    def dim(self):
        """Number of axes."""
        return len(self.meshes)

    @property
    def shape(self):
        """Cells per axis."""
        return tuple(m.cells for m in self.meshes)

    @property
    def bounds(self):
        """The interval ``(a, b)`` of each axis."""
        return tuple((m.a, m.b) for m in self.meshes)

    @property
    def volume(self):
        """Volume of the box: the product of the axis lengths, as a float."""
        return float(np.prod([m.length for m in self.meshes]))

    def __len__(self):
        return self.dim

    def __getitem__(self, i):
        return self.meshes[i]

    def __iter__(self):
        return iter(self.meshes)

    def __repr__(self):
        return f"TensorMesh({list(self.meshes)!r})"
