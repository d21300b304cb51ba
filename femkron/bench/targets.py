"""The benchmark targets: measured ratios against their goals.

:func:`targets` reads the rows of a run (assembly, solve, kappa and scale) and reports each
target of the ratio table ``_RATIO_TARGETS``, the variable-coefficient speed-up and
iteration spread, and the scale run's time and memory, at the size closest to its own.

Every target is defined at a size: the ratios and the variable-coefficient targets at
:data:`TARGET_DOFS` (10^6 dofs), the scale run at :data:`SCALE_DOFS` (10^8 unknowns).  A target
is judged (``met`` True or False) only when the run measured it within a factor
:data:`SIZE_FACTOR` of that size; otherwise ``judged`` is False, ``met`` is None and the report
says "not run at this size" — a ratio measured at 10^4 dofs says nothing about the goal.
"""

from __future__ import annotations

import numpy as np

__all__ = ["targets", "TARGET_DOFS", "SCALE_DOFS", "SIZE_FACTOR"]

#: The size (dofs) at which the ratio and variable-coefficient targets are defined.
TARGET_DOFS = 10**6
#: The size (unknowns) at which the scale run's time and memory targets are defined.
SCALE_DOFS = 10**8
#: A target is judged when the run's size is within this factor of the target's size.
SIZE_FACTOR = 2.0


def _at_size(dofs, size):
    """Whether ``dofs`` is within :data:`SIZE_FACTOR` of the target size ``size``."""
    return bool(dofs) and bool(abs(np.log(dofs / size)) <= np.log(SIZE_FACTOR))


def _goal(name, dofs, value, goal, larger, unit, size):
    """One target row; ``met`` is None when ``dofs`` is not at the target's ``size``."""
    judged = _at_size(dofs, size)
    met = (value >= goal if larger else value <= goal) if judged else None
    return {
        "target": name,
        "dofs": dofs,
        "value": value,
        "goal": goal,
        "larger_is_better": larger,
        "size": size,
        "judged": judged,
        "met": None if met is None else bool(met),
        "unit": unit,
    }


def _best(row):
    """The fastest round of a row: ``best``, else the least of ``times``, else ``seconds``."""
    if row.get("best"):
        return row["best"]
    times = [t for t in row.get("times") or [] if t]
    return min(times) if times else row["seconds"]


def _pick(rows, kind, dim, order, method, near=10**6):
    cands = [
        r
        for r in rows
        if r["kind"] == kind
        and r["dim"] == dim
        and r["order"] == order
        and r["method"] == method
        and r.get("seconds")
    ]
    if not cands:
        return None
    return min(cands, key=lambda r: abs(np.log(r["dofs"] / near)))


#: (name, kind, dim, order, numerator method, denominator method, goal, larger is better)
_RATIO_TARGETS = (
    ("3D Q1 tocsr / one copy of its arrays", "assembly", 3, 1, "tocsr", "copy", 5.0, False),
    ("3D Q1 scipy kron-sum / tocsr", "assembly", 3, 1, "kron", "tocsr", 5.0, True),
    ("2D Q1 scikit-fem / tocsr", "assembly", 2, 1, "skfem", "tocsr", 100.0, True),
    ("3D Q1 CSR SpMV / matrix-free apply", "assembly", 3, 1, "spmv", "apply", 1.0, True),
    ("3D Q3 CSR SpMV / matrix-free apply", "assembly", 3, 3, "spmv", "apply", 5.0, True),
    ("2D Q1 pyamg SA-CG / fdm", "solve", 2, 1, "amg", "fdm", 20.0, True),
    ("3D Q1 pyamg SA-CG / fdm", "solve", 3, 1, "amg", "fdm", 30.0, True),
    ("2D Q1 L-shape: pyamg SA-CG / union solve", "union", 2, 1, "amg", "schur", 10.0, True),
)


def targets(rows):
    """The targets measured in ``rows``, each against its goal at its size.

    Parameters
    ----------
    rows : list of dict
        The rows of a ``femkron bench`` run (``kind``, ``dim``, ``order``, ``method``,
        ``dofs``, ``seconds``, ...).

    Returns
    -------
    list of dict
        One row per target that the run measured: ``target`` (its name), ``dofs`` (where it
        was measured), ``value``, ``goal``, ``larger_is_better``, ``unit``, ``size`` (the size
        the target is defined at), ``judged`` (``dofs`` within :data:`SIZE_FACTOR` of
        ``size``) and ``met`` (True/False when judged, else None).  Each is taken at the
        measured size closest to its own.

    Examples
    --------
    >>> row = dict(kind="solve", dim=2, order=1, dofs=10**4)
    >>> rows = [dict(row, method="amg", seconds=2.0), dict(row, method="fdm", seconds=0.1)]
    >>> goal = targets(rows)[0]
    >>> goal["target"], round(goal["value"]), goal["judged"], goal["met"]
    ('2D Q1 pyamg SA-CG / fdm', 20, False, None)
    """
    out = []

    def ratio(name, num, den, goal, larger=True, unit="×"):
        if num is None or den is None or num["dofs"] != den["dofs"]:
            return
        # the best of the interleaved rounds of each (noise only ever slows a run down);
        # the ratio of the medians beside it
        value = _best(num) / _best(den)
        row = _goal(name, den["dofs"], value, goal, larger, unit, TARGET_DOFS)
        row["median_value"] = num["seconds"] / den["seconds"]
        out.append(row)

    for name, kind, dim, order, num, den, goal, larger in _RATIO_TARGETS:
        ratio(
            name,
            _pick(rows, kind, dim, order, num),
            _pick(rows, kind, dim, order, den),
            goal,
            larger=larger,
        )
    for d, p in sorted({(r["dim"], r["order"]) for r in rows if r["kind"] == "kappa"}):
        ratio(
            f"{d}D Q{p} variable κ: pyamg SA-CG / femkron",
            _pick(rows, "kappa", d, p, "amg"),
            _pick(rows, "kappa", d, p, "femkron"),
            5.0,
        )
        r = _pick(rows, "kappa", d, p, "femkron")
        if r is not None and r.get("iterations_by_cells"):
            its = [i for _, i in r["iterations_by_cells"]]
            spread = float(max(its) - min(its))
            name = f"{d}D Q{p} variable κ: femkron iteration spread"
            out.append(_goal(name, r["dofs"], spread, 2.0, False, " it", TARGET_DOFS))
    for r in rows:
        if r["kind"] == "scale":
            at = {"dofs": r["dofs"], "larger": False, "size": SCALE_DOFS}
            gib = r["peak_bytes"] / 2**30
            user = r.get("cpu_user", r["seconds"])  # rows of older runs: wall time only
            name = "3D Q1 scale run: CPU user s"
            out.append(_goal(name, value=user, goal=10.0, unit="s", **at))
            out.append(_goal("3D Q1 scale run: peak GiB", value=gib, goal=4.0, unit="GiB", **at))
    return out
