/* An emulated long, lossy link between two network namespaces: the netem this kernel lacks, for bench/wan.
 *
 *   link --ns-a NAME --ns-b NAME --dev DEV [--rtt-ms R] [--loss-pct P] [--rate-mbit M] [--queue-bytes B]
 *        [--jitter-ms J] [--reorder-pct P] [--reorder-gap-ms G] [--seed S] [--slots N]
 *
 * DEV is a persistent TUN device (IFF_TUN, no packet information) that already exists in each namespace
 * (`ip -n NAME tuntap add dev DEV mode tun`); the program attaches to both (setns into each namespace in turn,
 * TUNSETIFF), prints "ready" on stdout and relays every IP packet read from one to the other, in each
 * direction independently, shaped like this:
 *   - loss: each packet is dropped with probability P% (independently per packet and per direction);
 *   - rate: a bottleneck of M Mbit/s (0: none) serialises packets one after the other (IP bytes only; a
 *     packet of L bytes occupies the link for L*8/M microseconds);
 *   - queue: the bytes waiting for the bottleneck are at most B (default: the bandwidth-delay product of
 *     R and M, at least 64 KiB); a packet that does not fit is dropped (drop-tail), as a router would;
 *   - delay: R/2 ms one way after its serialisation, plus a uniform jitter in [-J, +J] ms; without
 *     reordering, a packet never overtakes the one before it (jitter delays the ones behind it);
 *   - reordering: with probability P% a packet is held G ms more (default 1), and the ones after it pass it.
 * Packets wait in a min-heap per direction, ordered by delivery time; one thread waits on epoll with a
 * nanosecond timeout (epoll_pwait2) for the next delivery or the next packet to read.
 *
 * SIGINT, SIGTERM: prints the counters of each direction on stderr (packets read, dropped by loss, dropped
 * by the queue, delivered; the deepest queue seen) and exits 0. SIGUSR1 prints them and goes on.
 * Build: cc -O2 -Wall -o link link.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 2048 /* the largest packet relayed: MTU up to 2048 */

