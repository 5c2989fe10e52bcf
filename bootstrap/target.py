"""Which account and endpoint bootstrap is about to change, asked of STS, never assumed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bootstrap.settings import Settings


@dataclass(frozen=True)
class Target:
    endpoint_url: str | None
    region: str
    account_id: str
    caller_arn: str

    @property
    def real_aws(self) -> bool:
        return self.endpoint_url is None

    @property
    def partition(self) -> str:
        parts = self.caller_arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"

    def describe(self) -> str:
        if self.real_aws:
            return f"REAL AWS account {self.account_id} ({self.caller_arn}), region {self.region}"
        return f"{self.endpoint_url} (account {self.account_id}, region {self.region})"


def resolve_target(settings: Settings, sts: Any) -> Target:
    """Refuse real AWS unless allowed (``require_target``), then ask STS who we are."""
    settings.require_target()
    identity = sts.get_caller_identity()
    return Target(
        endpoint_url=settings.endpoint_url,
        region=settings.region,
        account_id=str(identity["Account"]),
        caller_arn=str(identity.get("Arn", "")),
    )
