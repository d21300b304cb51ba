"""Problem files: a whole problem (domain, equation, boundary conditions, …) in a TOML file.

``femkron solve PROBLEM.toml`` reads one with :func:`read_problem`.  The schema (documented in
``docs/guide/problem-files.md``)::

    [domain]                         # kind = box | disk | annulus | sector | cylinder |
    kind = "box"                     #   spherical_shell | lshape | union; or mesh = FILE
    bounds = [[0.0, 1.0], [0.0, 2.0]]
    cells = [16, 32]                 # or in [discretization], with order and nodes
    [equation]
    kind = "poisson"
    f = "2*pi**2*sin(pi*x)*sin(pi*y)"
    kappa = "1 + x*y"                # numbers or safe expressions (femkron.fem.expressions)
    [bc]                             # faces not named: u = 0
    right = { neumann = "x*y" }
    top = { robin = { alpha = 2.0, g = "1" } }
    # also [time] (heat: t_end, dt, theta, u0), [exact] (u), [output] (plot, json, ...)

Keys per equation: ``poisson`` f, kappa, sigma, method; ``helmholtz`` f, kappa, wavenumber,
method; ``heat`` f, kappa, method (and ``[time]``; f and the boundary data may use ``t``);
``advection_diffusion`` f, velocity,
epsilon, method; ``eigen`` k; ``nonlinear_poisson`` f, kappa and reaction (expressions of
the solution ``u``), method (the Krylov method: auto, cg, gmres); ``reaction_diffusion``
(one species, ``u_t = D Δu + R(u, x, y, t)``) diffusion, reaction, scheme, method (and
``[time]``: t_end, dt, u0).  The curvilinear kinds ``disk`` (radius), ``annulus`` (inner,
outer), ``sector`` (inner, outer, angle), ``cylinder`` (radius, height[, inner]) and
``spherical_shell`` (inner, outer) take expressions in their own coordinates (``r, theta[, z]``
or ``r, theta, phi``) and faces named by coordinate (``inner``/``outer``, ``start``/``end``,
``bottom``/``top``); ``lshape`` and ``union`` are refused as not available yet.  ``[output]
netcdf = "u.nc"`` writes the result as netCDF (:meth:`femkron.Solution.save`).
Every error names the file, the key and its line (the reading of the TOML, key by key, is in
:mod:`femkron.cli.problemreader`).
"""

from __future__ import annotations

import functools
import os
import sys

from .._files import read_text_file
from ..errors import FemkronError
from ..fem.bc import FACES, BoundaryConditions, Dirichlet, Neumann, Periodic, Robin
from ..fem.tensor import TensorSpace
from ..io.meshfile import _REPR, MAX_CELLS
from .curvilinear import (
    check_curvilinear_equation,
    coordinate_hint,
    read_curvilinear_domain,
    unknown_face,
)
from .problemreader import ProblemFileError, _check_nesting, _Reader  # (ProblemFileError: here too)

if sys.version_info >= (3, 11):  # pragma: no cover - depends on the interpreter
    import tomllib as _toml
else:  # pragma: no cover
    import tomli as _toml

__all__ = [
    "DOMAIN_KINDS",
    "EQUATION_KEYS",
    "Problem",
    "ProblemFileError",
    "read_problem",
    "read_problem_text",
]

#: The sections of a problem file.
SECTIONS = ("description", "domain", "discretization", "equation", "bc", "time", "exact", "output")
#: Domain kinds and their keys; only "box" (and ``mesh = FILE``) is available in this version.
DOMAIN_KINDS = {
    "box": ("bounds",),
    "disk": ("radius",),
    "annulus": ("inner", "outer"),
    "sector": ("inner", "outer", "angle"),
    "cylinder": ("radius", "height"),
    "spherical_shell": ("inner", "outer"),
    "lshape": ("size",),
    "union": ("box", "remove"),
}
AVAILABLE_DOMAINS = ("box", "disk", "annulus", "sector", "cylinder", "spherical_shell")
DISCRETIZATION_KEYS = ("cells", "order", "nodes")
#: Keys of ``[equation]`` per kind (besides ``kind``).
EQUATION_KEYS = {
    "poisson": ("f", "kappa", "sigma", "method"),
    "helmholtz": ("f", "kappa", "wavenumber", "method"),
    "heat": ("f", "kappa", "method"),
    "advection_diffusion": ("f", "velocity", "epsilon", "method"),
    "eigen": ("k",),
    "nonlinear_poisson": ("f", "kappa", "reaction", "method"),
    "reaction_diffusion": ("diffusion", "reaction", "scheme", "method"),
}
AVAILABLE_EQUATIONS = (
    "poisson",
    "helmholtz",
    "heat",
    "advection_diffusion",
    "eigen",
    "nonlinear_poisson",
    "reaction_diffusion",
)
#: Equations with a [time] section (their data may use ``t``).
TIME_DEPENDENT = ("heat", "reaction_diffusion")
#: Keys of ``nonlinear_poisson`` that are expressions of the solution ``u`` (not of x, y, z).
_OF_U = ("kappa", "reaction")
_REQUIRED = {
    "poisson": ("f",),
    "helmholtz": ("f", "wavenumber"),
    "advection_diffusion": ("f", "velocity"),
    "reaction_diffusion": ("reaction",),
}
_METHODS = {
    "advection_diffusion": ("auto", "gmres", "bicgstab", "direct"),
    "nonlinear_poisson": ("auto", "cg", "gmres"),  # the Krylov method of the Newton systems
    "default": ("auto", "fdm", "amg", "cg", "direct"),
}
BC_KINDS = ("dirichlet", "neumann", "robin", "periodic")
TIME_KEYS = ("t_end", "dt", "theta", "u0")
OUTPUT_KEYS = ("plot", "plot_error", "vtk", "json", "netcdf")


