"""Results as data: to_xarray, netCDF save/load (bitwise round trip) and animations.

Truth: the arrays written (bit for bit after reading back), the space rebuilt from the file
(the same dof coordinates and the same discrete operators), the frames of a GIF read back
with Pillow.
"""

import os
import sys

import numpy as np
import pytest

import femkron as fk

xr = pytest.importorskip("xarray")


def graded_space():
    return fk.TensorSpace(
        [
            fk.Space1D(fk.Mesh1D.graded(0.0, 1.0, cells=5, ratio=3.0), order=3),
            fk.Space1D(fk.Mesh1D.uniform(-1.0, 2.0, cells=4), order=2, nodes="equispaced"),
        ]
    )


def same_space(A, B):
    assert type(A) is type(B) and A.shape == B.shape
    for s, t in zip(A.spaces, B.spaces):
        assert np.array_equal(s.mesh.nodes, t.mesh.nodes) and np.array_equal(s.x, t.x)
        assert s.order == t.order and s.nodes == t.nodes
    assert A.coordinates.name == B.coordinates.name


def test_to_xarray_layout():
    V = graded_space()
    sol = fk.poisson(V, lambda x, y: 1 + x * y)
    ds = sol.to_xarray()
    assert ds["u"].dims == ("x", "y")
    assert np.array_equal(ds["u"].values, sol.values)
    assert np.array_equal(ds["x"].values, V.spaces[0].x)
    assert np.array_equal(ds["mesh_x"].values, V.spaces[0].mesh.nodes)
    a = ds.attrs
    assert a["problem"] == "poisson" and a["coordinate_system"] == "cartesian"
    assert a["orders"] == "[3, 2]" and a["node_families"] == '["gll", "equispaced"]'
    assert a["femkron_version"] == fk.__version__
    assert '"method": "fdm"' in a["info"]
    assert "left Dirichlet" in a["conditions"]
    # a value at a dof, selected by coordinates
    i, j = 4, 3
    assert ds["u"].sel(x=V.spaces[0].x[i], y=V.spaces[1].x[j]).item() == sol.values[i, j]


@pytest.mark.parametrize("make", ["box2d", "box1d", "box3d", "disk"])
def test_save_load_round_trip_is_bitwise(tmp_path, make):
    if make == "box2d":
        V = graded_space()
        sol = fk.poisson(V, lambda x, y: np.exp(x) * np.cos(y), kappa=lambda x, y: 1 + x * x)
    elif make == "box1d":
        V = fk.TensorSpace.box([(0, 2)], cells=7, order=4)
        sol = fk.poisson(V, lambda x: np.sin(x))
    elif make == "box3d":
        V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 0.5)], cells=(2, 3, 2), order=(1, 2, 1))
        sol = fk.poisson(V, 1.0)
    else:
        if not hasattr(fk.TensorSpace, "disk"):
            pytest.skip("curvilinear spaces not available")
        V = fk.TensorSpace.disk(radius=1.5, cells=(4, 8), order=2)
        sol = fk.Solution(V, V.interpolate(lambda r, t: r * r * np.cos(t)), problem="given")
    path = tmp_path / "u.nc"
    sol.save(path)
    back = fk.load_solution(path)
    assert isinstance(back, fk.Solution)
    same_space(back.V, sol.V)
    assert back.values.tobytes() == sol.values.tobytes()
    assert back.problem == sol.problem and back.coefficient == sol.coefficient
    if make != "disk":
        assert back.conditions == sol.conditions.describe()  # the conditions, as text
    if make == "disk":
        assert back.info is None and back.to_xarray()["u"].dims == ("r", "theta")
        return
    assert back.info.method == sol.info.method and back.info.residual == sol.info.residual
    # the rebuilt space gives the same discrete problem: solving again gives the same values
    assert np.array_equal(fk.poisson(back.V, 1.0).values, fk.poisson(sol.V, 1.0).values)


def test_union_round_trip_is_bitwise(tmp_path):
    if not hasattr(fk, "BoxUnion"):
        pytest.skip("unions of boxes not available")
    U = fk.BoxUnion.lshape(cells=4, order=2)
    sol = fk.poisson(U, 1.0)
    path = tmp_path / "lshape.nc"
    fk.io.save_solution(sol, path)
    back = fk.load_solution(path)
    # the partition rebuilt from the stored boxes: the same kept cells, dofs and grid
    assert type(back.V) is type(U) and back.V.boxes == U.boxes and back.V.ndofs == U.ndofs
    same_space(back.V.space, U.space)
    values = np.asarray(sol.values, dtype=float)
    assert back.values.tobytes() == values.tobytes()  # NaN outside the union included


def test_heat_round_trip_with_time_dimension(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=5, order=2)
    ht = fk.heat(V, lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y), 0.05, 0.005, snapshots=4)
    ds = ht.to_xarray()
    assert ds["u"].dims == ("t", "x", "y") and np.array_equal(ds["t"].values, ht.t)
    path = tmp_path / "heat.nc"
    ht.save(path)
    back = fk.load_solution(path)
    assert isinstance(back, fk.HeatSolution)
    assert back.values.tobytes() == np.asarray(ht.values, dtype=float).tobytes()
    assert back.t.tobytes() == np.asarray(ht.t, dtype=float).tobytes()
    assert back.steps == ht.steps and back.dt == ht.dt
    same_space(back.V, V)


