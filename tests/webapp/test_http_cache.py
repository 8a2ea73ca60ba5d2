"""RFC 9110 validator comparisons, case by case (the HTTP tests cover them through real routes)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from webapp.http_cache import none_match, not_modified, range_applies, variant

WHEN = datetime(2026, 3, 1, 12, 0, 5, 250000, tzinfo=timezone.utc)
DATE = "Sun, 01 Mar 2026 12:00:05 GMT"


@pytest.mark.parametrize("header, expected", [
    ('"a"', True), ('W/"a"', True), ('"b", W/"a"', True), ("*", True), ('"b"', False), ('W/"b"', False),
    ("", False), ('"a', False),
])
def test_if_none_match_is_weak(header, expected):
    assert none_match(header, '"a"') is expected


def test_if_none_match_wins_over_if_modified_since():
    assert not_modified({"If-Modified-Since": DATE}, '"a"', WHEN) is True
    assert not_modified({"If-None-Match": '"b"', "If-Modified-Since": DATE}, '"a"', WHEN) is False
    assert not_modified({"If-Modified-Since": "yesterday"}, '"a"', WHEN) is False
    assert not_modified({"If-Modified-Since": DATE}, '"a"', None) is False


@pytest.mark.parametrize("if_range, expected", [
    (None, True), ('"a"', True), ('W/"a"', False), ('"b"', False), (DATE, True),
    ("Sun, 01 Mar 2026 12:00:04 GMT", False), ("garbage", False),
])
def test_if_range_is_strong(if_range, expected):
    assert range_applies(if_range, '"a"', WHEN) is expected


def test_variant_tags_differ_per_coding():
    assert variant('"abc"', "gzip") == '"abc-gzip"'
    assert variant('"abc"', "br") != variant('"abc"', "gzip")
