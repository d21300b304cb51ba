"""Results as data: solutions to xarray, netCDF files and back.

:func:`solution_to_xarray` turns a :class:`~femkron.Solution` (or a time-dependent result
such as :class:`~femkron.HeatSolution`) into an ``xarray.Dataset``: the dof values ``u`` on
the dof grid (one dimension per axis, named after the space's coordinates, and ``t`` for a
time-dependent result), the mesh nodes of every axis, and attributes that say what it is (the
problem, orders, node families, coordinates, boundary conditions when the result carries
them, the solver's report, the femkron version).  :func:`save_solution` writes it as netCDF
(classic 64-bit format through scipy, so the netCDF4 library is not needed) atomically, and
:func:`load_solution` rebuilds the space from the stored mesh nodes, orders and node families
and the result from the values, bit for bit.

xarray is an optional dependency (``pip install femkron[io]``), imported here only.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(3, 4), order=2)
>>> sol = fk.poisson(V, 1.0)
>>> path = os.path.join(tempfile.mkdtemp(), "u.nc")
>>> sol.save(path)
>>> back = fk.load_solution(path)
>>> bool(np.array_equal(back.values, sol.values)), back.V.shape, back.info.method
(True, (7, 9), 'fdm')
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from .._files import atomic_path, check_writable
from .._version import __version__
from ..errors import FemkronTypeError, FemkronValueError, MissingDependencyError

__all__ = ["solution_to_xarray", "save_solution", "load_solution", "FORMAT", "FORMAT_VERSION"]

#: The ``femkron_format`` attribute of the files :func:`save_solution` writes.
FORMAT = "femkron-solution"
#: Version of that layout; :func:`load_solution` reads this one and refuses newer ones.
FORMAT_VERSION = 1


def _import_xarray():
    try:
        import xarray
    except ImportError:
        raise MissingDependencyError(
            "results as data (to_xarray, save, load_solution) need the optional package "
            "xarray: pip install femkron[io]"
        ) from None
    return xarray


# ---- describing a result ------------------------------------------------------------------
def _space_of(result):
    V = getattr(result, "V", None)
    from ..fem.tensor import TensorSpace

    if isinstance(V, TensorSpace):
        return V, None
    space = getattr(V, "space", None)  # a BoxUnion: its bounding space and partition
    if isinstance(space, TensorSpace) and hasattr(V, "boxes"):
        return space, V
    raise FemkronTypeError(
        f"a result with a TensorSpace (or a union of boxes) V is needed, got "
        f"{type(result).__name__} with V of type {type(V).__name__}"
    )


def _axis_names(V):
    coords = getattr(V, "coordinates", None)
    axes = getattr(coords, "axes", None)
    if axes and len(axes) == V.dim:
        return tuple(str(a) for a in axes)
    return tuple(("x", "y", "z")[d] if d < 3 else f"x{d}" for d in range(V.dim))


def _coordinates_name(V):
    coords = getattr(V, "coordinates", None)
    return str(getattr(coords, "name", coords or "cartesian"))


def _jsonable(value):
    """``value`` with numpy scalars/arrays as plain lists and numbers (for JSON)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)  # JSON has no NaN: "nan", "inf"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _info_dict(info):
    if info is None:
        return None
    if dataclasses.is_dataclass(info):
        return _jsonable(dataclasses.asdict(info))
    return _jsonable(dict(vars(info)))


def _conditions(result):
    """The boundary conditions of a result, as lines of text (or None when not carried)."""
    bc = getattr(result, "conditions", None)
    if bc is None:
        bc = getattr(result, "bcs", None)
    if bc is None:
        return None
    if isinstance(bc, (list, tuple)):  # lines read back from a file
        return [str(line) for line in bc]
    describe = getattr(bc, "describe", None)
    return describe() if callable(describe) else [repr(bc)]


