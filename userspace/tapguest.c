// SPDX-License-Identifier: GPL-2.0
/*
 * tapguest.c - vnacct-tapguest: a test guest that reads and writes Ethernet
 * frames on a tap file descriptor (IFF_TAP | IFF_NO_PI), as QEMU does
 * without vhost, so that tun_chr_write_iter / tun_chr_read_iter and
 * tun_get_user / tun_put_user run for real.  Everything else (protocols,
 * options, report) is in guestnet.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "guestnet.h"

static int tap_setup(struct gn_ctx *c)
{
	int fl = fcntl(c->tapfd, F_GETFL);

	if (fl < 0 || fcntl(c->tapfd, F_SETFL, fl | O_NONBLOCK) < 0) {
		gn_set_err(c, "fcntl O_NONBLOCK: %m");
		return -1;
	}
	return 0;
}

static int tap_send(struct gn_ctx *c, const void *f, size_t len,
		    int64_t *t_ns)
{
	struct pollfd pfd = { .fd = c->tapfd, .events = POLLOUT };
	ssize_t n;

	for (;;) {
		*t_ns = gn_now_ns();
		n = write(c->tapfd, f, len);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0) {
			errno = EIO;	/* a tap write is all or nothing */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		/* a tap is always writable; this is only for safety */
		if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			return -1;
	}
}

static ssize_t tap_recv(struct gn_ctx *c, void *buf, size_t cap,
			int64_t deadline, int64_t *t_ns)
{
	struct pollfd pfd = { .fd = c->tapfd, .events = POLLIN };

	for (;;) {
		int64_t now, left;
		ssize_t n = read(c->tapfd, buf, cap);

		if (n > 0) {
			*t_ns = gn_now_ns();
			return n;
		}
		if (n == 0) {		/* cannot happen on a tap */
			errno = EIO;
			return -1;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (errno == EINTR)
			return -1;	/* let the caller look at signals */
		now = gn_now_ns();
		if (now >= deadline)
			return 0;
		left = (deadline - now + 999999) / 1000000;
		if (left > 1000)
			left = 1000;
		n = poll(&pfd, 1, (int)left);
		if (n < 0)
			return -1;	/* EINTR included */
	}
}

static void tap_teardown(struct gn_ctx *c)
{
	if (c->tapfd >= 0)
		close(c->tapfd);
	c->tapfd = -1;
}

static const struct gn_io tap_io = {
	.prog = "vnacct-tapguest",
	.tap_flags = 0,
	.setup = tap_setup,
	.send = tap_send,
	.recv = tap_recv,
	.teardown = tap_teardown,
};

int main(int argc, char **argv)
{
	return gn_main(argc, argv, &tap_io);
}
