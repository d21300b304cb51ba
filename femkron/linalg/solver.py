"""The solver object of the solver home.

:class:`Solver` is made by :func:`~femkron.make_solver`; its solves of small systems run on
one BLAS thread (:func:`femkron._threads.threads_for`).

Examples
--------
>>> import numpy as np
>>> import femkron as fk
>>> V = fk.TensorSpace.box([(0, 1), (0, 1)], cells=4, order=1)
>>> A = fk.BoundaryConditions(V).constrain(fk.stiffness(V))
>>> solver = fk.make_solver(A, "cg")
>>> isinstance(solver, Solver), solver.method
(True, 'cg')
"""

from __future__ import annotations

import time

import numpy as np

from .._threads import threads_for
from ..errors import ConvergenceError, FemkronValueError, StructureError
from .checks import FDM_BACKWARD_ERROR, FDM_FORWARD_ERROR, FDM_REFINE_BELOW, backward_error
from .cost import fallback_method
from .krylov import bicgstab, fcg, gmres, pcg, relative_residual

__all__ = ["Solver"]


class Solver:
    """A solver of ``A x = b``, set up once by :func:`make_solver`.

    Attributes
    ----------
    A : operator
    method : str
        The method used (``auto`` resolved).
    info : SolveInfo
        Set-up time, the method, any fallback; after each :meth:`solve` also its residual,
        iterations (summed over solves) and time.
    plan : GeneralPlan or None
        For a matrix-free variable-coefficient operator, what the cost model chose (operator
        form, preconditioner, predicted times; :func:`femkron.linalg.cost.general_plan`).
    """

    def __init__(self, A, method, info, inverse=None, precond=None, krylov=None, **options):
        self.A = A
        self.method = method
        self.info = info
        self._inverse = inverse
        self._precond = precond
        self._krylov = krylov
        self._opt = options
        self._apply = A.__matmul__
        self._verify = None
        self.plan = None
        self._known_residual = None  # the residual of the solution, when a check computed it
        self._factory = None  # make_solver, for the replacement of a failed fdm

    def __repr__(self):
        return f"<Solver {self.method} for a {self.A.shape[0]}×{self.A.shape[1]} operator>"

    def solve(self, b, x0=None):
        """Solve ``A x = b``; ``x0`` starts an iterative method (ignored by direct ones).

        BLAS runs on one thread for small systems (:func:`threads_for`).

        Raises
        ------
        ConvergenceError
            When an iterative method misses its tolerance (unless the solver was made with
            ``raise_on_failure=False``: then ``info.converged`` is False).
        """
        with threads_for(self.A.shape[0]):
            return self._solve(b, x0)

    def _solve(self, b, x0=None):
        opt, info = self._opt, self.info
        t0 = time.perf_counter()
        project = opt["project"]
        if project is not None:
            b = project(b)
        history = []
        if self._inverse is not None:
            x = self._inverse(b)
            iterations = 0
            if self._verify is not None:
                x = self._verified(x, b, project)
                if x is None:
                    return self.solve(b, x0)  # solved again by the replacement method
        else:
            x, iterations, history = self._iterate(b, x0, project)
        if project is not None:
            x = project(x)
        info.iterations += iterations
        info.history = list(history)
        info.seconds += time.perf_counter() - t0
        if opt["check"] or self._inverse is None:
            self._judge(x, b, history, true_residual=opt["check"])
        return x

    def _verified(self, x, b, project):
        """Judge a fast diagonalization on its first solve; the refined solution, or None.

        Two measures: the componentwise backward error (ill-conditioned 1D eigenproblems of
        graded meshes), and the forward error estimated by one step of iterative refinement,
        ``‖F⁻¹(b - A x)‖ / ‖x‖`` (an ill-conditioned basis, e.g. equispaced nodes of high
        order, where a backward-stable answer still loses digits).  The refined ``x`` is
        returned when both are small.  Otherwise the solver becomes its replacement (and
        None is returned) or raises.
        """
        how, self._verify = self._verify, None
        r = b - self._apply(x)  # one product, shared by both measures and the final check
        omega = backward_error(self.A, x, b, r)
        d = self._inverse(r)
        if project is not None:
            d = project(d)
        size = float(np.linalg.norm(x))
        forward = float(np.linalg.norm(d)) / size if size > 0 else 0.0
        if omega > FDM_BACKWARD_ERROR and self._generic_backward_error(project):
            # fdm is normwise, not componentwise, backward stable: where b has exact zeros the
            # solution can decay below the rounding of its transforms (a localised source of
            # a heat step), so the componentwise measure of *this* b is large although the 1D
            # eigenproblems are fine.  A random right-hand side (full support) judges them;
            # this b is then judged normwise.
            omega = backward_error(self.A, x, b, r, normwise=True)
        if omega <= FDM_BACKWARD_ERROR and forward <= FDM_FORWARD_ERROR:
            if forward <= FDM_REFINE_BELOW and project is None:  # r is x's true residual
                bnorm = float(np.linalg.norm(b))
                self._known_residual = float(np.linalg.norm(r)) / bnorm if bnorm > 0 else 0.0
                return x
            return x + d
        if omega > FDM_BACKWARD_ERROR:
            lost = (
                f"fast diagonalization lost accuracy (componentwise backward error {omega:.1e}: "
                "the 1D eigenproblems are too ill-conditioned, e.g. a strongly graded mesh)"
            )
        else:
            lost = (
                f"fast diagonalization lost accuracy (estimated relative error {forward:.1e} "
                "after one step of refinement: the operator is ill-conditioned, e.g. "
                "equispaced nodes of high order)"
            )
        opt = self._opt
        if how["asked"] != "auto" and how["fit"] is None:
            if not opt["raise_on_failure"]:
                self.info.converged = False
                self.info.note = "; ".join(s for s in (self.info.note, lost) if s)
                return x
            raise StructureError(
                f"method='fdm': {lost}; use method='direct' or 'amg'", reason="lost-accuracy"
            )
        general = how["asked"] == "auto"
        t0 = time.perf_counter()
        other = self._factory(
            self.A,
            fallback_method(self.A) if general else "fdm",
            rtol=opt["rtol"],
            maxiter=how["maxiter"],
            singular=how["singular"],
            fit=None if general else how["fit"],
            krylov=how["krylov"],
            restart=opt["restart"],
            label=None if general else how["label"],
            raise_on_failure=opt["raise_on_failure"],
            check=opt["check"],
            exact=False,
        )
        note = f"{self.info.note}; {lost}, so {other.method} instead"
        other.info.note = note.lstrip("; ")
        other.info.fallback = "lost-accuracy"
        other.info.setup_seconds += self.info.setup_seconds
        other.info.seconds = self.info.seconds + other.info.seconds + time.perf_counter() - t0
        self.__dict__.update(other.__dict__)
        return None

    def _generic_backward_error(self, project):
        """Whether the componentwise backward error of a random right-hand side is small."""
        x = np.random.default_rng(0).standard_normal(self.A.shape[1])
        if project is not None:
            x = project(x)
        b = self._apply(x)
        xs = self._inverse(b)
        if project is not None:
            xs = project(xs)
        return backward_error(self.A, xs, b) <= FDM_BACKWARD_ERROR

    def _iterate(self, b, x0, project):
        opt = self._opt
        rtol, maxiter = opt["rtol"], opt["maxiter"]
        kind = self._krylov
        try:
            if kind == "pcg":
                return pcg(self._apply, b, self._precond, rtol, maxiter, x0=x0, project=project)
            if kind == "cg":
                return fcg(self._apply, b, self._precond, rtol, maxiter, x0=x0, project=project)
            if kind == "gmres":
                return gmres(self._apply, b, self._precond, rtol, maxiter, opt["restart"], x0)
            return bicgstab(self._apply, b, self._precond, rtol, maxiter, x0)
        except ConvergenceError as err:  # a breakdown: judged below by the true residual
            if opt["raise_on_failure"] or err.x is None:
                raise
            return err.x, err.iterations, err.residuals

    def _judge(self, x, b, history, true_residual=True):
        """The check of a solve, by its true residual.

        Without ``true_residual``, an iterative method is checked by the last residual of its
        recurrence.
        """
        opt, info = self._opt, self.info
        known, self._known_residual = self._known_residual, None
        if true_residual and known is not None:
            residual = known
        elif true_residual:  # one product, in the form the iterations use (CSR or operator)
            residual = relative_residual(_Applied(self._apply), x, b)
        else:
            residual = history[-1] if history else 0.0
        info.residual = residual
        rtol = opt["rtol"]
        if self._inverse is None:  # iterative: the tolerance, up to the recurrence's drift
            drift = bool(history) and history[-1] <= rtol and residual < 10 * rtol
            info.converged = bool(residual <= 1.01 * rtol or drift)
            if not info.converged and opt["raise_on_failure"]:
                raise ConvergenceError(
                    f"{info.method} did not reach rtol={rtol:g} in {info.iterations} iterations "
                    f"(relative residual {residual:.2e}); raise maxiter or use method='direct'",
                    iterations=info.iterations,
                    residuals=history,
                )
        elif self.method == "direct" and not residual <= _direct_bound(opt.get("condition")):
            info.converged = False
            if opt["raise_on_failure"]:
                raise FemkronValueError(
                    f"A is numerically singular: method='direct' left a relative residual of "
                    f"{residual:.2e}",
                    reason="singular",
                )


class _Applied:
    """``A @ x`` through a product function (the form a solver applies its operator in)."""

    __slots__ = ("apply",)

    def __init__(self, apply):
        self.apply = apply

    def __matmul__(self, x):
        return self.apply(x)


def _direct_bound(condition):
    """The largest relative residual a backward-stable LU may leave.

    ``ε`` times the scaled condition number, with a factor 10³ for the norms and pivot growth
    (at least 1e-6, the residual at which a solve is useless anyway).
    """
    if condition is None or not np.isfinite(condition):
        return 1e-6
    return max(1e-6, 1e3 * np.finfo(float).eps * condition)
