"""The `femkron` command can be trusted at its edges: an empty option is an error, warnings
never leak onto stderr, a closed pipe ends it quietly, every command is listed where the docs
list commands, and `femkron bench` judges a target only at the size it is defined at."""

import importlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import warnings

import pytest

from femkron.bench import report, targets
from femkron.cli import build_parser, main
from femkron.errors import FemkronValueError

ROOT = pathlib.Path(__file__).resolve().parents[2]
cli_main = importlib.import_module("femkron.cli.main")  # the module (femkron.cli.main is main)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def command(*argv, **kwargs):
    """``python -m femkron.cli ARGV`` in a subprocess, with Python's default warning filters."""
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="2")
    env.pop("PYTHONWARNINGS", None)
    return [sys.executable, "-m", "femkron.cli", *argv], env


def run_command(*argv, **kwargs):
    cmd, env = command(*argv)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, **kwargs)


def assert_stderr_contract(res):
    """Success: nothing on stderr. Error: status 2 and exactly one line, no traceback."""
    if res.returncode == 0:
        assert res.stderr == "", res.stderr
    else:
        assert res.returncode == 2, (res.returncode, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("femkron"), res.stderr
        assert "Traceback" not in res.stderr


# ---- empty option values are errors, not the defaults ------------------------------------
EMPTY = [
    (["solve", "--cells", ""], "--cells"),
    (["solve", "--cells", " "], "--cells"),
    (["convergence", "--cells", ""], "--cells"),
    (["eig", "--cells", ""], "--cells"),
    (["solve", "--mesh", ""], "--mesh"),
    (["solve", "--mesh", "MESH", "--cells", ""], "--mesh"),  # --cells "" is given, not absent
    (["bench", "--no-progress", "--sizes", "100", "--json", ""], "--json"),
    (["bench", "--no-progress", "--sizes", "100", "--plot", ""], "--plot"),
]


@pytest.mark.parametrize("argv,what", EMPTY, ids=[" ".join(map(repr, a)) for a, _ in EMPTY])
def test_an_empty_value_is_an_error_naming_the_option(capsys, argv, what):
    mesh = str(ROOT / "meshes" / "unit_square.toml")
    code, out, err = run(capsys, *[mesh if a == "MESH" else a for a in argv])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and what in lines[0], err
    assert out == ""  # no work was done


# ---- warnings ----------------------------------------------------------------------------
def _warn_then(result):
    def cmd(args):
        warnings.warn("first notice", UserWarning, stacklevel=1)
        warnings.warn("first notice", UserWarning, stacklevel=1)  # repeated: reported once
        warnings.warn("overflow in something", RuntimeWarning, stacklevel=1)
        if isinstance(result, Exception):
            raise result
        return result

    return cmd


def test_warnings_of_a_successful_run_go_to_the_report_not_stderr(capsys, monkeypatch):
    monkeypatch.setattr(cli_main, "cmd_eig", _warn_then(0))
    code, out, err = run(capsys, "eig")
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "femkron: warning: UserWarning: first notice",
        "femkron: warning: RuntimeWarning: overflow in something",
    ]


def test_many_warnings_are_summarised(capsys, monkeypatch):
    def cmd(args):
        for i in range(8):
            warnings.warn(f"notice {i}", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli_main, "cmd_eig", cmd)
    code, out, err = run(capsys, "eig")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == cli_main._MAX_WARNINGS + 1
    assert lines[-1] == "femkron: warning: 3 more warning(s) not shown"


def test_warnings_with_json_to_stdout_keep_stdout_pure_json(capsys, monkeypatch):
    import json

    real = cli_main.cmd_info

    def cmd(args):
        warnings.warn("a notice", UserWarning, stacklevel=1)
        return real(args)

    monkeypatch.setattr(cli_main, "cmd_info", cmd)
    code, out, err = run(capsys, "info", "--json", "-")
    assert code == 0
    assert "femkron" in json.loads(out)  # stdout is the JSON record only
    assert err == "femkron: warning: UserWarning: a notice\n"  # --json - puts the report there


def test_warnings_of_a_failed_run_leave_only_the_error_line(capsys, monkeypatch):
    monkeypatch.setattr(cli_main, "cmd_eig", _warn_then(FemkronValueError("it went wrong")))
    code, out, err = run(capsys, "eig")
    assert code == 2 and out == ""
    assert err == "femkron: error: it went wrong\n"


