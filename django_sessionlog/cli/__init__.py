"""The subcommands of ``manage.py sessionlog``, one module each.

Each module has ``HELP``, ``add_arguments(parser)`` and
``run(command, options)``; the management command only wires them up.
"""
