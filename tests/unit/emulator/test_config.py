"""The emulator's settings from the environment."""

from __future__ import annotations

import pytest

from emulator.config import ConfigError, EmulatorConfig


def test_the_minimum_poll_interval_is_read_in_milliseconds_and_0_turns_it_off() -> None:
    assert EmulatorConfig.from_env({}).min_poll_interval == pytest.approx(0.040)
    assert EmulatorConfig.from_env({"EMULATOR_MIN_POLL_INTERVAL_MS": "100"}).min_poll_interval == pytest.approx(0.1)
    assert EmulatorConfig.from_env({"EMULATOR_MIN_POLL_INTERVAL_MS": "0"}).min_poll_interval == 0


@pytest.mark.parametrize("raw", ["fast", "-5"])
def test_a_bad_minimum_poll_interval_is_a_clear_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="EMULATOR_MIN_POLL_INTERVAL_MS"):
        EmulatorConfig.from_env({"EMULATOR_MIN_POLL_INTERVAL_MS": raw})


def test_items_are_kept_on_disk_unless_memory_is_asked_for() -> None:
    assert EmulatorConfig.from_env({}).item_store == "disk"
    assert EmulatorConfig.from_env({"EMULATOR_ITEM_STORE": " Memory "}).item_store == "memory"


def test_an_unknown_item_store_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="EMULATOR_ITEM_STORE='sqlite' is not one of disk, memory"):
        EmulatorConfig.from_env({"EMULATOR_ITEM_STORE": "sqlite"})
