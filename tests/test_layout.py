"""The layout keeps its promises: old import paths, small modules, one home for LU and AMG,
no decisions read from message text, results that declare what they carry."""

import ast
import importlib
import pathlib
import re
import warnings

import numpy as np
import pytest

import femkron as fk

PACKAGE = pathlib.Path(fk.__file__).parent
SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))

OLD_PATHS = {
    "femkron.solvers": ("solve", fk.solve),
    "femkron.tensor": ("TensorSpace", fk.TensorSpace),
    "femkron.fdm": ("FastDiagonalization", fk.FastDiagonalization),
    "femkron.matfree": ("MatrixFreeOperator", fk.MatrixFreeOperator),
    "femkron.bc": ("Dirichlet", fk.Dirichlet),
    "femkron.mesh": ("Mesh1D", fk.Mesh1D),
    "femkron.space": ("Space1D", fk.Space1D),
    "femkron.norms": ("error", fk.error),
    "femkron.linear_system": ("LinearSystem", fk.LinearSystem),
    "femkron.solution": ("Solution", fk.Solution),
    "femkron.timestepping": ("heat", fk.heat),
    "femkron.assembly": ("assemble", fk.assemble),
}


@pytest.mark.parametrize("old", sorted(OLD_PATHS))
def test_old_import_paths_give_the_same_objects_with_a_warning(old):
    name, obj = OLD_PATHS[old]
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert getattr(module, name) is obj
    assert any(issubclass(w.category, DeprecationWarning) and old in str(w.message) for w in caught)


def test_packages_of_01_keep_their_names():
    from femkron.kron import KronOperator, apply_axis, kron_csr  # noqa: F401
    from femkron.problems import LinearSystem, poisson  # noqa: F401

    assert fk.KronOperator is KronOperator


def test_no_module_over_600_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in SOURCES
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert not long, long


def calls_of(name):
    """Modules whose code calls ``name`` (as a function or attribute)."""
    found = set()
    for p in SOURCES:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                if called == name:
                    found.add(str(p.relative_to(PACKAGE)))
    return found


def test_sparse_lu_and_amg_set_up_in_one_module():
    # the benchmarks time pyamg and SuperLU themselves, as baselines
    allowed = {"linalg/preconditioners.py"}
    assert calls_of("splu") - {"bench/cases.py"} <= allowed
    assert calls_of("smoothed_aggregation_solver") - {"bench/cases.py", "bench/kappa.py"} <= allowed


def test_no_decision_reads_message_text():
    pattern = re.compile(
        r"""["'][^"']*["']\s+(not\s+)?in\s+(str\(\w+\)|[\w.]*\.note\b|[\w.]*message)"""
    )
    hits = [
        f"{p.relative_to(PACKAGE)}:{i + 1}"
        for p in SOURCES
        for i, line in enumerate(p.read_text().splitlines())
        if pattern.search(line)
    ]
    assert not hits, hits


def test_init_defines_nothing():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    defined = [
        type(n).__name__
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign))
        and not (isinstance(n, ast.Assign) and [t.id for t in n.targets] == ["__all__"])
    ]
    assert not defined


def test_results_declare_every_attribute():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    declared = set(fk.Solution.__doc__.split("Attributes")[1].split("Examples")[0].split())
    for sol in [
        fk.poisson(V, 1.0),
        fk.poisson(V, 1.0, kappa=lambda x, y: 1 + x * y),
        fk.advection_diffusion(V, 1.0, velocity=(1.0, 0.0), epsilon=0.5),
    ]:
        assert set(vars(sol)) <= declared, set(vars(sol)) - declared
    heat_doc = fk.HeatSolution.__doc__.split("Attributes")[1].split("Examples")[0].split()
    ht = fk.heat(V, 1.0, t_end=0.01, dt=0.005, snapshots=2)
    assert set(vars(ht)) <= set(heat_doc), set(vars(ht)) - set(heat_doc)
    sol = fk.poisson(V, 1.0, kappa=lambda x, y: 1 + x * y)
    assert sol.coefficient["path"] == "matfree" and "preconditioner" in sol.coefficient
    assert fk.advection_diffusion(V, 1.0, velocity=(1.0, 0.0), epsilon=0.5).peclet > 0
    assert np.isfinite(sol.info.residual)
