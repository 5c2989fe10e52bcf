"""What a producer run is asked to do, validated in one place (CLI and Python API alike)."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from producer.errors import OptionsError
from producer.manifest import check_run_id
from producer.writer import MAX_BATCH

DEFAULT_COUNT = 100
DEFAULT_USERS = 50
DEFAULT_TTL_SECONDS = 86_400
#: Longest a put may wait in a batch buffer when a rate is set; decides batch size.
MAX_BATCH_DELAY = 0.25
_MAX_COUNT = 10_000_000
_MAX_DURATION = 7 * 86_400.0
_MAX_USERS = 1_000_000
_MAX_TTL = 5 * 365 * 86_400  # DynamoDB TTL ignores items more than 5 years off


class WriteMode(StrEnum):
    AUTO = "auto"  # batches when the rate allows, put_item otherwise
    BATCH = "batch"  # always batch_write_item (up to 25)
    SINGLE = "single"  # always put_item


@dataclass(frozen=True)
class ProduceOptions:
    """A run: ``count`` clicks or ``duration`` seconds of clicks, paced to ``rate`` writes/s."""

    count: int | None = None
    duration: float | None = None
    rate: float = 0.0  # writes (puts + updates + deletes) per second; 0 = as fast as possible
    users: int = DEFAULT_USERS
    seed: int | None = None  # None: a random seed (reported, so the run can be repeated)
    update_ratio: float = 0.0
    delete_ratio: float = 0.0
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    run_id: str | None = None  # None: a new sortable id
    write_mode: WriteMode = WriteMode.AUTO

    def validated(self) -> ProduceOptions:
        """Check every value; return a copy with count/seed/run_id resolved. Raises OptionsError."""
        if self.count is not None and self.duration is not None:
            raise OptionsError("use either --count or --duration, not both", "drop one of them")
        _check_range("--count", self.count, 1, _MAX_COUNT, integer=True)
        _check_range("--duration", self.duration, 0.001, _MAX_DURATION)
        _check_range("--rate", self.rate, 0.0, 1e6)
        _check_range("--users", self.users, 1, _MAX_USERS, integer=True)
        _check_range("--update-ratio", self.update_ratio, 0.0, 1.0)
        _check_range("--delete-ratio", self.delete_ratio, 0.0, 1.0)
        _check_range("--ttl-seconds", self.ttl_seconds, 1, _MAX_TTL, integer=True)
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise OptionsError(
                f"--seed must be between 0 and 2**63-1 (got {self.seed})", "use a whole number >= 0, e.g. --seed 7"
            )
        try:
            mode = WriteMode(self.write_mode)
        except ValueError:
            choices = ", ".join(m.value for m in WriteMode)
            raise OptionsError(f"--write-mode must be one of {choices}", "use --write-mode auto") from None
        run_id = check_run_id(self.run_id) if self.run_id is not None else new_run_id()
        return replace(
            self,
            count=DEFAULT_COUNT if self.count is None and self.duration is None else self.count,
            seed=secrets.randbits(32) if self.seed is None else self.seed,
            run_id=run_id,
            write_mode=mode,
        )

    @property
    def batch_size(self) -> int:
        """Puts per request: 25 when unpaced; at rate R, as many as arrive in MAX_BATCH_DELAY."""
        if self.write_mode is WriteMode.SINGLE:
            return 1
        if self.write_mode is WriteMode.BATCH or self.rate == 0:
            return MAX_BATCH
        return max(1, min(MAX_BATCH, int(self.rate * MAX_BATCH_DELAY)))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "write_mode": str(self.write_mode)}


def new_run_id() -> str:
    """A run id that sorts by start time and is unique enough: 20261126T150102Z-3f9a1c."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(3)}"


def _check_range(
    flag: str, value: float | None, low: float, high: float, *, integer: bool = False
) -> None:
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    kind = "a whole number" if integer else "a number"
    fix = f"use {kind} from {_fmt(low)} to {_fmt(high)}"
    if isinstance(value, bool) or not isinstance(value, kinds) or math.isnan(value):
        raise OptionsError(f"{flag} must be {kind} (got {value!r})", fix)
    if not low <= value <= high:
        raise OptionsError(
            f"{flag} must be between {_fmt(low)} and {_fmt(high)} (got {_fmt(value)})", fix
        )


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"
