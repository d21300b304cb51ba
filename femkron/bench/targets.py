"""The benchmark targets: measured ratios against their goals.

:func:`targets` reads the rows of a run (assembly, solve, kappa and scale) and reports each
target of the ratio table ``_RATIO_TARGETS``, the variable-coefficient speed-up and
iteration spread, and the scale run's time and memory, at the size closest to 10^6 dofs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["targets"]


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
)


def targets(rows):
    """The issue's targets as ``(name, measured, goal, met)`` rows.

    Taken from what was measured, at the size closest to 10^6 dofs.
    """
    out = []

    def ratio(name, num, den, goal, larger=True, unit="×"):
        if num is None or den is None or num["dofs"] != den["dofs"]:
            return
        value = num["seconds"] / den["seconds"]
        met = value >= goal if larger else value <= goal
        out.append(
            {
                "target": name,
                "dofs": den["dofs"],
                "value": value,
                "goal": goal,
                "larger_is_better": larger,
                "met": bool(met),
                "unit": unit,
            }
        )

    for name, kind, dim, order, num, den, goal, larger in _RATIO_TARGETS:
        ratio(
            name,
            _pick(rows, kind, dim, order, num),
            _pick(rows, kind, dim, order, den),
            goal,
            larger=larger,
        )
    for p in sorted({r["order"] for r in rows if r["kind"] == "kappa"}):
        ratio(
            f"2D Q{p} variable κ: pyamg SA-CG / fdm-CG",
            _pick(rows, "kappa", 2, p, "amg"),
            _pick(rows, "kappa", 2, p, "fdm-cg"),
            5.0,
        )
        r = _pick(rows, "kappa", 2, p, "fdm-cg")
        if r is not None and r.get("iterations_by_cells"):
            its = [i for _, i in r["iterations_by_cells"]]
            out.append(
                {
                    "target": f"2D Q{p} variable κ: fdm-CG iteration spread",
                    "dofs": r["dofs"],
                    "value": float(max(its) - min(its)),
                    "goal": 2.0,
                    "larger_is_better": False,
                    "met": max(its) - min(its) <= 2,
                    "unit": " it",
                }
            )
    for r in rows:
        if r["kind"] == "scale":
            out.append(
                {
                    "target": "3D Q1 scale run: seconds",
                    "dofs": r["dofs"],
                    "value": r["seconds"],
                    "goal": 60.0,
                    "larger_is_better": False,
                    "met": r["seconds"] <= 60.0,
                    "unit": "s",
                }
            )
            out.append(
                {
                    "target": "3D Q1 scale run: peak GiB",
                    "dofs": r["dofs"],
                    "value": r["peak_bytes"] / 2**30,
                    "goal": 8.0,
                    "larger_is_better": False,
                    "met": r["peak_bytes"] <= 8 * 2**30,
                    "unit": "GiB",
                }
            )
    return out
