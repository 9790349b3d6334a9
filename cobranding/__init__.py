"""Co-branding: an organisation's brand kit (logo, colours, contact details) on a marketing
asset's master (a PDF document version or an image).

``engine`` renders and stamps bytes (no Django). The app around it: ``CobrandTemplate`` (zones
per master, versioned), ``CobrandRender`` (one cached render per master version, template
version and brand-kit version, made by ``tasks.cobrand_render_task``), ``CobrandIssue`` (one per
download: the token stamped into the file), ``identify`` (token → who). Who may ask is decided
by ``permissions.policies.cobranding``. See docs/cobranding.md.
"""
