"""One module per subcommand. Each defines ``register(subparsers, parents)``.

``register`` adds its subparser (with ``parents`` for the common flags) and sets
``func`` to a callable ``(args, ctx) -> int``. :mod:`nocargo_py.cli` imports the
modules listed in ``COMMANDS`` that exist.
"""

COMMANDS = ("metadata", "cfg", "index", "lock", "plan", "explain", "gen", "init")
