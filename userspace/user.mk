# SPDX-License-Identifier: GPL-2.0
# userspace/user.mk - make fragment for the vnacct CLI (userspace/vnacct, on
# libmnl) and its unit test; included by the top-level Makefile, which
# defines USER_CFLAGS (-Wall -Wextra -Werror -Iinclude/uapi).
#   make userspace/vnacct userspace/test_vnacct

USER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
USER_BINS := $(USER_DIR)/vnacct
USER_TESTS += $(USER_DIR)/test_vnacct

_user_saved_goal := $(.DEFAULT_GOAL)

$(USER_DIR)/vnacct: $(USER_DIR)/vnacct.c include/uapi/linux/vnacct.h
	$(CC) $(USER_CFLAGS) -o $@ $(USER_DIR)/vnacct.c -lmnl

$(USER_DIR)/test_vnacct: $(USER_DIR)/test_vnacct.c $(USER_DIR)/vnacct.c \
		include/uapi/linux/vnacct.h
	$(CC) $(USER_CFLAGS) -o $@ $(USER_DIR)/test_vnacct.c

userspace: $(USER_DIR)/test_vnacct

.DEFAULT_GOAL := $(_user_saved_goal)
