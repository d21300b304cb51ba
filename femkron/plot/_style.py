"""Shared private helpers of the figures: axes, panel grids, labels and colorbars.

Every public plotting function draws through these helpers, so the figures share one look:
the font sizes ``_TITLE``, ``_LABEL`` and ``_TICK``, the axes they create (:func:`_new_axes`,
:func:`_panel_axes`), the filled contours (:func:`_draw_2d`) and the colorbars
(:func:`_colorbar`).  matplotlib is imported inside the functions only.
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int
from ..errors import FemkronTypeError, FemkronValueError

_AXES = ("x", "y", "z")
_TITLE = 12
_LABEL = 11
_TICK = 10


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax=None, fig=None, projection=None, figsize=(5.6, 4.4)):
    """The axes to draw into: ``ax``, a new subplot of ``fig``, or a new figure."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise FemkronTypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax
    kw = {} if projection is None else {"projection": projection}
    if fig is None:
        fig = _plt().figure(figsize=figsize, layout="constrained")
    elif not hasattr(fig, "add_subplot"):
        raise FemkronTypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    return fig.add_subplot(**kw)


def _panel_axes(
    n,
    ax=None,
    fig=None,
    ncols=3,
    panel=(3.4, 3.0),
    sharex=False,
    sharey=False,
    colorbar=False,
    width_ratios=None,
    figsize=None,
):
    """``n`` axes: the given sequence ``ax``, or a grid in ``fig`` / a new figure.

    ``width_ratios`` sizes the columns (one per column), ``figsize`` overrides the size
    ``panel × (ncols, nrows)`` of a new figure.  With ``colorbar=True`` the result is
    ``(axes, cax)``: a grid made here gets a narrow last column ``cax`` for one colorbar beside
    every row, and a new figure the ``"compressed"`` layout, which pulls fixed-aspect panels and
    that column together (no gap before the colorbar); with ``ax`` given, ``cax`` is None.
    """
    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if axes.size < n:
            raise FemkronValueError(f"ax must hold at least {n} axes, got {axes.size}")
        return (axes[:n], None) if colorbar else axes[:n]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    ratios = [1.0] * ncols if width_ratios is None else [float(r) for r in width_ratios]
    if len(ratios) != ncols:
        raise FemkronValueError(f"width_ratios must give {ncols} ratios, got {len(ratios)}")
    if fig is None:
        if figsize is None:
            figsize = (panel[0] * sum(ratios) + (0.9 if colorbar else 0.0), panel[1] * nrows)
        layout = "compressed" if colorbar else "constrained"
        fig = _plt().figure(figsize=figsize, layout=layout)
    elif not hasattr(fig, "subplots"):
        raise FemkronTypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if colorbar:
        gs = fig.add_gridspec(nrows, ncols + 1, width_ratios=ratios + [0.06 * np.mean(ratios)])
        grid = np.empty((nrows, ncols), dtype=object)
        for i in range(nrows):
            for j in range(ncols):
                share = {"sharex": grid[0, 0] if sharex and (i or j) else None}
                share["sharey"] = grid[0, 0] if sharey and (i or j) else None
                grid[i, j] = fig.add_subplot(gs[i, j], **share)
        cax = fig.add_subplot(gs[:, ncols])
    else:
        grid = fig.subplots(
            nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False, width_ratios=ratios
        )
    grid = np.atleast_1d(grid).ravel()
    for extra in grid[n:]:
        extra.remove()
    return (grid[:n], cax) if colorbar else grid[:n]


def _style(ax, xlabel=None, ylabel=None, title=None):
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=_LABEL)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=_LABEL)
    if title:
        ax.set_title(title, fontsize=_TITLE)
    ax.tick_params(labelsize=_TICK)


