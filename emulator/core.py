"""The Emulator: wires the endpoint, the Lambda service and the background work together.

Usable as a context manager that cleans up if start fails: workers stopped (their
process groups killed), threads joined, the temp dir removed.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from emulator.config import EmulatorConfig
from emulator.destinations import DestinationSender
from emulator.lambda_service.exceptions import ResourceNotFound
from emulator.lambda_service.mappings import MappingRegistry
from emulator.lambda_service.models import FunctionRegistry
from emulator.lambda_service.responses import LambdaApi
from emulator.logs import LogHub
from emulator.moto_adapter import MotoAdapter
from emulator.change_signal import ChangeSignal
from emulator.persistence import Persistence, Snapshotter, apply_mappings, apply_moto_and_functions
from emulator.pollers import PollerDeps
from emulator.runner import StreamMappingRunner
from emulator.retention import Retention
from emulator.server import EndpointApp, EndpointServer
from emulator.ttl import TtlSweeper

log = logging.getLogger("emulator")

#: What the AWS Lambda Python runtime provides besides the standard library.
RUNTIME_LIBRARIES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def build_runtime_libs(target: Path) -> str:
    """A directory exposing only the runtime's libraries (symlinks into this environment)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if spec.submodule_search_locations else origin
        link = target / source.name
        if not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    return str(target)


class Emulator:
    """An embedded local AWS endpoint: moto's data plane plus our Lambda service."""

    def __init__(self, config: EmulatorConfig | None = None, persistence: Persistence | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.persistence = persistence
        self.snapshotter: Snapshotter | None = None
        self._root: Path | None = None
        self._serving = False
        self._client_lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> Emulator:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        cfg = self.config
        self._root = Path(tempfile.mkdtemp(prefix="emulator-"))
        self.adapter = MotoAdapter(cfg.account_id, cfg.item_store)
        self.signal = ChangeSignal()
        self.adapter.add_listener(self.signal.notify)
        self.adapter.add_listener(self.adapter.touch)
        self.logs = LogHub(self.adapter, cfg.region, cfg.log_dir, cfg.log_events_kept)
        self.functions = FunctionRegistry(
            account_id=cfg.account_id,
            region=cfg.region,
            root=self._root / "functions",
            libs_dir=build_runtime_libs(self._root / "runtime"),
            endpoint_url=lambda: self.endpoint_url,
            logs=self.logs,
            max_workers=cfg.max_workers_per_function,
            role_exists=self.adapter.role_exists,
        )
        deps = PollerDeps(
            adapter=self.adapter,
            signal=self.signal,
            invoke=self._invoke_for_poller,
            destinations=DestinationSender(lambda: self.endpoint_url, cfg.region),
            role_of=self._role_of,
            prewarm=self.functions.prewarm,
            stream_reader=cfg.stream_reader,
            streams_client=self._streams_client,
            min_poll_interval=cfg.min_poll_interval,
        )
        self.mappings = MappingRegistry(self.functions, self.adapter, lambda m: StreamMappingRunner(m, deps))
        self.ttl = TtlSweeper(self.adapter, cfg.ttl_interval)
        app = EndpointApp(self.adapter, LambdaApi(self.functions, self.mappings), cfg.account_id, self.ttl.sweep)
        self.server = EndpointServer(app, cfg.host, cfg.port)
        self.retention = Retention(self.adapter, self.mappings.all, cfg.retention_seconds, cfg.min_retention_seconds)
        saved = self.persistence
        if saved is not None and saved.loaded is not None:
            apply_moto_and_functions(saved.loaded, self.adapter, self.functions)
        self.server.start()
        self._serving = True
        if saved is not None:
            if saved.loaded is not None:
                apply_mappings(saved.loaded, self.mappings)
            self.snapshotter = Snapshotter(saved.path, self.adapter, self.functions, self.mappings, saved.interval or cfg.snapshot_interval)
            self.snapshotter.start()
        self.logs.start()
        self.ttl.start()
        self.retention.start()

    def _streams_client(self) -> object:
        """A DynamoDB Streams client for this endpoint (only the HTTP stream reader uses it)."""
        with self._client_lock:
            return self._make_streams_client()

    def _make_streams_client(self) -> object:
        if getattr(self, "_streams", None) is None:
            import boto3
            from botocore.config import Config

            self._streams = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test").client(
                "dynamodbstreams", endpoint_url=self.endpoint_url, region_name=self.config.region,
                config=Config(retries={"total_max_attempts": 2}, max_pool_connections=20))
        return self._streams

    def _invoke_for_poller(self, function_name: str, event: dict) -> object:
        return self.functions.run(self.functions.resolve(function_name), event)

    def stop(self) -> None:
        """Stop everything; safe to call twice or after a failed start."""
        for step in ("ttl", "retention"):
            part = getattr(self, step, None)
            if part is not None:
                part.stop()
        if getattr(self, "mappings", None) is not None:
            self.mappings.stop_all()
        if self.snapshotter is not None:
            snapshotter, self.snapshotter = self.snapshotter, None
            try:  # the last word on disk: pollers stopped, writes refused from here on
                snapshotter.stop(final=True)
            except Exception:  # noqa: BLE001 - the periodic snapshot stays; stopping must go on
                log.exception("the final snapshot failed; the previous one is kept")
        if getattr(self, "functions", None) is not None:
            self.functions.close()
        if getattr(self, "mappings", None) is not None:
            self.mappings.join_all()
        if getattr(self, "_serving", False):
            self.server.stop()
            self._serving = False
        if getattr(self, "logs", None) is not None:
            self.logs.stop()
        if getattr(self, "adapter", None) is not None:
            self.adapter.remove_listener(self.signal.notify)
            self.adapter.remove_listener(self.adapter.touch)
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # --- facts for callers ------------------------------------------------------------
    def _role_of(self, name: str) -> str:
        """A function's role, for Kinesis records' invokeIdentityArn; "" once the function is deleted
        (the poller then reports "PROBLEM: Function not found" when it invokes, instead of failing)."""
        try:
            return self.functions.resolve(name).role
        except ResourceNotFound:
            return ""

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def endpoint_url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host}:{self.server.port}"

    @property
    def temp_dir(self) -> str | None:
        return str(self._root) if self._root else None

    def sweep_ttl_now(self) -> int:
        """Delete expired items now (tests and demos); returns how many were deleted."""
        return self.ttl.sweep()

    def trim_streams_now(self, min_retention_seconds: float = 0.0) -> int:
        """Trim streams now; by default even records read a moment ago (tests)."""
        return self.retention.trim(min_retention_seconds)