def solution_to_xarray(result, name="u"):
    """The result as an ``xarray.Dataset``; see the module documentation for the layout.

    Parameters
    ----------
    result : Solution or HeatSolution
        Or any result with ``V``, ``values`` (and ``t`` for a time dimension; a species axis
        after the time axis is kept as dimension ``species``).
    name : str
        Name of the data variable of the values.

    Returns
    -------
    xarray.Dataset
        ``ds[name]`` on dims ``([t,] [species,] axis names)`` with the dof coordinates,
        ``mesh_<axis>`` the mesh nodes, attributes ``femkron_format``,
        ``femkron_format_version``, ``femkron_version``, ``problem``, ``kind``,
        ``coordinate_system``, ``axes``, ``orders``, ``node_families``, ``conditions``,
        ``info`` (JSON) and more as the result carries them.

    Examples
    --------
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    >>> ds = fk.poisson(V, 2.0).to_xarray()
    >>> ds["u"].dims, ds.attrs["problem"], ds.attrs["orders"]
    (('x',), 'poisson', '[1]')
    """
    xr = _import_xarray()
    if not isinstance(name, str) or not name.isidentifier():
        raise FemkronValueError(f"name must be an identifier such as 'u', got {name!r}")
    V, union = _space_of(result)
    axes = _axis_names(V)
    values = np.asarray(result.values, dtype=float)
    dims, coords = [], {}
    t = getattr(result, "t", None)
    if t is not None:
        dims.append("t")
        coords["t"] = ("t", np.asarray(t, dtype=float))
    lead = values.ndim - V.dim - len(dims)
    if lead == 1:
        dims.append("species")
    elif lead != 0 or values.shape[len(dims) :] != V.shape:
        raise FemkronValueError(
            f"values of shape {values.shape} do not fit the space's grid {V.shape}"
            + (" after the time axis" if t is not None else "")
        )
    dims.extend(axes)
    for a, s in zip(axes, V.spaces):
        coords[a] = (a, np.array(s.x))
    data_vars = {name: (tuple(dims), values)}
    for a, s in zip(axes, V.spaces):
        data_vars[f"mesh_{a}"] = (f"node_{a}", np.array(s.mesh.nodes))
    attrs = {
        "femkron_format": FORMAT,
        "femkron_format_version": FORMAT_VERSION,
        "femkron_version": __version__,
        "kind": type(result).__name__,
        "problem": str(getattr(result, "problem", type(result).__name__)),
        "coordinate_system": _coordinates_name(V),  # ("coordinates" is CF's, taken by xarray)
        "axes": json.dumps(list(axes)),
        "orders": json.dumps([int(s.order) for s in V.spaces]),
        "node_families": json.dumps([str(s.nodes) for s in V.spaces]),
        "values": name,
        "conditions": json.dumps(_conditions(result)),
        "info": json.dumps(_info_dict(getattr(result, "info", None))),
    }
    if union is not None:
        attrs["union_boxes"] = json.dumps(_jsonable(union.boxes))
    for key in ("coefficient", "peclet", "steps", "dt", "scheme", "diffusion"):
        if hasattr(result, key):
            attrs[key] = json.dumps(_jsonable(getattr(result, key)))
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def save_solution(result, path, name="u"):
    """Write a result as a netCDF file, atomically (nothing half-written on failure).

    The classic 64-bit netCDF format through scipy; float64 values are stored exactly.

    Parameters
    ----------
    result : Solution or HeatSolution
    path : str or os.PathLike
        The file to write (conventionally ``.nc``); replaced only when writing succeeded.
    name : str
        Name of the data variable of the values.

    Examples
    --------
    >>> import os, tempfile
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "u.nc")
    >>> save_solution(fk.poisson(V, 2.0), path)
    >>> os.path.getsize(path) > 0
    True
    """
    path = check_writable(path, "path")
    ds = solution_to_xarray(result, name=name)
    encoding = {v: {"_FillValue": None} for v in list(ds.data_vars) + list(ds.coords)}
    with atomic_path(path, "path") as tmp:
        ds.to_netcdf(tmp, engine="scipy", format="NETCDF3_64BIT", encoding=encoding)


# ---- reading back -------------------------------------------------------------------------
def _attr_json(attrs, key, path, default=None):
    if key not in attrs:
        return default
    try:
        return json.loads(attrs[key])
    except (TypeError, ValueError):
        raise FemkronValueError(
            f"path: {path!r}: attribute {key!r} is not valid JSON ({attrs[key]!r})"
        ) from None


def _rebuild_space(ds, attrs, path):
    from ..fem.mesh import Mesh1D
    from ..fem.space import Space1D
    from ..fem.tensor import TensorSpace

    axes = _attr_json(attrs, "axes", path)
    orders = _attr_json(attrs, "orders", path)
    families = _attr_json(attrs, "node_families", path)
    if not (isinstance(axes, list) and isinstance(orders, list) and isinstance(families, list)):
        raise FemkronValueError(f"path: {path!r} lacks the axes, orders or node families")
    if not len(axes) == len(orders) == len(families):
        raise FemkronValueError(f"path: {path!r}: axes, orders and node families disagree")
    spaces = []
    for a, p, fam in zip(axes, orders, families):
        key = f"mesh_{a}"
        if key not in ds:
            raise FemkronValueError(f"path: {path!r} lacks the mesh nodes {key!r}")
        nodes = np.asarray(ds[key].values, dtype=float)
        spaces.append(Space1D(Mesh1D(nodes), order=int(p), nodes=str(fam)))
    coordinates = str(attrs.get("coordinate_system", "cartesian"))
    if coordinates == "cartesian":
        V = TensorSpace(spaces)
    else:
        V = TensorSpace(spaces, coordinates=coordinates)
    boxes = _attr_json(attrs, "union_boxes", path)
    if boxes is not None:
        from ..fem.union import BoxUnion

        keep = [
            tuple(
                (float(s.mesh.nodes[lo]), float(s.mesh.nodes[hi]))
                for s, (lo, hi) in zip(spaces, box)
            )
            for box in boxes
        ]
        return BoxUnion(V, keep=keep), axes
    return V, axes


