"""`make bench`: the whole pipeline measured on our embedded emulator and, side by side, on a peer.

A benchmark, not a test: it prints numbers. See ``__main__`` for the figures and
docs/bench.md for how to read them.
"""
