"""Fuzzing the mesh-file reader and the command line with hypothesis-generated input.

Whatever the input, the reader returns a valid mesh or raises a femkron error (a
``MeshFileError`` naming the file), and the ``femkron`` command exits with status 0 or 2 with
one line on stderr: never a traceback.  Example counts come from the hypothesis profile of
``tests/conftest.py``: 25 per test by default, 400 with ``HYPOTHESIS_PROFILE=thorough``;
the reader tests run 8 times as many (they are cheap).
"""

import json
import math
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import femkron as fk
from femkron.cli import main
from femkron.io import MeshFileError, read_mesh_text

CHEAP = settings(max_examples=settings().max_examples * 8)

# ---- mesh files ----------------------------------------------------------------------------
scalars = st.one_of(
    st.integers(-(10**20), 10**20),
    st.integers(-3, 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-5, 5),
    st.booleans(),
    st.text(max_size=6),
    st.sampled_from(["uniform", "graded", "chebyshev", "nodes", "UNIFORM", ""]),
)
values = st.one_of(
    scalars,
    st.lists(st.one_of(st.floats(-2, 3), st.just(math.nan)), max_size=7),
    st.lists(st.integers(-2, 5), max_size=5),
    st.lists(scalars, max_size=3),
)
keys = st.sampled_from(["kind", "a", "b", "cells", "ratio", "nodes", "name", "extra", "Kind"])


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    return "[" + ", ".join(toml_value(x) for x in v) + "]"


@st.composite
def mesh_files(draw):
    """TOML text shaped like a mesh file: mostly well-formed, with wrong keys and values."""
    lines = []
    if draw(st.booleans()):
        lines.append(f"description = {toml_value(draw(scalars))}")
    if draw(st.integers(0, 5)) == 0:
        lines.append(f"{draw(keys)} = {toml_value(draw(values))}")
    for _ in range(draw(st.integers(0, 4))):
        lines.append(draw(st.sampled_from(["[[axis]]", "[[axis]]", "[axis]", "[other]"])))
        kind = draw(st.sampled_from(["uniform", "graded", "chebyshev", "nodes", None]))
        table = {"kind": kind} if kind else {}
        table.update(draw(st.dictionaries(keys, values, max_size=5)))
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 9)) == 0:  # damage it
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.text(max_size=4)) + text[cut:]
    return text


def check_mesh(mesh):
    assert isinstance(mesh, fk.TensorMesh) and mesh.dim >= 1
    for m in mesh:
        assert m.cells >= 1 and np.all(np.diff(m.nodes) > 0) and np.all(np.isfinite(m.nodes))


@CHEAP
@given(mesh_files())
def test_mesh_reader_structured_fuzz(text):
    try:
        mesh = read_mesh_text(text, "fuzz.toml")
    except MeshFileError as err:
        assert str(err).startswith("fuzz.toml")
        assert "\n" not in str(err)
    else:
        check_mesh(mesh)


@CHEAP
@given(st.text(max_size=300))
def test_mesh_reader_random_text(text):
    try:
        check_mesh(read_mesh_text(text, "fuzz.toml"))
    except MeshFileError as err:
        assert str(err).startswith("fuzz.toml")


@settings(max_examples=settings().max_examples * 2)
@given(st.binary(max_size=300))
def test_load_mesh_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "m.toml"
    path.write_bytes(data)
    try:
        check_mesh(fk.load_mesh(path))
    except MeshFileError as err:
        assert str(path) in str(err)


def test_mesh_reader_known_regressions():
    for text in (
        "[[axis]]\nkind = []\n",
        '[[axis]]\nkind = "graded"\na = 0\nb = 1\ncells = 60\nratio = 1e300\n',
    ):
        try:
            read_mesh_text(text, "r.toml")
        except MeshFileError as err:
            assert "axis[0]" in str(err)
        else:  # a list as kind, and cells that a ratio of 1e300 shrinks to zero length
            raise AssertionError(f"an invalid mesh file was accepted:\n{text}")


@settings(max_examples=settings().max_examples * 2)
@given(
    key=st.sampled_from(["nodes", "kind", "cells", "a", "extra"]),
    depth=st.one_of(st.integers(1, 40), st.integers(40, 6000)),
    brackets=st.sampled_from([("[", "]"), ("{x = ", "}"), ("[{x = ", "}]")]),
    kind=st.sampled_from(["uniform", "graded", "chebyshev", "nodes"]),
    cells=st.one_of(st.integers(-5, 50), st.integers(10**6, 10**30)),
)
def test_mesh_reader_deep_or_huge_values(key, depth, brackets, kind, cells):
    """Nesting and sizes far past what a mesh needs: one-line MeshFileError naming the line."""
    open_, close = brackets
    value = open_ * depth + "1" + close * depth
    text = f'[[axis]]\nkind = "{kind}"\na = 0\nb = 1\ncells = {cells}\n{key} = {value}\n'
    try:
        check_mesh(read_mesh_text(text, "deep.toml"))
    except MeshFileError as err:
        msg = str(err)
        assert msg.startswith("deep.toml: ") and "\n" not in msg and len(msg) < 400
        assert ", line " in msg or "not valid TOML" in msg


