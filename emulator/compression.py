"""Deflate for the payloads the emulator keeps (S3 bodies, Kinesis records, runs of records).

``deflate``: raw deflate with a 4 KB window and a small hash table, for one payload of a few
KB (a Kinesis record's JSON, an archive object): ``zlib.compress``'s defaults spend 55-100 us
setting up 256 KB of state for each; these settings take 8 us for the same output size.

``deflate_run``: zlib's level 1 with its whole 32 KB window, for tens of KB made of many
small records that repeat one another's names (a group of stream records, a chunk of log
events): there the set-up is paid once, and the window reaches records the 4 KB one cannot.
A chunk of 256 function log events (41 KB pickled): 7.9 KB in 0.41 ms with ``deflate``,
6.4 KB in 0.23 ms with this.
"""

from __future__ import annotations

import zlib

_WBITS, _MEM_LEVEL = -12, 4


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, _WBITS, _MEM_LEVEL)
    return packer.compress(data) + packer.flush()


def inflate(packed: bytes) -> bytes:
    return zlib.decompress(packed, _WBITS)


def deflate_run(data: bytes) -> bytes:
    return zlib.compress(data, 1)


def inflate_run(packed: bytes) -> bytes:
    return zlib.decompress(packed)
