#!/bin/sh
# Rig self-test: a script that never ends. tools/guest-run --timeout N must
# kill the guest and exit 124.
echo "rig: hanging on purpose"
while :; do sleep 3600; done
