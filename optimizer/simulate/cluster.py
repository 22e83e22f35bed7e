"""A simulation's chunks as points of :mod:`optimizer.distributed`: on a Dask cluster (or local processes),
with the same numbers as :func:`optimizer.simulate.engine.run_local`, since every chunk is a pure function of
(the plan's arrays, the seed, the chunk's index and size) and :func:`optimizer.simulate.engine.merge` puts the
chunks back in chunk order. The plan's arrays go to each worker once."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.distributed.base import ClusterError, Job, Where
from optimizer.distributed.executor import run_points
from optimizer.simulate.engine import Outcomes, Runner, simulate_chunk
from optimizer.simulate.inputs import PlanInputs

Chunk = tuple[int, int]
"""(chunk index, repetitions)."""


@dataclass(frozen=True)
class ChunkInputs:
    """What every chunk shares: the plan's arrays and the run's seed."""

    plan: PlanInputs
    seed: int


def chunk_point(inputs: ChunkInputs, chunk: Chunk) -> Outcomes:
    """One chunk's repetitions (:func:`optimizer.simulate.engine.simulate_chunk`)."""
    index, reps = chunk
    return simulate_chunk(inputs.plan, reps, inputs.seed, index)


def _failed(chunk: Chunk, message: str) -> Outcomes:
    """A chunk that failed twice stops the run: a simulation with a chunk missing would not be the seed's."""
    raise ClusterError(f"simulation chunk {chunk[0]} failed twice: {message}")


def cluster_runner(where: Where) -> Runner:
    """A :data:`~optimizer.simulate.engine.Runner` running the chunks where ``where`` says."""

    def run(plan: PlanInputs, chunks: list[Chunk], seed: int) -> list[Outcomes]:
        return run_points(Job(chunk_point, ChunkInputs(plan, seed), chunks, on_failure=_failed), where)

    return run
