"""What every producer run wrote, summed from the run manifests in the data lake.

``sandbox status`` has no producer in-process, so "produced" comes from the
manifests (``manifests/<run_id>.json``, see producer.manifest). Only manifests
whose ETag changed are read again, so a refresh costs one small listing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from producer.manifest import PREFIX, Manifest
from sandbox.s3tail import BucketMissing


class ManifestTally:
    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._runs: dict[str, tuple[str, Manifest]] = {}  # key -> (etag, manifest)

    @property
    def runs(self) -> int:
        return len(self._runs)

    @property
    def running(self) -> int:
        return sum(1 for _, m in self._runs.values() if m.status == "running")

    def manifests(self) -> list[Manifest]:
        return [m for _, m in self._runs.values()]

    def poll(self) -> int:
        """Stream records the producer runs caused so far (finished runs; see module docstring)."""
        listed: dict[str, str] = {}
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": PREFIX}
        while True:
            try:
                page = self._s3.list_objects_v2(**kwargs)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"NoSuchBucket", "404"}:
                    raise BucketMissing(f"bucket {self._bucket} does not exist (sandbox bootstrap apply)") from error
                raise
            listed.update({o["Key"]: o.get("ETag", "") for o in page.get("Contents", [])})
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        for key in set(self._runs) - set(listed):
            del self._runs[key]
        for key, etag in listed.items():
            if key in self._runs and self._runs[key][0] == etag:
                continue
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            self._runs[key] = (etag, Manifest.from_json(body))
        return sum(m.expected_stream_records for _, m in self._runs.values())
