"""The embedded local AWS: moto's data plane plus our own Lambda service, one endpoint."""

from emulator.config import EmulatorConfig
from emulator.core import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
