"""moto's model objects: freed once deleted (its BaseModel kept every one); S3 objects, Kinesis
records and Kinesis metrics compact."""

from __future__ import annotations

import base64
import datetime
import gc
import hashlib
import io
import json
import pickle
import random
import sys
import time
import tracemalloc
import weakref

import boto3
import pytest
from moto import mock_aws
from moto.cloudwatch.models import cloudwatch_backends
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends
from moto.s3.models import s3_backends

from emulator import moto_patches

ACCOUNT, REGION = "123456789012", "us-east-1"


pytestmark = pytest.mark.usefixtures("moto_aws")


def test_a_deleted_s3_object_is_freed() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="freed-objects")
    s3.put_object(Bucket="freed-objects", Key="one.json", Body=b"x" * 700)
    key = weakref.ref(s3_backends[ACCOUNT]["aws"].get_object("freed-objects", "one.json"))
    s3.delete_object(Bucket="freed-objects", Key="one.json")
    gc.collect()
    assert key() is None


def test_deleted_items_and_their_stream_copies_are_freed() -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName="freed-items", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    table = dynamodb_backends[ACCOUNT][REGION].get_table("freed-items")
    dynamodb.put_item(TableName="freed-items", Item={"id": {"S": "a"}, "n": {"N": "1"}})
    dynamodb.update_item(TableName="freed-items", Key={"id": {"S": "a"}}, UpdateExpression="SET n = :two",
                         ExpressionAttributeValues={":two": {"N": "2"}})
    item = weakref.ref(next(iter(table.items.values())))  # the only item
    dynamodb.delete_item(TableName="freed-items", Key={"id": {"S": "a"}})
    records = [weakref.ref(record) for record in table.stream_shard.items]
    assert len(records) == 3  # INSERT, MODIFY, REMOVE
    table.stream_shard.items.clear()  # what retention does to expired records
    gc.collect()
    assert item() is None
    assert [record() for record in records] == [None, None, None]


