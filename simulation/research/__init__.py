"""Research: running scenarios many times. Runs and seeds, the resumable run store, local and Dask
executors, experiment files, SALib sweeps, England as 153 LAs, and calibration (ABC-SMC).

May import: ``simulation.model``, ``simulation.policy``. Not analysis, present or cli.
"""
