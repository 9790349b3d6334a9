"""The ONE place that decides who may see or do what.

Rules (ARCHITECTURE.md): a suspended organisation sees nothing; an exception beats everything; a
grant beats the tier/region/type rule; otherwise tier, region and type must all match. An item's
audience is inherited down the page tree and only narrows:
``visible(item) = own rule AND visible(parent)``.

One module per concern; callers import from the module that answers their question:

* ``principal``: who is asking (``principal_for(user)``), resolved once per request;
* ``rule``: the pure rule (its Python and Django ``Q`` forms) and the algebra that compiles it
  down the tree (``combine``, ``intersect_regions``);
* ``pages``: pages and items: ``page_policy`` (instance check with reasons, queryset filter) and
  ``page_access_policy`` (who may change access);
* ``files``: item documents and raw media (``document_policy``, ``media_policy``);
* ``cobranding``: renders and brand-kit logos (``cobrand_policy``, ``brandkit_policy``);
* ``sharing``: share links of co-branded assets (``share_link_policy``);
* ``search``: the entitlement as data for search engines (``SearchFilter``,
  ``search_audiences``);
* ``accounts``: login lockouts (``login_lockout_policy``);
* ``organizations``: the portal's organisation page, partner admins managing their own
  organisation's brand kit and members (``organization_policy``).

The forms of the rule are tested against each other and against a separate plain-Python oracle
(permissions/tests/test_policy_properties.py).
"""
