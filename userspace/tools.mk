# SPDX-License-Identifier: GPL-2.0
# userspace/tools.mk - make fragment for vnacct-tracecheck, the trace.dat
# reader of the trace-cmd cross-check (selftests/crosscheck_trace.py).
# Needs libtracecmd-dev and libtraceevent-dev (scripts/deps.sh).  The
# top-level Makefile includes it with `-include userspace/tools.mk`; alone:
#   make -f userspace/tools.mk tools
# Adds $(TOOL_BINS) to the top-level `userspace` target.

TOOLS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
CC ?= cc
TOOLS_CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11
TOOL_BINS := $(TOOLS_DIR)/vnacct-tracecheck

_tools_saved_goal := $(.DEFAULT_GOAL)

.PHONY: tools tools-clean
tools: $(TOOL_BINS)

$(TOOLS_DIR)/vnacct-tracecheck: $(TOOLS_DIR)/vnacct-tracecheck.c
	$(CC) $(TOOLS_CFLAGS) -I/usr/include/traceevent -I/usr/include/tracefs -o $@ $< -ltracecmd -ltraceevent

tools-clean:
	rm -f $(TOOL_BINS)

userspace: $(TOOL_BINS)

.DEFAULT_GOAL := $(_tools_saved_goal)
