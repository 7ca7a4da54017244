// SPDX-License-Identifier: BSD-2-Clause
/*
 * tuntest: the in-kernel test of if_tun.ko (the Rust port of DragonFly's tun driver).
 *
 * Runs as root inside the qemu guest (kernel/test/init.sh, after `insmod /if_tun.ko`) and
 * drives the driver with real syscalls and the driver's BSD ioctl numbers (not Linux's):
 * /dev/tun0 on one side, Linux's IPv4 stack (sockets, ICMP) on the other.  Prints one line
 * per check, `PASS name` or `FAIL name: reason`, `INFO ...` lines for context, and finally
 * `TUNTEST DONE pass=N fail=M`.  Every check runs (a failed prerequisite makes the later
 * ones fail with a reason), so N+M is always the number of checks.
 *
 * Usage: tuntest [--selftest | --linux-tun] [--list]
 *   --selftest  checks that need no tun driver: the packet builders and checkers against
 *               Linux's loopback (raw sockets); the harness uses it with a stand-in module
 *   --linux-tun the data-path checks against Linux's own tun (/dev/net/tun), to check the
 *               checks on a host: `unshare -n tuntest --linux-tun` (see t_open_linux_tun)
 *   --list      print the names of the checks (of the chosen mode) and exit; the host
 *               side (kernel-test.sh) counts them to know how many PASS lines to expect
 *
 * Build: gcc -static -O2 -Wall -Werror -o tuntest tuntest.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The driver's ioctls: DragonFly's numbers (_IOW/_IOR/_IO of sys/net/tun/if_tun.h). */
#define TUNSDEBUG 0x8004745aUL
#define TUNGDEBUG 0x40047459UL
#define TUNSIFINFO 0x8008745bUL
#define TUNGIFINFO 0x4008745cUL
#define TUNSLMODE 0x8004745dUL
#define TUNSIFMODE 0x8004745eUL
#define TUNSIFPID 0x2000745fUL
#define TUNSIFHEAD 0x80047460UL
#define TUNGIFHEAD 0x40047461UL
#define BSD_FIONREAD 0x4004667fUL
#define BSD_FIONBIO 0x8004667eUL
#define BSD_FIOASYNC 0x8004667dUL
#define BSD_FIOSETOWN 0x8004667cUL
#define BSD_FIOGETOWN 0x4004667bUL

struct tuninfo {
	int baudrate;
	unsigned short mtu;
	unsigned char type;
	unsigned char dummy;
};
_Static_assert(sizeof(struct tuninfo) == 8, "struct tuninfo is 8 bytes (TUNSIFINFO's size)");

#define TUN_DEV "/dev/tun0"
#define TUN_CLONE "/dev/tun"
#define TUN_IF "tun0"
#define LOCAL_ADDR "10.0.0.1" /* tun0's address: the guest's side */
#define PEER_ADDR "10.0.0.2"  /* tun0's destination: the "remote" behind the descriptor */
#define WAIT_MS 5000

/* ---------------------------------------------------------------- state and reporting */

static int tunfd = -1;		/* /dev/tun0, open from open_tun0 to close_down */
static int ifsock = -1;		/* AF_INET datagram socket for the interface ioctls */
static int tun_configured;	/* tun0 has its addresses and is up */
static char why[1024];		/* the reason of the current check's failure */
static volatile sig_atomic_t sigio_count;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return 0;
}

static void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
	va_list ap;

	fputs("INFO ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

#define NEED_FD()                                                    \
	do {                                                         \
		if (tunfd < 0)                                       \
			return fail("no descriptor: " TUN_DEV " is not open"); \
	} while (0)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* SIGALRM without SA_RESTART: a blocking syscall guarded by alarm() returns EINTR. */
static void install_alarm_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

/* ---------------------------------------------------------------- packets */

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr; /* network order */
}

static const char *ntoa(uint32_t a, char *buf)
{
	struct in_addr in = { a };

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

/* A 20-byte IPv4 header at p for a packet of total length len. */
static void build_ip(uint8_t *p, size_t len, uint8_t proto, uint32_t src, uint32_t dst, uint16_t id)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)len);
	put16(p + 4, id);
	put16(p + 6, 0x4000); /* DF */
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	put16(p + 10, fold(sum16(p, 20, 0)));
}

static size_t build_icmp_echo(uint8_t *p, uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
			      const void *data, size_t dlen)
{
	size_t len = 20 + 8 + dlen;
	uint8_t *icmp = p + 20;

	build_ip(p, len, IPPROTO_ICMP, src, dst, 0x1234);
	icmp[0] = 8; /* echo request */
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	memcpy(icmp + 8, data, dlen);
	put16(icmp + 2, fold(sum16(icmp, 8 + dlen, 0)));
	return len;
}

static uint32_t pseudo_sum(const uint8_t *ip, uint16_t l4len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	put16(ph + 10, l4len);
	return sum16(ph, 12, 0);
}

static size_t build_udp(uint8_t *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			const void *data, size_t dlen)
{
	size_t len = 20 + 8 + dlen;
	uint8_t *udp = p + 20;
	uint16_t c;

	build_ip(p, len, IPPROTO_UDP, src, dst, 0x4321);
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + dlen));
	put16(udp + 6, 0);
	memcpy(udp + 8, data, dlen);
	c = fold(sum16(udp, 8 + dlen, pseudo_sum(p, (uint16_t)(8 + dlen))));
	put16(udp + 6, c ? c : 0xffff);
	return len;
}

/* Checks an IPv4 header: version, length, checksum, protocol, addresses (0: any). */
static int check_ip(const uint8_t *p, size_t len, uint8_t proto, uint32_t src, uint32_t dst)
{
	size_t hl;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t s, d;

	if (len < 20)
		return fail("packet of %zu bytes: too short for IPv4", len);
	if (p[0] >> 4 != 4)
		return fail("IP version %d, not 4 (first byte 0x%02x)", p[0] >> 4, p[0]);
	hl = (size_t)(p[0] & 15) * 4;
	if (hl < 20 || hl > len)
		return fail("IP header length %zu in a %zu-byte packet", hl, len);
	if (get16(p + 2) != len)
		return fail("IP total length %u but %zu bytes read", get16(p + 2), len);
	if (fold(sum16(p, hl, 0)) != 0)
		return fail("bad IP header checksum 0x%04x", get16(p + 10));
	if (p[9] != proto)
		return fail("IP protocol %u, wanted %u", p[9], proto);
	memcpy(&s, p + 12, 4);
	memcpy(&d, p + 16, 4);
	if ((src && s != src) || (dst && d != dst))
		return fail("addresses %s > %s, wanted %s > %s", ntoa(s, a), ntoa(d, b),
			    src ? ntoa(src, a) : "any", dst ? ntoa(dst, b) : "any");
	return 1;
}

