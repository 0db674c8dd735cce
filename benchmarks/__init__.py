"""Benchmark scripts for the cleaner. Each writes JSON under ``benchmarks/results/`` and prints a
table; shared loading, labelling and peer filters live in :mod:`benchmarks.common`."""
