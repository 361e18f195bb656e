#!/bin/sh
# Rig self-test: a script that fails. tools/guest-run must exit 1.
echo "rig: failing on purpose"
exit 1
