# SPDX-License-Identifier: GPL-2.0
#
# vnacct top-level build.
#   make                 module (vnacct/vnacct.ko) for KDIR, and userspace
#   make check           every static check and test (see scripts/check.sh)
#   make demo            boots Debian's 6.12 kernel in QEMU and shows vnacct
#   make bench           overhead benchmark in QEMU (not a pass/fail test)
#   make profile         perf profile of vnacct's packet path in QEMU
#   make soak            the long reliability runs (issue 6's full sizes)
#   make install         installs the module and userspace on this host
#   make KDIR=/lib/modules/<release>/build   build against another kernel

# The running kernel's build tree when it has one, else the newest installed
# Debian headers (the development machines cannot load modules themselves).
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(lastword $(sort $(wildcard /lib/modules/*/build))))
W ?= 1
CC ?= cc
CFLAGS ?= -O2 -g
USER_CFLAGS := $(CFLAGS) -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi

.PHONY: all module userspace check demo bench profile soak deps install clean help

all: module userspace

module:
	@test -n "$(KDIR)" || { echo "no kernel build tree found: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

-include userspace/guests.mk
-include userspace/user.mk
-include userspace/tools.mk

userspace: $(GUEST_BINS) $(USER_BINS) $(TOOL_BINS)

deps:
	@scripts/deps.sh

check: deps
	@scripts/check.sh

demo: deps
	@scripts/demo.sh

bench: deps
	@test -x scripts/bench.sh || { echo "make bench: scripts/bench.sh missing" >&2; exit 1; }
	@scripts/bench.sh

profile: deps
	@scripts/profile.sh

soak: deps
	@test -x scripts/soak.sh || { echo "make soak: scripts/soak.sh missing" >&2; exit 1; }
	@scripts/soak.sh

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	install -d $(DESTDIR)/usr/local/sbin
	$(if $(strip $(USER_BINS)),install -m 0755 $(USER_BINS) $(DESTDIR)/usr/local/sbin/)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build $(GUEST_BINS) $(USER_BINS) $(USER_TESTS) $(TOOL_BINS)

help:
	@sed -n '3,12p' Makefile
