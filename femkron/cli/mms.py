"""``femkron mms``: the method of manufactured solutions as a convergence study.

From an exact solution ``u`` (a safe expression) and the coefficients κ, σ, the load ``f`` and
the data of the Neumann and Robin faces are computed symbolically (:func:`femkron.manufactured`);
the problem ``-∇·(κ∇u) + σu = f`` is solved on a sequence of meshes for each order and the L2
and H1 errors are printed with their rates, against the expected ``p + 1`` and ``p``.
"""

from __future__ import annotations

import re
import time

import numpy as np

from .._version import __version__
from .output import check_outputs, save_figure, say, write_json

__all__ = ["cmd_mms", "parse_bc", "parse_domain"]

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*")


def parse_domain(text, usage_error):
    """``"[0,1]x[0,2]"`` → ``[(0.0, 1.0), (0.0, 2.0)]`` (1 to 3 pairs, ``x`` or ``×``)."""
    parts = re.split(r"[x×]", text)
    pairs = [_PAIR.fullmatch(p) for p in parts]
    if not text.strip() or len(parts) > 3 or not all(pairs):
        raise usage_error(
            f"femkron: error: --domain must be a box like [0,1]x[0,2] (1 to 3 intervals), "
            f"got {text!r}"
        )
    bounds = [(float(m.group(1)), float(m.group(2))) for m in pairs]
    for a, b in bounds:
        if not (np.isfinite(a) and np.isfinite(b) and b > a):
            raise usage_error(
                f"femkron: error: --domain needs a < b in each interval, got {text!r}"
            )
    return bounds


def parse_bc(items, dim, usage_error):
    """``["left=neumann", "top=robin:2", "x=periodic"]`` → ``{face: kind}``.

    The kinds are those of :meth:`femkron.fem.manufactured.ManufacturedSolution.bc`.
    """
    from ..fem.bc import FACES

    faces = [n for n, (axis, _) in FACES.items() if axis < dim]
    axes = ["x", "y", "z"][:dim]
    kinds = {}
    for item in items or []:
        face, _, kind = item.partition("=")
        face, kind = face.strip(), kind.strip().lower()
        if face not in faces + axes:
            raise usage_error(
                f"femkron: error: --bc {item!r}: unknown face {face!r}; faces of a {dim}D box: "
                f"{', '.join(faces)} (axes for periodic: {', '.join(axes)})"
            )
        if face in kinds:
            raise usage_error(f"femkron: error: --bc names face {face!r} twice")
        if kind == "periodic":
            if face not in axes:
                raise usage_error(
                    f"femkron: error: --bc {item!r}: periodic is set on an axis ({', '.join(axes)})"
                )
            kinds[face] = "periodic"
        elif face in axes:
            raise usage_error(f"femkron: error: --bc {item!r}: an axis takes only periodic")
        elif kind in ("dirichlet", "neumann"):
            kinds[face] = kind
        elif kind.startswith("robin:"):
            try:
                alpha = float(kind.split(":", 1)[1])
            except ValueError:
                alpha = float("nan")
            if not np.isfinite(alpha):
                raise usage_error(
                    f"femkron: error: --bc {item!r}: robin needs a finite alpha, e.g. top=robin:2"
                )
            kinds[face] = ("robin", alpha)
        else:
            raise usage_error(
                f"femkron: error: --bc {item!r}: the kind must be dirichlet, neumann, "
                "robin:ALPHA or (on an axis) periodic, e.g. --bc left=neumann top=robin:2"
            )
    return kinds


def _cells(text, usage_error):
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        counts = []
    if len(counts) < 2 or any(c < 1 for c in counts):
        raise usage_error(
            f"femkron: error: --cells must be at least two positive counts, e.g. 4,8,16, got "
            f"{text!r}"
        )
    return counts


def _check_periodic(ms, bounds, d, usage_error):
    """Refuse a periodic axis ``d`` on which ``u`` or its normal derivative do not repeat."""
    points = [np.linspace(a, b, 7) for a, b in bounds]
    ends = []
    for side in (0, 1):
        coords = [
            p.reshape([-1 if e == i else 1 for e in range(len(bounds))])
            for i, p in enumerate(points)
        ]
        coords[d] = np.full([1] * len(bounds), bounds[d][side])
        ends.append([np.broadcast_to(g(*coords), [7] * len(bounds)) for g in (ms.u, ms.grad[d])])
    for (lo, hi), what in zip(zip(*ends), ("u", f"∂u/∂{ms.variables[d]}")):
        gap = float(np.max(np.abs(hi - lo)))
        if gap > 1e-8 * max(1.0, float(np.max(np.abs(lo)))):
            raise usage_error(
                f"femkron: error: --bc {ms.variables[d]}=periodic: {what} of the exact solution "
                f"differs by up to {gap:.3g} between the two ends of the axis"
            )


def _value(ex):
    """A constant expression as its number (the fast path of the solvers), else the callable."""
    return ex.value if ex.is_constant else ex


def _study(args, ms, bounds, bc, counts):
    from ..fem.tensor import TensorSpace
    from ..problems import helmholtz, poisson

    kappa, sigma = _value(ms.kappa), _value(ms.sigma)
    f = _value(ms.f)
    results = []
    for p in args.orders:
        rows = []
        for n in counts:
            V = TensorSpace.box(bounds, cells=n, order=p, nodes=args.nodes)
            t0 = time.perf_counter()
            if not callable(sigma) and sigma < 0:
                sol = helmholtz(
                    V, f, wavenumber=np.sqrt(-sigma), kappa=kappa, bc=bc, method=args.method
                )
            else:
                sol = poisson(V, f, kappa=kappa, sigma=sigma, bc=bc, method=args.method)
            seconds = time.perf_counter() - t0
            h = max(float(m.h.max()) for m in V.mesh.meshes)
            rows.append(
                {
                    "cells": n,
                    "h": h,
                    "dofs": V.ndofs,
                    "L2": sol.error(ms.u, "L2"),
                    "H1": sol.error(ms.u, "H1", grad=ms.grad),
                    "seconds": seconds,
                    "method": sol.info.method,
                }
            )
        results.append((p, rows))
    return results


