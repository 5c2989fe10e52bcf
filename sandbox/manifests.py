"""What every producer run wrote, summed from the run manifests' headers in the data lake.

``sandbox status`` has no producer in-process, so "produced" comes from the
manifests (``manifests/<run_id>.json``, see producer.manifest). Only the small
headers are read, never the id parts, and only those whose ETag changed, so a
refresh costs one listing plus one small read per running run.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from producer.manifest import PREFIX, ManifestHeader
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

    def poll(self) -> int:
        """Stream records the producer runs caused so far (a running run's header lags a few seconds)."""
        listed = self._list_headers()
        for key in set(self._runs) - set(listed):
            del self._runs[key]
        for key, etag in listed.items():
            if key in self._runs and self._runs[key][0] == etag:
                continue
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            self.reads += 1
            self._runs[key] = (etag, ManifestHeader.from_json(body))
        return sum(h.expected_stream_records for _, h in self._runs.values())

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
