"""The write path: what runs inside a request, and so must never fail it.

signal (``signals``) -> receiver and its policies (``receivers``, ``sampling``)
-> the row (``records``, pure) -> one line (``encoding``) -> the file (``sink``).
Nothing here imports the read path or the commands.
"""
