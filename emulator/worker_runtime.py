"""The code that runs inside a function's worker process (the "Lambda runtime").

Started as ``python -I -S -u worker_runtime.py REQ_FD RESP_FD CODE_DIR LIBS_DIR``:
isolated, no site-packages, so the handler sees only its own package and the
libraries the AWS Python runtime provides (boto3, botocore, ...), as on Lambda.
Speaks one JSON object per line: requests on REQ_FD, responses on RESP_FD;
stdout/stderr belong to the handler and go to the function's log.
Imports nothing but the standard library before the handler's path is set.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from typing import Any


LOG_TAIL_BYTES = 4096  # what Invoke returns with LogType=Tail


class _Tee:
    """Writes through to the real stream and keeps the current invocation's output tail."""

    tail: list[str] = []

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        _Tee.tail.append(text)
        if len(_Tee.tail) > 256:
            _Tee.tail[:] = ["".join(_Tee.tail)[-LOG_TAIL_BYTES:]]
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    @classmethod
    def take(cls) -> str:
        text = "".join(cls.tail)[-LOG_TAIL_BYTES:]
        cls.tail.clear()
        return text


class LambdaContext:
    """The context object handlers receive (the attributes AWS documents)."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id: str = request["request_id"]
        self.function_name: str = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version: str = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn: str = request["invoked_arn"]
        self.memory_limit_in_mb: int = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name: str = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name: str = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms: int = request["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    # Only the user's frames, as on AWS: not this runtime's nor importlib's.
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != __file__ and not f.filename.startswith("<frozen importlib")]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(frames),
    }


def _load_handler(spec: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        return None, {
            "errorMessage": f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
            "errorType": "Runtime.MalformedHandlerName",
            "stackTrace": [],
        }
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # noqa: BLE001 - reported to the caller exactly like AWS
        kind = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else type(exc).__name__
        error = _error(exc, kind)
        error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
        return None, error
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "errorType": "Runtime.HandlerNotFound",
            "stackTrace": [],
        }
    return handler, None


def _send(stream: Any, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message, separators=(",", ":")) + "\n")
    stream.flush()


def main() -> None:
    req_fd, resp_fd, code_dir, libs_dir = sys.argv[1:5]
    sys.path[:0] = [code_dir, libs_dir]
    os.chdir(code_dir)
    requests = os.fdopen(int(req_fd), "r", encoding="utf-8")
    responses = os.fdopen(int(resp_fd), "w", encoding="utf-8")
    sys.stdout, sys.stderr = _Tee(sys.stdout), _Tee(sys.stderr)  # before the handler's loggers bind them
    handler, init_error = _load_handler(os.environ.get("_HANDLER", ""))
    _send(responses, {"status": "ready"} if init_error is None else {"status": "init_error", "error": init_error})
    for line in requests:
        request = json.loads(line)
        if init_error is not None:
            _send(responses, {"status": "error", "error": init_error})
            continue
        _Tee.take()
        response = _invoke(handler, request)
        response["log_tail"] = _Tee.take()
        _send(responses, response)


def _invoke(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(request)
    try:
        result = handler(request["event"], context)
    except Exception as exc:  # noqa: BLE001 - the runtime reports every handler error
        traceback.print_exc()
        error = _error(exc)
        error["requestId"] = context.aws_request_id
        return {"status": "error", "error": error}
    except SystemExit as exc:
        sys.stdout.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        return {"status": "ok", "payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        error = _error(exc, "Runtime.MarshalError")
        error["errorMessage"] = f"Unable to marshal response: {exc}"
        return {"status": "error", "error": error}


if __name__ == "__main__":
    main()
