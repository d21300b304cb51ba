"""Mesh files (TOML) and VTK export, checked against independent constructions."""

import os
import pathlib
import sys

import numpy as np
import pytest

import femkron as fk
from femkron import io as fio

MESHES = pathlib.Path(__file__).resolve().parents[2] / "meshes"


def _files():
    return sorted(MESHES.glob("*.toml"))


def test_at_least_six_mesh_files_cover_the_advertised_kinds():
    names = {p.stem for p in _files()}
    assert len(names) >= 6
    kinds = set()
    dims = set()
    for p in _files():
        mesh = fk.load_mesh(p)
        assert isinstance(mesh, fk.TensorMesh)
        assert mesh.description  # every shipped file says what it is
        kinds |= {m.kind for m in mesh}
        dims.add(mesh.dim)
    assert {"uniform", "graded", "chebyshev", "nodes"} <= kinds
    assert {1, 2, 3} <= dims


def test_shipped_meshes_have_the_described_geometry():
    sq = fk.load_mesh(MESHES / "unit_square.toml")
    assert sq.bounds == ((0.0, 1.0), (0.0, 1.0))
    np.testing.assert_allclose(sq[0].nodes, np.linspace(0, 1, sq.shape[0] + 1))
    cube = fk.load_mesh(MESHES / "unit_cube.toml")
    assert cube.dim == 3 and cube.volume == pytest.approx(1.0)
    bl = fk.load_mesh(MESHES / "boundary_layer.toml")
    h = bl[1].h
    np.testing.assert_allclose(h[1:] / h[:-1], 1.25, rtol=1e-12)  # geometric grading
    assert h.sum() == pytest.approx(1.0)
    ch = fk.load_mesh(MESHES / "chebyshev.toml")
    n = ch.shape[0]
    expected = -np.cos(np.pi * np.arange(n + 1) / n)  # Chebyshev–Lobatto points on [-1, 1]
    np.testing.assert_allclose(ch[0].nodes, expected, atol=1e-14)
    channel = fk.load_mesh(MESHES / "channel.toml")
    (a0, b0), (a1, b1) = channel.bounds
    assert (b0 - a0) / (b1 - a1) >= 4  # anisotropic
    bar = fk.load_mesh(MESHES / "bar.toml")
    assert bar.dim == 1


@pytest.mark.parametrize(
    "mesh",
    [
        fk.Mesh1D.uniform(-1.5, 2.0, 7),
        fk.Mesh1D.graded(0.0, 3.0, 9, ratio=0.8),
        fk.Mesh1D.chebyshev(1e-3, 1.0, 5),
        fk.Mesh1D([0.0, 0.1, 1 / 3, 0.7, 1.0]),
        fk.Mesh1D.chebyshev(0.0, 1.0, 4).refine(3),
    ],
    ids=["uniform", "graded", "chebyshev", "nodes", "refined"],
)
def test_save_load_round_trip_is_exact(tmp_path, mesh):
    other = fk.Mesh1D.graded(0.0, 1.0, 3, ratio=2.0)
    path = tmp_path / "m.toml"
    fk.save_mesh(fk.TensorMesh([mesh, other]), path, description='a "quoted" name')
    back = fk.load_mesh(path)
    assert back.dim == 2
    assert np.array_equal(back[0].nodes, mesh.nodes)
    assert np.array_equal(back[1].nodes, other.nodes)
    assert back.description == 'a "quoted" name'
    assert os.listdir(tmp_path) == ["m.toml"]  # no temporary file left


def test_random_explicit_nodes_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    for i in range(5):
        nodes = np.cumsum(rng.uniform(1e-3, 1.0, size=rng.integers(2, 30)))
        path = tmp_path / f"r{i}.toml"
        fk.save_mesh(fk.Mesh1D(nodes), path)
        assert np.array_equal(fk.load_mesh(path)[0].nodes, nodes)


