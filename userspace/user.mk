# SPDX-License-Identifier: GPL-2.0
# userspace/user.mk - make fragment for the vnacct CLI (userspace/vnacct),
# the vnacctd Prometheus exporter (userspace/vnacctd, libmicrohttpd), both on
# libmnl through userspace/vnacct-nl.c, and the CLI's unit test; included by
# the top-level Makefile, which defines USER_CFLAGS (-Wall -Wextra -Werror
# -Iinclude/uapi).
#   make userspace/vnacct userspace/vnacctd userspace/test_vnacct

USER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
USER_BINS := $(USER_DIR)/vnacct $(USER_DIR)/vnacctd
USER_TESTS += $(USER_DIR)/test_vnacct

_user_saved_goal := $(.DEFAULT_GOAL)

USER_NL := $(USER_DIR)/vnacct-nl.c $(USER_DIR)/vnacct-nl.h \
	include/uapi/linux/vnacct.h

$(USER_DIR)/vnacct: $(USER_DIR)/vnacct.c $(USER_NL)
	$(CC) $(USER_CFLAGS) -o $@ $(USER_DIR)/vnacct.c $(USER_DIR)/vnacct-nl.c -lmnl

$(USER_DIR)/vnacctd: $(USER_DIR)/vnacctd.c $(USER_NL)
	$(CC) $(USER_CFLAGS) -pthread -o $@ $(USER_DIR)/vnacctd.c \
		$(USER_DIR)/vnacct-nl.c -lmnl -lmicrohttpd

$(USER_DIR)/test_vnacct: $(USER_DIR)/test_vnacct.c $(USER_DIR)/vnacct.c \
		$(USER_NL)
	$(CC) $(USER_CFLAGS) -o $@ $(USER_DIR)/test_vnacct.c \
		$(USER_DIR)/vnacct-nl.c -lmnl

userspace: $(USER_DIR)/test_vnacct

.DEFAULT_GOAL := $(_user_saved_goal)
