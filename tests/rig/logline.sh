#!/bin/sh
# Rig self-test: writes the line in /files/logline.txt into the kernel log
# (as a kernel report would appear there) and exits 0. tools/guest-run must
# still fail the run with status 126: tests/host/05-rig-selftest.sh runs it
# once for each kind of report the log scan knows.
line=$(cat /files/logline.txt) || exit 2
echo "rig: writing into the kernel log: $line"
printf '%s\n' "$line" >/dev/kmsg
sleep 1
exit 0