def _rates(rows, key):
    out = []
    for a, b in zip(rows, rows[1:]):
        if a[key] > 0 and b[key] > 0:
            out.append(float(np.log(a[key] / b[key]) / np.log(a["h"] / b["h"])))
        else:
            out.append(float("nan"))
    return out


def cmd_mms(args, usage_error):
    """``femkron mms``; ``usage_error`` is the class of command-line errors."""
    from ..fem.bc import FACES
    from ..fem.expressions import parse_expression
    from ..fem.manufactured import manufactured

    if any(p < 1 or p > 24 for p in args.orders):
        raise usage_error(f"femkron: error: --orders must be 1 to 24, got {args.orders}")
    counts = _cells(args.cells, usage_error)
    names = ("x", "y", "z")
    bounds = None if args.domain is None else parse_domain(args.domain, usage_error)
    dim = args.dim or (len(bounds) if bounds else None)
    if args.dim and bounds and len(bounds) != args.dim:
        raise usage_error(f"femkron: error: --domain has {len(bounds)} axes but --dim is {dim}")
    check_outputs(args)
    if dim is None:  # the last coordinate the exact solution or the coefficients use
        used = set()
        for opt, text in (
            ("--exact", args.exact),
            ("--kappa", args.kappa),
            ("--sigma", args.sigma),
        ):
            used |= parse_expression(text, names, where=opt).used
        dim = max([names.index(n) + 1 for n in used] + [1])
    variables = names[:dim]
    u = parse_expression(args.exact, variables, where="--exact")
    kappa = parse_expression(args.kappa, variables, where="--kappa")
    sigma = parse_expression(args.sigma, variables, where="--sigma")
    ms = manufactured(u, kappa=kappa, sigma=sigma, dim=dim)
    bounds = bounds or [(0.0, 1.0)] * dim
    kinds = parse_bc(args.bc, dim, usage_error)
    for axis, kind in kinds.items():
        if kind == "periodic":
            _check_periodic(ms, bounds, "xyz".index(axis), usage_error)
    bc = ms.bc(kinds)
    if not any(cond.kind in ("dirichlet", "robin") for cond in bc.values()):
        raise usage_error(
            "femkron: error: --bc: with only Neumann and periodic faces u is fixed up to a "
            "constant; make one face dirichlet or robin:ALPHA"
        )
    box = " × ".join(f"[{a:g}, {b:g}]" for a, b in bounds)
    say(f"femkron {__version__}: manufactured solution u = {u.text} of -∇·(κ∇u) + σu = f on {box}")
    say(f"  κ = {kappa.text}; σ = {sigma.text}")
    f_text = ms.f.text if len(ms.f.text) <= 160 else ms.f.text[:157] + "..."
    say(f"  f = {f_text}")
    described = []
    for face in sorted(bc, key=list(FACES).index if set(bc) <= set(FACES) else str):
        kind = kinds.get(face, "dirichlet")
        described.append(f"{face} {kind if isinstance(kind, str) else f'robin(α={kind[1]:g})'}")
    say(f"  bc: {', '.join(described)}")
    results = _study(args, ms, bounds, bc, counts)
    say(
        f"{'order':>5} {'cells':>6} {'h':>9} {'dofs':>8} {'L2 error':>10} {'rate':>5} "
        f"{'H1 error':>10} {'rate':>5}"
    )
    orders = []
    for p, rows in results:
        r2, r1 = _rates(rows, "L2"), _rates(rows, "H1")
        for i, row in enumerate(rows):
            a = f"{r2[i - 1]:.2f}" if i else ""
            b = f"{r1[i - 1]:.2f}" if i else ""
            say(
                f"{p:>5} {row['cells']:>6} {row['h']:>9.4g} {row['dofs']:>8} "
                f"{row['L2']:>10.3e} {a:>5} {row['H1']:>10.3e} {b:>5}"
            )
        say(
            f"  order {p}: rates L2 {r2[-1]:.2f} (expected {p + 1}), H1 {r1[-1]:.2f} (expected {p})"
        )
        orders.append(
            {
                "order": p,
                "cells": counts,
                "h": [r["h"] for r in rows],
                "dofs": [r["dofs"] for r in rows],
                "L2": [r["L2"] for r in rows],
                "H1": [r["H1"] for r in rows],
                "rate_L2": r2[-1],
                "rate_H1": r1[-1],
                "rates_L2": r2,
                "rates_H1": r1,
                "expected_L2": p + 1,
                "expected_H1": p,
                "method": rows[-1]["method"],
            }
        )
    if args.plot:
        from ..plot import plot_convergence

        h = orders[0]["h"]
        series = {}
        for o in orders:
            series[f"L2, Q{o['order']}"] = o["L2"]
            series[f"H1, Q{o['order']}"] = o["H1"]
        ax = plot_convergence(h, series, title=f"manufactured u = {u.text[:40]}")
        save_figure(ax, args.plot)
    if args.json:
        write_json(
            args.json,
            {
                "femkron": __version__,
                "exact": u.text,
                "kappa": kappa.text,
                "sigma": sigma.text,
                "f": ms.f.text,
                "bounds": [list(b) for b in bounds],
                "bc": {
                    k: (v if isinstance(v, str) else f"robin:{v[1]:g}") for k, v in kinds.items()
                },
                "orders": orders,
            },
        )
    return 0
