"""Bifurcation diagrams: a continuation branch, ``‖u‖`` against the parameter ``λ``.

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> br = fk.continuation(V, lambda u, lam: lam * (1 + u), lam=(0.0, 5.0))
>>> ax = plot_branch(br)
>>> ax.get_xlabel(), ax.get_ylabel()
('λ', 'max |u|')
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronTypeError
from ._style import _new_axes, _style

__all__ = ["plot_branch"]


def plot_branch(branch, ax=None, fig=None, title="solution branch", label="branch", reference=None):
    """Plot ``‖u‖`` against ``λ`` along a :class:`~femkron.Branch`, folds marked.

    Parameters
    ----------
    branch : Branch
        From :func:`femkron.continuation`.
    ax, fig : matplotlib Axes or Figure, optional
        Where to draw (default: a new figure).
    title, label : str
        Title of the axes and legend label of the curve.
    reference : float, optional
        A known fold ``λ`` drawn as a dotted vertical line.

    Returns
    -------
    Axes
    """
    if not all(hasattr(branch, a) for a in ("lam", "norm", "folds", "norm_kind")):
        raise FemkronTypeError(f"branch must be a Branch, got {type(branch).__name__}")
    ax = _new_axes(ax, fig)
    ax.plot(branch.lam, branch.norm, "-", color="C0", lw=1.6, label=label)
    ax.plot(branch.lam, branch.norm, ".", color="C0", ms=4)
    lam = np.asarray(branch.lam)
    for i, fold in enumerate(branch.folds):
        k = int(np.argmin(np.abs(lam - fold)))
        ax.plot(
            [fold],
            [branch.norm[k]],
            "o",
            color="C3",
            ms=7,
            label=f"fold λ = {fold:.6g}" if i == 0 else None,
        )
    if reference is not None:
        ax.axvline(reference, color="0.4", ls=":", lw=1.2, label=f"reference λ = {reference:g}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9, loc="best")
    ylabel = "max |u|" if branch.norm_kind == "max" else "‖u‖ (L2)"
    _style(ax, "λ", ylabel, title)
    return ax
