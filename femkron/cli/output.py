"""Output of the ``femkron`` command: report lines, figures, JSON, and checks of output paths.

Every output path is checked before any work is done (:func:`check_outputs`) and every file is
written atomically, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

from .._files import atomic_path, check_writable
from ..errors import FemkronValueError

__all__ = [
    "check_outputs",
    "describe_box",
    "describe_orders",
    "describe_space",
    "save_figure",
    "say",
    "write_json",
]


def _probe(path, name):
    """Check ``path`` like :func:`check_writable`, then try a scratch file next to it.

    The scratch file is created and removed, so a folder that looks writable but is not fails
    before any work is done.
    """
    import tempfile

    path = check_writable(path, name)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".femkron-probe.", dir=folder)
    except OSError as err:
        raise FemkronValueError(f"{name}: cannot write into {folder!r} ({err.strerror})") from None
    os.close(fd)
    os.remove(tmp)
    return path


def check_outputs(args):
    """Check every output path before any work is done."""
    for key in ("plot", "plot_error"):
        plot = getattr(args, key, None)
        if plot is None:
            continue
        option = "--" + key.replace("_", "-")
        _probe(plot, option)
        ext = os.path.splitext(plot)[1].lower().lstrip(".")
        from matplotlib.figure import Figure

        supported = Figure().canvas.get_supported_filetypes()
        if ext not in supported:
            raise FemkronValueError(
                f"{option}: matplotlib cannot write {plot!r} "
                f"(extension {('.' + ext) if ext else 'missing'}); "
                f"use one of {', '.join('.' + e for e in sorted(supported))}"
            )
    vtk = getattr(args, "vtk", None)
    if vtk is not None:
        _probe(vtk, "--vtk")
        if os.path.splitext(vtk)[1].lower() not in (".vtu", ".vtk"):
            raise FemkronValueError(f"--vtk: the file must end in .vtu or .vtk, got {vtk!r}")
        from ..io.vtk import _import_meshio

        _import_meshio()
    out = getattr(args, "json", None)
    if out is not None and out != "-":
        _probe(out, "--json")


def say(*parts):
    """Print a report line: to stdout, or to stderr when ``--json -`` claims stdout."""
    print(*parts, file=sys.stderr if say.to_stderr else sys.stdout)


say.to_stderr = False


def save_figure(ax, path):
    """Write the figure of ``ax`` (an Axes or an array of them) to ``path`` and close it."""
    fig = np.atleast_1d(ax).ravel()[0].figure
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        with atomic_path(path, "--plot") as tmp:
            fig.savefig(tmp, format=ext, dpi=120)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    say(f"  figure  : {path}")


def write_json(path, record):
    """Write ``record`` as JSON to ``path`` (``"-"``: stdout)."""
    text = json.dumps(record, indent=2, sort_keys=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    with atomic_path(path, "--json") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    say(f"  json    : {path}")


def describe_orders(V):
    """``"Q2"`` (``"Q12"`` for orders 1 and 2 on different axes) and the node family."""
    orders = "".join(sorted(set(str(p) for p in V.orders)))
    return f"Q{orders} ({V.spaces[0].nodes} nodes)"


def describe_space(V):
    """Orders, nodes and cells of ``V``, e.g. ``"Q2 (gll nodes), 32 × 32 cells"``."""
    return f"{describe_orders(V)}, {' × '.join(str(c) for c in V.mesh.shape)} cells"


def describe_box(V):
    """The box of ``V``, e.g. ``"[0, 1] × [0, 2]"``."""
    return " × ".join(f"[{a:g}, {b:g}]" for a, b in V.bounds)
