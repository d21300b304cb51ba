"""Animations of time-dependent results: one frame per snapshot, written as GIF or MP4.

:func:`animate` draws every snapshot of a :class:`~femkron.HeatSolution` (or any result with
``V``, ``t`` and ``values``) with one colour scale fixed over the whole run, a colourbar and
the time in the title, and writes the frames with matplotlib's animation writers: Pillow for
``.gif`` (installed with matplotlib), ffmpeg for ``.mp4`` when it is on the ``PATH``.  The file
is written atomically.  matplotlib is imported inside the function only.
"""

from __future__ import annotations

import os

import numpy as np

from .._files import atomic_path, check_writable
from .._validate import as_int, as_real
from ..errors import FemkronTypeError, FemkronValueError, MissingDependencyError
from ._style import _aspect, _colorbar, _colour_range, _plt, _style
from .fields import sample_points

__all__ = ["animate"]

#: Frames an animation may hold (each is kept by the writer until the file is written).
MAX_FRAMES = 2000


def _frames_of(result, species):
    values = np.asarray(result.values, dtype=float)
    V = result.V
    if values.ndim == len(V.shape) + 2:  # time × species × grid
        k = as_int(species, "species", minimum=0, maximum=values.shape[1] - 1)
        values = values[:, k]
    if values.shape[1:] != tuple(V.shape):
        raise FemkronValueError(
            f"values of shape {values.shape} are not snapshots on the grid {V.shape}"
        )
    return values


def animate(result, path, fps=10, label="u", cmap="inferno", species=0, dpi=80):
    """Write the snapshots of a time-dependent result as an animation.

    Parameters
    ----------
    result : HeatSolution
        Or any result with ``V`` (1D or 2D), ``t`` and ``values`` (time first; a species
        axis after it is indexed by ``species``).
    path : str or os.PathLike
        ``.gif`` (Pillow) or ``.mp4`` (needs ffmpeg); replaced only when writing succeeded.
    fps : float
        Frames per second.
    label : str
        Name of the quantity (colourbar / y label).
    cmap : str
        Colour map of 2D frames.
    species : int
        Which species of a multi-species result.
    dpi : int
        Resolution of the frames.

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=1)
    >>> ht = fk.heat(V, lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y), 0.05, 0.01,
    ...              snapshots=3)
    >>> path = ht.animate(os.path.join(tempfile.mkdtemp(), "heat.gif"))
    >>> from PIL import Image
    >>> Image.open(path).n_frames
    3
    """
    if not all(hasattr(result, a) for a in ("V", "t", "values")):
        raise FemkronTypeError(
            f"result must be a time-dependent result (V, t, values), got {type(result).__name__}"
        )
    path = check_writable(path, "path")
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".gif", ".mp4"):
        raise FemkronValueError(f"path must end in .gif or .mp4, got {path!r}")
    fps = as_real(fps, "fps", positive=True)
    dpi = as_int(dpi, "dpi", minimum=10)
    V = result.V
    if V.dim not in (1, 2):
        raise FemkronValueError(f"animate draws 1D and 2D spaces, got V.dim = {V.dim}")
    t = np.asarray(result.t, dtype=float)
    frames = _frames_of(result, species)
    if len(frames) > MAX_FRAMES:
        raise FemkronValueError(
            f"{len(frames)} snapshots are too many frames (at most {MAX_FRAMES}); "
            "run with fewer snapshots"
        )
    if not np.all(np.isfinite(frames)):
        raise FemkronValueError("the snapshots contain NaN or inf")
    from matplotlib import animation

    plt = _plt()
    if ext == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise MissingDependencyError(
                "writing .mp4 needs ffmpeg on the PATH; write a .gif instead"
            )
        writer = animation.FFMpegWriter(fps=fps)
    else:
        writer = animation.PillowWriter(fps=fps)
    pts = [sample_points(s, max_points=300) for s in V.spaces]
    sampled = [V.evaluate(U, pts) for U in frames]
    lo = min(float(Z.min()) for Z in sampled)
    hi = max(float(Z.max()) for Z in sampled)
    lo, hi = _colour_range(lo, hi)
    title = getattr(result, "problem", None) or "heat"
    fig = plt.figure(figsize=(6.0, 4.6) if V.dim == 2 else (6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    try:
        if V.dim == 1:
            (line,) = ax.plot(pts[0], sampled[0], lw=1.8)
            ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
            ax.grid(alpha=0.3)
            _style(ax, "x", label, f"{title}: t = {t[0]:.4g}")

            def draw(i):
                line.set_ydata(sampled[i])
                ax.set_title(f"{title}: t = {t[i]:.4g}")

        else:
            X, Y = np.meshgrid(pts[0], pts[1], indexing="ij")
            mesh = ax.pcolormesh(X, Y, sampled[0], shading="gouraud", cmap=cmap, vmin=lo, vmax=hi)
            _colorbar(ax, mesh, label)
            _aspect(ax, V.bounds[:2])
            _style(ax, "x", "y", f"{title}: t = {t[0]:.4g}")

            def draw(i):
                mesh.set_array(sampled[i].ravel())
                ax.set_title(f"{title}: t = {t[i]:.4g}")

        with atomic_path(path, "path") as tmp:
            with writer.saving(fig, tmp, dpi):
                for i in range(len(sampled)):
                    draw(i)
                    writer.grab_frame()
    finally:
        plt.close(fig)
    return path
