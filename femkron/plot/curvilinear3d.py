"""Slices of functions on cylinders and spherical shells, drawn in physical coordinates.

Two panels with one shared colour scale and a labelled colorbar, both with equal aspect:

* a **cylinder** (or pipe wall): the horizontal disk (annulus) ``z = z0`` (default mid-height)
  and the vertical section through the axis along the angle ``section`` and
  ``section + π`` — the ``(r, z)`` plane drawn from ``-R`` to ``R``;
* a **spherical shell**: the equatorial plane ``θ = π/2`` and the meridional section
  ``φ = section`` and ``φ = section + π`` (a ring in the ``(x, z)`` plane).

The angle samples run over the whole turn and meet again, so the periodic seam is closed; the
two halves of a vertical section meet on the axis.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> C = fk.TensorSpace.cylinder(radius=1.0, height=2.0, cells=(3, 12, 3), order=2)
>>> axes = plot_curvilinear_slices(C, C.interpolate(lambda r, t, z: r * np.cos(t) + z))
>>> [a.get_title() for a in axes]
['z = 1', 'y = 0 (θ = 0 and π)']
>>> axes[0].get_aspect(), axes[1].get_xlabel(), axes[1].get_ylabel()
(1.0, 'x', 'z')
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int, as_real, check_choice
from ..errors import FemkronValueError
from ._style import (
    _TITLE,
    _cell_samples,
    _colorbar,
    _draw_2d,
    _finite_values,
    _panel_axes,
    _row_size,
    _space_title,
    _style,
)

__all__ = ["plot_curvilinear_slices", "physical_patches"]


def _angle_text(a):
    for k, text in ((0.0, "0"), (0.5, "π/2"), (1.0, "π"), (1.5, "3π/2"), (2.0, "2π")):
        if abs(a - k * np.pi) <= 1e-12:
            return text
    return f"{a:.3g}"


def _ratio(width, height):
    r = width / height
    return min(max(r, 0.25), 4.0)


def _cylinder_panels(V, U, pts, z0, section):
    R, H = V.bounds[0][1], V.bounds[2][1]
    z0 = 0.5 * H if z0 is None else as_real(z0, "z")
    if not 0.0 <= z0 <= H:
        raise FemkronValueError(f"z must lie in the cylinder's height [0, {H:g}], got {z0}")
    r, t, z = pts
    horizontal = V.evaluate(U, [r, t, np.array([z0])])[:, :, 0]
    Rr, T = np.meshgrid(r, t, indexing="ij")
    disk = (Rr * np.cos(T), Rr * np.sin(T), horizontal)
    angles = np.array([section, (section + np.pi) % (2 * np.pi)])
    vertical = V.evaluate(U, [r, angles, z])  # (nr, 2, nz)
    Rz, Z = np.meshgrid(r, z, indexing="ij")
    halves = [(Rz, Z, vertical[:, 0, :]), (-Rz, Z, vertical[:, 1, :])]
    across = "x" if section == 0.0 else f"distance along θ = {_angle_text(section)}"
    plane = "y = 0" if section == 0.0 else "vertical section"
    theta2 = _angle_text(float(angles[1]))
    panels = [
        ([disk], ("x", "y"), f"z = {z0:.3g}", 1.0),
        (
            halves,
            (across, "z"),
            f"{plane} (θ = {_angle_text(section)} and {theta2})",
            _ratio(2 * R, H),
        ),
    ]
    return panels


def _shell_panels(V, U, pts, section):
    r, t, p = pts
    equator = V.evaluate(U, [r, np.array([0.5 * np.pi]), p])[:, 0, :]
    Rr, P = np.meshgrid(r, p, indexing="ij")
    ring = (Rr * np.cos(P), Rr * np.sin(P), equator)
    angles = np.array([section, (section + np.pi) % (2 * np.pi)])
    meridian = V.evaluate(U, [r, t, angles])  # (nr, nθ, 2)
    Rt, T = np.meshgrid(r, t, indexing="ij")
    S, Zc = Rt * np.sin(T), Rt * np.cos(T)
    halves = [(S, Zc, meridian[:, :, 0]), (-S, Zc, meridian[:, :, 1])]
    across = "x" if section == 0.0 else f"distance along φ = {_angle_text(section)}"
    phi2 = _angle_text(float(angles[1]))
    plane = "y = 0" if section == 0.0 else "meridional section"
    return [
        ([ring], ("x", "y"), "equator z = 0 (θ = π/2)", 1.0),
        (halves, (across, "z"), f"{plane} (φ = {_angle_text(section)} and {phi2})", 1.0),
    ]


def plot_curvilinear_slices(
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
    z=None,
    section=0.0,
):
    """Draw two plane sections of a function on a cylinder or a spherical shell.

    Parameters
    ----------
    V : TensorSpace
        In cylindrical or spherical coordinates.
    u : array_like
        The dof values (``V.ndofs`` finite numbers).
    ax : sequence of two Axes, optional
    fig : Figure, optional
    kind : {"contourf", "pcolormesh"}
    label, title, cmap, levels, per_cell, colorbar
        As :func:`femkron.plot.plot_function`.
    z : float, optional
        Cylinder: the height of the horizontal section (default mid-height).
    section : float
        The angle (θ of a cylinder, φ of a shell, radians in ``[0, 2π)``) of the vertical
        section plane; it also shows ``section + π``.  Default 0: the plane ``y = 0``.

    Returns
    -------
    numpy.ndarray of two Axes.

    Examples
    --------
    >>> import femkron as fk
    >>> S = fk.TensorSpace.spherical_shell(0.5, 1.0, cells=(2, 4, 8), order=2)
    >>> axes = plot_curvilinear_slices(S, S.interpolate(lambda r, t, p: r * np.cos(t)))
    >>> axes[1].get_title(), axes[1].get_aspect()
    ('y = 0 (φ = 0 and π)', 1.0)
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    c = V.coordinates
    if c.name not in ("cylindrical", "spherical"):
        raise FemkronValueError(
            f"plot_curvilinear_slices draws cylindrical or spherical spaces, got {c.name} "
            "coordinates"
        )
    check_choice(kind, "kind", ("contourf", "pcolormesh"))
    levels = as_int(levels, "levels", minimum=2)
    section = as_real(section, "section")
    if not 0.0 <= section < 2 * np.pi:
        raise FemkronValueError(f"section must be an angle in [0, 2π), got {section}")
    if c.name == "spherical" and z is not None:
        raise FemkronValueError("z applies to cylinders; a shell is cut at its equator")
    U = _finite_values(V, u).reshape(V.shape)
    pts = [_cell_samples(s, per_cell, 240, 72) for s in V.spaces]
    if c.name == "cylindrical":
        panels = _cylinder_panels(V, U, pts, z, section)
    else:
        panels = _shell_panels(V, U, pts, section)
    values = [Z for patches, *_ in panels for (_, _, Z) in patches]
    vmin = min(float(Z.min()) for Z in values)
    vmax = max(float(Z.max()) for Z in values)
    ratios = [p[3] for p in panels]
    figsize = _row_size(ratios, 3.2, 8.0, (0.9, 1.2))
    axes, cax = (
        _panel_axes(2, ax, fig, ncols=2, colorbar=colorbar, width_ratios=ratios, figsize=figsize)
        if colorbar
        else (_panel_axes(2, ax, fig, ncols=2, width_ratios=ratios, figsize=figsize), None)
    )
    art = None
    for a, (patches, (xl, yl), name, _) in zip(axes, panels):
        for X, Y, Z in patches:
            art = _draw_2d(a, X, Y, Z, kind, cmap, levels, vmin, vmax)
        _style(a, xl, yl, name)
        a.set_aspect("equal")
    if colorbar:
        _colorbar(axes[-1], art, label, cax=cax)
    if title is None:
        title = _space_title(V, label, f" in {c.name} coordinates")
    axes[0].figure.suptitle(title, fontsize=_TITLE)
    return axes


