"""JSON Schema of the Podcasting 2.0 JSON chapters format (version 1.2), written from the
namespace's jsonChapters.md: the two required properties, the optional ones with their types,
and the location object. Other properties are allowed: the format says nothing against them.
"""

from __future__ import annotations

from collections.abc import Iterator

_URL = {"type": "string", "pattern": "^https?://"}
_SECONDS = {"type": "number", "minimum": 0}

CHAPTERS_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "chapters"],
    "properties": {
        "version": {"type": "string", "pattern": r"^\d+\.\d+(\.\d+)?$"},
        "chapters": {"type": "array", "items": {"$ref": "#/$defs/chapter"}},
        "author": {"type": "string"}, "title": {"type": "string"}, "podcastName": {"type": "string"},
        "description": {"type": "string"}, "fileName": {"type": "string"}, "waypoints": {"type": "boolean"},
    },
    "$defs": {
        "chapter": {
            "type": "object",
            "required": ["startTime"],
            "properties": {
                "startTime": _SECONDS, "endTime": _SECONDS, "title": {"type": "string"}, "img": _URL,
                "url": _URL, "toc": {"type": "boolean"}, "location": {"$ref": "#/$defs/location"},
            },
        },
        "location": {
            "type": "object",
            "required": ["name", "geo"],
            "properties": {"name": {"type": "string"}, "geo": {"type": "string", "pattern": "^geo:"},
                           "osm": {"type": "string"}},
        },
    },
}


def schema_problems(data) -> Iterator[str]:
    """One sentence per place where ``data`` breaks the schema, in document order."""
    from jsonschema import Draft202012Validator  # only `feed check` needs it

    errors = Draft202012Validator(CHAPTERS_SCHEMA).iter_errors(data)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        yield f"The chapters file at {where}: {error.message}."
