"""Curvilinear domains on the command line and in problem files.

``femkron solve --domain disk|annulus|cylinder|shell`` solves a built-in Poisson (or
Helmholtz) problem whose exact solution is written in Cartesian form (:data:`BUILTIN`); the
load and the partial derivatives in the space's own coordinates are computed symbolically
(sympy) after substituting ``x = r cos θ``, ... .  Problem files name the domain kinds
``disk``, ``annulus``, ``sector``, ``cylinder`` and ``spherical_shell``
(:func:`read_curvilinear_domain`); their expressions use the space's own coordinates
(``r, theta`` on a disk, ``r, theta, z`` on a cylinder, ``r, theta, phi`` on a shell) and
their faces are named by coordinate (``inner``/``outer``, ``start``/``end``,
``bottom``/``top``).

Examples
--------
>>> V = builtin_space("disk", None, order=2, nodes="gll")
>>> V.coordinates.name, V.shape
('polar', (33, 129))
>>> exact, source, grad = cartesian_manufactured(V, BUILTIN["disk"]["u"])
>>> round(float(exact(0.0, 0.3)), 12)                  # u = (1 - x² - y²) e^x at the centre
1.0
>>> round(float(source(0.0, 0.0)), 12)                 # -Δu = 4 - 1 at the centre
3.0
"""

from __future__ import annotations

import numpy as np

from ..errors import FemkronError

__all__ = [
    "BUILTIN",
    "CLI_DOMAINS",
    "CURVILINEAR_EQUATIONS",
    "builtin_space",
    "cartesian_kappa",
    "cartesian_manufactured",
    "check_curvilinear_equation",
    "cmd_solve_domain",
    "coordinate_hint",
    "describe_domain",
    "read_curvilinear_domain",
    "unknown_face",
]

#: ``--domain`` choices of ``femkron solve`` (``box``: the unit box, the default).
CLI_DOMAINS = ("box", "disk", "annulus", "cylinder", "shell")

#: The built-in curvilinear problems: the domain, the exact solution in Cartesian form
#: (zero on every face, so the conditions are homogeneous Dirichlet) and the default cells
#: as multiples of ``--cells n`` per axis.
BUILTIN = {
    "disk": dict(
        text="the unit disk",
        u="(1 - x**2 - y**2)*exp(x)",
        cells=(1, 4),
        default=16,
    ),
    "annulus": dict(
        text="the annulus 0.5 < r < 1",
        u="(x**2 + y**2 - 0.25)*(1 - x**2 - y**2)*exp(x)",
        cells=(1, 8),
        default=8,
    ),
    "cylinder": dict(
        text="the cylinder r < 1, 0 < z < 1",
        u="(1 - x**2 - y**2)*sin(pi*z)*exp(x)",
        cells=(1, 4, 1),
        default=6,
    ),
    "shell": dict(
        text="the spherical shell 0.5 < r < 1",
        u="(x**2 + y**2 + z**2 - 0.25)*(1 - x**2 - y**2 - z**2)*exp(x)",
        cells=(1, 2, 4),
        default=4,
    ),
}

#: Equations of problem files available on curvilinear domains.
CURVILINEAR_EQUATIONS = ("poisson", "helmholtz", "heat", "eigen")

#: Keys of the curvilinear domain kinds of problem files: (required, optional).
_KEYS = {
    "disk": (("radius",), ()),
    "annulus": (("inner", "outer"), ()),
    "sector": (("inner", "outer", "angle"), ()),
    "cylinder": (("radius", "height"), ("inner",)),
    "spherical_shell": (("inner", "outer"), ()),
}
_CARTESIAN = {
    "polar": "x = r*cos(theta), y = r*sin(theta)",
    "cylindrical": "x = r*cos(theta), y = r*sin(theta)",
    "spherical": "x = r*sin(theta)*cos(phi), y = r*sin(theta)*sin(phi), z = r*cos(theta)",
}


