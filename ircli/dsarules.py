"""The EU DSA Transparency Database's rules for a statement of reasons, declared once.

Taken from the database's own source, https://github.com/digital-services-act/transparency-database:

- the validation of each statement ``POST /api/v1/statements`` takes: ``multi_rules`` in
  ``app/Services/GroupedSubmissionsService.php`` at commit
  242ba47f396a3ddf103034103d262148ea6e6d51, with what its ``sanitizePayloadStatement`` drops
  (``exclude_unless``, the ``*_other`` fields);
- at most 100 statements a call: ``'statements' => 'required|array|between:1,100'`` in
  ``app/Http/Controllers/Api/v1/StatementMultipleAPIController.php`` at commit
  e2f77d41f244e60fd8e14d150cca9ceedb023724;
- the enum constant names: ``app/Models/Statement.php``, the version with
  ``AUTOMATED_DECISION_FULLY`` / ``_PARTIALLY`` / ``_NOT_AUTOMATED``, the ``KEYWORD_*``
  specifications and fourteen ``STATEMENT_CATEGORY_*`` (API v1, before the v2 schema of
  1 July 2025);
- ``territorial_scope``: ``EUROPEAN_COUNTRY_CODES`` in ``app/Services/EuropeanCountriesService.php``
  at commit d78506eec555a2a16b48766233404d80e9f94a12 (the EEA).

``Statement`` is the model of one statement as sent; ``check_statement`` gives its problems as
sentences. ``DecisionMapping`` (a profile action's decision) and ``Reasons`` (the ground,
category and facts a playbook, ``ircli.yaml`` or the command line supplies) are YAML shapes
built from the same field types. docs/dsa.md describes how ircli fills a statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import core_schema

from ircli.errors import InvalidInput
from ircli.shapes import Shape, choice
from ircli.shapes.document import Document
from ircli.shapes.problems import first_problem
from ircli.wording import not_among
from ircli.yamlfile import LoadedYaml

__all__ = [
    "AUTOMATED_DECISIONS",
    "CATEGORIES",
    "CONTENT_TYPES",
    "COUNTRIES",
    "DECISIONS",
    "DECISION_ACCOUNTS",
    "DECISION_GROUNDS",
    "DECISION_MONETARIES",
    "DECISION_PROVISIONS",
    "DECISION_VISIBILITIES",
    "KEYWORDS",
    "MAX_BATCH",
    "PUID_PATTERN",
    "REQUIRED_REASONS",
    "SOURCE_TYPES",
    "DecisionMapping",
    "Reasons",
    "Statement",
    "batches",
    "check_statement",
    "conditional_problems",
    "describe_problems",
    "drop_excluded",
    "missing_reasons",
]

MAX_BATCH = 100
"""Statements one call of ``POST /api/v1/statements`` takes (``between:1,100``)."""
PUID_PATTERN = r"[A-Za-z0-9_-]{1,500}"
"""``required``, ``max:500``, ``regex:/^[a-zA-Z0-9-_]+$/D``."""

ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
DECISION_GROUNDS = (ILLEGAL, INCOMPATIBLE)
DECISION_VISIBILITIES = (
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_MONETARIES = (
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
)
DECISION_PROVISIONS = (
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
)
DECISION_ACCOUNTS = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPES = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
CONTENT_TYPES = (
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
)
CATEGORIES = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
)
KEYWORDS = (
    "KEYWORD_ANIMAL_HARM", "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
    "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_COORDINATED_HARM",
    "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_DANGEROUS_TOYS", "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
    "KEYWORD_DISINFORMATION", "KEYWORD_FOREIGN_INFORMATION_MANIPULATION",
    "KEYWORD_GENDER_BASED_VIOLENCE", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH",
    "KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE", "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
    "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS", "KEYWORD_LANGUAGE_REQUIREMENTS",
    "KEYWORD_MISINFORMATION", "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE",
    "KEYWORD_NUDITY", "KEYWORD_ONLINE_BULLYING_INTIMIDATION", "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_PHISHING", "KEYWORD_PYRAMID_SCHEMES", "KEYWORD_REGULATED_GOODS_SERVICES",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION", "KEYWORD_STALKING", "KEYWORD_SUICIDE",
    "KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT", "KEYWORD_UNLAWFUL_SALE_ANIMALS", "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_OTHER",
)  # fmt: skip
SOURCE_TYPES = (
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
)
YES_NO = ("Yes", "No")
"""``automated_detection`` and ``incompatible_content_illegal`` take these words."""
AUTOMATED_DECISIONS = (
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
)
COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
"""The EU and EEA countries ``territorial_scope`` may name."""

DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
"""A statement names at least one of these (``required_without_all``)."""
REQUIRED_WITH: tuple[tuple[str, str, str], ...] = (
    ("decision_visibility_other", "decision_visibility", "DECISION_VISIBILITY_OTHER"),
    ("decision_monetary_other", "decision_monetary", "DECISION_MONETARY_OTHER"),
    ("content_type_other", "content_type", "CONTENT_TYPE_OTHER"),
    ("illegal_content_legal_ground", "decision_ground", ILLEGAL),
    ("illegal_content_explanation", "decision_ground", ILLEGAL),
    ("incompatible_content_ground", "decision_ground", INCOMPATIBLE),
    ("incompatible_content_explanation", "decision_ground", INCOMPATIBLE),
)
"""(field, key, value): the field is required when ``key`` is (or holds) ``value``, and the
database drops it otherwise."""
ONLY_WITH: tuple[tuple[str, str, str], ...] = (
    ("incompatible_content_illegal", "decision_ground", INCOMPATIBLE),
    ("category_specification_other", "category_specification", "KEYWORD_OTHER"),
)
"""(field, key, value): optional, and dropped by the database unless ``key`` holds ``value``."""
NOT_WITH: tuple[tuple[str, str, str], ...] = (
    ("source_identity", "source_type", "SOURCE_VOLUNTARY"),
)
"""(field, key, value): dropped by the database when ``key`` is ``value``."""
REQUIRED_REASONS = ("decision_ground", "category", "decision_facts", "automated_detection")
"""What ``Reasons`` must supply between them (``source_type`` defaults to voluntary)."""


@dataclass(frozen=True)
class one_of:  # lower-case: it reads like a function in Annotated[str, one_of(...)]
    """One of the database's constant names: ``unknown WHAT 'x' (did you mean …)``; the JSON
    Schema lists them."""

    what: str
    values: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        check = cast(Callable[[Any], Any], choice(self.what, self.values).func)
        return core_schema.no_info_before_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "enum": list(self.values)}


@dataclass(frozen=True)
class day:  # lower-case: it reads like a function in Annotated[str, day(...)]
    """A date written ``YYYY-MM-DD`` (``date_format:Y-m-d``), within the database's bounds."""

    earliest: str | None
    latest: str

    def check(self, value: str) -> str:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"{value!r} is not a date written YYYY-MM-DD.")
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date.") from None
        if self.earliest is not None and value < self.earliest:
            raise ValueError(f"must be {self.earliest} or later.")
        if value > self.latest:
            raise ValueError(f"must be {self.latest} or earlier.")
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _filled(value: str) -> str:
    # The database trims strings and reads blank ones as missing (Laravel's middleware).
    if not value.strip():
        raise ValueError("must not be blank.")
    return value


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(f"{value!r} is not an http(s) URL.")
    return value


