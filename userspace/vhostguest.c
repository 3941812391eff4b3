// SPDX-License-Identifier: GPL-2.0
/*
 * vhostguest.c - vnacct-vhostguest: a test guest that drives /dev/vhost-net
 * as a minimal virtio-net driver, the way QEMU sets it up, so that the host
 * kernel's handle_tx / handle_rx and tun_sendmsg / tun_recvmsg run for real.
 *
 * One anonymous mapping holds both split virtqueues (RX = 0, TX = 1, 256
 * entries each) and their buffers; the vhost memory table maps it 1:1
 * (guest physical address = our virtual address).  Negotiated features:
 * VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MRG_RXBUF when offered, so the
 * virtio-net header is 12 bytes (struct virtio_net_hdr_mrg_rxbuf) and the
 * tap is told the same with TUNSETVNETHDRSZ.  No offloads (TUNSETOFFLOAD 0),
 * no event index, no indirect descriptors.  Protocols, options and the
 * report are in guestnet.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "guestnet.h"

#define VQ_NUM		256
#define VQ_RX		0
#define VQ_TX		1
#define BUF_SIZE	2048	/* >= 1518 + 12 */
#define PAGE		4096

struct vq {
	unsigned int index;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *bufs;			/* VQ_NUM buffers of BUF_SIZE */
	uint16_t avail_idx;		/* next avail index we publish */
	uint16_t last_used;		/* next used index we consume */
	int kick, call;
	/* TX: free descriptor stack */
	uint16_t free_ids[VQ_NUM];
	unsigned int nfree;
};

struct vhost_priv {
	int vhost;
	void *mem;
	size_t mem_len;
	size_t hdr_len;
	bool mrg;
	uint64_t features;
	struct vq vq[2];
	bool backend;
};

static struct vhost_priv vp = { .vhost = -1 };

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* bytes of one split ring: desc + avail (incl. used_event), used aligned */
static size_t ring_bytes(void)
{
	size_t avail_end = 16 * VQ_NUM + 2 * (3 + VQ_NUM);

	return align_up(align_up(avail_end, PAGE) + 2 * 3 + 8 * VQ_NUM, PAGE);
}

static inline uint16_t used_idx_acquire(const struct vq *q)
{
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

/*
 * Publishes one descriptor chain head on the avail ring and kicks vhost
 * unless it asked not to be notified.  *t_ns gets the time just before the
 * avail index update, i.e. when the buffer is handed to the kernel.
 */
static int vq_publish(struct vq *q, uint16_t id, int64_t *t_ns)
{
	uint64_t one = 1;

	q->avail->ring[q->avail_idx % VQ_NUM] = id;
	q->avail_idx++;
	if (t_ns)
		*t_ns = gn_now_ns();
	/* ring entry (and buffer, descriptor) before the index */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	/* index before reading the device's notification flag */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
	      VRING_USED_F_NO_NOTIFY)) {
		if (write(q->kick, &one, sizeof(one)) != sizeof(one))
			return -1;
	}
	return 0;
}

static void drain_eventfd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

static void tx_reclaim(struct vq *q)
{
	uint16_t idx = used_idx_acquire(q);

	while (q->last_used != idx) {
		struct vring_used_elem *e = &q->used->ring[q->last_used %
							     VQ_NUM];

		if (e->id < VQ_NUM && q->nfree < VQ_NUM)
			q->free_ids[q->nfree++] = (uint16_t)e->id;
		q->last_used++;
	}
}

