"""The pipeline's S3 sinks by time partition: data-lake ``raw/`` and ``deleted/``, consumer A's ``clicks/``.

`sandbox trace` and `sandbox replay` look up records by hour rather than listing a
whole bucket: keys are partitioned by the hour (data lake) or day (analytics) the
records were created, and their file names carry the sequence-number range they
hold, so a lookup can often read a handful of objects instead of every one.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from sandbox.errors import ConfigError

HOUR = timedelta(hours=1)
#: Widest window one command may scan hour by hour (a month).
MAX_HOURS = 31 * 24
_RAW_NAME = re.compile(r"^(?P<first>\d+)-(?P<last>\d+)-[0-9a-f]{12}\.json$")
_ANALYTICS_NAME = re.compile(r"^(?P<shard>.+)-(?P<first>\d+)-(?P<last>\d+)\.jsonl$")
_READERS = 8
T = TypeVar("T")


@dataclass(frozen=True)
class SeqRange:
    """The sequence numbers an object's name says it holds (``first``..``last``, inclusive)."""

    shard: str
    first: int
    last: int

    def covers(self, sequence: int) -> bool:
        return self.first <= sequence <= self.last


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Every hour from ``start``'s to ``end``'s, inclusive (refuses more than MAX_HOURS)."""
    first, last = floor_hour(start), floor_hour(end)
    if last < first:
        raise ConfigError(f"--to {last:%Y-%m-%dT%H} is before --from {first:%Y-%m-%dT%H}")
    count = int((last - first) / HOUR) + 1
    if count > MAX_HOURS:
        raise ConfigError(f"{count} hours is too wide a window", f"at most {MAX_HOURS} hours (31 days) at once")
    return [first + HOUR * i for i in range(count)]


def parse_hour(text: str, *, end_of_day: bool = False) -> datetime:
    """``2026-11-26T15`` (an hour partition, UTC) or ``2026-11-26`` (its first or, for --to, last hour)."""
    for fmt, whole_day in (("%Y-%m-%dT%H", False), ("%Y-%m-%dT%H:%M", False), ("%Y-%m-%d", True)):
        try:
            moment = datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return floor_hour(moment + timedelta(hours=23) if whole_day and end_of_day else moment)
    raise ConfigError(f"{text!r} is not an hour", "use YYYY-MM-DDTHH (UTC), e.g. 2026-11-26T15, or a day YYYY-MM-DD")


def raw_prefix(hour: datetime) -> str:
    return f"raw/{hour:year=%Y/month=%m/day=%d/hour=%H}/"


def deleted_prefix(hour: datetime, item: str) -> str:
    return f"deleted/{hour:year=%Y/month=%m/day=%d/hour=%H}/{quote(item, safe='')}/"


def analytics_prefix(day: date) -> str:
    return f"clicks/dt={day:%Y-%m-%d}/"


def raw_range(key: str) -> SeqRange | None:
    match = _RAW_NAME.match(key.rsplit("/", 1)[-1])
    return SeqRange("", int(match["first"]), int(match["last"])) if match else None


def analytics_range(key: str) -> SeqRange | None:
    match = _ANALYTICS_NAME.match(key.rsplit("/", 1)[-1])
    return SeqRange(match["shard"], int(match["first"]), int(match["last"])) if match else None


def keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found += [obj["Key"] for obj in page.get("Contents", [])]
    return found


def read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def read_lines(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def read_many(read: Callable[[str], T], names: Iterable[str]) -> dict[str, T]:
    """Read objects concurrently (S3 answers in parallel; boto3 clients are thread-safe)."""
    names = list(dict.fromkeys(names))
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        return dict(zip(names, pool.map(read, names), strict=True))


def item_of(record: dict[str, Any], table_key: str) -> str | None:
    """The item's key value in a stream record (``Keys.<table_key>.S``)."""
    value = ((record.get("dynamodb") or {}).get("Keys") or {}).get(table_key) or {}
    return value.get("S") if isinstance(value, dict) else None


def stream_records(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The DynamoDB stream records of an event: directly, or decoded from Kinesis ``data``."""
    records = []
    for record in event.get("Records", []):
        if "kinesis" in record:
            records.append(json.loads(base64.b64decode(record["kinesis"]["data"])))
        else:
            records.append(record)
    return records
