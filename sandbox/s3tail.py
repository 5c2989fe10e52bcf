"""New objects in a bucket prefix, found without listing the whole bucket every second.

The sinks' keys come in groups (a time partition; a shard within a day) and grow
in order within a group. Each refresh lists:

1. every *recent* partition (this hour/day and the previous one) from the newest key
   seen in it (finds new groups that sort later), or in full while it holds less
   than one page of keys (one call either way);
2. every active group from its own newest key (``StartAfter``): only new keys return;
3. every ``full_every_s`` seconds, the recent partitions in full, for keys that
   arrive out of order (a retried batch, a lagging shard).

The first poll lists the whole prefix once (catching up on a running stack).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

#: A group not seen growing for this long is dropped from the fast path (the periodic
#: full listing of recent partitions brings it back if it grows again).
GROUP_IDLE_S = 600.0
#: Keys one ListObjectsV2 page returns.
PAGE = 1000


@dataclass(frozen=True)
class S3Object:
    key: str
    last_modified: datetime
    size: int


class BucketMissing(Exception):
    """The bucket does not exist (yet): the pipeline is not bootstrapped."""


class S3Tail:
    """Yields each object under ``prefix`` once, cheaply (see the module docstring)."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str,
        *,
        group_of: Callable[[str], str],
        recent_prefixes: Callable[[datetime], list[str]],
        full_every_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self._group_of = group_of
        self._recent = recent_prefixes
        self._full_every = full_every_s
        self._clock = clock
        self._wall = wall
        self._seen: set[str] = set()
        self._groups: dict[str, tuple[str, float]] = {}  # group -> (last key, newest object's time)
        self._prefix_max: dict[str, str] = {}  # recent partition -> newest key seen in it
        self._prefix_keys: dict[str, int] = {}  # recent partition -> keys seen in it
        self._last_full: float | None = None
        self.list_calls = 0

    @property
    def seen(self) -> int:
        return len(self._seen)

    def poll(self, *, thorough: bool = False) -> list[S3Object]:
        """Objects not returned before. ``thorough`` forces the full listing of recent partitions."""
        now = self._clock()
        recent = self._recent(datetime.fromtimestamp(self._wall(), UTC))
        self._prefix_max = {p: self._prefix_max.get(p, "") for p in recent}
        self._prefix_keys = {p: self._prefix_keys.get(p, 0) for p in recent}
        found: list[S3Object] = []
        if self._last_full is None:
            found += self._list(self.prefix, None)
            self._last_full = now
        else:
            # A partition that fits one page is listed in full: as cheap as an incremental listing.
            small = all(self._prefix_keys.get(p, 0) < PAGE for p in recent)
            full = thorough or small or now - self._last_full >= self._full_every
            # Recent partitions from their newest key: finds new groups (a new hour, a new shard).
            for prefix in recent:
                found += self._list(prefix, None if full else self._prefix_max[prefix] or None)
            if full:
                self._last_full = now
            # Each active group from its own newest key: finds keys that sort before another group's.
            for group, (last_key, _) in list(self._groups.items()):
                found += self._list(group, last_key)
        new = self._remember(found)
        wall = self._wall()
        for group, (_, newest) in list(self._groups.items()):
            if wall - newest > GROUP_IDLE_S:
                del self._groups[group]
        return new

    def _remember(self, objects: list[S3Object]) -> list[S3Object]:
        new: list[S3Object] = []
        for obj in objects:
            if obj.key in self._seen:
                continue
            self._seen.add(obj.key)
            new.append(obj)
            group = self._group_of(obj.key)
            last_key, newest = self._groups.get(group, ("", 0.0))
            self._groups[group] = (max(last_key, obj.key), max(newest, obj.last_modified.timestamp()))
            for prefix, top in self._prefix_max.items():
                if obj.key.startswith(prefix):
                    self._prefix_keys[prefix] += 1
                    self._prefix_max[prefix] = max(top, obj.key)
        return sorted(new, key=lambda o: (o.last_modified, o.key))

    def _list(self, prefix: str, start_after: str | None) -> list[S3Object]:
        return list(self._pages(prefix, start_after))

    def _pages(self, prefix: str, start_after: str | None) -> Iterator[S3Object]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            self.list_calls += 1
            try:
                page = self._s3.list_objects_v2(**kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"NoSuchBucket", "404"}:
                    raise BucketMissing(f"bucket {self.bucket} does not exist (sandbox bootstrap apply)") from error
                raise
            for item in page.get("Contents", []):
                yield S3Object(item["Key"], item["LastModified"], int(item.get("Size", 0)))
            if not page.get("IsTruncated"):
                return
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
            kwargs.pop("StartAfter", None)

    def read(self, obj: S3Object) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=obj.key)["Body"].read()

    def read_with_metadata(self, obj: S3Object) -> tuple[bytes, dict[str, str]]:
        """The body and the object's user metadata (``x-amz-meta-*``, names without the prefix), in one GET."""
        found = self._s3.get_object(Bucket=self.bucket, Key=obj.key)
        return found["Body"].read(), dict(found.get("Metadata") or {})


def directory_of(key: str) -> str:
    """Group = the key's directory (one time partition)."""
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


def directory_and_shard(key: str) -> str:
    """Group = directory plus the ``shardId-NNN`` the file name starts with (consumer A)."""
    directory = directory_of(key)
    name = key[len(directory) :]
    if name.startswith("shardId-"):
        shard = name.split("-", 2)
        if len(shard) >= 2:
            return f"{directory}shardId-{shard[1]}-"
    return directory


def hourly_partitions(root: str, hours: int = 2) -> Callable[[datetime], list[str]]:
    """``root/year=YYYY/month=MM/day=DD/hour=HH/`` for the current and previous hours."""

    def recent(now: datetime) -> list[str]:
        stamps = {datetime.fromtimestamp(now.timestamp() - 3600 * h, UTC) for h in range(hours)}
        return sorted(f"{root}{t:year=%Y/month=%m/day=%d/hour=%H}/" for t in stamps)

    return recent


def daily_partitions(root: str) -> Callable[[datetime], list[str]]:
    """``root/dt=YYYY-MM-DD/`` for today and yesterday (UTC)."""

    def recent(now: datetime) -> list[str]:
        stamps = {datetime.fromtimestamp(now.timestamp() - 86400 * d, UTC) for d in range(2)}
        return sorted(f"{root}dt={t:%Y-%m-%d}/" for t in stamps)

    return recent