static int vq_init(struct gn_ctx *c, struct vq *q, unsigned int index,
		   uint8_t *ring, uint8_t *bufs)
{
	struct vhost_vring_state st = { .index = index };
	struct vhost_vring_addr addr = { .index = index };
	struct vhost_vring_file f = { .index = index };
	size_t avail_off = 16 * VQ_NUM;
	size_t used_off = align_up(avail_off + 2 * (3 + VQ_NUM), PAGE);

	q->index = index;
	q->desc = (struct vring_desc *)ring;
	q->avail = (struct vring_avail *)(ring + avail_off);
	q->used = (struct vring_used *)(ring + used_off);
	q->bufs = bufs;
	q->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	q->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->kick < 0 || q->call < 0) {
		gn_set_err(c, "eventfd: %m");
		return -1;
	}

	st.num = VQ_NUM;
	if (ioctl(vp.vhost, VHOST_SET_VRING_NUM, &st) < 0) {
		gn_set_err(c, "VHOST_SET_VRING_NUM %u: %m", index);
		return -1;
	}
	st.num = 0;
	if (ioctl(vp.vhost, VHOST_SET_VRING_BASE, &st) < 0) {
		gn_set_err(c, "VHOST_SET_VRING_BASE %u: %m", index);
		return -1;
	}
	addr.desc_user_addr = (uint64_t)(uintptr_t)q->desc;
	addr.avail_user_addr = (uint64_t)(uintptr_t)q->avail;
	addr.used_user_addr = (uint64_t)(uintptr_t)q->used;
	if (ioctl(vp.vhost, VHOST_SET_VRING_ADDR, &addr) < 0) {
		gn_set_err(c, "VHOST_SET_VRING_ADDR %u: %m", index);
		return -1;
	}
	f.fd = q->kick;
	if (ioctl(vp.vhost, VHOST_SET_VRING_KICK, &f) < 0) {
		gn_set_err(c, "VHOST_SET_VRING_KICK %u: %m", index);
		return -1;
	}
	f.fd = q->call;
	if (ioctl(vp.vhost, VHOST_SET_VRING_CALL, &f) < 0) {
		gn_set_err(c, "VHOST_SET_VRING_CALL %u: %m", index);
		return -1;
	}
	return 0;
}

static int set_backend(struct gn_ctx *c, int fd)
{
	for (unsigned int i = 0; i < 2; i++) {
		struct vhost_vring_file f = { .index = i, .fd = fd };

		if (ioctl(vp.vhost, VHOST_NET_SET_BACKEND, &f) < 0) {
			gn_set_err(c, "VHOST_NET_SET_BACKEND %u fd %d: %m", i,
				   fd);
			return -1;
		}
	}
	return 0;
}

static int vhost_setup(struct gn_ctx *c)
{
	struct vhost_memory *mem;
	uint64_t want;
	unsigned int off = 0;
	size_t rb = ring_bytes();
	uint8_t *base;
	int hdr;

	c->priv = &vp;
	vp.vhost = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (vp.vhost < 0) {
		gn_set_err(c, "open /dev/vhost-net: %m");
		return -1;
	}
	if (ioctl(vp.vhost, VHOST_SET_OWNER, NULL) < 0) {
		gn_set_err(c, "VHOST_SET_OWNER: %m");
		return -1;
	}
	if (ioctl(vp.vhost, VHOST_GET_FEATURES, &vp.features) < 0) {
		gn_set_err(c, "VHOST_GET_FEATURES: %m");
		return -1;
	}
	want = vp.features & ((1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_NET_F_MRG_RXBUF));
	vp.mrg = want & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	vp.hdr_len = want ? sizeof(struct virtio_net_hdr_mrg_rxbuf) :
			    sizeof(struct virtio_net_hdr);

	/* the tap reads/writes the header; vhost passes it through */
	hdr = (int)vp.hdr_len;
	if (ioctl(c->tapfd, TUNSETVNETHDRSZ, &hdr) < 0) {
		gn_set_err(c, "TUNSETVNETHDRSZ %d: %m", hdr);
		return -1;
	}
	if (ioctl(c->tapfd, TUNSETOFFLOAD, 0) < 0) {
		gn_set_err(c, "TUNSETOFFLOAD 0: %m");
		return -1;
	}
	if (ioctl(vp.vhost, VHOST_SET_FEATURES, &want) < 0) {
		gn_set_err(c, "VHOST_SET_FEATURES %#llx: %m",
			   (unsigned long long)want);
		return -1;
	}
	vp.features = want;

	vp.mem_len = 2 * rb + 2 * (size_t)VQ_NUM * BUF_SIZE;
	base = mmap(NULL, vp.mem_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (base == MAP_FAILED) {
		gn_set_err(c, "mmap %zu bytes: %m", vp.mem_len);
		return -1;
	}
	vp.mem = base;

	mem = calloc(1, sizeof(*mem) + sizeof(mem->regions[0]));
	if (!mem) {
		gn_set_err(c, "calloc: %m");
		return -1;
	}
	mem->nregions = 1;
	mem->regions[0].guest_phys_addr = (uint64_t)(uintptr_t)base;
	mem->regions[0].userspace_addr = (uint64_t)(uintptr_t)base;
	mem->regions[0].memory_size = vp.mem_len;
	if (ioctl(vp.vhost, VHOST_SET_MEM_TABLE, mem) < 0) {
		gn_set_err(c, "VHOST_SET_MEM_TABLE: %m");
		free(mem);
		return -1;
	}
	free(mem);

	if (vq_init(c, &vp.vq[VQ_RX], VQ_RX, base,
		    base + 2 * rb) < 0 ||
	    vq_init(c, &vp.vq[VQ_TX], VQ_TX, base + rb,
		    base + 2 * rb + (size_t)VQ_NUM * BUF_SIZE) < 0)
		return -1;

	/* RX: every buffer device-writable and available */
	for (unsigned int i = 0; i < VQ_NUM; i++) {
		struct vq *q = &vp.vq[VQ_RX];

		q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs +
							 (size_t)i * BUF_SIZE);
		q->desc[i].len = BUF_SIZE;
		q->desc[i].flags = VRING_DESC_F_WRITE;
		q->desc[i].next = 0;
		q->avail->ring[i] = (uint16_t)i;
	}
	vp.vq[VQ_RX].avail_idx = VQ_NUM;
	__atomic_store_n(&vp.vq[VQ_RX].avail->idx, VQ_NUM, __ATOMIC_RELEASE);
	/* TX: all descriptors free */
	for (unsigned int i = 0; i < VQ_NUM; i++)
		vp.vq[VQ_TX].free_ids[off++] = (uint16_t)(VQ_NUM - 1 - i);
	vp.vq[VQ_TX].nfree = off;

	if (set_backend(c, c->tapfd) < 0)
		return -1;
	vp.backend = true;
	{
		uint64_t one = 1;

		if (write(vp.vq[VQ_RX].kick, &one, sizeof(one)) !=
		    sizeof(one)) {
			gn_set_err(c, "kick: %m");
			return -1;
		}
	}
	return 0;
}

