"""Plain Kronecker algebra: sums of Kronecker products of small matrices.

It knows nothing of finite elements.

* :mod:`~femkron.kron.operator` — :class:`KronOperator` ``Σ_t c_t A_t1⊗…⊗A_td``;
* :mod:`~femkron.kron.structure` — the separable record of an operator (per-axis pencils);
* :mod:`~femkron.kron.diagonalize` — :class:`FastDiagonalization`, the exact inverse of a
  separable Kronecker sum;
* :mod:`~femkron.kron.nested` — :class:`NestedDiagonalization` (every axis but one
  diagonalized per mode, one banded solve per mode) and the pole constraint;
* ``_apply`` and ``_csr`` — the axis kernels and the CSR builder.
"""

from .diagonalize import FFT_MIN, FastDiagonalization
from .nested import NestedDiagonalization
from .operator import KronOperator, apply_axis, kron_csr
from .poles import PoleConstrainedOperator
from .structure import SeparableStructure, StructureError, separable_structure

__all__ = [
    "FFT_MIN",
    "FastDiagonalization",
    "KronOperator",
    "NestedDiagonalization",
    "PoleConstrainedOperator",
    "SeparableStructure",
    "StructureError",
    "apply_axis",
    "kron_csr",
    "separable_structure",
]
