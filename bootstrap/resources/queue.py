"""The SQS queue that receives a description of every batch a mapping gave up on (OnFailure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bootstrap.context import Context, Wiring
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.waiters import wait_until

KIND = "queue"
#: Failed-batch records point at stream data that lives 24 h; keep the pointers 14 days (max).
ATTRIBUTES = {"MessageRetentionPeriod": "1209600"}


@dataclass(frozen=True)
class QueueState:
    url: str
    arn: str
    attributes: dict[str, str]


def read_state(ctx: Context) -> QueueState | None:
    sqs = ctx.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=ctx.topology.failure_queue_name)["QueueUrl"]
    except Exception as error:
        if is_error(error, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        raise
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return QueueState(url=url, arn=attributes["QueueArn"], attributes=attributes)


def _drift(state: QueueState) -> dict[str, str]:
    return {k: v for k, v in ATTRIBUTES.items() if state.attributes.get(k) != v}


def plan(ctx: Context, state: QueueState | None, wiring: Wiring) -> list[Change]:
    name = ctx.topology.failure_queue_name
    if state is None:
        return [Change(KIND, name, Action.CREATE, "OnFailure destination of every mapping")]
    drift = _drift(state)
    detail = ", ".join(f"{k} {state.attributes.get(k)} -> {v}" for k, v in drift.items())
    return [Change(KIND, name, Action.UPDATE if drift else Action.NOOP, detail)]


def apply(ctx: Context, state: QueueState | None, wiring: Wiring) -> None:
    sqs, name = ctx.client("sqs"), ctx.topology.failure_queue_name
    if state is None:
        ctx.step(f"creating SQS queue {name}")
        sqs.create_queue(QueueName=name, Attributes=ATTRIBUTES)
        wait_until(
            lambda: (read_state(ctx) is not None, "not visible yet"),
            what=f"SQS queue {name}",
            timeout=ctx.timeouts.iam,
        )
    elif drift := _drift(state):
        ctx.step(f"updating SQS queue {name}")
        sqs.set_queue_attributes(QueueUrl=state.url, Attributes=drift)


def wire(ctx: Context, state: QueueState | None, wiring: Wiring) -> Wiring:
    return replace(wiring, failure_queue_arn=state.arn) if state else wiring


def destroy(ctx: Context, state: QueueState | None) -> list[Change]:
    if state is None:
        return []
    ctx.step(f"deleting SQS queue {ctx.topology.failure_queue_name}")
    ctx.client("sqs").delete_queue(QueueUrl=state.url)
    return [Change(KIND, ctx.topology.failure_queue_name, Action.DELETE)]
