"""Bootstrap: create, update and delete the click pipeline on any AWS endpoint.

Public API::

    from bootstrap import plan, apply, destroy, Plan, Change, Action, BootstrapError

``bootstrap.plan`` is the function; import the module's names with
``from bootstrap.plan import Change`` (not ``import bootstrap.plan as ...``).
"""

from __future__ import annotations

from bootstrap.api import apply, destroy, plan, target, topology_for
from bootstrap.errors import BootstrapError, ConfigurationError
from bootstrap.plan import Action, Change, Plan

__all__ = [
    "Action",
    "BootstrapError",
    "Change",
    "ConfigurationError",
    "Plan",
    "apply",
    "destroy",
    "plan",
    "target",
    "topology_for",
]
