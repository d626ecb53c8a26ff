"""``python -m visiona_client.visiona_cli`` is ``visiona``."""

from visiona_client.visiona_cli.main import entry_point

entry_point()
