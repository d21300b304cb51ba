"""Figures: what is drawn is checked against independent computations, and every figure
is written to PNG once."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import femkron as fk  # noqa: E402
from femkron import plot as P  # noqa: E402


@pytest.fixture(autouse=True)
def _close_and_forbid_show(monkeypatch):
    def no_show(*args, **kwargs):
        raise AssertionError("plot functions must not call show()")

    monkeypatch.setattr(plt, "show", no_show)
    yield
    plt.close("all")


def _png(ax, tmp_path, name):
    fig = np.atleast_1d(ax).ravel()[0].figure
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 1000


def test_import_femkron_does_not_import_matplotlib():
    code = "import sys, femkron; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_1d_line_is_the_finite_element_function(tmp_path):
    # Q2 reproduces x² exactly, so the drawn line must be x² at every drawn point
    V = fk.TensorSpace.box([(0, 2)], cells=3, order=2)
    ax = P.plot_function(V, V.interpolate(lambda x: x**2), label="q")
    line = ax.lines[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert x.size > 3 * 5  # evaluated between the dofs
    np.testing.assert_allclose(y, x**2, atol=1e-12)
    np.testing.assert_allclose(ax.lines[1].get_xdata(), V.coords[0])  # the dofs
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "q"
    _png(ax, tmp_path, "line")


@pytest.mark.parametrize("kind", ["contourf", "pcolormesh", "surface"])
def test_2d_kinds_have_labelled_colorbar(tmp_path, kind):
    V = fk.TensorSpace.box([(0, 1), (0, 2)], cells=(4, 3), order=2)
    sol = fk.poisson(V, 1.0)
    ax = sol.plot(kind=kind, label="temperature")
    fig = ax.figure
    cbars = [a for a in fig.axes if a is not ax]
    assert len(cbars) == 1 and cbars[0].get_ylabel() == "temperature"
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert "poisson" in ax.get_title()
    _png(ax, tmp_path, kind)


_NEW_CONTOURS = pytest.mark.skipif(
    tuple(int(v) for v in matplotlib.__version__.split(".")[:2]) < (3, 8),
    reason="reads the levels from ax.collections, where contour sets appear from matplotlib 3.8",
)


@_NEW_CONTOURS
def test_2d_contour_levels_span_the_sampled_values():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
    u = V.interpolate(lambda x, y: 3 * x - y)  # bilinear: exact on Q1
    ax = P.plot_function(V, u)
    cs = ax.collections[0]
    assert cs.levels.min() == pytest.approx(-1.0) and cs.levels.max() == pytest.approx(3.0)


@_NEW_CONTOURS
def test_3d_slices_share_one_scale_and_hit_the_planes(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 2), (0, 1)], cells=2, order=2)
    u = V.interpolate(lambda x, y, z: x + 10 * z)  # exactly representable
    axes = P.plot_function(V, u, slices=(0.25, 1.0, 0.5))
    assert len(axes) == 3
    titles = [a.get_title() for a in axes]
    assert titles == ["x = 0.25", "y = 1", "z = 0.5"]
    levels = [a.collections[0].levels for a in axes]
    for lev in levels[1:]:
        np.testing.assert_allclose(lev, levels[0])
    # the slice y = 1 spans all of x + 10 z: [0, 11]
    assert levels[0].min() == pytest.approx(0.0) and levels[0].max() == pytest.approx(11.0)
    # filled bands present in each panel: x = 0.25 → [0.25, 10.25], z = 0.5 → x + 5 in [5, 6]
    step = levels[0][1] - levels[0][0]
    for a, (lo, hi) in zip(axes, [(0.25, 10.25), (0.0, 11.0), (5.0, 6.0)]):
        got_lo, got_hi = _filled_range(a.collections[0])
        assert lo - step <= got_lo <= lo + 1e-12 and hi - 1e-12 <= got_hi <= hi + step
    with pytest.raises(ValueError, match="slices"):
        P.plot_function(V, u, slices=(2.0, 1.0, 0.5))
    _png(axes, tmp_path, "slices")


def _filled_range(cs):
    """Lowest and highest level bounding a non-empty filled band of a contourf set."""
    if hasattr(cs, "get_paths") and len(cs.get_paths()) == len(cs.levels) - 1:
        bands = [len(p.vertices) for p in cs.get_paths()]  # matplotlib >= 3.8: a path a band
    else:  # pragma: no cover - older matplotlib: one collection per band
        bands = [len(c.get_paths()) for c in cs.collections]
    used = [i for i, n in enumerate(bands) if n]
    return cs.levels[min(used)], cs.levels[max(used) + 1]


def test_ax_and_fig_arguments_are_used():
    V = fk.TensorSpace.box([(0, 1)], cells=2, order=1)
    fig, ax = plt.subplots()
    assert P.plot_function(V, np.zeros(V.shape), ax=ax) is ax
    fig2 = plt.figure()
    got = P.plot_mesh(V, fig=fig2)
    assert got.figure is fig2
    with pytest.raises(TypeError):
        P.plot_function(V, np.zeros(V.shape), ax="axes")


def test_mesh_draws_every_cell_boundary(tmp_path):
    m = fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 4), fk.Mesh1D.graded(0, 1, 6, ratio=1.3)])
    ax = P.plot_mesh(m)
    vl, hl = ax.collections[0], ax.collections[1]
    xs = sorted({seg[0][0] for seg in vl.get_segments()})
    ys = sorted({seg[0][1] for seg in hl.get_segments()})
    np.testing.assert_allclose(xs, m[0].nodes)
    np.testing.assert_allclose(ys, m[1].nodes)
    assert ax.get_title() == "mesh: 4 × 6 cells"
    _png(ax, tmp_path, "mesh2d")
    V = fk.TensorSpace.from_mesh(fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 3)]), order=3)
    ax1 = P.plot_mesh(V)
    np.testing.assert_allclose(ax1.lines[2].get_xdata(), V.coords[0])  # dofs marked
    ax3 = P.plot_mesh(fk.TensorMesh([fk.Mesh1D.uniform(0, 1, 2)] * 3))
    assert ax3.name == "3d"
    _png(ax3, tmp_path, "mesh3d")
    with pytest.raises(ValueError, match="show_dofs"):
        P.plot_mesh(m, show_dofs=True)


def test_basis_of_element_and_space(tmp_path):
    el = fk.Lagrange(3)
    ax = P.plot_basis(el)
    curves = ax.lines[: el.order + 1]
    total = np.sum([c.get_ydata() for c in curves], axis=0)
    np.testing.assert_allclose(total, 1.0, atol=1e-12)  # partition of unity
    for j, c in enumerate(curves):  # nodality: φ_j(ξ_j) = 1
        x = c.get_xdata()
        k = np.argmin(np.abs(x - el.nodes[j]))
        assert abs(x[k] - el.nodes[j]) < 0.01 and c.get_ydata()[k] == pytest.approx(1, abs=0.05)
    _png(ax, tmp_path, "basis")
    S = fk.Space1D(fk.Mesh1D.uniform(0, 1, 3), order=2)
    ax2 = P.plot_basis(S, derivative=True)
    slopes = np.sum([c.get_ydata() for c in ax2.lines[: S.ndofs]], axis=0)
    np.testing.assert_allclose(slopes, 0.0, atol=1e-9)  # derivative of Σφ = 1
    with pytest.raises(TypeError):
        P.plot_basis("p2")


def test_spy_matches_dense_kron_and_draws_blocks(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=(3, 2), order=(1, 2))
    A = fk.stiffness(V)
    (Kx, Ky), (Mx, My) = (
        [s.stiffness().toarray() for s in V.spaces],
        [s.mass().toarray() for s in V.spaces],
    )
    dense = np.kron(Kx, My) + np.kron(Mx, Ky)
    ax = P.plot_spy(A)
    marker = ax.lines[0]
    rows, cols = marker.get_ydata(), marker.get_xdata()
    assert rows.size == np.count_nonzero(np.abs(dense) > 1e-14)
    assert np.all(np.abs(dense[rows.astype(int), cols.astype(int)]) > 1e-14)
    hlines = ax.collections[0].get_segments()
    assert len(hlines) == V.shape[0] - 1  # one line between consecutive x-blocks
    assert hlines[0][0][1] == pytest.approx(V.shape[1] - 0.5)
    assert "2 Kronecker terms" in ax.get_title()
    _png(ax, tmp_path, "spy")
    ax2 = P.plot_spy(dense, blocks=5)
    assert len(ax2.collections[0].get_segments()) == (dense.shape[0] - 1) // 5
    with pytest.raises(TypeError):
        P.plot_spy([1, 2])


def test_convergence_slopes_are_measured(tmp_path):
    h = np.array([0.2, 0.1, 0.05, 0.025])
    rng = np.random.default_rng(1)
    e = 0.7 * h**2.5 * (1 + 0.02 * rng.standard_normal(4))
    ax = P.plot_convergence(h, e, labels=["L2"])
    slope = np.polyfit(np.log(h), np.log(e), 1)[0]
    (text,) = [t.get_text() for t in ax.get_legend().get_texts()]
    assert text == f"L2: slope {slope:.2f}"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    _png(ax, tmp_path, "conv")
    ax2 = P.plot_convergence(h, np.vstack([h, h**2]), labels=["a", "b"], fit_last=2)
    texts = [t.get_text() for t in ax2.get_legend().get_texts()]
    assert texts == ["a: slope 1.00", "b: slope 2.00"]
    with pytest.raises(ValueError):
        P.plot_convergence(h, e[:3])


def test_modes_titles_and_shapes(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=3)
    w, v = fk.eigen(V, k=5)
    axes = P.plot_modes(V, w, v, exact=np.pi**2 * np.array([2, 5, 5, 8, 10]), ncols=3)
    assert len(axes) == 5
    assert all(f"λ = {w[i]:.4f}" in a.get_title() for i, a in enumerate(axes))
    assert len(axes[0].figure.axes) == 5  # the unused sixth panel is removed
    _png(axes, tmp_path, "modes")
    V1 = fk.TensorSpace.box([(0, 1)], cells=6, order=2)
    w1, v1 = fk.eigen(V1, k=2)
    P.plot_modes(V1, w1, v1)
    with pytest.raises(ValueError, match="shape"):
        P.plot_modes(V, w, v[:, :3])


def test_heat_snapshots(tmp_path):
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=2)
    ht = fk.heat(V, lambda x, y: np.sin(np.pi * x) * np.sin(np.pi * y), 0.02, 0.005, snapshots=5)
    axes = P.plot_heat(ht, snapshots=[0, 2, 4])
    assert [a.get_title() for a in axes] == [f"t = {ht.t[i]:.3g}" for i in (0, 2, 4)]
    cbar = [a for a in axes[0].figure.axes if a not in list(axes)]
    assert len(cbar) == 1 and cbar[0].get_ylabel() == "u"
    _png(axes, tmp_path, "heat")
    V1 = fk.TensorSpace.box([(0, 1)], cells=4, order=2)
    ht1 = fk.heat(V1, lambda x: np.sin(np.pi * x), 0.02, 0.005, snapshots=3)
    ax = P.plot_heat(ht1)
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="out of range"):
        P.plot_heat(ht1, snapshots=[7])
    with pytest.raises(TypeError):
        P.plot_solution(ht1)


def test_benchmark_rows_and_dict(tmp_path):
    rows = [
        {"method": "fdm", "dofs": 100, "seconds": 0.001},
        {"method": "fdm", "dofs": 1000, "seconds": 0.01},
        {"method": "amg", "dofs": 1000, "seconds": 0.05},
        {"method": "amg", "dofs": 100, "seconds": 0.004},
    ]
    ax = P.plot_benchmark(rows)
    amg = ax.lines[1]
    np.testing.assert_allclose(amg.get_xdata(), [100, 1000])  # sorted by size
    np.testing.assert_allclose(amg.get_ydata(), [0.004, 0.05])
    assert ax.get_ylabel() == "time [s]"
    _png(ax, tmp_path, "bench")
    ax2 = P.plot_benchmark({"csr": ([10, 20], [1.0, 2.0])})
    assert ax2.lines[0].get_label() == "csr"
    with pytest.raises(ValueError):
        P.plot_benchmark([{"method": "x"}])


# ---- layout: nothing cut off, no colliding titles, colorbars beside their panels ----------


def _overlap(a, b):
    """Whether two display boxes share an area (touching edges do not count)."""
    return min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0)


def _all_axes(fig):
    out = []
    for a in fig.axes:
        out += [a, *[c for c in getattr(a, "child_axes", []) if c not in out]]
    return out


def _layout_problems(fig, tol=1.0):
    """What is wrong with the drawn layout of ``fig``: text outside it, or titles overlapping
    each other or an axis label (a panel title on the x label of the panel above)."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    problems = []

    def outside(box):
        return box.x0 < -tol or box.y0 < -tol or box.x1 > W + tol or box.y1 > H + tol

    texts, titles = list(fig.texts), [t for t in fig.texts if t.get_text()]
    for a in _all_axes(fig):
        if outside(a.get_tightbbox(r)):
            problems.append(f"the decorations of an axes leave the figure: {a.get_tightbbox(r)}")
        texts += [a.title, a.xaxis.label, a.yaxis.label]
        titles += [a.title] if a.get_title() else []
    for t in texts:
        if t.get_visible() and t.get_text() and outside(t.get_window_extent(r)):
            problems.append(f"text {t.get_text()!r} leaves the figure: {t.get_window_extent(r)}")
    named = [t for t in texts if t.get_visible() and t.get_text()]
    boxes = [(t, t.get_text(), t.get_window_extent(r)) for t in named]
    for i, (t, s, a) in enumerate(boxes):
        for t2, u, b in boxes[i + 1 :]:
            if (t in titles or t2 in titles) and _overlap(a, b):
                problems.append(f"title {s!r} and {u!r} overlap")
    return problems


