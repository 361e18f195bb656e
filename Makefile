# SPDX-License-Identifier: GPL-2.0
#
# zblk - compressed RAM block device with its own slot-per-block allocator.
#
#   make                      build zblk.ko against KDIR
#   make KDIR=/usr/src/linux-headers-<version>
#   make ARCH=arm64           cross-build for the arm64-16k kernel (docs/arm64-16k.md)
#   make check                every test: host unit tests + guest suite on 6.1, 6.12, 6.12-arm64-16k
#   make check-debug          guest suite on a KASAN/lockdep 6.12 kernel built here (not in check)
#   make demo                 boot a guest and show /dev/zblk0 as swap and ext4
#   make bench                zblk vs zram vs brd in one guest (not a test)
#   make sparse               build with sparse (C=1)
#   make deb                  build/zblk-dkms_<version>_all.deb (docs/install.md)
#   make check-package        install the .deb in a Debian 12 image, boot it twice (root, slow)
#   make clean                module objects, per-kernel module builds, test logs, tools
#   make distclean            clean, and every cache under build/ (guest images, corpus,
#                             arm64 packages, the debug kernel: slow to make again)

ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

# make ARCH=arm64: cross-build for Debian's arm64-16k kernel (16K pages),
# whose headers tools/lib/arm64.sh fetches into build/arm64/ (docs/arm64-16k.md).
ifeq ($(ARCH),arm64)
KDIR ?= $(shell bash -c '. tools/lib/arm64.sh && zblk_arm64_fetch >&2 && zblk_arm64_headers')
endif
# The running kernel's build tree when it has one, else the newest installed
# Debian amd64 headers.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
W ?= 1
V ?= 0

.PHONY: all modules clean distclean check check-debug demo bench sparse deps tools help deb check-package

all: modules

modules:
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { echo "zblk: no kernel headers found; run 'make deps' or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) V=$(V) modules

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) C=2 modules

deps:
	@tools/deps

tools:
	$(MAKE) -C tools

# make check CHECK_ARGS="--kernel 6.1 --only '0*'" passes options to tests/run.
check: deps
	@tests/run $(CHECK_ARGS)

# The guest suite on the debug kernel (KASAN, lockdep, ...; docs/guest-rig.md),
# built first by tools/build-debug-kernel (cached: once per fragment and
# source version). Slow: not part of check. CHECK_ARGS as for check.
check-debug: deps
	@tools/build-debug-kernel >/dev/null
	@tests/run --kernel 6.12-debug --guest-only $(CHECK_ARGS)

demo: deps
	@tools/demo

bench: deps
	@tools/bench

deb:
	@packaging/build-deb

check-package:
	@tests/package/e2e.sh

# clean keeps the caches that take minutes to make again (guest images, the
# decompressed corpus, arm64 packages, the debug kernel); distclean removes them.
ZBLK_CACHES := arm64 corpus debug-kernel guest
clean:
	@if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	@if [ -d build ]; then find build -mindepth 1 -maxdepth 1 \
		$(foreach c,$(ZBLK_CACHES),! -name $(c)) -exec rm -rf {} +; fi
	-$(MAKE) -C tools clean
	-$(MAKE) -C tests/alloc clean

distclean: clean
	rm -rf build

help:
	@sed -n '3,18p' Makefile | sed 's/^# \{0,1\}//'
endif
