"""Many independent solves, on this machine or on a Dask cluster (docs/whatif.md, "On a Dask cluster").

:mod:`.executor` maps a pure point function over tasks with one retry and progress, in local worker processes
(:mod:`.pool`) or on Dask distributed (:mod:`.cluster`); :mod:`.shipping` carries folders of files to workers
that may not see the client's disk, and plan folders back. Nothing here knows what a point computes.
"""
