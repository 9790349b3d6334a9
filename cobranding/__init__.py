"""Co-branding: an organisation's brand kit (logo, colours, contact block) on a marketing asset.

Images only for now: the asset's master image with the logo in the bottom-right corner and the
contact block as text lines on a band in the organisation's colours (``render``). A render is
stored once per *source fingerprint* (the item's live revision, the master image's file and the
brand kit) in the organisation's residency bucket and reused until one of them changes
(``services.cobrand_render_ensure``). Who may ask is decided by ``permissions.policies``
(``cobrand_policy``). PDF co-branding with editor-defined zones is not built (docs/storage.md).
"""
