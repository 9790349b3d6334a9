"""A search text the database cannot parse answers 400 "invalid search", not 500."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kb.middleware import bad_request_response

from .wagtail_backend import InvalidSearchQuery


class InvalidSearchMiddleware:
    """Turns ``InvalidSearchQuery`` (search.wagtail_backend: the admin's searches) into a 400
    page that says the search could not be read, wherever it is raised (view or template)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, InvalidSearchQuery):
            return None
        return bad_request_response(
            request,
            _(
                "Invalid search: the search text could not be read. Remove unmatched "
                "quotes or special characters and try again."
            ),
        ).render()
