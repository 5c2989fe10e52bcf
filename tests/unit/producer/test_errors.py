"""botocore errors become one line that names the fix."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from bootstrap.settings import Settings
from producer.errors import (
    AccessProblem,
    BucketNotFound,
    EndpointUnreachable,
    TableNotFound,
    translate,
)

LOCAL = Settings(endpoint_url="http://127.0.0.1:4566")


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")


def test_unreachable_endpoint_names_make_up() -> None:
    error = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:4566"), LOCAL)
    assert isinstance(error, EndpointUnreachable)
    assert str(error).startswith("cannot reach http://127.0.0.1:4566: start the sandbox with `make up`")


def test_missing_table_and_bucket_name_bootstrap() -> None:
    table = translate(client_error("ResourceNotFoundException"), LOCAL, table="clicks-events")
    bucket = translate(client_error("NoSuchBucket"), LOCAL, bucket="b")
    assert isinstance(table, TableNotFound) and isinstance(bucket, BucketNotFound)
    assert str(table) == (
        "table clicks-events not found at http://127.0.0.1:4566: run `python -m bootstrap apply`"
    )
    assert "run `python -m bootstrap apply`" in str(bucket)


def test_credentials_problems() -> None:
    assert isinstance(translate(NoCredentialsError(), Settings()), AccessProblem)
    assert isinstance(translate(client_error("UnrecognizedClientException"), LOCAL), AccessProblem)


def test_unknown_errors_still_become_one_line() -> None:
    error = translate(client_error("SomethingNew"), LOCAL)
    assert error is not None and "SomethingNew" in str(error)
    assert translate(ValueError("not botocore"), LOCAL) is None