/* An ICMP echo reply src > dst with this id, seq and data, checksums valid. */
static int check_echo_reply(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, uint16_t id,
			    uint16_t seq, const void *data, size_t dlen)
{
	size_t hl;
	const uint8_t *icmp;

	if (!check_ip(p, len, IPPROTO_ICMP, src, dst))
		return 0;
	hl = (size_t)(p[0] & 15) * 4;
	icmp = p + hl;
	if (len - hl < 8)
		return fail("ICMP message of %zu bytes", len - hl);
	if (icmp[0] != 0 || icmp[1] != 0)
		return fail("ICMP type %u code %u, not an echo reply", icmp[0], icmp[1]);
	if (fold(sum16(icmp, len - hl, 0)) != 0)
		return fail("bad ICMP checksum 0x%04x", get16(icmp + 2));
	if (get16(icmp + 4) != id || get16(icmp + 6) != seq)
		return fail("ICMP id/seq %u/%u, wanted %u/%u", get16(icmp + 4), get16(icmp + 6), id, seq);
	if (len - hl - 8 != dlen || memcmp(icmp + 8, data, dlen) != 0)
		return fail("echo payload differs (%zu bytes, wanted %zu)", len - hl - 8, dlen);
	return 1;
}

/* A UDP datagram src:sport > dst:dport (0: any) with this payload, checksums valid. */
static int check_udp(const uint8_t *p, size_t len, uint32_t src, uint16_t sport, uint32_t dst,
		     uint16_t dport, const void *data, size_t dlen)
{
	size_t hl;
	const uint8_t *udp;

	if (!check_ip(p, len, IPPROTO_UDP, src, dst))
		return 0;
	hl = (size_t)(p[0] & 15) * 4;
	udp = p + hl;
	if (len - hl < 8)
		return fail("UDP datagram of %zu bytes", len - hl);
	if (get16(udp + 4) != len - hl)
		return fail("UDP length %u in %zu bytes", get16(udp + 4), len - hl);
	if (get16(udp + 6) != 0 &&
	    fold(sum16(udp, len - hl, pseudo_sum(p, (uint16_t)(len - hl)))) != 0)
		return fail("bad UDP checksum 0x%04x (partial checksum left by an offload?)",
			    get16(udp + 6));
	if ((sport && get16(udp) != sport) || (dport && get16(udp + 2) != dport))
		return fail("UDP ports %u > %u, wanted %u > %u", get16(udp), get16(udp + 2), sport, dport);
	if (len - hl - 8 != dlen || memcmp(udp + 8, data, dlen) != 0)
		return fail("UDP payload differs (%zu bytes, wanted %zu)", len - hl - 8, dlen);
	return 1;
}

/* One line describing an IPv4 packet (for INFO lines). */
static const char *describe(const uint8_t *p, size_t len)
{
	static char out[256];
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t s, d;
	size_t hl;
	const uint8_t *l4;

	if (len < 20 || p[0] >> 4 != 4) {
		snprintf(out, sizeof(out), "%zu bytes, not IPv4 (%02x %02x %02x %02x)", len,
			 len > 0 ? p[0] : 0, len > 1 ? p[1] : 0, len > 2 ? p[2] : 0, len > 3 ? p[3] : 0);
		return out;
	}
	hl = (size_t)(p[0] & 15) * 4;
	l4 = p + hl;
	memcpy(&s, p + 12, 4);
	memcpy(&d, p + 16, 4);
	ntoa(s, a);
	ntoa(d, b);
	if (p[9] == IPPROTO_ICMP && len >= hl + 8)
		snprintf(out, sizeof(out), "IPv4 %zu bytes ICMP type %u code %u %s > %s id=%u seq=%u ttl=%u",
			 len, l4[0], l4[1], a, b, get16(l4 + 4), get16(l4 + 6), p[8]);
	else if (p[9] == IPPROTO_UDP && len >= hl + 8)
		snprintf(out, sizeof(out), "IPv4 %zu bytes UDP %s:%u > %s:%u len=%u ttl=%u", len, a,
			 get16(l4), b, get16(l4 + 2), get16(l4 + 4), p[8]);
	else
		snprintf(out, sizeof(out), "IPv4 %zu bytes proto %u %s > %s", len, p[9], a, b);
	return out;
}

/* ---------------------------------------------------------------- descriptor helpers */

static int ioctl_int(int fd, unsigned long req, int *v)
{
	return ioctl(fd, req, v);
}

static int set_ifhead(int on)
{
	int v = on;

	return ioctl_int(tunfd, TUNSIFHEAD, &v);
}

/* Reads and discards whatever is queued on the descriptor (returns the count). */
static int drain(void)
{
	uint8_t buf[4096];
	struct pollfd pfd = { tunfd, POLLIN, 0 };
	int n = 0;

	while (tunfd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) && n < 64) {
		ssize_t r;

		alarm(2);
		r = read(tunfd, buf, sizeof(buf));
		alarm(0);
		if (r <= 0)
			break;
		info("drained a stray packet: %s", describe(buf, (size_t)r));
		n++;
	}
	return n;
}

/*
 * Reads one packet from the descriptor within timeout_ms (poll first, then a blocking read
 * guarded by alarm).  Returns its length, or -1 with `why` set.
 */
static ssize_t read_tun(uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { tunfd, POLLIN, 0 };
	ssize_t r;
	int p;

	p = poll(&pfd, 1, timeout_ms);
	if (p < 0)
		return fail("poll: %s", strerror(errno)), -1;
	if (p == 0)
		return fail("nothing to read within %d ms (poll timed out)", timeout_ms), -1;
	if (!(pfd.revents & POLLIN))
		return fail("poll revents 0x%x without POLLIN", pfd.revents), -1;
	alarm(5);
	r = read(tunfd, buf, cap);
	alarm(0);
	if (r < 0)
		return fail("read after POLLIN: %s", strerror(errno)), -1;
	if (r == 0)
		return fail("read after POLLIN returned 0 (EOF)"), -1;
	return r;
}

/*
 * Like read_tun, but skips (with an INFO line) what is not an IPv4 packet: the guest
 * kernel has IPv6, whose router solicitations and MLD reports go out through tun0 too
 * (queued with TUNSIFHEAD on, and possibly read later).  off is 4 when the packets carry
 * TUNSIFHEAD's address family, which must then be AF_INET (00 00 00 02).
 */
