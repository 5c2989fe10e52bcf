"""botocore errors become one line that names the fix."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from bootstrap.settings import Settings
from producer.errors import (
    AccessProblem,
    BucketNotFound,
    EndpointUnreachable,
    TableNotFound,
    bootstrap_command,
    translate,
)

LOCAL = Settings(endpoint_url="http://127.0.0.1:4566")


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")


def test_unreachable_endpoint_names_make_up() -> None:
    error = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:4566"), LOCAL)
    assert isinstance(error, EndpointUnreachable)
    assert str(error).startswith("cannot reach http://127.0.0.1:4566 (fix: start the sandbox with `make up`")


def test_missing_table_and_bucket_name_both_ways_to_bootstrap() -> None:
    # a `make up` shell has no AWS_ENDPOINT_URL, where `python -m bootstrap apply` refuses:
    # the fix names `sandbox bootstrap apply`, and the standalone form with the endpoint spelled out
    table = translate(client_error("ResourceNotFoundException"), LOCAL, table="clicks-events")
    bucket = translate(client_error("NoSuchBucket"), LOCAL, bucket="b")
    assert isinstance(table, TableNotFound) and isinstance(bucket, BucketNotFound)
    assert str(table) == (
        "table clicks-events not found at http://127.0.0.1:4566 (fix: run `sandbox bootstrap apply` "
        "(or `AWS_ENDPOINT_URL=http://127.0.0.1:4566 python -m bootstrap apply`))"
    )
    assert str(bucket) == (
        "bucket b not found at http://127.0.0.1:4566 (fix: run `sandbox bootstrap apply` "
        "(or `AWS_ENDPOINT_URL=http://127.0.0.1:4566 python -m bootstrap apply`))"
    )


def test_bootstrap_fix_names_a_prefix_that_is_not_the_default() -> None:
    other = Settings(endpoint_url="http://127.0.0.1:4567", prefix="demo")
    assert bootstrap_command(other) == (
        "`sandbox bootstrap apply --prefix demo` "
        "(or `AWS_ENDPOINT_URL=http://127.0.0.1:4567 python -m bootstrap apply --prefix demo`)"
    )
    assert bootstrap_command(other, "destroy").startswith("`sandbox bootstrap destroy --prefix demo`")
    # real AWS (on purpose): no endpoint to spell out
    aws = Settings(allow_real_aws=True)
    assert bootstrap_command(aws) == "`sandbox bootstrap apply` (or `python -m bootstrap apply`)"


def test_every_translated_error_has_the_fix_shape() -> None:
    errors = [
        translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:4566"), LOCAL),
        translate(EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"), Settings()),
        translate(NoCredentialsError(), Settings()),
        translate(client_error("ResourceNotFoundException"), LOCAL, table="t"),
        translate(client_error("NoSuchBucket"), LOCAL, bucket="b"),
        translate(client_error("AccessDenied"), LOCAL),
        translate(client_error("SomethingNew"), LOCAL),
    ]
    for error in errors:
        assert error is not None and error.fix, error
        assert str(error) == f"{error.message} (fix: {error.fix})"


def test_credentials_problems() -> None:
    assert isinstance(translate(NoCredentialsError(), Settings()), AccessProblem)
    assert isinstance(translate(client_error("UnrecognizedClientException"), LOCAL), AccessProblem)


def test_unknown_errors_still_become_one_line() -> None:
    error = translate(client_error("SomethingNew"), LOCAL)
    assert error is not None and "SomethingNew" in str(error)
    assert translate(ValueError("not botocore"), LOCAL) is None
