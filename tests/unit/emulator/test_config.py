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