static ssize_t read_v4(uint8_t *buf, size_t cap, int timeout_ms, size_t off)
{
	long t0 = now_ms();
	int skips;

	for (skips = 0; skips < 16; skips++) {
		int left = timeout_ms - (int)(now_ms() - t0);
		ssize_t r = read_tun(buf, cap, left > 0 ? left : 0);

		if (r < 0)
			return -1;
		if ((size_t)r > off && buf[off] >> 4 == 4)
			return r; /* IPv4: the caller checks it (and its header) */
		if (((size_t)r > off && buf[off] >> 4 == 6) || (off == 0 && r > 4 && buf[4] >> 4 == 6)) {
			info("skipping an IPv6 packet: %zd bytes, first bytes %02x %02x %02x %02x %02x", r,
			     buf[0], buf[1], buf[2], buf[3], r > 4 ? buf[4] : 0);
			continue;
		}
		return r; /* neither: the caller's check says what is wrong with it */
	}
	return fail("16 packets in a row were IPv6, none IPv4"), -1;
}

/* Sends a UDP datagram from a guest socket to PEER_ADDR:port: routed out through tun0. */
static int send_out(uint16_t port, const char *payload)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t r;

	if (s < 0)
		return fail("socket: %s", strerror(errno));
	to.sin_addr.s_addr = addr(PEER_ADDR);
	r = sendto(s, payload, strlen(payload), 0, (struct sockaddr *)&to, sizeof(to));
	close(s);
	if (r != (ssize_t)strlen(payload))
		return fail("sendto %s:%u: %s", PEER_ADDR, port, r < 0 ? strerror(errno) : "short");
	return 1;
}

/* The datagram send_out(port, payload) produces, as read from the descriptor (plain mode). */
static int check_out(const uint8_t *buf, size_t len, uint16_t port, const char *payload)
{
	return check_udp(buf, len, addr(LOCAL_ADDR), 0, addr(PEER_ADDR), port, payload, strlen(payload));
}

static int ifreq_flags(const char *ifname, short *flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(ifsock, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	*flags = ifr.ifr_flags;
	return 0;
}

static const char *flag_names(short f)
{
	static char out[128];

	snprintf(out, sizeof(out), "0x%x%s%s%s%s%s%s", (unsigned short)f, f & IFF_UP ? " UP" : "",
		 f & IFF_RUNNING ? " RUNNING" : "", f & IFF_POINTOPOINT ? " POINTOPOINT" : "",
		 f & IFF_NOARP ? " NOARP" : "", f & IFF_BROADCAST ? " BROADCAST" : "",
		 f & IFF_MULTICAST ? " MULTICAST" : "");
	return out;
}

static int bring_up(const char *ifname)
{
	struct ifreq ifr;
	short f;

	if (ifsock < 0)
		return fail("no AF_INET socket");
	if (ifreq_flags(ifname, &f) < 0)
		return fail("SIOCGIFFLAGS %s: %s", ifname, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_flags = f | IFF_UP | IFF_RUNNING;
	if (ioctl(ifsock, SIOCSIFFLAGS, &ifr) < 0)
		return fail("SIOCSIFFLAGS %s UP|RUNNING: %s", ifname, strerror(errno));
	if (ifreq_flags(ifname, &f) < 0)
		return fail("SIOCGIFFLAGS %s after SIOCSIFFLAGS: %s", ifname, strerror(errno));
	info("%s flags %s", ifname, flag_names(f));
	if (!(f & IFF_UP))
		return fail("%s is not up after SIOCSIFFLAGS: flags %s", ifname, flag_names(f));
	return 1;
}

static int set_if_addr(unsigned long set, unsigned long get, const char *name, const char *a)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	char got[INET_ADDRSTRLEN];

	if (ifsock < 0)
		return fail("no AF_INET socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TUN_IF);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = addr(a);
	if (ioctl(ifsock, set, &ifr) < 0)
		return fail("%s %s %s: %s", name, TUN_IF, a, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TUN_IF);
	if (ioctl(ifsock, get, &ifr) < 0)
		return fail("reading back %s: %s", name, strerror(errno));
	if (sin->sin_addr.s_addr != addr(a))
		return fail("%s reads back %s, wanted %s", name, ntoa(sin->sin_addr.s_addr, got), a);
	return 1;
}

/* ---------------------------------------------------------------- the checks */

static int t_devnode_tun0(void)
{
	struct stat st;

	if (stat(TUN_DEV, &st) < 0)
		return fail("stat %s: %s", TUN_DEV, strerror(errno));
	info("%s: mode 0%o uid %u gid %u rdev %u:%u", TUN_DEV, st.st_mode & 07777, st.st_uid,
	     st.st_gid, major(st.st_rdev), minor(st.st_rdev));
	if (!S_ISCHR(st.st_mode))
		return fail("%s is not a character device (mode 0%o)", TUN_DEV, st.st_mode);
	if ((st.st_mode & 07777) != 0600 || st.st_uid != 66 || st.st_gid != 68)
		return fail("%s has mode 0%o uid %u gid %u, wanted 0600 uid 66 gid 68", TUN_DEV,
			    st.st_mode & 07777, st.st_uid, st.st_gid);
	return 1;
}

static int t_open_tun0(void)
{
	tunfd = open(TUN_DEV, O_RDWR);
	if (tunfd < 0)
		return fail("open %s O_RDWR: %s", TUN_DEV, strerror(errno));
	return 1;
}

static int t_open_busy(void)
{
	int fd;

	NEED_FD();
	fd = open(TUN_DEV, O_RDWR);
	if (fd >= 0) {
		close(fd);
		return fail("a second open of %s succeeded", TUN_DEV);
	}
	if (errno != EBUSY)
		return fail("second open: %s, wanted EBUSY", strerror(errno));
	return 1;
}

static int t_open_nonroot(void)
{
	int pfd[2], res = 0;
	pid_t pid;
	int st;

	if (pipe(pfd) < 0)
		return fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd, r;

		close(pfd[0]);
		if (setgroups(0, NULL) < 0 || setgid(1000) < 0 || setuid(1000) < 0) {
			r = -2;
		} else {
			fd = open(TUN_DEV, O_RDWR);
			r = fd >= 0 ? -1 : errno;
		}
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &res, sizeof(res)) != sizeof(res))
		res = -3;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (res == -2)
		return fail("the child could not setuid(1000)");
	if (res == -3)
		return fail("no answer from the child");
	if (res == -1)
		return fail("uid 1000 opened %s", TUN_DEV);
	if (res != EACCES && res != EPERM)
		return fail("uid 1000's open failed with %s, wanted EACCES or EPERM", strerror(res));
	info("uid 1000's open of %s: %s", TUN_DEV, strerror(res));
	return 1;
}