def test_an_s3_object_of_700_bytes_takes_under_3_kb_of_heap() -> None:
    """moto's own objects took 4.2 KB each; the data lake writes one or two per record."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="small-objects")
    backend = s3_backends[ACCOUNT]["aws"]
    bodies = [bytes([i % 256]) * 700 for i in range(500)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, body in enumerate(bodies):
        backend.put_object("small-objects", f"raw/{i:040d}.json", body)
    gc.collect()
    per_object = (tracemalloc.get_traced_memory()[0] - before) / len(bodies)
    tracemalloc.stop()
    assert per_object < 3000, f"{per_object:.0f} bytes of heap per object"


def test_s3_objects_keep_their_bodies_etags_and_acls() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="object-semantics")
    small, large = b"a" * 700, bytes(range(256)) * 24_576  # 6 MiB: past moto's in-memory limit
    for key, body in (("small", small), ("large", large)):
        put = s3.put_object(Bucket="object-semantics", Key=key, Body=body)
        got = s3.get_object(Bucket="object-semantics", Key=key)
        assert got["Body"].read() == body
        assert got["ETag"] == put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    ranged = s3.get_object(Bucket="object-semantics", Key="large", Range="bytes=256-511")["Body"].read()
    assert ranged == bytes(range(256))
    s3.copy_object(Bucket="object-semantics", Key="copy", CopySource={"Bucket": "object-semantics", "Key": "small"})
    s3.put_object(Bucket="object-semantics", Key="small", Body=b"rewritten")
    assert s3.get_object(Bucket="object-semantics", Key="copy")["Body"].read() == small
    assert s3.get_object(Bucket="object-semantics", Key="small")["Body"].read() == b"rewritten"
    s3.put_object_acl(Bucket="object-semantics", Key="copy", ACL="public-read")
    public = s3.get_object_acl(Bucket="object-semantics", Key="copy")["Grants"]
    private = s3.get_object_acl(Bucket="object-semantics", Key="large")["Grants"]
    assert len(public) == 2 and [g["Permission"] for g in private] == ["FULL_CONTROL"]


def test_an_object_keeps_only_what_differs_from_the_class_s_shared_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's 35 attributes in 1.6 KB of dict; the shared ones live on the class."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "000000000000")  # the emulator's account
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="shared-values")
        s3.put_object(Bucket="shared-values", Key="plain.json", Body=_lake_body(2), ContentType="application/json")
        s3.put_object(Bucket="shared-values", Key="special.json", Body=b"{}", StorageClass="STANDARD_IA",
                      WebsiteRedirectLocation="/elsewhere", ChecksumAlgorithm="SHA256", Metadata={"run": "r1"})
        bucket = s3_backends["000000000000"]["aws"].buckets["shared-values"]
        plain, special = bucket.keys["plain.json"], bucket.keys["special.json"]
        assert len(vars(plain)) <= 10 and sys.getsizeof(vars(plain)) <= 272, sorted(vars(plain))
        assert (special.storage_class, special.website_redirect_location, special.checksum_algorithm) == (
            "STANDARD_IA", "/elsewhere", "SHA256")
        assert (plain.storage_class, plain.website_redirect_location, plain.version_id) == ("STANDARD", None, "null")
        head = s3.head_object(Bucket="shared-values", Key="special.json")
        assert (head["StorageClass"], head["WebsiteRedirectLocation"], head["Metadata"]) == ("STANDARD_IA", "/elsewhere", {"run": "r1"})
        s3.copy_object(Bucket="shared-values", Key="plain.json", CopySource={"Bucket": "shared-values", "Key": "plain.json"},
                       StorageClass="ONEZONE_IA", MetadataDirective="COPY")
        assert bucket.keys["plain.json"].storage_class == "ONEZONE_IA"  # an own entry again
        assert s3.head_object(Bucket="shared-values", Key="special.json")["StorageClass"] == "STANDARD_IA"
        assert s3.get_object(Bucket="shared-values", Key="plain.json")["Body"].read() == _lake_body(2)
        restored = pickle.loads(pickle.dumps(special))
        assert (restored.value, restored.storage_class, restored.website_redirect_location) == (b"{}", "STANDARD_IA", "/elsewhere")
        assert len(vars(restored)) < len(vars(special)) + 2


def test_an_s3_object_survives_pickling() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pickled-objects")
    s3.put_object(Bucket="pickled-objects", Key="one", Body=b"body")
    key = pickle.loads(pickle.dumps(s3_backends[ACCOUNT]["aws"].get_object("pickled-objects", "one")))
    assert key.value == b"body" and key.etag == f'"{hashlib.md5(b"body").hexdigest()}"'


def _fanout_payload(i: int) -> bytes:
    """A stream record's JSON, about the size of what the fan-out function puts (760 bytes)."""
    image = {f"attr{n}": {"S": f"value-{i}-{n}"} for n in range(10)}
    return json.dumps({
        "eventID": f"{i:032x}", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t/stream/2026-12-07T00:00:00.000",
        "dynamodb": {"ApproximateCreationDateTime": 1_800_000_000 + i, "Keys": {"id": {"S": f"click-{i}"}},
                     "NewImage": image, "SequenceNumber": str(i), "SizeBytes": 300,
                     "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }).encode()


def test_kinesis_records_read_back_as_they_were_put() -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="compact", ShardCount=1)
    payloads = [_fanout_payload(i) for i in range(30)] + [b"", bytes(range(256))]  # empty and binary too
    put = kinesis.put_records(StreamName="compact", Records=[{"Data": p, "PartitionKey": f"pk-{i}"}
                                                             for i, p in enumerate(payloads)])
    shard = kinesis.describe_stream(StreamName="compact")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="compact", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    got = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=100)["Records"]
    assert [r["Data"] for r in got] == payloads
    assert [r["PartitionKey"] for r in got] == [f"pk-{i}" for i in range(len(payloads))]
    assert [r["SequenceNumber"] for r in got] == [r["SequenceNumber"] for r in put["Records"]]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert all(abs((now - r["ApproximateArrivalTimestamp"]).total_seconds()) < 60 for r in got)


def test_a_kinesis_record_keeps_moto_s_attributes_and_survives_pickling() -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="attributes", ShardCount=1)
    kinesis.put_record(StreamName="attributes", Data=b'{"a": 1}', PartitionKey="pk")
    shard = next(iter(kinesis_backends[ACCOUNT][REGION].streams["attributes"].shards.values()))
    record = pickle.loads(pickle.dumps(next(iter(shard.records.values()))))
    assert record.data == base64.b64encode(b'{"a": 1}').decode()  # moto's models read base64 text
    assert record.partition_key == "pk" and record.sequence_number == 1
    assert abs(record.created_at - time.time()) < 60
    assert record.created_at_datetime.tzinfo is None  # naive UTC, as moto compares it
    assert abs(record.created_at_datetime.timestamp() - record.created_at - _utc_offset()) < 1e-3


