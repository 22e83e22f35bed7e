"""The ``wfplan`` command line: the group in :mod:`optimizer.cli.common`, the planning commands in
:mod:`optimizer.cli.plan`, the simulation in :mod:`optimizer.cli.simulate`, the what-if commands in
:mod:`optimizer.cli.whatif`, the run registry's in :mod:`optimizer.cli.runs`."""

from optimizer.cli import plan, runs, simulate, whatif  # noqa: F401  (each registers its commands on the group)
from optimizer.cli.common import main

__all__ = ["main"]
