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
method; ``heat`` f, kappa, method (and ``[time]``); ``advection_diffusion`` f, velocity,
epsilon, method; ``eigen`` k.  The domain kinds other than ``box`` and the equation
``nonlinear_poisson`` are part of the format and refused as not available yet in this version.
Every error names the file, the key and its line.
"""

from __future__ import annotations

import os
import re
import sys

from .._files import read_text_file
from ..errors import FemkronError, FemkronValueError
from ..fem.bc import FACES, BoundaryConditions, Dirichlet, Neumann, Periodic, Robin
from ..fem.expressions import ExpressionError, parse_expression
from ..fem.tensor import TensorSpace
from ..io.meshfile import _REPR, MAX_CELLS, MAX_NESTING, _nesting

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
AVAILABLE_DOMAINS = ("box",)
DISCRETIZATION_KEYS = ("cells", "order", "nodes")
#: Keys of ``[equation]`` per kind (besides ``kind``).
EQUATION_KEYS = {
    "poisson": ("f", "kappa", "sigma", "method"),
    "helmholtz": ("f", "kappa", "wavenumber", "method"),
    "heat": ("f", "kappa", "method"),
    "advection_diffusion": ("f", "velocity", "epsilon", "method"),
    "eigen": ("k",),
    "nonlinear_poisson": ("f", "kappa", "reaction", "method"),
}
AVAILABLE_EQUATIONS = ("poisson", "helmholtz", "heat", "advection_diffusion", "eigen")
_REQUIRED = {
    "poisson": ("f",),
    "helmholtz": ("f", "wavenumber"),
    "advection_diffusion": ("f", "velocity"),
}
_METHODS = {
    "advection_diffusion": ("auto", "gmres", "bicgstab", "direct"),
    "default": ("auto", "fdm", "amg", "cg", "direct"),
}
BC_KINDS = ("dirichlet", "neumann", "robin", "periodic")
TIME_KEYS = ("t_end", "dt", "theta", "u0")
OUTPUT_KEYS = ("plot", "plot_error", "vtk", "json", "netcdf")
_AXES = ("x", "y", "z")


class ProblemFileError(FemkronValueError):
    """A problem file is missing, unreadable or malformed; the message names file, key and line."""


class Problem:
    """A problem read from a file, checked and ready to solve.

    Attributes
    ----------
    name : str
        The file name (used in messages).
    description : str
    V : TensorSpace
    domain : str
        ``"box"`` or ``"mesh FILE"``.
    equation : str
        The kind of equation.
    data : dict
        The equation's data: numbers, or callables (:class:`~femkron.fem.expressions.Expression`)
        of the coordinates; ``method`` among them when given.
    bc : dict
        ``{face or axis: Condition}`` for the solver.
    time : dict
        ``t_end``, ``dt``, ``theta``, ``u0`` (heat), else empty.
    exact : Expression or None
        The exact solution (of the coordinates, and ``t`` for heat).
    outputs : dict
        Output paths by kind (``plot``, ``plot_error``, ``vtk``, ``json``).
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


