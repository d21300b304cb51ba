"""Write docs/api.md from the docstrings of the public names (``femkron.__all__``).

Run from the repository root:  python docs/gen_api.py
"""

from __future__ import annotations

import inspect
import pathlib
import sys

import femkron as fk

GROUPS = [
    (
        "kron: Kronecker algebra",
        ("femkron.kron.operator", "femkron.kron.structure", "femkron.kron.diagonalize"),
    ),
    (
        "fem: meshes, elements, spaces and operators",
        (
            "femkron.fem.mesh",
            "femkron.fem.elements",
            "femkron.fem.space",
            "femkron.fem.quadrature",
            "femkron.fem.tensor",
            "femkron.fem.coefficients",
            "femkron.fem.assembly",
            "femkron.fem.matfree",
            "femkron.fem.separable_fit",
            "femkron.fem.bc",
            "femkron.fem.norms",
        ),
    ),
    (
        "linalg: solvers",
        ("femkron.linalg.solve", "femkron.linalg.info", "femkron.linalg.krylov"),
    ),
    (
        "problems",
        (
            "femkron.problems.stationary",
            "femkron.problems.advection",
            "femkron.problems.eigen",
            "femkron.problems.timestepping",
            "femkron.problems.linear_system",
            "femkron.problems.solution",
        ),
    ),
    ("Errors and limits", ("femkron.errors", "femkron._limits")),
    ("io and plot", ("femkron.io", "femkron.plot")),
]


def summary(obj):
    doc = inspect.getdoc(obj) or ""
    para = []
    for line in doc.splitlines():
        if not line.strip():
            if para:
                break
            continue
        para.append(line.strip())
    return " ".join(para) or "(no docstring)"


def signature(name, obj):
    if inspect.ismodule(obj):
        return f"femkron.{name}"
    try:
        return f"fk.{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return f"fk.{name}"


def module_of(obj):
    return obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", "femkron")


def render():
    names = [n for n in fk.__all__ if not n.startswith("__")]
    out = [
        "# API reference",
        "",
        "Every public name of `femkron` (`import femkron as fk`), generated from the docstrings",
        "by `python docs/gen_api.py`. The docstrings hold the full parameter lists and examples",
        "(`help(fk.poisson)`); every example in them is run by the test suite.",
        "",
    ]
    placed = set()
    groups = list(GROUPS) + [("Other", None)]
    for title, modules in groups:
        members = [
            n
            for n in names
            if n not in placed and (modules is None or module_of(getattr(fk, n)) in modules)
        ]
        if not members:
            continue
        out += [f"## {title}", ""]
        for n in sorted(members, key=str.lower):
            obj = getattr(fk, n)
            kind = (
                "module"
                if inspect.ismodule(obj)
                else "class"
                if inspect.isclass(obj)
                else ("function")
            )
            out += [
                f"### `{n}` ({kind})",
                "",
                "```text",
                signature(n, obj),
                "```",
                "",
                summary(obj),
                "",
            ]
            placed.add(n)
    plot_fns = [f for f in fk.plot.__all__]
    out += ["## Functions of `femkron.plot`", ""]
    for n in plot_fns:
        out += [f"* `fk.plot.{n}` — {summary(getattr(fk.plot, n))}"]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    target = pathlib.Path(__file__).resolve().parent / "api.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target.name} ({len(fk.__all__)} names)", file=sys.stderr)
