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


def check_circular_drum(text):
    # Q3 on the unit disk, 8 × 32 cells (the small size): exact λ = j_{m,n}² from scipy's
    # Bessel zeros, double for m >= 1; the Galerkin error c (k h)^6 λ with k h <= 7 / 8 stays
    # below 1e-4 relative here (measured 2e-6), and the rates are 2p
    from scipy.special import jn_zeros

    rows = numbers(rf"λ\d+:\s+{NUM}\s+exact \(j_{NUM},{NUM}/R\)² =\s+{NUM}", text)
    assert len(rows) == 9
    zeros = sorted(
        (z**2, m) for m in range(6) for z in jn_zeros(m, 4) for _ in range(1 if m == 0 else 2)
    )[:9]
    for (w, m, _, lam), (ref, mref) in zip(rows, zeros):
        assert m == mref and abs(lam - ref) <= 1e-6 * ref  # printed to 6 decimals
        assert 0 <= w - lam <= 1e-4 * lam  # Galerkin eigenvalues lie above the exact ones
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


def check_spherical_capacitor(text):
    # C = 4πab/(b - a) exactly (printed to 10 decimals); the discrete potential minimises the
    # energy over a subspace holding the exact boundary values, so C_h >= C (Dirichlet
    # principle) and C_h - C = O(h^2p): the rates from h and h/2 within RATE of 2p
    caps = numbers(
        rf"capacitor Q{NUM}, {NUM} radial cells: C_h = {NUM}, exact 4πab/\(b-a\) = "
        rf"{NUM}, rel. error {NUM}",
        text,
    )
    assert sorted({c[0] for c in caps}) == [1, 2, 3]
    for p, n, c_h, c, rel in caps:
        assert c == pytest.approx(4 * math.pi * 0.5 / 0.5, abs=1e-10)
        assert c_h >= c - 1e-10 and rel == pytest.approx(c_h / c - 1, rel=5e-3)
        # C_h - C = |u - u_h|²_E / V0² (Galerkin orthogonality) <= the energy of the
        # interpolation error; for u = A/r + B, |(u - I_h u)'| <= h^p |u^(p+1)| / p!
        # = (p + 1)(h/r)^p |u'|, so (C_h - C)/C <= (p + 1)² (h/a)^2p with h = 0.5/n, a = 0.5
        assert c_h / c - 1 <= (p + 1) ** 2 * (0.5 / n / 0.5) ** (2 * p)
    for p, rate, expected in numbers(
        rf"capacitor Q{NUM}: capacitance converges at rate {NUM} \(expected {NUM}\)", text
    ):
        assert expected == 2 * p and abs(rate - 2 * p) < RATE
    # the sphere in a field: exact harmonic u, Q2 on (n, 2n, 8) cells; rates p+1 and p
    ((l2, h1),) = numbers(rf"field Q2: L2 rate {NUM} \(expected 3\), H1 rate {NUM}", text)
    assert abs(l2 - 3) < RATE and abs(h1 - 2) < RATE
    for method, (e_l2, e_h1) in zip(
        re.findall(r"dofs \((\w+)\)", text),
        numbers(rf"field Q2, .*L2 error {NUM}, H1 error {NUM}", text),
    ):
        assert method == "nested" and 0 < e_l2 < e_h1


