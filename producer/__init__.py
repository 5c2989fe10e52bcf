"""The click producer: deterministic click events written to the sandbox table.

Python API: ``producer.run.produce(settings, ProduceOptions(...)) -> ProduceSummary``;
run manifests: ``producer.manifest.load(settings, run_id)``.
"""