static int t_lo_up(void)
{
	if (ifsock < 0)
		ifsock = socket(AF_INET, SOCK_DGRAM, 0);
	if (ifsock < 0)
		return fail("socket(AF_INET, SOCK_DGRAM): %s", strerror(errno));
	return bring_up("lo");
}

static int t_tun0_addr(void)
{
	return set_if_addr(SIOCSIFADDR, SIOCGIFADDR, "SIOCSIFADDR", LOCAL_ADDR);
}

static int t_tun0_dstaddr(void)
{
	return set_if_addr(SIOCSIFDSTADDR, SIOCGIFDSTADDR, "SIOCSIFDSTADDR", PEER_ADDR);
}

static int t_tun0_up(void)
{
	struct ifreq ifr;

	if (!bring_up(TUN_IF))
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TUN_IF);
	if (ioctl(ifsock, SIOCGIFMTU, &ifr) == 0)
		info("%s mtu %d, ifindex %u", TUN_IF, ifr.ifr_mtu, if_nametoindex(TUN_IF));
	tun_configured = 1;
	return 1;
}

static int t_tungifhead_default(void)
{
	int v = -1;

	NEED_FD();
	if (ioctl_int(tunfd, TUNGIFHEAD, &v) < 0)
		return fail("TUNGIFHEAD: %s", strerror(errno));
	if (v != 0)
		return fail("TUNGIFHEAD reads %d after open, wanted 0", v);
	return 1;
}

static int t_tunsifhead_on(void)
{
	int v = -1;

	NEED_FD();
	if (set_ifhead(1) < 0)
		return fail("TUNSIFHEAD 1: %s", strerror(errno));
	if (ioctl_int(tunfd, TUNGIFHEAD, &v) < 0)
		return fail("TUNGIFHEAD: %s", strerror(errno));
	if (v != 1)
		return fail("TUNGIFHEAD reads %d after TUNSIFHEAD 1, wanted 1", v);
	return 1;
}

static int t_tunsifhead_off(void)
{
	int v = -1;

	NEED_FD();
	if (set_ifhead(0) < 0)
		return fail("TUNSIFHEAD 0: %s", strerror(errno));
	if (ioctl_int(tunfd, TUNGIFHEAD, &v) < 0)
		return fail("TUNGIFHEAD: %s", strerror(errno));
	if (v != 0)
		return fail("TUNGIFHEAD reads %d after TUNSIFHEAD 0, wanted 0", v);
	return 1;
}

static int t_tundebug(void)
{
	int old = -1, v = -1, zero = 0;

	NEED_FD();
	if (ioctl_int(tunfd, TUNGDEBUG, &old) < 0)
		return fail("TUNGDEBUG: %s", strerror(errno));
	if (ioctl_int(tunfd, TUNSDEBUG, &zero) < 0)
		return fail("TUNSDEBUG 0: %s", strerror(errno));
	if (ioctl_int(tunfd, TUNGDEBUG, &v) < 0)
		return fail("TUNGDEBUG after TUNSDEBUG: %s", strerror(errno));
	if (ioctl_int(tunfd, TUNSDEBUG, &old) < 0)
		return fail("TUNSDEBUG %d (restore): %s", old, strerror(errno));
	if (v != 0)
		return fail("TUNGDEBUG reads %d after TUNSDEBUG 0", v);
	info("tundebug was %d", old);
	return 1;
}

/* Writes an echo request PEER > LOCAL (with the 4-byte header if ifhead) and checks the reply. */
static int echo_round(int ifhead, uint16_t seq)
{
	static const char data[] = "if_tun echo payload 0123456789abcdef";
	uint8_t pkt[256], buf[4096];
	size_t len, off = ifhead ? 4 : 0;
	uint16_t id = 0x7475; /* "tu" */
	ssize_t w, r;
	int tries;

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	drain();
	if (ifhead) {
		uint32_t af = htonl(AF_INET);

		memcpy(pkt, &af, 4);
	}
	len = build_icmp_echo(pkt + off, addr(PEER_ADDR), addr(LOCAL_ADDR), id, seq, data, sizeof(data) - 1);
	w = write(tunfd, pkt, len + off);
	if (w != (ssize_t)(len + off))
		return fail("write of the %zu-byte echo request: %s", len + off,
			    w < 0 ? strerror(errno) : "short write");
	for (tries = 0; tries < 8; tries++) {
		r = read_v4(buf, sizeof(buf), WAIT_MS, off);
		if (r < 0) {
			char reason[sizeof(why)];

			snprintf(reason, sizeof(reason), "%s", why);
			return fail("no echo reply: %.900s", reason);
		}
		if (ifhead) {
			if (r < 4)
				return fail("%zd-byte read with TUNSIFHEAD on", r);
			if (memcmp(buf, "\0\0\0\2", 4) != 0)
				return fail("reply header %02x %02x %02x %02x, wanted 00 00 00 02 (AF_INET)",
					    buf[0], buf[1], buf[2], buf[3]);
		}
		if ((size_t)r > off + 20 && buf[off + 9] == IPPROTO_ICMP)
			break;
		info("skipping a packet that is not ICMP: %s", describe(buf + off, (size_t)r - off));
	}
	if (tries == 8)
		return fail("8 packets and no ICMP among them");
	info("echo reply%s: %s", ifhead ? " (after header 00 00 00 02)" : "",
	     describe(buf + off, (size_t)r - off));
	return check_echo_reply(buf + off, (size_t)r - off, addr(LOCAL_ADDR), addr(PEER_ADDR), id, seq,
				data, sizeof(data) - 1);
}

static int t_icmp_echo(void)
{
	return echo_round(0, 1);
}

static int t_icmp_echo_ifhead(void)
{
	int ok, v = -1;

	NEED_FD();
	if (set_ifhead(1) < 0)
		return fail("TUNSIFHEAD 1: %s", strerror(errno));
	ok = echo_round(1, 2);
	if (set_ifhead(0) < 0)
		return ok ? fail("TUNSIFHEAD 0 afterwards: %s", strerror(errno)) : 0;
	if (ok && (ioctl_int(tunfd, TUNGIFHEAD, &v) < 0 || v != 0))
		return fail("TUNGIFHEAD is %d after TUNSIFHEAD 0", v);
	return ok;
}

