"""The embedded local AWS: moto's data plane plus our own Lambda service, one endpoint.

``Emulator`` and ``EmulatorConfig`` are imported on first use (PEP 562), so that importing a
light module of the package (``emulator.gc_tuning``, ``emulator.config``) does not import moto.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.config import EmulatorConfig
    from emulator.core import Emulator

__all__ = ["Emulator", "EmulatorConfig"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from emulator.core import Emulator

        return Emulator
    if name == "EmulatorConfig":
        from emulator.config import EmulatorConfig

        return EmulatorConfig
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