BAD = [
    ("[[axis]\nkind = 3\n", "not valid TOML", "line 1"),
    ('grid = 3\n[[axis]]\nkind = "uniform"\n', "grid", "line 1"),
    ('description = "x"\n', "at least one [[axis]]", None),
    ('[[axis]]\nkind = "uniform"\na = 0.0\nb = 1.0\ncells = 0\n', "axis[0].cells", "line 5"),
    (
        '[[axis]]\nkind = "uniform"\na = 0.0\nb = 1.0\ncells = 2.5\n',
        "cells must be an integer",
        "line 5",
    ),
    ('[[axis]]\nkind = "uniform"\na = 2.0\nb = 1.0\ncells = 3\n', "b > a", "line 4"),
    ('[[axis]]\nkind = "graded"\na = 0\nb = 1\ncells = 3\nratio = 0\n', "axis[0].ratio", "line 6"),
    (
        '[[axis]]\nkind = "uniform"\na = 0\nb = 1\ncells = 3\nrato = 1\n',
        "unknown key 'rato'",
        "line 6",
    ),
    ('[[axis]]\nkind = "unifrom"\n', "axis[0].kind", "line 2"),
    ('[[axis]]\nkind = "chebyshev"\na = 0\n', "needs key 'b'", "line 1"),
    ("[[axis]]\na = 0\n", "missing key 'kind'", "line 1"),
    (
        '[[axis]]\nkind = "uniform"\na = 0\nb = 1\ncells = 2\n\n[[axis]]\nnodes = [0, 2, 1]\n',
        "axis[1].nodes",
        "line 8",
    ),
    ('[[axis]]\nkind = "nodes"\nnodes = ["a"]\n', "array of numbers", "line 3"),
    ('description = 3\n[[axis]]\nkind = "nodes"\nnodes = [0, 1]\n', "description", "line 1"),
]


@pytest.mark.parametrize("text,what,line", BAD)
def test_malformed_files_name_file_key_and_line(tmp_path, text, what, line):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(fio.MeshFileError) as info:
        fk.load_mesh(path)
    msg = str(info.value)
    assert str(path) in msg and what in msg
    if line:
        assert line in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, fk.FemkronError)


def test_missing_or_unreadable_files(tmp_path):
    with pytest.raises(fio.MeshFileError, match="not found"):
        fk.load_mesh(tmp_path / "nope.toml")
    with pytest.raises(fio.MeshFileError, match="folder"):
        fk.load_mesh(tmp_path)
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(fio.MeshFileError, match="UTF-8"):
        fk.load_mesh(tmp_path / "bin.toml")
    with pytest.raises(TypeError):
        fk.load_mesh(3)


def test_save_mesh_bad_arguments_and_atomicity(tmp_path, monkeypatch):
    with pytest.raises(TypeError):
        fk.save_mesh("not a mesh", tmp_path / "a.toml")
    with pytest.raises(ValueError, match="does not exist"):
        fk.save_mesh(fk.Mesh1D.uniform(0, 1, 2), tmp_path / "missing" / "a.toml")
    target = tmp_path / "keep.toml"
    target.write_text("old contents\n")
    # the write fails: mesh_text returns no text
    monkeypatch.setattr(fio.meshfile, "mesh_text", lambda mesh, description=None: 12345)
    with pytest.raises(TypeError):
        fk.save_mesh(fk.Mesh1D.uniform(0, 1, 2), target)
    assert target.read_text() == "old contents\n"  # untouched
    assert sorted(os.listdir(tmp_path)) == ["keep.toml"]  # no partial file


# ---- VTK --------------------------------------------------------------------------------
@pytest.fixture
def meshio():
    return pytest.importorskip("meshio")


def _signed_measure(points, cell, dim):
    p = points[cell][:, :dim]
    if dim == 1:
        return p[1, 0] - p[0, 0]
    if dim == 2:  # shoelace
        x, y = p[:, 0], p[:, 1]
        return 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    return np.linalg.det(np.stack([p[1] - p[0], p[3] - p[0], p[4] - p[0]]))


@pytest.mark.parametrize(
    "bounds,cells,order",
    [
        ([(0, 2)], 5, 3),
        ([(0, 1), (-1, 2)], (3, 2), 2),
        ([(0, 1), (0, 1), (0, 0.5)], (2, 3, 1), (1, 2, 2)),
    ],
)
def test_vtk_round_trip(tmp_path, meshio, bounds, cells, order):
    V = fk.TensorSpace.box(bounds, cells=cells, order=order)
    rng = np.random.default_rng(0)
    u = rng.standard_normal(V.shape)
    w = V.interpolate(lambda *xs: sum(xs))
    path = tmp_path / "out.vtu"
    fk.write_vtk(path, V, {"u": u, "w": w.ravel()})
    m = meshio.read(path)
    grid = V.grid()
    for d in range(V.dim):
        np.testing.assert_allclose(m.points[:, d], grid[d].ravel())
    np.testing.assert_allclose(m.point_data["u"], u.ravel())
    np.testing.assert_allclose(m.point_data["w"], w.ravel())
    (block,) = m.cells
    assert block.type == {1: "line", 2: "quad", 3: "hexahedron"}[V.dim]
    assert block.data.shape == (int(np.prod([n - 1 for n in V.shape])), 2**V.dim)
    # sub-cells tile the box with positive orientation
    measures = np.array([_signed_measure(m.points, c, V.dim) for c in block.data])
    assert np.all(measures > 0)
    assert measures.sum() == pytest.approx(V.volume)
    assert os.listdir(tmp_path) == ["out.vtu"]