def _utc_offset() -> float:
    """What ``naive.timestamp()`` adds to a naive UTC time on this machine (0 where TZ is UTC)."""
    return -time.localtime().tm_gmtoff


def test_kinesis_metrics_are_one_statistic_set_per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto added two data points per put; CloudWatch's standard resolution is one minute."""
    kinesis, cloudwatch = boto3.client("kinesis"), boto3.client("cloudwatch")
    kinesis.create_stream(StreamName="metered", ShardCount=1)
    minute = time.time() // 60 * 60 - 60  # the puts all fall in the last whole minute
    monkeypatch.setattr(moto_patches, "_clock", lambda: minute + 30)
    for size in (1, 2, 3):
        kinesis.put_records(StreamName="metered", Records=[{"Data": b"x" * 10, "PartitionKey": "k"}] * size)
    kinesis.put_record(StreamName="metered", Data=b"y" * 40, PartitionKey="kk")
    assert len(cloudwatch_backends[ACCOUNT][REGION].metric_data) == 2

    def statistics(metric: str) -> list[dict[str, float]]:
        return cloudwatch.get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName=metric, Dimensions=[{"Name": "StreamName", "Value": "metered"}],
            StartTime=datetime.datetime.fromtimestamp(minute, datetime.timezone.utc),
            EndTime=datetime.datetime.fromtimestamp(minute + 60, datetime.timezone.utc),
            Period=60, Statistics=["Sum", "SampleCount", "Minimum", "Maximum"])["Datapoints"]

    records = statistics("IncomingRecords")
    assert [(p["Sum"], p["SampleCount"], p["Minimum"], p["Maximum"]) for p in records] == [(7, 4, 1, 3)]
    assert [p["Sum"] for p in statistics("IncomingBytes")] == [6 * 11 + 42]  # data and partition key, as moto counts


def test_a_new_minute_starts_a_new_statistic_set(monkeypatch: pytest.MonkeyPatch) -> None:
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="minutes", ShardCount=1)
    clock = [1_800_000_000.0]
    monkeypatch.setattr(moto_patches, "_clock", lambda: clock[0])
    for step in (0, 10, 59, 60, 61, 185):
        clock[0] = 1_800_000_000.0 + step
        kinesis.put_record(StreamName="minutes", Data=b"z", PartitionKey="k")
    data = [d for d in cloudwatch_backends[ACCOUNT][REGION].metric_data if d.name == "IncomingRecords"]
    assert [(d.timestamp.minute, d.sample_count) for d in data] == [(0, 3), (1, 2), (3, 1)]


def _lake_body(records: int) -> bytes:
    return json.dumps({"Records": [json.loads(_fanout_payload(i)) for i in range(records)]}).encode()


def test_a_compressible_body_is_kept_packed_and_reads_back_whole_in_ranges_and_copies() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="packed")
    body = _lake_body(3)
    put = s3.put_object(Bucket="packed", Key="raw/one.json", Body=body)
    key = s3_backends[ACCOUNT]["aws"].get_object("packed", "raw/one.json")
    assert isinstance(key._value_buffer, moto_patches.PackedBody)
    assert s3.get_object(Bucket="packed", Key="raw/one.json")["Body"].read() == body
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert s3.head_object(Bucket="packed", Key="raw/one.json")["ContentLength"] == len(body)
    ranged = s3.get_object(Bucket="packed", Key="raw/one.json", Range="bytes=10-99")["Body"].read()
    assert ranged == body[10:100]
    s3.copy_object(Bucket="packed", Key="copy.json", CopySource={"Bucket": "packed", "Key": "raw/one.json"})
    assert s3.get_object(Bucket="packed", Key="copy.json")["Body"].read() == body
    assert pickle.loads(pickle.dumps(key)).value == body