def builtin_space(domain, cells, order, nodes):
    """The space of ``femkron solve --domain DOMAIN``.

    ``cells`` is ``None`` (the default), a list of one count ``n`` (scaled per axis by
    ``BUILTIN[domain]["cells"]``) or one count per axis.
    """
    from ..fem.tensor import TensorSpace

    spec = BUILTIN[domain]
    if cells is None:
        cells = [spec["default"]]
    if len(cells) == 1:
        cells = [cells[0] * m for m in spec["cells"]]
    cells = tuple(cells)
    if domain == "disk":
        return TensorSpace.disk(radius=1.0, cells=cells, order=order, nodes=nodes)
    if domain == "annulus":
        return TensorSpace.annulus(0.5, 1.0, cells=cells, order=order, nodes=nodes)
    if domain == "cylinder":
        return TensorSpace.cylinder(radius=1.0, height=1.0, cells=cells, order=order, nodes=nodes)
    return TensorSpace.spherical_shell(0.5, 1.0, cells=cells, order=order, nodes=nodes)


def _to_cartesian(name, q):
    import sympy

    if name == "polar":
        r, t = q
        return {"x": r * sympy.cos(t), "y": r * sympy.sin(t)}
    if name == "cylindrical":
        r, t, z = q
        return {"x": r * sympy.cos(t), "y": r * sympy.sin(t), "z": z}
    r, t, p = q
    return {
        "x": r * sympy.sin(t) * sympy.cos(p),
        "y": r * sympy.sin(t) * sympy.sin(p),
        "z": r * sympy.cos(t),
    }


def cartesian_manufactured(V, u_text, kappa=1.0, shift=0.0):
    """The exact solution ``u`` (text in Cartesian x, y[, z]) in the coordinates of ``V``.

    Returns ``(exact, source, grad)``: callables (expressions) of the space's own coordinates;
    ``source`` is ``-∇·(κ∇u) + shift·u`` (computed in Cartesian coordinates, then substituted,
    so no ``1/r`` appears at a pole) and ``grad`` the partial derivatives ``∂u/∂q_i``.
    ``kappa`` is a number or the text of an expression in the same Cartesian names as ``u``
    (:func:`cartesian_kappa` gives it in the space's coordinates).
    """
    import sympy

    from ..fem.expressions import Expression, _symbols, parse_expression

    c = V.coordinates
    cart = _cartesian_names(V)
    u = parse_expression(u_text, cart, where="exact u").sympy
    xs = _symbols(cart)
    if isinstance(kappa, str):  # -∇·(κ∇u) with the product rule, in Cartesian coordinates
        k = parse_expression(kappa, cart, where="--kappa").sympy
        f = -sum(sympy.diff(k * sympy.diff(u, xs[n]), xs[n]) for n in cart) + float(shift) * u
    else:
        lap = sum(sympy.diff(u, xs[n], 2) for n in cart)
        f = -float(kappa) * lap + float(shift) * u
    sub = _substitution(V)
    uq, fq = u.subs(sub), f.subs(sub)
    exact = Expression(uq, c.axes, u_text, "exact u")
    source = Expression(fq, c.axes, f"-∇·(κ∇({u_text}))", "f")
    qs = _symbols(c.axes)
    grad = tuple(exact.derived(sympy.diff(uq, qs[a]), where=f"∂u/∂{a}") for a in c.axes)
    return exact, source, grad


def cartesian_kappa(V, text):
    """The coefficient ``text`` (in Cartesian x, y[, z]) as a callable of ``V``'s coordinates.

    A constant expression gives its float value.

    Examples
    --------
    >>> import femkron as fk
    >>> D = fk.TensorSpace.disk(radius=1.0, cells=(2, 4))
    >>> k = cartesian_kappa(D, "1 + x**2 + y**2")              # 1 + r² in polar coordinates
    >>> k.variables, float(k(0.5, 1.0))
    (('r', 'theta'), 1.25)
    >>> cartesian_kappa(D, "2*pi")
    6.283185307179586
    """
    from ..fem.expressions import Expression, parse_expression

    k = parse_expression(text, _cartesian_names(V), where="--kappa")
    if k.is_constant:
        return k.value
    return Expression(k.sympy.subs(_substitution(V)), V.coordinates.axes, text, "--kappa")