def test_legacy_vtk_and_solution_to_vtk(tmp_path, meshio):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    sol = fk.poisson(V, 1.0)
    sol.to_vtk(tmp_path / "sol.vtk", name="temperature")
    m = meshio.read(tmp_path / "sol.vtk")
    np.testing.assert_allclose(m.point_data["temperature"], sol.values.ravel())


def test_vtk_bad_arguments(tmp_path, meshio):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=2, order=1)
    u = np.zeros(V.shape)
    with pytest.raises(ValueError, match=r"\.vtu"):
        fk.write_vtk(tmp_path / "u.txt", V, {"u": u})
    with pytest.raises(ValueError, match="9 values"):
        fk.write_vtk(tmp_path / "u.vtu", V, {"u": np.zeros(5)})
    with pytest.raises(ValueError, match="NaN"):
        fk.write_vtk(tmp_path / "u.vtu", V, {"u": np.full(V.shape, np.nan)})
    with pytest.raises(TypeError):
        fk.write_vtk(tmp_path / "u.vtu", V, u)
    with pytest.raises(TypeError):
        fk.write_vtk(tmp_path / "u.vtu", "V", {"u": u})
    with pytest.raises(ValueError, match="does not exist"):
        fk.write_vtk(tmp_path / "no" / "u.vtu", V, {"u": u})
    assert os.listdir(tmp_path) == []


def test_missing_meshio_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "meshio", None)  # import meshio now raises ImportError
    V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    with pytest.raises(ImportError, match=r"pip install femkron\[io\]") as info:
        fk.write_vtk(tmp_path / "u.vtu", V, {"u": np.zeros(V.shape)})
    assert isinstance(info.value, fk.FemkronError)
    assert os.listdir(tmp_path) == []


def test_vtk_cells_match_a_brute_force_construction():
    shape = (3, 4, 2)
    idx = np.arange(np.prod(shape)).reshape(shape)
    brute = []
    for i in range(shape[0] - 1):
        for j in range(shape[1] - 1):
            for k in range(shape[2] - 1):
                brute.append(
                    [
                        idx[i, j, k], idx[i + 1, j, k], idx[i + 1, j + 1, k], idx[i, j + 1, k],
                        idx[i, j, k + 1], idx[i + 1, j, k + 1], idx[i + 1, j + 1, k + 1],
                        idx[i, j + 1, k + 1],
                    ]
                )  # fmt: skip
    assert np.array_equal(fio.vtk_cells(shape), np.array(brute))


# ---- limits: huge sizes and deep nesting are refused before anything is built ----------
def _forbid_building(monkeypatch):
    """Make every Mesh1D constructor fail the test: a refusal must come before them."""

    def built(*args, **kwargs):
        raise AssertionError("a mesh was built before the refusal")

    for kind in ("uniform", "graded", "chebyshev"):
        monkeypatch.setattr(fk.Mesh1D, kind, built)


