"""Hostile values and bodies, drawn from one seeded ``random.Random`` so every run is the same run."""

from __future__ import annotations

import json
import random
from typing import Any

#: Strings that have broken servers somewhere: traversal, NUL, control and non-ASCII characters, sizes.
STRINGS = (
    "", " ", "a", "..", "../../etc/passwd", "/etc/passwd", "..\\..\\windows", "%2e%2e%2f", "a\u0000b",
    "\u0007\u001b[31m", "\r\nX-Injected: 1", "é∂🙂", "\ud800", "$LATEST", "null", "true", "0", "-1",
    "arn:aws:lambda:us-east-1:000000000000:function:x", "x" * 65, "x" * 5000, "x" * 200_000, "{\"a\": 1}",
)
#: Integers around every limit the API checks, and far past them (no valid latency: it would only slow the run).
INTEGERS = (0, -1, 1, 7, 63, 64, 65, 127, 128, 900, 901, 10000, 10001, 2**31, 2**63, -(2**63), 10**30)
#: JSON texts Python's json.dumps never writes but json.loads accepts, and ones nobody accepts.
RAW_NUMBERS = (b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-0", b"1" * 5000, b"0x10", b"01")


#: The strings short enough for a request line or a header (a 200 KB one only gets a 414/431 before
#: the body is sent, and the client's own send then fails: no test of the server).
SHORT_STRINGS = tuple(text for text in STRINGS if len(text) <= 5000)


class Junk:
    """Generators of wrong types, unknown fields and broken bodies."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def value(self, depth: int = 0) -> Any:
        """Any JSON value, of any type, biased toward the edges."""
        kind = self.rng.randrange(9 if depth < 2 else 6)
        if kind == 0:
            return None
        if kind == 1:
            return self.rng.choice((True, False))
        if kind == 2:
            return self.rng.choice(INTEGERS)
        if kind == 3:
            return self.rng.choice((0.5, -0.0, 1e308, 3.0, 128.0))
        if kind in (4, 5):
            return self.rng.choice(STRINGS)
        if kind == 6:
            return [self.value(depth + 1) for _ in range(self.rng.randrange(4))]
        if kind == 7:
            return {self.rng.choice(STRINGS): self.value(depth + 1) for _ in range(self.rng.randrange(4))}
        return self.nested(self.rng.randrange(1, 60))

    @staticmethod
    def nested(depth: int) -> Any:
        value: Any = 1
        for _ in range(depth):
            value = {"a": value}
        return value

    def mutate(self, document: dict[str, Any]) -> dict[str, Any]:
        """1-3 of: drop a field, add an unknown one, give a field a wrong value, mutate a nested map."""
        doc = dict(document)
        for _ in range(self.rng.randrange(1, 4)):
            choice = self.rng.randrange(4)
            keys = list(doc)
            if choice == 0 and keys:
                doc.pop(self.rng.choice(keys))
            elif choice == 1:
                doc[self.rng.choice(("Bogus", "functionName", "Code ", "__proto__", "x" * 300))] = self.value()
            elif choice == 2 and keys:
                doc[self.rng.choice(keys)] = self.value()
            elif keys:
                key = self.rng.choice(keys)
                if isinstance(doc[key], dict):
                    doc[key] = self.mutate(doc[key])
        return doc

    def body(self, document: dict[str, Any]) -> bytes:
        """The document mutated, or a body that is not the document at all."""
        choice = self.rng.randrange(12)
        if choice < 7:
            return json.dumps(self.mutate(document)).encode()
        text = json.dumps(document).encode()
        return self.rng.choice((
            b"", b"{", b"[]", b"null", b"\"a\"", b"\xff\xfe\x00{", text[: len(text) // 2], text + b"}",
            b"[" * 200_000, b'{"a":' * 100_000, b"{\"k\": " + self.rng.choice(RAW_NUMBERS) + b"}",
            self.rng.randbytes(self.rng.randrange(1, 2000)), text.replace(b"\"", b"'"),
        ))
