from __future__ import annotations

import json

import jsonschema

from ..logs import row, sessionlog


def test_schema_is_a_valid_draft_2020_12_json_schema() -> None:
    out, _, status = sessionlog("schema")
    schema = json.loads(out)
    assert status == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_names_every_key_of_the_row_and_what_is_required() -> None:
    schema = json.loads(sessionlog("schema")[0])
    assert set(schema["properties"]) == set(row(sample_rate=0.5))
    assert "artifact" not in schema["required"]
    assert "grounded_in_roster" not in schema["required"]
    assert "attempts" in schema["required"]
    assert schema["properties"]["final_verdict"]["enum"] == ["accepted", "infra_error", "max_iter_exhausted"]
    assert schema["properties"]["prompt"]["maxLength"] == 4000