def _puid(value: str) -> str:
    if not re.fullmatch(PUID_PATTERN, value):
        raise ValueError(
            "must be 1 to 500 letters, digits, '-' and '_' (no spaces or other characters)."
        )
    return value


def _yes_no_from_yaml(value: Any) -> Any:
    # YAML 1.1 reads an unquoted Yes/No as a boolean.
    return YES_NO[0] if value is True else YES_NO[1] if value is False else value


Ground = Annotated[StrictStr, one_of("decision ground", DECISION_GROUNDS)]
Visibility = Annotated[StrictStr, one_of("decision_visibility", DECISION_VISIBILITIES)]
Monetary = Annotated[StrictStr, one_of("decision_monetary", DECISION_MONETARIES)]
Provision = Annotated[StrictStr, one_of("decision_provision", DECISION_PROVISIONS)]
Account = Annotated[StrictStr, one_of("decision_account", DECISION_ACCOUNTS)]
AccountType = Annotated[StrictStr, one_of("account type", ACCOUNT_TYPES)]
ContentType = Annotated[StrictStr, one_of("content type", CONTENT_TYPES)]
Category = Annotated[StrictStr, one_of("category", CATEGORIES)]
Keyword = Annotated[StrictStr, one_of("category specification", KEYWORDS)]
SourceType = Annotated[StrictStr, one_of("source type", SOURCE_TYPES)]
YesNo = Annotated[StrictStr, one_of("answer", YES_NO)]
AutomatedDecision = Annotated[StrictStr, one_of("automated decision", AUTOMATED_DECISIONS)]
Country = Annotated[StrictStr, one_of("country code", COUNTRIES)]
Text500 = Annotated[StrictStr, Field(min_length=1, max_length=500), AfterValidator(_filled)]
Text2000 = Annotated[StrictStr, Field(min_length=1, max_length=2000), AfterValidator(_filled)]
Text5000 = Annotated[StrictStr, Field(min_length=1, max_length=5000), AfterValidator(_filled)]
Url = Annotated[StrictStr, Field(max_length=500), AfterValidator(_url)]
Puid = Annotated[
    StrictStr,
    AfterValidator(_puid),
    WithJsonSchema({"type": "string", "pattern": f"^{PUID_PATTERN}$"}),
]
Language = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
"""ISO 639-1, upper-case (the database checks its own list of codes)."""
ContentDate = Annotated[StrictStr, day("2000-01-01", "2038-01-01")]
ApplicationDate = Annotated[StrictStr, day("2020-01-01", "2038-01-01")]
EndDate = Annotated[StrictStr, day(None, "2038-01-01")]
YesNoWritten = Annotated[
    YesNo,
    BeforeValidator(_yes_no_from_yaml),
    WithJsonSchema({"enum": [*YES_NO, True, False]}),
]
NonEmpty = Field(min_length=1)

