"""Run every example script at a small size; each must finish, write its figure into the
folder it is given (never into the repository) and print numbers that are right: errors and
eigenvalues against analytic values with their error models, rates against theory."""

import math
import pathlib
import re
import runpy
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from reference_fem import box_eigenvalues, galerkin_constant, ritz_l2_constant  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _tracked_pngs():
    """PNG files in the repository outside what git ignores (a built site, caches)."""
    ignored = ("site", ".venv", "build")
    return {p for p in ROOT.rglob("*.png") if p.relative_to(ROOT).parts[0] not in ignored}


EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "example_setup.py")
EPS = np.finfo(float).eps
NUM = r"([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"

# Tolerances used below:
# * PRINT: a number printed with 3 (4) significant digits is off by up to 5e-3 (5e-4) relative.
# * NEXT_TERM(kh): asymptotic error formulas (tests/reference_fem.py) hold up to a relative
#   O((kh)²) term, below 0.1 (kh)² for the orders and kh used (tests/problems/test_eigen.py).
# * RATE: a rate from meshes h and h/2 differs from the asymptotic one by the change of that
#   term, at most 0.2 for kh <= 1 (the lowest-order cases), as in the other convergence tests.
RATE = 0.2


def next_term(kh):
    return 0.1 * kh**2


def numbers(pattern, text):
    """Every match of ``pattern`` (NUM marks the numbers) in ``text``, as tuples of floats."""
    rows = [tuple(float(x) for x in np.atleast_1d(m)) for m in re.findall(pattern, text)]
    assert rows, f"no line like {pattern!r} in:\n{text}"
    return rows


def check_assembly_benchmark(text):
    # three assemblies of one matrix: each entry a sum of <= 4 cells × 9 Gauss points of
    # terms of size <= ~4 max|A| (n·ε·Σ|terms| < 150 ε max|A|); 1000 ε
    for (diff,) in numbers(rf"max \|difference\| / max \|A\|: {NUM}", text):
        assert diff <= 1000 * EPS


def check_boundary_layer(text):
    rows = numbers(rf"L2 error uniform {NUM}, graded {NUM}", text)
    assert all(graded < uniform for uniform, graded in rows)  # the layer resolved or not
    # the graded family is refined by halving every cell: Q2 converges at h³
    for (_, coarse), (_, fine) in zip(rows, rows[1:]):
        assert abs(math.log2(coarse / fine) - 3) < RATE, rows


def check_drum_modes(text):
    # Q3 on [0, 1] × [0, 1.5], 8 × 8 cells (the small size): exact λ = π²(m² + n²/1.5²) and
    # the Galerkin error Σ_d c_p² k_d² (k_d h_d)^{2p} (1 + δ), |δ| <= 0.1 (kh)²
    rows = np.array(numbers(rf"λ\d+:\s+{NUM}\s+exact\s+{NUM}", text))
    exact, k = box_eigenvalues([("DD", 1.0), ("DD", 1.5)], 9)
    np.testing.assert_allclose(rows[:, 1], exact, rtol=0, atol=5e-7)  # printed to 6 decimals
    h = np.array([1.0 / 8, 1.5 / 8])
    model = galerkin_constant(3) * (k**2 * (k * h) ** 6).sum(axis=1)
    slack = next_term((k * h).max(axis=1)) * model + 1e-6  # two numbers printed to 6 decimals
    assert np.all(np.abs(rows[:, 0] - exact - model) <= slack), (rows[:, 0] - exact, model)
    pattern = rf"Q{NUM}: λ1 converges at rate {NUM} \(expected {NUM}\)"
    for p, rate, expected in numbers(pattern, text):
        assert expected == 2 * p and abs(rate - 2 * p) < RATE


def check_helmholtz(text):
    rows = numbers(rf"Q{NUM}: relative L2 error {NUM} .* rate {NUM} \(expected {NUM}\)", text)
    assert [r[0] for r in rows] == [1, 2, 4]
    for p, _, rate, expected in rows:
        # kh <= 15/32: the pollution term k(kh)^{2p} is below the RATE allowance
        assert expected == p + 1 and abs(rate - (p + 1)) < RATE, rows


