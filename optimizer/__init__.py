"""The engine: cohorts, formulation, solving, plan disaggregation, verification and the `wfplan` CLI."""
