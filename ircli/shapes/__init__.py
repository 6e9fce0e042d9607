"""The declarative model's base: typed shapes that read YAML documents with located errors.

Profiles (``ircli.platform.model``) and playbooks (``ircli.playbook.model``) are pydantic models
derived from ``Shape``; each shape is declared once, and the JSON Schemas for editors are
generated from the same classes. ``read_document`` validates a ``LoadedYaml`` against a model
and turns every failure into one ``InvalidInput`` sentence::

    playbooks/flood.yaml:14:9: steps -> 2 -> action: unknown action 'streams.supend'
    (did you mean 'streams.suspend'?)

Validators that need more than the value (the profile, earlier steps, where a field was written)
read the ``Document`` passed as validation context, and raise located errors through it.
Profile shapes built in code skip those checks; playbook shapes are only read from files.

- ``document``: ``Document``, where validation stands and how it fails;
- ``base``: ``Shape``, ``Located``, ``read_document``;
- ``types``: field types (``Word``, ``Duration`` …) and their checks;
- ``problems``: pydantic's errors as one sentence;
- ``schema``: the JSON Schemas.
"""

from ircli.shapes.base import Located, Shape, document, names_from_keys, nested, read_document
from ircli.shapes.document import Document, Refusal
from ircli.shapes.schema import json_schema
from ircli.shapes.types import (
    SCALAR_TYPES,
    Boolean,
    Duration,
    Integer,
    Number,
    PositiveDuration,
    Text,
    Word,
    check_scalar,
    choice,
    format_version,
    named,
    query_text,
)

__all__ = [
    "SCALAR_TYPES",
    "Boolean",
    "Document",
    "Duration",
    "Integer",
    "Located",
    "Number",
    "PositiveDuration",
    "Refusal",
    "Shape",
    "Text",
    "Word",
    "check_scalar",
    "choice",
    "document",
    "format_version",
    "json_schema",
    "named",
    "names_from_keys",
    "nested",
    "query_text",
    "read_document",
]
