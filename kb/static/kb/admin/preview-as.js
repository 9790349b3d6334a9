/*
 * "Preview as" in the page editor (kb.panels.PreviewAsPanel): stores the chosen organisation or
 * user in the editor's session (kb.preview.preview_as_set), opens the preview panel and switches
 * it to the "as the partner" mode, which renders the unsaved form as they would see it.
 */
(() => {
  const init = (root) => {
    if (root.dataset.kbPreviewAsReady) return;
    root.dataset.kbPreviewAsReady = '1';
    const select = root.querySelector('[data-kb-preview-as-select]');
    const button = root.querySelector('[data-kb-preview-as-button]');
    const status = root.querySelector('[data-kb-preview-as-status]');
    const texts = root.querySelector('[data-kb-preview-as-texts]').dataset;
    const csrf = document.querySelector('input[name="csrfmiddlewaretoken"]');

    const showPreview = (mode) => {
      const toggle = document.querySelector('[data-side-panel-toggle="preview"]');
      if (toggle && toggle.getAttribute('aria-expanded') !== 'true') toggle.click();
      const modeSelect = document.getElementById('id_preview_mode');
      if (modeSelect) {
        modeSelect.value = mode;
        modeSelect.dispatchEvent(new Event('change', { bubbles: true }));
      }
    };

    button.addEventListener('click', async () => {
      const body = new FormData();
      body.set('principal', select.value);
      try {
        const response = await fetch(root.dataset.url, {
          method: 'POST',
          body,
          headers: { 'X-CSRFToken': csrf ? csrf.value : '', Accept: 'application/json' },
          credentials: 'same-origin',
        });
        const data = await response.json();
        if (!response.ok || !data.ok) throw new Error(data.error || 'failed');
        status.textContent = data.label
          ? texts.showing.replace('%s', data.label)
          : texts.cleared;
        showPreview(data.label ? root.dataset.mode : '');
      } catch (error) {
        status.textContent = texts.failed;
      }
    });
  };

  const scan = () => document.querySelectorAll('[data-kb-preview-as]').forEach(init);
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', scan);
  } else {
    scan();
  }
})();
