"""The functions' IAM role: trusted by Lambda, one inline policy scoped to the pipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from bootstrap.context import Context, Wiring
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import canonical_json, is_error
from bootstrap.topology import Topology
from bootstrap.waiters import wait_until

KIND = "role"
POLICY_SUFFIX = "pipeline"


@dataclass(frozen=True)
class RoleState:
    arn: str
    trust_policy: str  # canonical JSON
    inline_policy: str | None  # canonical JSON of our policy, None when missing


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def pipeline_policy(topology: Topology, partition: str = "aws") -> dict[str, Any]:
    """Least privilege for the four functions and their mappings (reads, writes, logs, DLQ)."""
    region, account, prefix = topology.region, topology.account_id, topology.prefix
    table_arn = f"arn:{partition}:dynamodb:{region}:{account}:table/{topology.table_name}"
    buckets = [f"arn:{partition}:s3:::{name}" for name in topology.buckets]
    log_groups = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{prefix}-*"
    kinesis = f"arn:{partition}:kinesis:{region}:{account}:stream/{topology.kinesis_stream_name}"
    queue = f"arn:{partition}:sqs:{region}:{account}:{topology.failure_queue_name}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTableStream",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                ],
                "Resource": [f"{table_arn}/stream/*"],
            },
            {
                "Sid": "KinesisFanout",
                "Effect": "Allow",
                "Action": [
                    "kinesis:PutRecord",
                    "kinesis:PutRecords",
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:ListStreams",
                    "kinesis:SubscribeToShard",
                ],
                "Resource": [kinesis],
            },
            {
                "Sid": "WriteBuckets",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
                "Resource": buckets + [f"{arn}/*" for arn in buckets],
            },
            {
                "Sid": "FailedBatches",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
                "Resource": [queue],
            },
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_groups, f"{log_groups}:*"],
            },
        ],
    }


def policy_name(topology: Topology) -> str:
    return f"{topology.prefix}-{POLICY_SUFFIX}"


def read_state(ctx: Context) -> RoleState | None:
    iam, name = ctx.client("iam"), ctx.topology.role_name
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except Exception as error:
        if is_error(error, "NoSuchEntity"):
            return None
        raise
    try:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name(ctx.topology))
        inline = canonical_json(document["PolicyDocument"])
    except Exception as error:
        if not is_error(error, "NoSuchEntity"):
            raise
        inline = None
    return RoleState(
        arn=role["Arn"], trust_policy=canonical_json(role["AssumeRolePolicyDocument"]), inline_policy=inline
    )


def _drift(ctx: Context, state: RoleState) -> list[str]:
    drift = []
    if state.trust_policy != canonical_json(trust_policy()):
        drift.append("trust policy")
    if state.inline_policy != canonical_json(pipeline_policy(ctx.topology, ctx.target.partition)):
        drift.append("permissions policy" if state.inline_policy else "permissions policy (missing)")
    return drift


def plan(ctx: Context, state: RoleState | None, wiring: Wiring) -> list[Change]:
    name = ctx.topology.role_name
    if state is None:
        return [Change(KIND, name, Action.CREATE, "trusted by lambda.amazonaws.com")]
    drift = _drift(ctx, state)
    return [Change(KIND, name, Action.UPDATE if drift else Action.NOOP, ", ".join(drift))]


def apply(ctx: Context, state: RoleState | None, wiring: Wiring) -> None:
    iam, name = ctx.client("iam"), ctx.topology.role_name
    policy = json.dumps(pipeline_policy(ctx.topology, ctx.target.partition))
    if state is None:
        ctx.step(f"creating IAM role {name}")
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description=f"Lambda role of the {ctx.topology.prefix} click pipeline",
        )
        iam.put_role_policy(RoleName=name, PolicyName=policy_name(ctx.topology), PolicyDocument=policy)
    else:
        drift = _drift(ctx, state)
        if "trust policy" in drift:
            ctx.step(f"updating the trust policy of {name}")
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust_policy()))
        if any(d.startswith("permissions") for d in drift):
            ctx.step(f"updating the permissions of {name}")
            iam.put_role_policy(RoleName=name, PolicyName=policy_name(ctx.topology), PolicyDocument=policy)
    if state is None:
        wait_until(lambda: _exists(ctx), what=f"IAM role {name}", timeout=ctx.timeouts.iam)


def _exists(ctx: Context) -> tuple[bool, str]:
    found = read_state(ctx)
    return found is not None and found.inline_policy is not None, "present" if found else "missing"


def wire(ctx: Context, state: RoleState | None, wiring: Wiring) -> Wiring:
    return replace(wiring, role_arn=state.arn) if state else wiring


def destroy(ctx: Context, state: RoleState | None) -> list[Change]:
    if state is None:
        return []
    iam, name = ctx.client("iam"), ctx.topology.role_name
    ctx.step(f"deleting IAM role {name}")
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        for attached in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)
    return [Change(KIND, name, Action.DELETE)]
