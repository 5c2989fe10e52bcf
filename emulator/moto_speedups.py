"""Work moto repeats on every request with the same answer each time, done once.

Measured in the endpoint under an update_item loop (per request, wall time in-process):

- ``method_names_from_class``: moto's ``call_action`` lists the handler class's methods
  with ``inspect.getmembers`` on every request, to check that the action exists: 39 µs for
  DynamoDB, 60 µs for S3. A class's methods do not change once the patches are in, so the
  list is computed once per class (a frozenset: ``call_action`` only asks ``in``).
- ``UpdateExpressionParser.make``: an UpdateExpression is tokenized and parsed twice per
  update_item (the response layer parses it to find the names and values it uses, the
  backend again to validate): 2 x 122 µs. The tree depends on the expression text only,
  and nothing edits it (the validator works on its own deep copy), so trees are kept per
  text, the most recent ``EXPRESSIONS_KEPT`` of them. An expression that does not parse
  raises each time, as before (errors are not kept).
"""

from __future__ import annotations

import functools
from typing import Any

import moto.core.responses as moto_responses
from moto.core.utils import method_names_from_class
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

#: Distinct UpdateExpression texts whose parsed trees are kept (least recently used go first).
EXPRESSIONS_KEPT = 512

_original_make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]


@functools.cache
def _method_names(clazz: type) -> frozenset[str]:
    return frozenset(method_names_from_class(clazz))


@functools.lru_cache(maxsize=EXPRESSIONS_KEPT)
def _parsed(expression: str) -> Any:
    return _original_make(UpdateExpressionParser, expression)


def _make(cls: type, expression_str: str) -> Any:
    if cls is not UpdateExpressionParser:  # a subclass parses its own way
        return _original_make(cls, expression_str)
    return _parsed(expression_str)


def install() -> None:
    """Idempotent: both replacements call moto's originals, taken at import."""
    moto_responses.method_names_from_class = _method_names  # type: ignore[assignment]
    UpdateExpressionParser.make = classmethod(_make)  # type: ignore[method-assign, assignment]
