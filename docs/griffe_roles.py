"""A griffe extension for the API pages: Sphinx roles in the docstrings become code.

The docstrings follow the numpy convention and name other objects as
``:class:`~femkron.TensorSpace```; mkdocstrings renders Markdown, where such a role would be
printed as it is. ``:role:`~a.b.C``` becomes ```C``` and ``:role:`a.b.C``` becomes ```a.b.C```.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|obj|exc|data|const|ref):`(~?)([^`]+)`")


def plain(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class SphinxRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring griffe loads."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(plain, obj.docstring.value)
