"""Run manifests as `sandbox` reads them: headers summed cheaply, the latest run by start time."""

from __future__ import annotations

from producer.manifest import Counts, ManifestHeader, manifest_key, part_key
from sandbox.manifests import ManifestTally, latest_run, read_header, runs_newest_first

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


def test_the_latest_run_is_the_one_started_last_not_the_largest_id() -> None:
    s3 = FakeS3()
    _store(s3, "zz-custom-id", 1_000, 1)
    _store(s3, "20261126T150102Z-3f9a1c", 3_000, 1)
    _store(s3, "aa-started-second", 2_000, 1)
    assert latest_run(s3, BUCKET) == "20261126T150102Z-3f9a1c"
    assert [h.run_id for h in runs_newest_first(s3, BUCKET)] == ["20261126T150102Z-3f9a1c", "aa-started-second", "zz-custom-id"]
    assert latest_run(FakeS3(), BUCKET) is None


def test_read_header() -> None:
    s3 = FakeS3()
    _store(s3, "a", 5, 3, status="running")
    found = read_header(s3, BUCKET, "a")
    assert found is not None and found[1].status == "running" and found[1].expected_stream_records == 4
    assert read_header(s3, BUCKET, "nope") is None
