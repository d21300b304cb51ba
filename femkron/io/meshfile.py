"""Mesh descriptions in TOML files.

A mesh file describes a box as one ``[[axis]]`` table per axis (x, y, z in that order).  Each
axis is either given by parameters of a :class:`~femkron.Mesh1D` constructor or by its
explicit nodes::

    description = "boundary layer at y = 0"

    [[axis]]                 # x
    kind = "uniform"         # uniform | graded | chebyshev | nodes
    a = 0.0
    b = 1.0
    cells = 16

    [[axis]]                 # y
    kind = "graded"
    a = 0.0
    b = 1.0
    cells = 24
    ratio = 1.2              # each cell 1.2 times longer than the one before

    # an axis can also list its nodes:  kind = "nodes"  and  nodes = [0.0, 0.1, 0.4, 1.0]

:func:`load_mesh` reads such a file into a :class:`~femkron.TensorMesh`; :func:`save_mesh`
writes one (parameters when the mesh came from a constructor, explicit nodes otherwise).
Errors name the file, the key and its line.  A file may ask for at most :data:`MAX_CELLS`
cells per axis (and all axes together for no more than :func:`~femkron.memory_limit`), and may
nest arrays at most :data:`MAX_NESTING` deep; both are checked before anything is built.

Examples
--------
>>> import os, tempfile
>>> import femkron as fk
>>> mesh = fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 4), fk.Mesh1D.graded(0, 2, 5, ratio=1.5)])
>>> path = os.path.join(tempfile.mkdtemp(), "box.toml")
>>> fk.save_mesh(mesh, path)
>>> back = fk.load_mesh(path)
>>> back.shape, back.bounds
((4, 5), ((0.0, 1.0), (0.0, 2.0)))
>>> bool(back[1] == mesh[1])
True
"""

from __future__ import annotations

import math
import os
import re
import reprlib
import sys

import numpy as np

from .._files import atomic_path, read_text_file
from .._limits import check_allocation
from ..errors import FemkronTypeError, FemkronValueError, ResourceError
from ..fem.mesh import Mesh1D, TensorMesh

__all__ = ["load_mesh", "save_mesh", "read_mesh_text", "mesh_text", "MeshFileError"]

if sys.version_info >= (3, 11):  # pragma: no cover - depends on the interpreter
    import tomllib as _toml
else:  # pragma: no cover
    import tomli as _toml

#: Keys accepted in an ``[[axis]]`` table, per kind.
AXIS_KEYS = {
    "uniform": ("a", "b", "cells"),
    "graded": ("a", "b", "cells", "ratio"),
    "chebyshev": ("a", "b", "cells"),
    "nodes": ("nodes",),
}
_TOP_KEYS = ("description", "axis")
_OPTIONAL_AXIS_KEYS = ("kind", "name")
#: Most cells (or nodes - 1) a mesh file may give one axis, whatever the memory limit.
MAX_CELLS = 10**7
#: Deepest nesting of arrays and inline tables read (a mesh file needs one level).
MAX_NESTING = 16
#: Bytes per node a parametrised axis takes while it is built (as ``Mesh1D`` estimates).
_NODE_BYTES = 24

_REPR = reprlib.Repr()  # values in messages: bounded in length and nesting depth
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 3, 40, 40, 40


class MeshFileError(FemkronValueError):
    """A mesh file is missing, unreadable or malformed; the message names file, key and line."""


# ---- reading ----------------------------------------------------------------------------
def _axis_lines(text):
    """Line numbers (1-based) of every ``[[axis]]`` header, and the end line of each table."""
    lines = text.splitlines()
    headers = [i + 1 for i, line in enumerate(lines) if re.match(r"\s*\[\[\s*axis\s*\]\]", line)]
    starts = headers + [len(lines) + 1]
    sections = []
    for k, h in enumerate(headers):
        end = starts[k + 1] - 1
        for j in range(h, end):  # a later [table] also ends the axis table
            if re.match(r"\s*\[", lines[j]):
                end = j
                break
        sections.append((h, end))
    return lines, sections


def _line_of(text, key, axis=None):
    """Line (1-based) where ``key = ...`` is written (inside axis table ``axis``), or None."""
    lines, sections = _axis_lines(text)
    if axis is None:
        first = sections[0][0] if sections else len(lines) + 1
        span = range(0, first - 1)
    elif axis < len(sections):
        h, end = sections[axis]
        if key is None:
            return h
        span = range(h, end)
    else:
        return None
    pattern = re.compile(rf"\s*([\"']?){re.escape(key)}\1\s*[=.]")  # key = or key.sub =
    for j in span:
        if pattern.match(lines[j]):
            return j + 1
    return None


