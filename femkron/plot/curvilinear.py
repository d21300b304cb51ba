"""Plots of functions on curvilinear spaces, drawn in physical coordinates.

A disk is drawn as a disk (the periodic seam closed: the samples of θ run over the whole turn
and meet again), an annulus as a ring, a sector as a wedge; the colour scale is labelled and
the axes have equal aspect.  Axisymmetric spaces are drawn in their meridian plane ``(r, z)``;
cylinders and spherical shells as two plane sections
(:func:`~femkron.plot.curvilinear3d.plot_curvilinear_slices`).

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> D = fk.TensorSpace.disk(radius=1.0, cells=(4, 12), order=2)
>>> ax = plot_curvilinear(D, D.interpolate(lambda r, t: r * np.cos(t)))
>>> ax.get_aspect(), ax.get_xlabel()
(1.0, 'x')
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int, check_choice
from ..errors import FemkronValueError
from ._style import (
    _cell_samples,
    _colorbar,
    _draw_2d,
    _finite_values,
    _new_axes,
    _space_title,
    _style,
)

__all__ = ["plot_curvilinear"]


def plot_curvilinear(
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
):
    """Plot the function with dofs ``u`` on a curvilinear space in physical coordinates.

    Parameters as :func:`femkron.plot.plot_function` (``kind`` is ``"contourf"`` or
    ``"pcolormesh"``).  Returns the Axes; for a cylinder or a spherical shell the two Axes
    of :func:`~femkron.plot.curvilinear3d.plot_curvilinear_slices`.
    """
    c = V.coordinates
    if V.dim == 3 and c.name in ("cylindrical", "spherical"):  # two plane sections
        from .curvilinear3d import plot_curvilinear_slices

        return plot_curvilinear_slices(
            V, u, ax, fig, kind, label, title, cmap, levels, per_cell, colorbar
        )
    if V.dim != 2:
        raise FemkronValueError(
            f"plots of {c.name} spaces are drawn in 2D (polar, axisymmetric); this space has "
            f"{V.dim} axes: evaluate it on a slice with V.evaluate and plot that"
        )
    check_choice(kind, "kind", ("contourf", "pcolormesh"))
    levels = as_int(levels, "levels", minimum=2)
    U = _finite_values(V, u)
    pts = [_cell_samples(s, per_cell, 400, 90) for s in V.spaces]
    Z = V.evaluate(U.reshape(V.shape), pts)
    Q = np.meshgrid(*pts, indexing="ij")
    X, Y = c.to_cartesian(*Q)
    ax = _new_axes(ax, fig, figsize=(5.4, 4.6))
    art = _draw_2d(ax, X, Y, Z, kind, cmap, levels)
    names = ("x", "y") if c.name == "polar" else ("r", "z")
    if title is None:
        title = _space_title(V, label, f" in {c.name} coordinates")
    _style(ax, names[0], names[1], title)
    ax.set_aspect("equal")
    if colorbar:
        _colorbar(ax, art, label)
    return ax
