"""``femkron mms``: manufactured solutions give the expected rates (p+1 in L2, p in H1) with
a variable κ and Neumann and Robin faces; its table, JSON and plot; its bad input."""

import json

import numpy as np
import pytest

from femkron.cli import main

# RATE: a rate from meshes h and h/2 differs from the asymptotic one by the change of the
# next term of the error expansion, O(h) relative; below 0.2 from 8 cells on for these smooth
# solutions (as in the other convergence tests of the suite).
RATE = 0.2


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rates_with_variable_kappa_neumann_and_robin_faces(capsys, tmp_path):
    out_json = tmp_path / "mms.json"
    code, out, err = run(
        capsys,
        "mms",
        "--exact",
        "sin(pi*x)*exp(y) + x*y",
        "--kappa",
        "1 + x*y + sin(y)**2",
        "--bc",
        "right=neumann",
        "top=robin:2",
        "--orders",
        "1",
        "2",
        "3",
        "--cells",
        "4,8,16",
        "--json",
        out_json,
    )
    assert code == 0 and err == "", err
    rec = json.loads(out_json.read_text())
    assert rec["bc"] == {"right": "neumann", "top": "robin:2"}
    assert [o["order"] for o in rec["orders"]] == [1, 2, 3]
    for o in rec["orders"]:
        p = o["order"]
        assert abs(o["rate_L2"] - (p + 1)) < RATE, o
        assert abs(o["rate_H1"] - p) < RATE, o
        assert o["expected_L2"] == p + 1 and o["expected_H1"] == p
        assert o["h"] == [0.25, 0.125, 0.0625] and len(o["L2"]) == len(o["H1"]) == 3
        assert o["method"] == "fdm-cg"  # variable κ: matrix-free, fdm-preconditioned CG
    assert "order 3: rates L2" in out and "(expected 4)" in out


def test_f_is_the_symbolic_load(capsys, tmp_path):
    out_json = tmp_path / "mms.json"
    code, out, _ = run(
        capsys, "mms", "--exact", "x**2", "--orders", "1", "--cells", "2,4", "--json", out_json
    )
    rec = json.loads(out_json.read_text())
    assert code == 0 and rec["f"] == "-2" and rec["bounds"] == [[0.0, 1.0]]
    assert "f = -2" in out


def test_helmholtz_sigma_3d_domain_and_plot(capsys, tmp_path):
    png, out_json = tmp_path / "rates.png", tmp_path / "r.json"
    code, out, err = run(
        capsys,
        "mms",
        "--exact",
        "cos(x)*sin(y)",
        "--sigma",
        "-4",
        "--domain",
        "[0,2]x[0,1]",
        "--bc",
        "left=neumann",
        "--orders",
        "2",
        "--cells",
        "4,8",
        "--plot",
        png,
        "--json",
        out_json,
    )
    assert code == 0 and err == "" and png.stat().st_size > 0
    (o,) = json.loads(out_json.read_text())["orders"]
    assert abs(o["rate_L2"] - 3) < RATE and abs(o["rate_H1"] - 2) < RATE
    assert o["h"] == [0.5, 0.25]


def test_periodic_axis(capsys, tmp_path):
    out_json = tmp_path / "r.json"
    code, _, err = run(
        capsys,
        "mms",
        "--exact",
        "sin(2*pi*x)*y*(1 - y) + y",
        "--bc",
        "x=periodic",
        "--orders",
        "2",
        "--cells",
        "8,16",
        "--json",
        out_json,
    )
    assert code == 0, err
    (o,) = json.loads(out_json.read_text())["orders"]
    assert abs(o["rate_L2"] - 3) < RATE


@pytest.mark.parametrize(
    "argv, what",
    [
        (["--exact", "x", "--bc", "outer=neumann"], "unknown face 'outer'"),
        (["--exact", "x", "--bc", "left=wall"], "the kind must be"),
        (["--exact", "x", "--bc", "left=robin:abc"], "robin needs a finite alpha"),
        (
            [
                "--exact",
                "x*y",
                "--bc",
                "left=neumann",
                "right=neumann",
                "bottom=neumann",
                "top=neumann",
            ],
            "fixed up to a constant",
        ),
        (["--exact", "x*y", "--bc", "x=periodic"], "differs by up to 1"),
        (["--exact", "x", "--bc", "left=periodic"], "periodic is set on an axis"),
        (["--exact", "x", "--domain", "[1,0]"], "a < b"),
        (["--exact", "x", "--domain", "0..1"], "--domain must be a box"),
        (["--exact", "x*y", "--dim", "1"], "--exact: 'y' is not a coordinate"),
        (["--exact", "x", "--dim", "2", "--domain", "[0,1]"], "--domain has 1 axes"),
        (["--exact", "x", "--cells", "8"], "at least two"),
        (["--exact", "x", "--orders", "0"], "--orders must be 1 to 24"),
        (["--exact", "x", "--kappa", "x - 0.5"], "kappa"),
        (["--exact", "abs(x - 0.5)"], "Dirac"),
        (["--exact", "10**10**10"], "exponent"),
        (["--exact", "x", "--plot", "TMP/r.xyz"], "matplotlib cannot write"),
        ([], "--exact"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, tmp_path, argv, what):
    argv = [a.replace("TMP", str(tmp_path)) for a in argv]
    code, out, err = run(capsys, "mms", *argv)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert what in err


def test_manufactured_rates_from_python_match_the_command(capsys, tmp_path):
    """The command's errors are those of fk.manufactured + fk.poisson from a script."""
    import femkron as fk

    out_json = tmp_path / "r.json"
    run(
        capsys,
        "mms",
        "--exact",
        "exp(x)*cos(y)",
        "--kappa",
        "2 + x",
        "--bc",
        "bottom=robin:1",
        "--orders",
        "2",
        "--cells",
        "3,6",
        "--json",
        out_json,
    )
    (o,) = json.loads(out_json.read_text())["orders"]
    ms = fk.manufactured("exp(x)*cos(y)", kappa="2 + x")
    bc = ms.bc({"bottom": ("robin", 1.0)})
    for n, l2 in zip((3, 6), o["L2"]):
        V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=n, order=2)
        assert np.isclose(fk.poisson(V, ms.f, kappa=ms.kappa, bc=bc).error(ms.u), l2, rtol=1e-6)
