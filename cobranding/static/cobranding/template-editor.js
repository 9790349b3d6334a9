// The co-brand template editor, made nicer: the preview follows the zone rows as they are
// edited (no "Preview" click), and on an image master a zone can be drawn by dragging on the
// preview. Without this file the form works the same (numbers, "Preview", "Save").
(function () {
  "use strict";
  const form = document.querySelector("form[data-cobrand-editor]");
  const preview = document.querySelector("[data-cobrand-preview]");
  if (!form || !preview) return;
  const base = preview.dataset.base;
  const zones = Array.from(form.querySelectorAll("[data-zone]"));
  let focused = null;

  function field(zone, name) {
    return zone.querySelector('[name$="-' + name + '"]');
  }
  function number(zone, name) {
    const el = field(zone, name);
    return el && el.value !== "" ? Number(el.value) : NaN;
  }
  function layout() {
    const logos = [];
    const texts = [];
    for (const zone of zones) {
      const del = field(zone, "DELETE");
      const [x, y, w, h] = ["x", "y", "w", "h"].map((n) => number(zone, n));
      if ((del && del.checked) || [x, y, w, h].some(Number.isNaN)) continue;
      const box = { x: x / 100, y: y / 100, w: w / 100, h: h / 100 };
      const page = number(zone, "page") || 1;
      const align = field(zone, "align").value;
      if (field(zone, "kind").value === "logo") {
        logos.push({ box, page, align });
      } else {
        const fields = Array.from(zone.querySelectorAll('[name$="-kit_fields"]:checked')).map(
          (el) => el.value,
        );
        texts.push({
          box, page, align, fields,
          font_size: number(zone, "font_size") || 12,
          color: field(zone, "color").value.trim() || "secondary",
        });
      }
    }
    const pages = Array.from(new Set([...logos, ...texts].map((z) => z.page))).sort((a, b) => a - b);
    const confidential = form.querySelector('[name="confidential"]');
    return {
      json: { format: 1, pages: pages.length ? pages : [1], band: null,
              watermark: !!(confidential && confidential.checked),
              logo_zones: logos, text_zones: texts },
      confidential: !!(confidential && confidential.checked),
    };
  }
  let timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const { json, confidential } = layout();
      const params = new URLSearchParams({ layout: JSON.stringify(json) });
      if (confidential) params.set("confidential", "1");
      const url = base + "?" + params.toString();
      preview.src = url;
      const link = document.querySelector("[data-cobrand-preview-link]");
      if (link) link.href = url;
    }, 600);
  }
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);

  // A logo box has no font, colour or brand-kit fields: show those for text boxes only, and
  // name the kind in the zone's legend ("Zone 1 · Logo box").
  function showKind(zone) {
    const kind = field(zone, "kind");
    if (!kind) return;
    const text = kind.value === "text";
    zone.querySelectorAll("[data-text-only]").forEach((el) => { el.hidden = !text; });
    zone.dataset.kind = kind.value;
    const label = zone.querySelector("[data-kind-label]");
    if (label && kind.selectedOptions[0]) label.textContent = kind.selectedOptions[0].textContent;
  }
  zones.forEach((zone) => {
    showKind(zone);
    const kind = field(zone, "kind");
    if (kind) kind.addEventListener("change", () => showKind(zone));
  });
  zones.forEach((zone) => zone.addEventListener("focusin", () => { focused = zone; }));

  // Drag to draw (image masters: the preview is the image itself).
  if (preview.tagName !== "IMG") return;
  let start = null;
  function point(event) {
    const rect = preview.getBoundingClientRect();
    return {
      x: Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1),
      y: Math.min(Math.max((event.clientY - rect.top) / rect.height, 0), 1),
    };
  }
  preview.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    start = point(event);
  });
  preview.addEventListener("pointerup", (event) => {
    if (!start) return;
    const end = point(event);
    const zone = focused || zones.find((z) => field(z, "x").value === "") || zones[0];
    const pct = (v) => (Math.round(v * 10000) / 100).toString();
    field(zone, "x").value = pct(Math.min(start.x, end.x));
    field(zone, "y").value = pct(Math.min(start.y, end.y));
    field(zone, "w").value = pct(Math.max(Math.abs(end.x - start.x), 0.01));
    field(zone, "h").value = pct(Math.max(Math.abs(end.y - start.y), 0.01));
    if (field(zone, "page").value === "") field(zone, "page").value = "1";
    start = null;
    refresh();
  });
})();
