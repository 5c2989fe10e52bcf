"""Benchmark of the embedded emulator (prints numbers; not a test).

1. Idle latency: single put_item calls spaced out, time from the put to the handler start.
2. Throughput: batch_write_item as fast as the endpoint accepts, next to the records/s a
   no-op function receives through a DynamoDB stream mapping.

Both for each way pollers can read a DynamoDB stream (EMULATOR_STREAM_READER): moto's
memory (the default) and the public GetRecords API over HTTP, the measured trade-off.
Runs the emulator as a separate process (`python -m emulator`), like `make up` does.
Usage: python -m tests.bench.bench_emulator [--items 10000] [--idle-puts 100] [--readers memory,http]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit(f"benchmark: timed out waiting for {what}")


class Bench:
    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.workdir = workdir
        kw = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test",
              "config": Config(retries={"total_max_attempts": 1}, max_pool_connections=10)}
        self.ddb = boto3.client("dynamodb", **kw)
        self.lam = boto3.client("lambda", **kw)
        self.iam = boto3.client("iam", **kw)
        self.role = self.iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def deploy(self, name: str, env: dict[str, str]) -> str:
        """A table with a stream, the counter function and a mapping; returns the table name."""
        stream = self.ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.write(HERE / "counter.py", "counter.py")
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=self.role, Handler="counter.handler",
                                 Code={"ZipFile": buffer.getvalue()}, Environment={"Variables": env}, Timeout=60)
        uuid = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream, StartingPosition="LATEST",
                                                    BatchSize=1000)["UUID"]
        _wait(lambda: self.lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled", 10, "mapping Enabled")
        self.lam.invoke(FunctionName=name, Payload=b'{"Records": []}')  # warm, like a running sandbox
        return name

    def idle_latency(self, puts: int) -> list[float]:
        out = self.workdir / "idle.jsonl"
        table = self.deploy("bench-idle", {"RECORD_FILE": str(out), "WITH_KEYS": "1"})
        out.unlink(missing_ok=True)
        written: dict[str, float] = {}
        for i in range(puts):
            key = f"idle-{i}"
            written[key] = time.time()
            self.ddb.put_item(TableName=table, Item={"pk": {"S": key}, "n": {"N": str(i)}})
            _wait(lambda: any(key in line["keys"] for line in _lines(out)), 10, f"delivery of {key}")
            time.sleep(0.05)  # idle gap between clicks: what is measured is an idle pipeline
        return [line["started"] - written[k] for line in _lines(out) for k in line["keys"]]

    def raw_write_rate(self, items: int) -> float:
        """batch_write_item into a table without a stream: the endpoint's own write rate."""
        table = "bench-raw"
        self.ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        start = time.time()
        self._write(table, items)
        return items / (time.time() - start)

    def _write(self, table: str, items: int) -> None:
        for offset in range(0, items, 25):
            requests = [{"PutRequest": {"Item": {"pk": {"S": f"t-{i}"}, "n": {"N": str(i)}, "payload": {"S": "x" * 200}}}}
                        for i in range(offset, min(items, offset + 25))]
            unprocessed = self.ddb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems")
            if unprocessed:
                raise SystemExit(f"benchmark: unprocessed items {unprocessed}")

    def throughput(self, items: int) -> dict[str, float]:
        out = self.workdir / "throughput.jsonl"
        table = self.deploy("bench-throughput", {"RECORD_FILE": str(out)})
        out.unlink(missing_ok=True)
        start = time.time()
        self._write(table, items)
        written = time.time()
        _wait(lambda: sum(line["count"] for line in _lines(out)) >= items, 300, f"{items} records delivered")
        delivered = max(line["started"] for line in _lines(out))
        invocations = _lines(out)
        return {
            "items": items,
            "write_seconds": written - start,
            "write_rate": items / (written - start),
            "deliver_seconds": delivered - start,
            "deliver_rate": items / (delivered - start),
            "lag_after_writes": max(0.0, delivered - written),
            "invocations": len(invocations),
            "mean_batch": statistics.mean(line["count"] for line in invocations),
        }


def run(reader: str, items: int, idle_puts: int) -> None:
    port = _free_port()
    env = {**os.environ, "EMULATOR_STREAM_READER": reader}
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(port), "--ttl-interval", "0"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        print(f"== stream reader: {reader} ({process.stdout.readline().strip()})")
        with tempfile.TemporaryDirectory() as workdir:
            bench = Bench(f"http://127.0.0.1:{port}", Path(workdir))
            latencies = bench.idle_latency(idle_puts)
            print(f"idle latency put_item -> handler start over {len(latencies)} puts: "
                  f"p50 {_percentile(latencies, 0.5) * 1000:.1f} ms, p99 {_percentile(latencies, 0.99) * 1000:.1f} ms, "
                  f"max {max(latencies) * 1000:.1f} ms")
            raw = bench.raw_write_rate(items)
            result = bench.throughput(items)
            print(f"raw write rate, table without a stream (batch_write_item, 25/request, 1 client): {raw:,.0f} items/s")
            print(f"write rate with the stream mapped to a no-op function: {result['write_rate']:,.0f} items/s "
                  f"({result['items']:,} items in {result['write_seconds']:.1f} s)")
            print(f"delivered to a no-op function: {result['deliver_rate']:,.0f} records/s "
                  f"(last record {result['lag_after_writes']:.2f} s after the last write; "
                  f"{result['invocations']} invocations, mean batch {result['mean_batch']:.0f})")
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--idle-puts", type=int, default=100)
    parser.add_argument("--readers", default="memory,http", help="comma-separated: memory, http")
    args = parser.parse_args()
    for reader in args.readers.split(","):
        run(reader.strip(), args.items, args.idle_puts)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