def test_save_is_atomic_and_refuses_bad_paths(tmp_path, monkeypatch):
    V = fk.TensorSpace.box([(0, 1)], cells=3, order=1)
    sol = fk.poisson(V, 1.0)
    with pytest.raises(fk.FemkronValueError, match="does not exist"):
        sol.save(tmp_path / "missing" / "u.nc")
    with pytest.raises(fk.FemkronValueError, match="folder"):
        sol.save(tmp_path)
    target = tmp_path / "u.nc"
    target.write_bytes(b"old contents")

    def broken(self, path, **kwargs):  # writes half a file, then fails
        with open(path, "wb") as fh:
            fh.write(b"CDF\x02partial")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        sol.save(target)
    assert target.read_bytes() == b"old contents"  # untouched
    assert sorted(os.listdir(tmp_path)) == ["u.nc"]  # no temporary file left behind


def test_load_refuses_what_femkron_did_not_write(tmp_path):
    other = tmp_path / "other.nc"
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(other, engine="scipy")
    with pytest.raises(fk.FemkronValueError, match="not a femkron result"):
        fk.load_solution(other)
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"definitely not netCDF")
    with pytest.raises(fk.FemkronValueError, match="cannot read"):
        fk.load_solution(junk)
    with pytest.raises(fk.FemkronValueError, match="not found"):
        fk.load_solution(tmp_path / "nothing.nc")


def test_missing_xarray_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray raises ImportError
    V = fk.TensorSpace.box([(0, 1)], cells=3, order=1)
    sol = fk.poisson(V, 1.0)
    with pytest.raises(fk.errors.MissingDependencyError, match=r"femkron\[io\]"):
        sol.to_xarray()
    with pytest.raises(fk.errors.MissingDependencyError):
        sol.save(tmp_path / "u.nc")
    assert not (tmp_path / "u.nc").exists()
    with pytest.raises(fk.errors.MissingDependencyError):
        fk.load_solution(tmp_path / "u.nc")


@pytest.mark.parametrize("dim", [1, 2])
def test_animate_writes_one_gif_frame_per_snapshot(tmp_path, dim):
    from PIL import Image

    if dim == 1:
        V = fk.TensorSpace.box([(0, 1)], cells=8, order=2)
        u0 = lambda x: np.sin(np.pi * x) + np.sin(3 * np.pi * x)
    else:
        V = fk.TensorSpace.box([(0, 2), (0, 1)], cells=(8, 4), order=1)
        u0 = lambda x, y: np.sin(np.pi * x / 2) * np.sin(np.pi * y)
    ht = fk.heat(V, u0, t_end=0.2, dt=0.01, snapshots=5)
    path = ht.animate(tmp_path / "heat.gif", fps=5)
    with Image.open(path) as img:
        assert img.format == "GIF" and img.n_frames == 5
    assert sorted(os.listdir(tmp_path)) == ["heat.gif"]
    with pytest.raises(fk.FemkronValueError, match=r"\.gif or \.mp4"):
        ht.animate(tmp_path / "heat.avi")
    assert sorted(os.listdir(tmp_path)) == ["heat.gif"]


def gray_scott_run(snapshots=3):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    u0 = (lambda x, y: 1 + 0 * x, lambda x, y: 0.25 * np.sin(np.pi * x) ** 2 + 0 * y)

    def gray_scott(u, v):
        return -u * v * v + 0.04 * (1 - u), u * v * v - 0.1 * v

    return fk.reaction_diffusion(
        V,
        u0,
        (2e-3, 1e-3),
        gray_scott,
        t_end=1.0,
        dt=0.1,
        bc={"x": fk.Periodic(), "y": fk.Periodic()},
        snapshots=snapshots,
    )


def test_reaction_diffusion_round_trip_with_species(tmp_path):
    rd = gray_scott_run()
    ds = rd.to_xarray()
    assert ds["u"].dims == ("t", "species", "x", "y")
    assert ds.attrs["problem"] == "reaction-diffusion"
    path = tmp_path / "rd.nc"
    rd.save(path)
    back = fk.load_solution(path)
    assert type(back) is type(rd)
    assert back.values.tobytes() == np.asarray(rd.values, dtype=float).tobytes()
    assert back.t.tobytes() == np.asarray(rd.t, dtype=float).tobytes()
    assert back.diffusion == rd.diffusion and back.scheme == rd.scheme
    assert back.steps == rd.steps and back.dt == rd.dt and back.species == 2
    assert back.info.method == rd.info.method and back.operators is None
    same_space(back.V, rd.V)
    assert "2 species" in str(back)


def test_reaction_diffusion_one_species_round_trip(tmp_path):
    V = fk.TensorSpace.box([(0, 1)], cells=6, order=2)
    rd = fk.reaction_diffusion(
        V, lambda x: 0.2 + 0.1 * x, 0.01, lambda u: u * (1 - u), t_end=0.5, dt=0.05, snapshots=3
    )
    assert rd.to_xarray()["u"].dims == ("t", "x")  # no species axis for one species
    rd.save(tmp_path / "one.nc")
    back = fk.load_solution(tmp_path / "one.nc")
    assert back.values.shape == (3, 13) and back.species == 1
    assert back.values.tobytes() == np.asarray(rd.values, dtype=float).tobytes()


def test_reaction_diffusion_animate_one_frame_per_snapshot(tmp_path):
    from PIL import Image

    rd = gray_scott_run(snapshots=4)
    path = rd.animate(tmp_path / "v.gif", species=1, fps=4)
    with Image.open(path) as img:
        assert img.format == "GIF" and img.n_frames == 4
    with pytest.raises(fk.FemkronValueError, match="species"):
        rd.animate(tmp_path / "w.gif", species=2)
    assert sorted(os.listdir(tmp_path)) == ["v.gif"]  # nothing written for the refused call
