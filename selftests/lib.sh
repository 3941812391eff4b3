# shellcheck shell=bash
# TAP helpers and vnacct accessors shared by the selftests (kselftest style:
# "ok N - text" / "not ok N - text", a plan line, exit 1 on any failure).

VNACCT_KO=${VNACCT_BUILD:-$VNACCT_SRC/build/${VNACCT_KERNEL:-6.12}}/vnacct/vnacct.ko
DBG=/sys/kernel/debug/vnacct
tap_n=0
tap_failed=0

tap_plan() { echo "1..$1"; }

# ok STATUS TEXT: passes when STATUS (a command's exit status) is 0
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# check TEXT CMD...: one TAP line for the command's success
check() {
	local text=$1
	shift
	"$@"
	ok $? "$text"
}

# expect TEXT ARITH: passes when the shell arithmetic expression is true
expect() {
	(($2))
	ok $? "$1"
}

diag() { echo "# $*"; }

tap_done() {
	[ "$tap_failed" -eq 0 ] || diag "$tap_failed of $tap_n failed"
	exit $((tap_failed > 0))
}

load_vnacct() {
	modprobe -a tun vhost_net bridge veth 2>/dev/null
	insmod "$VNACCT_KO" "$@"
}

unload_vnacct() { rmmod vnacct; }

# hook_hits HOOK: the hit counter of one hook in debugfs stats
hook_hits() {
	awk -v h="$1" '$1 == h { print $3 }' "$DBG/stats"
}
