"""``python -m harness.cli``: the ``hvsnap`` console script."""

import sys

from harness.cli.app import main

sys.exit(main())
