# SPDX-License-Identifier: GPL-2.0
# userspace/guests.mk - make fragment for the vnacct test guests
# (vnacct-tapguest, vnacct-vhostguest) and their unit test test_guestnet.
# The top-level Makefile includes it; it can also be used alone:
#   make -f userspace/guests.mk guests guests-check
# Targets: guests (= $(GUEST_BINS)), guests-check (runs the unit test),
# guests-clean; adds $(GUEST_TESTS) to USER_TESTS and to the top-level
# `userspace` target.  It does not change the includer's default goal.

GUEST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
CC ?= cc
GUEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11
GUEST_BINS := $(GUEST_DIR)/vnacct-tapguest $(GUEST_DIR)/vnacct-vhostguest
GUEST_TESTS := $(GUEST_DIR)/test_guestnet
GUEST_ENGINE := $(GUEST_DIR)/guestnet.c $(GUEST_DIR)/guestnet.h

_guests_saved_goal := $(.DEFAULT_GOAL)

.PHONY: guests guests-check guests-clean
guests: $(GUEST_BINS)

$(GUEST_DIR)/vnacct-tapguest: $(GUEST_DIR)/tapguest.c $(GUEST_ENGINE)
	$(CC) $(GUEST_CFLAGS) -o $@ $(GUEST_DIR)/tapguest.c $(GUEST_DIR)/guestnet.c

$(GUEST_DIR)/vnacct-vhostguest: $(GUEST_DIR)/vhostguest.c $(GUEST_ENGINE)
	$(CC) $(GUEST_CFLAGS) -o $@ $(GUEST_DIR)/vhostguest.c $(GUEST_DIR)/guestnet.c

$(GUEST_DIR)/test_guestnet: $(GUEST_DIR)/test_guestnet.c $(GUEST_ENGINE)
	$(CC) $(GUEST_CFLAGS) -o $@ $(GUEST_DIR)/test_guestnet.c $(GUEST_DIR)/guestnet.c

guests-check: $(GUEST_TESTS)
	$(GUEST_DIR)/test_guestnet

guests-clean:
	rm -f $(GUEST_BINS) $(GUEST_TESTS)

# scripts/check.sh builds `make userspace`, then runs every $(USER_TESTS)
USER_TESTS += $(GUEST_TESTS)
userspace: $(GUEST_TESTS)

.DEFAULT_GOAL := $(_guests_saved_goal)
