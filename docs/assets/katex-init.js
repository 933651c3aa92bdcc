// Render the math that pymdownx.arithmatex (generic mode) leaves as \( ... \) and \[ ... \].
// Runs on every page load, including Material's instant navigation (document$).
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  });
});
