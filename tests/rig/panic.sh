#!/bin/sh
# Rig self-test: the kernel crashes before the script ends (sysrq 'c').
# tools/guest-run must report the dead guest and exit 125.
echo "rig: crashing the kernel on purpose"
sync
echo c >/proc/sysrq-trigger
sleep 30
echo "rig: still alive after sysrq-c"
exit 0