static void die(const char *what) {
    fprintf(stderr, "link: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage_error(const char *text) {
    fprintf(stderr, "link: %s (see the top of bench/wan/link.c)\n", text);
    exit(2);
}

/* ---- settings ---- */

static double rtt_ms, loss_pct, rate_mbit, jitter_ms, reorder_pct, reorder_gap_ms = 1.0;
static long long queue_bytes = -1;
static unsigned long long seed = 1;
static long slot_count = 1L << 15;

/* ---- time and randomness ---- */

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rng_state;
static uint64_t next_random(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform01(void) { return (double)(next_random() >> 11) / 9007199254740992.0; }

/* ---- packet slots: one pool for both directions ---- */

static unsigned char *slots;
static int *free_slots;
static long free_count;

/* ---- one direction: counters, the bottleneck and a min-heap of packets by delivery time ---- */

struct pending {
    int64_t deliver_ns;
    uint64_t order; /* ties keep arrival order */
    int slot;
    int length;
};

struct direction {
    const char *name;
    int in_fd, out_fd;
    int64_t link_free_ns;    /* when the bottleneck has serialised everything accepted so far */
    int64_t last_deliver_ns; /* in-order packets never overtake this */
    uint64_t order;
    struct pending *heap;
    long heap_len;
    unsigned long long read, lost, queue_dropped, pool_dropped, delivered, write_errors;
    long long max_backlog;
};

static void heap_push(struct direction *d, struct pending p) {
    long i = d->heap_len++;
    while (i > 0) {
        long parent = (i - 1) / 2;
        struct pending *q = &d->heap[parent];
        if (q->deliver_ns < p.deliver_ns || (q->deliver_ns == p.deliver_ns && q->order < p.order)) break;
        d->heap[i] = *q;
        i = parent;
    }
    d->heap[i] = p;
}

static struct pending heap_pop(struct direction *d) {
    struct pending top = d->heap[0], last = d->heap[--d->heap_len];
    long i = 0, n = d->heap_len;
    for (;;) {
        long child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && (d->heap[child + 1].deliver_ns < d->heap[child].deliver_ns ||
                              (d->heap[child + 1].deliver_ns == d->heap[child].deliver_ns &&
                               d->heap[child + 1].order < d->heap[child].order)))
            child++;
        if (last.deliver_ns < d->heap[child].deliver_ns ||
            (last.deliver_ns == d->heap[child].deliver_ns && last.order < d->heap[child].order))
            break;
        d->heap[i] = d->heap[child];
        i = child;
    }
    if (n > 0) d->heap[i] = last;
    return top;
}

/* One packet just read (its bytes in `slot`): drop it, or schedule its delivery. */
static void accept_packet(struct direction *d, int slot, int length, int64_t now) {
    d->read++;
    if (loss_pct > 0 && uniform01() * 100.0 < loss_pct) {
        d->lost++;
        free_slots[free_count++] = slot;
        return;
    }
    int64_t start = d->link_free_ns > now ? d->link_free_ns : now;
    if (rate_mbit > 0) {
        long long backlog = (long long)((double)(start - now) * rate_mbit / 8000.0); /* bytes still queued */
        if (backlog > d->max_backlog) d->max_backlog = backlog;
        if (backlog + length > queue_bytes) {
            d->queue_dropped++;
            free_slots[free_count++] = slot;
            return;
        }
        d->link_free_ns = start + (int64_t)((double)length * 8000.0 / rate_mbit);
    } else {
        d->link_free_ns = start;
    }
    int64_t deliver = d->link_free_ns + (int64_t)(rtt_ms * 500000.0);
    if (jitter_ms > 0) deliver += (int64_t)((uniform01() * 2.0 - 1.0) * jitter_ms * 1e6);
    if (reorder_pct > 0 && uniform01() * 100.0 < reorder_pct) {
        deliver += (int64_t)(reorder_gap_ms * 1e6); /* held back: later packets pass it */
    } else {
        if (deliver < d->last_deliver_ns) deliver = d->last_deliver_ns;
        d->last_deliver_ns = deliver;
    }
    heap_push(d, (struct pending){deliver, d->order++, slot, length});
}

/* Reads what is waiting on d->in_fd (a bounded number, so the other direction and deliveries get their turn). */
static void read_packets(struct direction *d) {
    for (int i = 0; i < 64; i++) {
        if (free_count == 0) { /* pool exhausted: read into a scratch buffer and drop */
            static unsigned char scratch[SLOT_BYTES];
            ssize_t n = read(d->in_fd, scratch, sizeof scratch);
            if (n < 0) break;
            d->read++;
            d->pool_dropped++;
            continue;
        }
        int slot = free_slots[free_count - 1];
        ssize_t n = read(d->in_fd, slots + (size_t)slot * SLOT_BYTES, SLOT_BYTES);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            die("read from a TUN device");
        }
        free_count--;
        accept_packet(d, slot, (int)n, now_ns());
    }
}

/* Writes every packet whose time has come; returns the time of the next one (or INT64_MAX). */
static int64_t deliver_due(struct direction *d, int64_t now) {
    while (d->heap_len > 0 && d->heap[0].deliver_ns <= now) {
        struct pending p = heap_pop(d);
        if (write(d->out_fd, slots + (size_t)p.slot * SLOT_BYTES, p.length) == p.length)
            d->delivered++;
        else
            d->write_errors++; /* the device was down or its queue full: the packet is lost, as on a wire */
        free_slots[free_count++] = p.slot;
    }
    return d->heap_len > 0 ? d->heap[0].deliver_ns : INT64_MAX;
}

/* ---- namespaces and TUN devices ---- */

static int attach_tun(const char *netns, const char *dev, int home_ns) {
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0) die(path);
    if (setns(ns, CLONE_NEWNET) < 0) die("setns");
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) die("/dev/net/tun");
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF (does the device exist in that namespace?)");
    if (setns(home_ns, CLONE_NEWNET) < 0) die("setns back");
    close(ns);
    return fd;
}

/* ---- signals and counters ---- */

static volatile sig_atomic_t stop_asked, report_asked;
static void on_stop(int sig) { (void)sig; stop_asked = 1; }
static void on_report(int sig) { (void)sig; report_asked = 1; }

static void report(struct direction *dirs) {
    for (int i = 0; i < 2; i++) {
        struct direction *d = &dirs[i];
        fprintf(stderr,
                "link: %s read %llu lost %llu queue_dropped %llu pool_dropped %llu delivered %llu write_errors %llu "
                "max_backlog_bytes %lld\n",
                d->name, d->read, d->lost, d->queue_dropped, d->pool_dropped, d->delivered, d->write_errors,
                d->max_backlog);
    }
}

