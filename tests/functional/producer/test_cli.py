"""`python -m producer` end to end: summary on success, one clear line when the sandbox is down."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from typer.testing import CliRunner

from producer.cli import app

from .conftest import Target


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_json_summary(target: Target) -> None:
    env = {"AWS_ENDPOINT_URL": target.settings.endpoint_url, "SANDBOX_PREFIX": target.settings.prefix}
    args = ["--count", "50", "--seed", "1", "--update-ratio", "0.2", "--delete-ratio", "0.1", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["written"], summary["updated"], summary["deleted"]) == (50, 10, 5)
    assert summary["expected_stream_records"] == 65
    assert summary["manifest_uri"].endswith(f"/manifests/{summary['run_id']}.json")


def test_table_summary_and_flag_overrides(target: Target) -> None:
    # GIVEN the environment points elsewhere WHEN flags name the target THEN the flags win
    args = [
        "--count", "5", "--endpoint-url", str(target.settings.endpoint_url),
        "--prefix", target.settings.prefix, "--no-progress",
    ]
    result = CliRunner().invoke(app, args, env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}"})
    assert result.exit_code == 0, result.output
    assert "written (clicks)" in result.output and "run id" in result.output


def test_missing_table_exit_1_with_the_fix(empty_target: Target) -> None:
    env = {"AWS_ENDPOINT_URL": empty_target.settings.endpoint_url, "SANDBOX_PREFIX": empty_target.settings.prefix}
    result = CliRunner().invoke(app, ["--count", "1"], env=env)
    assert result.exit_code == 1
    assert f"table {empty_target.topology.table_name} not found" in result.output
    # the fix works in a `make up` shell (no AWS_ENDPOINT_URL) and names the non-default prefix
    prefix, endpoint = empty_target.settings.prefix, empty_target.settings.endpoint_url
    assert f"(fix: run `sandbox bootstrap apply --prefix {prefix}` " in result.output
    assert f"`AWS_ENDPOINT_URL={endpoint} python -m bootstrap apply --prefix {prefix}`" in result.output


def test_a_reused_run_id_is_refused_and_the_first_run_kept(target: Target) -> None:
    env = {"AWS_ENDPOINT_URL": target.settings.endpoint_url, "SANDBOX_PREFIX": target.settings.prefix}
    first = CliRunner().invoke(app, ["--count", "3", "--run-id", "r2", "--json"], env=env)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["--count", "5", "--run-id", "r2", "--json"], env=env)
    assert again.exit_code == 2
    bucket = target.topology.data_lake_bucket
    assert again.output == (
        f"error: run id r2 is taken: s3://{bucket}/manifests/r2.json holds an earlier run "
        "(fix: pick another --run-id (or leave it out for a new one))\n"
    )
    kept = json.loads(target.aws("s3").get_object(Bucket=bucket, Key="manifests/r2.json")["Body"].read())
    assert (kept["counts"]["clicks"], kept["options"]["count"], kept["status"]) == (3, 3, "complete")
    assert len(target.items()) == 3  # nothing written by the refused run


def test_unreachable_endpoint_one_line_no_traceback() -> None:
    # GIVEN nothing listens on the endpoint WHEN the real command runs THEN one line, exit 1
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    completed = subprocess.run(
        [sys.executable, "-m", "producer", "--count", "5"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert completed.returncode == 1
    assert completed.stderr == (
        f"error: cannot reach {endpoint} (fix: start the sandbox with `make up`, "
        "or point AWS_ENDPOINT_URL / --endpoint-url at a running one)\n"
    )
    assert "Traceback" not in completed.stdout + completed.stderr
