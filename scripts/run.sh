#!/usr/bin/env bash
# The main job on the embedded default (SQLite + the simulated Hyper-V host):
#
#   bash scripts/run.sh              set up .venv, then a tour: deploy a VM, snapshot it,
#                                    revert, branch the tree, delete, and show what came back
#   bash scripts/run.sh ARGS...      set up .venv, then run `hvsnap ARGS...`
#
# State goes to $HVSNAP_HOME (default ./.hvsnap); the tour uses a fresh folder of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x .venv/bin/hvsnap ]]; then
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -e .
fi
hvsnap() { .venv/bin/hvsnap "$@"; }
if [[ $# -gt 0 ]]; then
    exec .venv/bin/hvsnap "$@"
fi

export HVSNAP_HOME=${HVSNAP_HOME:-$(mktemp -d)/hvsnap}
field() { .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)$1)"; }
step() { printf '\n\033[1m$ hvsnap %s\033[0m\n' "$*"; }

step vm deploy --name web1
VM=$(hvsnap vm deploy --name web1 --json | field "['id']")
echo "VM $VM is Running"
step guest write "$VM" motd v1;             hvsnap guest write "$VM" motd v1 >/dev/null
step snapshot create "$VM" --memory --name A
A=$(hvsnap snapshot create "$VM" --memory --name A --json | field "['id']")
step guest write "$VM" motd v2;             hvsnap guest write "$VM" motd v2 >/dev/null
step snapshot create "$VM" --name B
B=$(hvsnap snapshot create "$VM" --name B --json | field "['id']")
step snapshot revert A
echo "VM state: $(hvsnap snapshot revert "$A" --json | field "['state']")"
echo "motd: $(hvsnap guest read "$VM" motd --json | field "['value']")"
step snapshot create "$VM" --name C;        hvsnap snapshot create "$VM" --name C >/dev/null
step snapshot tree "$VM";                   hvsnap snapshot tree "$VM"
step snapshot delete A;                     hvsnap snapshot delete "$A" >/dev/null
step snapshot tree "$VM";                   hvsnap snapshot tree "$VM"
step snapshot revert B
echo "VM state: $(hvsnap snapshot revert "$B" --json | field "['state']")"
step vm start "$VM";                        hvsnap vm start "$VM" >/dev/null
echo "motd: $(hvsnap guest read "$VM" motd --json | field "['value']")"
step snapshot list --vm "$VM";              hvsnap snapshot list --vm "$VM"
printf '\nState is in %s; try: HVSNAP_HOME=%s .venv/bin/hvsnap --help\n' "$HVSNAP_HOME" "$HVSNAP_HOME"