def check_high_order_convergence(text):
    pattern = rf"Q{NUM}: L2 rate {NUM} \(expected {NUM}\), H1 rate {NUM} \(expected {NUM}\)"
    rows = numbers(pattern, text)
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    for p, l2, l2_expected, h1, h1_expected in rows:
        assert (l2_expected, h1_expected) == (p + 1, p)
        assert abs(l2 - (p + 1)) < RATE and abs(h1 - p) < RATE, rows


def check_kron_beyond_fem(text):
    # G ⊗ G applied in two 13-tap passes vs a 169-tap 2D convolution of the same numbers:
    # (2·13 + 169)·ε·max|image|, |image| <= 1 + 0.3 × 5 (noise); 200 ε × 2.5
    (diff,) = numbers(rf"max difference {NUM}", text)[0]
    assert diff <= 200 * EPS * 2.5
    assert "meshgrid(indexing='ij'): True" in text
    amplitudes = numbers(r"\|11>: \[" + r"\s*".join([NUM] * 4) + r"\s*\]", text)[0]
    np.testing.assert_allclose(amplitudes, [0.7071, 0, 0, 0.7071], atol=5e-5)  # 1/√2, 4 digits
    # the Ising product against signs and bit flips (every size) and the dense matrix (small)
    assert "matrix-free product equals the direct computation (signs and bit flips): True" in text
    assert "matrix-free product equals the dense numpy.kron product: True" in text


def check_kron_laplacian_done_right(text):
    # u = x on 8 cells: ∫|∇u|² = 1 for K⊗M + M⊗K; K⊗I + I⊗K counts it once per grid line (9)
    assert numbers(rf"K⊗M \+ M⊗K gives {NUM}, K⊗I \+ I⊗K gives {NUM}", text) == [(1.0, 9.0)]
    uniform, graded = text.split("graded meshes")
    # Q1 on a uniform mesh: the nodal sine is an eigenvector of the 1D K, M; with
    # c = 2(1 - cos πh)/(πh)² the load is 2π² (h c)² (sin ⊗ sin) at the nodes, so the FEM
    # solution is 3c/(2 + cos πh) × u and the shortcut one h c × u at the nodes (max u = 1
    # at the centre node).  The load's 2-point Gauss rule moves the FEM factor by at most
    # ((πh)^4 + 4(πh)³)/2160 (its error term on each half cell); numbers printed to 4 digits.
    row = rf"\n[ ]+{NUM}[ ]+{NUM}[ ]+{NUM}"
    assert len(numbers(row, uniform)) == 4
    for h, fem, short in numbers(row, uniform):
        h = 1 / round(1 / h)  # printed to 4 decimals; the meshes have 4, 8, 16, 32 cells
        t = math.pi * h
        c = 2 * (1 - math.cos(t)) / t**2
        predicted = abs(1 - 3 * c / (2 + math.cos(t)))
        assert abs(fem - predicted) <= 1e-3 * predicted + (t**4 + 4 * t**3) / 2160, (h, fem)
        assert short == pytest.approx(1 - h * c, rel=1e-3)
    rows = numbers(row, graded)
    assert all(fem < short for _, fem, short in rows) and len(rows) == 4
    # Q1 converges at h² on both families (the graded one refined by halving every cell),
    # as the text and the figure's legend say; the shortcut does not converge
    rates = numbers(rf"measured rates: FEM {NUM}, shortcut {NUM}", text)
    assert len(rates) == 2
    for fem_rate, short_rate in rates:
        assert abs(fem_rate - 2) < RATE and short_rate < 0.5, rates


def check_poisson_2d(text):
    # u = sin(πx/4)(1 + y + y²), Q2, h = 1/8: only ∂_x³u is non-zero, ‖∂_x³u‖ = (π/4)³ √3.7,
    # and it vanishes at the Robin end x = 2, so the interior asymptotics (Ritz projection,
    # tests/reference_fem.py) apply; kh = π/32; printed to 3 digits
    ((l2, h1),) = numbers(rf"L2 error {NUM}, H1 error {NUM}", text)
    h, norm = 1 / 8, (math.pi / 4) ** 3 * math.sqrt(3.7)
    rel = next_term(math.pi / 32) + 5e-3
    assert h1 == pytest.approx(math.sqrt(galerkin_constant(2)) * h**2 * norm, rel=rel)
    assert l2 == pytest.approx(ritz_l2_constant(2) * h**3 * norm, rel=rel)