def check_bratu(text):
    # the published fold of -Δu = λ eᵘ on the unit square, λ_c = 6.80812 (quoted to 5
    # decimals; 6.808124423 to more digits, consistent with the extrapolated runs)
    lam_c = 6.808124423
    pattern = rf"fold at λ = {NUM} \(published λ_c = 6.80812\); max u there = {NUM}"
    ((fold, top),) = numbers(pattern, text)
    # Q2 on 8 cells (the small size): error C h⁴ with C ≈ 0.6 measured by the rows below;
    # within 2e-4 of λ_c, and above it (conforming elements raise the fold)
    assert 0 < fold - lam_c < 2e-4
    assert 1.38 < top < 1.40  # max u at the fold ≈ 1.3917
    low, high = numbers(rf"two solutions at λ = 5: max u = {NUM} and {NUM}", text)[0]
    assert low < top < high
    rows = numbers(rf"Q{NUM}\s+{NUM} cells: fold {NUM}, error {NUM}", text)
    assert len(rows) == 6
    for _, _, f, diff in rows:
        assert abs((f - lam_c) - diff) <= 5e-9 + 5e-3 * abs(diff)  # printed to 3 digits
        assert f > lam_c
    for order in (1, 2):
        errors = [f - lam_c for p, _, f, _ in rows if p == order]
        assert errors[0] > errors[1] > errors[2] > 0
    # the fold converges like an eigenvalue: h^{2p}; extrapolated, it is the published value
    # (5 decimals: ±5e-6) up to the next term of the error, O(h^{2p+2}): about a tenth of the
    # finest error (h = 1/32 for Q1: 5e-4, h = 1/16 for Q2: 1e-6)
    pattern = (
        rf"Q{NUM}: fold converges at rate {NUM} \(self-convergence {NUM}, expected {NUM}\); "
        rf"extrapolated fold {NUM}"
    )
    for p, rate, self_rate, expected, extrapolated in numbers(pattern, text):
        assert expected == 2 * p and abs(rate - 2 * p) < RATE and abs(self_rate - 2 * p) < RATE
        finest = min(f - lam_c for q, _, f, _ in rows if q == p)
        assert abs(extrapolated - 6.80812) <= 5e-6 + 0.1 * finest


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


def check_gray_scott(text):
    # periodic Q1: the largest 1D eigenvalue of M⁻¹K is 12/h² (the mode (-1)^j, even cell
    # count), so λ_max = 24/h² in 2D; both printed to 6 digits (5e-6 relative each)
    ((h, lam, lam_formula),) = numbers(
        rf"h = {NUM}: lambda_max\(M\^-1 K\) = {NUM} \(24/h\^2 = {NUM}\)", text
    )
    assert abs(lam / (24 / h**2) - 1) < 2e-5 and abs(lam / lam_formula - 1) < 1e-5
    ((bound,),) = numbers(rf"explicit diffusion needs dt <= {NUM}", text)
    assert abs(bound / (2 / (2e-5 * lam)) - 1) < 5e-4  # 4 digits printed
    rows = numbers(
        rf"(\w+): F = {NUM}, k = {NUM}: {NUM} connected regions of v > 0.1 covering {NUM} % "
        rf"of the square; {NUM} <= u, v <= {NUM}",
        text.replace("spots:", "1:").replace("stripes:", "2:"),
    )
    (spots,) = [r for r in rows if r[0] == 1]
    (stripes,) = [r for r in rows if r[0] == 2]
    # Gray–Scott keeps 0 <= u <= 1, v >= 0 (an invariant region of the flow): rounding only
    for r in rows:
        assert r[5] > -1e-8 and r[6] < 1 + 1e-8
    assert spots[3] >= 10  # many separate spots
    assert stripes[3] < spots[3] / 3 and stripes[4] > 40  # few connected bands, large area


def check_allen_cahn(text):
    # the gradient flow decreases E; the scheme's energies at the snapshots do too
    energies = [e for _, e, _ in numbers(rf"t = \s*{NUM}: E = {NUM}, mean u = {NUM}", text)]
    assert np.all(np.diff(energies) < 0), energies
    ((increase,),) = numbers(rf"largest energy increase between snapshots: {NUM}", text)
    assert increase == 0
    ((top,),) = numbers(rf"max \|u\| at the end: {NUM}", text)
    assert top <= 1 + 1e-6  # the maximum principle of Allen–Cahn (explicit u - u³, small dt)
    # one 1D interface: E = 2√2 ε/3 for the tanh profile, up to the Q2 error O((h/ε)^4)
    # (h/ε = 0.31: below 1e-3 relative) and the tail e^{-1/(√2 ε)} = 7e-7 of the finite domain
    ((E, theory),) = numbers(rf"energy {NUM}, theory 2\*sqrt\(2\)\*eps/3 = {NUM}", text)
    assert abs(theory - 2 * math.sqrt(2) * 0.05 / 3) < 1e-6
    assert abs(E / theory - 1) < 1e-3
    ((dev,),) = numbers(rf"max \|u - tanh profile\| = {NUM}", text)
    assert dev < 1e-3  # the same error model for the profile at the nodes


