"""What an aborted run could not store: the in-flight writes and the ids no stored header counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from bootstrap.settings import Settings
from producer.errors import ProducerError
from producer.events import Click
from producer.manifest import ManifestHeader, ManifestWriter
from producer.plan import Op, OpKind
from producer.unsaved import Unsaved


class FlakyS3:
    """Stores objects until ``down`` (every key) or ``down_for`` (one key) says to refuse
    like a vanished endpoint."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False
        self.down_for = ""

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> None:  # noqa: N803 (boto3's names)
        if self.down or Key == self.down_for:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        self.objects[Key] = Body


def op(kind: OpKind, n: int) -> Op:
    return Op(kind, Click(seq=n, uuid=f"id-{n}", user="u", action="ViewHome", page="/", session="s"))


def test_in_flight_writes_are_unknown_only_when_an_answer_was_lost() -> None:
    maybe = Unsaved.of("r", [op(OpKind.PUT, 1)], True, {})
    refused = Unsaved.of("r", [op(OpKind.UPDATE, 2)], False, {})
    assert (maybe.unknown, maybe.not_written) == ([{"uuid": "id-1", "op": "put"}], [])
    assert (refused.unknown, refused.not_written) == ([], [{"uuid": "id-2", "op": "update"}])


def test_the_file_is_written_whole_and_the_summary_counts_it(tmp_path: Path) -> None:
    settings = Settings(endpoint_url="http://127.0.0.1:1", state_dir=str(tmp_path))
    unsaved = Unsaved.of("r", [op(OpKind.PUT, 1)], True, {"clicks": ["id-7", "id-8"], "updated": [], "deleted": []})
    path = unsaved.store(settings)
    assert path == tmp_path / "runs" / "r.unsaved.json"
    assert json.loads(path.read_text())["acknowledged"]["clicks"] == ["id-7", "id-8"]
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    text = unsaved.summary(path, manifest_saved=False)
    assert "1 write(s) of unknown outcome" in text and "2 acknowledged write(s)" in text and str(path) in text


@pytest.mark.parametrize("refused", ["every request", "only the header"])
def test_ids_no_stored_header_counts_are_unsaved(refused: str) -> None:
    s3 = FlakyS3()
    header = ManifestHeader(run_id="r", table="t", seed=1)
    writer = ManifestWriter(Settings(endpoint_url="http://127.0.0.1:1"), "b", header, s3=s3, part_max_ids=1)
    writer.add("clicks", "id-1")
    writer.save()
    assert writer.unsaved() == {"clicks": [], "updated": [], "deleted": []}
    writer.add("clicks", "id-2")
    writer.add("updated", "id-1")
    if refused == "every request":
        s3.down = True
    else:
        s3.down_for = "manifests/r.json"  # the part lands, the header that would count it does not
    with pytest.raises(ProducerError):
        writer.save(final=True)
    assert writer.unsaved() == {"clicks": ["id-2"], "updated": ["id-1"], "deleted": []}
