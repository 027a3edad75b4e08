"""Logs into rows: which files, their lines, the rows on them and what a reader accepts.

``files`` finds and opens logs; ``rows`` decodes their lines by ``rules`` and
tallies every line that is not a row; ``window`` keeps rows of a time span;
``follow`` and ``backwards`` read a growing log and a log from its end;
``parts`` cuts a big log at line boundaries and ``parallel`` reads the parts
on every core. Everything else in ``read/`` starts from here.
"""
