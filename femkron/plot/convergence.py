"""Studies on log–log axes: errors against the cell size, run times against the problem size.

Examples
--------
>>> import numpy as np
>>> h = np.array([0.5, 0.25, 0.125])
>>> ax = plot_convergence(h, h**2)
>>> ax.get_xscale(), ax.get_yscale()
('log', 'log')
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np

from .._validate import as_int
from ..errors import FemkronTypeError, FemkronValueError
from ._style import _TICK, _new_axes, _style

__all__ = ["plot_convergence", "plot_benchmark"]


def _series(errors, labels):
    if isinstance(errors, dict):
        return [(str(k), np.asarray(v, dtype=float)) for k, v in errors.items()]
    arr = np.asarray(errors, dtype=float)
    if arr.ndim == 1:
        return [(labels[0] if labels else "error", arr)]
    if arr.ndim == 2:
        names = labels or [f"error {i + 1}" for i in range(arr.shape[0])]
        if len(names) != arr.shape[0]:
            raise FemkronValueError(f"labels must give {arr.shape[0]} names, got {len(names)}")
        return list(zip(names, arr))
    raise FemkronValueError("errors must be a 1D array, a 2D array (one row per series) or a dict")


def plot_convergence(
    h,
    errors,
    ax=None,
    fig=None,
    labels=None,
    fit_last=None,
    xlabel="h (cell size)",
    ylabel="error",
    title="convergence",
):
    """Log–log plot of errors against the cell size with the fitted slopes annotated.

    Each series gets a dashed least-squares line through its points (or its last
    ``fit_last`` points) and its slope, measured by :func:`femkron.convergence_rate`, in the
    legend.

    Parameters
    ----------
    h : array_like
        Cell sizes (or any refinement parameter).
    errors : array_like or dict
        One series, a 2D array (one row per series), or ``{label: errors}``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([0.25, 0.125, 0.0625])
    >>> ax = plot_convergence(h, {"L2": 0.3 * h**3, "H1": 2 * h**2})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['L2: slope 3.00', 'H1: slope 2.00']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from ..fem.norms import convergence_rate

    h = np.asarray(h, dtype=float)
    if h.ndim != 1 or h.size < 2:
        raise FemkronValueError(f"h must be a 1D array of at least 2 sizes, got shape {h.shape}")
    ax = _new_axes(ax, fig)
    for i, (name, e) in enumerate(_series(errors, labels)):
        if e.shape != h.shape:
            raise FemkronValueError(
                f"errors {name!r} has {e.size} values but h has {h.size}; give one per h"
            )
        k = h.size if fit_last is None else as_int(fit_last, "fit_last", minimum=2)
        hs, es = h[-k:], e[-k:]
        slope = convergence_rate(hs, es)
        c = np.polyfit(np.log(hs), np.log(es), 1)
        color = f"C{i % 10}"
        ax.loglog(h, e, "o-", color=color, lw=1.6, ms=5, label=f"{name}: slope {slope:.2f}")
        ax.loglog(hs, np.exp(np.polyval(c, np.log(hs))), "--", color=color, lw=1.0, alpha=0.7)
    from matplotlib import ticker

    if h.size <= 8:  # label the cell sizes themselves instead of sparse decades
        ax.set_xticks(h)
        ax.xaxis.set_major_formatter(ticker.FixedFormatter([f"{v:.3g}" for v in h]))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=_TICK, loc="best")
    _style(ax, xlabel, ylabel, title)
    return ax


