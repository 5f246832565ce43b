"""Checking open-data output offline: the OCDS 1.1 schemas shipped in tests/data."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

OCDS = Path(__file__).parents[2] / "data" / "ocds-1.1"
ATOM = "{http://www.w3.org/2005/Atom}"


def ocds_validator() -> jsonschema.Draft4Validator:
    """Validates a release package; the package schema's $ref to the release schema's URL
    id resolves to the local copy (a network fetch would fail the test, not pass it)."""
    package = json.loads((OCDS / "release-package-schema.json").read_text())
    release = json.loads((OCDS / "release-schema.json").read_text())
    registry: Registry = Registry().with_resources(
        (schema["id"], Resource.from_contents(schema, default_specification=DRAFT4))
        for schema in (package, release)
    )
    return jsonschema.Draft4Validator(
        package, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
