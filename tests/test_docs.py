"""The documentation runs: every ```python block of every page under docs/ is executed
(blocks of one page in order, in one namespace, in a temporary folder, Agg backend), the
API reference documents every public name, the formulas are LaTeX, and mkdocs.yml lists
every page. The site itself is built by `mkdocs build --strict` in CI."""

import importlib
import pathlib
import re
import runpy

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


API_GROUPS = ("kron", "fem", "linalg", "problems", "io", "plot", "errors")
DIRECTIVE = re.compile(r"^::: (femkron(?:\.\w+)+)\s*$", re.M)
PUBLIC = [n for n in fk.__all__ if not n.startswith("__")]


def resolve(ident):
    """The object a ``::: femkron.a.b`` directive documents: the longest importable module
    prefix, then attributes."""
    parts = ident.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(ident)


def api_directives():
    found = {}
    for group in API_GROUPS:
        for ident in DIRECTIVE.findall((DOCS / "api" / f"{group}.md").read_text()):
            found[ident] = group
    return found


def test_api_pages_document_every_public_name():
    """Every name of ``femkron.__all__`` has a mkdocstrings directive on its subpackage's
    page (docs/api/GROUP.md) that resolves to that very object."""
    documented = [resolve(ident) for ident in api_directives()]
    missing = [n for n in PUBLIC if not any(obj is getattr(fk, n) for obj in documented)]
    assert not missing, f"no '::: femkron.NAME' directive in docs/api/*.md for {missing}"


def test_api_directives_name_functions_and_classes():
    """A directive resolves, and to what the overview says: ``::: femkron.eigen`` would
    document the module ``femkron.problems.eigen``, so such names use their full path."""
    for ident in api_directives():
        obj = resolve(ident)
        name = ident.rsplit(".", 1)[-1]
        if hasattr(fk, name) and name != "plot":
            assert obj is getattr(fk, name), f"::: {ident} is not fk.{name}"


def test_api_overview_links_every_public_name():
    text = (DOCS / "api.md").read_text()
    missing = [n for n in PUBLIC if f"[`fk.{n}`](api/" not in text]
    assert not missing, f"docs/api.md (the overview) does not link {missing}"


MATH_PAGES = [
    "index.md",
    "getting-started.md",
    "theory.md",
    "guide",
    "labs",
    "benchmarks.md",
    "reliability.md",
    "distributed.md",
]
# inline code holding maths symbols: formulas belong in $...$ (rendered by KaTeX)
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
MATH_SYMBOLS = re.compile(r"[⊗∫∮Σ∇Δλκσπ≈≤≥²³ᵀ⁻ⁿ⁺φψξθε]")


def test_formulas_are_latex():
    pages = [p for p in PAGES if p.relative_to(DOCS).parts[0] in MATH_PAGES]
    bad = []
    for page in pages:
        prose = re.sub(r"^```.*?^```\s*$", "", page.read_text(), flags=re.S | re.M)
        for span in CODE_SPAN.findall(prose):
            if MATH_SYMBOLS.search(span) and "fk." not in span:
                bad.append(f"{page.relative_to(DOCS)}: `{span}`")
    assert not bad, "formulas as inline code, write them as $...$:\n" + "\n".join(bad)


def test_listings_carry_no_lint_comments():
    """Code shown to readers needs no ``# noqa``: the listings are written so that they pass
    the linter as they stand (and so are the lab keys)."""
    listings = [(p, body) for p in PAGES for lang, body in FENCE.findall(p.read_text())]
    bad = [p.relative_to(DOCS).as_posix() for p, body in listings if "noqa" in body]
    bad += [k.relative_to(DOCS).as_posix() for k in KEYS if "noqa" in k.read_text()]
    assert not bad, f"lint comments in the listings of {sorted(set(bad))}"


KEYS = sorted((DOCS / "labs" / "solutions").glob("*_key.py"))


@pytest.mark.parametrize("key", KEYS, ids=[k.name for k in KEYS])
def test_lab_key_meets_the_stated_outcomes(key, tmp_path, monkeypatch):
    """An instructor key works the exercises of its lab and asserts the outcomes the lab
    states; it runs as a script (``__main__``) in a temporary folder."""
    monkeypatch.chdir(tmp_path)
    try:
        runpy.run_path(str(key), run_name="__main__")
    finally:
        plt.close("all")


def test_every_lab_key_is_named_by_its_lab():
    for key in KEYS:
        lab = key.name.split("_")[0]  # lab1_key.py -> lab1-*.md
        (page,) = (DOCS / "labs").glob(f"{lab}-*.md")
        assert f"solutions/{key.name}" in page.read_text(), f"{page.name} does not name {key.name}"


def test_mkdocs_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s*([\w./-]+\.md)\s*$", nav, re.M))
    pages = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert listed <= pages, f"mkdocs.yml names missing pages: {sorted(listed - pages)}"
    core = {p for p in pages if p.startswith(("guide/", "labs/", "api/"))} | {
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
