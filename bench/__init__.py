"""Benchmarks: print figures and write them to bench/results/."""
