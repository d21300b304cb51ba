"""Coefficients and loads from data: :class:`Field` (cell arrays, nodal values, images).

A :class:`Field` is a scalar function on a tensor space given by numbers rather than a
formula.  It is callable at points like any coefficient, ``field(x, y, ...)`` with
broadcastable coordinate arrays, so it works wherever a callable coefficient, load or initial
value does (``kappa`` of :func:`~femkron.stiffness` and :func:`~femkron.poisson`, ``f`` of
:func:`~femkron.load_vector`, ``u0`` of :func:`~femkron.heat`, boundary data, ...).

* :meth:`Field.cells`: one value per cell, piecewise constant.  The Gauss points of the
  operators lie inside the cells, so each takes its own cell's value: a jump along cell faces
  is integrated exactly.
* :meth:`Field.nodal`: values at the dofs of the space, the finite element interpolant.
* :meth:`Field.image`: a grayscale picture averaged by area onto the cells and mapped to
  ``[low, high]`` (a permeability map, a photograph of a material).

A field reports its :attr:`~Field.separable_rank` (the rank of its array as a sum of
products of 1D arrays, by SVDs): a rank-1 field keeps the stiffness one exact Kronecker sum,
so :func:`~femkron.poisson` takes the low-rank path and fast diagonalization solves it
directly.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> kappa = fk.Field.cells(V, np.outer([1.0, 1.0, 2.0, 2.0], [1.0, 3.0, 3.0, 1.0]))
>>> kappa.separable_rank, float(kappa(0.6, 0.3))
(1, 6.0)
>>> fk.poisson(V, 1.0, kappa=kappa).info.method
'fdm'
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from .._limits import check_allocation
from .._validate import as_real
from ..errors import FemkronError, FemkronTypeError, FemkronValueError
from ..kron.operator import apply_axis
from .coefficients import axis_label, axis_spaces

__all__ = ["Field", "separable_rank"]

#: Singular values below this fraction of the largest one count as zero in
#: :func:`separable_rank` (a few hundred times the rounding of an SVD).
RANK_RTOL = 1e-12

KINDS = ("cells", "nodal")


def separable_rank(values, rtol=RANK_RTOL):
    """The number of separable terms of an array: ``values ≈ Σ_r Π_d g_rd(i_d)``.

    The tensor-train ranks are found by successive SVDs of the unfoldings (singular values
    below ``rtol`` times the largest count as zero); the rank is their product, the number of
    separable terms the expansion of :func:`~femkron.separable_expansion` would make.  A 1D
    array has rank 1 (0 when it vanishes).

    Examples
    --------
    >>> import numpy as np
    >>> separable_rank(np.outer([1.0, 2.0], [3.0, 4.0, 5.0]))
    1
    >>> separable_rank(np.eye(3))
    3
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.any(values):
        return 0
    C = values
    total, r_prev = 1, 1
    for d in range(values.ndim - 1):
        C = C.reshape(r_prev * values.shape[d], -1)
        U, s, Vt = np.linalg.svd(C, full_matrices=False)
        r = max(int(np.count_nonzero(s > rtol * s[0])), 1)
        C = s[:r, None] * Vt[:r]
        r_prev = r
        total *= r
    return total


def _tensor_space(V):
    spaces = axis_spaces(V)  # TypeError naming V for anything else
    return spaces


def _check_finite(values, name, where):
    """Refuse NaN/inf, naming the first bad entry and ``where(index)``."""
    bad = ~np.isfinite(values)
    if np.any(bad):
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise FemkronValueError(
            f"{name} must be finite; got {values[first]} at index {first} ({where(first)}), "
            f"{int(np.count_nonzero(bad))} of {values.size} entries are NaN or inf"
        )


def _as_data(values, name, shape, what):
    """``values`` as a float array of ``shape``; errors name the expected shape."""
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise FemkronTypeError(
            f"{name} must be an array of numbers of shape {shape} ({what}), "
            f"got {type(values).__name__}"
        ) from None
    if arr.shape != shape:
        if arr.size == int(np.prod(shape)) and arr.ndim == 1 and len(shape) > 1:
            arr = arr.reshape(shape)
        else:
            raise FemkronValueError(
                f"{name} must have shape {shape} ({what}), got shape {arr.shape}"
            )
    return arr


