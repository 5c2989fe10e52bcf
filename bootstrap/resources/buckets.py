"""The data-lake and analytics buckets (emptied, versions included, before deletion)."""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.context import Context, Wiring
from bootstrap.errors import BootstrapError
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.settings import ENV_PREFIX
from bootstrap.waiters import wait_until

KIND = "bucket"


@dataclass(frozen=True)
class BucketsState:
    existing: frozenset[str]


def _exists(ctx: Context, name: str) -> bool:
    try:
        ctx.client("s3").head_bucket(Bucket=name)
        return True
    except Exception as error:
        if is_error(error, "404", "NoSuchBucket", "NotFound"):
            return False
        if is_error(error, "403", "AccessDenied"):
            raise BootstrapError(
                f"bucket {name} exists but belongs to another account",
                f"bucket names are global: pick another {ENV_PREFIX}",
            ) from None
        raise


def read_state(ctx: Context) -> BucketsState:
    return BucketsState(frozenset(n for n in ctx.topology.buckets if _exists(ctx, n)))


def plan(ctx: Context, state: BucketsState, wiring: Wiring) -> list[Change]:
    roles = dict(zip(ctx.topology.buckets, ("data lake", "analytics"), strict=True))
    return [
        Change(KIND, name, Action.NOOP if name in state.existing else Action.CREATE, roles[name])
        for name in ctx.topology.buckets
    ]


def apply(ctx: Context, state: BucketsState, wiring: Wiring) -> None:
    s3 = ctx.client("s3")
    for name in ctx.topology.buckets:
        if name in state.existing:
            continue
        ctx.step(f"creating S3 bucket {name}")
        kwargs = {}
        if ctx.topology.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": ctx.topology.region}
        s3.create_bucket(Bucket=name, **kwargs)
        wait_until(
            lambda n=name: (_exists(ctx, n), "not visible yet"), what=f"bucket {name}", timeout=ctx.timeouts.iam
        )


def empty_bucket(ctx: Context, name: str) -> int:
    """Delete every object version and delete marker; returns how many were removed."""
    s3, removed = ctx.client("s3"), 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(doomed), 1000):
            chunk = doomed[start : start + 1000]
            result = s3.delete_objects(Bucket=name, Delete={"Objects": chunk, "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise BootstrapError(
                    f"could not empty bucket {name}: {first.get('Code')} on {first.get('Key')}",
                    "check the bucket policy / object lock, then re-run destroy",
                )
            removed += len(chunk)
    return removed


def destroy(ctx: Context, state: BucketsState) -> list[Change]:
    changes = []
    for name in sorted(state.existing):
        ctx.step(f"emptying and deleting S3 bucket {name}")
        removed = empty_bucket(ctx, name)
        ctx.client("s3").delete_bucket(Bucket=name)
        changes.append(Change(KIND, name, Action.DELETE, f"{removed} objects removed"))
    return changes
