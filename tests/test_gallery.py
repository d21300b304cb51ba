"""The example gallery hook (docs/gallery_hook.py): every example gets a page in the nav, and
one example run the way the build runs it gives a page with its code, output and figure and
a valid notebook. The whole gallery is built by `mkdocs build --strict` in CI."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytest.importorskip("jupytext")  # the docs extra
nbformat = pytest.importorskip("nbformat")


def _hook():
    spec = importlib.util.spec_from_file_location("gallery_hook", ROOT / "docs" / "gallery_hook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_in_the_nav():
    hook = _hook()
    nav = [{"Home": "index.md"}, {"Examples": [{"Gallery": hook.INDEX}]}]
    hook.on_config({"nav": nav})
    listed = [v for d in nav[1]["Examples"] for v in d.values()]
    assert listed == [hook.INDEX] + [f"gallery/{p.stem}.md" for p in hook._examples()]
    assert hook.MARKER in (ROOT / "docs" / hook.INDEX).read_text()


def test_one_example_page_and_notebook(tmp_path):
    hook = _hook()
    path = ROOT / "examples" / "kron_laplacian_done_right.py"
    records, _ = hook._run(path, tmp_path)
    page = hook._page(path.stem, records)
    assert page.count("```python") == sum(
        r["kind"] == "code" and bool(r["source"]) for r in records
    )
    assert "K⊗M + M⊗K gives 1.000000" in page and "measured rates: FEM" in page
    assert f"![{path.stem}.png]({path.stem}.png)" in page
    assert "figure: OUTDIR/" in page and str(tmp_path) not in page
    nb = nbformat.reads(hook._notebook(path, records, tmp_path / "figures"), as_version=4)
    nbformat.validate(nb)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs)