# ---- lines of keys ----------------------------------------------------------------------
_KEY = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_HEADER = re.compile(rf"\s*\[\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


def _parts(dotted):
    return tuple(p.strip().strip("\"'") for p in re.findall(rf"{_KEY}", dotted))


class _Lines:
    """Where each table and key of a TOML text is written (line numbers, 1-based)."""

    def __init__(self, name, text):
        self.name = name
        self.entries = []
        header = ()
        for i, line in enumerate(text.splitlines(), start=1):
            match = _HEADER.match(line)
            if match:
                header = _parts(match.group(1))
                self.entries.append((i, header))
                continue
            match = _ASSIGN.match(line)
            if match:
                self.entries.append((i, header + _parts(match.group(1))))

    def line(self, path):
        best, size = None, -1
        for i, keys in self.entries:
            if keys == tuple(path[: len(keys)]) and len(keys) > size:
                best, size = i, len(keys)
        return best

    def __call__(self, *path):
        """``"file: a.b, line n"`` for the key ``path``."""
        line = self.line(path)
        label = ".".join(str(p) for p in path)
        at = f", line {line}" if line else ""
        return f"{self.name}: {label}{at}" if label else f"{self.name}{at}"


# ---- reading ----------------------------------------------------------------------------
class _Reader:
    def __init__(self, name, text, folder):
        self.name, self.folder = name, folder
        self.where = _Lines(name, text)

    def fail(self, path, message):
        raise ProblemFileError(f"{self.where(*path)}: {message}")

    def table(self, data, key, required=False):
        if key not in data:
            if required:
                raise ProblemFileError(f"{self.name}: missing section [{key}]")
            return {}
        value = data[key]
        if not isinstance(value, dict):
            self.fail((key,), f"{key} must be a table [{key}], got {_REPR.repr(value)}")
        return value

    def keys(self, table, path, accepted, what):
        for key in table:
            if key not in accepted:
                self.fail(
                    (*path, key),
                    f"unknown key {key!r} {what}; accepted: {', '.join(accepted) or 'none'}",
                )

    def number(self, table, path, key, positive=False, nonnegative=False, default=None):
        if key not in table:
            if default is None:
                self.fail(path, f"missing key {key!r}")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail((*path, key), f"{key} must be a number, got {_REPR.repr(value)}")
        value = float(value)
        if value != value or abs(value) == float("inf"):
            self.fail((*path, key), f"{key} must be finite, got {value}")
        if positive and value <= 0:
            self.fail((*path, key), f"{key} must be > 0, got {value:g}")
        if nonnegative and value < 0:
            self.fail((*path, key), f"{key} must be >= 0, got {value:g}")
        return value

    def integers(self, value, path, key, dim, low, high):
        items = value if isinstance(value, list) else [value]
        ok = items and all(isinstance(v, int) and not isinstance(v, bool) for v in items)
        if not ok or len(items) not in (1, dim):
            self.fail(
                (*path, key),
                f"{key} must be an integer or a list of {dim} (one per axis), got "
                f"{_REPR.repr(value)}",
            )
        for v in items:
            if not low <= v <= high:
                self.fail((*path, key), f"{key} must be {low} to {high}, got {v}")
        return items * dim if len(items) == 1 else items

    def string(self, table, path, key, choices=None, default=None):
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, str):
            self.fail((*path, key), f"{key} must be a string, got {_REPR.repr(value)}")
        if choices is not None and value not in choices:
            self.fail(
                (*path, key), f"{key} must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )
        return value

    def expression(self, value, path, variables):
        try:
            return parse_expression(value, variables, where=self.where(*path))
        except ExpressionError as err:
            raise ProblemFileError(str(err), reason=err.reason) from None

    def data(self, value, path, variables):
        """A number stays a number; an expression constant in space becomes its value."""
        ex = self.expression(value, path, variables)
        return ex.value if ex.is_constant else ex


def _check_nesting(name, text):
    depth, pos = _nesting(text)
    if depth > MAX_NESTING:
        line = text.count("\n", 0, pos) + 1
        raise ProblemFileError(
            f"{name}: line {line}: arrays or inline tables nested {depth} deep; at most "
            f"{MAX_NESTING} are read"
        )


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
    ...     read_problem_text(text.replace('kind = "box"', 'kind = "disk"'), "p.toml")
    ... except ProblemFileError as err:
    ...     print(str(err)[:60])
    p.toml: domain.kind, line 3: the domain kind 'disk' is not a
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
    coords = _AXES[:dim]
    equation, values = _read_equation(r, r.table(data, "equation", required=True), dim)
    time = _read_time(r, data, equation, coords)
    bc = _read_bc(r, r.table(data, "bc"), V, equation)
    exact = _read_exact(r, r.table(data, "exact"), equation, coords)
    outputs = _read_outputs(r, r.table(data, "output"), exact)
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


def _read_equation(r, table, dim):
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
    coords = _AXES[:dim]
    values = {}
    for key in ("f", "kappa", "sigma"):
        if key in table:
            values[key] = r.data(table[key], (*path, key), coords)
    if "wavenumber" in table:
        values["wavenumber"] = r.number(table, path, "wavenumber", nonnegative=True)
    if "epsilon" in table:
        values["epsilon"] = r.number(table, path, "epsilon", positive=True)
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


def _read_time(r, data, equation, coords):
    if equation != "heat":
        if "time" in data:
            r.fail(("time",), f"[time] is for kind 'heat', not {equation!r}")
        return {}
    if "time" not in data:
        raise ProblemFileError(f"{r.name}: kind 'heat' needs a [time] section (t_end, dt, u0)")
    table = r.table(data, "time")
    path = ("time",)
    r.keys(table, path, TIME_KEYS, "in [time]")
    if "u0" not in table:
        r.fail(path, "missing key 'u0' (the initial value)")
    time = {
        "t_end": r.number(table, path, "t_end", positive=True),
        "dt": r.number(table, path, "dt", positive=True),
        "theta": r.number(table, path, "theta", nonnegative=True, default=0.5),
        "u0": r.data(table["u0"], (*path, "u0"), coords),
    }
    if time["theta"] > 1:
        r.fail((*path, "theta"), f"theta must lie in [0, 1], got {time['theta']:g}")
    return time


def _read_bc(r, table, V, equation):
    dim = V.dim
    coords = _AXES[:dim]
    faces = [n for n, (axis, _) in FACES.items() if axis < dim]
    axes = list(coords)
    out = {}
    for key, value in table.items():
        path = ("bc", key)
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
            g = r.data(data.get("g", 0.0), (*path, kind, "g"), coords)
            out[key] = Robin(alpha, g)
        else:
            g = r.data(data, (*path, kind), coords)
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
    variables = coords + ("t",) if equation == "heat" else coords
    return r.expression(table["u"], ("exact", "u"), variables)


def _read_outputs(r, table, exact):
    r.keys(table, ("output",), OUTPUT_KEYS, "in [output]")
    outputs = {}
    for key in OUTPUT_KEYS:
        value = r.string(table, ("output",), key)
        if value is None:
            continue
        if key == "netcdf":
            r.fail(("output", key), "netcdf output is not available yet in this version")
        if not value.strip():
            r.fail(("output", key), f"{key} must name a file, got {value!r}")
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
