#!/usr/bin/env python3
"""docs.schemas: every JSON Schema of docs/schemas/ (and docs/order.schema.json) is valid draft 2020-12, and the
example of each document in docs/schemas/examples/ validates against its schema; a few broken documents do not.

    tests/sdk/validate_schemas.py DOCS_DIR
"""
import copy
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource

docs = pathlib.Path(sys.argv[1])
schema_files = sorted((docs / "schemas").glob("*.schema.json")) + [docs / "order.schema.json"]
schemas = {}
for path in schema_files:
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        sys.exit(f"{path}: $schema is not draft 2020-12")
    schemas[path.name.removesuffix(".schema.json")] = schema
registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values())

failures = []
documents = [name for name in schemas if name != "common"]
for name in documents:
    example = docs / "schemas" / "examples" / f"{name}.json"
    if not example.exists():
        failures.append(f"{example}: missing (every document schema has an example)")
        continue
    validator = jsonschema.Draft202012Validator(schemas[name], registry=registry,
                                                format_checker=jsonschema.FormatChecker())
    for error in validator.iter_errors(json.loads(example.read_text())):
        failures.append(f"{example}: {error.json_path}: {error.message}")

# Documents the schemas must refuse: money as a JSON number, a rate written as a percentage, an unknown key.
def broken(name, change):
    document = copy.deepcopy(json.loads((docs / "schemas" / "examples" / f"{name}.json").read_text()))
    change(document)
    return name, document

refusals = [
    broken("tax_request", lambda d: d["lines"][0].update(amount=39.98)),
    broken("tax_result", lambda d: d["lines"][0]["jurisdictions"][0].update(rate="6.25")),
    broken("invoice", lambda d: d.update(totl="47.48")),
    broken("tax_request", lambda d: d.update(currency="usd")),
    broken("event", lambda d: d.pop("id")),
    broken("stock_receipt", lambda d: d["lines"][0].update(quantity=0)),
    broken("shipment_confirmation", lambda d: d.pop("shipment_id")),  # names no shipment (nor a depositor_order)
]
for name, document in refusals:
    validator = jsonschema.Draft202012Validator(schemas[name], registry=registry)
    if validator.is_valid(document):
        failures.append(f"{name}: a broken document was accepted: {json.dumps(document)[:200]}")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"docs.schemas: {len(schemas)} schemas valid, {len(documents)} examples valid, {len(refusals)} broken documents refused")
