"""The Lambda REST API on the wire: routes, request parsing, AWS-shaped JSON and errors.

No logic here: every route turns a request into one call on the registries and
the result (or a ``LambdaError``) into the response botocore expects.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from emulator.lambda_service.exceptions import (
    InvalidParameterValue,
    InvalidRequestContent,
    LambdaError,
    UnknownOperation,
    UnsupportedOperation,
    constraint,
)
from emulator.lambda_service.exceptions import RequestEntityTooLarge as RequestEntityTooLargeError
from emulator.lambda_service.mappings import MappingRegistry
from emulator.lambda_service.models import FunctionRegistry

log = logging.getLogger("emulator.lambda")

F = "/2015-03-31/functions"
M = "/2015-03-31/event-source-mappings"
URLS = Map(
    [
        Rule(f"{F}", methods=["POST"], endpoint="create_function"),
        Rule(f"{F}/", methods=["GET"], endpoint="list_functions"),
        Rule(f"{F}/<name>", methods=["GET"], endpoint="get_function"),
        Rule(f"{F}/<name>", methods=["DELETE"], endpoint="delete_function"),
        Rule(f"{F}/<name>/configuration", methods=["GET"], endpoint="get_function_configuration"),
        Rule(f"{F}/<name>/configuration", methods=["PUT"], endpoint="update_function_configuration"),
        Rule(f"{F}/<name>/code", methods=["PUT"], endpoint="update_function_code"),
        Rule(f"{F}/<name>/invocations", methods=["POST"], endpoint="invoke"),
        Rule("/2014-11-13/functions/<name>/invoke-async/", methods=["POST"], endpoint="invoke_async"),
        Rule(f"{M}/", methods=["POST"], endpoint="create_event_source_mapping"),
        Rule(f"{M}/", methods=["GET"], endpoint="list_event_source_mappings"),
        Rule(f"{M}/<mapping_uuid>", methods=["GET"], endpoint="get_event_source_mapping"),
        Rule(f"{M}/<mapping_uuid>", methods=["PUT"], endpoint="update_event_source_mapping"),
        Rule(f"{M}/<mapping_uuid>", methods=["DELETE"], endpoint="delete_event_source_mapping"),
        Rule("/2017-03-31/tags/<path:arn>", methods=["GET"], endpoint="list_tags"),
        Rule("/2017-03-31/tags/<path:arn>", methods=["POST"], endpoint="tag_resource"),
        Rule("/2017-03-31/tags/<path:arn>", methods=["DELETE"], endpoint="untag_resource"),
        Rule("/2016-08-19/account-settings/", methods=["GET"], endpoint="get_account_settings"),
    ],
    strict_slashes=False,
    merge_slashes=False,
)


#: AWS's request limit for CreateFunction and UpdateFunctionCode: a 50 MB zip, base64-encoded.
#: Larger bodies are refused from their Content-Length, before they are read.
MAX_REQUEST_BYTES = 69_905_067
#: AWS operations this service does not emulate (501); any other unrouted path is no operation (404).
NOT_EMULATED = re.compile(
    r"^/\d{4}-\d{2}-\d{2}/(functions/[^/]+/(versions|aliases|policy|concurrency|provisioned-concurrency"
    r"|event-invoke-config|url|urls|code-signing-config|runtime-management-config|recursion-config"
    r"|response-streaming-invocations)|layers|code-signing-configs|event-invoke-configs)(/|$)"
)


class LambdaRequest(Request):
    """A request whose body werkzeug itself refuses past AWS's limit (chunked bodies too)."""

    max_content_length = MAX_REQUEST_BYTES


