#!/usr/bin/env bash
# The main job on the embedded default (SQLite + the simulated Hyper-V host):
#
#   bash scripts/run.sh              set up .venv, then the README's tour: deploy a VM,
#                                    snapshot it, revert, branch the tree, delete, volumes, ...
#   bash scripts/run.sh ARGS...      set up .venv, then run `hvsnap ARGS...`
#
# State goes to $HVSNAP_HOME (default ./.hvsnap); the tour uses a fresh folder of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/hvsnap ]]; then
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -e .
fi
if [[ $# -gt 0 ]]; then
    exec .venv/bin/hvsnap "$@"
fi

export HVSNAP_HOME=${HVSNAP_HOME:-$(mktemp -d)/hvsnap}
.venv/bin/python scripts/tour.py   # the README's tour, each step as printed there
printf '\nState is in %s; try: HVSNAP_HOME=%s .venv/bin/hvsnap --help\n' "$HVSNAP_HOME" "$HVSNAP_HOME"