def _cartesian_names(V):
    return ("x", "y", "z")[: 2 if V.coordinates.name == "polar" else 3]


def _substitution(V):
    """``{x: r cos θ, ...}``: the Cartesian symbols in the space's own coordinates."""
    from ..fem.expressions import _symbols

    c = V.coordinates
    xs, qs = _symbols(_cartesian_names(V)), _symbols(c.axes)
    return {xs[n]: v for n, v in _to_cartesian(c.name, [qs[a] for a in c.axes]).items()}


def describe_domain(V, domain=None):
    """One line: the domain, its coordinate system and the coordinate box.

    Examples
    --------
    >>> import femkron as fk
    >>> describe_domain(fk.TensorSpace.annulus(0.5, 1.0, cells=(2, 4)), "annulus")
    'annulus, polar coordinates r ∈ [0.5, 1], theta ∈ [0, 2π]'
    """
    c = V.coordinates
    parts = []
    for name, (a, b) in zip(c.axes, V.bounds):
        parts.append(f"{name} ∈ [{_angle(a)}, {_angle(b)}]")
    head = f"{domain}, " if domain else ""
    return f"{head}{c.name} coordinates {', '.join(parts)}"


def _angle(value):
    for k, text in ((2.0, "2π"), (1.0, "π"), (0.5, "π/2")):
        if value != 0 and abs(value - k * np.pi) <= 1e-12 * np.pi:
            return text
    return f"{value:g}"


def coordinate_hint(V):
    """A hint for expressions that use Cartesian names on a curvilinear space (or ``""``)."""
    c = V.coordinates
    if not c.curvilinear or c.name not in _CARTESIAN:
        return ""
    return (
        f"; in {c.name} coordinates the expressions use {', '.join(c.axes)} ({_CARTESIAN[c.name]})"
    )


def unknown_face(V, key):
    """The message for a face ``key`` that a curvilinear space does not have."""
    return (
        f"unknown face {key!r} for this {V.coordinates.name} domain (faces: "
        f"{', '.join(V.faces) or 'none'}; faces are named by coordinate: inner/outer (r), "
        "start/end (theta of a sector), bottom/top (z); full turns are periodic by "
        "themselves and a centre or pole takes no condition)"
    )


def _number(r, table, key, positive=False, nonnegative=False):
    """A number, or a constant expression such as ``"pi/2"``."""
    value = table[key]
    if isinstance(value, str):
        value = r.expression(value, ("domain", key), ()).value
        table = {key: value}
    return r.number(table, ("domain",), key, positive=positive, nonnegative=nonnegative)


def _angle_pair(r, table):
    value = table["angle"]
    if not isinstance(value, list) or len(value) != 2:
        r.fail(
            ("domain", "angle"),
            f"angle must be a pair [start, end] in radians (numbers or expressions such as "
            f"'pi/2'), got {value!r}",
        )
    out = []
    for v in value:
        if isinstance(v, str):
            v = r.expression(v, ("domain", "angle"), ()).value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            r.fail(("domain", "angle"), f"angle must hold two finite numbers, got {value!r}")
        out.append(float(v))
    return tuple(out)


