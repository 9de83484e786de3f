// Small progressive enhancements; every screen works without JavaScript.
document.addEventListener('click', (event) => {
  const button = event.target.closest('button.copy');
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(
    () => { button.textContent = 'Copied'; setTimeout(() => { button.textContent = 'Copy'; }, 2000); },
    () => { window.getSelection().selectAllChildren(source); },
  );
});
document.addEventListener('submit', (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// Log rows open their detail inline; a second click (or Close) folds it away instead of adding another.
document.addEventListener('htmx:beforeRequest', (event) => {
  const link = event.detail.elt;
  if (!link.classList || !link.classList.contains('entry-link')) return;
  const row = link.closest('tr');
  const next = row && row.nextElementSibling;
  if (next && next.classList.contains('entry-detail')) {
    next.remove();
    event.preventDefault();
  }
});
document.addEventListener('click', (event) => {
  const button = event.target.closest('button.close-detail');
  if (!button) return;
  const detail = document.getElementById(button.dataset.close);
  if (detail) detail.remove();
});
