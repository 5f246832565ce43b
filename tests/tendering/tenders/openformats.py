"""Checking open-data output offline: the OCDS 1.1 schemas shipped in tests/data, with the
Lots extension the packages declare merged in (as OCDS tools apply extensions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

OCDS = Path(__file__).parents[2] / "data" / "ocds-1.1"
LOTS = Path(__file__).parents[2] / "data" / "ocds-lots-1.1.5"
ATOM = "{http://www.w3.org/2005/Atom}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: how an OCDS extension's schema applies to the core's."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def ocds_validator() -> jsonschema.Draft4Validator:
    """Validates a release package; the package schema's $ref to the release schema's URL
    id resolves to the local copy (a network fetch would fail the test, not pass it)."""
    package = json.loads((OCDS / "release-package-schema.json").read_text())
    release = merge_patch(
        json.loads((OCDS / "release-schema.json").read_text()),
        json.loads((LOTS / "release-schema.json").read_text()),
    )
    registry: Registry = Registry().with_resources(
        (schema["id"], Resource.from_contents(schema, default_specification=DRAFT4))
        for schema in (package, release)
    )
    return jsonschema.Draft4Validator(
        package, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
