# SPDX-License-Identifier: GPL-2.0
# The guest kernel log lines that fail a run (tools/guest-run). Sourced.
#
#   zblk_log_findings   reads a kernel log on stdin, prints each line that
#                       reports a kernel problem once; status 1 when none
#
# Each alternative is what the kernel prints for one kind of report:
#   BUG: ...                      most BUG reports, KASAN, soft lockups
#                                 ("watchdog: BUG: soft lockup"), bad page state
#   kernel BUG at FILE:LINE       BUG_ON()
#   WARNING: ...                  WARN*(), lockdep's reports begin with one
#   BUG <cache> (<taint>): ...    SLUB's reports (Poison overwritten, Redzone
#                                 overwritten, Object padding overwritten,
#                                 Freepointer corrupt, ...), whose first line
#                                 has no colon after BUG
#   pagealloc: ... corruption     page_poison finding a freed page written to
# and the lines named in full below. Lines are compared whole: the console and
# the final dmesg dump show each one twice.
ZBLK_LOG_BAD_RE='BUG:|kernel BUG at|WARNING:|Oops|general protection fault|KASAN|KFENCE|UBSAN'
ZBLK_LOG_BAD_RE+='|BUG [[:alnum:]_:.()-]+ \(|Poison overwritten|Redzone overwritten|Object padding overwritten|Freepointer corrupt|Object already free|Wrong object count|pagealloc: .*corrupt|Bad page state|Bad page map'
ZBLK_LOG_BAD_RE+='|possible circular locking|inconsistent lock state|possible recursive locking|lock held when returning|bad unlock balance|suspicious RCU usage'
ZBLK_LOG_BAD_RE+='|list_add corruption|list_del corruption|scheduling while atomic|sleeping function called from invalid context'
ZBLK_LOG_BAD_RE+='|blocked for more than|soft lockup|hard LOCKUP|rcu: INFO: .*detected stall|detected stalls on CPUs|rcu_.* self-detected stall|Kernel panic'

zblk_log_findings() {
	grep -aE "$ZBLK_LOG_BAD_RE" | awk '!seen[$0]++' | grep .
}