def _colorbar_gap(fig, panels):
    """Gap between the panels' right edge and their colorbar (inches, and as a fraction of the
    figure width), and how far the colorbar's ends are from the panels' (fraction of the
    figure height)."""
    fig.canvas.draw()
    every = [c for a in fig.axes for c in (a, *a.child_axes)]  # insets are child axes
    (cax,) = {c for c in every if getattr(c, "_colorbar", None)}  # matplotlib 3.6 to 3.11
    boxes = [a.get_window_extent() for a in panels]
    cbox = cax.get_window_extent()
    gap = cbox.x0 - max(b.x1 for b in boxes)
    ends = max(abs(cbox.y0 - min(b.y0 for b in boxes)), abs(cbox.y1 - max(b.y1 for b in boxes)))
    return gap / fig.dpi, gap / fig.bbox.width, ends / fig.bbox.height


def _assert_colorbar_beside(fig, panels, ends_tol=0.06):
    # before: 0.4 in (2D, 4% of the width) and 0.55 in (3D slices, 5%) of empty space
    inches, fraction, ends = _colorbar_gap(fig, panels)
    assert 0 <= inches < 0.3, f"colorbar {inches:.2f} in ({fraction:.0%}) from the panels"
    assert ends < ends_tol, "the colorbar is not as tall as the panels"