def test_a_warning_made_an_error_by_a_filter_is_the_one_error_line(capsys, monkeypatch):
    monkeypatch.setattr(cli_main, "cmd_eig", _warn_then(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as python -W error or PYTHONWARNINGS=error
        code, out, err = run(capsys, "eig")
    assert code == 2 and out == ""
    assert err == "femkron: error: UserWarning: first notice\n"


REAL = [
    (["solve", "--cells", "4"], 0),
    (["solve", "--cells", "4", "--kappa", "1e300"], 0),  # overflow in the residual's norm
    (["solve", "helmholtz", "--cells", "4", "--wavenumber", "1e154"], 0),  # the same
    (["convergence", "--cells", "4,4"], 2),  # a 0/0 rate warns, then the fit is an error
    (["solve", "--cells", ""], 2),
    (["bench", "--kind", "solve", "--dims", "2", "--sizes", "300", "--repeats", "1"], 0),
]


@pytest.mark.parametrize("argv,status", REAL, ids=[" ".join(map(repr, a)) for a, _ in REAL])
def test_stderr_is_empty_on_success_and_one_line_on_error(argv, status):
    # real runs, with Python's default warning filters, in a subprocess (as a user runs them)
    res = run_command(*argv)
    assert res.returncode == status, res.stderr
    assert_stderr_contract(res)


def test_numerical_warnings_of_a_successful_run_are_reported():
    res = run_command("solve", "--cells", "4", "--kappa", "1e300")
    assert res.returncode == 0 and res.stderr == ""
    assert "L2 error" in res.stdout
    reported = [line for line in res.stdout.splitlines() if line.startswith("femkron: warning:")]
    assert all(re.match(r"femkron: warning: \w+Warning: \S", line) for line in reported)


# ---- a closed pipe -------------------------------------------------------------------------
def test_a_closed_stdout_ends_the_command_quietly():
    # the reader has gone before the first line: every write fails with EPIPE
    read, write = os.pipe()
    os.close(read)
    cmd, env = command("convergence", "--dim", "1", "--cells", "4,8")
    try:
        res = subprocess.run(cmd, stdout=write, stderr=subprocess.PIPE, text=True, env=env,
                             timeout=120)  # fmt: skip
    finally:
        os.close(write)
    assert res.stderr == ""  # no traceback, no "Broken pipe" error line
    assert res.returncode == 141  # 128 + SIGPIPE, as a shell reports a tool killed by it


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("head") is None,
                    reason="needs bash and head")  # fmt: skip
def test_femkron_convergence_piped_into_head():
    cmd, env = command("convergence")
    line = " ".join(cmd) + " | head -2; echo status=${PIPESTATUS[0]}"
    res = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env,
                         timeout=120)  # fmt: skip
    out = res.stdout.splitlines()
    assert len(out) == 3 and out[0].startswith("femkron") and "L2 error" in out[1], res.stdout
    assert out[2] in ("status=0", "status=141")  # 0 when all of it fitted in the pipe
    assert res.stderr == ""


def test_python_m_femkron_cli_runs():
    res = run_command("--version")
    assert res.returncode == 0 and res.stdout.startswith("femkron ")


# ---- every command is listed where commands are listed ----------------------------------
def subcommands():
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_command_is_in_the_top_help_readme_and_guide():
    names = subcommands()
    assert "bench" in names
    top = build_parser().format_help()
    readme = (ROOT / "README.md").read_text()
    readme_list = next(p for p in readme.split("\n\n") if "`femkron solve [" in p)
    guide = (ROOT / "docs" / "guide" / "cli.md").read_text()
    guide_list = guide.split("```text\n")[1].split("```")[0]
    for name in names:
        assert re.search(rf"^\s+{name}\s", top, re.M), f"femkron --help lacks {name}"
        assert f"`femkron {name}" in readme_list, f"README's command list lacks femkron {name}"
        assert re.search(rf"^femkron {name}\b", guide_list, re.M), f"cli.md lacks {name}"
        assert f"femkron {name}" in top.split("examples:")[1], f"no top-help example of {name}"


@pytest.mark.parametrize("name", subcommands())
def test_every_command_help_has_examples(capsys, name):
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    assert f"femkron {name}" in capsys.readouterr().out.split("examples:")[1]


# ---- bench targets are judged at their size only -----------------------------------------
def _rows(dofs, amg=2.0, fdm=0.05):
    base = {"kind": "solve", "dim": 2, "order": 1, "dofs": dofs}
    return [dict(base, method="amg", seconds=amg), dict(base, method="fdm", seconds=fdm)]


def test_a_target_away_from_its_size_is_not_judged():
    (goal,) = targets(_rows(10_000))  # 40× at 10^4 dofs: says nothing about 10^6
    assert goal["size"] == 10**6 and goal["judged"] is False and goal["met"] is None
    line = report._goal_line(goal)
    assert "not run at this size" in line and "MISSED" not in line and not line.endswith("met")


@pytest.mark.parametrize("dofs", [10**6, 1002001, 1030301])  # 2D Q1 1001², 3D Q1 101³
@pytest.mark.parametrize("amg,met", [(2.0, True), (0.5, False)])
def test_a_target_at_its_size_is_judged(dofs, amg, met):
    (goal,) = targets(_rows(dofs, amg=amg))
    assert goal["judged"] is True and goal["met"] is met
    assert report._goal_line(goal).endswith("met" if met else "MISSED")


def test_the_scale_targets_are_judged_at_1e8_only():
    scale = {"kind": "scale", "dim": 3, "order": 1, "seconds": 1.0, "peak_bytes": 2**20}
    small = targets([dict(scale, dofs=300_000)])
    assert [g["judged"] for g in small] == [False, False]
    large = targets([dict(scale, dofs=99_897_344)])  # 464³, what --scale gives for 1e8
    assert [g["met"] for g in large] == [True, True]


def test_bench_at_its_help_example_size_misses_nothing(capsys):
    help_text = build_parser()._actions[-1].choices["bench"].format_help()
    assert "femkron bench --sizes 1e4" in help_text  # the first example
    code, out, err = run(capsys, "bench", "--sizes", "1e4", "--dims", "2", "--repeats", "1",
                         "--no-progress")  # fmt: skip
    assert code == 0 and err == ""
    section = out.split("targets")[1]
    assert "MISSED" not in section and " met" not in section
    assert section.count("not run at this size") >= 2  # scikit-fem / tocsr, pyamg / fdm
