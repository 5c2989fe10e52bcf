"""What every producer run wrote, summed from the run manifests' headers in the data lake.

``sandbox status`` has no producer in-process, so "produced" comes from the
manifests (``manifests/<run_id>.json``, see producer.manifest). Only the small
headers are read, never the id parts, and only those whose ETag changed, so a
refresh costs one listing plus one small read per running run.

Which run is "the latest" is decided here too, by the headers' ``started_at`` (a run
id given with ``--run-id`` need not sort by time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from producer.manifest import PREFIX, ManifestHeader, manifest_key
from sandbox.s3tail import BucketMissing


class ManifestTally:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._runs: dict[str, tuple[str, ManifestHeader]] = {}  # header key -> (etag, header)
        self.reads = 0  # headers read so far (a refresh re-reads only changed ones)

    @property
    def runs(self) -> int:
        return len(self._runs)

    @property
    def running(self) -> int:
        return sum(1 for _, h in self._runs.values() if h.status == "running")

    def headers(self) -> list[ManifestHeader]:
        return [h for _, h in self._runs.values()]

    def poll(self, live: Mapping[str, int] | None = None) -> int:
        """Stream records the producer runs caused so far (a running run's header lags a few seconds).

        ``live``: runs producing in this process and their current counts; each replaces
        its header's count (never below it), also before its first header is stored.
        """
        live = live or {}
        listed = self._list_headers()
        for key in set(self._runs) - set(listed):
            del self._runs[key]
        for key, etag in listed.items():
            if key in self._runs and self._runs[key][0] == etag:
                continue
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            self.reads += 1
            self._runs[key] = (etag, ManifestHeader.from_json(body))
        stored = {h.run_id: h.expected_stream_records for _, h in self._runs.values()}
        for run, count in live.items():
            stored[run] = max(count, stored.get(run, 0))
        return sum(stored.values())

    def newest_first(self) -> list[ManifestHeader]:
        """The headers read by the last ``poll``, the most recently started run first."""
        return sorted(self.headers(), key=lambda h: (h.started_at, h.run_id), reverse=True)

    def _list_headers(self) -> dict[str, str]:
        """Header key -> ETag. The delimiter leaves out the parts (``manifests/<run_id>/part-…``)."""
        listed: dict[str, str] = {}
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": PREFIX, "Delimiter": "/"}
        while True:
            try:
                page = self._s3.list_objects_v2(**kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"NoSuchBucket", "404"}:
                    raise BucketMissing(f"bucket {self._bucket} does not exist (sandbox bootstrap apply)") from error
                raise
            listed.update({o["Key"]: o.get("ETag", "") for o in page.get("Contents", []) if o["Key"].endswith(".json")})
            if not page.get("IsTruncated"):
                return listed
            kwargs["ContinuationToken"] = page["NextContinuationToken"]


def read_header(s3: Any, bucket: str, run_id: str) -> tuple[str, ManifestHeader] | None:
    """A run's header and its ETag, or None when the run has no manifest."""
    try:
        found = s3.get_object(Bucket=bucket, Key=manifest_key(run_id))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NoSuchBucket"}:
            return None
        raise
    return str(found.get("ETag", "")), ManifestHeader.from_json(found["Body"].read())
