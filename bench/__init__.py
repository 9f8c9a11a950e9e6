"""Benchmarks that print figures (not tests): run e.g. `python -m bench.callback`."""