class Field:
    """A scalar function on a tensor space given by data: cell values or nodal values.

    Make one with :meth:`cells`, :meth:`nodal`, :meth:`image` or
    :func:`~femkron.random_field`; call it at points like a coefficient function.

    Parameters
    ----------
    V : TensorSpace or Space1D
        The space whose mesh (``kind="cells"``) or dofs (``kind="nodal"``) the data live on.
    kind : {"cells", "nodal"}
    data : ndarray
        One value per cell (shape ``V.mesh.shape``, the cells per axis) or per dof
        (shape ``V.shape``).
    transform : callable, optional
        Applied pointwise to the interpolated values, e.g. ``np.exp`` for a log-normal field;
        the field's value at ``x`` is ``transform(u(x))``, positive wherever the transform is.
    name : str
        What the field is called in messages.

    Attributes
    ----------
    V : TensorSpace or Space1D
    kind : str
        ``"cells"`` (piecewise constant) or ``"nodal"`` (finite element interpolant).
    data : ndarray
        The values given (before ``transform``), read-only.
    transform : callable or None
    values : ndarray
        ``transform(data)`` (or ``data``): per cell, or on the dof grid, read-only.
    name : str

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 2)], cells=2, order=1)
    >>> f = fk.Field.nodal(V, [0.0, 1.0, 4.0])
    >>> f(np.array([0.5, 1.5]))
    array([0.5, 2.5])
    """

    def __init__(self, V, kind, data, transform=None, name="field"):
        spaces = _tensor_space(V)
        if kind not in KINDS:
            raise FemkronValueError(f"kind must be 'cells' or 'nodal', got {kind!r}")
        if transform is not None and not callable(transform):
            raise FemkronTypeError(
                f"transform must be a callable such as np.exp, got {transform!r}"
            )
        self.V = V
        self.kind = kind
        self.name = str(name)
        self.transform = transform
        shape = self._data_shape(spaces, kind)
        what = "cells per axis" if kind == "cells" else "dofs per axis, V.shape"
        data = _as_data(data, name, shape, what)
        _check_finite(data, name, self._where)
        data.flags.writeable = False
        self.data = data
        if transform is None:
            self.values = data
        else:
            values = np.asarray(transform(data), dtype=float)
            if values.shape != data.shape:
                raise FemkronValueError(
                    f"transform of {name} must keep the shape {data.shape}, got {values.shape}"
                )
            _check_finite(values, f"transform({name})", self._where)
            values.flags.writeable = False
            self.values = values
        self._spaces = spaces
        self._rank = None

    @staticmethod
    def _data_shape(spaces, kind):
        if kind == "cells":
            return tuple(s.mesh.cells for s in spaces)
        return tuple(s.ndofs for s in spaces)

    def _where(self, index):
        spaces = axis_spaces(self.V)
        parts = []
        for d, i in enumerate(index):
            s = spaces[d]
            x = 0.5 * (s.mesh.nodes[i] + s.mesh.nodes[i + 1]) if self.kind == "cells" else s.x[i]
            parts.append(f"{axis_label(d)}={x:.4g}")
        what = "cell centre" if self.kind == "cells" else "dof"
        return f"{what} " + ", ".join(parts)

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def cells(cls, V, values, name="field"):
        """Piecewise constant field: ``values[i, j, ...]`` on cell ``(i, j, ...)``.

        Parameters
        ----------
        V : TensorSpace or Space1D
        values : array_like, shape ``V.mesh.shape``
            One value per cell (cells per axis; a flat array of that many values is
            reshaped in C order).  NaN and inf are refused, naming the cell.
        name : str

        Examples
        --------
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(2, 1), order=1)
        >>> kappa = fk.Field.cells(V, [[1.0], [10.0]])
        >>> kappa(np.array([0.25, 0.75]), 0.5)
        array([ 1., 10.])
        """
        return cls(V, "cells", values, name=name)

    @classmethod
    def nodal(cls, V, values, transform=None, name="field"):
        """The finite element interpolant of values at the dofs of ``V``.

        Parameters
        ----------
        V : TensorSpace or Space1D
        values : array_like, shape ``V.shape``
            Values at the dofs (a flat dof vector is reshaped).
        transform : callable, optional
            Applied pointwise to the interpolant (see :class:`Field`).
        name : str

        Examples
        --------
        >>> import numpy as np
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=2)
        >>> u = fk.Field.nodal(V, V.interpolate(lambda x, y: x * x * y))
        >>> round(float(u(0.3, 0.7)), 12)   # Q2 holds x² y exactly
        0.063
        """
        return cls(V, "nodal", values, transform=transform, name=name)

    @classmethod
    def image(cls, V, path, low=0.0, high=1.0, name=None):
        """A grayscale image averaged by area onto the cells of a 2D space.

        The picture covers the whole box: its top row is the top of the box (largest
        ``y``), its left column the left side (smallest ``x``).  Colours become gray by
        luminance ``0.299 R + 0.587 G + 0.114 B`` (alpha is ignored); black is ``low``, white
        ``high``.  Each cell takes the area-weighted mean of the pixels it overlaps, exactly
        (pixels and cells are both tensor grids, so the average is one product per axis).

        Parameters
        ----------
        V : TensorSpace
            Two axes.
        path : str or os.PathLike
            Any image Pillow reads (PNG, JPEG, TIFF, BMP, ...); 16-bit grayscale keeps its
            precision.
        low, high : float
            Values of black and white (``low > high`` inverts).
        name : str, optional
            Default: the file name.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import matplotlib.image
        >>> import femkron as fk
        >>> path = os.path.join(tempfile.mkdtemp(), "map.png")
        >>> matplotlib.image.imsave(path, [[0.0, 1.0], [1.0, 0.0]], cmap="gray", vmin=0, vmax=1)
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
        >>> kappa = fk.Field.image(V, path, low=1.0, high=100.0)
        >>> kappa.values[:, ::-1].T   # as the picture: top row first
        array([[  1.,   1., 100., 100.],
               [  1.,   1., 100., 100.],
               [100., 100.,   1.,   1.],
               [100., 100.,   1.,   1.]])
        """
        spaces = _tensor_space(V)
        if len(spaces) != 2:
            raise FemkronValueError(
                f"Field.image needs a space of 2 axes (a picture is 2D), got {len(spaces)}"
            )
        low = as_real(low, "low")
        high = as_real(high, "high")
        gray = read_gray_image(path)
        rows, cols = gray.shape
        # pixel (r, c) covers x in column c, y in row rows-1-r: the array on (x, y) axes
        G = gray[::-1, :].T
        Wx = _overlap_weights(spaces[0].mesh.nodes, cols)
        Wy = _overlap_weights(spaces[1].mesh.nodes, rows)
        cells = Wx @ G @ Wy.T
        values = low + (high - low) * cells
        label = os.path.basename(os.fspath(path)) if name is None else name
        return cls(V, "cells", values, name=label)

    # ---- properties ---------------------------------------------------------------------
    @property
    def separable_rank(self):
        """Separable terms of the field (see :func:`separable_rank`), or ``None``.

        Exact for cell values (the Gauss samples repeat each cell's value, so they have the
        rank of the cell array) and for untransformed nodal values (the interpolant of a
        rank-``r`` dof array is a sum of ``r`` products of 1D finite element functions).
        ``None`` for a transformed nodal field, whose rank is not known from its values.

        Examples
        --------
        >>> import numpy as np
        >>> import femkron as fk
        >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=1)
        >>> fk.Field.cells(V, np.arange(9.0).reshape(3, 3)).separable_rank
        2
        """
        if self.kind == "nodal" and self.transform is not None:
            return None
        if self._rank is None:
            self._rank = separable_rank(self.values)
        return self._rank

    @property
    def dim(self):
        """Number of axes."""
        return len(self._spaces)

    def __repr__(self):
        return (
            f"Field.{self.kind}({self.name!r}, shape={self.values.shape}, "
            f"range=[{float(self.values.min()):.4g}, {float(self.values.max()):.4g}])"
        )

    # ---- evaluation ---------------------------------------------------------------------
    def __call__(self, *coords):
        """Values at points: one broadcastable coordinate array per axis.

        Coordinates outside the box raise.  A point on a cell face takes the value of the
        cell on its left (lower) side.
        """
        D = self.dim
        if len(coords) != D:
            raise FemkronValueError(
                f"{self.name} is a field of {D} coordinate(s), called with {len(coords)}"
            )
        coords = [np.asarray(c, dtype=float) for c in coords]
        for d, (s, c) in enumerate(zip(self._spaces, coords)):
            a, b = s.mesh.a, s.mesh.b
            tol = 1e-12 * max(1.0, abs(a), abs(b))
            outside = (c < a - tol) | (c > b + tol) | ~np.isfinite(c)
            if np.any(outside):
                raise FemkronValueError(
                    f"{self.name} is given on {axis_label(d)} in [{a:.6g}, {b:.6g}] (the mesh of "
                    f"its space); called at {int(np.count_nonzero(outside))} point(s) outside, "
                    f"e.g. {axis_label(d)}={float(c[outside].flat[0]):.6g}: use a field made "
                    "on the problem's space"
                )
        shape = np.broadcast_shapes(*(c.shape for c in coords))
        check_allocation(
            8 * (2 + D) * int(np.prod(shape, dtype=np.int64)),
            f"evaluating {self.name} at {int(np.prod(shape, dtype=np.int64))} points",
            "evaluate on fewer points at a time",
        )
        if self.kind == "cells":
            index = [
                s.mesh.locate(c.ravel()).reshape(c.shape) for s, c in zip(self._spaces, coords)
            ]
            return np.broadcast_to(self.values[tuple(index)], shape).copy()
        out = self._interpolate(coords, shape)
        if self.transform is not None:
            out = np.asarray(self.transform(out), dtype=float)
        return out

    def _interpolate(self, coords, shape):
        """The interpolant of :attr:`data` at broadcastable points."""
        D = self.dim
        U = self.data
        grid = all(c.ndim in (0, 1) and D == 1 for c in coords) or all(
            c.ndim == D and all(n == 1 for e, n in enumerate(c.shape) if e != d)
            for d, c in enumerate(coords)
        )
        if grid:  # a tensor grid of points: one sparse product per axis
            out = U
            for d, (s, c) in enumerate(zip(self._spaces, coords)):
                pts = c.ravel()
                if pts.size == s.ndofs and np.array_equal(pts, s.x):
                    continue  # the dofs themselves: the values, exactly
                out = apply_axis(s.eval_matrix(pts), out, d)
            return np.broadcast_to(out.reshape([c.size for c in coords]), shape).copy()
        cells, tables = [], []
        for s, c in zip(self._spaces, coords):
            pts = c.ravel()
            cell = s.mesh.locate(pts)
            h = s.mesh.h[cell]
            xi = np.clip(2.0 * (pts - s.mesh.nodes[cell]) / h - 1.0, -1.0, 1.0)
            cells.append(cell.reshape(c.shape))
            tables.append(s.element.values(xi).reshape(c.shape + (s.order + 1,)))
        out = np.zeros(shape)
        for local in itertools.product(*(range(s.order + 1) for s in self._spaces)):
            index = tuple(s.cell_dofs[cell, j] for s, cell, j in zip(self._spaces, cells, local))
            term = U[index]
            for t, j in zip(tables, local):
                term = term * t[..., j]
            out += term
        return out


