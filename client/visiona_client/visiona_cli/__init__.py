"""``visiona``: visionA from a terminal or a CI job (docs/cli.md).

Each command is a module with ``register(subparsers)`` setting ``func=run``, where
``run(args) -> int`` returns the exit code (exit_codes.py).
"""