static int t_udp_inject(void)
{
	static const char data[] = "udp from the tun side";
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(5000) }, from;
	socklen_t flen = sizeof(from);
	struct timeval tv = { WAIT_MS / 1000, 0 };
	uint8_t pkt[256];
	char buf[256], a[INET_ADDRSTRLEN];
	size_t len;
	ssize_t w, r;
	int s, ok;

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return fail("socket: %s", strerror(errno));
	me.sin_addr.s_addr = addr(LOCAL_ADDR);
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(s);
		return fail("bind %s:5000: %s", LOCAL_ADDR, strerror(errno));
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = build_udp(pkt, addr(PEER_ADDR), 4000, addr(LOCAL_ADDR), 5000, data, sizeof(data) - 1);
	w = write(tunfd, pkt, len);
	if (w != (ssize_t)len) {
		close(s);
		return fail("write of the %zu-byte datagram: %s", len, w < 0 ? strerror(errno) : "short");
	}
	r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	close(s);
	if (r < 0)
		return fail("recvfrom on %s:5000: %s", LOCAL_ADDR,
			    errno == EAGAIN ? "nothing within 5 s" : strerror(errno));
	ok = r == (ssize_t)(sizeof(data) - 1) && memcmp(buf, data, (size_t)r) == 0;
	info("socket received %zd bytes from %s:%u", r, ntoa(from.sin_addr.s_addr, a), ntohs(from.sin_port));
	if (!ok)
		return fail("received payload differs (%zd bytes)", r);
	if (from.sin_addr.s_addr != addr(PEER_ADDR) || ntohs(from.sin_port) != 4000)
		return fail("source %s:%u, wanted %s:4000", a, ntohs(from.sin_port), PEER_ADDR);
	return 1;
}

static const char fionread_payload[] = "fionread probe";

static int t_fionread_queued(void)
{
	int n = 0, skipped = 0;
	long t0;
	int want = 20 + 8 + (int)strlen(fionread_payload);

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	drain();
	if (!send_out(7, fionread_payload))
		return 0;
	for (t0 = now_ms(); now_ms() - t0 < WAIT_MS; sleep_ms(10)) {
		if (ioctl_int(tunfd, BSD_FIONREAD, &n) < 0)
			return fail("FIONREAD: %s", strerror(errno));
		if (n != 0 && n != want && skipped < 8) {
			uint8_t buf[4096];
			ssize_t r;

			alarm(2);
			r = read(tunfd, buf, sizeof(buf));
			alarm(0);
			if (r > 0 && buf[0] >> 4 != 4) {
				info("FIONREAD %d: a stray non-IPv4 packet (%zd bytes) is queued first: skipped", n, r);
				skipped++;
				continue;
			}
			if (r > 0)
				return fail("FIONREAD %d, and the queued packet was: %s", n, describe(buf, (size_t)r));
		}
		if (n != 0)
			break;
	}
	info("FIONREAD after sending to %s:7: %d", PEER_ADDR, n);
	if (n == 0)
		return fail("FIONREAD stayed 0 for %d ms after the datagram was sent", WAIT_MS);
	if (n != want)
		return fail("FIONREAD %d, wanted %d (the queued datagram's length)", n, want);
	return 1;
}

static int t_fionread_read(void)
{
	uint8_t buf[4096];
	ssize_t r;

	NEED_FD();
	r = read_v4(buf, sizeof(buf), WAIT_MS, 0);
	if (r < 0)
		return 0;
	info("read: %s", describe(buf, (size_t)r));
	return check_out(buf, (size_t)r, 7, fionread_payload);
}

static int t_fionread_empty(void)
{
	int n = -1;

	NEED_FD();
	if (ioctl_int(tunfd, BSD_FIONREAD, &n) < 0)
		return fail("FIONREAD: %s", strerror(errno));
	if (n != 0)
		return fail("FIONREAD %d with nothing queued", n);
	return 1;
}

static int t_nonblock_eagain(void)
{
	uint8_t buf[2048];
	int fl, e;
	ssize_t r;

	NEED_FD();
	drain();
	fl = fcntl(tunfd, F_GETFL);
	if (fl < 0 || fcntl(tunfd, F_SETFL, fl | O_NONBLOCK) < 0)
		return fail("fcntl O_NONBLOCK: %s", strerror(errno));
	alarm(3);
	r = read(tunfd, buf, sizeof(buf));
	e = errno;
	alarm(0);
	fcntl(tunfd, F_SETFL, fl & ~O_NONBLOCK);
	if (r >= 0)
		return fail("non-blocking read with nothing queued returned %zd", r);
	if (e == EINTR)
		return fail("non-blocking read blocked (interrupted by the 3 s alarm)");
	if (e != EAGAIN && e != EWOULDBLOCK)
		return fail("non-blocking read: %s, wanted EAGAIN", strerror(e));
	return 1;
}

static const char *proc_state(pid_t pid)
{
	static char out[128];
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return "?";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	snprintf(out, sizeof(out), "%c", p && p[1] && p[2] ? p[2] : '?');
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		snprintf(out + 1, sizeof(out) - 1, " wchan %.64s", n ? buf : "-");
	}
	return out;
}

static int t_blocking_read_wakeup(void)
{
	static const char payload[] = "wake the blocked reader";
	uint8_t buf[4096];
	int pfd[2], st;
	struct pollfd pp;
	pid_t pid;
	ssize_t r;

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	drain();
	if (pipe(pfd) < 0)
		return fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(pfd[0]);
		alarm(10);
		do /* skip IPv6 (router solicitations, MLD): see read_v4 */
			r = read(tunfd, buf, sizeof(buf));
		while (r > 0 && buf[0] >> 4 != 4);
		if (r > 0 && write(pfd[1], buf, (size_t)r) != r)
			_exit(3);
		_exit(r > 0 ? 0 : 1);
	}
	close(pfd[1]);
	sleep_ms(200);
	if (waitpid(pid, &st, WNOHANG) == pid) {
		r = read(pfd[0], buf, sizeof(buf));
		close(pfd[0]);
		return fail("the child's read returned before anything was sent (%zd bytes%s%s)", r,
			    r > 0 ? ": " : "", r > 0 ? describe(buf, (size_t)r) : "");
	}
	info("child %d before the output: state %s", (int)pid, proc_state(pid));
	if (!send_out(9, payload)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		close(pfd[0]);
		return 0;
	}
	pp.fd = pfd[0];
	pp.events = POLLIN;
	if (poll(&pp, 1, WAIT_MS) != 1) {
		info("child %d still blocked: state %s", (int)pid, proc_state(pid));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		close(pfd[0]);
		return fail("the blocked read did not return within %d ms of the output", WAIT_MS);
	}
	r = read(pfd[0], buf, sizeof(buf));
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (r <= 0)
		return fail("the child's read failed (exit status 0x%x)", st);
	info("child read: %s", describe(buf, (size_t)r));
	return check_out(buf, (size_t)r, 9, payload);
}

