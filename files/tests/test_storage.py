"""Stored names on S3 are unique by construction (files.storage.unique_name): no HEAD probe."""

from __future__ import annotations

import posixpath
import re

import pytest
from django.core.exceptions import SuspiciousFileOperation

from files.storage import UNIQUE_SUFFIX, display_name, unique_name

TOKEN = r"_[0-9a-f]{16}"


def test_unique_name_keeps_folder_stem_and_extension():
    name = unique_name("documents/price list.pdf")
    assert re.fullmatch(rf"documents/price list{TOKEN}\.pdf", name)
    assert unique_name("documents/price list.pdf") != name


def test_a_name_that_has_a_component_gets_a_fresh_one_not_a_second():
    first = unique_name("documents/a.pdf")
    again = unique_name(f"regions/emea/{first}")
    assert re.fullmatch(rf"regions/emea/documents/a{TOKEN}\.pdf", again)
    assert again.removeprefix("regions/emea/") != first
    assert UNIQUE_SUFFIX.search("a_0123456789abcdef") and not UNIQUE_SUFFIX.search("a_version")


def test_unique_name_fits_max_length_by_shortening_the_stem():
    name = unique_name("documents/" + "x" * 200 + ".pdf", max_length=100)
    assert len(name) == 100 and re.fullmatch(rf"documents/x+{TOKEN}\.pdf", name)
    with pytest.raises(SuspiciousFileOperation):
        unique_name("documents/a.pdf", max_length=20)
    with pytest.raises(SuspiciousFileOperation):
        unique_name("../etc/a.pdf")


def test_downloads_are_offered_without_the_component():
    assert display_name(posixpath.basename(unique_name("documents/price list.pdf"))) == (
        "price list.pdf"
    )
    assert display_name("a_version.pdf") == "a_version.pdf"
    assert display_name("README") == "README"
