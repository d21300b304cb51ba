"""The documentation runs: every ```python block of every page under docs/ is executed
(blocks of one page in order, in one namespace, in a temporary folder, Agg backend), the
API page lists every public name, and mkdocs.yml lists every page."""

import pathlib
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import femkron as fk  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def python_blocks(path):
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == "python"]


def test_docs_have_the_required_pages():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    for page in ("index.md", "getting-started.md", "theory.md", "api.md"):
        assert page in names
    assert len([n for n in names if n.startswith("guide/")]) >= 8
    labs = [p for p in PAGES if p.parent.name == "labs"]
    assert len(labs) >= 4
    for lab in labs:
        text = lab.read_text()
        for section in ("## Goals", "## Steps", "## Exercises", "## Expected outcomes"):
            assert section in text, f"{lab.name} lacks {section}"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    if not blocks:
        pytest.skip("no python blocks")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    try:
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"{page.name}[block {i + 1}]", "exec"), namespace)
            except Exception as err:  # report which block failed
                raise AssertionError(f"{page.name}, python block {i + 1} failed: {err!r}") from err
    finally:
        plt.close("all")


def test_api_page_lists_every_public_name():
    text = (DOCS / "api.md").read_text()
    missing = [n for n in fk.__all__ if not n.startswith("__") and f"### `{n}`" not in text]
    assert not missing, f"docs/api.md lacks {missing}; regenerate it: python docs/gen_api.py"


def test_mkdocs_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w./-]+\.md)\s*$", nav, re.M))
    pages = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert listed <= pages, f"mkdocs.yml names missing pages: {sorted(listed - pages)}"
    core = {p for p in pages if p.startswith(("guide/", "labs/"))} | {
        "index.md",
        "getting-started.md",
        "theory.md",
        "api.md",
    }
    assert core <= listed, f"pages missing from mkdocs.yml nav: {sorted(core - listed)}"


def test_docs_name_no_machine_paths():
    absolute = re.compile(r"(?<![\w.~])/(?:home|Users|root|tmp|var|opt)/")
    for page in PAGES:
        assert not absolute.search(page.read_text()), page.name
