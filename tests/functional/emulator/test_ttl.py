"""TTL: an expired item is deleted by the sweeper and its REMOVE carries AWS's service identity."""

from __future__ import annotations

import time
from pathlib import Path

from tests.functional.emulator.support import create_function, create_stream_table, read_records, unique
from tests.waiting import wait_until


def test_expired_item_is_removed_and_its_remove_reaches_a_mapping(aws, emulator, tmp_path: Path) -> None:
    table = unique("ttl")
    stream_arn = create_stream_table(aws, table)
    ddb = aws("dynamodb")
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    out = tmp_path / "records.jsonl"
    function = unique("ttl-reader")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    aws("lambda").create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON")

    now = int(time.time())
    ddb.put_item(TableName=table, Item={"pk": {"S": "expired"}, "expires_at": {"N": str(now - 1)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "fresh"}, "expires_at": {"N": str(now + 3600)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "text-ttl"}, "expires_at": {"S": str(now - 1)}})

    # the sweeper runs every emulator.config.ttl_interval seconds (plus slack for a loaded machine)
    wait_until(lambda: "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "expired"}}),
               timeout=emulator.config.ttl_interval + 2, what="the expired item to be deleted")
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "fresh"}})
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "text-ttl"}}), "non-number TTL values are ignored"

    removes = wait_until(lambda: [e["record"] for e in read_records(out) if e["record"]["eventName"] == "REMOVE"],
                         timeout=10, what="the TTL REMOVE record")
    assert len(removes) == 1
    remove = removes[0]
    assert remove["dynamodb"]["Keys"] == {"pk": {"S": "expired"}}
    assert remove["dynamodb"]["OldImage"]["expires_at"] == {"N": str(now - 1)}
    assert remove["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_user_deletes_carry_no_user_identity(aws, tmp_path: Path) -> None:
    table = unique("ttl-user")
    stream_arn = create_stream_table(aws, table)
    out = tmp_path / "records.jsonl"
    function = unique("user-reader")
    create_function(aws, function, "recorder.handler", ("recorder",), {"RECORD_FILE": str(out)})
    aws("lambda").create_event_source_mapping(FunctionName=function, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON")
    ddb = aws("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    records = wait_until(lambda: [e["record"] for e in read_records(out)] if len(read_records(out)) >= 2 else None,
                         timeout=10, what="INSERT and REMOVE")
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    assert "userIdentity" not in records[1]


def test_localstack_expire_endpoint_sweeps_now(aws, emulator) -> None:
    import json
    import urllib.request

    table = unique("ttl-now")
    create_stream_table(aws, table)
    ddb = aws("dynamodb")
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}, "expires_at": {"N": str(int(time.time()) - 10)}})
    request = urllib.request.Request(emulator.endpoint_url + "/_aws/dynamodb/expired", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    # the periodic sweeper may have been first; either way the item is gone right after the call
    assert body["ExpiredItems"] in (0, 1)
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "gone"}})


def test_the_sweep_never_sorts_the_table(aws, emulator, monkeypatch) -> None:
    """moto's all_items() sorts every item with DynamoType's Python __lt__, under the lock, on
    every sweep (10-13 % of the endpoint's time in `make bench`); the sweep reads the storage."""
    from moto.dynamodb.models.table import Table

    table = unique("ttl-sort")
    create_stream_table(aws, table)
    ddb = aws("dynamodb")
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    now = int(time.time())
    for i in range(50):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "expires_at": {"N": str(now - 1 if i % 2 else now + 3600)}})

    def sorted_scan(self):  # noqa: ANN001, ANN202 - the path the sweep must not take
        raise AssertionError("the TTL sweep sorted the table")

    monkeypatch.setattr(Table, "all_items", sorted_scan)
    emulator.sweep_ttl_now()  # raises if it sorts; the background sweeper may have started already
    monkeypatch.undo()
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 25
