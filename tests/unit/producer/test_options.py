"""Option validation (shared by the CLI and the Python API) and derived settings."""

from __future__ import annotations

import re

import pytest

from producer.errors import OptionsError
from producer.options import DEFAULT_COUNT, ProduceOptions, WriteMode


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ProduceOptions(count=0), "--count must be between 1 and"),
        (ProduceOptions(count=5, duration=1.0), "either --count or --duration"),
        (ProduceOptions(duration=0), "--duration must be between"),
        (ProduceOptions(rate=-1), "--rate must be between 0 and"),
        (ProduceOptions(users=0), "--users must be between 1 and"),
        (ProduceOptions(update_ratio=1.5), "--update-ratio must be between 0 and 1 (got 1.5)"),
        (ProduceOptions(delete_ratio=-0.1), "--delete-ratio must be between 0 and 1"),
        (ProduceOptions(ttl_seconds=0), "--ttl-seconds must be between 1 and"),
        (ProduceOptions(count=2.5), "--count must be a whole number"),  # type: ignore[arg-type]
        (ProduceOptions(rate=float("nan")), "--rate must be a number"),
        (ProduceOptions(seed=-1), "--seed must be between 0 and"),
        (ProduceOptions(run_id="../etc"), "run id '../etc' is not valid"),
        (ProduceOptions(write_mode="turbo"), "--write-mode must be one of auto, batch, single"),  # type: ignore[arg-type]
    ],
)
def test_bad_options_name_the_flag(options: ProduceOptions, message: str) -> None:
    with pytest.raises(OptionsError, match=re.escape(message)) as caught:
        options.validated()
    assert caught.value.exit_code == 2


def test_defaults_are_resolved() -> None:
    options = ProduceOptions().validated()
    assert options.count == DEFAULT_COUNT
    assert options.seed is not None
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", options.run_id or "")
    assert ProduceOptions(duration=3).validated().count is None


def test_explicit_values_are_kept() -> None:
    options = ProduceOptions(count=5, seed=42, run_id="my-run").validated()
    assert (options.count, options.seed, options.run_id) == (5, 42, "my-run")


@pytest.mark.parametrize(
    ("rate", "mode", "batch"),
    [
        (0, WriteMode.AUTO, 25),  # unpaced: full batches
        (1000, WriteMode.AUTO, 25),
        (20, WriteMode.AUTO, 5),  # 20/s x 0.25 s: a put waits at most a quarter second
        (5, WriteMode.AUTO, 1),  # too slow to batch: put_item
        (5, WriteMode.BATCH, 25),
        (0, WriteMode.SINGLE, 1),
    ],
)
def test_batch_size_follows_the_rate(rate: float, mode: WriteMode, batch: int) -> None:
    assert ProduceOptions(rate=rate, write_mode=mode).validated().batch_size == batch