_BOXES_3D = [[(0, 1)] * 3, [(0, 1), (0, 2), (0, 1)], [(0, 3), (0, 1), (0, 0.5)]]


@pytest.mark.parametrize("box", _BOXES_3D, ids=["cube", "tall", "long"])
@pytest.mark.parametrize("kind", ["contourf", "pcolormesh"])
def test_3d_slices_layout(tmp_path, box, kind):
    # the figure of `femkron solve --dim 3 --plot` and examples/poisson_3d.py: labels were cut
    # off at the bottom, the figure title ran into the panel titles, and the colorbar stood
    # apart from the panels
    V = fk.TensorSpace.box(box, cells=2, order=2)
    u = V.interpolate(lambda x, y, z: x * y * z)
    title = "poisson solution: Q2, a title as long as the solver's"
    axes = P.plot_function(V, u, kind=kind, title=title, slices=[0.25 * b for _, b in box])
    fig = axes[0].figure
    assert _layout_problems(fig) == []
    suptitle = fig._suptitle.get_text()  # Figure.get_suptitle() only from matplotlib 3.8
    assert suptitle == title and axes[2].get_title().startswith("z = ")
    _assert_colorbar_beside(fig, axes)
    _png(axes, tmp_path, f"slices-{kind}")


@pytest.mark.parametrize("box", [[(0, 1), (0, 1)], [(0, 1), (0, 2)], [(0, 2), (0, 1)]])
def test_2d_function_layout(box):
    V = fk.TensorSpace.box(box, cells=3, order=2)
    ax = P.plot_function(V, V.interpolate(lambda x, y: x * y), label="temperature")
    assert _layout_problems(ax.figure) == []
    _assert_colorbar_beside(ax.figure, [ax])


