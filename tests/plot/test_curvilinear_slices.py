"""Slices of cylinders and spherical shells: the drawn points are physical coordinates, the
drawn values are the function there, the seam is closed, one colour scale, equal aspect."""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import femkron as fk  # noqa: E402
from femkron.plot.curvilinear3d import plot_curvilinear_slices  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _meshes(ax):
    """``(coordinates (n, m, 2), values (n, m))`` of every pcolormesh patch of ``ax``."""
    out = []
    for m in ax.collections:
        xy = m.get_coordinates()
        out.append((xy, np.asarray(m.get_array()).reshape(xy.shape[:2])))
    return out


def test_cylinder_slices_show_the_function_at_physical_points(tmp_path):
    # u = z + r lies in the space exactly (linear in r and z, constant in θ), so the drawn
    # values equal z + sqrt(x² + y²) at the drawn points to rounding
    R, H = 1.5, 2.0
    C = fk.TensorSpace.cylinder(radius=R, height=H, cells=(3, 12, 2), order=1)
    u = C.interpolate(lambda r, t, z: z + r + 0 * t)
    axes = plot_curvilinear_slices(C, u, kind="pcolormesh")
    assert [a.get_title() for a in axes] == ["z = 1", "y = 0 (θ = 0 and π)"]
    assert all(a.get_aspect() == 1.0 for a in axes)
    ((xy, Z),) = _meshes(axes[0])
    assert np.allclose(Z, H / 2 + np.hypot(xy[..., 0], xy[..., 1]), atol=1e-12)
    assert np.isclose(np.hypot(xy[..., 0], xy[..., 1]).max(), R)
    # the seam is closed: the first and last angle samples are the same physical points
    assert np.allclose(xy[:, 0], xy[:, -1], atol=1e-12)
    halves = _meshes(axes[1])
    assert len(halves) == 2
    for xy, Z in halves:
        assert np.allclose(Z, xy[..., 1] + np.abs(xy[..., 0]), atol=1e-12)
    xs = np.concatenate([xy[..., 0].ravel() for xy, _ in halves])
    assert np.isclose(xs.min(), -R) and np.isclose(xs.max(), R)
    # one colour scale and one labelled colorbar for both panels
    clims = {m.get_clim() for a in axes for m in a.collections}
    assert clims == {(0.0, H + R)}
    fig = axes[0].figure
    cbar = [a for a in fig.axes if a not in list(axes)]
    assert len(cbar) == 1 and cbar[0].get_ylabel() == "u"
    fig.savefig(tmp_path / "cylinder.png")
    assert (tmp_path / "cylinder.png").stat().st_size > 10_000


def test_shell_equator_and_meridian(tmp_path):
    # u = r: exact in the space; equator values sqrt(x² + y²), meridian sqrt(x² + z²)
    S = fk.TensorSpace.spherical_shell(0.5, 1.0, cells=(2, 4, 8), order=1)
    u = S.interpolate(lambda r, t, p: r + 0 * t * p)
    axes = fk.plot.plot_function(S, u, kind="pcolormesh")
    assert [a.get_xlabel() + a.get_ylabel() for a in axes] == ["xy", "xz"]
    ((xy, Z),) = _meshes(axes[0])
    assert np.allclose(Z, np.hypot(xy[..., 0], xy[..., 1]), atol=1e-12)
    assert np.allclose(xy[:, 0], xy[:, -1], atol=1e-12)  # closed seam at φ = 0 = 2π
    halves = _meshes(axes[1])
    signs = set()
    for xz, Z in halves:
        assert np.allclose(Z, np.hypot(xz[..., 0], xz[..., 1]), atol=1e-12)
        signs.add(np.sign(xz[..., 0].sum()))
        # each half runs from the north pole (0, r) to the south pole (0, -r): they meet there
        assert np.allclose(xz[:, 0, 0], 0, atol=1e-12) and np.allclose(xz[:, -1, 0], 0, atol=1e-12)
    assert signs == {-1.0, 1.0}


def test_a_pipe_section_leaves_the_bore_empty():
    P = fk.TensorSpace.cylinder(radius=1.0, height=1.0, cells=(2, 8, 2), order=1, inner=0.4)
    axes = plot_curvilinear_slices(
        P, P.interpolate(lambda r, t, z: r + 0 * t * z), kind="pcolormesh"
    )
    xs = np.concatenate([xy[..., 0].ravel() for xy, _ in _meshes(axes[1])])
    assert np.abs(xs).min() == pytest.approx(0.4)


def test_contourf_and_the_cli_plot(tmp_path, capsys):
    from femkron.cli import main

    out = tmp_path / "shell.png"
    assert main(["solve", "--domain", "shell", "--cells", "2", "--plot", str(out)]) == 0
    assert out.stat().st_size > 10_000
    C = fk.TensorSpace.cylinder(radius=1.0, height=1.0, cells=(2, 8, 2), order=2)
    axes = plot_curvilinear_slices(C, C.interpolate(lambda r, t, z: r * np.cos(t) * z), z=0.25)
    assert axes[0].get_title() == "z = 0.25"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(z=3.0), "z must lie in the cylinder's height [0, 1]"),
        (dict(section=7.0), "section must be an angle in [0, 2π)"),
        (dict(kind="surface"), "kind"),
    ],
)
def test_bad_arguments(kwargs, message):
    C = fk.TensorSpace.cylinder(radius=1.0, height=1.0, cells=(2, 8, 2), order=1)
    with pytest.raises(fk.errors.FemkronValueError, match=re.escape(message)):
        plot_curvilinear_slices(C, np.zeros(C.ndofs), **kwargs)
    D = fk.TensorSpace.disk(radius=1.0, cells=(2, 8), order=1)
    with pytest.raises(fk.errors.FemkronValueError, match="cylindrical or spherical"):
        plot_curvilinear_slices(D, np.zeros(D.ndofs))


def test_modes_and_heat_panels_are_physical():
    # the panels span the disk [-R, R]² (not the coordinate box [0, R] × [0, 2π])
    R = 2.0
    D = fk.TensorSpace.disk(radius=R, cells=(3, 12), order=2)
    w, v = fk.eigen(D, k=2)
    axes = fk.plot.plot_modes(D, w, v)
    for a in axes:
        (x0, y0), (x1, y1) = a.dataLim.get_points()
        assert np.allclose([x0, y0, x1, y1], [-R, -R, R, R], atol=1e-9)
        assert a.get_aspect() == 1.0 and (a.get_xlabel(), a.get_ylabel()) == ("x", "y")
    C = fk.TensorSpace.cylinder(radius=1.0, height=1.0, cells=(2, 8, 2), order=1)
    ht = fk.heat(C, lambda r, t, z: 1 - r**2 + 0 * t * z, t_end=0.1, dt=0.05, progress=False)
    axes = fk.plot.plot_heat(ht)
    assert axes[0].get_title() == "t = 0 (z = 0.5)"
    (x0, _), (x1, _) = axes[0].dataLim.get_points()
    assert np.allclose([x0, x1], [-1.0, 1.0], atol=1e-9)
