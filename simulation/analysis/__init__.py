"""Analysis: what the runs say. Comparison with published targets, scenario comparison on common
random numbers, and the paired statistics behind it.

May import: ``simulation.model``, ``simulation.policy``, ``simulation.research``. Not present or cli.
"""