def too_large(endpoint: str) -> LambdaError:
    """AWS's answer to a body over the limit, named by the operation (``create_function`` -> CreateFunction)."""
    operation = "InvokeFunction" if endpoint == "invoke" else "".join(part.title() for part in endpoint.split("_"))
    return RequestEntityTooLargeError(f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def error_response(error: LambdaError) -> Response:
    return json_response(
        {"Type": "User", "message": error.message},
        status=error.status,
        headers={"x-amzn-ErrorType": error.code},
    )


def _page(items: list[Any], request: Request, key: str, render: Callable[[Any], Any]) -> Response:
    """AWS-style pagination with Marker/MaxItems (the marker is an opaque offset)."""
    try:
        start = int(request.args.get("Marker") or 0)
        size = int(request.args.get("MaxItems") or 50)
    except ValueError:
        raise InvalidRequestContent("Marker and MaxItems must be numbers") from None
    if start < 0:
        raise InvalidParameterValue(f"Invalid marker: {start}")
    if not 1 <= size <= 10000:
        raise constraint("maxItems", size, "Member must have value between 1 and 10000")
    body: dict[str, Any] = {key: [render(item) for item in items[start : start + size]]}
    if start + size < len(items):
        body["NextMarker"] = str(start + size)
    return json_response(body)


class LambdaApi:
    """WSGI application for the Lambda API paths."""

    def __init__(self, functions: FunctionRegistry, mappings: MappingRegistry) -> None:
        self.functions = functions
        self.mappings = mappings

    @staticmethod
    def handles(path: str) -> bool:
        return any(path.startswith(p) for p in ("/2015-03-31/", "/2014-11-13/", "/2017-03-31/tags", "/2016-08-19/", "/2019-09-", "/2020-0", "/2021-"))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = LambdaRequest(environ)
        try:
            response = self.dispatch(request)
        except LambdaError as error:
            response = error_response(error)
        except RequestEntityTooLarge:  # werkzeug's, for a chunked body past the limit
            response = error_response(too_large(request.environ.get("lambda.endpoint", "")))
        except HTTPException as error:  # e.g. ClientDisconnected: the body ended before its Content-Length
            response = error_response(InvalidRequestContent(f"Could not read the request body: {error.description}"))
        except (TimeoutError, ConnectionError):
            raise  # the client stalled or went away: werkzeug drops the connection, nobody to answer
        except Exception:  # noqa: BLE001 - the server must keep serving
            log.exception("Lambda API failed on %s %s", request.method, request.path)
            response = error_response(LambdaError("The embedded emulator hit an internal error; see its log."))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = URLS.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except (NotFound, MethodNotAllowed):
            if NOT_EMULATED.match(request.path):
                raise UnsupportedOperation(f"{request.method} {request.path} is not emulated by the embedded Lambda service") from None
            raise UnknownOperation(f"No Lambda operation is {request.method} {request.path[:200]}") from None
        except HTTPException as exc:
            raise InvalidRequestContent(str(exc)) from None
        request.environ["lambda.endpoint"] = endpoint
        if (request.content_length or 0) > MAX_REQUEST_BYTES:
            raise too_large(endpoint)
        return getattr(self, endpoint)(request, **values)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise InvalidRequestContent("Could not parse request body into json") from None
        if not isinstance(body, dict):
            raise InvalidRequestContent("The request body must be a JSON object")
        return body

    # --- functions -----------------------------------------------------------------
    def create_function(self, request: Request) -> Response:
        return json_response(self.functions.create_function(self._body(request)).configuration(), 201)

    def list_functions(self, request: Request) -> Response:
        return _page(self.functions.list_functions(), request, "Functions", lambda s: s.configuration())

    def get_function(self, request: Request, name: str) -> Response:
        state = self.functions.resolve(name, request.args.get("Qualifier"))
        return json_response(
            {
                "Configuration": state.configuration(),
                "Code": {"RepositoryType": "S3", "Location": f"file://{state.code_dir}"},
                "Tags": dict(state.tags),
            }
        )

    def get_function_configuration(self, request: Request, name: str) -> Response:
        return json_response(self.functions.resolve(name, request.args.get("Qualifier")).configuration())

    def update_function_configuration(self, request: Request, name: str) -> Response:
        return json_response(self.functions.update_function_configuration(name, self._body(request)).configuration())

    def update_function_code(self, request: Request, name: str) -> Response:
        return json_response(self.functions.update_function_code(name, self._body(request)).configuration())

    def delete_function(self, request: Request, name: str) -> Response:
        self.functions.delete_function(name, request.args.get("Qualifier"))
        return Response(status=204)

    def invoke(self, request: Request, name: str) -> Response:
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        outcome = self.functions.invoke(name, request.get_data(), invocation_type, request.args.get("Qualifier"))
        if outcome is None:
            return Response(status=202 if invocation_type == "Event" else 204)
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = outcome.function_error
        if request.headers.get("X-Amz-Log-Type") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(outcome.log_tail.encode()[-4096:]).decode()
        return Response(outcome.payload, status=200, headers=headers, content_type="application/json")

    def invoke_async(self, request: Request, name: str) -> Response:
        self.functions.invoke(name, request.get_data(), "Event")
        return json_response({"Status": 202}, 202)

    def list_tags(self, request: Request, arn: str) -> Response:
        return json_response({"Tags": dict(self.functions.resolve(arn).tags)})

    def tag_resource(self, request: Request, arn: str) -> Response:
        tags = self._body(request).get("Tags") or {}
        if not isinstance(tags, dict):
            raise InvalidRequestContent("Tags must be a map of strings")
        self.functions.resolve(arn).tags.update({str(k): str(v) for k, v in tags.items()})
        return Response(status=204)

    def untag_resource(self, request: Request, arn: str) -> Response:
        state = self.functions.resolve(arn)
        for key in request.args.getlist("tagKeys"):
            state.tags.pop(key, None)
        return Response(status=204)

    def get_account_settings(self, request: Request) -> Response:
        count = len(self.functions.list_functions())
        return json_response(
            {
                "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800,
                                 "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000},
                "AccountUsage": {"TotalCodeSize": sum(s.code_size for s in self.functions.list_functions()), "FunctionCount": count},
            }
        )

    # --- event source mappings -----------------------------------------------------
    def create_event_source_mapping(self, request: Request) -> Response:
        return json_response(self.mappings.create_event_source_mapping(self._body(request)), 202)

    def list_event_source_mappings(self, request: Request) -> Response:
        found = self.mappings.list_event_source_mappings(
            request.args.get("EventSourceArn") or None, request.args.get("FunctionName") or None
        )
        return _page(found, request, "EventSourceMappings", lambda m: m.describe())

    def get_event_source_mapping(self, request: Request, mapping_uuid: str) -> Response:
        return json_response(self.mappings.get(mapping_uuid).describe())

    def update_event_source_mapping(self, request: Request, mapping_uuid: str) -> Response:
        return json_response(self.mappings.update_event_source_mapping(mapping_uuid, self._body(request)), 202)

    def delete_event_source_mapping(self, request: Request, mapping_uuid: str) -> Response:
        return json_response(self.mappings.delete_event_source_mapping(mapping_uuid), 202)
