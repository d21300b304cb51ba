"""Run every example script at a small size; each must finish, print its checks and write
its figure into the folder it is given (never into the repository)."""

import pathlib
import runpy
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "example_setup.py")


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
    before = set(ROOT.rglob("*.png"))
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    text = capsys.readouterr().out
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == [f"{path.stem}.png"]
    assert f"figure: {out / path.stem}.png" in text
    assert set(ROOT.rglob("*.png")) == before  # nothing written into the repository


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
