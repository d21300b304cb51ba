"""The README runs and says what it prints: its ```python blocks are executed in order in one
namespace (the second block uses the first one's space, source and boundary data, as the README
reads), and the numbers they print are checked against the discretisation error model."""

import contextlib
import importlib
import io
import pathlib
import re

import numpy as np
import pytest

import femkron as fk

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)

# The L2 error of a Q_p solution of a smooth problem is at most C h^(p+1). The README's script
# is Q2 with h = 1/32 on both axes; for u = sin(πx) sin(πy/2) the observed constant is about
# 0.13 (errors 2.5e-4, 3.1e-5, 3.9e-6 at h = 1/8, 1/16, 1/32: rate 3). C = 1 leaves a margin of
# 8 and still fails any inconsistent boundary data (a wrong Neumann flux gives an O(1) error,
# 0.14 with Neumann(0) on the top face).
C_L2, P, H = 1.0, 2, 1 / 32


def python_blocks():
    return [body for lang, body in FENCE.findall(README.read_text()) if lang == "python"]


@pytest.fixture(scope="module")
def readme_run():
    """Run every python block of the README in order; returns (namespace, stdout per block)."""
    blocks = python_blocks()
    assert blocks, "README.md has no ```python block"
    namespace = {"__name__": "__readme__"}
    printed = []
    for i, code in enumerate(blocks):
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"README.md[block {i + 1}]", "exec"), namespace)
        except Exception as err:  # say which block failed
            raise AssertionError(f"README.md, python block {i + 1} failed: {err!r}") from err
        printed.append(out.getvalue())
    return namespace, printed


def printed_number(label, text):
    m = re.search(rf"^{label}\s+([0-9.eE+-]+)\s*$", text, re.M)
    assert m, f"no line {label!r} <number> in the README's output:\n{text}"
    return float(m.group(1))


def test_script_prints_the_discretisation_error(readme_run):
    _, printed = readme_run
    l2 = printed_number("L2 error", printed[0])
    bound = C_L2 * H ** (P + 1)
    assert 0 < l2 < bound, f"L2 error {l2:.3g} above the Q2 model C h^3 = {bound:.3g}"
    assert printed[0].splitlines()[0].startswith("fdm"), printed[0]  # "fdm: exact solve"


def test_script_boundary_data_is_the_exact_solutions(readme_run):
    # the check behind the bound: the faces' data agree with the exact solution
    ns, _ = readme_run
    exact, flux, bc = ns["exact"], ns["flux"], ns["bc"]
    x = np.linspace(0, 1, 11)
    h = 1e-6  # κ = 1, outward normal +y on the top face y = 2
    dudy = (exact(x, 2.0) - exact(x, 2.0 - h)) / h
    np.testing.assert_allclose(flux(x, 2.0), dudy, atol=1e-5)
    assert isinstance(bc["top"], fk.Neumann) and bc["top"].flux is flux
    for face, xy in (("left", (0.0, x * 2)), ("right", (1.0, x * 2)), ("bottom", (x, 0.0))):
        np.testing.assert_allclose(exact(*xy), 0.0, atol=1e-12, err_msg=face)


def test_make_solver_block_solves_the_same_system(readme_run):
    ns, printed = readme_run
    assert len(printed) >= 2, "README.md lost its make_solver block"
    assert printed_number("residual", printed[1]) < 1e-10
    assert "fallback: None" in printed[1]
    # the solver's answer is the script's solution on the free dofs
    sol, system, x = ns["sol"], ns["system"], ns["x"]
    u = system.solution_vector(x)
    np.testing.assert_allclose(np.ravel(u), np.ravel(sol.values), atol=1e-10)


def test_readme_names_only_real_api():
    # every fk.name (and fk.Name.attribute) the README mentions exists
    text = README.read_text()
    names = sorted(set(re.findall(r"\bfk\.([A-Za-z_][\w.]*[A-Za-z_0-9])", text)))
    assert "make_solver" in names
    for dotted in names:
        obj = fk
        for part in dotted.split("."):
            assert hasattr(obj, part), f"README.md mentions fk.{dotted}, which does not exist"
            obj = getattr(obj, part)


def test_readme_module_paths_import():
    # the layout table and the deprecation note name modules that import
    text = README.read_text()
    for path in sorted(set(re.findall(r"`(femkron/[\w/]+)/`", text))):
        importlib.import_module(path.strip("/").replace("/", "."))
