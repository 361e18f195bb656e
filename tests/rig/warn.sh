#!/bin/sh
# Rig self-test: the script succeeds but the kernel logs a WARNING, so
# tools/guest-run must fail the run (exit 126). With --file .../zblk_rig_warn.ko
# the warning is a real WARN_ON_ONCE() in a module; without, a WARNING line is
# written to /dev/kmsg.
if [ -r /files/zblk_rig_warn.ko ]; then
	echo "rig: loading zblk_rig_warn.ko (WARN_ON_ONCE at load)"
	insmod /files/zblk_rig_warn.ko || exit 2
	dmesg | grep -q 'WARNING:' || { echo "rig: no WARNING in dmesg"; exit 3; }
else
	echo "rig: writing a WARNING to /dev/kmsg"
	echo "<4>WARNING: CPU: 0 PID: $$ at rig/warn.sh: zblk rig self-test" >/dev/kmsg
fi
echo "rig: script done, exit 0"
exit 0
