/*
 * The page editor's autosave saves only what the editor changed (kb.wagtail_hooks,
 * docs/decisions.md "Issue #14 — Editors").
 *
 * Wagtail 8 takes the form's starting state ~2 s after the page loads and autosaves as soon as
 * the form data differs from it. The rich text editors (Draftail) re-serialise their value
 * when they mount (the server renders indented JSON, Draftail writes compact JSON); on a slow
 * or busy machine that happens after the 2 s, and merely opening a page saved a new draft
 * revision. Until the editor's first real input, a change of the form data is the widgets
 * normalising what the server rendered: it becomes the starting state instead of an edit.
 *
 * On a create form autosave is off: an abandoned form must leave no page behind (the server
 * refuses an autosave of a create form as well).
 */
(() => {
  const form = document.querySelector('form[data-edit-form]');
  if (!form) return;

  const isCreate = /\/pages\/add\//.test(form.getAttribute('action') || '');
  if (isCreate) {
    const strip = (value) =>
      (value || '')
        .split(/\s+/)
        .filter((token) => token && !token.includes('w-autosave'))
        .join(' ');
    form.setAttribute('data-controller', strip(form.getAttribute('data-controller')));
    form.setAttribute('data-action', strip(form.getAttribute('data-action')));
    form.removeAttribute('data-w-autosave-interval-value');
    return;
  }

  let touched = false;
  const touch = (event) => {
    if (event.isTrusted) touched = true;
  };
  ['keydown', 'input', 'paste', 'cut', 'drop', 'change'].forEach((type) =>
    form.addEventListener(type, touch, true),
  );
  // Choosers, "add block", "delete" and the like change the form by script: their buttons
  // count as an edit (tabs and the section toggles do not).
  form.addEventListener(
    'pointerdown',
    (event) => {
      const control = event.target.closest('button, [role="button"], a');
      if (
        control &&
        !control.matches('[role="tab"], [data-panel-toggle], [aria-expanded]')
      ) {
        touch(event);
      }
    },
    true,
  );

  // Capture phase on the document: runs before the form's own "add → autosave" action.
  document.addEventListener(
    'w-unsaved:add',
    (event) => {
      if (touched || event.target !== form) return;
      event.stopImmediatePropagation();
      const app = window.wagtail && window.wagtail.app;
      const unsaved = app && app.getControllerForElementAndIdentifier(form, 'w-unsaved');
      if (unsaved) unsaved.clear();
    },
    true,
  );
})();