T = TypeVar("T")


def _holds(values: Mapping[str, Any], key: str, value: str) -> bool:
    present = values.get(key)
    return value in present if isinstance(present, list | tuple) else present == value


def conditional_problems(values: Mapping[str, Any]) -> list[str]:
    """What the rules between fields find wrong in ``values``, one ``field: problem`` each:
    a decision named, ``*_other`` with ``…_OTHER``, the explanations a ground requires."""
    problems = []
    if not any(values.get(name) for name in DECISIONS):
        problems.append(f"a decision is required: one of {', '.join(DECISIONS)}.")
    for name, key, value in REQUIRED_WITH:
        if _holds(values, key, value) and not values.get(name):
            problems.append(f"{name}: required when {key} is {value}.")
    for name, key, value in (*REQUIRED_WITH, *ONLY_WITH):
        if values.get(name) is not None and not _holds(values, key, value):
            problems.append(f"{name}: taken only when {key} is {value}; it would be dropped.")
    for name, key, value in NOT_WITH:
        if values.get(name) is not None and _holds(values, key, value):
            problems.append(f"{name}: not taken when {key} is {value}; it would be dropped.")
    return problems


def drop_excluded(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the fields the database would drop (another ground's explanation,
    ``*_other`` without ``…_OTHER``), as it does on submission."""
    kept = dict(values)
    for name, key, value in (*REQUIRED_WITH, *ONLY_WITH):
        if not _holds(kept, key, value):
            kept.pop(name, None)
    for name, key, value in NOT_WITH:
        if _holds(kept, key, value):
            kept.pop(name, None)
    return kept


def describe_problems(error: ValidationError, *, between: bool = True) -> list[str]:
    """pydantic's errors as ``field: problem`` sentences (without the model's own, those
    between fields, unless ``between``)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = " -> ".join(str(part) for part in item["loc"])
        if not where and not between:
            continue
        context = item.get("ctx") or {}
        if item["type"] == "value_error":
            message = str(context.get("error", item["msg"]))
        elif item["type"] == "missing":
            message = "required."
        elif item["type"] == "extra_forbidden":
            message = "not a field of a statement."
        else:
            message = str(item["msg"]).rstrip(".") + "."
        problems.extend([message] if not where else [f"{where}: {message}"])
    return problems