def test_colorbar_beside_given_axes():
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=3, order=2)
    got = P.plot_function(V, V.interpolate(lambda x, y: x * y), ax=axes[0])
    assert got is axes[0]
    assert _layout_problems(fig) == []
    _assert_colorbar_beside(fig, [axes[0]], ends_tol=0.01)


@pytest.mark.parametrize("box", [[(0, 1)] * 2, [(0, 2), (0, 1)], [(0, 1), (0, 3)], [(0, 1)] * 3])
@pytest.mark.parametrize("count", [3, 6])
def test_heat_panels_layout(box, count):
    V = fk.TensorSpace.box(box, cells=2, order=2)
    ht = fk.heat(V, 1.0, 0.02, 0.005, snapshots=count)
    axes = P.plot_heat(ht, label="temperature u")
    fig = axes[0].figure
    fig.suptitle("u_t = Δu, Crank–Nicolson, Q2", fontsize=13)  # as examples/heat_snapshots.py
    assert _layout_problems(fig) == []
    _assert_colorbar_beside(fig, axes)


@pytest.mark.parametrize(
    "box", [[(0, 1)], [(0, 1)] * 2, [(0, 2), (0, 1)], [(0, 1), (0, 1.5)], [(0, 1)] * 3]
)
def test_mode_panels_layout(box):
    V = fk.TensorSpace.box(box, cells=4, order=2)
    w, v = fk.eigen(V, k=6)
    axes = P.plot_modes(V, w, v, exact=w)
    fig = axes[0].figure
    fig.suptitle("the modes")
    assert _layout_problems(fig) == []