@settings(max_examples=settings().max_examples * 2)
@given(kind=st.sampled_from(["uniform", "graded", "chebyshev"]), cells=st.integers(10**7 + 1))
def test_mesh_reader_refuses_huge_cells_before_building(kind, cells):
    text = f'[[axis]]\nkind = "{kind}"\na = 0\nb = 1\ncells = {cells}\n'
    try:
        read_mesh_text(text, "huge.toml")
    except MeshFileError as err:
        assert str(err).startswith("huge.toml: axis[0].cells, line 5: ")
    else:
        raise AssertionError("a mesh file asked for more than MAX_CELLS cells and got them")


# ---- the command line ----------------------------------------------------------------------
OPTION_VALUES = {
    "--dim": ["1", "2", "3", "0", "4", "x", ""],
    "--cells": ["1", "2", "3", "2,3", "3,2,1", "0", "-1", "x", "1e3", "", "100000", "2,,3"],
    "--order": ["1", "2", "3", "0", "25", "-2", "2.5", "x"],
    "--nodes": ["gll", "equispaced", "cheb", ""],
    "--method": ["auto", "fdm", "direct", "cg", "amg", "lu", ""],
    "--kappa": ["1", "0.5", "0", "-1", "nan", "inf", "x"],
    "--wavenumber": ["1", "2.5", "0", "-3", "nan", "1e308"],
    "--t-end": ["0.01", "0", "-1", "inf", "x"],
    "--dt": ["0.005", "0", "1e-300", "nan", "x"],
    "--theta": ["0.5", "1", "2", "-1", "nan"],
    "--levels": ["1", "2", "0", "-1", "x"],
    "-k": ["1", "3", "0", "-2", "100000", "x"],
}
COMMANDS = {
    "solve": ["--dim", "--cells", "--order", "--nodes", "--method", "--kappa", "--wavenumber"]
    + ["--t-end", "--dt", "--theta", "--mesh", "--plot", "--json", "--vtk"],
    "convergence": ["--dim", "--cells", "--order", "--method", "--levels", "--mesh", "--json"],
    "eig": ["--dim", "--cells", "--order", "--nodes", "-k", "--mesh", "--json"],
    "info": ["--json"],
}
FILE_NAMES = ["out.json", "out.png", "out.vtu", "out.txt", "no/such/dir/out.json", "", "-", "."]


@st.composite
def command_lines(draw, folder):
    command = draw(st.sampled_from([*COMMANDS, "bogus", "--version", "--help-me"]))
    argv = [command]
    if command == "solve":
        argv += draw(st.sampled_from([[], ["poisson"], ["helmholtz"], ["heat"], ["wave"]]))
    if command == "convergence" and draw(st.booleans()):
        argv.append(draw(st.sampled_from(["poisson", "helmholtz", "heat"])))
    for option in draw(st.lists(st.sampled_from(COMMANDS.get(command, ["--dim"])), max_size=4)):
        if option == "--mesh":
            path = os.path.join(folder, f"mesh{draw(st.integers(0, 3))}.toml")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(draw(mesh_files()))
            argv += [option, path]
        elif option in ("--plot", "--json", "--vtk"):
            name = draw(st.sampled_from(FILE_NAMES))
            argv += [option, os.path.join(folder, name) if name not in ("", "-") else name]
        else:
            argv += [option, draw(st.sampled_from(OPTION_VALUES[option]))]
    if draw(st.integers(0, 9)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(st.text(max_size=5)))
    return argv


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_cli_fuzz_exits_cleanly(tmp_path_factory, capsys, data):
    folder = str(tmp_path_factory.mktemp("cli"))
    argv = data.draw(command_lines(folder))
    try:
        status = main(argv)
    except SystemExit as exit_:  # --version / --help print and exit like argparse does
        status = exit_.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert status in (0, 2), (argv, status, captured.err)
    if status == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1, (argv, captured.err)
        assert lines[0].startswith("femkron"), lines[0]
    leftovers = [n for n in os.listdir(folder) if ".part" in n]
    assert not leftovers, leftovers