static int t_poll_idle(void)
{
	struct pollfd pfd;
	int p;

	NEED_FD();
	drain();
	pfd.fd = tunfd;
	pfd.events = POLLIN | POLLOUT;
	pfd.revents = 0;
	p = poll(&pfd, 1, 0);
	if (p < 0)
		return fail("poll: %s", strerror(errno));
	info("poll(POLLIN|POLLOUT, 0) with nothing queued: %d, revents 0x%x", p, pfd.revents);
	if (pfd.revents & POLLIN)
		return fail("POLLIN with nothing queued (revents 0x%x)", pfd.revents);
	if (!(pfd.revents & POLLOUT))
		return fail("no POLLOUT (revents 0x%x)", pfd.revents);
	if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
		return fail("error bits in revents 0x%x", pfd.revents);
	return 1;
}

static int t_poll_readable(void)
{
	static const char payload[] = "poll probe";
	struct pollfd pfd = { 0, POLLIN, 0 };
	uint8_t buf[4096];
	ssize_t r;
	int p;

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	if (!send_out(9, payload))
		return 0;
	pfd.fd = tunfd;
	p = poll(&pfd, 1, WAIT_MS);
	if (p != 1 || !(pfd.revents & POLLIN))
		return fail("poll(POLLIN) after the output: %d, revents 0x%x", p, pfd.revents);
	r = read_v4(buf, sizeof(buf), WAIT_MS, 0);
	if (r < 0)
		return 0;
	return check_out(buf, (size_t)r, 9, payload);
}

/* A poll that sleeps is woken by output sent meanwhile (by a child process). */
static int t_poll_wakeup(void)
{
	static const char payload[] = "wake the poller";
	struct pollfd pfd = { 0, POLLIN, 0 };
	uint8_t buf[4096];
	pid_t pid;
	long t0, dt;
	int p, st;
	ssize_t r;

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	drain();
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (pid == 0) {
		sleep_ms(300);
		_exit(send_out(9, payload) ? 0 : 1);
	}
	pfd.fd = tunfd;
	t0 = now_ms();
	p = poll(&pfd, 1, WAIT_MS);
	dt = now_ms() - t0;
	waitpid(pid, &st, 0);
	if (p != 1 || !(pfd.revents & POLLIN))
		return fail("poll(POLLIN, %d ms) while a child sent: %d, revents 0x%x, after %ld ms",
			    WAIT_MS, p, pfd.revents, dt);
	info("poll woke after %ld ms", dt);
	r = read_v4(buf, sizeof(buf), WAIT_MS, 0);
	if (r < 0)
		return 0;
	return check_out(buf, (size_t)r, 9, payload);
}

static void on_sigio(int sig)
{
	(void)sig;
	sigio_count++;
}

static int t_sigio(void)
{
	struct sigaction sa;
	int v;
	long t0;

	NEED_FD();
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	drain();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigio;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGIO, &sa, NULL) < 0)
		return fail("sigaction SIGIO: %s", strerror(errno));
	v = getpid();
	if (ioctl_int(tunfd, BSD_FIOSETOWN, &v) < 0)
		return fail("FIOSETOWN %d: %s", v, strerror(errno));
	v = 1;
	if (ioctl_int(tunfd, BSD_FIOASYNC, &v) < 0)
		return fail("FIOASYNC 1: %s", strerror(errno));
	sigio_count = 0;
	if (!send_out(9, "sigio probe"))
		return 0;
	for (t0 = now_ms(); !sigio_count && now_ms() - t0 < 2000;)
		sleep_ms(10);
	drain();
	if (!sigio_count)
		return fail("no SIGIO within 2 s of the output");
	info("SIGIO delivered (%d) after %ld ms", (int)sigio_count, now_ms() - t0);
	return 1;
}

static int t_fiogetown(void)
{
	int v = 0;

	NEED_FD();
	if (ioctl_int(tunfd, BSD_FIOGETOWN, &v) < 0)
		return fail("FIOGETOWN: %s", strerror(errno));
	if (v != getpid())
		return fail("FIOGETOWN %d, wanted %d (getpid)", v, (int)getpid());
	return 1;
}

static int t_fioasync_off(void)
{
	int v = 0;
	long t0;

	NEED_FD();
	if (ioctl_int(tunfd, BSD_FIOASYNC, &v) < 0)
		return fail("FIOASYNC 0: %s", strerror(errno));
	if (!tun_configured)
		return fail("tun0 is not configured (earlier check failed)");
	sigio_count = 0;
	if (!send_out(9, "no sigio"))
		return 0;
	for (t0 = now_ms(); now_ms() - t0 < 300;)
		sleep_ms(10);
	drain();
	signal(SIGIO, SIG_IGN);
	if (sigio_count)
		return fail("SIGIO (%d) after FIOASYNC 0", (int)sigio_count);
	return 1;
}

static int get_info(struct tuninfo *ti)
{
	memset(ti, 0, sizeof(*ti));
	return ioctl(tunfd, TUNGIFINFO, ti);
}

static int t_tungifinfo(void)
{
	struct tuninfo ti;

	NEED_FD();
	if (get_info(&ti) < 0)
		return fail("TUNGIFINFO: %s", strerror(errno));
	info("TUNGIFINFO: mtu %u type %u baudrate %d", ti.mtu, ti.type, ti.baudrate);
	if (ti.mtu != 1500)
		return fail("TUNGIFINFO mtu %u, wanted 1500", ti.mtu);
	return 1;
}