def physical_patches(V, U, max_points=120):
    """One plane of a curvilinear function in physical coordinates, for panels of modes/heat.

    Returns ``(patches, (xlabel, ylabel), where)``: ``patches`` a list of ``(X, Y, Z)``
    sample grids; a polar space its disk, an axisymmetric one its ``(r, z)`` plane, a
    cylinder its horizontal disk at mid-height, a shell its equator; ``where`` names the
    plane (``""`` in 2D).

    Examples
    --------
    >>> import femkron as fk
    >>> D = fk.TensorSpace.disk(radius=2.0, cells=(2, 8), order=1)
    >>> (X, Y, Z), = physical_patches(D, np.ones(D.shape))[0]
    >>> bool(np.isclose(np.hypot(X, Y).max(), 2.0)), physical_patches(D, np.ones(D.shape))[1]
    (True, ('x', 'y'))
    """
    c = V.coordinates
    U = np.asarray(U, dtype=float).reshape(V.shape)
    pts = [_cell_samples(s, None, max_points, 72) for s in V.spaces]
    if c.name in ("polar", "axisymmetric"):
        Z = V.evaluate(U, pts)
        X, Y = c.to_cartesian(*np.meshgrid(*pts, indexing="ij"))
        names = ("x", "y") if c.name == "polar" else ("r", "z")
        return [(X, Y, Z)], names, ""
    if c.name == "cylindrical":
        z0 = 0.5 * sum(V.bounds[2])
        Z = V.evaluate(U, [pts[0], pts[1], np.array([z0])])[:, :, 0]
        Rr, T = np.meshgrid(pts[0], pts[1], indexing="ij")
        return [(Rr * np.cos(T), Rr * np.sin(T), Z)], ("x", "y"), f"z = {z0:.3g}"
    if c.name == "spherical":
        Z = V.evaluate(U, [pts[0], np.array([0.5 * np.pi]), pts[2]])[:, 0, :]
        Rr, P = np.meshgrid(pts[0], pts[2], indexing="ij")
        return [(Rr * np.cos(P), Rr * np.sin(P), Z)], ("x", "y"), "equator"
    raise FemkronValueError(f"no physical plane for {c.name} coordinates")  # pragma: no cover
