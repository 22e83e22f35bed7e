"""The ``wfplan`` command line: the group in :mod:`optimizer.cli.common`, the planning commands in
:mod:`optimizer.cli.plan`, the simulation in :mod:`optimizer.cli.simulate`, the what-if commands in
:mod:`optimizer.cli.whatif`, the run registry's in :mod:`optimizer.cli.runs`, and the commands of the packages
above the engine (``wfplan serve``), registered under the ``wfplan.commands`` entry points."""

from importlib.metadata import entry_points

from optimizer.cli import plan, runs, simulate, whatif  # noqa: F401  (each registers its commands on the group)
from optimizer.cli.common import main

for _entry in entry_points(group="wfplan.commands"):
    main.add_command(_entry.load(), _entry.name)

__all__ = ["main"]
