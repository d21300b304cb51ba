"""Helmholtz / reaction with Dirichlet, Neumann and Robin faces: rates, fdm, variable κ."""

import numpy as np
import pytest

import femkron as fk

A1, A2, ALPHA = 1.3, 0.7, 2.0


def u(x, y):
    return np.sin(A1 * x + 0.4) * np.cos(A2 * y)


def ux(x, y):
    return A1 * np.cos(A1 * x + 0.4) * np.cos(A2 * y)


def uy(x, y):
    return -A2 * np.sin(A1 * x + 0.4) * np.sin(A2 * y)


def mixed_bc():
    return {
        "left": fk.Dirichlet(u),
        "right": fk.Neumann(ux),  # outward normal +x
        "bottom": fk.Robin(ALPHA, lambda x, y: -uy(x, y) + ALPHA * u(x, y)),
        "top": fk.Neumann(uy),
    }


@pytest.mark.parametrize("p", [1, 2, 3])
def test_rates_with_mixed_conditions(p):
    k = 2.5
    f = lambda x, y: (A1**2 + A2**2 - k * k) * u(x, y)  # noqa: E731
    hs, l2, h1 = [], [], []
    for n in (4, 8, 16):
        V = fk.TensorSpace.box([(0, 1), (0, 1.5)], cells=n, order=p)
        sol = fk.helmholtz(V, f, wavenumber=k, bc=mixed_bc())
        assert sol.info.method == "fdm" and sol.problem == "helmholtz"
        hs.append(1 / n)
        l2.append(sol.error(u, "L2"))
        h1.append(sol.error(u, "H1", grad=(ux, uy)))
    assert abs(fk.convergence_rate(hs, l2) - (p + 1)) < 0.25, l2
    assert abs(fk.convergence_rate(hs, h1) - p) < 0.2, h1


def test_reaction_3d_rates():
    ex = lambda x, y, z: np.sin(np.pi * x) * np.sin(np.pi * y) * np.sin(np.pi * z)  # noqa: E731
    f = lambda x, y, z: (3 * np.pi**2 + 4.0) * ex(x, y, z)  # noqa: E731
    errs = []
    for n in (2, 4, 8):
        V = fk.TensorSpace.box([(0, 1)] * 3, cells=n, order=2)
        errs.append(fk.poisson(V, f, sigma=4.0).error(ex))
    assert abs(fk.convergence_rate([1 / 2, 1 / 4, 1 / 8], errs) - 3) < 0.3, errs


def test_variable_kappa_helmholtz_paths_agree():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=10, order=2)
    kappa = lambda x, y: 1 + 0.5 * x * y  # noqa: E731
    bc = {"left": fk.Robin(1.0, 0.2), "top": fk.Neumann(0.1)}
    sols = {
        c: fk.helmholtz(V, 1.0, wavenumber=4.0, kappa=kappa, bc=bc, coefficient=c, rtol=1e-12)
        for c in ("lowrank", "assembled", "matfree")
    }
    assert sols["matfree"].info.method == "fdm-gmres"
    ref = sols["assembled"].values
    for c in ("lowrank", "matfree"):
        assert np.abs(sols[c].values - ref).max() < 1e-8 * np.abs(ref).max()


def test_resonance_and_bad_wavenumber():
    V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=6, order=2)
    lam = fk.eigen(V, k=1)[0][0]
    with pytest.raises(fk.FemkronValueError, match="singular|resonance"):
        fk.helmholtz(V, 1.0, wavenumber=np.sqrt(lam))
    with pytest.raises(fk.FemkronValueError, match="wavenumber"):
        fk.helmholtz(V, 1.0, wavenumber=-1.0)
    with pytest.raises(fk.FemkronTypeError, match="wavenumber"):
        fk.helmholtz(V, 1.0, wavenumber="k")