class Problem:
    """A problem read from a file, checked and ready to solve.

    Attributes
    ----------
    name : str
        The file name (used in messages).
    description : str
    V : TensorSpace
    domain : str
        ``"box"``, ``"mesh FILE"`` or a description of a curvilinear domain
        (``"disk of radius 1"``).
    equation : str
        The kind of equation.
    data : dict
        The equation's data: numbers, or callables (:class:`~femkron.fem.expressions.Expression`)
        of the coordinates; ``method`` among them when given.  For ``nonlinear_poisson``
        ``kappa`` and ``reaction`` are expressions of ``u``, with their derivatives
        ``dkappa`` and ``dreaction`` (by sympy).
    bc : dict
        ``{face or axis: Condition}`` for the solver.
    time : dict
        ``t_end``, ``dt``, ``theta``, ``u0`` (heat; reaction_diffusion without ``theta``),
        else empty.
    exact : Expression or None
        The exact solution (of the coordinates, and ``t`` for heat).
    outputs : dict
        Output paths by kind (``plot``, ``plot_error``, ``vtk``, ``json``, ``netcdf``).
    where : callable
        ``where(*keys)`` → ``"file: key.sub, line n"`` for messages.
    """

    def __init__(
        self, name, description, V, domain, equation, data, bc, time, exact, outputs, where
    ):
        self.name, self.description, self.V, self.domain = name, description, V, domain
        self.equation, self.data, self.bc, self.time = equation, data, bc, time
        self.exact, self.outputs, self.where = exact, outputs, where

    def __repr__(self):
        return f"Problem({self.name!r}, {self.equation}, dofs={self.V.ndofs})"


def read_problem_text(text, name="<string>", folder="."):
    r"""Parse the TOML text of a problem file into a :class:`Problem`.

    ``name`` is used in messages; a ``mesh =`` path is relative to ``folder``.

    Examples
    --------
    >>> text = '''
    ... [domain]
    ... kind = "box"
    ... bounds = [[0, 1], [0, 1]]
    ... cells = 4
    ... [equation]
    ... kind = "poisson"
    ... f = "2*pi**2*sin(pi*x)*sin(pi*y)"
    ... '''
    >>> read_problem_text(text, "p.toml")
    Problem('p.toml', poisson, dofs=81)
    >>> try:
    ...     read_problem_text(text.replace('kind = "box"', 'kind = "lshape"'), "p.toml")
    ... except ProblemFileError as err:
    ...     print(str(err)[:60])
    p.toml: domain.kind, line 3: the domain kind 'lshape' is not
    """
    _check_nesting(name, text)
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as err:
        raise ProblemFileError(f"{name}: not valid TOML: {err}") from None
    except RecursionError:  # pragma: no cover - _check_nesting refuses deep nesting first
        raise ProblemFileError(f"{name}: arrays or tables nested too deep") from None
    r = _Reader(name, text, folder)
    for key in data:
        if key not in SECTIONS:
            r.fail(
                (key,),
                f"unknown section or key {key!r}; accepted: "
                f"{', '.join('[' + s + ']' if s != 'description' else s for s in SECTIONS)}",
            )
    description = r.string(data, (), "description", default="")
    V, domain = _read_domain(r, data)
    dim = V.dim
    coords = tuple(V.coordinates.axes)
    r.hint = coordinate_hint(V)
    equation, values = _read_equation(r, r.table(data, "equation", required=True), dim, coords)
    if V.coordinates.curvilinear:
        check_curvilinear_equation(r, V, equation, values)
    time = _read_time(r, data, equation, coords)
    bc = _read_bc(r, r.table(data, "bc"), V, equation)
    exact = _read_exact(r, r.table(data, "exact"), equation, coords)
    outputs = _read_outputs(r, r.table(data, "output"), exact, equation)
    return Problem(
        name, description, V, domain, equation, values, bc, time, exact, outputs, r.where
    )