def check_statement(data: Any) -> tuple[Statement | None, list[str]]:
    """``data`` as a ``Statement``, or ``None`` and every problem found (``field: problem``):
    the fields' own, then the rules between fields."""
    if not isinstance(data, Mapping):
        return None, ["a statement must be a JSON object."]
    try:
        return Statement.model_validate(data), []
    except ValidationError as error:
        # The model checks between fields only once every field is valid: ask directly.
        fields = describe_problems(error, between=False)
        return None, [*fields, *conditional_problems(data)]


def batches(items: Sequence[T], size: int = MAX_BATCH) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size`` (one submission call each)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- what profiles, playbooks and ircli.yaml write ---------------------------------------------


class DecisionMapping(Shape):
    """What a profile action does in the database's terms (``accounts.freeze`` →
    ``decision_account: DECISION_ACCOUNT_SUSPENDED``), and what its targets are."""

    decision_visibility: list[Visibility] | None = None
    """Visibility restrictions of the content (``DECISION_VISIBILITY_CONTENT_DISABLED`` …)."""
    decision_visibility_other: Text500 | None = None
    """What ``DECISION_VISIBILITY_OTHER`` is."""
    decision_monetary: Monetary | None = None
    decision_monetary_other: Text500 | None = None
    """What ``DECISION_MONETARY_OTHER`` is."""
    decision_provision: Provision | None = None
    decision_account: Account | None = None
    """``DECISION_ACCOUNT_SUSPENDED`` or ``DECISION_ACCOUNT_TERMINATED``."""
    account_type: AccountType | None = None
    content_type: Annotated[list[ContentType], NonEmpty]
    """What the targets are (``CONTENT_TYPE_VIDEO`` for live streams …)."""
    content_type_other: Text500 | None = None
    """What ``CONTENT_TYPE_OTHER`` is."""

    def cross_check(self, doc: Document) -> None:
        _refuse_first(doc, conditional_problems(self.model_dump(exclude_none=True)))