def _where(name, text, key, axis=None):
    line = _line_of(text, key, axis)
    label = key if axis is None else f"axis[{axis}].{key}" if key else f"axis[{axis}]"
    at = f", line {line}" if line else ""
    return f"{name}: {label}{at}"


def _where_at(name, text, pos):
    """``"file: axis[i].key, line n"`` for the key written on the line of character ``pos``."""
    line = text.count("\n", 0, pos) + 1
    lines, sections = _axis_lines(text)
    axis = next((k for k, (h, end) in enumerate(sections) if h <= line <= end), None)
    written = lines[line - 1] if line <= len(lines) else ""
    match = re.match(r"\s*(?:([A-Za-z0-9_-]+)|\"([^\"]*)\"|'([^']*)')\s*[=.]", written)
    key = next((k for k in match.groups() if k is not None), None) if match else None
    if axis is None:
        label = key
    else:
        label = f"axis[{axis}].{key}" if key else f"axis[{axis}]"
    return f"{name}: {label}, line {line}" if label else f"{name}: line {line}"


_SCAN = re.compile(r"[\[\]{}\"'#]")
_STRING_END = {  # from after the opening quote(s) to after the closing one(s)
    '"""': re.compile(r'(?:[^"\\]|\\[\s\S]|"(?!""))*(?:"""|\Z)'),
    "'''": re.compile(r"(?:[^']|'(?!''))*(?:'''|\Z)"),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*(?:"|\n|\Z)'),
    "'": re.compile(r"[^'\n]*(?:'|\n|\Z)"),
}


def _nesting(text):
    """Deepest nesting of arrays and inline tables in TOML ``text``, found without parsing it.

    Returns ``(depth, pos)``: ``pos`` is where the outermost bracket of the deepest run opens.
    Strings and comments are skipped; the scan takes linear time and no recursion.
    """
    depth = deepest = start = where = pos = 0
    while True:
        match = _SCAN.search(text, pos)
        if match is None:
            return deepest, where
        c, pos = match.group(), match.end()
        if c == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, match.start()) else c
            pos = _STRING_END[quote].match(text, match.start() + len(quote)).end()
        elif c in "[{":
            if depth == 0:
                start = match.start()
            depth += 1
            if depth > deepest:
                deepest, where = depth, start
        else:
            depth = max(depth - 1, 0)


def _too_deep(name, text, depth, pos):
    """The error for arrays or inline tables nested ``depth`` deep, opening at ``pos``."""
    return MeshFileError(
        f"{_where_at(name, text, pos)}: arrays or inline tables nested {depth} deep; a mesh "
        f"file needs one level (nodes = [0.0, 0.5, 1.0]) and at most {MAX_NESTING} are read"
    )


def read_mesh_text(text, name="<string>"):
    r"""Parse the TOML text of a mesh file into a :class:`~femkron.TensorMesh`.

    ``name`` is used in error messages (the file name).

    Examples
    --------
    >>> m = read_mesh_text('[[axis]]\nkind = "chebyshev"\na = -1.0\nb = 1.0\ncells = 4\n')
    >>> m.dim, m[0].kind, m[0].cells
    (1, 'chebyshev', 4)
    >>> read_mesh_text('[[axis]]\nkind = "uniform"\na = 0\nb = 1\ncells = 0\n', "bar.toml")
    Traceback (most recent call last):
    ...
    femkron.io.meshfile.MeshFileError: bar.toml: axis[0].cells, line 5: cells must be >= 1, got 0
    """
    depth, pos = _nesting(text)
    if depth > MAX_NESTING:  # the parser would recurse once per level
        raise _too_deep(name, text, depth, pos)
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as err:
        raise MeshFileError(f"{name}: not valid TOML: {err}") from None
    except RecursionError:  # a parser on a short stack; MAX_NESTING normally prevents it
        raise _too_deep(name, text, depth, pos) from None
    for key in data:
        if key not in _TOP_KEYS:
            raise MeshFileError(
                f"{_where(name, text, key)}: unknown key {key!r}; accepted at the top level: "
                "'description' and [[axis]] tables"
            )
    if "description" in data and not isinstance(data["description"], str):
        raise MeshFileError(f"{_where(name, text, 'description')}: description must be a string")
    axes = data.get("axis")
    if not isinstance(axes, list) or not axes or not all(isinstance(a, dict) for a in axes):
        raise MeshFileError(
            f"{name}: needs at least one [[axis]] table (one per axis: x, then y, then z)"
        )
    specs = [_read_axis(name, text, i, table) for i, table in enumerate(axes)]
    _check_size(name, text, specs)
    meshes = [_make_axis(name, text, i, *spec) for i, spec in enumerate(specs)]
    mesh = TensorMesh(meshes)
    mesh.description = data.get("description", "")
    return mesh


