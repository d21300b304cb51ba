"""Shared private helpers of the figures: axes, panel grids, labels and colorbars.

Every public plotting function draws through these helpers, so the figures share one look:
the font sizes ``_TITLE``, ``_LABEL`` and ``_TICK``, the axes they create (:func:`_new_axes`,
:func:`_panel_axes`), the filled contours (:func:`_draw_2d`) and the colorbars
(:func:`_colorbar`).  matplotlib is imported inside the functions only.
"""

from __future__ import annotations

import numpy as np

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


def _panel_axes(n, ax=None, fig=None, ncols=3, panel=(3.4, 3.0), sharex=False, sharey=False):
    """``n`` axes: the given sequence ``ax``, or a grid in ``fig`` / a new figure."""
    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if axes.size < n:
            raise FemkronValueError(f"ax must hold at least {n} axes, got {axes.size}")
        return axes[:n]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    if fig is None:
        fig = _plt().figure(figsize=(panel[0] * ncols, panel[1] * nrows), layout="constrained")
    elif not hasattr(fig, "subplots"):
        raise FemkronTypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    grid = np.atleast_1d(fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False))
    grid = grid.ravel()
    for extra in grid[n:]:
        extra.remove()
    return grid[:n]


def _style(ax, xlabel=None, ylabel=None, title=None):
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=_LABEL)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=_LABEL)
    if title:
        ax.set_title(title, fontsize=_TITLE)
    ax.tick_params(labelsize=_TICK)


def _aspect(ax, bounds):
    (a0, b0), (a1, b1) = bounds
    ratio = (b1 - a1) / (b0 - a0)
    if 0.25 <= ratio <= 4.0:
        ax.set_aspect("equal")


def _draw_2d(ax, X, Y, Z, kind, cmap, levels, vmin=None, vmax=None):
    if kind == "pcolormesh":
        return ax.pcolormesh(X, Y, Z, shading="gouraud", cmap=cmap, vmin=vmin, vmax=vmax)
    if vmin is not None and vmax is not None:
        lo, hi = vmin, vmax
    else:
        lo, hi = float(Z.min()), float(Z.max())
    if hi - lo <= 1e-14 * max(1.0, abs(hi)):
        hi = lo + max(1e-12, 1e-6 * abs(lo) or 1.0)
    lev = np.linspace(lo, hi, levels + 1)
    return ax.contourf(X, Y, Z, levels=lev, cmap=cmap, extend="neither")


def _colorbar(ax, mappable, label, axes=None):
    fig = ax.figure
    cb = fig.colorbar(mappable, ax=axes if axes is not None else ax, shrink=0.9)
    from matplotlib import ticker

    cb.set_label(label, fontsize=_LABEL)
    cb.locator = ticker.MaxNLocator(nbins=6)
    cb.update_ticks()
    cb.ax.tick_params(labelsize=_TICK)
    return cb