@pytest.mark.parametrize(
    "cells,what",
    [
        ("1000000000000", "is more than the 10000000 per axis"),
        ("10000001", "is more than the 10000000 per axis"),
        (str(10**400), "is more than the 10000000 per axis"),
        ("1e30", "must be an integer"),
        ("1e3", "must be an integer"),
    ],
)
@pytest.mark.parametrize("kind", ["uniform", "graded", "chebyshev"])
def test_huge_cells_are_refused_naming_file_key_and_line(tmp_path, monkeypatch, kind, cells, what):
    path = tmp_path / "huge.toml"
    path.write_text(f'[[axis]]\nkind = "{kind}"\na = 0.0\nb = 1.0\ncells = {cells}\n')
    _forbid_building(monkeypatch)
    with pytest.raises(fio.MeshFileError) as info:
        fk.load_mesh(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: axis[0].cells, line 5: ") and what in msg
    assert "\n" not in msg and len(msg) < 300


def test_cells_over_the_memory_limit_are_refused_with_the_largest_axis(tmp_path, monkeypatch):
    fk.set_memory_limit(2**20)  # 1 MiB: two axes of 30000 cells need about 1.4 MiB together
    path = tmp_path / "big.toml"
    path.write_text(
        '[[axis]]\nkind = "uniform"\na = 0\nb = 1\ncells = 20000\n\n'
        '[[axis]]\nkind = "graded"\na = 0\nb = 1\ncells = 30000\nratio = 1.0001\n'
    )
    _forbid_building(monkeypatch)
    with pytest.raises(fio.MeshFileError, match="memory limit") as info:
        fk.load_mesh(path)
    assert str(info.value).startswith(f"{path}: axis[1].cells, line 11: ")
    assert isinstance(info.value, fk.FemkronValueError)


def test_too_many_explicit_nodes_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(fio.meshfile, "MAX_CELLS", 3)
    path = tmp_path / "many.toml"
    path.write_text('[[axis]]\nkind = "nodes"\nnodes = [0, 1, 2, 3, 4]\n')
    with pytest.raises(fio.MeshFileError, match="5 nodes are more than the 4") as info:
        fk.load_mesh(path)
    assert str(info.value).startswith(f"{path}: axis[0].nodes, line 3: ")


def _deep(n, open_="[", close="]", inner=""):
    return open_ * n + inner + close * n


DEEP = [
    ('[[axis]]\nkind = "nodes"\nnodes = ' + _deep(10000) + "\n", "axis[0].nodes, line 3"),
    ('[[axis]]\nkind = "nodes"\nnodes = [\n' + _deep(3000) + "]\n", "axis[0].nodes, line 3"),
    ('[[axis]]\nkind = "nodes"\n"nodes" = ' + _deep(40), "axis[0].nodes, line 3"),
    ("[[axis]]\nkind = " + _deep(10000, "{a = ", "}", "1") + "\n", "axis[0].kind, line 2"),
    ('description = "d"\nextra = ' + _deep(5000) + "\n[[axis]]\n", "extra, line 2"),
]


@pytest.mark.parametrize("text,where", DEEP, ids=range(len(DEEP)))
def test_deep_nesting_is_one_line_naming_file_key_and_line(tmp_path, text, where):
    path = tmp_path / "deep.toml"
    path.write_text(text)
    with pytest.raises(fio.MeshFileError) as info:
        fk.load_mesh(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: {where}: ") and "nested" in msg
    assert "\n" not in msg and len(msg) < 400


def test_parser_recursion_is_caught_too(monkeypatch):
    """Without the pre-check, the TOML parser's RecursionError still becomes a MeshFileError."""
    monkeypatch.setattr(fio.meshfile, "MAX_NESTING", 10**9)
    text = '[[axis]]\nkind = "nodes"\nnodes = ' + _deep(10000) + "\n"
    with pytest.raises(fio.MeshFileError, match=r"^m\.toml: axis\[0\]\.nodes, line 3: .*nested"):
        fio.read_mesh_text(text, "m.toml")


def test_deep_dotted_keys_give_a_short_message():
    """Dotted keys nest tables without brackets; the message must not recurse into them."""
    text = '[[axis]]\nkind = "uniform"\na = 0\nb = 1\ncells' + ".x" * 5000 + " = 1\n"
    with pytest.raises(fio.MeshFileError, match=r"axis\[0\]\.cells, line 5: cells must be an int"):
        fio.read_mesh_text(text, "m.toml")


def test_brackets_in_strings_and_comments_do_not_count_as_nesting():
    many = "[" * 40
    text = (
        f'description = "{many} \\" {many}"  # {many}\n'
        f"[[axis]]  # {many}\n"
        f"kind = 'nodes'\n"
        f'name = """{many}\n{many}\\""""\n'
        f"nodes = [0.0, # {many}\n 0.5, 1.0]\n"
    )
    mesh = fio.read_mesh_text(text, "m.toml")
    assert mesh.description.startswith(many) and mesh[0].cells == 2
    depth, _ = fio.meshfile._nesting(text)
    assert depth == 2  # the [[axis]] header


def test_command_line_deeply_nested_mesh_is_one_line(tmp_path, capsys):
    from femkron.cli import main

    path = tmp_path / "deep.toml"
    path.write_text('[[axis]]\nkind = "nodes"\nnodes = ' + _deep(10000) + "\n")
    assert main(["solve", "--mesh", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}: axis[0].nodes, line 3" in err[0]
