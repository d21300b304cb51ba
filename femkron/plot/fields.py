"""Finite element functions and solutions: lines (1D), contours and surfaces (2D), slices (3D).

:func:`sample_points` picks the points of one axis where a function is evaluated for drawing,
so that high-order elements show their curvature between the dofs.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=2)
>>> ax = plot_function(V, V.interpolate(lambda x: x**2))
>>> ax.get_xlabel()
'x'
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int, check_choice
from ..errors import FemkronTypeError, FemkronValueError
from ..fem.tensor import as_tensor_space
from ._style import (
    _AXES,
    _LABEL,
    _TITLE,
    _aspect,
    _cell_samples,
    _colorbar,
    _draw_2d,
    _new_axes,
    _panel_axes,
    _panel_ratio,
    _row_size,
    _space_title,
    _style,
)

__all__ = ["plot_solution", "plot_function", "sample_points"]


def sample_points(space, per_cell=None, max_points=600):
    """Points of one axis for plotting, equally spaced within every cell.

    ``per_cell`` points in every cell (default ``2p + 1``, and more on coarse meshes so that
    about 120 points show the curve), at most about ``max_points``.

    Examples
    --------
    >>> import femkron as fk
    >>> s = fk.Space1D(fk.Mesh1D.uniform(0, 1, 2), order=1)
    >>> sample_points(s, per_cell=3)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    return _cell_samples(space, per_cell, max_points, 120, whole_interval=True)


def _values(V, u):
    u = np.asarray(u, dtype=float)
    if u.size != V.ndofs:
        raise FemkronValueError(
            f"u must have {V.ndofs} values (shape {V.shape}), got shape {u.shape}"
        )
    if not np.all(np.isfinite(u)):
        raise FemkronValueError("u contains NaN or inf")
    return u.reshape(V.shape)


def _sampled(V, U, per_cell=None):
    pts = [sample_points(s, per_cell) for s in V.spaces]
    return pts, V.evaluate(U, pts)


