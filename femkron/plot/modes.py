"""Families of fields on one space drawn as panels: eigenmodes and heat-equation snapshots.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, np.pi)], cells=8, order=2)
>>> w, v = fk.eigen(V, k=2)
>>> axes = plot_modes(V, w, v)
>>> len(axes)
2
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronTypeError, FemkronValueError
from ..fem.tensor import as_tensor_space
from ._style import (
    _TICK,
    _aspect,
    _colorbar,
    _draw_2d,
    _new_axes,
    _panel_axes,
    _panel_ratio,
    _panel_size,
    _plt,
    _style,
)
from .fields import _sampled, sample_points

__all__ = ["plot_modes", "plot_heat"]


def plot_modes(V, w, v, ax=None, fig=None, ncols=3, exact=None, cmap="RdBu_r", levels=20):
    """A grid of eigenmodes, each titled with its eigenvalue (and the exact one if given).

    Parameters
    ----------
    V : TensorSpace
        1D, 2D or 3D; a 3D mode is drawn on the plane ``z = const`` through its dofs where it
        is largest, named in the panel's title.
    w : array_like, shape ``(k,)``
        Eigenvalues.
    v : array_like, shape ``(V.ndofs, k)``
        Eigenvectors (columns), as returned by :func:`femkron.eigen`.
    exact : array_like, optional
        Exact eigenvalues to show next to the computed ones.

    Returns
    -------
    array of Axes

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, np.pi), (0, np.pi)], cells=8, order=4)
    >>> w, v = fk.eigen(V, k=4)
    >>> axes = plot_modes(V, w, v, ncols=2)
    >>> axes[0].get_title()
    'mode 1: λ = 2.0000'
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    V = as_tensor_space(V)
    w = np.asarray(w, dtype=float).ravel()
    v = np.asarray(v, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    if v.shape != (V.ndofs, w.size):
        raise FemkronValueError(
            f"v must have shape (V.ndofs, len(w)) = {(V.ndofs, w.size)}, got {v.shape}"
        )
    if exact is not None:
        exact = np.asarray(exact, dtype=float).ravel()
        if exact.size < w.size:
            raise FemkronValueError(f"exact must give {w.size} eigenvalues, got {exact.size}")
    ratio = 1.0 if V.dim == 1 else _panel_ratio(V.bounds[:2])
    panel = _panel_size(ratio, min(ncols, w.size), pad=(0.9, 1.2))  # two-line titles
    axes = _panel_axes(w.size, ax, fig, ncols=ncols, panel=panel)
    for j, a in enumerate(axes):
        U = v[:, j].reshape(V.shape)
        scale = np.max(np.abs(U)) or 1.0
        t = f"mode {j + 1}: λ = {w[j]:.4f}"
        if exact is not None:
            t += f"\nexact {exact[j]:.4f}"
        if V.dim == 1:
            (x,), Z = _sampled(V, U / scale)
            a.plot(x, Z, lw=1.6)
            a.axhline(0, color="0.6", lw=0.6)
            _style(a, "x", None, t)
            continue
        if V.coordinates.curvilinear:  # drawn in physical coordinates
            from .curvilinear3d import physical_patches

            patches, names, where = physical_patches(V, U / scale)
            for X, Y, Z in patches:
                a.contourf(X, Y, Z, levels=np.linspace(-1, 1, levels + 1), cmap=cmap, extend="both")
            _style(a, *names, t + (f" ({where})" if where else ""))
            a.set_aspect("equal")
            continue
        if V.dim == 2:
            (x, y), Z = _sampled(V, U / scale)
        elif V.dim == 3:
            pts = [sample_points(s, max_points=120) for s in V.spaces]
            z0 = _strongest_z(V, U)
            Z = V.evaluate(U / scale, [pts[0], pts[1], np.array([z0])])[:, :, 0]
            x, y = pts[0], pts[1]
            t += f" (z = {z0:.3g})"
        else:
            raise FemkronValueError(f"plot_modes draws 1 to 3 axes, got V.dim = {V.dim}")
        X, Y = np.meshgrid(x, y, indexing="ij")
        # scaled by the largest dof value: between the dofs |Z| may pass 1, drawn as ±1
        a.contourf(X, Y, Z, levels=np.linspace(-1, 1, levels + 1), cmap=cmap, extend="both")
        _style(a, "x", "y", t)
        _aspect(a, V.bounds[:2])
    return axes


def _heat_physical(ht, snapshots, ax, fig, cmap, label, levels):
    """The snapshots of a heat solution on a curvilinear space, in physical coordinates."""
    from .curvilinear3d import physical_patches

    V = ht.V
    frames = [(i, *physical_patches(V, ht.values[i])) for i in snapshots]
    values = [Z for _, patches, _, _ in frames for (_, _, Z) in patches]
    vmin, vmax = min(float(Z.min()) for Z in values), max(float(Z.max()) for Z in values)
    ncols = min(3, len(frames))
    panel = _panel_size(1.0, ncols)
    axes, cax = _panel_axes(len(frames), ax, fig, ncols=ncols, panel=panel, colorbar=True)
    art = None
    for a, (i, patches, names, where) in zip(axes, frames):
        for X, Y, Z in patches:
            art = _draw_2d(a, X, Y, Z, "contourf", cmap, levels, vmin, vmax)
        _style(a, *names, f"t = {ht.t[i]:.3g}" + (f" ({where})" if where else ""))
        a.set_aspect("equal")
    _colorbar(axes[-1], art, label, cax=cax)
    return axes


def _strongest_z(V, U):
    """The z of the dof plane where the 3D field ``U`` is largest (max |U| over the plane).

    A mode's middle plane can be one of its nodal planes, where the drawn slice would be flat;
    the plane of the largest values shows the mode.  Ties go to the plane nearest the middle.
    """
    z = np.asarray(V.coords[2], dtype=float)
    peak = np.max(np.abs(U), axis=(0, 1))
    strong = np.flatnonzero(peak >= (1 - 1e-9) * peak.max())
    middle = 0.5 * sum(V.bounds[2])
    return float(z[strong[np.argmin(np.abs(z[strong] - middle))]])


def plot_heat(ht, ax=None, fig=None, snapshots=None, cmap="inferno", label="u", levels=20):
    """Snapshots of a :class:`~femkron.HeatSolution`.

    1D: one axes, a curve per snapshot coloured by time.  2D: a grid of panels with one
    shared colour scale and colorbar (3D: the slice ``z = centre``).

    Parameters
    ----------
    snapshots : sequence of int, optional
        Which snapshots (default: up to six, evenly spaced, first and last included).

    Returns
    -------
    Axes (1D) or array of Axes

    Examples
    --------
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=8, order=2)
    >>> ht = fk.heat(V, lambda x: np.sin(np.pi * x), t_end=0.1, dt=0.01, snapshots=5)
    >>> ax = plot_heat(ht)
    >>> len(ax.lines)
    5
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if not hasattr(ht, "t") or not hasattr(ht, "values") or not hasattr(ht, "V"):
        raise FemkronTypeError(f"ht must be a HeatSolution, got {type(ht).__name__}")
    V = ht.V
    n = len(ht.t)
    if snapshots is None:
        snapshots = np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
    snapshots = [int(i) for i in snapshots]
    for i in snapshots:
        if not -n <= i < n:
            raise FemkronValueError(f"snapshots: index {i} out of range for {n} snapshots")
    if V.dim == 1:
        ax = _new_axes(ax, fig, figsize=(6.8, 4.0))
        cm = _plt().get_cmap("viridis")
        for k, i in enumerate(snapshots):
            (x,), Z = _sampled(V, ht.values[i])
            color = cm(k / max(1, len(snapshots) - 1))
            ax.plot(x, Z, color=color, lw=1.6, label=f"t = {ht.t[i]:.3g}")
        ax.legend(fontsize=_TICK, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.grid(alpha=0.3)
        _style(ax, "x", label, f"heat equation: {ht.steps} steps")
        return ax
    if V.coordinates.curvilinear:  # drawn in physical coordinates
        return _heat_physical(ht, snapshots, ax, fig, cmap, label, levels)
    frames = []
    for i in snapshots:
        if V.dim == 2:
            (x, y), Z = _sampled(V, ht.values[i])
        elif V.dim == 3:
            pts = [sample_points(s, max_points=120) for s in V.spaces]
            z0 = 0.5 * sum(V.bounds[2])
            Z = V.evaluate(ht.values[i], [pts[0], pts[1], np.array([z0])])[:, :, 0]
            x, y = pts[0], pts[1]
        else:
            raise FemkronValueError(f"plot_heat draws 1 to 3 axes, got V.dim = {V.dim}")
        frames.append((i, x, y, Z))
    vmin = min(float(f[3].min()) for f in frames)
    vmax = max(float(f[3].max()) for f in frames)
    ncols = min(3, len(frames))
    panel = _panel_size(_panel_ratio(V.bounds[:2]), ncols)
    axes, cax = _panel_axes(len(frames), ax, fig, ncols=ncols, panel=panel, colorbar=True)
    art = None
    for a, (i, x, y, Z) in zip(axes, frames):
        X, Y = np.meshgrid(x, y, indexing="ij")
        art = _draw_2d(a, X, Y, Z, "contourf", cmap, levels, vmin, vmax)
        _style(a, "x", "y", f"t = {ht.t[i]:.3g}")
        _aspect(a, V.bounds[:2])
    _colorbar(axes[-1], art, label, cax=cax)
    return axes
