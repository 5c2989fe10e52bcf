"""Deploying test-only functions to the emulator with plain boto3."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

LAMBDAS = Path(__file__).with_name("lambdas")


def package(*modules: str) -> bytes:
    """A deployment zip holding the named modules of tests/functional/emulator/lambdas/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for module in modules:
            archive.write(LAMBDAS / f"{module}.py", f"{module}.py")
    return buffer.getvalue()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ensure_role(iam: Any) -> str:
    name = "emulator-test-role"
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))["Role"]["Arn"]


def create_function(aws: Any, name: str, handler: str, modules: tuple[str, ...], env: dict[str, str] | None = None, timeout: int = 30) -> dict[str, Any]:
    return aws("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ensure_role(aws("iam")),
        Handler=handler,
        Code={"ZipFile": package(*modules)},
        Environment={"Variables": env or {}},
        Timeout=timeout,
    )


def create_stream_table(aws: Any, name: str, view_type: str = "NEW_AND_OLD_IMAGES") -> str:
    """A table keyed by ``pk`` with a stream; returns the stream ARN."""
    table = aws("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )
    return table["TableDescription"]["LatestStreamArn"]


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def records_when(path: Path, count: int) -> list[dict[str, Any]] | None:
    """The recorded entries once at least ``count`` arrived (for wait_until), else None."""
    entries = read_records(path)
    return entries if len(entries) >= count else None