def plot_function(
    V,
    u,
    ax=None,
    fig=None,
    kind="contourf",
    label="u",
    title=None,
    cmap="viridis",
    levels=20,
    per_cell=None,
    colorbar=True,
    show_dofs=None,
    slices=None,
):
    """Plot the finite element function with dof values ``u`` on ``V``.

    1D: a line (evaluated between the dofs, so high-order elements show their curvature).
    2D: ``kind="contourf"`` (filled contours), ``"pcolormesh"`` or ``"surface"`` (3D surface),
    with a labelled colorbar.  3D: three orthogonal slices through ``slices`` (default the
    centre of the box) with a shared colour scale.

    Parameters
    ----------
    V : TensorSpace or Space1D
    u : array_like, shape ``V.shape`` or ``(V.ndofs,)``
    ax, fig : matplotlib Axes / Figure, optional
        Where to draw (3D: a sequence of three axes).
    kind : {"contourf", "pcolormesh", "surface"}
    label : str
        Name of the quantity (y axis in 1D, colorbar otherwise).
    per_cell : int, optional
        Evaluation points per cell and axis (default ``2p + 1``).
    show_dofs : bool, optional
        Mark the dofs (default: 1D only).

    Returns
    -------
    Axes, or an array of three Axes in 3D.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=4, order=3)
    >>> ax = plot_function(V, V.interpolate(lambda x: np.sin(3 * x)))
    >>> len(ax.lines)            # the function and its dofs
    2
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    V = as_tensor_space(V)
    if V.coordinates.curvilinear:  # drawn in physical coordinates (plot/curvilinear.py)
        from .curvilinear import plot_curvilinear

        return plot_curvilinear(V, u, ax, fig, kind, label, title, cmap, levels, per_cell, colorbar)
    U = _values(V, u)
    check_choice(kind, "kind", ("contourf", "pcolormesh", "surface"))
    levels = as_int(levels, "levels", minimum=2)
    if title is None:
        title = _space_title(V, label)
    if V.dim == 1:
        ax = _new_axes(ax, fig, figsize=(5.6, 3.8))
        (x,), Z = _sampled(V, U, per_cell)
        ax.plot(x, Z, color="C0", lw=1.8, label=label)
        if show_dofs is None or show_dofs:
            ax.plot(V.coords[0], U, "o", color="C1", ms=3.5, label="dofs")
        _style(ax, "x", label, title)
        ax.grid(alpha=0.3)
        return ax
    if V.dim == 2:
        (x, y), Z = _sampled(V, U, per_cell)
        X, Y = np.meshgrid(x, y, indexing="ij")
        if kind == "surface":
            ax = _new_axes(ax, fig, projection="3d", figsize=(6.2, 5.0))
            surf = ax.plot_surface(X, Y, Z, cmap=cmap, linewidth=0, antialiased=True)
            _style(ax, "x", "y", title)
            ax.set_zlabel(label, fontsize=_LABEL)
            if colorbar:
                _colorbar(ax, surf, label)
            return ax
        cax = None
        if ax is None and colorbar:  # a colorbar column beside the panel, no gap before it
            r = _panel_ratio(V.bounds)
            height = min(3.4, 5.6 / r)
            size = (height * r + 1.7, height + 0.9)
            (ax,), cax = _panel_axes(1, None, fig, ncols=1, colorbar=True, figsize=size)
        ax = _new_axes(ax, fig)
        art = _draw_2d(ax, X, Y, Z, kind, cmap, levels)
        if show_dofs:
            GX, GY = V.grid()
            ax.plot(GX.ravel(), GY.ravel(), ".", color="k", ms=2)
        _style(ax, "x", "y", title)
        _aspect(ax, V.bounds)
        if colorbar:
            _colorbar(ax, art, label, cax=cax)
        return ax
    if V.dim == 3:
        return _slices3d(V, U, ax, fig, label, title, cmap, levels, per_cell, kind, slices)
    raise FemkronValueError(f"plots need 1 to 3 axes, got V.dim = {V.dim}")


def _slices3d(V, U, ax, fig, label, title, cmap, levels, per_cell, kind, slices):
    if kind == "surface":
        raise FemkronValueError("kind='surface' is for 2D functions; 3D draws slices")
    bounds = V.bounds
    if slices is None:
        slices = [0.5 * (a + b) for a, b in bounds]
    if len(slices) != 3:
        raise FemkronValueError(f"slices must give 3 coordinates (x, y, z), got {slices!r}")
    for d, (s, (a, b)) in enumerate(zip(slices, bounds)):
        if not a <= float(s) <= b:
            raise FemkronValueError(
                f"slices[{d}] = {s} lies outside the box interval [{a}, {b}] of axis {_AXES[d]}"
            )
    pts = [sample_points(s, per_cell, max_points=200) for s in V.spaces]
    panels = []
    for d in range(3):
        others = [e for e in range(3) if e != d]
        grid = list(pts)
        grid[d] = np.array([float(slices[d])])
        Z = V.evaluate(U, grid).squeeze(axis=d)
        X, Y = np.meshgrid(pts[others[0]], pts[others[1]], indexing="ij")
        panels.append((d, others, X, Y, Z))
    vmin = min(float(p[4].min()) for p in panels)
    vmax = max(float(p[4].max()) for p in panels)
    # columns as wide as the panels are drawn (true proportions), axes about 2.4 inches high
    ratios = [_panel_ratio((bounds[p[1][0]], bounds[p[1][1]])) for p in panels]
    figsize = _row_size(ratios, 2.4, 8.4, (0.85, 1.1))
    axes, cax = _panel_axes(
        3, ax, fig, ncols=3, colorbar=True, width_ratios=ratios, figsize=figsize
    )
    art = None
    for a, (d, others, X, Y, Z) in zip(axes, panels):
        art = _draw_2d(a, X, Y, Z, kind, cmap, levels, vmin, vmax)
        _style(
            a,
            _AXES[others[0]],
            _AXES[others[1]],
            f"{_AXES[d]} = {float(slices[d]):.3g}",
        )
        _aspect(a, (bounds[others[0]], bounds[others[1]]))
    if art is not None and kind == "pcolormesh":
        for a in axes:
            for m in a.collections:
                m.set_clim(vmin, vmax)
    _colorbar(axes[-1], art, label, cax=cax)
    axes[0].figure.suptitle(title, fontsize=_TITLE)
    return axes


def plot_solution(sol, ax=None, fig=None, **kwargs):
    """Plot a :class:`~femkron.Solution` (see :func:`plot_function` for the options).

    ``sol.plot(...)`` is the same.  The default title names the problem and the space.

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 2), (0, 1)], cells=(8, 4), order=2)
    >>> sol = fk.poisson(V, 1.0)
    >>> ax = sol.plot(kind="pcolormesh", label="temperature")
    >>> ax.get_title()
    'poisson solution: Q2, 17 × 9 dofs'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if not hasattr(sol, "V") or not hasattr(sol, "values"):
        raise FemkronTypeError(
            f"sol must be a femkron Solution (with .V and .values), got {type(sol).__name__}"
        )
    if getattr(sol, "values", None) is not None and np.ndim(sol.values) != sol.V.dim:
        raise FemkronTypeError(
            "sol has several snapshots (a HeatSolution); use plot_heat, or sol.snapshot(i)"
        )
    if "title" not in kwargs:
        problem = getattr(sol, "problem", "finite element")
        kwargs["title"] = _space_title(sol.V, f"{problem} solution")
    return plot_function(sol.V, sol.values, ax=ax, fig=fig, **kwargs)
