// The floor of a verified transfer on this machine: a minimal C program that does only the essential work
// of moving one file over TCP with an end-to-end check, to show how close FileXfer comes to what the machine
// can do. bench/run.sh builds it (cc -O2 -o floor floor.c -lcrypto -lpthread) and times it with its defaults
// beside FileXfer in the `large` scenario; bench/floor/variants.py times its variants (the switches below).
//
//   floor recv [ADDRESS:]PORT OUT [--splice-mmap | --splice-pread | --recv-mmap] [--hash sha256|xxh128|both]
//       listen on ADDRESS:PORT (an IPv4 address, 127.0.0.1 unless given), print "ready" once listening, accept one connection, receive the file into
//       OUT.tmp (pwrite from a ring of 1 MiB buffers), hash it on a second thread, start writeback every 8 MiB;
//       then compare the digest with the one the sender vouches for: on a difference delete OUT.tmp and exit 1
//       (nothing under OUT); else record the digest in OUT's extended attribute user.floor.ALGORITHM (as
//       FileXfer's server records a verified hash), fsync, rename to OUT, fsync OUT's directory and send the
//       digest back.
//       --splice-mmap, --splice-pread: the bytes go socket -> pipe -> file with splice(2) (no copy out of the
//       socket into the process) and are hashed from the file afterwards, through a shared mapping of it or by
//       pread into a buffer. --recv-mmap: received straight into a shared writable mapping of the file
//       (one copy instead of two) and hashed from it.
//   floor send [ADDRESS:]PORT IN [--mmap] [--hash sha256|xxh128|both] [--sendfile | --no-hash]
//       connect to ADDRESS:PORT (127.0.0.1 unless given) and send IN, hashing it on a second thread, then the digest; exit 1 unless the
//       receiver sends the same digest back. --sendfile (with sendfile(2)) and --no-hash (read + send) do not
//       hash: they send the digest recorded in IN's user.floor.ALGORITHM attribute instead, as FileXfer's
//       server sends a stored hash on a get (a file the floor received has that record). --mmap: sends from,
//       and hashes, a shared mapping of IN instead of reading it into a buffer.
//
// --hash: what an end computes, default sha256. The digest compared (and recorded) is the XXH128 one when the
// receiver computes XXH128: "--hash xxh128" on the receiver with "--hash both" on the sender is a sender that
// computes SHA-256 for itself while the transfer is checked with XXH128; "--hash xxh128" on a --sendfile or
// --no-hash sender picks the XXH128 record. XXH128 needs xxhash.h (libxxhash-dev) at build time; without it
// the program builds with SHA-256 only.
//
// The stream: the file's size (8 bytes, big-endian), the file's bytes, the sender's digest (32 bytes; an
// XXH128 digest is its 16 canonical bytes and 16 zeros); back: the receiver's digest once the file is durable
// under its name. Buffers of 1 MiB in a ring of 4: the main thread does the I/O, the second thread hashes the
// slots the main thread has finished with; two semaphores hand them over. Every call is checked: on any error
// the program prints one line to stderr and exits 1 (2 for usage).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h> // sync_file_range, splice (_GNU_SOURCE)
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#if __has_include(<xxhash.h>)
#define XXH_INLINE_ALL
#include <xxhash.h>
#define HAVE_XXH 1
#else
#define HAVE_XXH 0
#endif

#define BUF_SIZE (1 << 20)
#define RING 4
#define DIGEST 32
#define WRITEBACK_INTERVAL (8 << 20)
#define ACCEPT_TIMEOUT_MS 60000 // a receiver whose sender never comes must not hang a benchmark run

static const char *role = "floor";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "floor %s: ", role);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

__attribute__((noreturn)) static void usage(void) {
  fprintf(stderr, "usage: floor recv [ADDRESS:]PORT OUT [--splice-mmap | --splice-pread | --recv-mmap] [--hash sha256|xxh128|both]\n"
                  "       floor send [ADDRESS:]PORT IN [--mmap] [--hash sha256|xxh128|both] [--sendfile | --no-hash]\n");
  exit(2);
}

