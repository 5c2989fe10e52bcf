"""The pipeline's Lambda functions: one shared code package, per-function configuration.

Code is compared by CodeSha256 (base64 sha256 of the zip, as Lambda reports it),
so an unchanged package is never uploaded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bootstrap.context import Context, Wiring
from bootstrap.errors import BootstrapError, error_message
from bootstrap.plan import Action, Change
from bootstrap.resources._aws import is_error
from bootstrap.topology import LAMBDA_RUNTIME, FunctionSpec
from bootstrap.waiters import retry_until, wait_until

KIND = "function"
LOG_GROUP_KIND = "log-group"
#: Every function bootstrap creates carries this tag (value: the prefix), so a function the
#: topology no longer has can still be recognised as ours and removed (resources/orphans.py).
PREFIX_TAG = "sandbox:prefix"


@dataclass(frozen=True)
class FunctionConfig:
    """The fields bootstrap manages, as GetFunction reports them."""

    runtime: str
    handler: str
    role: str
    environment: tuple[tuple[str, str], ...]
    timeout: int
    memory: int
    description: str
    code_sha256: str
    state: str = "Active"
    last_update_status: str = "Successful"
    tags: tuple[tuple[str, str], ...] = ()


#: function key -> its configuration (missing key: the function does not exist)
FunctionsState = dict[str, FunctionConfig]


def _config(raw: dict[str, Any], tags: dict[str, str] | None = None) -> FunctionConfig:
    return FunctionConfig(
        runtime=raw.get("Runtime", ""),
        handler=raw.get("Handler", ""),
        role=raw.get("Role", ""),
        environment=tuple(sorted((raw.get("Environment") or {}).get("Variables", {}).items())),
        timeout=int(raw.get("Timeout", 3)),
        memory=int(raw.get("MemorySize", 128)),
        description=raw.get("Description", ""),
        code_sha256=raw.get("CodeSha256", ""),
        # Older endpoints omit the state fields: treat as ready rather than wait forever.
        state=raw.get("State") or "Active",
        last_update_status=raw.get("LastUpdateStatus") or "Successful",
        tags=tuple(sorted((tags or {}).items())),
    )


def prefix_tags(ctx: Context) -> dict[str, str]:
    return {PREFIX_TAG: ctx.topology.prefix}


def desired(ctx: Context, spec: FunctionSpec, wiring: Wiring, code_sha256: str) -> FunctionConfig:
    return FunctionConfig(
        runtime=LAMBDA_RUNTIME,
        handler=spec.handler,
        role=wiring.role_arn,
        environment=tuple(sorted(ctx.topology.environment(spec).items())),
        timeout=spec.timeout_seconds,
        memory=spec.memory_mb,
        description=spec.description,
        code_sha256=code_sha256,
        tags=tuple(sorted(prefix_tags(ctx).items())),
    )


def _read_one(ctx: Context, name: str) -> FunctionConfig | None:
    try:
        found = ctx.client("lambda").get_function(FunctionName=name)
        return _config(found["Configuration"], found.get("Tags"))
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return None
        raise


def read_state(ctx: Context) -> FunctionsState:
    found = {}
    for spec in ctx.topology.functions:
        config = _read_one(ctx, ctx.topology.function_name(spec))
        if config is not None:
            found[spec.key] = config
    return found


def config_drift(want: FunctionConfig, have: FunctionConfig) -> list[str]:
    """Names of differing configuration fields (code excluded), e.g. ``environment (HTTP_SINK_URL)``."""
    drift = []
    for field in ("runtime", "handler", "role", "timeout", "memory", "description"):
        if getattr(want, field) != getattr(have, field):
            drift.append(f"{field} {getattr(have, field)!s:.40} -> {getattr(want, field)!s:.40}")
    if want.environment != have.environment:
        w, h = dict(want.environment), dict(have.environment)
        keys = sorted(k for k in w.keys() | h.keys() if w.get(k) != h.get(k))
        drift.append(f"environment ({', '.join(keys)})")
    return drift


def plan(ctx: Context, state: FunctionsState, wiring: Wiring) -> list[Change]:
    changes = []
    for spec in ctx.topology.functions:
        sha = ctx.package.sha256  # built on first use only: no functions, no package
        name, have = ctx.topology.function_name(spec), state.get(spec.key)
        if have is None:
            changes.append(Change(KIND, name, Action.CREATE, f"{spec.handler}, code {sha[:12]}"))
            continue
        drift = config_drift(desired(ctx, spec, wiring, sha), have)
        if _missing_tags(ctx, have):
            drift.append(f"tag {PREFIX_TAG}")
        if have.code_sha256 != sha:
            drift.append(f"code {have.code_sha256[:12]} -> {sha[:12]}")
        changes.append(Change(KIND, name, Action.UPDATE if drift else Action.NOOP, ", ".join(drift)))
    return changes


def is_ours(ctx: Context, function_arn: str) -> bool:
    """Whether a function carries this prefix's tag (False if it is gone)."""
    try:
        tags = ctx.client("lambda").list_tags(Resource=function_arn).get("Tags") or {}
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return False
        raise
    return tags.get(PREFIX_TAG) == ctx.topology.prefix