def test_a_body_that_does_not_compress_stays_plain() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="plain")
    body = random.Random(11).randbytes(2_000)  # noise: zlib cannot shrink it
    s3.put_object(Bucket="plain", Key="noise", Body=body)
    key = s3_backends[ACCOUNT]["aws"].get_object("plain", "noise")
    assert not isinstance(key._value_buffer, moto_patches.PackedBody)
    assert s3.get_object(Bucket="plain", Key="noise")["Body"].read() == body


def test_a_packed_body_reads_in_chunks_like_a_file() -> None:
    data = _lake_body(2)
    body = moto_patches.PackedBody(moto_patches.deflate(data), len(data))
    assert body.read(100) == data[:100] and body.tell() == 100
    assert body.read() == data[100:] and body.read() == b""
    assert body.seek(-10, io.SEEK_END) == len(data) - 10 and body.read(4) == data[-10:-6]
    body.close()
    with pytest.raises(ValueError):
        body.read()


def test_a_multipart_upload_of_compressible_parts_reads_back() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="multipart")
    first, last = b"0123456789abcdef" * (5 * 2**20 // 16), _lake_body(2)  # parts but the last are 5 MiB at least
    upload = s3.create_multipart_upload(Bucket="multipart", Key="big")["UploadId"]
    etags = [s3.upload_part(Bucket="multipart", Key="big", UploadId=upload, PartNumber=n, Body=part)["ETag"]
             for n, part in ((1, first), (2, last))]
    s3.complete_multipart_upload(Bucket="multipart", Key="big", UploadId=upload, MultipartUpload={
        "Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(etags, start=1)]})
    assert s3.get_object(Bucket="multipart", Key="big")["Body"].read() == first + last


def test_a_data_lake_object_takes_less_heap_than_its_body_plus_moto_s_key() -> None:
    """A 1.5 KB archive object: 3.3 KB of heap with its body kept as is, 2.3 KB packed."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake-heap")
    backend = s3_backends[ACCOUNT]["aws"]
    backend.put_object("lake-heap", "warm-up", _lake_body(2))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(300):  # the bodies are built inside the traced window, as a request's are
        backend.put_object("lake-heap", f"raw/year=2026/month=12/day=07/hour=13/{i:020d}-{i:020d}-0123456789.json",
                           _lake_body(2))
    gc.collect()
    per_object = (tracemalloc.get_traced_memory()[0] - before) / 300
    tracemalloc.stop()
    assert len(_lake_body(2)) > 1400 and per_object < 2700, f"{per_object:.0f} bytes of heap per object"


def test_a_body_too_large_to_pack_quickly_stays_plain() -> None:
    """Compressing megabytes would hold the endpoint's lock for tens of milliseconds."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="large-plain")
    body = b"compressible " * (moto_patches.PACK_MAX_BYTES // 13 + 1)
    s3.put_object(Bucket="large-plain", Key="big", Body=body)
    key = s3_backends[ACCOUNT]["aws"].get_object("large-plain", "big")
    assert not isinstance(key._value_buffer, moto_patches.PackedBody)
    assert s3.get_object(Bucket="large-plain", Key="big")["Body"].read() == body


def test_deflate_round_trips_payloads_of_every_size() -> None:
    for data in (b"", b"x", _fanout_payload(1), _lake_body(40), random.Random(3).randbytes(70_000)):
        assert moto_patches.inflate(moto_patches.deflate(data)) == data


def test_a_query_from_just_before_the_puts_finds_them() -> None:
    """CloudWatch rounds a recent start time down to the minute, so the minute's set is found."""
    kinesis, cloudwatch = boto3.client("kinesis"), boto3.client("cloudwatch")
    kinesis.create_stream(StreamName="just-now", ShardCount=1)
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    kinesis.put_records(StreamName="just-now", Records=[{"Data": b"x", "PartitionKey": "k"}] * 5)
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=2)
    dimensions = [{"Name": "StreamName", "Value": "just-now"}]
    stats = cloudwatch.get_metric_statistics(Namespace="AWS/Kinesis", MetricName="IncomingRecords", Dimensions=dimensions,
                                             StartTime=start, EndTime=end, Period=300, Statistics=["Sum"])["Datapoints"]
    assert [point["Sum"] for point in stats] == [5]
    data = cloudwatch.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{
        "Id": "records", "MetricStat": {"Metric": {"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords",
                                                   "Dimensions": dimensions}, "Period": 300, "Stat": "Sum"}}])
    assert data["MetricDataResults"][0]["Values"] == [5]


@pytest.mark.parametrize(("age", "rounded"), [
    (datetime.timedelta(minutes=3), "12:32:00"),
    (datetime.timedelta(days=20), "12:30:00"),
    (datetime.timedelta(days=70), "12:00:00"),
])
def test_a_start_time_is_rounded_as_cloudwatch_rounds_it(age: datetime.timedelta, rounded: str) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    start = (now - age).replace(hour=12, minute=32, second=34, microsecond=5)
    if start > now - age:  # the same day's 12:32 may lie ahead: a day earlier is as old or older
        start -= datetime.timedelta(days=1)
    assert moto_patches._rounded_start(start).strftime("%H:%M:%S") == rounded
    naive = moto_patches._rounded_start(start.replace(tzinfo=None))
    assert naive.tzinfo is None and naive.strftime("%H:%M:%S") == rounded


def test_s3_objects_share_one_list_of_restore_transitions() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="shared-transitions")
    for name in ("a", "b"):
        s3.put_object(Bucket="shared-transitions", Key=name, Body=b"body")
    backend = s3_backends[ACCOUNT]["aws"]
    first, second = (backend.get_object("shared-transitions", name) for name in ("a", "b"))
    assert first._transitions is second._transitions