// What the hasher computes (--hash); the digest compared is the XXH128 one when do_xxh is set.
static int do_sha = 1, do_xxh = 0;

static const char *record_name(void) { return do_xxh ? "user.floor.xxh128" : "user.floor.sha256"; }

// The ring: slot i % RING carries len bytes; a slot with len 0 ends the stream for the hasher.
static char *ring[RING];
static size_t ring_len[RING];
static sem_t filled, emptied;
static EVP_MD_CTX *md_ctx;
#if HAVE_XXH
static XXH3_state_t *xxh_state;
#endif
static const char *map_base; // set: slot i is hashed from map_base + i * BUF_SIZE (a mapping of the file)
static int hash_fd = -1;     // set: slot i is read back from the file into hash_buf, then hashed
static char *hash_buf;

static void sem_wait_checked(sem_t *s) {
  while (sem_wait(s) != 0)
    if (errno != EINTR) die("sem_wait: %s", strerror(errno));
}

static void sem_post_checked(sem_t *s) {
  if (sem_post(s) != 0) die("sem_post: %s", strerror(errno));
}

static void *hasher(void *unused) {
  (void)unused;
  for (unsigned long i = 0;; i++) {
    sem_wait_checked(&filled);
    size_t len = ring_len[i % RING];
    if (len == 0) return NULL;
    const char *p = map_base ? map_base + (size_t)i * BUF_SIZE : ring[i % RING];
    if (hash_fd >= 0) {
      if (pread(hash_fd, hash_buf, len, (off_t)i * BUF_SIZE) != (ssize_t)len) die("pread: %s", strerror(errno));
      p = hash_buf;
    }
    if (do_sha && EVP_DigestUpdate(md_ctx, p, len) != 1) die("EVP_DigestUpdate failed");
#if HAVE_XXH
    if (do_xxh) XXH3_128bits_update(xxh_state, p, len);
#endif
    sem_post_checked(&emptied);
  }
}

static pthread_t start_hasher(void) {
  for (int i = 0; i < RING; i++) {
    ring[i] = aligned_alloc(4096, BUF_SIZE);
    if (!ring[i]) die("aligned_alloc of %d bytes failed", BUF_SIZE);
  }
  if (sem_init(&filled, 0, 0) != 0 || sem_init(&emptied, 0, RING) != 0) die("sem_init: %s", strerror(errno));
  md_ctx = EVP_MD_CTX_new();
  if (!md_ctx) die("EVP_MD_CTX_new failed");
  if (EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL) != 1) die("EVP_DigestInit_ex(SHA-256) failed");
#if HAVE_XXH
  xxh_state = XXH3_createState();
  if (!xxh_state || XXH3_128bits_reset(xxh_state) != XXH_OK) die("XXH3_createState failed");
#endif
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, hasher, NULL);
  if (rc != 0) die("pthread_create: %s", strerror(rc));
  return thread;
}

// Waits for the hasher to take the end of the stream (a slot with len 0) and returns the digest compared.
static void finish_hasher(pthread_t thread, unsigned long slot, unsigned char digest[DIGEST]) {
  sem_wait_checked(&emptied);
  ring_len[slot % RING] = 0;
  sem_post_checked(&filled);
  int rc = pthread_join(thread, NULL);
  if (rc != 0) die("pthread_join: %s", strerror(rc));
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(md_ctx, digest, &n) != 1 || n != DIGEST) die("EVP_DigestFinal_ex failed");
  EVP_MD_CTX_free(md_ctx);
#if HAVE_XXH
  if (do_xxh) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(xxh_state));
    memset(digest, 0, DIGEST);
    memcpy(digest, &canonical, sizeof canonical);
  }
#endif
}

