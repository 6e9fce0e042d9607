"""An independent transcription of the DSA Transparency Database's rules as a JSON Schema.

Written by hand from ``multi_rules`` in ``app/Services/GroupedSubmissionsService.php``
(digital-services-act/transparency-database, commit 242ba47f396a3ddf103034103d262148ea6e6d51),
not generated from ``ircli.dsarules``: the tests check ircli's output and ircli's validator
against it, so a mistake in one shows up against the other. Enum lists are the constant names
of ``app/Models/Statement.php`` (API v1). Fields the database would drop
(``sanitizePayloadStatement``: another ground's explanation, ``*_other`` without ``…_OTHER``,
``source_identity`` with ``SOURCE_VOLUNTARY``) are refused, as ircli refuses them.
"""

from __future__ import annotations

from typing import Any

EEA = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK"
VISIBILITY = [
    f"DECISION_VISIBILITY_{v}"
    for v in [
        "CONTENT_REMOVED",
        "CONTENT_DISABLED",
        "CONTENT_DEMOTED",
        "CONTENT_AGE_RESTRICTED",
        "CONTENT_INTERACTION_RESTRICTED",
        "CONTENT_LABELLED",
        "OTHER",
    ]
]
CONTENT = [
    f"CONTENT_TYPE_{v}"
    for v in ["APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER"]
]
CATEGORY = [
    f"STATEMENT_CATEGORY_{v}"
    for v in [
        "ANIMAL_WELFARE",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NON_CONSENSUAL_BEHAVIOUR",
        "PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        "PROTECTION_OF_MINORS",
        "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD",
        "SELF_HARM",
        "SCOPE_OF_PLATFORM_SERVICE",
        "UNSAFE_AND_ILLEGAL_PRODUCTS",
        "VIOLENCE",
    ]
]
KEYWORDS = """
ANIMAL_HARM ADULT_SEXUAL_MATERIAL AGE_SPECIFIC_RESTRICTIONS_MINORS AGE_SPECIFIC_RESTRICTIONS
BIOMETRIC_DATA_BREACH CHILD_SEXUAL_ABUSE_MATERIAL CONTENT_PROMOTING_EATING_DISORDERS
COORDINATED_HARM COPYRIGHT_INFRINGEMENT DANGEROUS_TOYS DATA_FALSIFICATION DEFAMATION
DESIGN_INFRINGEMENT DISCRIMINATION DISINFORMATION FOREIGN_INFORMATION_MANIPULATION
GENDER_BASED_VIOLENCE GEOGRAPHIC_INDICATIONS_INFRINGEMENT GEOGRAPHICAL_REQUIREMENTS
GOODS_SERVICES_NOT_PERMITTED GROOMING_SEXUAL_ENTICEMENT_MINORS HATE_SPEECH HUMAN_EXPLOITATION
HUMAN_TRAFFICKING ILLEGAL_ORGANIZATIONS IMAGE_BASED_SEXUAL_ABUSE IMPERSONATION_ACCOUNT_HIJACKING
INAUTHENTIC_ACCOUNTS INAUTHENTIC_LISTINGS INAUTHENTIC_USER_REVIEWS INCITEMENT_VIOLENCE_HATRED
INSUFFICIENT_INFORMATION_TRADERS LANGUAGE_REQUIREMENTS MISINFORMATION MISSING_PROCESSING_GROUND
NON_CONSENSUAL_IMAGE_SHARING NON_CONSENSUAL_ITEMS_DEEPFAKE NUDITY ONLINE_BULLYING_INTIMIDATION
PATENT_INFRINGEMENT PHISHING PYRAMID_SCHEMES REGULATED_GOODS_SERVICES RIGHT_TO_BE_FORGOTTEN
RISK_ENVIRONMENTAL_DAMAGE RISK_PUBLIC_HEALTH SELF_MUTILATION STALKING SUICIDE TERRORIST_CONTENT
TRADE_SECRET_INFRINGEMENT TRADEMARK_INFRINGEMENT UNLAWFUL_SALE_ANIMALS UNSAFE_CHALLENGES OTHER
"""
"""``Statement::KEYWORDS`` without the ``KEYWORD_`` prefix."""
DAY = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": r"\S"}


def _when(field: str, value: str, *, required: list[str], absent: list[str]) -> dict[str, Any]:
    return {
        "if": {"properties": {field: {"const": value}}, "required": [field]},
        "then": {"required": required},
        "else": {"not": {"anyOf": [{"required": [name]} for name in absent]}},
    }