def _read_axis(name, text, i, table):
    kind = table.get("kind", "nodes" if "nodes" in table else None)
    if kind is None:
        raise MeshFileError(
            f"{_where(name, text, None, i)}: missing key 'kind' (one of "
            f"{', '.join(repr(k) for k in AXIS_KEYS)})"
        )
    if not isinstance(kind, str) or kind not in AXIS_KEYS:
        raise MeshFileError(
            f"{_where(name, text, 'kind', i)}: kind must be one of "
            f"{', '.join(repr(k) for k in AXIS_KEYS)}, got {_REPR.repr(kind)}"
        )
    required = AXIS_KEYS[kind]
    for key in table:
        if key not in required and key not in _OPTIONAL_AXIS_KEYS:
            raise MeshFileError(
                f"{_where(name, text, key, i)}: unknown key {key!r} for kind {kind!r}; "
                f"accepted: {', '.join(required)}"
            )
    for key in required:
        if key not in table:
            if kind == "graded" and key == "ratio":
                continue
            raise MeshFileError(
                f"{_where(name, text, None, i)}: kind {kind!r} needs key {key!r} "
                f"(keys: {', '.join(required)})"
            )
    args = {}
    for key in required:
        if key not in table:
            continue
        value = table[key]
        if key == "nodes":
            ok = isinstance(value, list) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
            )
            if not ok:
                raise MeshFileError(
                    f"{_where(name, text, key, i)}: nodes must be an array of numbers"
                )
            if len(value) > MAX_CELLS + 1:
                raise MeshFileError(
                    f"{_where(name, text, key, i)}: {len(value)} nodes are more than the "
                    f"{MAX_CELLS + 1} per axis a mesh file may give (build larger meshes "
                    "with femkron.Mesh1D)"
                )
        elif key == "cells":
            if isinstance(value, bool) or not isinstance(value, int):
                raise MeshFileError(
                    f"{_where(name, text, key, i)}: cells must be an integer, "
                    f"got {_REPR.repr(value)}"
                )
            if value > MAX_CELLS:
                raise MeshFileError(
                    f"{_where(name, text, key, i)}: cells = {_REPR.repr(value)} is more than "
                    f"the {MAX_CELLS} per axis a mesh file may ask for (build larger meshes "
                    "with femkron.Mesh1D)"
                )
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MeshFileError(
                f"{_where(name, text, key, i)}: {key} must be a number, got {_REPR.repr(value)}"
            )
        args[key] = value
    return table, kind, args


def _check_size(name, text, specs):
    """Refuse, before anything is built, axes that together exceed the memory limit.

    ``specs`` holds ``(table, kind, args)`` per axis; the message names the largest axis.
    """
    sizes = [args.get("cells", 0) for _, _, args in specs]
    nbytes = sum(_NODE_BYTES * (cells + 1) for cells in sizes if cells > 0)
    try:
        check_allocation(nbytes, "the mesh", "use fewer cells")
    except ResourceError as err:
        i = int(np.argmax(sizes))
        raise MeshFileError(f"{_where(name, text, 'cells', i)}: {err}") from None


def _make_axis(name, text, i, table, kind, args):
    """Build axis ``i`` from its checked ``args``; errors name the key and its line."""
    required = AXIS_KEYS[kind]
    try:
        if kind == "nodes":
            return Mesh1D(args["nodes"])
        return getattr(Mesh1D, kind)(**args)
    except ResourceError as err:  # pragma: no cover - _check_size refuses these first
        raise MeshFileError(f"{_where(name, text, 'cells', i)}: {err}") from None
    except (FemkronValueError, FemkronTypeError) as err:
        msg = str(err)
        key = next((k for k in required if msg.startswith(k) and k in table), None)
        if key is None:
            key = "b" if "b > a" in msg else None
        raise MeshFileError(f"{_where(name, text, key, i)}: {msg}") from None