// [ADDRESS:]PORT, an IPv4 address (default 127.0.0.1): where the receiver listens, where the sender connects.
static struct sockaddr_in parse_endpoint(const char *text) {
  struct sockaddr_in address = {.sin_family = AF_INET};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char *colon = strrchr(text, ':');
  const char *port_text = text;
  if (colon) {
    char host[64];
    size_t length = (size_t)(colon - text);
    if (length == 0 || length >= sizeof host) die("bad address in '%s'", text);
    memcpy(host, text, length);
    host[length] = 0;
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("bad IPv4 address '%s'", host);
    port_text = colon + 1;
  }
  char *end;
  errno = 0;
  long port = strtol(port_text, &end, 10);
  if (errno || *end || end == port_text || port < 1 || port > 65535) die("bad port '%s'", port_text);
  address.sin_port = htons((uint16_t)port);
  return address;
}

static const char *endpoint_text(const struct sockaddr_in *address) {
  static char text[INET_ADDRSTRLEN + 8];
  char host[INET_ADDRSTRLEN];
  if (!inet_ntop(AF_INET, &address->sin_addr, host, sizeof host)) die("inet_ntop: %s", strerror(errno));
  snprintf(text, sizeof text, "%s:%u", host, ntohs(address->sin_port));
  return text;
}

static void send_all(int sock, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t k = send(sock, p, len, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("send: %s", strerror(errno));
    }
    p += k;
    len -= (size_t)k;
  }
}

// Reads up to len bytes of a socket (with MSG_WAITALL) or a file, fewer only at the end of the stream or file.
static size_t read_full(int fd, void *data, size_t len, int is_socket) {
  size_t got = 0;
  while (got < len) {
    ssize_t k = is_socket ? recv(fd, (char *)data + got, len - got, MSG_WAITALL) : read(fd, (char *)data + got, len - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("%s: %s", is_socket ? "recv" : "read", strerror(errno));
    }
    if (k == 0) break;
    got += (size_t)k;
  }
  return got;
}

static size_t recv_full(int sock, void *data, size_t len) { return read_full(sock, data, len, 1); }

static void pwrite_all(int fd, const char *data, size_t len, off_t offset) {
  while (len > 0) {
    ssize_t k = pwrite(fd, data, len, offset);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("pwrite: %s", strerror(errno));
    }
    data += k;
    len -= (size_t)k;
    offset += k;
  }
}

static void put_u64(unsigned char out[8], uint64_t value) {
  for (int i = 7; i >= 0; i--, value >>= 8) out[i] = (unsigned char)value;
}

static uint64_t get_u64(const unsigned char in[8]) {
  uint64_t value = 0;
  for (int i = 0; i < 8; i++) value = value << 8 | in[i];
  return value;
}

static char *map_file(int fd, uint64_t size, int prot, const char *path) {
  char *p = mmap(NULL, (size_t)size, prot, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap %s: %s", path, strerror(errno));
  return p;
}

// How the receiver takes the bytes in.
enum receive_mode { RECEIVE_PWRITE, RECEIVE_SPLICE_MMAP, RECEIVE_SPLICE_PREAD, RECEIVE_MMAP };

// Moves want bytes from the socket into fd at offset through the pipe pfd with splice(2).
static void splice_in(int sock, const int pfd[2], int fd, uint64_t offset, size_t want, uint64_t size) {
  size_t got = 0;
  while (got < want) {
    ssize_t k = splice(sock, NULL, pfd[1], NULL, want - got, SPLICE_F_MOVE);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) die("splice from the socket: %s", strerror(errno));
    if (k == 0) die("the stream ended after %llu of %llu bytes", (unsigned long long)(offset + got), (unsigned long long)size);
    size_t in_pipe = (size_t)k;
    while (in_pipe > 0) {
      loff_t at = (loff_t)(offset + got);
      ssize_t w = splice(pfd[0], NULL, fd, &at, in_pipe, SPLICE_F_MOVE);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) die("splice into the file: %s", w ? strerror(errno) : "nothing written");
      in_pipe -= (size_t)w;
      got += (size_t)w;
    }
  }
}

