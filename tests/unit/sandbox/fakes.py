"""In-memory stand-ins for the few AWS calls the collector's readers make."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError


class FakeS3:
    """ListObjectsV2 (Prefix, StartAfter, pages of ``page`` keys) and GetObject; counts calls."""

    def __init__(self, page: int = 1000) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}
        self.page = page
        self.calls: list[dict[str, Any]] = []
        self.missing = False

    def put(self, key: str, body: bytes = b"{}", at: float = 1_800_000_000.0) -> None:
        self.objects[key] = (body, datetime.fromtimestamp(at, UTC))

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.missing:
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "ListObjectsV2")
        after = kwargs.get("ContinuationToken") or kwargs.get("StartAfter") or ""
        keys = sorted(k for k in self.objects if k.startswith(kwargs["Prefix"]) and k > after)
        chunk = keys[: self.page]
        page: dict[str, Any] = {
            "Contents": [{"Key": k, "LastModified": self.objects[k][1], "Size": len(self.objects[k][0])} for k in chunk],
            "IsTruncated": len(keys) > self.page,
        }
        if page["IsTruncated"]:
            page["NextContinuationToken"] = chunk[-1]
        return page

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"Body": io.BytesIO(self.objects[Key][0])}
