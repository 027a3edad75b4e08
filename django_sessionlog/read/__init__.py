"""The read path: what the commands (and anything else that reads logs) run.

files (``files``) -> lines and rows (``rows``, checked by ``rules``) -> figures
(``stats``, ``report``) or SQL (``columns``, ``sql``, ``staging``) -> pages
(``report_page``) and Parquet (``export``). Nothing here imports the write
path; both share only the row's definition (``..row``) and ``..paths``.
"""