static int t_tunsifinfo(void)
{
	struct tuninfo ti, got;
	struct ifreq ifr;

	NEED_FD();
	if (get_info(&ti) < 0)
		return fail("TUNGIFINFO: %s", strerror(errno));
	ti.mtu = 1400;
	if (ioctl(tunfd, TUNSIFINFO, &ti) < 0)
		return fail("TUNSIFINFO mtu 1400: %s", strerror(errno));
	if (get_info(&got) < 0)
		return fail("TUNGIFINFO after TUNSIFINFO: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TUN_IF);
	if (ifsock >= 0 && ioctl(ifsock, SIOCGIFMTU, &ifr) == 0)
		info("after TUNSIFINFO mtu 1400: TUNGIFINFO mtu %u, SIOCGIFMTU %d", got.mtu, ifr.ifr_mtu);
	ti.mtu = 1500;
	if (ioctl(tunfd, TUNSIFINFO, &ti) < 0)
		return fail("TUNSIFINFO mtu 1500 (restore): %s", strerror(errno));
	if (got.mtu != 1400)
		return fail("TUNGIFINFO mtu %u after TUNSIFINFO 1400", got.mtu);
	if (get_info(&got) < 0 || got.mtu != 1500)
		return fail("TUNGIFINFO mtu %u after restoring 1500", got.mtu);
	return 1;
}

/* Units with a /dev/tunN node or a tunN interface, as a bitmap of N < 64. */
static uint64_t tun_units(uint64_t *ifs)
{
	uint64_t nodes = 0;
	struct if_nameindex *ni, *i;
	char path[32];
	int n;

	*ifs = 0;
	for (n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/dev/tun%d", n);
		if (access(path, F_OK) == 0)
			nodes |= 1ULL << n;
	}
	ni = if_nameindex();
	for (i = ni; i && i->if_index; i++)
		if (sscanf(i->if_name, "tun%d", &n) == 1 && n >= 0 && n < 64)
			*ifs |= 1ULL << n;
	if (ni)
		if_freenameindex(ni);
	return nodes;
}

static int t_autoclone(void)
{
	uint64_t n0, i0, n1 = 0, i1 = 0, newn, newi;
	struct stat st;
	long t0;
	int fd, u;
	char list[256] = "";

	n0 = tun_units(&i0);
	fd = open(TUN_CLONE, O_RDWR);
	if (fd < 0)
		return fail("open %s: %s", TUN_CLONE, strerror(errno));
	if (fstat(fd, &st) == 0)
		info("%s opened: rdev %u:%u", TUN_CLONE, major(st.st_rdev), minor(st.st_rdev));
	for (t0 = now_ms(); now_ms() - t0 < 1000; sleep_ms(20)) {
		n1 = tun_units(&i1);
		if ((n1 & ~n0) || (i1 & ~i0))
			break;
	}
	newn = n1 & ~n0;
	newi = i1 & ~i0;
	for (u = 0; u < 64; u++)
		if ((newn | newi) & (1ULL << u))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " tun%d(%s%s)", u,
				 newn & (1ULL << u) ? "node" : "", newi & (1ULL << u) ? " ifnet" : "");
	info("after opening %s: new units:%s", TUN_CLONE, *list ? list : " none");
	close(fd);
	if (!newn && !newi)
		return fail("opening %s made no new /dev/tunN and no new tunN interface", TUN_CLONE);
	return 1;
}

static int t_close_down(void)
{
	short f;

	NEED_FD();
	if (close(tunfd) < 0) {
		tunfd = -1;
		return fail("close: %s", strerror(errno));
	}
	tunfd = -1;
	if (ifsock < 0)
		return fail("no AF_INET socket");
	if (ifreq_flags(TUN_IF, &f) < 0)
		return fail("SIOCGIFFLAGS %s after close: %s", TUN_IF, strerror(errno));
	info("%s flags after close: %s", TUN_IF, flag_names(f));
	if (f & IFF_UP)
		return fail("%s still up after close (flags %s)", TUN_IF, flag_names(f));
	return 1;
}

/*
 * --linux-tun: the data-path checks against Linux's own tun driver (/dev/net/tun, TUNSETIFF
 * "tun0", IFF_TUN|IFF_NO_PI), to validate the checks themselves on a host, in a network
 * namespace of its own: `unshare -n tuntest --linux-tun`.  Not used by the harness.
 */
static int t_open_linux_tun(void)
{
	struct ifreq ifr;

	tunfd = open("/dev/net/tun", O_RDWR);
	if (tunfd < 0)
		return fail("open /dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", TUN_IF);
	ifr.ifr_flags = 0x0001 | 0x1000; /* IFF_TUN | IFF_NO_PI */
	if (ioctl(tunfd, 0x400454caUL /* TUNSETIFF */, &ifr) < 0)
		return fail("TUNSETIFF tun0: %s", strerror(errno));
	return 1;
}

/* ---------------------------------------------------------------- self-test mode */

/* Sends a complete IPv4 packet through a raw socket (IP_HDRINCL) to its destination. */
static int raw_send(const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	ssize_t r;

	if (s < 0)
		return fail("socket(SOCK_RAW, IPPROTO_RAW): %s", strerror(errno));
	memcpy(&to.sin_addr.s_addr, pkt + 16, 4);
	r = sendto(s, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
	close(s);
	if (r != (ssize_t)len)
		return fail("raw sendto: %s", r < 0 ? strerror(errno) : "short");
	return 1;
}

static int t_self_builders(void)
{
	static const char data[] = "builder";
	uint8_t pkt[128], echo[128];
	size_t len;

	len = build_udp(pkt, addr(PEER_ADDR), 4000, addr(LOCAL_ADDR), 5000, data, sizeof(data) - 1);
	if (!check_udp(pkt, len, addr(PEER_ADDR), 4000, addr(LOCAL_ADDR), 5000, data, sizeof(data) - 1))
		return 0; /* why says what is wrong with it */
	len = build_icmp_echo(echo, addr(PEER_ADDR), addr(LOCAL_ADDR), 1, 2, data, sizeof(data) - 1);
	echo[20] = 0; /* turn it into a reply: only the type and the checksum change */
	put16(echo + 22, 0);
	put16(echo + 22, fold(sum16(echo + 20, len - 20, 0)));
	if (!check_echo_reply(echo, len, addr(PEER_ADDR), addr(LOCAL_ADDR), 1, 2, data, sizeof(data) - 1))
		return 0;
	pkt[30] ^= 1;
	if (check_udp(pkt, len, 0, 0, 0, 0, data, sizeof(data) - 1))
		return fail("a corrupted datagram was accepted");
	return 1;
}

static int t_self_icmp_loopback(void)
{
	static const char data[] = "loopback echo payload";
	uint8_t pkt[256], buf[2048];
	struct pollfd pfd;
	size_t len;
	ssize_t r;
	long t0;
	int s;

	s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (s < 0)
		return fail("socket(SOCK_RAW, IPPROTO_ICMP): %s", strerror(errno));
	len = build_icmp_echo(pkt, addr("127.0.0.1"), addr("127.0.0.1"), 0x4242, 7, data, sizeof(data) - 1);
	if (!raw_send(pkt, len)) {
		close(s);
		return 0;
	}
	for (t0 = now_ms(); now_ms() - t0 < WAIT_MS;) {
		pfd.fd = s;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, WAIT_MS) != 1)
			break;
		r = recv(s, buf, sizeof(buf), 0);
		if (r < 28)
			continue;
		info("raw ICMP socket: %s", describe(buf, (size_t)r));
		if (buf[20] != 0)
			continue; /* our own request, seen by the raw socket too */
		close(s);
		return check_echo_reply(buf, (size_t)r, addr("127.0.0.1"), addr("127.0.0.1"), 0x4242, 7,
					data, sizeof(data) - 1);
	}
	close(s);
	return fail("no echo reply on lo within %d ms", WAIT_MS);
}