/* Waits for a call eventfd (RX and TX) until deadline; 0 on timeout. */
static int wait_calls(int64_t deadline)
{
	struct pollfd pfd[2] = {
		{ .fd = vp.vq[VQ_RX].call, .events = POLLIN },
		{ .fd = vp.vq[VQ_TX].call, .events = POLLIN },
	};
	int64_t now = gn_now_ns(), left;
	int n;

	if (now >= deadline)
		return 0;
	left = (deadline - now + 999999) / 1000000;
	if (left > 1000)
		left = 1000;
	n = poll(pfd, 2, (int)left);
	if (n < 0)
		return -1;
	if (pfd[0].revents & POLLIN)
		drain_eventfd(pfd[0].fd);
	if (pfd[1].revents & POLLIN)
		drain_eventfd(pfd[1].fd);
	return n;
}

static int vhost_send(struct gn_ctx *c, const void *f, size_t len,
		      int64_t *t_ns)
{
	struct vq *q = &vp.vq[VQ_TX];
	int64_t deadline = gn_now_ns() + (int64_t)c->cfg.timeout_ms * 1000000;
	uint8_t *buf;
	uint16_t id;

	if (len + vp.hdr_len > BUF_SIZE) {
		errno = EMSGSIZE;
		return -1;
	}
	tx_reclaim(q);
	while (!q->nfree) {
		int r = wait_calls(deadline);

		if (r < 0 && errno != EINTR)
			return -1;
		tx_reclaim(q);
		if (r == 0 && !q->nfree && gn_now_ns() >= deadline) {
			errno = ETIMEDOUT;	/* vhost never used our TX */
			return -1;
		}
	}
	id = q->free_ids[--q->nfree];
	buf = q->bufs + (size_t)id * BUF_SIZE;
	memset(buf, 0, vp.hdr_len);	/* no offloads, checksums complete */
	memcpy(buf + vp.hdr_len, f, len);
	q->desc[id].addr = (uint64_t)(uintptr_t)buf;
	q->desc[id].len = (uint32_t)(vp.hdr_len + len);
	q->desc[id].flags = 0;
	q->desc[id].next = 0;
	return vq_publish(q, id, t_ns);
}

static void rx_repost(struct vq *q, uint16_t id)
{
	q->desc[id].addr = (uint64_t)(uintptr_t)(q->bufs +
						 (size_t)id * BUF_SIZE);
	q->desc[id].len = BUF_SIZE;
	q->desc[id].flags = VRING_DESC_F_WRITE;
	vq_publish(q, id, NULL);
}

