// Progressive enhancement only: every page works without this file.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches("input.copy")) {
    event.target.select();
  }
});
