"""VTK export of functions on a union of boxes: only the active cells are written.

Every dof of the union is a point; the sub-cells between neighbouring dofs (``p^d`` per
element) are written only inside active cells, so the removed part is absent from the file
(not zero).  Needs meshio (``pip install femkron[io]``), imported through
:mod:`femkron.io.vtk`.
"""

from __future__ import annotations

import os

import numpy as np

from .._files import check_writable
from ..errors import FemkronTypeError, FemkronValueError
from ..fem.union import BoxUnion
from .vtk import _CELL_TYPES, _import_meshio, _point_data, _write_mesh, vtk_cells

__all__ = ["write_union_vtk", "union_vtk_cells"]


def union_vtk_cells(U):
    """Connectivity of the sub-cells inside active cells, numbered by the union's dofs.

    Examples
    --------
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=2, order=1)
    >>> union_vtk_cells(L).shape                  # 3 of the 4 quadrilaterals
    (3, 4)
    """
    if not isinstance(U, BoxUnion):
        raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
    cells = vtk_cells(U.shape)
    sub = [np.arange(n - 1) // s.order for n, s in zip(U.shape, U.spaces)]
    parent = U.cell_mask[np.ix_(*sub)].reshape(-1)
    number = np.full(int(np.prod(U.shape)), -1, dtype=np.int64)
    number[U.dofs] = np.arange(U.ndofs)
    return number[cells[parent]]


def write_union_vtk(path, U, data):
    """Write functions on a union as a VTK unstructured grid of its active cells.

    Parameters
    ----------
    path : str or os.PathLike
        Ending in ``.vtu`` or ``.vtk``.
    U : BoxUnion
    data : dict
        ``{name: values}``, values at the union's dofs (length ``U.ndofs``) or on the
        bounding grid (shape ``U.shape``; NaN outside the union is fine).

    Examples
    --------
    >>> import os, tempfile
    >>> import femkron as fk
    >>> L = fk.BoxUnion.lshape(cells=2, order=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "u.vtu")
    >>> write_union_vtk(path, L, {"u": L.interpolate(lambda x, y: x + y)})
    >>> import meshio
    >>> m = meshio.read(path)
    >>> m.points.shape, m.cells[0].data.shape
    ((8, 3), (3, 4))
    """
    if not isinstance(U, BoxUnion):
        raise FemkronTypeError(f"U must be a BoxUnion, got {type(U).__name__}")
    path = check_writable(path, "path")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".vtu", ".vtk"):
        raise FemkronValueError(f"path must end in .vtu or .vtk, got {path!r}")

    def fit(key, arr):
        if arr.shape == U.shape or arr.shape == (int(np.prod(U.shape)),):
            arr = U.from_full(arr)
        if arr.shape != (U.ndofs,):
            raise FemkronValueError(
                f"data[{key!r}] must hold {U.ndofs} values (the union's dofs) or the bounding "
                f"grid {U.shape}, got shape {arr.shape}"
            )
        return arr

    point_data = _point_data(data, fit)
    meshio = _import_meshio()
    points = np.zeros((U.ndofs, 3))
    for d, x in enumerate(U.points()):
        points[:, d] = x
    cells = [(_CELL_TYPES[U.dim], union_vtk_cells(U))]
    _write_mesh(meshio, path, ext, points, cells, point_data)