def check_poisson_3d(text):
    # u = Π sin(π x_i), Q2, h = 1/6: ‖∂_d³u‖² = π⁶/8 in each of 3 directions; printed to 4 digits
    rows = numbers(rf"(?:fdm|amg): .*L2 error {NUM}", text)
    h = 1 / 6
    model = ritz_l2_constant(2) * h**3 * math.sqrt(3 * math.pi**6 / 8)
    assert len(rows) == 2
    for (l2,) in rows:
        assert l2 == pytest.approx(model, rel=next_term(math.pi * h) + 5e-4)


def check_variable_coefficient(text):
    # κ = 1 + 0.5 sin(2πx) sin(2πy) is a sum of two products: rank 2, K⊗M + M⊗K per term
    assert numbers(rf"separable rank of κ: {NUM}, {NUM} Kronecker terms", text) == [(2, 4)]
    # entries of the Q2 stiffness (h = 1/6) are at most κmax × 2 (16/3h)(8h/15) = 1.5 × 5.7;
    # each is a sum of <= 4 cells × 36 Gauss points of terms <= ~4 max|A|: 1000 ε max|A|
    (diff,) = numbers(rf"max entry difference {NUM}", text)[0]
    assert diff <= 1000 * EPS * 1.5 * 256 / 45
    # the solver's contract (femkron/linalg/solve.py): a true residual <= 1.01 rtol, or the
    # recurrence's <= rtol with a drift < 10 rtol; rtol = 1e-10 by default
    for (residual,) in numbers(rf"relative residual {NUM}", text):
        assert residual < 1e-9
    (rate,) = numbers(rf"measured L2 rate {NUM}", text)[0]
    assert abs(rate - 3) < RATE


CHECKS = {name[6:]: func for name, func in dict(globals()).items() if name.startswith("check_")}
# heat_snapshots: time stepping is tested in tests/problems/test_heat.py (owned there)
UNCHECKED = {"heat_snapshots"}


def _fresh_setup(monkeypatch):
    # the scripts import their shared set-up from the examples folder, as `python x.py` does
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    monkeypatch.delitem(sys.modules, "example_setup", raising=False)


def test_there_are_at_least_nine_percent_cell_examples():
    assert len(EXAMPLES) >= 9
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith("# %% [markdown]"), path.name
        assert text.count("# %%") >= 3, path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_small(path, tmp_path, monkeypatch, capsys):
    out = tmp_path / "figures"
    monkeypatch.setenv("FEMKRON_EXAMPLE_SMALL", "1")
    monkeypatch.setenv("FEMKRON_EXAMPLE_OUT", str(out))
    monkeypatch.setattr(sys, "argv", [str(path)])
    _fresh_setup(monkeypatch)
    monkeypatch.chdir(tmp_path)
    before = _tracked_pngs()
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    text = capsys.readouterr().out
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == [f"{path.stem}.png"]
    assert f"figure: {out / path.stem}.png" in text
    assert _tracked_pngs() == before  # nothing written into the repository
    assert (path.stem in CHECKS) != (path.stem in UNCHECKED), path.stem
    if path.stem in CHECKS:
        CHECKS[path.stem](text)


def test_output_folder_from_the_command_line(tmp_path, monkeypatch, capsys):
    path = ROOT / "examples" / "drum_modes.py"
    monkeypatch.setenv("FEMKRON_EXAMPLE_SMALL", "1")
    monkeypatch.delenv("FEMKRON_EXAMPLE_OUT", raising=False)
    monkeypatch.setattr(sys, "argv", [str(path), str(tmp_path / "cli")])
    _fresh_setup(monkeypatch)
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    assert (tmp_path / "cli" / "drum_modes.png").exists()