def _rebuild_info(d):
    from ..linalg.info import SolveInfo

    if d is None:
        return None
    fields = {f.name for f in dataclasses.fields(SolveInfo)}
    kwargs = {k: v for k, v in d.items() if k in fields}
    for key in ("residual", "seconds", "setup_seconds"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = float(kwargs[key])
    if "method" not in kwargs:
        return None
    return SolveInfo(**kwargs)


def load_solution(path):
    """Read a file written by :func:`save_solution` back into a result.

    The space is rebuilt from the stored mesh nodes, orders, node families and coordinates;
    the values come back bit for bit.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Solution, UnionSolution, HeatSolution or ReactionDiffusionSolution
        The kind that was saved: a :class:`~femkron.HeatSolution` (or a reaction–diffusion
        result, without its step operators) for a file with a time dimension, a
        :class:`~femkron.UnionSolution` for one saved from a union of boxes, else a
        :class:`~femkron.Solution`; ``info`` rebuilt as a :class:`~femkron.SolveInfo`.

    Raises
    ------
    FemkronValueError
        A missing or unreadable file, or a netCDF file femkron did not write (naming it).
    MissingDependencyError
        Without xarray.

    Examples
    --------
    >>> import os, tempfile
    >>> import femkron as fk
    >>> V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "u.nc")
    >>> fk.poisson(V, 2.0).save(path)
    >>> fk.load_solution(path).values
    array([0.  , 0.25, 0.  ])
    """
    xr = _import_xarray()
    if not isinstance(path, (str, os.PathLike)):
        raise FemkronTypeError(f"path must be a file path, got {path!r}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "not found"
        raise FemkronValueError(f"path: {path!r} is {what}, not a netCDF file")
    try:
        with xr.open_dataset(
            path, engine="scipy", mask_and_scale=False, decode_times=False
        ) as handle:
            ds = handle.load()
    except Exception as err:  # noqa: BLE001 - any reader failure is "not a netCDF file"
        raise FemkronValueError(
            f"path: cannot read {path!r} as a netCDF file ({type(err).__name__}: {err})"
        ) from None
    attrs = dict(ds.attrs)
    if attrs.get("femkron_format") != FORMAT:
        raise FemkronValueError(
            f"path: {path!r} is a netCDF file but not a femkron result (no "
            f"femkron_format = {FORMAT!r} attribute)"
        )
    version = int(attrs.get("femkron_format_version", 0))
    if version > FORMAT_VERSION:
        raise FemkronValueError(
            f"path: {path!r} has format version {version}; this femkron reads up to "
            f"{FORMAT_VERSION} (update femkron)"
        )
    from ..problems.solution import HeatSolution, Solution

    V, axes = _rebuild_space(ds, attrs, path)
    name = str(attrs.get("values", "u"))
    if name not in ds:
        raise FemkronValueError(f"path: {path!r} lacks the values {name!r}")
    values = np.array(ds[name].values, dtype=float)
    info = _rebuild_info(_attr_json(attrs, "info", path))
    if "t" in ds[name].dims:
        t = np.array(ds["t"].values, dtype=float)
        steps = _attr_json(attrs, "steps", path, 0)
        dt = _attr_json(attrs, "dt", path)
        if attrs.get("kind") == "ReactionDiffusionSolution":
            from ..problems.reaction import ReactionDiffusionSolution

            scheme = _attr_json(attrs, "scheme", path)
            diffusion = _attr_json(attrs, "diffusion", path)
            return ReactionDiffusionSolution(
                V, t, values, info, steps, dt, scheme, tuple(diffusion), None
            )
        return HeatSolution(V, t, values, info, steps, dt=dt)
    if attrs.get("kind") == "UnionSolution":
        from ..problems.union_problems import UnionSolution

        # the union's dofs back from the bounding grid: to_full puts them back bit for bit
        return UnionSolution(V, V.from_full(values), info, problem=str(attrs.get("problem")))
    coefficient = _attr_json(attrs, "coefficient", path)
    peclet = _attr_json(attrs, "peclet", path)
    return Solution(
        V,
        values,
        info,
        problem=str(attrs.get("problem", "poisson")),
        coefficient=coefficient,
        peclet=peclet,
        conditions=_attr_json(attrs, "conditions", path),
    )