static int do_recv(struct sockaddr_in address, const char *out, enum receive_mode mode) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp) die("path too long: %s", out);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket: %s", strerror(errno));
  int one = 1;
  if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("setsockopt(SO_REUSEADDR): %s", strerror(errno));
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind %s: %s", endpoint_text(&address), strerror(errno));
  if (listen(listener, 1) != 0) die("listen: %s", strerror(errno));
  if (printf("ready\n") < 0 || fflush(stdout) != 0) die("writing the ready line: %s", strerror(errno));

  struct pollfd waiting = {.fd = listener, .events = POLLIN};
  int ready;
  while ((ready = poll(&waiting, 1, ACCEPT_TIMEOUT_MS)) < 0)
    if (errno != EINTR) die("poll: %s", strerror(errno));
  if (ready == 0) die("no sender connected within %d s", ACCEPT_TIMEOUT_MS / 1000);
  int sock = accept(listener, NULL, NULL);
  if (sock < 0) die("accept: %s", strerror(errno));
  if (close(listener) != 0) die("close(listener): %s", strerror(errno));

  unsigned char header[8];
  if (recv_full(sock, header, sizeof header) != sizeof header) die("the stream ended before its size");
  uint64_t size = get_u64(header);

  int fd = open(tmp, (mode == RECEIVE_MMAP ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open %s: %s", tmp, strerror(errno));
  int pfd[2] = {-1, -1};
  char *target = NULL; // RECEIVE_MMAP: the file, mapped writable
  if (mode != RECEIVE_PWRITE && size > 0) {
    // The variants address the file by offset before it is written: give it its size first.
    if (ftruncate(fd, (off_t)size) != 0) die("ftruncate %s: %s", tmp, strerror(errno));
  }
  if ((mode == RECEIVE_SPLICE_MMAP || mode == RECEIVE_SPLICE_PREAD) && size > 0) {
    if (pipe(pfd) != 0) die("pipe: %s", strerror(errno));
    if (fcntl(pfd[1], F_SETPIPE_SZ, BUF_SIZE) < 0) die("F_SETPIPE_SZ: %s", strerror(errno));
    int readable = open(tmp, O_RDONLY | O_CLOEXEC);
    if (readable < 0) die("open %s: %s", tmp, strerror(errno));
    if (mode == RECEIVE_SPLICE_MMAP) {
      map_base = map_file(readable, size, PROT_READ, tmp);
      if (close(readable) != 0) die("close %s: %s", tmp, strerror(errno));
    } else {
      hash_fd = readable;
      hash_buf = aligned_alloc(4096, BUF_SIZE);
      if (!hash_buf) die("aligned_alloc of %d bytes failed", BUF_SIZE);
    }
  }
  if (mode == RECEIVE_MMAP && size > 0) {
    target = map_file(fd, size, PROT_READ | PROT_WRITE, tmp);
    map_base = target;
  }

  pthread_t thread = start_hasher();
  uint64_t received = 0, writeback_from = 0;
  unsigned long slot = 0;
  while (received < size) {
    sem_wait_checked(&emptied);
    size_t want = size - received < BUF_SIZE ? (size_t)(size - received) : BUF_SIZE;
    if (mode == RECEIVE_SPLICE_MMAP || mode == RECEIVE_SPLICE_PREAD) {
      splice_in(sock, pfd, fd, received, want, size);
    } else {
      char *buffer = mode == RECEIVE_MMAP ? target + received : ring[slot % RING];
      size_t got = recv_full(sock, buffer, want);
      if (got != want) die("the stream ended after %llu of %llu bytes", (unsigned long long)(received + got), (unsigned long long)size);
      if (mode == RECEIVE_PWRITE) pwrite_all(fd, buffer, got, (off_t)received);
    }
    received += want;
    if (received - writeback_from >= WRITEBACK_INTERVAL) {
      if (sync_file_range(fd, (off_t)writeback_from, (off_t)(received - writeback_from), SYNC_FILE_RANGE_WRITE) != 0)
        die("sync_file_range %s: %s", tmp, strerror(errno));
      writeback_from = received;
    }
    ring_len[slot % RING] = want;
    sem_post_checked(&filled);
    slot++;
  }
  unsigned char digest[DIGEST], theirs[DIGEST];
  finish_hasher(thread, slot, digest);
  if (recv_full(sock, theirs, DIGEST) != DIGEST) die("the stream ended before the sender's digest");
  if (memcmp(digest, theirs, DIGEST) != 0) {
    if (unlink(tmp) != 0) die("the received bytes differ from what the sender vouches for, and unlink %s: %s", tmp, strerror(errno));
    die("the received bytes differ from what the sender vouches for: %s not written", out);
  }
  if (target && munmap(target, (size_t)size) != 0) die("munmap %s: %s", tmp, strerror(errno));
  if (fsetxattr(fd, record_name(), digest, DIGEST, 0) != 0) die("recording the digest on %s: %s", tmp, strerror(errno));

  if (fsync(fd) != 0) die("fsync %s: %s", tmp, strerror(errno));
  if (close(fd) != 0) die("close %s: %s", tmp, strerror(errno));
  if (rename(tmp, out) != 0) die("rename %s to %s: %s", tmp, out, strerror(errno));
  // The rename is durable only once its directory is (FileXfer does the same).
  char dir_path[PATH_MAX];
  if (snprintf(dir_path, sizeof dir_path, "%s", out) >= (int)sizeof dir_path) die("path too long: %s", out);
  int dir = open(dirname(dir_path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die("open the directory of %s: %s", out, strerror(errno));
  if (fsync(dir) != 0) die("fsync the directory of %s: %s", out, strerror(errno));
  if (close(dir) != 0) die("close the directory of %s: %s", out, strerror(errno));

  send_all(sock, digest, DIGEST);
  if (close(sock) != 0) die("close(socket): %s", strerror(errno));
  return 0;
}

// How the sender gets the bytes out.
enum send_mode { SEND_HASHED, SEND_HASHED_MMAP, SEND_STORED_SENDFILE, SEND_STORED_BUFFERED };

static int do_send(struct sockaddr_in address, const char *in, enum send_mode mode) {
  int fd = open(in, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open %s: %s", in, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat %s: %s", in, strerror(errno));
  if (!S_ISREG(st.st_mode)) die("%s is not a regular file", in);
  uint64_t size = (uint64_t)st.st_size;

  int sock = socket(AF_INET, SOCK_STREAM, 0);
  if (sock < 0) die("socket: %s", strerror(errno));
  if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0) die("connect %s: %s", endpoint_text(&address), strerror(errno));

  // Connected first, so that a receiver waiting for this sender sees it fail (the stream ends) at once.
  unsigned char digest[DIGEST];
  int hashing = mode == SEND_HASHED || mode == SEND_HASHED_MMAP;
  if (!hashing) {
    ssize_t n = fgetxattr(fd, record_name(), digest, DIGEST);
    if (n < 0) die("%s has no recorded digest (%s: %s); a file the floor received has one", in, record_name(), strerror(errno));
    if (n != DIGEST) die("%s: the recorded digest %s has %zd bytes, not %d", in, record_name(), n, DIGEST);
  }

  unsigned char header[8];
  put_u64(header, size);
  send_all(sock, header, sizeof header);

  if (mode == SEND_STORED_SENDFILE) {
    off_t offset = 0;
    while ((uint64_t)offset < size) {
      uint64_t left = size - (uint64_t)offset;
      ssize_t k = sendfile(sock, fd, &offset, left < 0x7ffff000 ? (size_t)left : 0x7ffff000);
      if (k < 0) {
        if (errno == EINTR) continue;
        die("sendfile: %s", strerror(errno));
      }
      if (k == 0) die("%s shrank while being sent", in);
    }
  } else {
    pthread_t thread = 0;
    if (hashing) {
      thread = start_hasher();
    } else {
      ring[0] = aligned_alloc(4096, BUF_SIZE);
      if (!ring[0]) die("aligned_alloc of %d bytes failed", BUF_SIZE);
    }
    const char *mapped = NULL;
    if (mode == SEND_HASHED_MMAP && size > 0) {
      mapped = map_file(fd, size, PROT_READ, in);
      map_base = mapped;
    }
    uint64_t sent = 0;
    unsigned long slot = 0;
    while (sent < size) {
      if (hashing) sem_wait_checked(&emptied);
      size_t want = size - sent < BUF_SIZE ? (size_t)(size - sent) : BUF_SIZE;
      if (mapped) {
        send_all(sock, mapped + sent, want);
      } else {
        char *buffer = ring[hashing ? slot % RING : 0];
        if (read_full(fd, buffer, want, 0) != want) die("%s shrank while being sent", in);
        send_all(sock, buffer, want);
      }
      sent += want;
      if (hashing) {
        ring_len[slot % RING] = want;
        sem_post_checked(&filled);
      }
      slot++;
    }
    if (hashing) finish_hasher(thread, slot, digest);
  }
  send_all(sock, digest, DIGEST);
  if (close(fd) != 0) die("close %s: %s", in, strerror(errno));
  if (shutdown(sock, SHUT_WR) != 0) die("shutdown: %s", strerror(errno));

  unsigned char theirs[DIGEST];
  if (recv_full(sock, theirs, DIGEST) != DIGEST) die("the receiver did not confirm the file (see its error)");
  if (close(sock) != 0) die("close(socket): %s", strerror(errno));
  if (memcmp(digest, theirs, DIGEST) != 0) die("the receiver's digest differs from the sender's");
  return 0;
}

// --hash VALUE: sets what the hasher computes.
static void parse_hash(const char *value) {
  if (strcmp(value, "sha256") == 0) do_sha = 1, do_xxh = 0;
  else if (strcmp(value, "xxh128") == 0) do_sha = 0, do_xxh = 1;
  else if (strcmp(value, "both") == 0) do_sha = 1, do_xxh = 1;
  else usage();
  if (do_xxh && !HAVE_XXH) die("built without xxhash.h (libxxhash-dev): --hash %s is not available", value);
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  role = argv[1];
  if (strcmp(argv[1], "recv") == 0) {
    enum receive_mode mode = RECEIVE_PWRITE;
    for (int i = 4; i < argc; i++) {
      if (strcmp(argv[i], "--splice-mmap") == 0) mode = RECEIVE_SPLICE_MMAP;
      else if (strcmp(argv[i], "--splice-pread") == 0) mode = RECEIVE_SPLICE_PREAD;
      else if (strcmp(argv[i], "--recv-mmap") == 0) mode = RECEIVE_MMAP;
      else if (strcmp(argv[i], "--hash") == 0 && i + 1 < argc) parse_hash(argv[++i]);
      else usage();
    }
    return do_recv(parse_endpoint(argv[2]), argv[3], mode);
  }
  if (strcmp(argv[1], "send") == 0) {
    enum send_mode mode = SEND_HASHED;
    for (int i = 4; i < argc; i++) {
      if (strcmp(argv[i], "--mmap") == 0 && mode == SEND_HASHED) mode = SEND_HASHED_MMAP;
      else if (strcmp(argv[i], "--sendfile") == 0 && mode == SEND_HASHED) mode = SEND_STORED_SENDFILE;
      else if (strcmp(argv[i], "--no-hash") == 0 && mode == SEND_HASHED) mode = SEND_STORED_BUFFERED;
      else if (strcmp(argv[i], "--hash") == 0 && i + 1 < argc) parse_hash(argv[++i]);
      else usage();
    }
    return do_send(parse_endpoint(argv[2]), argv[3], mode);
  }
  usage();
}