def test_1d_and_convergence_layout():
    V = fk.TensorSpace.box([(0, 1)], cells=3, order=2)
    assert _layout_problems(P.plot_function(V, V.interpolate(np.sin)).figure) == []
    h = np.array([0.2, 0.1, 0.05])
    assert _layout_problems(P.plot_convergence(h, [h**2, h**3], labels=["a", "b"]).figure) == []


@_NEW_CONTOURS
def test_3d_mode_is_drawn_where_it_is_largest():
    # sin(πx) sin(πy) sin(2πz) vanishes on z = 0.5, the slice drawn before: a flat panel
    V = fk.TensorSpace.box([(0, 1)] * 3, cells=4, order=2)
    xy = V.interpolate(lambda x, y, z: np.sin(np.pi * x) * np.sin(np.pi * y))
    modes = [xy * V.interpolate(lambda x, y, z, m=m: np.sin(m * np.pi * z)) for m in (1, 2, 3)]
    v = np.column_stack([-2.0 * m.ravel() for m in modes])  # sign and scale do not matter
    axes = P.plot_modes(V, [3.0, 6.0, 11.0], v)
    # drawn: the mode over its largest value; a plane where sin(m π z) = ±1
    for a, z in zip(axes, ["0.5", "0.25", "0.5"]):
        cs = a.collections[0]
        assert max(abs(cs.zmin), abs(cs.zmax)) > 0.9, a.get_title()
        assert a.get_title().endswith(f"(z = {z})")
    w, v = fk.eigen(V, k=6)  # computed modes, some degenerate: each panel shows its mode
    for a in P.plot_modes(V, w, v):
        cs = a.collections[0]
        assert max(abs(cs.zmin), abs(cs.zmax)) > 0.9, a.get_title()


@_NEW_CONTOURS
def test_mode_peaks_between_dofs_are_filled():
    # a mode is scaled by its largest dof value; between the dofs it can pass 1, and contours
    # with levels in [-1, 1] left those peaks unfilled (white holes)
    V = fk.TensorSpace.box([(0, 1), (0, 1.5)], cells=6, order=3)
    w, v = fk.eigen(V, k=6)
    axes = P.plot_modes(V, w, v)
    sets = [a.collections[0] for a in axes]
    over = [cs for cs in sets if max(-cs.zmin, cs.zmax) > 1]
    assert over  # the case arises here
    assert all(cs.extend == "both" for cs in over)
