# shellcheck shell=bash
# Map the kernel names tests use (6.1, 6.12, debug, rt) to what the runner
# and the build need.  Sourced; sets:
#   KNAME        short name, also the build directory under build/
#   KREL         kernel release (uname -r inside the VM)
#   KIMAGE       bootable image
#   KDIR         kernel build tree for out-of-tree modules
#   KBUILTIN_9P  1 when 9p/virtio are built in (no initramfs modules)
#   KAPPEND      extra kernel command line

# newest_release GLOB [EXCLUDE]: newest release with /boot/vmlinuz-GLOB
newest_release() {
	# shellcheck disable=SC2012
	ls -1 /boot/vmlinuz-$1 2>/dev/null | sed 's#^/boot/vmlinuz-##' |
		grep -v -e "${2:-^$}" | sort -V | tail -n 1
}

resolve_kernel() {
	KNAME=$1
	KBUILTIN_9P=0
	KAPPEND=
	case $1 in
	6.1) KREL=$(newest_release '6.1.0-*-amd64') ;;
	6.12) KREL=$(newest_release '6.12.*-amd64' '-rt-') ;;
	rt) KREL=$(newest_release '6.12.*-rt-amd64') ;;
	debug)
		local dir
		dir=$("$top/scripts/debug-kernel.sh") || {
			echo "vm-run: debug kernel unavailable" >&2
			return 1
		}
		KREL=$(cat "$dir/build/include/config/kernel.release")
		KIMAGE=$dir/bzImage
		KDIR=$dir/build
		KBUILTIN_9P=1
		# kasan_multi_shot: report every bug, not only the first.
		# kunit.enable: the config leaves KUnit off at boot (no
		# built-in suites run), modules' suites need it on.
		# pci=noacpi: under TCG with KASAN the ACPI interpreter times
		# out evaluating PCI routing (_PRT), 30 s a time.  ACPI itself
		# stays: without it there is no HPET/PM timer, the TSC cannot
		# be calibrated and timestamps fall back to jiffies.
		KAPPEND="kasan.fault=report kasan_multi_shot kunit.enable=1 pci=noacpi"
		return 0 ;;
	*) KREL=$1 ;;
	esac
	if [ -z "$KREL" ] || [ ! -f "/boot/vmlinuz-$KREL" ]; then
		echo "vm-run: kernel '$1' is not installed (run scripts/deps.sh)" >&2
		return 1
	fi
	KIMAGE=/boot/vmlinuz-$KREL
	KDIR=/lib/modules/$KREL/build
}
