"""One class per AWS Lambda error code, with AWS's HTTP status."""

from __future__ import annotations


class LambdaError(Exception):
    """An error the Lambda API answers with ``x-amzn-ErrorType`` and a JSON message."""

    code = "ServiceException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFound(LambdaError):
    code = "ResourceNotFoundException"
    status = 404


class InvalidParameterValue(LambdaError):
    code = "InvalidParameterValueException"
    status = 400


class ValidationError(LambdaError):
    code = "ValidationException"
    status = 400


class ResourceConflict(LambdaError):
    code = "ResourceConflictException"
    status = 409


class ResourceInUse(LambdaError):
    code = "ResourceInUseException"
    status = 400


class InvalidRequestContent(LambdaError):
    code = "InvalidRequestContentException"
    status = 400


class RequestEntityTooLarge(LambdaError):
    code = "RequestEntityTooLargeException"  # what AWS sends (its API reference says RequestTooLargeException)
    status = 413


class InvalidZipFile(LambdaError):
    code = "InvalidZipFileException"
    status = 400


class UnknownOperation(LambdaError):
    code = "UnknownOperationException"  # no Lambda operation has this method and path
    status = 404


class UnsupportedOperation(LambdaError):
    code = "UnsupportedOperationException"  # not an AWS code: this API is not emulated
    status = 501


def constraint(field: str, value: object, rule: str) -> ValidationError:
    """AWS's wording for a request member that breaks a model constraint."""
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {rule}"
    )
