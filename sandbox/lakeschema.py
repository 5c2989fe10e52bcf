"""The tables `sandbox query` offers and their Athena twins: one column list for both.

``clicks`` is consumer A's rows (the row contract of ``functions/_rows.py``) plus the
``dt`` partition; ``raw_events`` is one row per archived stream record; ``deleted`` is a
view of the REMOVE records. The DuckDB tables (``sandbox.lakedb``) and the Athena DDL
(``athena_ddl``, copied into docs/athena.md; a test keeps the two equal) are both made
from the lists below, so a query written against one runs against the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.topology import Topology


@dataclass(frozen=True)
class Column:
    name: str
    duckdb: str  # DuckDB type
    athena: str  # Athena (Hive) type
    doc: str


CLICKS: tuple[Column, ...] = (
    Column("event_id", "VARCHAR", "string", "DynamoDB eventID (one per stream record)"),
    Column("event_name", "VARCHAR", "string", "INSERT (a click), MODIFY (an update) or REMOVE"),
    Column("uuid", "VARCHAR", "string", "the click id (table key)"),
    Column("user", "VARCHAR", "string", "user id"),
    Column("action", "VARCHAR", "string", "ViewHome, Search, AddToCart, Purchase, …"),
    Column("page", "VARCHAR", "string", "page path"),
    Column("session", "VARCHAR", "string", "session id"),
    Column("ts", "BIGINT", "bigint", "epoch ms of the write"),
    Column("run_id", "VARCHAR", "string", "producer run"),
    Column("sequence", "VARCHAR", "string", "DynamoDB stream sequence number"),
    Column("created_at", "DOUBLE", "double", "ApproximateCreationDateTime, epoch s"),
    Column("ttl_delete", "BOOLEAN", "boolean", "a REMOVE done by TTL expiry"),
    Column("kinesis_sequence", "VARCHAR", "string", "Kinesis sequence number"),
    Column("processed_at", "BIGINT", "bigint", "epoch ms consumer A wrote the row"),
)
#: The partition column of ``clicks`` (``clicks/dt=YYYY-MM-DD/``).
CLICKS_PARTITION = Column("dt", "VARCHAR", "string", "UTC day of the first record's Kinesis arrival")

RAW_EVENTS: tuple[Column, ...] = (
    Column("event_id", "VARCHAR", "string", "eventID"),
    Column("event_name", "VARCHAR", "string", "eventName: INSERT, MODIFY, REMOVE"),
    Column("event_source", "VARCHAR", "string", "eventSource (aws:dynamodb)"),
    Column("event_version", "VARCHAR", "string", "eventVersion"),
    Column("aws_region", "VARCHAR", "string", "awsRegion"),
    Column("uuid", "VARCHAR", "string", "the item's key (Keys.<table key>.S)"),
    Column("keys", "JSON", "string", "dynamodb.Keys (DynamoDB JSON)"),
    Column("new_image", "JSON", "string", "dynamodb.NewImage (DynamoDB JSON; null for REMOVE)"),
    Column("old_image", "JSON", "string", "dynamodb.OldImage (DynamoDB JSON; null for INSERT)"),
    Column("sequence_number", "VARCHAR", "string", "dynamodb.SequenceNumber"),
    Column("approximate_creation_time", "TIMESTAMP", "timestamp", "dynamodb.ApproximateCreationDateTime (UTC)"),
    Column("size_bytes", "BIGINT", "bigint", "dynamodb.SizeBytes"),
    Column("stream_view_type", "VARCHAR", "string", "dynamodb.StreamViewType"),
    Column("user_identity_type", "VARCHAR", "string", "userIdentity.type (Service for TTL)"),
    Column("user_identity_principal", "VARCHAR", "string", "userIdentity.principalId (dynamodb.amazonaws.com for TTL)"),
    Column("ttl_delete", "BOOLEAN", "boolean", "a REMOVE done by TTL (functions/_stream.py is_ttl_delete)"),
    Column("s3_key", "VARCHAR", "string", "s3:// URI of the data-lake object holding the record"),
    Column("year", "VARCHAR", "string", "partition: year of the batch's first record"),
    Column("month", "VARCHAR", "string", "partition"),
    Column("day", "VARCHAR", "string", "partition"),
    Column("hour", "VARCHAR", "string", "partition"),
)

#: ``deleted``: every REMOVE record (user deletes and TTL expiry), as a view of raw_events.
DELETED_SELECT = (
    "SELECT event_id, uuid, sequence_number, approximate_creation_time AS deleted_at, ttl_delete AS ttl, "
    "user_identity_type, user_identity_principal, old_image, s3_key, year, month, day, hour "
    "FROM raw_events WHERE event_name = 'REMOVE'"
)

TABLES: dict[str, tuple[Column, ...]] = {"clicks": (*CLICKS, CLICKS_PARTITION), "raw_events": RAW_EVENTS}
VIEWS: dict[str, str] = {"deleted": DELETED_SELECT}


def quoted(name: str) -> str:
    """Identifiers that are keywords in Athena or DuckDB (``user``) are quoted everywhere."""
    return f'"{name}"' if name in {"user"} else name


def duckdb_ddl(table: str) -> str:
    columns = ", ".join(f"{quoted(c.name)} {c.duckdb}" for c in TABLES[table])
    return f"CREATE TABLE {table} ({columns})"


def _hive(columns: tuple[Column, ...]) -> str:
    return ",\n".join(f"  `{c.name}` {c.athena}" for c in columns)


def athena_ddl(topology: Topology, *, since: str = "2026-01-01") -> str:
    """The Athena statements for the same tables (partition projection: no MSCK REPAIR needed)."""
    analytics = f"s3://{topology.analytics_bucket}/clicks/"
    lake = f"s3://{topology.data_lake_bucket}/raw/"
    key, ttl = topology.table_key, topology.ttl_attribute
    raw_struct = (
        "array<struct<eventid:string,eventname:string,eventsource:string,eventversion:string,awsregion:string,"
        "useridentity:struct<type:string,principalid:string>,"
        "dynamodb:struct<approximatecreationdatetime:double,keys:string,newimage:string,oldimage:string,"
        "sequencenumber:string,sizebytes:bigint,streamviewtype:string>>>"
    )
    hour_projection = ",\n".join(
        f"  'projection.{name}.type'='integer', 'projection.{name}.range'='{low},{high}', 'projection.{name}.digits'='{digits}'"
        for name, low, high, digits in (("year", 2026, 2099, 4), ("month", 1, 12, 2), ("day", 1, 31, 2), ("hour", 0, 23, 2))
    )
    return f"""-- consumer A's rows: one JSON object per line under clicks/dt=YYYY-MM-DD/
