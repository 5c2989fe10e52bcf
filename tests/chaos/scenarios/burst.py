"""placeholder being written"""
from tests.chaos.harness import Row
def run(small: bool) -> Row:
    raise NotImplementedError