int main(int argc, char **argv) {
    const char *ns_a = NULL, *ns_b = NULL, *dev = NULL;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) usage_error("every option takes a value");
        const char *v = argv[++i];
        if (!strcmp(opt, "--ns-a")) ns_a = v;
        else if (!strcmp(opt, "--ns-b")) ns_b = v;
        else if (!strcmp(opt, "--dev")) dev = v;
        else if (!strcmp(opt, "--rtt-ms")) rtt_ms = atof(v);
        else if (!strcmp(opt, "--loss-pct")) loss_pct = atof(v);
        else if (!strcmp(opt, "--rate-mbit")) rate_mbit = atof(v);
        else if (!strcmp(opt, "--queue-bytes")) queue_bytes = atoll(v);
        else if (!strcmp(opt, "--jitter-ms")) jitter_ms = atof(v);
        else if (!strcmp(opt, "--reorder-pct")) reorder_pct = atof(v);
        else if (!strcmp(opt, "--reorder-gap-ms")) reorder_gap_ms = atof(v);
        else if (!strcmp(opt, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(opt, "--slots")) slot_count = atol(v);
        else usage_error("unknown option");
    }
    if (!ns_a || !ns_b || !dev) usage_error("--ns-a, --ns-b and --dev are required");
    if (rtt_ms < 0 || loss_pct < 0 || loss_pct > 100 || rate_mbit < 0 || jitter_ms < 0 || reorder_pct < 0 ||
        reorder_pct > 100 || reorder_gap_ms < 0 || slot_count < 64)
        usage_error("a value is out of range");
    if (jitter_ms > rtt_ms / 2) usage_error("--jitter-ms must not exceed the one-way delay (--rtt-ms / 2)");
    if (queue_bytes < 0) { /* the bandwidth-delay product, at least 64 KiB */
        queue_bytes = (long long)(rate_mbit * 1e6 / 8.0 * rtt_ms / 1000.0);
        if (queue_bytes < 65536) queue_bytes = 65536;
    }
    rng_state = seed;
    prctl(PR_SET_TIMERSLACK, 1UL); /* wake-ups to the microsecond, not the default 50 us */

    slots = malloc((size_t)slot_count * SLOT_BYTES); /* untouched pages cost nothing */
    free_slots = malloc(sizeof(int) * (size_t)slot_count);
    if (!slots || !free_slots) die("malloc");
    for (long i = 0; i < slot_count; i++) free_slots[free_count++] = (int)(slot_count - 1 - i);

    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) die("/proc/self/ns/net");
    int fd_a = attach_tun(ns_a, dev, home), fd_b = attach_tun(ns_b, dev, home);
    struct direction dirs[2] = {
        {.name = "a->b", .in_fd = fd_a, .out_fd = fd_b},
        {.name = "b->a", .in_fd = fd_b, .out_fd = fd_a},
    };
    for (int i = 0; i < 2; i++) {
        dirs[i].heap = malloc(sizeof(struct pending) * (size_t)slot_count);
        if (!dirs[i].heap) die("malloc");
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    for (int i = 0; i < 2; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, dirs[i].in_fd, &ev) < 0) die("epoll_ctl");
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_report;
    sigaction(SIGUSR1, &sa, NULL);

    fprintf(stderr, "link: %s <-> %s on %s: rtt %.3f ms, loss %.3f%% each way, rate %.1f Mbit/s, queue %lld bytes, "
                    "jitter %.3f ms, reorder %.3f%% by %.3f ms, seed %llu\n",
            ns_a, ns_b, dev, rtt_ms, loss_pct, rate_mbit, queue_bytes, jitter_ms, reorder_pct, reorder_gap_ms, seed);
    printf("ready\n");
    fflush(stdout);

    struct epoll_event events[2];
    while (!stop_asked) {
        if (report_asked) { report_asked = 0; report(dirs); }
        int64_t now = now_ns();
        int64_t next = deliver_due(&dirs[0], now), next_b = deliver_due(&dirs[1], now);
        if (next_b < next) next = next_b;
        struct timespec timeout, *wait = NULL;
        if (next != INT64_MAX) {
            int64_t left = next - now_ns();
            if (left < 0) left = 0;
            timeout.tv_sec = left / 1000000000LL;
            timeout.tv_nsec = left % 1000000000LL;
            wait = &timeout;
        }
        int n = epoll_pwait2(ep, events, 2, wait, NULL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_pwait2");
        }
        for (int i = 0; i < n; i++) read_packets(&dirs[events[i].data.u32]);
    }
    report(dirs);
    return 0;
}