CREATE EXTERNAL TABLE clicks (
{_hive(CLICKS)}
)
PARTITIONED BY (`dt` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{analytics}'
TBLPROPERTIES (
  'projection.enabled'='true',
  'projection.dt.type'='date', 'projection.dt.format'='yyyy-MM-dd', 'projection.dt.range'='{since},NOW',
  'storage.location.template'='{analytics}dt=${{dt}}/'
);

-- the data lake: one stream event ({{"Records": [...]}}) per object under raw/year=/month=/day=/hour=/
CREATE EXTERNAL TABLE raw_batches (
  `records` {raw_struct}
)
PARTITIONED BY (`year` string, `month` string, `day` string, `hour` string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{lake}'
TBLPROPERTIES (
  'projection.enabled'='true',
{hour_projection},
  'storage.location.template'='{lake}year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}/'
);

-- one row per stream record; ttl_delete as functions/_stream.py is_ttl_delete decides it
CREATE OR REPLACE VIEW raw_events AS
SELECT r.eventid AS event_id, r.eventname AS event_name, r.eventsource AS event_source,
  r.eventversion AS event_version, r.awsregion AS aws_region,
  json_extract_scalar(r.dynamodb.keys, '$.{key}.S') AS uuid,
  r.dynamodb.keys AS keys, r.dynamodb.newimage AS new_image, r.dynamodb.oldimage AS old_image,
  r.dynamodb.sequencenumber AS sequence_number,
  CAST(from_unixtime(r.dynamodb.approximatecreationdatetime) AS timestamp) AS approximate_creation_time,
  r.dynamodb.sizebytes AS size_bytes, r.dynamodb.streamviewtype AS stream_view_type,
  r.useridentity.type AS user_identity_type, r.useridentity.principalid AS user_identity_principal,
  COALESCE(r.eventname = 'REMOVE' AND CASE
    WHEN r.useridentity.type IS NOT NULL
      THEN r.useridentity.type = 'Service' AND r.useridentity.principalid = 'dynamodb.amazonaws.com'
    ELSE CAST(json_extract_scalar(r.dynamodb.oldimage, '$.{ttl}.N') AS double) <= r.dynamodb.approximatecreationdatetime
  END, false) AS ttl_delete,
  "$path" AS s3_key, year, month, day, hour
FROM raw_batches CROSS JOIN UNNEST(records) AS t(r);

-- every REMOVE: user deletions and TTL expiry
CREATE OR REPLACE VIEW deleted AS
{DELETED_SELECT};
"""
