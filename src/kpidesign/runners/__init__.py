"""Running many analyses: sweeps on a process pool or a Dask cluster (next issues)."""
