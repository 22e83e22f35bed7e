"""The planners' what-if page (``wfplan serve``): a Streamlit page on top of the engine and the reports.

Dependencies point one way: ``web → reports → optimizer → models``; nothing below imports this package
(``tests/test_layout.py``). The page holds no model logic: it builds scenarios with :mod:`optimizer.api`,
solves them through :mod:`web.jobs` (one worker process per solve, never the page's thread), reads the plan
folders the pipeline writes and draws them with :mod:`reports.charts`.

- :mod:`web.settings` where the page keeps its files and how it is configured (environment variables);
- :mod:`web.inputs` the demo group and uploaded input tables (validated; nothing kept from a rejected upload);
- :mod:`web.controls` the scenario keys planners change, as controls, overrides and YAML;
- :mod:`web.jobs` the run queue: a process per solve, its progress, cancel;
- :mod:`web.runs` the list of runs and their plan folders;
- :mod:`web.views` the tables and sentences the page shows, computed from plan folders;
- :mod:`web.app` the Streamlit script; :mod:`web.serve` the ``wfplan serve`` command.
"""