def _read_domain(r, data):
    table = r.table(data, "domain", required=True)
    inline = [k for k in DISCRETIZATION_KEYS if k in table]
    disc = r.table(data, "discretization")
    if inline and "discretization" in data:
        r.fail(
            ("domain", inline[0]),
            f"{inline[0]} is given both here and in [discretization]; give it once",
        )
    where = ("domain",) if inline else ("discretization",)
    disc = {k: table[k] for k in inline} if inline else disc
    r.keys(disc, ("discretization",), DISCRETIZATION_KEYS, "in [discretization]")
    if "mesh" in table:
        if "kind" in table:
            r.fail(("domain", "kind"), "mesh = FILE sets the domain; leave out kind")
        r.keys(table, ("domain",), ("mesh",) + DISCRETIZATION_KEYS, "with mesh = FILE")
        path = r.string(table, ("domain",), "mesh")
        if "cells" in disc:
            r.fail((*where, "cells"), "the mesh file sets the cells; leave out cells")
        from ..fem.mesh import TensorMesh
        from ..io import load_mesh

        full = path if os.path.isabs(path) else os.path.join(r.folder, path)
        try:
            mesh = load_mesh(full)
        except FemkronError as err:
            r.fail(("domain", "mesh"), str(err))
        dim = mesh.dim
        order, nodes = _order_nodes(r, disc, where, dim)
        V = TensorSpace.from_mesh(TensorMesh(list(mesh.meshes)), order=order, nodes=nodes)
        return V, f"mesh {path}"
    if "kind" not in table:
        r.fail(("domain",), "missing key 'kind' (kind = \"box\" with bounds, or mesh = FILE)")
    kind = r.string(table, ("domain",), "kind")
    if kind not in DOMAIN_KINDS:
        r.fail(
            ("domain", "kind"),
            f"kind must be one of {', '.join(map(repr, DOMAIN_KINDS))} (or mesh = FILE), "
            f"got {kind!r}",
        )
    if kind not in AVAILABLE_DOMAINS:
        r.fail(
            ("domain", "kind"),
            f"the domain kind {kind!r} is not available yet in this version of femkron "
            f"(available: {', '.join(AVAILABLE_DOMAINS)}, or mesh = FILE)",
        )
    if kind != "box":
        order_nodes = functools.partial(_order_nodes, r)
        return read_curvilinear_domain(r, table, disc, where, kind, order_nodes, MAX_CELLS)
    r.keys(table, ("domain",), ("kind", "bounds") + DISCRETIZATION_KEYS, "for kind 'box'")
    if "bounds" not in table:
        r.fail(("domain",), "kind 'box' needs bounds = [[a, b], ...] (one pair per axis)")
    bounds = table["bounds"]
    ok = isinstance(bounds, list) and 1 <= len(bounds) <= 3
    ok = ok and all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
        for p in bounds
    )
    if not ok:
        r.fail(
            ("domain", "bounds"),
            f"bounds must be 1 to 3 pairs [a, b] of numbers, got {_REPR.repr(bounds)}",
        )
    for a, b in bounds:
        if not (abs(a) < float("inf") and abs(b) < float("inf") and b > a):
            r.fail(("domain", "bounds"), f"each pair needs finite a < b, got [{a}, {b}]")
    dim = len(bounds)
    if "cells" not in disc:
        r.fail(where, "missing key 'cells' (one count, or one per axis)")
    cells = r.integers(disc["cells"], where, "cells", dim, 1, MAX_CELLS)
    order, nodes = _order_nodes(r, disc, where, dim)
    try:
        V = TensorSpace.box(
            [tuple(map(float, p)) for p in bounds], cells=cells, order=order, nodes=nodes
        )
    except FemkronError as err:
        r.fail(where, str(err))
    return V, "box"


def _order_nodes(r, disc, where, dim):
    order = r.integers(disc.get("order", 2), where, "order", dim, 1, 24)
    nodes = r.string(disc, where, "nodes", choices=("gll", "equispaced"), default="gll")
    return order, nodes


