"""In-memory stand-ins for the few AWS calls the collector's readers make."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError


class FakeS3:
    """ListObjectsV2 (Prefix, StartAfter, Delimiter, pages of ``page`` keys, ETags) and GetObject; counts calls."""

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
        prefix, delimiter = kwargs["Prefix"], kwargs.get("Delimiter")
        keys = sorted(
            k for k in self.objects
            if k.startswith(prefix) and k > after and not (delimiter and delimiter in k[len(prefix):])
        )
        chunk = keys[: self.page]
        page: dict[str, Any] = {
            "Contents": [
                {"Key": k, "LastModified": self.objects[k][1], "Size": len(self.objects[k][0]), "ETag": self.etag(k)}
                for k in chunk
            ],
            "IsTruncated": len(keys) > self.page,
        }
        if page["IsTruncated"]:
            page["NextContinuationToken"] = chunk[-1]
        return page

    def etag(self, key: str) -> str:
        return '"' + hashlib.md5(self.objects[key][0]).hexdigest() + '"'  # noqa: S324 - S3's ETag

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "no such key"}}, "GetObject")
        return {"Body": io.BytesIO(self.objects[Key][0]), "ETag": self.etag(Key)}
