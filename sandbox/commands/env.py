"""`sandbox env`: the exports that make the AWS CLI, boto3 and other `sandbox` commands talk to the sandbox.

``SANDBOX_HTTP_SINK_URL`` is exported too: with only ``AWS_ENDPOINT_URL`` set, a
shell elsewhere (another state dir) would not know where the running sandbox's sink is.
"""

from __future__ import annotations

import shlex

import typer

from bootstrap.settings import ENV_HTTP_SINK_URL
from sandbox import target
from sandbox.output import console

#: Credentials LocalStack and the embedded emulator accept (never real ones).
LOCAL_KEY = "test"


def exports() -> dict[str, str]:
    """Variable -> value, aimed at the running sandbox (see ``sandbox.target``)."""
    settings = target.load()
    values = {
        "AWS_ENDPOINT_URL": settings.endpoint_url or "",
        "AWS_ACCESS_KEY_ID": LOCAL_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_KEY,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        ENV_HTTP_SINK_URL: settings.http_sink_url,
    }
    if not settings.endpoint_url:  # real AWS on purpose: never override the user's credentials
        return {"AWS_REGION": settings.region, "AWS_DEFAULT_REGION": settings.region}
    return values


def env() -> None:
    """Print `export` lines for the AWS CLI and boto3: eval "$(sandbox env)"."""
    for name, value in exports().items():
        typer.echo(f"export {name}={shlex.quote(value)}")
    console(stderr=True).print('[dim]# use them: eval "$(sandbox env)"[/dim]')
