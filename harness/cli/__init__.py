"""``hvsnap``: the command line, one module per command group (:mod:`harness.cli.common`
holds the shared decorator and output; :mod:`harness.cli.app` the root group)."""

from harness.cli.app import main

__all__ = ["main"]