def _cell_samples(space, per_cell, max_points, target, whole_interval=False):
    """Points of one axis for plotting, ``per_cell`` equally spaced in every cell.

    ``per_cell`` defaults to ``2p + 1``, more on coarse meshes so that about ``target`` points
    show the curve; it is cut so that there are at most about ``max_points``.  With
    ``whole_interval``, a mesh of ``max_points`` cells or more is sampled at ``max_points``
    points equally spaced over the whole interval instead.
    """
    m = space.mesh
    if per_cell is None:
        per_cell = max(2 * space.order + 1, -(-target // m.cells) + 1)
    per_cell = as_int(per_cell, "per_cell", minimum=2)
    if whole_interval and m.cells >= max_points:  # more cells than a figure can show
        return np.linspace(m.a, m.b, max_points)
    per_cell = max(2, min(per_cell, max_points // m.cells + 1))
    t = np.linspace(0.0, 1.0, per_cell)[:-1]
    return np.append((m.nodes[:-1, None] + m.h[:, None] * t[None, :]).ravel(), m.b)


def _finite_values(V, u):
    """The dof values ``u`` on ``V`` as a float array, checked: ``V.ndofs`` finite numbers."""
    U = np.asarray(u, dtype=float)
    if U.size != V.ndofs or not np.all(np.isfinite(U)):
        raise FemkronValueError(f"u must hold {V.ndofs} finite values, got shape {U.shape}")
    return U


def _space_title(V, name, where=""):
    """The default title ``"name: Q2{where}, 17 × 9 dofs"`` of a function on ``V``."""
    orders = "".join(sorted(set(str(p) for p in V.orders)))
    return f"{name}: Q{orders}{where}, {' × '.join(map(str, V.shape))} dofs"


def _panel_ratio(bounds):
    """Width over height at which a panel of the box ``bounds`` is drawn (1 if left free).

    Panels keep the box's true proportions (:func:`_aspect`) unless one side is more than four
    times the other.
    """
    (a0, b0), (a1, b1) = bounds
    ratio = (b0 - a0) / (b1 - a1)
    return ratio if 0.25 <= ratio <= 4.0 else 1.0


def _panel_size(ratio, ncols, height=2.3, width=8.4, pad=(0.85, 1.0)):
    """Size (inches) of one panel drawn ``ratio`` times as wide as high, ``ncols`` in a row.

    The axes are ``height`` inches high, or less so that a row of them is at most ``width``
    inches wide; ``pad`` adds room for the tick labels, axis labels and title around them.
    """
    height = min(height, width / (ncols * ratio))
    return height * ratio + pad[0], height + pad[1]


def _row_size(ratios, height, width, pad):
    """Size (inches) of a row of panels drawn ``ratios`` times as wide as high, and a colorbar.

    The axes are ``height`` inches high, or less so that they are at most ``width`` inches
    wide together; ``pad`` adds room around each panel (width) and the row (height), and
    0.9 inches are left for the colorbar.
    """
    height = min(height, width / sum(ratios))
    return sum(height * r + pad[0] for r in ratios) + 0.9, height + pad[1]


def _aspect(ax, bounds):
    (a0, b0), (a1, b1) = bounds
    ratio = (b1 - a1) / (b0 - a0)
    if 0.25 <= ratio <= 4.0:
        ax.set_aspect("equal")


def _draw_2d(ax, X, Y, Z, kind, cmap, levels, vmin=None, vmax=None):
    if kind == "pcolormesh":
        return ax.pcolormesh(X, Y, Z, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)
    if vmin is not None and vmax is not None:
        lo, hi = _colour_range(vmin, vmax)
    else:
        lo, hi = _colour_range(float(Z.min()), float(Z.max()))
    lev = np.linspace(lo, hi, levels + 1)
    return ax.contourf(X, Y, Z, levels=lev, cmap=cmap, extend="neither")


def _colour_range(lo, hi):
    """``(lo, hi)`` of a colour scale, widened when the values are (nearly) constant."""
    if hi - lo <= 1e-14 * max(1.0, abs(hi)):
        hi = lo + max(1e-12, 1e-6 * abs(lo) or 1.0)
    return lo, hi


def _colorbar(ax, mappable, label, cax=None):
    """A labelled colorbar of ``mappable``: in ``cax`` if given, else attached to ``ax``.

    A 2D ``ax`` gets the colorbar in an inset axes just right of it, so that the colorbar keeps
    to the panel as drawn, whatever its fixed aspect ratio leaves of the space the layout gave
    it; a 3D ``ax`` gets matplotlib's colorbar beside it.
    """
    fig = ax.figure
    if cax is None and getattr(ax, "name", None) != "3d":
        cax = ax.inset_axes([1.04, 0.0, 0.05, 1.0])
    if cax is not None:
        cb = fig.colorbar(mappable, cax=cax)
    else:
        cb = fig.colorbar(mappable, ax=ax, shrink=0.9)
    from matplotlib import ticker

    cb.set_label(label, fontsize=_LABEL)
    cb.locator = ticker.MaxNLocator(nbins=6)
    cb.update_ticks()
    cb.ax.tick_params(labelsize=_TICK)
    return cb
