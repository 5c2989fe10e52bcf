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
- ``Item.__init__``: moto builds an item's attributes one by one into a ``LimitedSizeDict``,
  whose ``__setitem__`` adds up the size of every attribute already there before each new
  one (the 400 KB item limit): quadratic in the attributes, 36 sizes and 36 key encodings
  for a click's 8, and 36 % of a BatchWriteItem's CPU (cProfile, 5,000 inserts). Sizes are
  never negative, so checking the whole item once is the same check; later edits
  (``update_item``) still go through moto's ``__setitem__``.
- moto's request parser (``moto.core.parse``) walks a JSON request along the service model.
  For each structure it tried every member the model names (an AttributeValue has ten, a
  value carries one), and for each node it found its handler by building the method name.
  Here a structure reads only the members the request carries (in the model's order, as
  before), handlers are looked up once per parser class and type, and a value whose type
  has none (a string) is taken as it is without a call: 27 % of a BatchWriteItem's CPU
  before, the same parsed parameters after.
- moto's response serializer reads each member of the result through an attribute picker
  that tries a chain of alias rules (an explicit alias, the shape's name, the key, its
  snake_case form, prefixes...) and builds a context object per member: 54 % of a
  PutRecords of 50 records went to serializing its answer. For a plain dict the rules read
  only the member's shape and key (a dict has no alias table, its class is always ``dict``),
  so the keys they try are worked out once per shape and key and tried in the same order,
  without a context per member (a result with a response transformer goes moto's way).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
from moto.core.parse import BaseJSONParser, RequestParser
from moto.core.serialize import DEFAULT_ALIAS_PROVIDERS, AttributePickerContext, ResponseSerializer, XFormedAttributePicker
from moto.core.utils import MISSING, method_names_from_class
from moto.core.utils import get_value as moto_get_value
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

#: Distinct UpdateExpression texts whose parsed trees are kept (least recently used go first).
EXPRESSIONS_KEPT = 512

_original_make = UpdateExpressionParser.make.__func__  # type: ignore[attr-defined]
_original_item_init = Item.__init__


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


#: moto's LimitedSizeDict limit (AWS's is 400 KB; moto measured AWS refusing between 409 and 410 KB).
ITEM_SIZE_LIMIT = 405_000


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    values = {key: DynamoType(value) for key, value in attrs.items()}
    if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    limited = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(limited, values)  # checked above, as a whole
    self.attrs = limited


_original_parse_structure = BaseJSONParser._parse_structure
_original_parse_shape = RequestParser._parse_shape
_original_parse_list = RequestParser._parse_list
_original_parse_map = RequestParser._parse_map
_handlers: dict[tuple[type, str], Callable[..., Any] | None] = {}


@functools.cache
def _members_on_the_wire(shape: Any) -> dict[str, tuple[int, str, str, Any]]:
    """A structure's members by the name they have in a request: (model order, name, wire name, shape)."""
    return {wire: (index, name, wire, member) for index, (name, member) in enumerate(shape.members.items())
            for wire in (member.serialization.get("name", name),)}


def _handler(parser: type, type_name: str) -> Callable[..., Any] | None:
    """The parser's method for a shape type, None where it is moto's ``_default_handle`` (the value as it is)."""
    key = (parser, type_name)
    if key not in _handlers:
        handler = getattr(parser, f"_parse_{type_name}", parser._default_handle)  # type: ignore[attr-defined]
        _handlers[key] = None if handler is RequestParser._default_handle else handler
    return _handlers[key]


def _parse_node(self: RequestParser, shape: Any, node: Any) -> Any:
    handler = _handler(type(self), shape.type_name)
    return node if handler is None else handler(self, shape, node)


def _parse_structure(self: BaseJSONParser, shape: Any, value: Any) -> Any:
    if shape.is_document_type or not isinstance(value, dict):
        return _original_parse_structure(self, shape, value)  # also None, and malformed input, as moto answers it
    members = _members_on_the_wire(shape)
    present = [members[wire] for wire in value if wire in members]
    if len(present) > 1:
        present.sort()  # the model's order, as moto built the dict (indexes are unique)
    parsed = self.MAP_TYPE()
    for _, name, wire, member in present:
        raw = value[wire]
        if raw is not None:
            parsed[name] = _parse_node(self, member, raw)
    return parsed


def _parse_list(self: RequestParser, shape: Any, node: Any) -> Any:
    member = shape.member
    return [_parse_node(self, member, item) for item in node]


def _parse_map(self: RequestParser, shape: Any, value: Any) -> Any:
    parsed = self.MAP_TYPE()
    key_shape, value_shape = shape.key, shape.value
    for key, item in value.items():
        parsed[_parse_node(self, key_shape, key)] = _parse_node(self, value_shape, item)
    return parsed


_original_get_value = ResponseSerializer.get_value


@functools.lru_cache(maxsize=4096)
def _keys_in_a_dict(shape: Any, key: str) -> tuple[str, ...]:
    """The keys moto's picker tries, in order, for ``key`` of a plain dict: its alias rules
    read only the shape and the object's class (a dict has no ``Meta``, its class is ``dict``)."""
    context = AttributePickerContext(obj={}, key=key, shape=shape)
    return tuple(XFormedAttributePicker().get_possible_keys(context))


def _get_value(self: ResponseSerializer, value: Any, key: str, shape: Any) -> Any:
    picker = self._value_picker
    if (type(value) is not dict or type(picker) is not XFormedAttributePicker  # noqa: E721 - exactly these
            or picker.response_transformers or picker.alias_providers is not DEFAULT_ALIAS_PROVIDERS):
        return _original_get_value(self, value, key, shape)
    for possible in _keys_in_a_dict(shape, key):
        found = moto_get_value(value, possible, MISSING)
        if found is not MISSING:
            return found
    return None


def install() -> None:
    """Idempotent: the replacements call moto's originals, taken at import, or replace them whole."""
    moto_responses.method_names_from_class = _method_names  # type: ignore[assignment]
    UpdateExpressionParser.make = classmethod(_make)  # type: ignore[method-assign, assignment]
    Item.__init__ = _item_init  # type: ignore[method-assign]
    BaseJSONParser._parse_structure = _parse_structure  # type: ignore[method-assign]
    RequestParser._parse_shape = _parse_node  # type: ignore[method-assign]
    RequestParser._parse_list = _parse_list  # type: ignore[method-assign]
    RequestParser._parse_map = _parse_map  # type: ignore[method-assign]
    ResponseSerializer.get_value = _get_value  # type: ignore[method-assign]