def read_curvilinear_domain(r, table, disc, where, kind, order_nodes, max_cells):
    """The space of a curvilinear ``[domain]`` table of a problem file.

    ``r`` is the problem-file reader (its ``fail`` names file, key and line),
    ``order_nodes(disc, where, dim)`` reads the order and nodes.  Returns ``(V, description)``.
    """
    from ..fem.tensor import TensorSpace

    required, optional = _KEYS[kind]
    accepted = ("kind",) + required + optional + ("cells", "order", "nodes")
    r.keys(table, ("domain",), accepted, f"for kind {kind!r}")
    for key in required:
        if key not in table:
            r.fail(("domain",), f"kind {kind!r} needs {', '.join(required)}; missing {key!r}")
    values = {}
    for key in required + optional:
        if key in table and key != "angle":
            values[key] = _number(
                r,
                table,
                key,
                positive=key in ("radius", "height", "outer"),
                nonnegative=key == "inner",
            )
    dim = 2 if kind in ("disk", "annulus", "sector") else 3
    if "cells" not in disc:
        r.fail(where, f"missing key 'cells' (one count, or {dim}: one per axis)")
    cells = tuple(r.integers(disc["cells"], where, "cells", dim, 1, max_cells))
    order, nodes = order_nodes(disc, where, dim)
    order = tuple(order)
    try:
        if kind == "disk":
            V = TensorSpace.disk(values["radius"], cells=cells, order=order, nodes=nodes)
            text = f"disk of radius {values['radius']:g}"
        elif kind == "annulus":
            V = TensorSpace.annulus(
                values["inner"], values["outer"], cells=cells, order=order, nodes=nodes
            )
            text = f"annulus {values['inner']:g} < r < {values['outer']:g}"
        elif kind == "sector":
            angle = _angle_pair(r, table)
            V = TensorSpace.sector(
                values["inner"], values["outer"], angle, cells=cells, order=order, nodes=nodes
            )
            text = f"sector {values['inner']:g} < r < {values['outer']:g}"
        elif kind == "cylinder":
            V = TensorSpace.cylinder(
                values["radius"],
                values["height"],
                cells=cells,
                order=order,
                nodes=nodes,
                inner=values.get("inner", 0.0),
            )
            text = f"cylinder of radius {values['radius']:g} and height {values['height']:g}"
            if values.get("inner", 0.0) > 0:
                text = f"pipe wall {values['inner']:g} < r < {values['radius']:g}, height " + (
                    f"{values['height']:g}"
                )
        else:
            V = TensorSpace.spherical_shell(
                values["inner"], values["outer"], cells=cells, order=order, nodes=nodes
            )
            text = f"spherical shell {values['inner']:g} < r < {values['outer']:g}"
    except FemkronError as err:
        r.fail(("domain",), str(err))
    return V, text


def check_curvilinear_equation(r, V, equation, values):
    """Refuse the equations the curvilinear spaces do not offer, naming the key and its line.

    Their data ``values`` may be numbers or expressions: a variable ``kappa`` or ``sigma``
    takes the element-by-element path with the metric (:mod:`femkron.fem.curvilinear_general`).
    """
    c = V.coordinates
    if equation not in CURVILINEAR_EQUATIONS:
        r.fail(
            ("equation", "kind"),
            f"the equation {equation!r} is not available in {c.name} coordinates (available "
            f"there: {', '.join(CURVILINEAR_EQUATIONS)})",
        )