def _read_equation(r, table, dim, coords):
    path = ("equation",)
    if "kind" not in table:
        r.fail(path, f"missing key 'kind' (one of {', '.join(EQUATION_KEYS)})")
    kind = r.string(table, path, "kind", choices=tuple(EQUATION_KEYS))
    if kind not in AVAILABLE_EQUATIONS:
        r.fail(
            (*path, "kind"),
            f"the equation {kind!r} is not available yet in this version of femkron "
            f"(available: {', '.join(AVAILABLE_EQUATIONS)})",
        )
    accepted = EQUATION_KEYS[kind]
    r.keys(table, path, ("kind",) + accepted, f"for kind {kind!r}")
    for key in _REQUIRED.get(kind, ()):
        if key not in table:
            r.fail(path, f"kind {kind!r} needs key {key!r} (keys: {', '.join(accepted)})")
    values = {}
    for key in ("f", "kappa", "sigma", "reaction"):
        if key in table:
            # heat: f may depend on the time t (its last variable)
            variables = coords + ("t",) if kind == "heat" and key == "f" else coords
            if kind == "nonlinear_poisson" and key in _OF_U:
                variables = ("u",)  # κ(u) and g(u) are functions of the solution's values
            if kind == "reaction_diffusion":  # R(u, x, y, t): kept as an expression
                values[key] = r.expression(table[key], (*path, key), ("u",) + coords + ("t",))
                continue
            values[key] = r.data(table[key], (*path, key), variables)
    if kind == "nonlinear_poisson":
        _check_nonlinear(r, path, values)
    if "wavenumber" in table:
        values["wavenumber"] = r.number(table, path, "wavenumber", nonnegative=True)
    if "epsilon" in table:
        values["epsilon"] = r.number(table, path, "epsilon", positive=True)
    if "diffusion" in table:
        values["diffusion"] = r.number(table, path, "diffusion", nonnegative=True)
    if "scheme" in table:
        from ..problems.reaction import RD_SCHEMES

        values["scheme"] = r.string(table, path, "scheme", choices=RD_SCHEMES)
    if "velocity" in table:
        b = table["velocity"]
        if (
            not isinstance(b, list)
            or len(b) != dim
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)
        ):
            r.fail((*path, "velocity"), f"velocity must be {dim} numbers, got {_REPR.repr(b)}")
        values["velocity"] = tuple(float(v) for v in b)
    if "k" in table:
        k = table["k"]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            r.fail((*path, "k"), f"k must be an integer >= 1, got {_REPR.repr(k)}")
        values["k"] = k
    if "method" in table:
        choices = _METHODS.get(kind, _METHODS["default"])
        values["method"] = r.string(table, path, "method", choices=choices)
    return kind, values


def _check_nonlinear(r, path, values):
    """A constant κ must be > 0; a reaction must depend on u (a constant belongs in f)."""
    kappa = values.get("kappa")
    if isinstance(kappa, float) and not kappa > 0:
        r.fail((*path, "kappa"), f"kappa must be > 0, got {kappa:g}")
    if isinstance(values.get("reaction"), float):
        r.fail(
            (*path, "reaction"),
            f"reaction must be an expression of u such as 'exp(u)'; the constant "
            f"{values['reaction']:g} belongs in f (with the opposite sign)",
        )
    for key in _OF_U:  # derivatives for the Newton Jacobian, exact by sympy
        if not isinstance(values.get(key, 0.0), float):
            values["d" + key] = values[key].diff("u")


def _read_time(r, data, equation, coords):
    if equation not in TIME_DEPENDENT:
        if "time" in data:
            r.fail(
                ("time",), f"[time] is for kind 'heat' or 'reaction_diffusion', not {equation!r}"
            )
        return {}
    if "time" not in data:
        raise ProblemFileError(
            f"{r.name}: kind {equation!r} needs a [time] section (t_end, dt, u0)"
        )
    table = r.table(data, "time")
    path = ("time",)
    accepted = TIME_KEYS if equation == "heat" else tuple(k for k in TIME_KEYS if k != "theta")
    r.keys(table, path, accepted, f"in [time] for kind {equation!r}")
    if "u0" not in table:
        r.fail(path, "missing key 'u0' (the initial value)")
    time = {
        "t_end": r.number(table, path, "t_end", positive=True),
        "dt": r.number(table, path, "dt", positive=True),
        "u0": r.data(table["u0"], (*path, "u0"), coords),
    }
    if equation == "heat":
        time["theta"] = r.number(table, path, "theta", nonnegative=True, default=0.5)
    if time.get("theta", 0.0) > 1:
        r.fail((*path, "theta"), f"theta must lie in [0, 1], got {time['theta']:g}")
    return time


