"""The read path: what the commands (and anything else that reads logs) run.

Four stages, one subpackage each: ``sources`` (files, lines and rows, checked
by ``sources.rules``) -> ``figures`` (stats, usage and cost, the report's
figures, comparisons) -> ``pages`` (the HTML report and comparison); and
``sources`` -> ``sql`` (typed DuckDB reads, staging, Parquet export).
``formatting`` (numbers for people) and ``outfiles`` (files written whole and
private) serve the last stage and the commands. Nothing here imports the
write path; both share only the row's definition (``..row``) and ``..paths``.
"""
