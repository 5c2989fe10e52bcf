"""The one declarative description of the pipeline: names, settings and wiring.

Everything that names a resource (bootstrap, producer, the sandbox CLI, tests)
derives it from here; functions receive theirs through the Lambda environment
that ``FunctionSpec.environment`` builds. Adding consumer N is one module under
``functions/`` plus one ``FunctionSpec`` in ``CONSUMERS`` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bootstrap.settings import LOCAL_ACCOUNT_ID, Settings

#: AWS allows at most two concurrent readers per DynamoDB stream shard.
MAX_TABLE_STREAM_READERS = 2

TTL_ATTRIBUTE = "expires_at"
TABLE_KEY = "uuid"
LAMBDA_RUNTIME = "python3.12"


class SourceKind(StrEnum):
    TABLE_STREAM = "table-stream"
    KINESIS = "kinesis"


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the pipeline and the one mapping that triggers it."""

    key: str  # short stable name: archive, fanout, analytics, http
    module: str  # module under functions/, e.g. "archive" -> functions.archive.handler
    source: SourceKind
    description: str
    batch_size: int = 100
    batching_window_seconds: int = 0
    timeout_seconds: int = 30
    memory_mb: int = 256
    starting_position: str = "TRIM_HORIZON"
    maximum_retry_attempts: int = 10
    bisect_on_error: bool = True
    report_batch_item_failures: bool = True

    @property
    def handler(self) -> str:
        return f"functions.{self.module}.handler"


#: The two readers of the table stream (AWS's limit is two).
TABLE_STREAM_READERS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        key="archive",
        module="archive",
        source=SourceKind.TABLE_STREAM,
        description="Writes every raw DynamoDB stream event to the S3 data lake",
        report_batch_item_failures=False,
        # Not bisected: the archive stores any record as it came, so a failed invocation is a
        # crash, timeout or S3 error that halving cannot isolate, while a retry of the very same
        # cut rewrites the same raw key. Bisected halves got keys of their own: a crash after the
        # final put archived the batch twice (make chaos, worker-kill; functions/archive.py).
        bisect_on_error=False,
    ),
    FunctionSpec(
        key="fanout",
        module="fanout",
        source=SourceKind.TABLE_STREAM,
        description="Puts every DynamoDB stream record into the Kinesis stream",
    ),
)

#: Kinesis consumers: add consumer N here (one line) plus functions/<module>.py.
CONSUMERS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        key="analytics",
        module="consumer_analytics",
        source=SourceKind.KINESIS,
        description="Consumer A: newline-delimited JSON rows in S3 for Athena/QuickSight",
        # Not bisected, like the archive: its objects are keyed by the batch's first and last
        # record, so only a retry of the same cut overwrites instead of duplicating rows; junk
        # is rejected by the function itself, so halving has nothing to isolate.
        bisect_on_error=False,
    ),
    FunctionSpec(
        key="http",
        module="consumer_http",
        source=SourceKind.KINESIS,
        description="Consumer B: POSTs each record to the HTTP sink",
    ),
)


class TopologyError(ValueError):
    """The declared topology breaks an AWS rule (e.g. a third table-stream reader)."""


@dataclass(frozen=True)
class Topology:
    """Concrete resource names and settings for one deployment (prefix, account, region)."""

    settings: Settings
    account_id: str = LOCAL_ACCOUNT_ID
    functions: tuple[FunctionSpec, ...] = field(default=TABLE_STREAM_READERS + CONSUMERS)

    def __post_init__(self) -> None:
        readers = [f for f in self.functions if f.source is SourceKind.TABLE_STREAM]
        if len(readers) > MAX_TABLE_STREAM_READERS:
            names = ", ".join(f.key for f in readers)
            raise TopologyError(
                f"{len(readers)} functions read the table stream ({names}); AWS allows at most "
                f"{MAX_TABLE_STREAM_READERS} readers per DynamoDB stream shard (more would be "
                "throttled). Read from the Kinesis stream instead: add the function to CONSUMERS."
            )
        keys = [f.key for f in self.functions]
        if len(set(keys)) != len(keys):
            raise TopologyError(f"function keys must be unique: {keys}")

    # --- names -----------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return self.settings.prefix

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def table_name(self) -> str:
        return f"{self.prefix}-events"

    @property
    def data_lake_bucket(self) -> str:
        # Bucket names are global on AWS: the account id keeps them unique.
        return f"{self.prefix}-datalake-{self.account_id}"

    @property
    def analytics_bucket(self) -> str:
        return f"{self.prefix}-analytics-{self.account_id}"

    @property
    def kinesis_stream_name(self) -> str:
        return f"{self.prefix}-fanout"

    @property
    def failure_queue_name(self) -> str:
        return f"{self.prefix}-failed-batches"

    @property
    def role_name(self) -> str:
        return f"{self.prefix}-lambda-role"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.role_name}"

    @property
    def kinesis_stream_arn(self) -> str:
        return f"arn:aws:kinesis:{self.region}:{self.account_id}:stream/{self.kinesis_stream_name}"

    @property
    def failure_queue_arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{self.failure_queue_name}"

    @property
    def buckets(self) -> tuple[str, str]:
        return (self.data_lake_bucket, self.analytics_bucket)

    @property
    def ttl_attribute(self) -> str:
        return TTL_ATTRIBUTE

    @property
    def table_key(self) -> str:
        return TABLE_KEY

    def function_name(self, spec: FunctionSpec) -> str:
        return f"{self.prefix}-{spec.key}"

    def function(self, key: str) -> FunctionSpec:
        for spec in self.functions:
            if spec.key == key:
                return spec
        raise KeyError(f"no function {key!r}; known: {', '.join(f.key for f in self.functions)}")

    def function_names(self) -> dict[str, str]:
        """Function key -> deployed function name."""
        return {spec.key: self.function_name(spec) for spec in self.functions}

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The Lambda environment a function gets: every name it needs, from here only
        (functions/_config.py reads these names)."""
        environment = {
            "DATA_LAKE_BUCKET": self.data_lake_bucket,
            "ANALYTICS_BUCKET": self.analytics_bucket,
            "KINESIS_STREAM_NAME": self.kinesis_stream_name,
            "HTTP_SINK_URL": self.settings.http_sink_url,
            "TABLE_KEY": self.table_key,
            "TTL_ATTRIBUTE": self.ttl_attribute,
            "POWERTOOLS_SERVICE_NAME": self.function_name(spec),
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        if spec.module == "consumer_http":
            environment["HTTP_TIMEOUT_SECONDS"] = str(self.settings.http_timeout_seconds)
            environment["HTTP_MAX_ATTEMPTS"] = str(self.settings.http_max_attempts)
            environment["HTTP_LANES"] = str(self.settings.http_lanes)
            environment["HTTP_BATCH_SIZE"] = str(self.settings.consumer_b_batch_size)
        return environment

    @classmethod
    def from_settings(cls, settings: Settings, account_id: str | None = None) -> Topology:
        return cls(settings=settings, account_id=account_id or LOCAL_ACCOUNT_ID)
