"""The run manifest: every click id of a run, stored next to the data it explains.

It lives in the data-lake bucket under ``manifests/<run_id>.json``, so any check
(tests, ``sandbox status``, a human with the AWS CLI) can reconcile the sinks
against it on either backend. Lists hold only writes that succeeded, so
``expected_stream_records`` is exact for the producer's own writes (TTL expiry
adds REMOVE records of its own on top).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bootstrap.clients import client
from bootstrap.settings import Settings
from producer.errors import ManifestNotFound, OptionsError, boundary, error_code
from producer.target import resolve_topology

PREFIX = "manifests/"
FORMAT_VERSION = 1
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_run_id(run_id: str) -> str:
    """Run ids become S3 keys and attribute values: keep them short and plain."""
    if not RUN_ID_PATTERN.match(run_id):
        raise OptionsError(
            f"run id {run_id!r} is not valid: use 1-64 letters, digits, '.', '_' or '-'"
        )
    return run_id


def manifest_key(run_id: str) -> str:
    return f"{PREFIX}{check_run_id(run_id)}.json"


@dataclass
class FailedOp:
    uuid: str
    op: str
    error: str


@dataclass
class Manifest:
    """What a run wrote. ``status``: running, complete, interrupted or aborted."""

    run_id: str
    table: str
    seed: int
    status: str = "running"
    started_at: int = 0  # epoch ms
    finished_at: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    clicks: list[str] = field(default_factory=list)  # put, in write order
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[FailedOp] = field(default_factory=list)

    @property
    def expected_stream_records(self) -> int:
        """Stream records the producer's successful writes cause: puts + updates + deletes."""
        return len(self.clicks) + len(self.updated) + len(self.deleted)

    def expected_events(self) -> dict[str, list[str]]:
        """Per click id, the stream event names in the order they must arrive."""
        updated, deleted = set(self.updated), set(self.deleted)
        return {
            uuid: ["INSERT"]
            + (["MODIFY"] if uuid in updated else [])
            + (["REMOVE"] if uuid in deleted else [])
            for uuid in self.clicks
        }

    def to_json(self) -> str:
        return json.dumps({"version": FORMAT_VERSION, **asdict(self)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        data = json.loads(text)
        data.pop("version", None)
        data["failed"] = [FailedOp(**f) for f in data.get("failed", [])]
        return cls(**data)


def save(settings: Settings, bucket: str, manifest: Manifest, *, s3: Any = None) -> str:
    """Store the manifest (overwriting the previous state of this run); returns its s3:// URI."""
    key = manifest_key(manifest.run_id)
    with boundary(settings, bucket=bucket):
        (s3 or client("s3", settings)).put_object(
            Bucket=bucket,
            Key=key,
            Body=manifest.to_json().encode(),
            ContentType="application/json",
        )
    return f"s3://{bucket}/{key}"


def load(
    settings: Settings, run_id: str, *, bucket: str | None = None, s3: Any = None
) -> Manifest:
    """Read a run's manifest from the data-lake bucket (of the settings' topology by default)."""
    if bucket is None:
        bucket = resolve_topology(settings).data_lake_bucket  # one STS call
    key = manifest_key(run_id)
    with boundary(settings, bucket=bucket):
        s3 = s3 or client("s3", settings)
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error_code(error) not in ("NoSuchKey", "404"):
                raise
            raise ManifestNotFound(
                f"no manifest for run {run_id} in s3://{bucket}/{PREFIX}"
            ) from error
    return Manifest.from_json(body)


def list_runs(settings: Settings, bucket: str, *, s3: Any = None) -> list[str]:
    """Run ids with a manifest, oldest first (default run ids sort by start time)."""
    runs: list[str] = []
    with boundary(settings, bucket=bucket):
        paginator = (s3 or client("s3", settings)).get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=PREFIX):
            runs += [o["Key"][len(PREFIX) : -len(".json")] for o in page.get("Contents", [])]
    return sorted(runs)


__all__ = ["FailedOp", "Manifest", "check_run_id", "list_runs", "load", "manifest_key", "save"]
