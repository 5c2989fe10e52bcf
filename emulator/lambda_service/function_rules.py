"""AWS's validation rules for function definitions (names, roles, settings, environment)."""

from __future__ import annotations

import json
import re
from typing import Any

from emulator.lambda_service.exceptions import InvalidParameterValue, constraint

FUNCTION_NAME_PATTERN = re.compile(
    r"^(arn:(aws[a-zA-Z-]*)?:lambda:)?((?P<region>[a-z]{2}(-gov)?-[a-z]+-\d{1}):)?"
    r"((?P<account>\d{12}):)?(function:)?(?P<name>[a-zA-Z0-9-_.]+)(:(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$"
)
#: CreateFunction's own pattern: no dots, so a name can never be "." or ".." (it names a directory).
CREATE_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
ROLE_PATTERN = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
RESERVED_ENV = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)


ENV_KEY_PATTERN = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_])+$")
# AWS's pattern is [^\s]+; control characters are refused too: the handler and runtime go into the
# worker's environment, where a NUL byte cannot be passed (the invocation would fail in the server).
HANDLER_PATTERN = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}$")
RUNTIME_PATTERN = re.compile(r"^python3\.\d{1,2}$")
ARCHITECTURES = ("x86_64", "arm64")
MAX_NAME_LENGTH = 64
#: AWS's quota on a function's environment, measured as the variables' compact JSON. Without it a
#: variable over the kernel's 128 KiB per-string limit made every worker start (every invoke) fail.
MAX_ENVIRONMENT_BYTES = 4096


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_types(params: dict[str, Any]) -> None:
    """Shapes the request model fixes (AWS rejects them before any rule is applied)."""
    for key, kind in (("FunctionName", str), ("Role", str), ("Handler", str), ("Runtime", str), ("Description", str),
                      ("Code", dict), ("Environment", dict), ("Tags", dict), ("Architectures", list), ("RevisionId", str)):
        if params.get(key) is not None and not isinstance(params[key], kind):
            raise InvalidParameterValue(f"{key} must be a {'map' if kind is dict else kind.__name__}")
    variables = (params.get("Environment") or {}).get("Variables")
    if variables is not None:
        if not isinstance(variables, dict):
            raise InvalidParameterValue("Environment.Variables must be a map of strings to strings")
        for key, value in variables.items():
            if not ENV_KEY_PATTERN.match(str(key)) or not isinstance(value, str) or "\x00" in value:
                raise InvalidParameterValue(
                    f"Lambda was unable to configure your environment variables: {key!r} must match "
                    "[a-zA-Z]([a-zA-Z0-9_])+ and its value must be a string without NUL bytes"
                )
    tags = params.get("Tags") or {}
    if any(not isinstance(k, str) or not isinstance(v, str) for k, v in tags.items()):
        raise InvalidParameterValue("Tags must map strings to strings")
    for architecture in params.get("Architectures") or []:
        if architecture not in ARCHITECTURES:
            raise constraint("architectures", params["Architectures"], "Member must satisfy enum value set: [x86_64, arm64]")
    handler = params.get("Handler")
    if handler is not None and not HANDLER_PATTERN.match(handler):
        raise constraint("handler", handler, "Member must satisfy regular expression pattern: [^\\s]+")


def check_settings(params: dict[str, Any]) -> None:
    """AWS's rules for Timeout, MemorySize, Runtime, Role and Environment."""
    check_types(params)
    timeout = params.get("Timeout")
    if timeout is not None and not (_is_int(timeout) and 1 <= timeout <= 900):
        raise constraint("timeout", timeout, "Member must have value less than or equal to 900")
    memory = params.get("MemorySize")
    if memory is not None and not (_is_int(memory) and 128 <= memory <= 10240):
        raise constraint("memorySize", memory, "Member must have value greater than or equal to 128")
    runtime = params.get("Runtime")
    if runtime is not None and not RUNTIME_PATTERN.match(str(runtime)):
        raise InvalidParameterValue(
            f"The runtime parameter of {runtime} is not supported by the embedded emulator "
            "(it runs Python functions only)."
        )
    role = params.get("Role")
    if role is not None and not ROLE_PATTERN.match(str(role)):
        raise constraint("role", role, "Member must satisfy regular expression pattern: "
                         "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")
    variables = (params.get("Environment") or {}).get("Variables") or {}
    if len(json.dumps(variables, separators=(",", ":")).encode()) > MAX_ENVIRONMENT_BYTES:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit."
        )
    reserved = sorted(set(variables) & RESERVED_ENV)
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )


def check_revision(revision_id: str, params: dict[str, Any]) -> None:
    """Optimistic locking: a RevisionId in the request must be the current one."""
    wanted = params.get("RevisionId")
    if wanted and wanted != revision_id:
        raise InvalidParameterValue("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