def cmd_solve_domain(args):
    """``femkron solve [poisson|helmholtz] --domain disk|annulus|cylinder|shell``.

    Prints the report (dofs, solver, time, L2 and H1 errors against the exact solution),
    writes the outputs asked for and returns the exit status.
    """
    import time

    from .._version import __version__
    from ..problems import helmholtz, poisson
    from .arguments import UsageError as usage_error
    from .arguments import _cells, _check_args, _check_wavenumber, _solution_outputs
    from .output import describe_space, say

    domain = args.domain
    if args.problem == "heat":
        raise usage_error(
            f"femkron: error: --domain {domain}: the built-in problems there are poisson and "
            "helmholtz; write a problem file for heat (docs/guide/problem-files.md)"
        )
    if args.mesh is not None:
        raise usage_error(f"femkron: error: --domain {domain} takes no --mesh")
    if args.dim is not None:
        raise usage_error(f"femkron: error: --domain {domain} sets the dimension; leave out --dim")
    if args.t_end is not None or args.dt is not None:
        raise usage_error("femkron: error: --t-end and --dt are options of `solve heat`")
    _check_args(args)
    _check_wavenumber(args, "solve")
    spec = BUILTIN[domain]
    dim = len(spec["cells"])
    cells = None if args.cells is None else _cells(args.cells, dim)
    V = builtin_space(domain, cells, args.order, args.nodes)
    kappa = _domain_kappa(V, args.kappa, domain, usage_error)
    k = 0.0
    if args.problem == "helmholtz":
        k = 5.0 if args.wavenumber is None else args.wavenumber
    text = args.kappa if isinstance(args.kappa, str) else kappa
    exact, source, grad = cartesian_manufactured(V, spec["u"], kappa=text, shift=-k * k)
    t0 = time.perf_counter()
    if args.problem == "helmholtz":
        sol = helmholtz(V, source, wavenumber=k, kappa=kappa, method=args.method)
        what = f"Helmholtz -κΔu - k²u = f (k = {k:g})"
    else:
        sol = poisson(V, source, kappa=kappa, method=args.method)
        what = "Poisson -κΔu = f"
    if isinstance(args.kappa, str):
        what = what.replace("κΔu", "∇·(κ∇u)") + f", κ = {' '.join(args.kappa.split())}"
    seconds = time.perf_counter() - t0
    l2 = sol.error(exact, "L2")
    h1 = sol.error(exact, "H1", grad=grad)
    u = spec["u"].replace("**", "^").replace("*", " ")
    say(f"femkron {__version__}: {what} on {spec['text']}, u = {u}, homogeneous Dirichlet")
    say(f"  domain  : {describe_domain(V, domain)}")
    say(f"  space   : {describe_space(V)}")
    say(f"  dofs    : {V.ndofs} ({' × '.join(map(str, V.shape))})")
    say(
        f"  method  : {sol.info.method}  ({sol.info.iterations} iterations, "
        f"relative residual {sol.info.residual:.1e})"
    )
    say(f"  time    : {seconds:.3f} s (assembly + solve)")
    say(f"  L2 error: {l2:.3e}")
    say(f"  H1 error: {h1:.3e}  (seminorm)")
    record = dict(
        femkron=__version__,
        problem=args.problem,
        domain=domain,
        coordinates=V.coordinates.name,
        exact=spec["u"],
        dim=V.dim,
        bounds=[list(b) for b in V.bounds],
        cells=list(V.mesh.shape),
        order=list(V.orders),
        nodes=V.spaces[0].nodes,
        shape=list(V.shape),
        dofs=V.ndofs,
        kappa=args.kappa if isinstance(args.kappa, str) else kappa,
        method=sol.info.method,
        iterations=sol.info.iterations,
        residual=float(sol.info.residual),
        seconds=seconds,
        errors={"L2": l2, "H1": h1},
    )
    if args.problem == "helmholtz":
        record["wavenumber"] = k
    return _solution_outputs(args, V, sol.values, exact, record, sol.plot)


def _domain_kappa(V, value, domain, usage_error):
    """``--kappa`` with ``--domain``: a number, or an expression in x, y[, z] (as the exact u).

    An expression becomes a callable of the space's own coordinates; it must be > 0 at the
    nodes (the solver checks every quadrature point too).
    """
    from ..fem.expressions import ExpressionError

    if not isinstance(value, str):
        return float(value)
    try:
        kappa = cartesian_kappa(V, value)
        low = kappa if isinstance(kappa, float) else float(np.min(V.interpolate(kappa)))
    except ExpressionError as err:
        names = ", ".join(_cartesian_names(V))
        hint = ""
        if err.reason == "unknown-name":
            hint = f" (with --domain {domain} κ is written in {names}, as the exact solution)"
        raise usage_error(f"femkron: error: {err}{hint}") from None
    if not low > 0:
        raise usage_error(f"femkron: error: --kappa {value!r} must be > 0 on the {domain}")
    return kappa