class Reasons(Shape):
    """Why: the ground, category and facts of the statements of a run, all optional here —
    a playbook, ``ircli.yaml`` and the command line each supply some (docs/dsa.md)."""

    decision_ground: Ground | None = None
    """``DECISION_GROUND_ILLEGAL_CONTENT`` or ``DECISION_GROUND_INCOMPATIBLE_CONTENT``."""
    illegal_content_legal_ground: Text500 | None = None
    """The legal ground relied on (illegal content)."""
    illegal_content_explanation: Text2000 | None = None
    """Why the content is illegal on that ground."""
    incompatible_content_ground: Text500 | None = None
    """The terms-and-conditions ground relied on (incompatible content)."""
    incompatible_content_explanation: Text2000 | None = None
    """Why the content is incompatible with that ground."""
    incompatible_content_illegal: YesNoWritten | None = None
    """Whether the incompatible content is also illegal (Yes or No)."""
    decision_ground_reference_url: Url | None = None
    """The terms of service or law relied on."""
    category: Category | None = None
    category_addition: list[Category] | None = None
    category_specification: list[Keyword] | None = None
    category_specification_other: Text500 | None = None
    decision_facts: Text5000 | None = None
    """The facts and circumstances relied on (no personal data)."""
    source_type: SourceType | None = None
    """Default ``SOURCE_VOLUNTARY``: ircli acts on the platform's own initiative."""
    source_identity: Annotated[StrictStr, Field(max_length=500)] | None = None
    automated_detection: YesNoWritten | None = None
    """Whether the content was detected by automated means (Yes or No)."""
    territorial_scope: list[Country] | None = None
    """EU/EEA country codes the decision applies in."""

    @classmethod
    def from_pairs(cls, pairs: Mapping[str, str], given: str) -> Reasons:
        """Reasons from ``NAME=VALUE`` options (``given`` names them in messages); list
        fields take comma-separated values."""
        values: dict[str, Any] = dict(pairs)
        for name, value in pairs.items():
            if name not in cls.model_fields:
                subject = f"{given}: no field {name!r} in the reasons"
                raise InvalidInput(not_among(subject, name, cls.model_fields, "the fields"))
            if _is_list(cls.model_fields[name]):
                values[name] = [item.strip() for item in value.split(",") if item.strip()]
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise InvalidInput(f"{given}: {describe_problems(error)[0]}") from None

    @classmethod
    def read(cls, loaded: LoadedYaml, key: str) -> Reasons | None:
        """The reasons under ``key`` of a YAML document (``dsa`` of ``ircli.yaml``), if any;
        a problem is one located ``InvalidInput``."""
        data = loaded.data
        if not isinstance(data, dict) or data.get(key) is None:
            return None
        doc = Document(loaded, "config file", "Name where the secret lives instead.")
        try:
            with doc.inside((key,)):
                return cls.model_validate(data[key], context=doc)
        except ValidationError as error:
            raise first_problem(error, doc, (key,), data[key]) from None

    @classmethod
    def merge(cls, *layers: Reasons | None) -> dict[str, Any]:
        """The fields of ``layers``, later ones winning field by field."""
        merged: dict[str, Any] = {}
        for layer in layers:
            if layer is not None:
                merged.update(layer.model_dump(exclude_none=True))
        return merged


class Statement(Reasons, DecisionMapping):
    """One statement of reasons, as ``POST /api/v1/statements`` takes it: a decision
    (``DecisionMapping``), its reasons (``Reasons``, the required ones required here) and what
    ircli fills in. Fields left out are sent as absent; ``None`` stands for absent."""

    decision_ground: Ground
    category: Category
    decision_facts: Text5000
    source_type: SourceType
    automated_detection: YesNo  # the API's words: a boolean is YAML's, not the database's
    incompatible_content_illegal: YesNo | None = None
    content_language: Language | None = None
    content_date: ContentDate
    application_date: ApplicationDate
    end_date_account_restriction: EndDate | None = None
    end_date_monetary_restriction: EndDate | None = None
    end_date_service_restriction: EndDate | None = None
    end_date_visibility_restriction: EndDate | None = None
    automated_decision: AutomatedDecision
    puid: Puid

    @model_validator(mode="after")
    def _between_fields(self) -> Statement:
        problems = conditional_problems(self.model_dump(exclude_none=True))
        if problems:
            raise ValueError(" ".join(problems))
        return self

    def as_json(self) -> dict[str, Any]:
        """The statement as sent: absent fields left out, in the model's order."""
        return self.model_dump(exclude_none=True)


def missing_reasons(values: Mapping[str, Any]) -> list[str]:
    """The fields ``REQUIRED_REASONS`` and the ground's explanations that ``values`` lacks."""
    missing = [name for name in REQUIRED_REASONS if not values.get(name)]
    missing += [
        name
        for name, key, value in REQUIRED_WITH
        if key == "decision_ground" and values.get(key) == value and not values.get(name)
    ]
    return missing


def _is_list(info: Any) -> bool:
    return info is not None and "list[" in str(info.annotation)


def _refuse_first(doc: Document, problems: list[str]) -> None:
    if problems:
        field, _, message = problems[0].partition(": ")
        path = doc.here(field) if field in DecisionMapping.model_fields else doc.here()
        raise doc.fail(path, message if field in DecisionMapping.model_fields else problems[0])
