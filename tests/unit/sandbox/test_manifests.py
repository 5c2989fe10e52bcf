"""Run manifests as `sandbox` reads them: headers summed cheaply, the latest run by start time."""

from __future__ import annotations

from producer.manifest import Counts, ManifestHeader, manifest_key, part_key
from sandbox.manifests import ManifestTally, read_header

from .fakes import FakeS3

BUCKET = "clicks-datalake-000000000000"


def _store(s3: FakeS3, run_id: str, started_at: int, clicks: int, status: str = "complete") -> None:
    header = ManifestHeader(run_id, "clicks-events", 1, status, started_at, counts=Counts(clicks, 1, 0), parts=1)
    s3.put(manifest_key(run_id), header.to_json().encode())
    s3.put(part_key(run_id, 1), b'{"clicks": [], "updated": [], "deleted": [], "failed": []}')


def test_the_sum_reads_only_headers_that_changed() -> None:
    s3 = FakeS3()
    _store(s3, "a", 1, 10)
    _store(s3, "b", 2, 20, status="running")
    tally = ManifestTally(s3, BUCKET)
    assert tally.poll() == 11 + 21 and tally.reads == 2  # the parts (manifests/<run>/...) are never read
    assert tally.poll() == 32 and tally.reads == 2
    _store(s3, "b", 2, 30, status="running")
    assert tally.poll() == 11 + 31 and tally.reads == 3
    assert tally.running == 1


def test_live_counts_replace_a_lagging_header_never_lower_it() -> None:
    """`sandbox up`: its own run counts live, every other run (another shell's) from its header."""
    s3 = FakeS3()
    _store(s3, "other", 1, 600)
    _store(s3, "mine", 2, 40, status="running")
    tally = ManifestTally(s3, BUCKET)
    assert tally.poll({"mine": 50}) == 601 + 50
    assert tally.poll({"mine": 10}) == 601 + 41  # the header is ahead: it wins
    assert tally.poll({"new": 7}) == 601 + 41 + 7  # no header yet


def test_read_header() -> None:
    s3 = FakeS3()
    _store(s3, "a", 5, 3, status="running")
    found = read_header(s3, BUCKET, "a")
    assert found is not None and found[1].status == "running" and found[1].expected_stream_records == 4
    assert read_header(s3, BUCKET, "nope") is None
