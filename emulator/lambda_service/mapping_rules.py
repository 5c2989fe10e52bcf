"""AWS's validation rules and defaults for event source mapping parameters."""

from __future__ import annotations

import json
from typing import Any

from emulator.lambda_service.exceptions import InvalidParameterValue, constraint
from emulator.moto_adapter import parse_arn

DESTINATION_SERVICES = ("sqs", "sns", "s3")

#: Parameters with (field name in AWS's messages, minimum, maximum).
INT_RANGES: dict[str, tuple[str, int, int]] = {
    "BatchSize": ("batchSize", 1, 10000),
    "MaximumBatchingWindowInSeconds": ("maximumBatchingWindowInSeconds", 0, 300),
    "ParallelizationFactor": ("parallelizationFactor", 1, 10),
    "MaximumRetryAttempts": ("maximumRetryAttempts", -1, 10000),
    "MaximumRecordAgeInSeconds": ("maximumRecordAgeInSeconds", -1, 604800),
    "TumblingWindowInSeconds": ("tumblingWindowInSeconds", 0, 900),
}
UPDATABLE = (
    "BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds", "TumblingWindowInSeconds", "BisectBatchOnFunctionError",
    "FunctionResponseTypes", "FilterCriteria", "DestinationConfig",
)


def validate_ints(params: dict[str, Any]) -> None:
    for key, (field_name, low, high) in INT_RANGES.items():
        value = params.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise constraint(field_name, value, "Member must be an integer")
        if value < low:
            raise constraint(field_name, value, f"Member must have value greater than or equal to {low}")
        if value > high:
            raise constraint(field_name, value, f"Member must have value less than or equal to {high}")
    age = params.get("MaximumRecordAgeInSeconds")
    if age is not None and age != -1 and age < 60:
        raise InvalidParameterValue("MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800")


def validate_types(params: dict[str, Any]) -> None:
    """Shapes the request model fixes (AWS rejects them before any rule is applied)."""
    shapes: tuple[tuple[str, type | tuple[type, ...]], ...] = (
        ("FunctionName", str), ("EventSourceArn", str), ("StartingPosition", str), ("Enabled", bool),
        ("BisectBatchOnFunctionError", bool), ("FunctionResponseTypes", list), ("FilterCriteria", dict),
        ("DestinationConfig", dict), ("StartingPositionTimestamp", (int, float)),
    )
    for key, kind in shapes:
        value = params.get(key)
        if value is None:
            continue
        wrong_bool = kind in ((int, float),) and isinstance(value, bool)
        if not isinstance(value, kind) or wrong_bool:
            raise InvalidParameterValue(f"{key} has the wrong type: {value!r}")
    timestamp = params.get("StartingPositionTimestamp")
    if timestamp is not None and not 0 <= timestamp < 253402300800:  # NaN, infinity, or past the year 9999
        raise InvalidParameterValue(f"StartingPositionTimestamp must be seconds since the epoch: {timestamp!r}")
    filters = (params.get("FilterCriteria") or {}).get("Filters")
    if filters is not None and (not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters)):
        raise InvalidParameterValue("FilterCriteria.Filters must be a list of {\"Pattern\": \"...\"} objects")
    for kind in ("OnFailure", "OnSuccess"):
        entry = (params.get("DestinationConfig") or {}).get(kind)
        if entry is not None and not isinstance(entry, dict):
            raise InvalidParameterValue(f"DestinationConfig.{kind} must be an object with a Destination ARN")


def validate_lists(params: dict[str, Any]) -> None:
    validate_types(params)
    types = params.get("FunctionResponseTypes")
    if types is not None:
        for value in types:
            if value != "ReportBatchItemFailures":
                raise constraint("functionResponseTypes", types, "Member must satisfy enum value set: [ReportBatchItemFailures]")
    criteria = params.get("FilterCriteria")
    if criteria is not None:
        filters = criteria.get("Filters") or []
        if len(filters) > 5:
            raise InvalidParameterValue("FilterCriteria can have at most 5 filters")
        for item in filters:
            try:
                pattern = json.loads(item.get("Pattern", ""))
            except (ValueError, TypeError, AttributeError, RecursionError):
                raise InvalidParameterValue(f"Invalid filter pattern definition: {str(item)[:200]}") from None
            if not isinstance(pattern, dict):
                raise InvalidParameterValue(f"Invalid filter pattern definition: {item!r}")
    destination = (params.get("DestinationConfig") or {}).get("OnFailure") or {}
    target = destination.get("Destination")
    if target is not None:
        parts = parse_arn(str(target))
        if parts is None or parts.service not in DESTINATION_SERVICES:
            raise InvalidParameterValue(f"The provided destination config DestinationConfig(onFailure={target}) is invalid: use an SQS queue, SNS topic or S3 bucket ARN")


DEFAULTS: dict[str, Any] = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "ParallelizationFactor": 1,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "TumblingWindowInSeconds": 0,
    "BisectBatchOnFunctionError": False,
    "FunctionResponseTypes": [],
    "FilterCriteria": None,
    "DestinationConfig": {"OnSuccess": {}, "OnFailure": {}},
}
