"""A seeded, bounded fuzzer for the Lambda API and the HTTP sink (driven by tests/functional/test_fuzz_api.py)."""