def _when_listed(field: str, value: str, other: str) -> dict[str, Any]:
    return {
        "if": {"properties": {field: {"contains": {"const": value}}}, "required": [field]},
        "then": {"required": [other]},
        "else": {"not": {"required": [other]}},
    }


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "decision_ground",
        "content_type",
        "category",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    ],
    "properties": {
        "decision_visibility": {"type": "array", "items": {"enum": VISIBILITY}},
        "decision_visibility_other": _text(500),
        "decision_monetary": {
            "enum": [f"DECISION_MONETARY_{v}" for v in ("SUSPENSION", "TERMINATION", "OTHER")]
        },
        "decision_monetary_other": _text(500),
        "decision_provision": {
            "enum": [
                f"DECISION_PROVISION_{v}"
                for v in (
                    "PARTIAL_SUSPENSION",
                    "TOTAL_SUSPENSION",
                    "PARTIAL_TERMINATION",
                    "TOTAL_TERMINATION",
                )
            ]
        },
        "decision_account": {"enum": ["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"]},
        "account_type": {"enum": ["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"]},
        "decision_ground": {
            "enum": ["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"]
        },
        "decision_ground_reference_url": {
            "type": "string",
            "maxLength": 500,
            "pattern": "^https?://",
        },
        "illegal_content_legal_ground": _text(500),
        "illegal_content_explanation": _text(2000),
        "incompatible_content_ground": _text(500),
        "incompatible_content_explanation": _text(2000),
        "incompatible_content_illegal": {"enum": ["Yes", "No"]},
        "content_type": {"type": "array", "minItems": 1, "items": {"enum": CONTENT}},
        "content_type_other": _text(500),
        "category": {"enum": CATEGORY},
        "category_addition": {"type": "array", "items": {"enum": CATEGORY}},
        "category_specification": {
            "type": "array",
            "items": {"enum": [f"KEYWORD_{k}" for k in KEYWORDS.split()]},
        },
        "category_specification_other": _text(500),
        "territorial_scope": {"type": "array", "items": {"enum": EEA.split()}},
        "content_language": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "content_date": {"type": "string", "pattern": DAY, "format": "date"},
        "application_date": {"type": "string", "pattern": DAY, "format": "date"},
        "decision_facts": _text(5000),
        "source_type": {
            "enum": [
                "SOURCE_ARTICLE_16",
                "SOURCE_TRUSTED_FLAGGER",
                "SOURCE_TYPE_OTHER_NOTIFICATION",
                "SOURCE_VOLUNTARY",
            ]
        },
        "source_identity": {"type": "string", "maxLength": 500},
        "automated_detection": {"enum": ["Yes", "No"]},
        "automated_decision": {
            "enum": [
                "AUTOMATED_DECISION_FULLY",
                "AUTOMATED_DECISION_PARTIALLY",
                "AUTOMATED_DECISION_NOT_AUTOMATED",
            ]
        },
        # PHP's /D: "$" would also match before a final newline; (?![\s\S]) is the very end.
        "puid": {"type": "string", "pattern": r"^[a-zA-Z0-9_-]{1,500}(?![\s\S])"},
    },
    "anyOf": [
        {"required": ["decision_visibility"]},
        {"required": ["decision_monetary"]},
        {"required": ["decision_provision"]},
        {"required": ["decision_account"]},
    ],
    "allOf": [
        _when(
            "decision_ground",
            "DECISION_GROUND_ILLEGAL_CONTENT",
            required=["illegal_content_legal_ground", "illegal_content_explanation"],
            absent=["illegal_content_legal_ground", "illegal_content_explanation"],
        ),
        _when(
            "decision_ground",
            "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            required=["incompatible_content_ground", "incompatible_content_explanation"],
            absent=[
                "incompatible_content_ground",
                "incompatible_content_explanation",
                "incompatible_content_illegal",
            ],
        ),
        _when_listed(
            "decision_visibility", "DECISION_VISIBILITY_OTHER", "decision_visibility_other"
        ),
        _when_listed("content_type", "CONTENT_TYPE_OTHER", "content_type_other"),
        {
            "if": {
                "properties": {"decision_monetary": {"const": "DECISION_MONETARY_OTHER"}},
                "required": ["decision_monetary"],
            },
            "then": {"required": ["decision_monetary_other"]},
            "else": {"not": {"required": ["decision_monetary_other"]}},
        },
        {  # optional with KEYWORD_OTHER, dropped without it
            "if": {
                "properties": {"category_specification": {"contains": {"const": "KEYWORD_OTHER"}}},
                "required": ["category_specification"],
            },
            "else": {"not": {"required": ["category_specification_other"]}},
        },
        {  # dropped when the platform acted on its own initiative
            "if": {
                "properties": {"source_type": {"const": "SOURCE_VOLUNTARY"}},
                "required": ["source_type"],
            },
            "then": {"not": {"required": ["source_identity"]}},
        },
    ],
}
"""Dates are also bounded (content 2000-01-01 … 2038-01-01, application 2020-01-01 …
2038-01-01); a schema cannot compare dates, so ``date_bounds_hold`` checks them."""


def date_bounds_hold(statement: dict[str, Any]) -> bool:
    """The date bounds of the rules (``after_or_equal`` / ``before_or_equal``)."""
    return (
        "2000-01-01" <= statement["content_date"] <= "2038-01-01"
        and "2020-01-01" <= statement["application_date"] <= "2038-01-01"
    )