def load_mesh(path):
    r"""Read a mesh file (TOML, see :mod:`femkron.io`) into a :class:`~femkron.TensorMesh`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    TensorMesh
        With an extra attribute ``description`` (``""`` when the file has none).

    Raises
    ------
    MeshFileError
        (a ``ValueError``) naming the file, the key and its line.

    Examples
    --------
    >>> import os, tempfile
    >>> import femkron as fk
    >>> path = os.path.join(tempfile.mkdtemp(), "bar.toml")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write('[[axis]]\nkind = "nodes"\nnodes = [0.0, 0.25, 1.0]\n')
    >>> fk.load_mesh(path)[0].h
    array([0.25, 0.75])
    """
    if not isinstance(path, (str, os.PathLike)):
        raise FemkronTypeError(f"path must be a file path, got {path!r}")
    path = os.fspath(path)
    text = read_text_file(path, MeshFileError, "mesh file")
    return read_mesh_text(text, name=path)


# ---- writing ----------------------------------------------------------------------------
def _toml_float(x):
    x = float(x)
    if not math.isfinite(x):  # pragma: no cover - meshes are finite
        raise FemkronValueError(f"cannot write the non-finite number {x} to a mesh file")
    text = repr(x)
    return text if any(c in text for c in ".en") else text + ".0"


def _toml_string(s):
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    out = "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def mesh_text(mesh, description=None):
    """The TOML text :func:`save_mesh` writes for ``mesh`` (a Mesh1D or TensorMesh).

    Examples
    --------
    >>> import femkron as fk
    >>> print(mesh_text(fk.Mesh1D.graded(0, 1, 8, ratio=1.25)), end="")
    [[axis]]
    kind = "graded"
    a = 0.0
    b = 1.0
    cells = 8
    ratio = 1.25
    """
    if isinstance(mesh, Mesh1D):
        mesh = TensorMesh([mesh])
    if not isinstance(mesh, TensorMesh):
        raise FemkronTypeError(f"mesh must be a Mesh1D or TensorMesh, got {type(mesh).__name__}")
    if description is None:
        description = getattr(mesh, "description", "")
    if not isinstance(description, str):
        raise FemkronTypeError(f"description must be a string, got {description!r}")
    out = []
    if description:
        out += [f"description = {_toml_string(description)}", ""]
    names = ("x", "y", "z")
    for d, m in enumerate(mesh.meshes):
        if d:
            out.append("")
        out.append("[[axis]]" + (f"  # {names[d]}" if mesh.dim > 1 and d < 3 else ""))
        if m.kind in ("uniform", "graded", "chebyshev") and _rebuilds(m):
            out.append(f'kind = "{m.kind}"')
            for key in AXIS_KEYS[m.kind]:
                value = m.params[key]
                out.append(
                    f"{key} = {value}" if key == "cells" else f"{key} = {_toml_float(value)}"
                )
        else:
            out.append('kind = "nodes"')
            body = ", ".join(_toml_float(x) for x in m.nodes)
            out.append(f"nodes = [{body}]")
    return "\n".join(out) + "\n"


def _rebuilds(m):
    try:
        again = getattr(Mesh1D, m.kind)(**m.params)
    except (KeyError, TypeError, ValueError):  # pragma: no cover - params always complete
        return False
    return np.array_equal(again.nodes, m.nodes)


def save_mesh(mesh, path, description=None):
    """Write ``mesh`` as a TOML mesh file that :func:`load_mesh` reads back to the same nodes.

    ``mesh`` is a :class:`~femkron.Mesh1D` or :class:`~femkron.TensorMesh`.

    Uniform, graded and Chebyshev axes are written by their parameters, other axes by their
    nodes (``repr`` precision, so they round-trip exactly).  The file is written to a temporary
    name and renamed on success, so a failed write leaves nothing behind.

    Examples
    --------
    >>> import os, tempfile
    >>> import femkron as fk
    >>> path = os.path.join(tempfile.mkdtemp(), "refined.toml")
    >>> m = fk.Mesh1D.chebyshev(0, 1, 5).refine(2)          # explicit nodes
    >>> fk.save_mesh(m, path, description="refined Chebyshev")
    >>> bool(fk.load_mesh(path)[0] == m)
    True
    """
    text = mesh_text(mesh, description)
    with atomic_path(path, "path") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
