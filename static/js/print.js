// A "Print" button on printable lists. It is hidden until this script shows it (no inline
// script: the content security policy forbids it); without JavaScript, the browser's own
// print command does the same.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