def _read_bc(r, table, V, equation):
    dim = V.dim
    coords = tuple(V.coordinates.axes)
    data_variables = coords + ("t",) if equation in TIME_DEPENDENT else coords  # data of t too
    curvilinear = V.coordinates.curvilinear
    faces = list(V.faces) if curvilinear else [n for n, (ax, _) in FACES.items() if ax < dim]
    axes = list(coords)
    out = {}
    for key, value in table.items():
        path = ("bc", key)
        if curvilinear and key not in faces and key not in axes:
            r.fail(path, unknown_face(V, key))
        if key not in faces and key not in axes:
            r.fail(
                path,
                f"unknown face {key!r} for a {dim}D box (faces: {', '.join(faces)}; axes, for "
                f"periodic: {', '.join(axes)})",
            )
        if not isinstance(value, dict) or len(value) != 1:
            r.fail(
                path,
                f"{key} must be one condition: {{ dirichlet = EXPR }}, {{ neumann = EXPR }}, "
                f"{{ robin = {{ alpha = NUM, g = EXPR }} }} or {{ periodic = true }}, got "
                f"{_REPR.repr(value)}",
            )
        ((kind, data),) = value.items()
        if kind not in BC_KINDS:
            r.fail((*path, kind), f"unknown condition {kind!r}; accepted: {', '.join(BC_KINDS)}")
        if kind == "periodic":
            if data is not True:
                r.fail((*path, kind), f"periodic must be true, got {_REPR.repr(data)}")
            if key not in axes:
                r.fail(path, f"periodic is set on an axis ({', '.join(axes)}), not a face")
            out[key] = Periodic()
            continue
        if key in axes:
            r.fail(path, f"an axis takes {{ periodic = true }}; name a face for {kind}")
        if equation == "eigen" and not _homogeneous(kind, data):
            r.fail((*path, kind), "kind 'eigen' takes homogeneous conditions (data 0)")
        if kind == "robin":
            if not isinstance(data, dict):
                r.fail((*path, kind), "robin must be { alpha = NUM, g = EXPR }")
            r.keys(data, (*path, kind), ("alpha", "g"), "in robin")
            alpha = r.number(data, (*path, kind), "alpha")
            g = r.data(data.get("g", 0.0), (*path, kind, "g"), data_variables)
            out[key] = Robin(alpha, g)
        else:
            g = r.data(data, (*path, kind), data_variables)
            out[key] = Dirichlet(g) if kind == "dirichlet" else Neumann(g)
    try:
        BoundaryConditions(V, out)
    except FemkronError as err:
        r.fail(("bc",), str(err))
    return out


def _homogeneous(kind, data):
    if kind == "robin":
        return isinstance(data, dict) and data.get("g", 0) in (0, "0")
    return isinstance(data, (int, float)) and data == 0 or data == "0"


def _read_exact(r, table, equation, coords):
    if not table:
        return None
    if equation == "eigen":
        r.fail(("exact",), "[exact] u is not used by kind 'eigen'")
    r.keys(table, ("exact",), ("u",), "in [exact]")
    if "u" not in table:
        r.fail(("exact",), "missing key 'u' (the exact solution)")
    variables = coords + ("t",) if equation in TIME_DEPENDENT else coords
    return r.expression(table["u"], ("exact", "u"), variables)


def _read_outputs(r, table, exact, equation):
    r.keys(table, ("output",), OUTPUT_KEYS, "in [output]")
    outputs = {}
    for key in OUTPUT_KEYS:
        value = r.string(table, ("output",), key)
        if value is None:
            continue
        if not value.strip():
            r.fail(("output", key), f"{key} must name a file, got {value!r}")
        if key == "netcdf" and not value.lower().endswith(".nc"):
            r.fail(("output", key), f"netcdf must name a .nc file, got {value!r}")
        if key == "netcdf" and equation == "eigen":
            r.fail(("output", key), "netcdf output is for solutions, not kind 'eigen'")
        if key == "plot_error" and exact is None:
            r.fail(("output", key), "plot_error needs an exact solution ([exact] u)")
        outputs[key] = value
    return outputs


def read_problem(path):
    """Read the problem file ``path`` (TOML) into a :class:`Problem`.

    Raises
    ------
    ProblemFileError
        (a ``ValueError``) naming the file, the key and its line.
    """
    path = os.fspath(path)
    text = read_text_file(path, ProblemFileError, "problem file")
    return read_problem_text(text, name=path, folder=os.path.dirname(os.path.abspath(path)))