def check_monte_carlo(text):
    # E[κ] = exp(σ²/2) at each dof exactly; the Monte Carlo mean of κ is within 4 standard
    # errors (the samples are independent: the error bar is the spread of the sample means
    # over √N), plus the rounding of the printed 5 decimals
    ((mc, se, exact),) = numbers(
        rf"mean of κ over the dofs: Monte Carlo {NUM} ± {NUM} \(standard error\), exact {NUM}",
        text,
    )
    assert abs(mc - exact) <= 4 * se + 1e-5 and se > 0
    # Jensen: J(κ) convex in κ, concave in 1/κ, so J1 e^{-σ²max/2} <= E[J] <= J1 e^{σ²max/2}
    ((J, seJ, J1, lo, hi),) = numbers(
        rf"compliance: Monte Carlo {NUM} ± {NUM}; κ = 1: {NUM}; bounds {NUM} to {NUM}", text
    )
    ((_, vmax),) = numbers(rf"exact discrete variance at the dofs {NUM} to {NUM}", text)
    assert abs(lo - J1 * math.exp(-vmax / 2)) <= 1e-5 and abs(hi - J1 * math.exp(vmax / 2)) <= 1e-5
    assert lo - 4 * seJ <= J <= hi + 4 * seJ and lo < J1 < hi
    ((mean_c, std_c),) = numbers(rf"u at the centre: mean {NUM}, standard deviation {NUM}", text)
    # near u(1/2, 1/2) = 0.0737 of -Δu = 1 on the unit square (the geometric mean of κ is 1);
    # a factor 1.5 either way covers the sampling noise of the small run and the domain's size
    assert 0.5 * 0.0737 < mean_c < 1.5 * 0.0737 and 0 < std_c < mean_c


def check_lshape_corner(text):
    # u = r^{2/3} sin(2θ/3): uniform meshes converge at the singular H1 rate 2/3 for every
    # order; nodes ±(i/n)^β with β > 3p/2 restore the rate p (RATE: the pre-asymptotic change)
    for p, beta, rate in numbers(rf"Q{NUM}, beta = {NUM}: H1 rate {NUM}", text):
        expected = 2 / 3 if beta == 1 else p
        assert abs(rate - expected) < RATE, (p, beta, rate)
    lists = re.findall(r"interface iterations \[([\d, ]+)\]", text)
    assert lists and all(int(n) <= 20 for ls in lists for n in ls.split(","))
    # the first Dirichlet eigenvalue, 9.6397238440219 (Fox, Henrici & Moler 1967): an upper
    # bound (conforming space) within the 1e-6 the graded Q6 mesh is built for
    lam, _, err = numbers(rf"lambda_1 = {NUM} \({NUM} dofs\), error {NUM}", text)[0]
    assert 0 < lam - 9.6397238440219 < 1e-6 and abs(err - (lam - 9.6397238440219)) < 1e-9


def check_backward_step(text):
    rows = numbers(
        rf"{NUM} cells per unit: flux through x = 0.5, 1.5, 3, 5.5 within {NUM} of 0.5; "
        rf"far-field u within {NUM} of 0.5; u at the corner {NUM}; {NUM} interface",
        text,
    )
    for _, flux, far, _, its in rows:
        # mass conservation: the inflow 0.5 crosses every section (to rounding × condition)
        assert flux < 1e-9
        # far downstream the flow is uniform, u = 0.5: the disturbance of the step decays
        # like exp(-π x / H) (7e-7 at 4.5 channel heights) plus a Q2 error below it
        assert far < 1e-5
        assert its <= 20
    # at the corner of angle 3π/2 the speed grows like r^{-1/3}: ×2^{1/3} = 1.26 per halving
    # of h, approached from below on coarse meshes
    for (_, _, _, c0, _), (_, _, _, c1, _) in zip(rows, rows[1:]):
        assert 1.15 < c1 / c0 < 1.3


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
