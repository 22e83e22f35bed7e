"""Scenario files shipped with the project (package data, so `wfplan` finds them when installed)."""
