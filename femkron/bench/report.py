"""Reporting of benchmark results: the text table, the JSON file, the figure, machine info.

BLAS and FFT threads change the numbers, so the report states them (``OPENBLAS_NUM_THREADS``
or ``OMP_NUM_THREADS``, else ``default``).
"""

from __future__ import annotations

import json
import os
import platform

import numpy as np

from ..errors import FemkronValueError

__all__ = ["print_report", "write_json", "plot_rows"]


def _threads_env():
    return os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")


def _machine():
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": __import__("scipy").__version__,
        "threads": _threads_env() or "default",
    }


def _fmt(v, digits=3):
    return "—" if v is None else f"{v:.{digits}g}"


def print_report(rows, goals):
    """Print the rows of a run and its targets as a table."""
    print(f"femkron bench on {os.cpu_count()} CPUs, BLAS threads: {_threads_env() or 'default'}")
    head = f"{'kind':8} {'dim':>3} {'p':>2} {'dofs':>9} {'method':7} {'median s':>10} "
    head += f"{'best s':>9} "
    head += f"{'max diff':>9}  note"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["kind"] == "scale":
            continue
        extra = r.get("note", "")
        if r.get("residual") is not None:
            extra = f"residual {r['residual']:.1e}, {r['iterations']} it; " + extra
        print(
            f"{r['kind']:8} {r['dim']:>3} {r['order']:>2} {r['dofs']:>9} {r['method']:7} "
            f"{_fmt(r['seconds']):>10} {_fmt(r.get('best')):>9} {_fmt(r['max_diff'], 2):>9}  "
            f"{extra}"
        )
    for r in rows:
        if r["kind"] == "scale":
            cpu = r.get("cpu", {})
            st = ", ".join(
                f"{k} {v:.2f} s"
                + (f" ({cpu[k]['user']:.2f} user, {cpu[k]['system']:.2f} sys)" if k in cpu else "")
                for k, v in r["steps"].items()
            )
            user = r.get("cpu_user")
            cpu_all = ""
            if user is not None:
                cpu_all = f", CPU {user:.1f} s user + {r['cpu_system']:.1f} s system"
            arrays = r.get("peak_arrays") or {}
            held = (
                "; full-size arrays held at once per step: "
                + ", ".join(f"{k} {v:.2f}" for k, v in arrays.items())
                if arrays
                else ""
            )
            print(
                f"scale: 3D Q1 {r['dofs']} unknowns in {r['seconds']:.1f} s wall{cpu_all} "
                f"({st}); residual {r['residual']:.1e}, max error {r['max_error']:.2e}, "
                f"peak memory {r['peak_bytes'] / 2**30:.2f} GiB{held}"
            )
    if goals:
        print("targets (ratios in this run; each is judged only at the size it is defined at):")
        for g in goals:
            print(_goal_line(g))


def _size(dofs):
    """``10**6`` → ``"10^6"``; other sizes as ``%g``."""
    exponent = round(float(np.log10(dofs))) if dofs > 0 else 0
    return f"10^{exponent}" if dofs == 10**exponent else f"{dofs:g}"


def _goal_line(g):
    """One target of :func:`~femkron.bench.targets.targets` as a report line.

    A target run away from its size reads "not run at this size", never "MISSED" or "met".
    """
    rel = "≥" if g["larger_is_better"] else "≤"
    size = g.get("size")
    at = f" at ~{_size(size)} dofs" if size else ""
    line = f"  {g['target']:40} {g['value']:9.3g}{g['unit']} (goal {rel} {g['goal']:g}{at}) "
    if g.get("median_value") is not None:
        line += f"[best rounds; medians: {g['median_value']:.3g}{g['unit']}] "
    if not g.get("judged", True):
        return line + f"not run at this size (measured at {g['dofs']} dofs)"
    return line + ("met" if g["met"] else "MISSED")


def write_json(path, rows, goals, what="--json"):
    """Write the machine description, ``rows`` and ``goals`` (targets) as JSON to ``path``."""
    from .._files import atomic_path

    with atomic_path(path, what) as tmp, open(tmp, "w") as fh:
        json.dump({"machine": _machine(), "rows": rows, "targets": goals}, fh, indent=1)
    return path


def plot_rows(rows, path):
    """Plot log–log time against dofs into the PNG file ``path``; returns ``path``.

    One panel per (assembly | solve | kappa, dimension), one line per method (and order).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .._files import atomic_path
    from ..plot import plot_benchmark

    titles = {
        "assembly": "{d}D Laplacian: assembly and one product",
        "solve": "{d}D Poisson solve, residual 1e-10",
        "kappa": "{d}D variable κ (contrast 10), residual 1e-8",
    }
    panels = sorted(
        {(r["kind"], r["dim"]) for r in rows if r["kind"] in titles and r.get("seconds")},
        key=lambda kd: (kd[1], kd[0]),
    )
    if not panels:
        raise FemkronValueError("no timings to plot")
    # one panel per row and column pair, each wide enough for its legend outside the data
    ncol = 2 if len(panels) > 1 else 1
    nrow = (len(panels) + ncol - 1) // ncol
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(7.6 * ncol, 4.6 * nrow), squeeze=False, layout="constrained"
    )
    for ax, (kind, dim) in zip(axes.ravel(), panels):
        orders = {r["order"] for r in rows if r["kind"] == kind and r["dim"] == dim}
        sel = [
            {
                "method": r["method"]
                + (f" Q{r['order']}" if len(orders) > 1 or kind == "kappa" else ""),
                "dofs": r["dofs"],
                "seconds": r["seconds"],
            }
            for r in rows
            if r["kind"] == kind and r["dim"] == dim and r.get("seconds")
        ]
        plot_benchmark(sel, ax=ax, title=titles[kind].format(d=dim))  # legend outside
    for ax in axes.ravel()[len(panels) :]:
        ax.set_axis_off()
    fig.suptitle("femkron bench: median wall time against degrees of freedom")
    with atomic_path(path, "--plot") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