def _missing_tags(ctx: Context, have: FunctionConfig) -> dict[str, str]:
    """Our tags a function lacks (created before bootstrap tagged); other tags are left alone."""
    current = dict(have.tags)
    return {k: v for k, v in prefix_tags(ctx).items() if current.get(k) != v}


def _role_not_ready(error: Exception) -> bool:
    """IAM is eventually consistent: a fresh role 'cannot be assumed' for a few seconds on AWS."""
    return is_error(error, "InvalidParameterValueException") and "role" in error_message(error).lower()


def _wait_ready(ctx: Context, name: str) -> None:
    def check() -> tuple[bool, str]:
        raw = ctx.client("lambda").get_function_configuration(FunctionName=name)
        config = _config(raw)
        if config.state == "Failed" or config.last_update_status == "Failed":
            reason = raw.get("StateReason") or raw.get("LastUpdateStatusReason") or "no reason given"
            raise BootstrapError(f"function {name} failed: {reason}", "fix the cause above, then re-run apply")
        ready = config.state == "Active" and config.last_update_status == "Successful"
        return ready, f"State={config.state}, LastUpdateStatus={config.last_update_status}"

    wait_until(check, what=f"function {name} to be Active", timeout=ctx.timeouts.function)


def _configuration_kwargs(want: FunctionConfig) -> dict[str, Any]:
    return {
        "Runtime": want.runtime,
        "Handler": want.handler,
        "Role": want.role,
        "Environment": {"Variables": dict(want.environment)},
        "Timeout": want.timeout,
        "MemorySize": want.memory,
        "Description": want.description,
    }


def apply(ctx: Context, state: FunctionsState, wiring: Wiring) -> None:
    lam = ctx.client("lambda")
    for spec in ctx.topology.functions:
        name, have = ctx.topology.function_name(spec), state.get(spec.key)
        want = desired(ctx, spec, wiring, ctx.package.sha256)
        if have is None:
            ctx.step(f"creating function {name} ({ctx.package.size // 1024} KiB package)")
            retry_until(
                lambda: lam.create_function(
                    FunctionName=name,
                    PackageType="Zip",
                    Code={"ZipFile": ctx.package.data},
                    Publish=False,
                    Tags=prefix_tags(ctx),
                    **_configuration_kwargs(want),
                ),
                retryable=_role_not_ready,
                timeout=ctx.timeouts.iam,
            )
            _wait_ready(ctx, name)
            continue
        _wait_ready(ctx, name)  # an update is refused while a previous one is in progress
        if config_drift(want, have):
            ctx.step(f"updating the configuration of {name}")
            retry_until(
                lambda: lam.update_function_configuration(FunctionName=name, **_configuration_kwargs(want)),
                retryable=_role_not_ready,
                timeout=ctx.timeouts.iam,
            )
            _wait_ready(ctx, name)
        if missing := _missing_tags(ctx, have):
            ctx.step(f"tagging {name} with {PREFIX_TAG}")
            arn = f"arn:aws:lambda:{ctx.topology.region}:{ctx.target.account_id}:function:{name}"
            lam.tag_resource(Resource=arn, Tags=missing)
        if have.code_sha256 != want.code_sha256:
            ctx.step(f"updating the code of {name}")
            lam.update_function_code(FunctionName=name, ZipFile=ctx.package.data, Publish=False)
            _wait_ready(ctx, name)


def _delete_log_group(ctx: Context, name: str) -> bool:
    try:
        ctx.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{name}")
        return True
    except Exception as error:
        if is_error(error, "ResourceNotFoundException"):
            return False
        raise


def destroy(ctx: Context, state: FunctionsState) -> list[Change]:
    changes = []
    for spec in ctx.topology.functions:
        name = ctx.topology.function_name(spec)
        if spec.key in state:
            ctx.step(f"deleting function {name}")
            try:
                ctx.client("lambda").delete_function(FunctionName=name)
            except Exception as error:
                if not is_error(error, "ResourceNotFoundException"):
                    raise
            changes.append(Change(KIND, name, Action.DELETE))
        if _delete_log_group(ctx, name):  # written by the function at run time, not by apply
            changes.append(Change(LOG_GROUP_KIND, f"/aws/lambda/{name}", Action.DELETE))
    return changes
