"""Canonical documents: JSON-compatible dicts validated against the schemas of the base addon.

A document names its schema and version, e.g. ``{"schema": "order_release/1", ...}``; the
schema files live in ``logistics_connector_base/schemas/<name>.v<version>.json``.
"""

import copy
import hashlib
import json
import math
import re
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

from .errors import DocumentValidationError

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMA_NAMES = (
    "order_release",
    "shipment",
    "inventory_snapshot",
    "receipt",
    "return",
    "tracking_event",
    "freight_invoice",
    "ack",
)
# how many errors check() quotes in its message; all are on the exception's .errors
MAX_ERRORS_IN_MESSAGE = 5
# Digests of documents found valid lately, oldest first: a retry, a resend or a batch checks
# the same document again, and JSON Schema costs more than hashing it.
RECENTLY_VALID_MAX = 4096
RECENTLY_VALID_MAX_LINES = 1000
_recently_valid = {}
# a value quoted in an error is cut to this length (a whole order is not a useful quote)
MAX_MESSAGE_LENGTH = 200

_SCHEMA_REF = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)/(?P<version>[1-9][0-9]*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

_format_checker = FormatChecker(formats=())
_FORMAT_HINTS = {
    "date-time": "date-time (RFC 3339 with a UTC offset, e.g. 2025-03-01T14:05:00+01:00)",
    "date": "date (YYYY-MM-DD)",
}


def parse_date_time(value):
    """An RFC 3339 date-time (``T``/``Z`` in either case, as RFC 3339 allows) as an aware
    datetime in UTC. ValueError when it is not one, or not representable in UTC (year 1 with
    a positive offset, year 9999 with a negative one)."""
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time with a UTC offset")
    moment = datetime.fromisoformat(value.upper().replace(" ", "T").replace("Z", "+00:00"))
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"{value!r} is out of the representable range") from None


@_format_checker.checks("date-time", raises=ValueError)
def _is_date_time(value):
    """RFC 3339 date-time: the UTC offset is mandatory, a naive time is ambiguous."""
    if not isinstance(value, str):
        return True
    parse_date_time(value)
    return True


@_format_checker.checks("date", raises=ValueError)
def _is_date(value):
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    date.fromisoformat(value)
    return True


def schema_ref(name, version=1):
    """``"order_release/1"`` for ``("order_release", 1)``."""
    return f"{name}/{int(version)}"


def parse_schema_ref(ref):
    """``("order_release", 1)`` for ``"order_release/1"``; ValueError when malformed."""
    match = _SCHEMA_REF.match(ref) if isinstance(ref, str) else None
    if not match:
        raise ValueError(f"schema must look like '<name>/<version>', got {ref!r}")
    return match["name"], int(match["version"])


def _schema_path(name, version):
    return SCHEMA_DIR / f"{name}.v{int(version)}.json"


@cache
def _load(name, version):
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {schema_ref(name, version)!r}")
    path = _schema_path(name, version)
    if not path.is_file():
        raise ValueError(f"unknown schema {schema_ref(name, version)!r}")
    with path.open(encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def _validator(name, version):
    return Draft202012Validator(_load(name, version), format_checker=_format_checker)


def load_schema(name, version=1):
    """The JSON schema (a dict) of ``name`` version ``version``; ValueError if unknown.

    Files are read once per process; a copy is returned so callers cannot alter the cache.
    """
    return copy.deepcopy(_load(name, int(version)))


def known_versions(name):
    """Versions shipped for schema ``name``, ascending."""
    versions = []
    for path in SCHEMA_DIR.glob(f"{name}.v*.json"):
        suffix = path.name[len(name) + 2 : -len(".json")]
        if suffix.isdigit():
            versions.append(int(suffix))
    return sorted(versions)


def _path_text(parts):
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else str(name)


def _shorten(text):
    if len(text) <= MAX_MESSAGE_LENGTH:
        return text
    return text[: MAX_MESSAGE_LENGTH - 3] + "..."


def _describe(error):
    """Readable lines for one jsonschema error (a required error may name several fields)."""
    where = _path_text(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        return [
            f"missing required field '{_join(where, field)}'"
            for field in error.validator_value
            if field not in instance
        ]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        return [
            f"unexpected field '{_join(where, field)}'"
            for field in instance
            if field not in known and not any(p.search(field) for p in patterns)
        ]
    if error.validator == "format":
        hint = _FORMAT_HINTS.get(error.validator_value, error.validator_value)
        return [_shorten(f"{where or 'document'}: {instance!r} is not a valid {hint}")]
    if error.validator == "minItems" and error.validator_value == 1:
        return [f"{where or 'document'}: must not be empty"]
    return [_shorten(f"{where or 'document'}: {error.message}")]


def validate(document):
    """Readable problems of a canonical document, sorted; an empty list when it is valid.

    e.g. ``"lines[0].quantity: 0 is less than the minimum of 0.001"`` or
    ``"missing required field 'ship_to.country'"``.
    """
    if not isinstance(document, dict):
        return [f"document must be a JSON object, got {type(document).__name__}"]
    ref = document.get("schema")
    if ref is None:
        return ["missing required field 'schema'"]
    try:
        name, version = parse_schema_ref(ref)
        validator = _validator(name, version)
    except ValueError as exc:
        known = ", ".join(schema_ref(n, v) for n in SCHEMA_NAMES for v in known_versions(n))
        return [f"{exc} (known schemas: {known})"]
    problems = set(_unstorable_values(document))
    for error in validator.iter_errors(document):
        problems.update(_describe(error))
    return sorted(problems)


def _unstorable_values(value, path=()):
    """Values JSON Schema lets through but that break later: NaN and infinite numbers (not
    JSON, refused by PostgreSQL) and NUL characters (refused by PostgreSQL text columns)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield f"{_path_text(path) or 'document'}: {value!r} is not a finite number"
    elif isinstance(value, str) and "\x00" in value:
        yield f"{_path_text(path) or 'document'}: contains a NUL character"
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                yield f"{_path_text(path) or 'document'}: a field name contains a NUL character"
            yield from _unstorable_values(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_values(item, (*path, index))


def _digest(document):
    if isinstance(document, dict) and any(
        isinstance(document.get(key), list) and len(document[key]) > RECENTLY_VALID_MAX_LINES
        for key in ("lines", "items")
    ):
        return None  # e.g. a whole inventory count: checked once, not worth a 20 MB dump
    try:
        text = json.dumps(document, sort_keys=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return None  # not plain JSON: never remembered, always validated
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def check(document):
    """Return ``document`` when valid, else raise DocumentValidationError listing the errors."""
    digest = _digest(document)
    if digest is not None and digest in _recently_valid:
        return document
    errors = validate(document)
    if not errors and digest is not None:
        if len(_recently_valid) >= RECENTLY_VALID_MAX:
            try:
                _recently_valid.pop(next(iter(_recently_valid)), None)
            except (StopIteration, RuntimeError):
                pass  # another thread of the worker changed it meanwhile: no matter
        _recently_valid[digest] = True
    if errors:
        ref = document.get("schema") if isinstance(document, dict) else None
        shown = "; ".join(errors[:MAX_ERRORS_IN_MESSAGE])
        more = len(errors) - MAX_ERRORS_IN_MESSAGE
        if more > 0:
            shown += f" (and {more} more)"
        label = f"the {ref} document" if isinstance(ref, str) else "the document"
        raise DocumentValidationError(
            f"{label} is not valid: {shown}",
            errors=errors,
            details={"schema": ref if isinstance(ref, str) else None},
        )
    return document
