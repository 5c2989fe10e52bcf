"""functions/_config.py agrees with bootstrap: the names it reads are the ones bootstrap sets,
and its defaults are bootstrap's values (functions cannot import bootstrap, so a test ties them)."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from bootstrap import settings as bootstrap_settings
from bootstrap import topology
from bootstrap.settings import Settings
from bootstrap.topology import Topology
from functions import _config
from functions._rows import to_row
from functions._stream import is_ttl_delete, item_key


def deployed() -> Topology:
    return Topology.from_settings(Settings(endpoint_url="http://127.0.0.1:4566"))


def test_schema_defaults_are_the_topology_constants():
    assert _config.DEFAULT_TABLE_KEY == topology.TABLE_KEY == deployed().table_key
    assert _config.DEFAULT_TTL_ATTRIBUTE == topology.TTL_ATTRIBUTE == deployed().ttl_attribute


def test_http_defaults_are_the_settings_defaults():
    assert _config.DEFAULT_HTTP_TIMEOUT_SECONDS == bootstrap_settings.DEFAULT_HTTP_TIMEOUT_SECONDS
    assert _config.DEFAULT_HTTP_MAX_ATTEMPTS == bootstrap_settings.DEFAULT_HTTP_MAX_ATTEMPTS
    assert _config.DEFAULT_HTTP_LANES == bootstrap_settings.DEFAULT_HTTP_LANES
    assert _config.MAX_HTTP_BATCH_SIZE == bootstrap_settings.MAX_HTTP_BATCH_SIZE


def test_the_sink_takes_the_largest_batch_consumer_b_may_send():
    from sandbox.httpsink_state import MAX_BATCH_RECORDS

    assert MAX_BATCH_RECORDS == _config.MAX_HTTP_BATCH_SIZE


def test_on_real_aws_consumer_b_posts_one_row_per_request_unless_told():
    """There the sink is the user's own webhook, which may have no batch endpoint."""
    def batch_size(env: dict[str, str]) -> str:
        topo = Topology.from_settings(Settings.from_env(env))
        return topo.environment(topo.function("http"))[_config.HTTP_BATCH_SIZE]

    assert batch_size({"SANDBOX_ALLOW_REAL_AWS": "1"}) == "1"
    assert batch_size({"SANDBOX_ALLOW_REAL_AWS": "1", "SANDBOX_HTTP_BATCH_SIZE": "20"}) == "20"
    assert batch_size({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}) == "50"
    assert batch_size({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "SANDBOX_HTTP_BATCH_SIZE": "1"}) == "1"


def test_batches_are_bootstraps_choice_single_posts_the_functions_default():
    """A function deployed without the setting posts one row per request, which any webhook
    takes; bootstrap deploys batches for our own sink."""
    assert _config.DEFAULT_HTTP_BATCH_SIZE == 1
    assert bootstrap_settings.DEFAULT_HTTP_BATCH_SIZE > 1


def test_every_function_gets_the_schema_names_it_reads():
    topo = deployed()
    for spec in topo.functions:
        env = topo.environment(spec)
        assert env[_config.TABLE_KEY] == topo.table_key
        assert env[_config.TTL_ATTRIBUTE] == topo.ttl_attribute
        for name in (_config.DATA_LAKE_BUCKET, _config.ANALYTICS_BUCKET, _config.KINESIS_STREAM_NAME,
                     _config.HTTP_SINK_URL):
            assert env[name]


def test_only_consumer_b_gets_the_http_tuning_from_settings():
    topo = Topology.from_settings(
        Settings.from_env({"SANDBOX_HTTP_TIMEOUT_SECONDS": "7", "SANDBOX_HTTP_MAX_ATTEMPTS": "2", "SANDBOX_HTTP_LANES": "3",
                           "SANDBOX_HTTP_BATCH_SIZE": "1"})
    )
    tuned = {spec.key for spec in topo.functions if _config.HTTP_TIMEOUT_SECONDS in topo.environment(spec)}
    assert tuned == {"http"}
    env = topo.environment(topo.function("http"))
    assert (env[_config.HTTP_TIMEOUT_SECONDS], env[_config.HTTP_MAX_ATTEMPTS], env[_config.HTTP_LANES],
            env[_config.HTTP_BATCH_SIZE]) == ("7", "2", "3", "1")
    defaults = deployed().environment(deployed().function("http"))
    assert (defaults[_config.HTTP_TIMEOUT_SECONDS], defaults[_config.HTTP_MAX_ATTEMPTS], defaults[_config.HTTP_LANES],
            defaults[_config.HTTP_BATCH_SIZE]) == ("5", "4", "8", "50")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SANDBOX_HTTP_TIMEOUT_SECONDS", "soon", "not a whole number"),
        ("SANDBOX_HTTP_TIMEOUT_SECONDS", "0", "out of range"),
        ("SANDBOX_HTTP_MAX_ATTEMPTS", "11", "out of range"),
        ("SANDBOX_HTTP_BATCH_SIZE", "0", "out of range"),
        ("SANDBOX_HTTP_BATCH_SIZE", "501", "out of range"),
        ("SANDBOX_HTTP_BATCH_SIZE", "many", "not a whole number"),
    ],
)
def test_bad_http_tuning_is_a_settings_error(variable, value, message):
    with pytest.raises(bootstrap_settings.SettingsError, match=message) as info:
        Settings.from_env({variable: value})
    assert variable in str(info.value)


def test_functions_read_the_schema_names_from_the_environment(monkeypatch):
    monkeypatch.setenv(_config.TABLE_KEY, "pk")
    monkeypatch.setenv(_config.TTL_ATTRIBUTE, "ttl")
    record = DynamoDBRecord({
        "eventID": "e1", "eventName": "REMOVE",
        "dynamodb": {"ApproximateCreationDateTime": 100, "Keys": {"pk": {"S": "item-1"}},
                     "OldImage": {"pk": {"S": "item-1"}, "ttl": {"N": "99"}}, "SequenceNumber": "1"},
    })
    assert item_key(record) == "item-1"
    assert is_ttl_delete(record)  # no userIdentity (LocalStack): expired by its TTL attribute
    assert to_row(record, None, 0)["uuid"] == "item-1"