def plot_benchmark(results, ax=None, fig=None, x="dofs", y="seconds", by="method", title=None):
    """Time against problem size, one line per method, on log–log axes.

    Every series has its own colour and marker, kept to its method: a series named
    ``"METHOD VARIANT"`` (such as ``"amg Q2"``) takes the colour and line style of ``METHOD``
    and the marker of ``VARIANT``, so the same method looks the same in every panel and its
    variants differ by marker. The legend, one entry per series and the ``∝ N`` reference
    line, sits outside the axes on the right, clear of the data.

    Parameters
    ----------
    results : list of dict or dict
        Rows such as ``{"method": "fdm", "dofs": 4225, "seconds": 0.01}``, or
        ``{method: (dofs, seconds)}``.
    x, y, by : str
        Keys of the rows for the horizontal axis, the vertical axis and the series.

    Returns
    -------
    Axes

    Examples
    --------
    >>> rows = [{"method": m, "dofs": n, "seconds": c * n * 1e-7}
    ...         for m, c in (("fdm", 1), ("amg", 5)) for n in (1e3, 1e4, 1e5)]
    >>> ax = plot_benchmark(rows)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['fdm', 'amg', '∝ N (reference)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    series = {}
    if isinstance(results, dict):
        for name, pair in results.items():
            try:
                xs, ys = pair
            except (TypeError, ValueError):
                raise FemkronValueError(
                    f"results[{name!r}] must be a pair (sizes, times), got {pair!r}"
                ) from None
            series[str(name)] = (np.asarray(xs, float), np.asarray(ys, float))
    else:
        try:
            rows = list(results)
        except TypeError:
            raise FemkronTypeError("results must be a list of dicts or a dict") from None
        for r, row in enumerate(rows):
            if not isinstance(row, dict) or any(k not in row for k in (x, y)):
                raise FemkronValueError(f"results[{r}] must be a dict with keys {x!r} and {y!r}")
            name = str(row.get(by, "time"))
            xs, ys = series.setdefault(name, ([], []))
            xs.append(float(row[x]))
            ys.append(float(row[y]))
        series = {k: (np.asarray(a), np.asarray(b)) for k, (a, b) in series.items()}
    if not series:
        raise FemkronValueError("results holds no measurements")
    ax = _new_axes(ax, fig, figsize=(7.6, 4.6))
    styles = _benchmark_styles(list(series))
    xmin, xmax, ymid = np.inf, 0.0, []
    for name, (xs, ys) in series.items():
        order = np.argsort(xs)
        color, marker, line = styles[name]
        ax.loglog(
            xs[order], ys[order], color=color, marker=marker, ls=line, lw=1.7, ms=6.5, label=name
        )
        xmin, xmax = min(xmin, xs.min()), max(xmax, xs.max())
        ymid.append(np.exp(np.mean(np.log(ys[ys > 0]))) if np.any(ys > 0) else 1.0)
    if xmax > xmin:
        xr = np.array([xmin, xmax])
        y0 = min(ymid)
        xm = np.sqrt(xmin * xmax)
        ax.loglog(xr, y0 * xr / xm, ":", color="0.35", lw=1.4, label="∝ N (reference)")
    ax.grid(True, which="both", alpha=0.3)
    # outside the axes, on the right: a legend never hides a measurement
    ax.legend(fontsize=_TICK, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    _style(
        ax,
        "degrees of freedom" if x == "dofs" else x,
        "time [s]" if y == "seconds" else y,
        title or "benchmark",
    )
    return ax


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
_LINES = ("-", "--", "-.", (0, (1, 1.2)))


def _benchmark_styles(names):
    """The (colour, marker, line style) of each series name.

    Colour and line style per method (the first word of the name), marker per variant (the
    rest) or, without variants, per method: every series gets a different (colour, marker).
    """
    methods, variants = {}, {}
    for name in names:
        method, _, variant = name.partition(" ")
        methods.setdefault(method, len(methods))
        variants.setdefault(variant, len(variants))
    by_variant = len(variants) > 1
    styles = {}
    for name in names:
        method, _, variant = name.partition(" ")
        m, v = methods[method], variants[variant]
        color = f"C{m % 10}"
        marker = _MARKERS[(v if by_variant else m) % len(_MARKERS)]
        line = _LINES[m % len(_LINES)] if by_variant else "-"
        styles[name] = (color, marker, line)
    return styles