def _overlap_weights(nodes, pixels):
    """``W[i, j]`` = fraction of cell ``i`` covered by pixel ``j`` of ``pixels`` equal ones.

    Rows sum to one (the pixels cover the cell's axis exactly).
    """
    a, b = float(nodes[0]), float(nodes[-1])
    edges = a + (b - a) * np.arange(pixels + 1) / pixels
    check_allocation(
        8 * 3 * (len(nodes) - 1) * pixels,
        f"resampling {pixels} pixels onto {len(nodes) - 1} cells",
        "use a smaller image or fewer cells",
    )
    lo = np.maximum(nodes[:-1, None], edges[None, :-1])
    hi = np.minimum(nodes[1:, None], edges[None, 1:])
    W = np.clip(hi - lo, 0.0, None)
    return W / W.sum(axis=1, keepdims=True)


def read_gray_image(path):
    """A picture as gray levels in ``[0, 1]``, shape ``(rows, columns)`` (top row first).

    Read by Pillow (installed with matplotlib), imported here.  Unreadable files raise
    :class:`~femkron.FemkronValueError` naming the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib.image
    >>> path = os.path.join(tempfile.mkdtemp(), "g.png")
    >>> matplotlib.image.imsave(path, [[0.0, 1.0]], cmap="gray", vmin=0, vmax=1)
    >>> read_gray_image(path)
    array([[0., 1.]])
    """
    if not isinstance(path, (str, os.PathLike)):
        raise FemkronTypeError(f"path must be a file path, got {path!r}")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            mode = img.mode
            if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
                gray = np.asarray(img, dtype=float) / 65535.0
            elif mode == "I":
                arr = np.asarray(img, dtype=float)
                gray = arr / (65535.0 if arr.max(initial=0) <= 65535 else 2.0**32 - 1)
            elif mode == "F":
                gray = np.asarray(img, dtype=float)
            elif mode in ("L", "1"):
                gray = np.asarray(img.convert("L"), dtype=float) / 255.0
            else:
                rgb = np.asarray(img.convert("RGB"), dtype=float) / 255.0
                gray = rgb @ np.array([0.299, 0.587, 0.114])
    except FileNotFoundError:
        raise FemkronValueError(f"path: image file {os.fspath(path)!r} not found") from None
    except IsADirectoryError:
        raise FemkronValueError(f"path: {os.fspath(path)!r} is a folder, not an image") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise FemkronValueError(
            f"path: cannot read {os.fspath(path)!r} as an image ({type(err).__name__}: {err})"
        ) from None
    except FemkronError:  # pragma: no cover
        raise
    gray = np.asarray(gray, dtype=float)
    if gray.ndim != 2 or gray.size == 0:
        raise FemkronValueError(
            f"path: {os.fspath(path)!r} is not a 2D image (array shape {gray.shape})"
        )
    if not np.all(np.isfinite(gray)):
        raise FemkronValueError(f"path: {os.fspath(path)!r} holds NaN or inf pixels")
    return np.clip(gray, 0.0, 1.0) if mode != "F" else gray