/*
 * Takes one received frame off the RX used ring, if any: copies it (minus
 * the virtio-net header; with mergeable buffers possibly from several
 * buffers) to buf and gives the buffers back.  Returns the frame length,
 * 0 if the used ring is empty; *t_ns is when the used entry was seen.
 */
static ssize_t rx_take(void *buf, size_t cap, int64_t *t_ns)
{
	struct vq *q = &vp.vq[VQ_RX];
	uint16_t idx = used_idx_acquire(q);
	unsigned int nbufs = 1, k;
	size_t out = 0;

	if (q->last_used == idx)
		return 0;
	*t_ns = gn_now_ns();	/* the frame is in our memory now */
	for (k = 0; k < nbufs; k++) {
		struct vring_used_elem *e;
		uint8_t *b;
		size_t len, skip = 0;
		uint16_t id;

		if (q->last_used == idx)
			idx = used_idx_acquire(q);
		if (q->last_used == idx)
			break;		/* device broke its promise */
		e = &q->used->ring[q->last_used % VQ_NUM];
		id = (uint16_t)e->id;
		len = e->len;
		q->last_used++;
		if (id >= VQ_NUM)
			continue;
		b = q->bufs + (size_t)id * BUF_SIZE;
		if (len > BUF_SIZE)
			len = BUF_SIZE;
		if (k == 0) {
			struct virtio_net_hdr_mrg_rxbuf *h = (void *)b;

			if (vp.mrg && h->num_buffers > 1)
				nbufs = h->num_buffers;
			skip = vp.hdr_len < len ? vp.hdr_len : len;
		}
		if (out + len - skip <= cap) {
			memcpy((uint8_t *)buf + out, b + skip, len - skip);
			out += len - skip;
		}
		rx_repost(q, id);
	}
	return (ssize_t)out;
}

static ssize_t vhost_recv(struct gn_ctx *c, void *buf, size_t cap,
			  int64_t deadline, int64_t *t_ns)
{
	(void)c;
	for (;;) {
		ssize_t n = rx_take(buf, cap, t_ns);
		int r;

		if (n > 0)
			return n;
		tx_reclaim(&vp.vq[VQ_TX]);
		r = wait_calls(deadline);
		if (r < 0)
			return -1;	/* EINTR included */
		if (r == 0 && gn_now_ns() >= deadline)
			return rx_take(buf, cap, t_ns);
	}
}

/* Lets vhost finish our TX, then detaches the tap so no more RX arrives. */
static void vhost_quiesce(struct gn_ctx *c)
{
	struct vq *q = &vp.vq[VQ_TX];
	int64_t deadline = gn_now_ns() + (int64_t)c->cfg.timeout_ms * 1000000;

	if (!vp.backend)
		return;
	tx_reclaim(q);
	while (q->nfree < VQ_NUM && gn_now_ns() < deadline) {
		if (wait_calls(deadline) < 0 && errno != EINTR)
			break;
		tx_reclaim(q);
	}
	if (q->nfree < VQ_NUM)
		gn_set_err(c, "vhost did not complete %u TX buffers",
			   VQ_NUM - q->nfree);
	/* stop RX and TX processing; what is in the used ring stays there */
	if (set_backend(c, -1) == 0)
		vp.backend = false;
}

static void vhost_teardown(struct gn_ctx *c)
{
	if (vp.backend)
		set_backend(c, -1);
	if (vp.vhost >= 0)
		close(vp.vhost);
	for (unsigned int i = 0; i < 2; i++) {
		if (vp.vq[i].kick > 0)
			close(vp.vq[i].kick);
		if (vp.vq[i].call > 0)
			close(vp.vq[i].call);
	}
	if (vp.mem)
		munmap(vp.mem, vp.mem_len);
	if (c->tapfd >= 0)
		close(c->tapfd);
	c->tapfd = -1;
}

static const struct gn_io vhost_io = {
	.prog = "vnacct-vhostguest",
	.tap_flags = IFF_VNET_HDR,
	.setup = vhost_setup,
	.send = vhost_send,
	.recv = vhost_recv,
	.quiesce = vhost_quiesce,
	.teardown = vhost_teardown,
};

int main(int argc, char **argv)
{
	return gn_main(argc, argv, &vhost_io);
}
