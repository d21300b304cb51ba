"""VTK export through meshio.

:func:`write_vtk` writes finite element functions as a ``.vtu`` (or legacy ``.vtk``) file of
lines / quadrilaterals / hexahedra between neighbouring dofs (a high-order element becomes
``p^d`` sub-cells) with point data; it needs meshio (``pip install femkron[io]``), which is
imported only here.
"""

from __future__ import annotations

import os

import numpy as np

from .._files import atomic_path, check_writable
from .._limits import check_peak
from ..errors import FemkronTypeError, FemkronValueError, MissingDependencyError

__all__ = ["write_vtk", "vtk_cells", "MissingDependencyError"]


def _import_meshio():
    try:
        import meshio
    except ImportError:
        raise MissingDependencyError(
            "VTK export needs the optional package meshio: pip install femkron[io]"
        ) from None
    return meshio


_CELL_TYPES = {1: "line", 2: "quad", 3: "hexahedron"}


def _point_data(data, fit):
    """The checked point data ``{name: float array}`` of ``data``.

    ``fit(key, values)`` returns the values of one entry as the flat array of the points (or
    raises); they must be finite.
    """
    if not isinstance(data, dict) or not data:
        raise FemkronTypeError("data must be a non-empty dict {name: values}")
    point_data = {}
    for key, values in data.items():
        if not isinstance(key, str) or not key:
            raise FemkronValueError(f"data keys must be non-empty strings, got {key!r}")
        arr = fit(key, np.asarray(values, dtype=float))
        if not np.all(np.isfinite(arr)):
            raise FemkronValueError(f"data[{key!r}] contains NaN or inf")
        point_data[key] = arr
    return point_data


def _write_mesh(meshio, path, ext, points, cells, point_data):
    """Write points, cells and point data atomically as ``.vtu`` or legacy ``.vtk`` (``ext``)."""
    mesh = meshio.Mesh(points, cells, point_data=point_data)
    with atomic_path(path, "path") as tmp:
        meshio.write(tmp, mesh, file_format="vtu" if ext == ".vtu" else "vtk")


def vtk_cells(shape):
    """Connectivity of the sub-cells between neighbouring grid points of a C-ordered grid.

    Returns an ``(ncells, 2**d)`` int array in VTK's vertex order (counter-clockwise quads,
    hexahedra bottom face then top face).

    Examples
    --------
    >>> vtk_cells((2, 3))
    array([[0, 3, 4, 1],
           [1, 4, 5, 2]])
    """
    shape = tuple(int(n) for n in shape)
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    if len(shape) == 1:
        return np.stack([idx[:-1], idx[1:]], axis=-1)
    if len(shape) == 2:
        corners = [idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]]
    elif len(shape) == 3:
        base = [(0, 0), (1, 0), (1, 1), (0, 1)]
        corners = []
        for k in (0, 1):
            for i, j in base:
                corners.append(
                    idx[
                        i : shape[0] - 1 + i,
                        j : shape[1] - 1 + j,
                        k : shape[2] - 1 + k,
                    ]
                )
    else:
        raise FemkronValueError(f"VTK export supports 1 to 3 axes, got {len(shape)}")
    return np.stack([c.ravel() for c in corners], axis=-1)


def write_vtk(path, V, data):
    """Write finite element functions on ``V`` as a VTK unstructured grid.

    Parameters
    ----------
    path : str or os.PathLike
        Ending in ``.vtu`` (XML, recommended) or ``.vtk`` (legacy).
    V : TensorSpace
        1, 2 or 3 axes.  Every dof is a point; cells join neighbouring dofs (lines, quads or
        hexahedra), so an element of order ``p`` is drawn as ``p^d`` sub-cells.
    data : dict
        ``{name: values}`` with ``values`` of shape ``V.shape`` or ``(V.ndofs,)``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=2)
    >>> path = os.path.join(tempfile.mkdtemp(), "u.vtu")
    >>> fk.write_vtk(path, V, {"u": V.interpolate(lambda x, y: x + y)})
    >>> import meshio
    >>> m = meshio.read(path)
    >>> m.points.shape, m.cells[0].type, m.cells[0].data.shape
    ((25, 3), 'quad', (16, 4))
    """
    from ..fem.tensor import TensorSpace

    if not isinstance(V, TensorSpace):
        raise FemkronTypeError(f"V must be a TensorSpace, got {type(V).__name__}")
    if V.dim not in _CELL_TYPES:
        raise FemkronValueError(f"VTK export supports 1 to 3 axes, got V.dim = {V.dim}")
    path = check_writable(path, "path")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".vtu", ".vtk"):
        raise FemkronValueError(
            f"path must end in .vtu (XML VTK) or .vtk (legacy VTK), got {path!r}"
        )

    def fit(key, arr):
        if arr.size != V.ndofs:
            raise FemkronValueError(
                f"data[{key!r}] must have {V.ndofs} values (shape {V.shape}), got shape {arr.shape}"
            )
        return arr.reshape(-1)

    point_data = _point_data(data, fit)
    check_peak(
        {
            "points": 8 * 3 * V.ndofs,
            "grid": 8 * V.dim * V.ndofs,
            "cells": 8 * 2**V.dim * V.ndofs,
            "point data": 8 * V.ndofs * len(point_data),
            "the writer's copies (about 2x)": 8 * (3 + 2**V.dim + len(point_data)) * V.ndofs,
        },
        f"writing {V.ndofs} points to {path!r}",
        "write a coarser space (interpolate onto fewer cells) or raise the limit",
    )
    meshio = _import_meshio()
    grid = V.grid()
    coordinates = getattr(V, "coordinates", None)
    if coordinates is not None and coordinates.curvilinear:  # physical points (x, y[, z])
        grid = V.to_cartesian(*grid)
    points = np.zeros((V.ndofs, 3))
    for d in range(len(grid)):
        points[:, d] = np.broadcast_to(grid[d], V.shape).reshape(-1)
    cells = [(_CELL_TYPES[V.dim], vtk_cells(V.shape))]
    _write_mesh(meshio, path, ext, points, cells, point_data)
