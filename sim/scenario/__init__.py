"""Scenario files: the YAML format, its validation and its JSON Schema."""

from .loader import apply_override, load_raw, load_scenario, read_yaml, validate
from .schema import SCHEMA_VERSION, Scenario, Segment

__all__ = ["SCHEMA_VERSION", "Scenario", "Segment", "apply_override", "load_raw", "load_scenario",
           "read_yaml", "validate", "json_schema"]


def json_schema() -> dict:
    """JSON Schema of the scenario format, for editors and other tools."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"drsim scenario (schema_version {SCHEMA_VERSION})"
    return schema
