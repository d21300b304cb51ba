"""mkdocs hooks: the built site must read offline.

Every page is checked after rendering: a ``<script src>``, ``<link href>`` or ``<img src>``
that points at another host, or a formula that KaTeX will not see, fails the build (a
warning, which ``mkdocs build --strict`` turns into an error).
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("mkdocs.hooks.offline")
EXTERNAL = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)=\"(?:https?:)?//[^\"]*\"", re.I)
RAW_TEX = re.compile(r"\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$")


def on_post_page(output: str, page, config) -> str:
    for tag in EXTERNAL.findall(output):
        log.warning("%s loads from the network: %s", page.file.src_uri, tag)
    text = re.sub(r"<(pre|code)\b.*?</\1>", "", output, flags=re.S)
    if "arithmatex" not in text and RAW_TEX.search(text):
        log.warning("%s has TeX outside $...$ that arithmatex did not pick up", page.file.src_uri)
    return output
