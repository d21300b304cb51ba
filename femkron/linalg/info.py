"""What a solve did: :class:`SolveInfo`.

Examples
--------
>>> info = SolveInfo("cg", iterations=12, residual=3e-11, history=[1.0, 3e-11])
>>> print(info)
cg: 12 iterations, relative residual 3.00e-11, 0 s
>>> info.fallback is None
True
"""

from __future__ import annotations

import dataclasses

__all__ = ["SolveInfo", "FALLBACKS"]

#: Codes of :attr:`SolveInfo.fallback`: why a method other than the one asked for (or first
#: chosen by ``"auto"``) solved the system.
FALLBACKS = {
    "not-separable": "fast diagonalization needs a separable Kronecker sum; the operator is "
    "not one, so a Krylov method preconditioned by fdm of a separable fit solved it",
    "lost-accuracy": "fast diagonalization lost accuracy (ill-conditioned 1D eigenproblems, "
    "e.g. a strongly graded mesh)",
    "fdm-too-large": "a 1D eigenproblem of fast diagonalization would be too large (dense "
    "n×n factors)",
}


@dataclasses.dataclass
class SolveInfo:
    """What a solve did.

    Attributes
    ----------
    method : str
        The method used (``"auto"`` resolved; ``"fdm-cg"``/``"fdm-gmres"``: a Krylov method
        preconditioned by fast diagonalization of a separable fit).
    iterations : int
        Iterations (0 for direct methods; the total over all solves of a reused solver).
    residual : float
        Final true relative residual ``‖b - A x‖ / ‖b‖``.
    seconds : float
        Wall time of setup and solve.
    setup_seconds : float
        Part of ``seconds`` spent in setup (factorisation, eigenproblems, hierarchy).
    converged : bool
    history : list of float
        Relative residual history of iterative methods.
    note : str
        Why ``"auto"`` chose the method, or other remarks, for people to read.
    fallback : str or None
        Why another method was used, as a code of :data:`FALLBACKS` (``None``: none was).
    """

    method: str
    iterations: int = 0
    residual: float = float("nan")
    seconds: float = 0.0
    setup_seconds: float = 0.0
    converged: bool = True
    history: list = dataclasses.field(default_factory=list)
    note: str = ""
    fallback: str | None = None

    @property
    def residuals(self):
        """The 0.1 name of :attr:`history`."""
        return self.history

    def __str__(self):
        return (
            f"{self.method}: {self.iterations} iterations, relative residual "
            f"{self.residual:.2e}, {self.seconds:.3g} s"
        )
