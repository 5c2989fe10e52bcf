"""FilterCriteria: Lambda's event filtering patterns (a subset of EventBridge patterns).

A record is delivered when it matches at least one pattern; the rest are dropped
and count as processed. For Kinesis the ``data`` field is matched against the
decoded JSON payload, as on AWS. Supported: exact values, prefix, suffix,
equals-ignore-case, exists, anything-but and numeric comparisons.
"""

from __future__ import annotations

import base64
import json
import operator
from typing import Any

_NUMERIC = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_MISSING = object()


def _same(rule: Any, value: Any) -> bool:
    """JSON equality: true is not 1 and false is not 0 (unlike Python's ``==``)."""
    return isinstance(rule, bool) == isinstance(value, bool) and rule == value


def _match_numeric(spec: list[Any], value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    pairs = zip(spec[::2], spec[1::2], strict=False)
    return all(_NUMERIC[op](number, float(bound)) for op, bound in pairs)


def _match_rule(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        if isinstance(value, list):
            return any(_same(rule, item) for item in value)
        return value is not _MISSING and _same(rule, value)
    if "exists" in rule:
        return (value is not _MISSING) == bool(rule["exists"])
    if value is _MISSING:
        return False
    if isinstance(value, list):  # an array matches when any of its elements does
        return any(_match_rule(rule, item) for item in value)
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "suffix" in rule:
        return isinstance(value, str) and value.endswith(rule["suffix"])
    if "equals-ignore-case" in rule:
        return isinstance(value, str) and value.lower() == str(rule["equals-ignore-case"]).lower()
    if "anything-but" in rule:
        excluded = rule["anything-but"]
        excluded = excluded if isinstance(excluded, list) else [excluded]
        return not any(_same(item, value) for item in excluded)
    if "numeric" in rule:
        return _match_numeric(rule["numeric"], value)
    return False


def matches(pattern: dict[str, Any], record: Any) -> bool:
    """True when ``record`` satisfies every field of ``pattern``."""
    if not isinstance(record, dict):
        return False
    for key, rule in pattern.items():
        value = record.get(key, _MISSING)
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not any(_match_rule(option, value) for option in rule):
                return False
        else:
            return False
    return True


def _filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """Kinesis: match ``data`` as decoded JSON (non-JSON data only matches non-data patterns)."""
    if "kinesis" not in record:
        return record
    view = dict(record)
    kinesis = dict(record["kinesis"])
    try:
        kinesis["data"] = json.loads(base64.b64decode(kinesis["data"]))
    except (ValueError, TypeError):
        pass
    view["kinesis"] = kinesis
    view["data"] = kinesis["data"]
    return view


def compile_patterns(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [json.loads(f["Pattern"]) for f in (criteria or {}).get("Filters") or []]


def keep(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether a record passes the mapping's filters (no filters: everything passes)."""
    if not patterns:
        return True
    view = _filter_view(record)
    return any(matches(pattern, view) for pattern in patterns)
