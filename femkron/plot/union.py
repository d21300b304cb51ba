"""Unions of boxes: their partition, and functions on them with the removed part left blank.

A function on a :class:`~femkron.BoxUnion` is drawn box by box of its partition (each box
evaluated between the dofs, so high-order elements show their curvature) on one colour
scale; nothing is drawn where the union has no cells — the removed part stays blank, it is
not shown as zero.

Examples
--------
>>> import femkron as fk
>>> L = fk.BoxUnion.lshape(cells=8, order=2)
>>> ax = plot_union(fk.poisson(L, 1.0))
>>> ax.get_xlabel(), ax.get_aspect()
('x', 1.0)
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from .._validate import check_choice
from ..errors import FemkronTypeError, FemkronValueError
from ..fem.union import BoxUnion
from ._style import _aspect, _colorbar, _colour_range, _draw_2d, _new_axes, _style
from .fields import sample_points

__all__ = ["plot_union"]


def plot_union(
    sol,
    u=None,
    ax=None,
    fig=None,
    kind="contourf",
    label="u",
    title=None,
    cmap="viridis",
    levels=20,
    per_cell=None,
    colorbar=True,
    show_boxes=None,
    vmin=None,
    vmax=None,
):
    """Plot a function on a 2D union of boxes, or the union's partition.

    Parameters
    ----------
    sol : UnionSolution or BoxUnion
        A solution (its values are drawn), or a union (with ``u``: that function; without:
        its partition into boxes, each box shaded and numbered).
    u : array_like, optional
        Values at the union's dofs (length ``U.ndofs``) or on the bounding grid.
    ax, fig : matplotlib Axes / Figure, optional
    kind : {"contourf", "pcolormesh"}
    label : str
        Name of the quantity on the colorbar.
    per_cell : int, optional
        Evaluation points per cell and axis (default ``2p + 1``).
    show_boxes : bool, optional
        Outline the boxes of the partition (default: only when the partition is drawn).
    vmin, vmax : float, optional
        The colour scale (default: the range of the values).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import femkron as fk
    >>> ax = plot_union(fk.BoxUnion.step(cells=2, length=4.0))
    >>> len(ax.patches)
    2
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    check_choice(kind, "kind", ("contourf", "pcolormesh"))
    if isinstance(sol, BoxUnion):
        U, vector = sol, None
    elif isinstance(getattr(sol, "V", None), BoxUnion):
        U, vector = sol.V, sol.vector
        title = title if title is not None else getattr(sol, "problem", None)
    else:
        raise FemkronTypeError(
            f"sol must be a UnionSolution or a BoxUnion, got {type(sol).__name__}"
        )
    if U.dim != 2:
        raise FemkronValueError(
            f"plot_union draws 2D unions; this one is {U.dim}D (write it with to_vtk and "
            "view the active cells in ParaView)"
        )
    if u is not None:
        vector = np.asarray(u, dtype=float)
        if vector.shape == U.shape or vector.shape == (int(np.prod(U.shape)),):
            vector = U.from_full(vector)
        if vector.shape != (U.ndofs,):
            raise FemkronValueError(
                f"u must hold {U.ndofs} values (the union's dofs) or the bounding grid "
                f"{U.shape}, got shape {np.shape(u)}"
            )
        if not np.all(np.isfinite(vector)):
            raise FemkronValueError("u contains NaN or inf")
    ax = _new_axes(ax, fig)
    if vector is None:
        _draw_partition(ax, U)
    else:
        _draw_values(ax, U, vector, kind, label, cmap, levels, per_cell, colorbar, vmin, vmax)
        if show_boxes:
            _outline_boxes(ax, U)
    _outline(ax, U)
    (a0, b0), (a1, b1) = U.bounds
    ax.set_xlim(a0, b0)
    ax.set_ylim(a1, b1)
    _aspect(ax, U.bounds)
    _style(ax, "x", "y", title)
    return ax


def _draw_values(ax, U, vector, kind, label, cmap, levels, per_cell, colorbar, vmin, vmax):
    full = U.to_full(vector)
    pieces = []
    for box in U.boxes:
        W = U.box_space(box)
        ranges = [U.dof_range(d, lo, hi) for d, (lo, hi) in enumerate(box)]
        pts = [sample_points(s, per_cell, max_points=300) for s in W.spaces]
        Z = W.evaluate(full[np.ix_(*ranges)].reshape(-1), pts)
        pieces.append((pts, Z))
    lo = float(min(Z.min() for _, Z in pieces)) if vmin is None else float(vmin)
    hi = float(max(Z.max() for _, Z in pieces)) if vmax is None else float(vmax)
    lo, hi = _colour_range(lo, hi)
    mappable = None
    for (x, y), Z in pieces:
        X, Y = np.meshgrid(x, y, indexing="ij")
        Z = Z if kind == "pcolormesh" else np.clip(Z, lo, hi)
        mappable = _draw_2d(ax, X, Y, Z, kind, cmap, levels, lo, hi)
    if colorbar and mappable is not None:
        _colorbar(ax, mappable, label)


def _box_rect(U, box):
    (x0, x1), (y0, y1) = [
        (U.spaces[d].mesh.nodes[lo], U.spaces[d].mesh.nodes[hi]) for d, (lo, hi) in enumerate(box)
    ]
    return x0, x1, y0, y1


def _draw_partition(ax, U):
    from matplotlib.patches import Rectangle

    colours = ["#9ecae1", "#fdd0a2", "#a1d99b", "#dadaeb", "#fcbba1", "#c7e9c0"]
    for i, box in enumerate(U.boxes):
        x0, x1, y0, y1 = _box_rect(U, box)
        ax.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                facecolor=colours[i % len(colours)],
                edgecolor="0.3",
                linewidth=0.8,
            )
        )
        ax.text(0.5 * (x0 + x1), 0.5 * (y0 + y1), f"box {i}", ha="center", va="center", fontsize=9)


def _outline_boxes(ax, U):
    for box in U.boxes:
        x0, x1, y0, y1 = _box_rect(U, box)
        ax.plot(
            [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="0.4", linewidth=0.6, linestyle="--"
        )


def _outline(ax, U):
    """The boundary of the union: its boundary block faces as black segments."""
    for d, _side, node, block, _ in U.boundary_blocks():
        e = 1 - d
        lo, hi = U.block_ranges(block)[e]
        c = U.spaces[d].mesh.nodes[node]
        a, b = U.spaces[e].mesh.nodes[lo], U.spaces[e].mesh.nodes[hi]
        if d == 0:
            ax.plot([c, c], [a, b], color="k", linewidth=1.0)
        else:
            ax.plot([a, b], [c, c], color="k", linewidth=1.0)
