"""``python -m visiona_client`` is ``visiona-agent``."""

import sys

from visiona_client.agent_cli import main

sys.exit(main())
