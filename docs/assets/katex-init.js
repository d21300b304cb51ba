// Render the formulas that pymdownx.arithmatex (generic mode) leaves as \( \) and \[ \]
// with the KaTeX copy shipped in the site: no network is needed to read the pages.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
    ],
    throwOnError: false,
  });
});
