"""A bucket's objects in a file (emulator/object_store.py): S3 answers what moto answers,
in-place edits survive eviction, listings read only their page, snapshots read a consistent
copy while the store goes on writing, and an object keeps a fifth of moto's heap."""

from __future__ import annotations

import copy
import gc
import os
import pickle
import tracemalloc
from typing import Any

import boto3
import pytest
from moto.s3.models import s3_backends
from moto.s3.utils import _VersionedKeyStore

from emulator import moto_patches, object_store
from emulator.object_store import DiskKeys
from tests.unit.emulator.forking import forked_check

ACCOUNT = "123456789012"

pytestmark = pytest.mark.usefixtures("moto_aws", "few_live")


@pytest.fixture
def few_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three live version lists: every test below evicts, so reads come from the file."""
    monkeypatch.setattr(object_store, "HOT_KEYS", 3)


def _bucket(name: str, store: str = "disk") -> Any:
    moto_patches.item_store = store
    try:
        boto3.client("s3").create_bucket(Bucket=name)
    finally:
        moto_patches.item_store = "disk"
    return s3_backends[ACCOUNT]["aws"].buckets[name]


def _fill(bucket: str, count: int = 40) -> None:
    s3 = boto3.client("s3")
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=f"raw/{i % 4}/{i:03}.json", Body=b'{"n": %d}' % i * 30,
                      ContentType="application/json", Metadata={"archived-at": str(i)})


def test_objects_read_back_from_the_file_as_moto_stored_them() -> None:
    stored, plain = _bucket("stored"), _bucket("plain", store="memory")
    assert isinstance(stored.keys, DiskKeys) and type(plain.keys) is _VersionedKeyStore
    _fill("stored"), _fill("plain")
    assert sum(type(value) is int for value in dict.values(stored.keys)) == 37  # all but the three live
    s3 = boto3.client("s3")
    for i in (0, 17, 39):
        got = [s3.get_object(Bucket=bucket, Key=f"raw/{i % 4}/{i:03}.json") for bucket in ("stored", "plain")]
        assert got[0]["Body"].read() == got[1]["Body"].read() == b'{"n": %d}' % i * 30
        for field in ("ETag", "ContentType", "ContentLength", "Metadata", "LastModified"):
            assert got[0][field] == got[1][field] or field == "LastModified"
    assert len(stored.keys) == 40 and "raw/1/001.json" in stored.keys and "raw/9/x" not in stored.keys


def test_an_object_edited_in_place_after_it_was_read_from_the_file_keeps_the_edit() -> None:
    bucket = _bucket("edited")
    _fill("edited")
    s3 = boto3.client("s3")
    s3.put_object_acl(Bucket="edited", Key="raw/0/000.json", ACL="public-read")  # moto edits the FakeKey it read
    for i in range(5):  # evicts it
        s3.put_object(Bucket="edited", Key=f"other/{i}.json", Body=b"{}")
    assert type(dict.__getitem__(bucket.keys, "raw/0/000.json")) is int
    grants = s3.get_object_acl(Bucket="edited", Key="raw/0/000.json")["Grants"]
    assert any(grant["Permission"] == "READ" and "AllUsers" in grant["Grantee"].get("URI", "") for grant in grants)
    body = s3.get_object(Bucket="edited", Key="raw/0/000.json")["Body"].read()
    assert body == b'{"n": 0}' * 30


def test_listings_page_as_moto_s_own_over_names_reading_only_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    _bucket("listed"), _bucket("reference", store="memory")
    _fill("listed"), _fill("reference")
    s3 = boto3.client("s3")
    loads = 0
    real_loads = pickle.loads

    def counted(data: bytes) -> Any:
        nonlocal loads
        loads += 1
        return real_loads(data)

    def both(call: str, **kwargs: Any) -> dict[str, Any]:
        answers = [getattr(s3, call)(Bucket=bucket, **kwargs) for bucket in ("listed", "reference")]
        for answer in answers:
            answer.pop("ResponseMetadata"), answer.pop("Name")
            for entry in answer.get("Contents", []):
                entry.pop("LastModified")
        assert answers[0] == answers[1], kwargs
        return answers[0]

    monkeypatch.setattr(object_store.pickle, "loads", counted)
    page = both("list_objects_v2", Prefix="raw/", MaxKeys=7)
    assert loads <= 7 and page["IsTruncated"] and page["KeyCount"] == 7
    both("list_objects_v2", Prefix="raw/", MaxKeys=7, ContinuationToken=page["NextContinuationToken"])
    both("list_objects_v2", Prefix="raw/2/", StartAfter="raw/2/010.json")
    both("list_objects_v2", Delimiter="/")
    both("list_objects_v2", Prefix="raw/", Delimiter="/", MaxKeys=2)
    both("list_objects_v2", Prefix="nothing/")
    both("list_objects_v2", MaxKeys=0)
    both("list_objects", Prefix="raw/3/", Marker="raw/3/011.json", MaxKeys=3)
    both("list_objects", Delimiter="/", Prefix="raw/")


def test_a_versioned_bucket_lists_its_delete_markers_as_moto_does() -> None:
    bucket = _bucket("versioned")
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):
        s3.put_object(Bucket="versioned", Key="doc.json", Body=b"v%d" % i)
    s3.delete_object(Bucket="versioned", Key="doc.json")
    _fill("versioned", 8)
    assert type(dict.__getitem__(bucket.keys, "doc.json")) is int
    assert "doc.json" not in [entry["Key"] for entry in s3.list_objects_v2(Bucket="versioned")["Contents"]]
    versions = s3.list_object_versions(Bucket="versioned", Prefix="doc.json")
    assert len(versions["Versions"]) == 3 and len(versions["DeleteMarkers"]) == 1
    oldest = versions["Versions"][-1]["VersionId"]
    assert s3.get_object(Bucket="versioned", Key="doc.json", VersionId=oldest)["Body"].read() == b"v0"


def test_deleting_gives_the_bytes_back_by_compaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(object_store, "COMPACT_MIN_DEAD_BYTES", 20_000)
    bucket = _bucket("churned")
    s3 = boto3.client("s3")
    for round_ in range(30):
        _fill("churned", 20)
        s3.delete_objects(Bucket="churned", Delete={"Objects": [{"Key": f"raw/{i % 4}/{i:03}.json"} for i in range(0, 20, 2)]})
    size = os.fstat(bucket.keys._file.fileno()).st_size
    live = sum(len(body) for _, body in bucket.keys.rows())
    assert len(bucket.keys) == 10 and size < 2 * live + 20_000 + 5_000  # without compaction: 30 times the bytes
    assert s3.get_object(Bucket="churned", Key="raw/1/001.json")["Body"].read() == b'{"n": 1}' * 30


def test_a_snapshot_copies_every_object_with_its_last_edit_and_an_old_one_is_adopted() -> None:
    bucket = _bucket("snapped")
    _fill("snapped", 10)
    bucket.keys["raw/1/009.json"].content_type = "text/plain"  # live, edited in place, never written
    for restored in (pickle.loads(pickle.dumps(bucket.keys)), copy.deepcopy(bucket.keys)):
        assert isinstance(restored, DiskKeys) and len(restored) == 10
        assert restored["raw/1/009.json"].content_type == "text/plain"
        assert restored["raw/0/000.json"].value == b'{"n": 0}' * 30
    old = _bucket("from-an-old-snapshot", store="memory")
    _fill("from-an-old-snapshot", 5)
    moto_patches.adopt_restored([], [], [old])
    assert isinstance(old.keys, DiskKeys) and old.keys["raw/3/003.json"].value == b'{"n": 3}' * 30


def test_a_forked_snapshotter_reads_the_objects_as_they_were_at_the_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(object_store, "COMPACT_MIN_DEAD_BYTES", 0)  # compact on every write that leaves dead bytes
    bucket = _bucket("forked")
    _fill("forked", 20)

    def as_at_the_fork() -> bool:  # the snapshotter: runs once the parent rewrote and compacted everything
        bodies = {name: pickle.loads(body)[-1].value for name, body in bucket.keys.rows()}
        return bodies == {f"raw/{i % 4}/{i:03}.json": b'{"n": %d}' % i * 30 for i in range(20)}

    snapshotter = forked_check(as_at_the_fork)
    s3 = boto3.client("s3")
    for i in range(20):
        s3.put_object(Bucket="forked", Key=f"raw/{i % 4}/{i:03}.json", Body=b"rewritten")
    assert snapshotter()
    assert s3.get_object(Bucket="forked", Key="raw/2/002.json")["Body"].read() == b"rewritten"


def test_a_stored_object_keeps_a_fifth_of_moto_s_heap() -> None:
    """What stays per object is its name in the dict and where its pickle is: the name
    (90 characters here) is most of it."""

    def heap_per_object(store: str) -> float:
        _bucket(f"heap-{store}", store=store)
        s3 = boto3.client("s3")
        for i in range(50):  # moto's first requests to a bucket build what later ones reuse
            s3.put_object(Bucket=f"heap-{store}", Key=f"warm/{i}", Body=b"{}")
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2_000):
            s3.put_object(Bucket=f"heap-{store}", Key=f"raw/2026/12/07/23/{i:026}-{i:026}-0123456789ab.json",
                          Body=b'{"n": %d}' % i * 60, ContentType="application/json", Metadata={"archived-at": str(i)})
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return grown / 2_000

    memory, disk = heap_per_object("memory"), heap_per_object("disk")
    assert memory > 1_000 and disk < memory / 5, (memory, disk)


def test_an_object_put_in_parts_and_one_under_legal_hold_read_back_from_the_file() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="parts", ObjectLockEnabledForBucket=True)  # object lock turns versioning on
    bucket = s3_backends[ACCOUNT]["aws"].buckets["parts"]
    upload = s3.create_multipart_upload(Bucket="parts", Key="big.bin")["UploadId"]
    chunks = [os.urandom(5 * 1024 * 1024), b"tail"]
    etags = [s3.upload_part(Bucket="parts", Key="big.bin", UploadId=upload, PartNumber=n, Body=chunk)["ETag"]
             for n, chunk in enumerate(chunks, 1)]
    s3.complete_multipart_upload(Bucket="parts", Key="big.bin", UploadId=upload, MultipartUpload={
        "Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(etags, 1)]})
    s3.put_object(Bucket="parts", Key="held.json", Body=b"{}")
    s3.put_object_legal_hold(Bucket="parts", Key="held.json", LegalHold={"Status": "ON"})
    for i in range(5):  # evicts both
        s3.put_object(Bucket="parts", Key=f"other/{i}.json", Body=b"{}")
    assert type(dict.__getitem__(bucket.keys, "big.bin")) is int and type(dict.__getitem__(bucket.keys, "held.json")) is int
    assert s3.get_object(Bucket="parts", Key="big.bin")["Body"].read() == b"".join(chunks)
    assert s3.get_object_legal_hold(Bucket="parts", Key="held.json")["LegalHold"]["Status"] == "ON"


def test_reading_a_stored_object_writes_nothing_again() -> None:
    bucket = _bucket("read-often")
    _fill("read-often", 10)
    s3 = boto3.client("s3")

    def read_all() -> None:  # moto counts each GET in the object's restore-state ticks: not any more
        for i in range(10):
            s3.get_object(Bucket="read-often", Key=f"raw/{i % 4}/{i:03}.json")["Body"].read()

    read_all()  # the three put last leave the live set: written once
    end = bucket.keys._file.end
    read_all(), read_all()
    assert bucket.keys._file.end == end and bucket.keys._dead == 0


def test_a_manual_restore_transition_still_counts_reads() -> None:
    from moto.moto_api import state_manager

    _bucket("ticks")
    boto3.client("s3").put_object(Bucket="ticks", Key="one.json", Body=b"{}")
    key = s3_backends[ACCOUNT]["aws"].get_object("ticks", "one.json")
    key.advance()
    assert key._tick == 0
    state_manager.set_transition("s3::keyrestore", {"progression": "manual", "times": 3})
    try:
        key.advance()
        assert key._tick == 1
    finally:
        state_manager.unset_transition("s3::keyrestore")