static int t_self_udp_loopback(void)
{
	static const char data[] = "udp through lo";
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(5000) }, from;
	socklen_t flen = sizeof(from);
	struct timeval tv = { WAIT_MS / 1000, 0 };
	uint8_t pkt[256];
	char buf[256], a[INET_ADDRSTRLEN];
	size_t len;
	ssize_t r;
	int s;

	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return fail("socket: %s", strerror(errno));
	me.sin_addr.s_addr = addr("127.0.0.1");
	if (bind(s, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(s);
		return fail("bind 127.0.0.1:5000: %s", strerror(errno));
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = build_udp(pkt, addr("127.0.0.1"), 4000, addr("127.0.0.1"), 5000, data, sizeof(data) - 1);
	if (!raw_send(pkt, len)) {
		close(s);
		return 0;
	}
	r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	close(s);
	if (r < 0)
		return fail("recvfrom: %s (a bad UDP checksum is dropped silently)",
			    errno == EAGAIN ? "nothing within 5 s" : strerror(errno));
	info("socket received %zd bytes from %s:%u", r, ntoa(from.sin_addr.s_addr, a), ntohs(from.sin_port));
	if (r != (ssize_t)(sizeof(data) - 1) || memcmp(buf, data, (size_t)r) != 0)
		return fail("payload differs");
	if (ntohs(from.sin_port) != 4000)
		return fail("source port %u", ntohs(from.sin_port));
	return 1;
}

/* ---------------------------------------------------------------- main */

struct check {
	const char *name;
	int (*fn)(void);
};

static const struct check full_checks[] = {
	{ "devnode_tun0", t_devnode_tun0 },
	{ "open_tun0", t_open_tun0 },
	{ "open_busy", t_open_busy },
	{ "open_nonroot", t_open_nonroot },
	{ "lo_up", t_lo_up },
	{ "tun0_addr", t_tun0_addr },
	{ "tun0_dstaddr", t_tun0_dstaddr },
	{ "tun0_up", t_tun0_up },
	{ "tungifhead_default", t_tungifhead_default },
	{ "tunsifhead_on", t_tunsifhead_on },
	{ "tunsifhead_off", t_tunsifhead_off },
	{ "tundebug", t_tundebug },
	{ "icmp_echo", t_icmp_echo },
	{ "icmp_echo_ifhead", t_icmp_echo_ifhead },
	{ "udp_inject", t_udp_inject },
	{ "fionread_queued", t_fionread_queued },
	{ "fionread_read", t_fionread_read },
	{ "fionread_empty", t_fionread_empty },
	{ "nonblock_eagain", t_nonblock_eagain },
	{ "blocking_read_wakeup", t_blocking_read_wakeup },
	{ "poll_idle", t_poll_idle },
	{ "poll_readable", t_poll_readable },
	{ "poll_wakeup", t_poll_wakeup },
	{ "sigio", t_sigio },
	{ "fiogetown", t_fiogetown },
	{ "fioasync_off", t_fioasync_off },
	{ "tungifinfo_mtu", t_tungifinfo },
	{ "tunsifinfo_mtu", t_tunsifinfo },
	{ "autoclone", t_autoclone },
	{ "close_down", t_close_down },
};

static const struct check linux_tun_checks[] = {
	{ "open_tun0", t_open_linux_tun },
	{ "lo_up", t_lo_up },
	{ "tun0_addr", t_tun0_addr },
	{ "tun0_dstaddr", t_tun0_dstaddr },
	{ "tun0_up", t_tun0_up },
	{ "icmp_echo", t_icmp_echo },
	{ "udp_inject", t_udp_inject },
	{ "nonblock_eagain", t_nonblock_eagain },
	{ "blocking_read_wakeup", t_blocking_read_wakeup },
	{ "poll_idle", t_poll_idle },
	{ "poll_readable", t_poll_readable },
	{ "poll_wakeup", t_poll_wakeup },
};

static const struct check self_checks[] = {
	{ "lo_up", t_lo_up },
	{ "self_builders", t_self_builders },
	{ "self_icmp_loopback", t_self_icmp_loopback },
	{ "self_udp_loopback", t_self_udp_loopback },
};

int main(int argc, char **argv)
{
	const struct check *checks = full_checks;
	size_t n = sizeof(full_checks) / sizeof(full_checks[0]), i;
	int list = 0, pass = 0, nfail = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--selftest") == 0) {
			checks = self_checks;
			n = sizeof(self_checks) / sizeof(self_checks[0]);
		} else if (strcmp(argv[i], "--linux-tun") == 0) {
			checks = linux_tun_checks;
			n = sizeof(linux_tun_checks) / sizeof(linux_tun_checks[0]);
		} else if (strcmp(argv[i], "--list") == 0) {
			list = 1;
		} else {
			fprintf(stderr, "usage: tuntest [--selftest | --linux-tun] [--list]\n");
			return 2;
		}
	}
	if (list) {
		for (i = 0; i < n; i++)
			printf("%s\n", checks[i].name);
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	install_alarm_handler();
	signal(SIGPIPE, SIG_IGN);
	printf("TUNTEST START checks=%zu mode=%s pid=%d\n", n, checks == full_checks ? "full" : checks == self_checks ? "selftest" : "linux-tun",
	       (int)getpid());
	for (i = 0; i < n; i++) {
		long t0 = now_ms();
		int ok;

		why[0] = 0;
		ok = checks[i].fn();
		if (ok) {
			printf("PASS %s\n", checks[i].name);
			pass++;
		} else {
			printf("FAIL %s: %s\n", checks[i].name, why[0] ? why : "(no reason given)");
			nfail++;
		}
		if (now_ms() - t0 > 1000)
			info("%s took %ld ms", checks[i].name, now_ms() - t0);
	}
	if (tunfd >= 0)
		close(tunfd);
	printf("TUNTEST DONE pass=%d fail=%d\n", pass, nfail);
	return nfail ? 1 : 0;
}
