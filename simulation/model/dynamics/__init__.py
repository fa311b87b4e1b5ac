"""The mechanisms as pure numpy functions of arrays and parameters.

Nothing here imports Mesa or the model: each rule can be tested on a hand-built
state of a few pupils, and the per-agent reference in ``benchmarks/`` re-implements
the same rules one pupil at a time.
"""
