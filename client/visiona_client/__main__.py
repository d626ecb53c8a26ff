"""``python -m visiona_client`` is ``visiona-agent``."""

import sys

from visiona_client.cli import main

sys.exit(main())