def test_s3_objects_share_their_metadata_strings_but_not_the_user_s() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="shared-strings")
    for i in range(2):
        s3.put_object(Bucket="shared-strings", Key=f"k{i}", Body=b"{}", ContentType="application/json",
                      Metadata={"run": f"run-{i // 2}"})
    keys = [s3_backends[ACCOUNT]["aws"].buckets["shared-strings"].keys[f"k{i}"] for i in range(2)]
    (name_a, type_a), (name_b, type_b) = ((n, v) for k in keys for n, v in k.metadata.items() if n == "content-type")
    assert name_a is name_b and type_a is type_b
    assert keys[0].bucket_name is keys[1].bucket_name
    user = [next(v for n, v in k.metadata.items() if n == "x-amz-meta-run") for k in keys]
    assert user[0] == user[1] == "run-0" and user[0] is not user[1]  # the user's values are the object's own
    head = s3.head_object(Bucket="shared-strings", Key="k1")
    assert head["ContentType"] == "application/json" and head["Metadata"] == {"run": "run-0"}


def test_an_untagged_object_holds_no_tag_set_and_tags_still_read_back() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="tags")
    backend = s3_backends[ACCOUNT]["aws"]
    s3.put_object(Bucket="tags", Key="plain", Body=b"x")
    s3.put_object(Bucket="tags", Key="tagged", Body=b"x", Tagging="team=data")
    plain, tagged = (backend.buckets["tags"].keys[name] for name in ("plain", "tagged"))
    assert plain.arn not in backend.tagger.tags and tagged.arn in backend.tagger.tags
    assert s3.get_object_tagging(Bucket="tags", Key="plain")["TagSet"] == []
    assert s3.get_object_tagging(Bucket="tags", Key="tagged")["TagSet"] == [{"Key": "team", "Value": "data"}]
    assert s3.get_object(Bucket="tags", Key="tagged")["TagCount"] == 1
    s3.put_object_tagging(Bucket="tags", Key="tagged", Tagging={"TagSet": [{"Key": "team", "Value": "web"}]})
    assert s3.get_object_tagging(Bucket="tags", Key="tagged")["TagSet"] == [{"Key": "team", "Value": "web"}]
    s3.delete_object_tagging(Bucket="tags", Key="tagged")
    assert tagged.arn not in backend.tagger.tags
    assert s3.get_object_tagging(Bucket="tags", Key="tagged")["TagSet"] == []
