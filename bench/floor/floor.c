// The floor of a verified transfer on this machine: a minimal C program that does only the essential work
// of moving one file over TCP with an end-to-end SHA-256 check, to show how close FileXfer comes to what the
// machine can do. bench/run.sh builds it (cc -O2 -o floor floor.c -lcrypto -lpthread) and times it beside
// FileXfer in the `large` scenario.
//
//   floor recv PORT OUT                        listen on 127.0.0.1:PORT, print "ready" once listening, accept
//                                              one connection, receive into OUT.tmp, SHA-256 on a second
//                                              thread, writeback started every 8 MiB, fsync, rename to OUT,
//                                              fsync OUT's directory, send the 32-byte digest back
//   floor send PORT IN [--no-hash] [--sendfile]
//                                              connect to 127.0.0.1:PORT, send IN (hashing it on a second
//                                              thread unless --no-hash), read the digest back and exit 1 when
//                                              it differs from the one computed; --sendfile sends with
//                                              sendfile(2) and does not hash (like FileXfer's server on a get,
//                                              which sends a stored hash)
//
// The stream: the file's size (8 bytes, big-endian), the file's bytes; back: the receiver's SHA-256 of the
// bytes it wrote. Buffers of 1 MiB in a ring of 4: the main thread does the I/O (recv + pwrite, or read +
// send), the second thread hashes the buffers the main thread has finished with; two semaphores hand them
// over. Like FileXfer, the receiver asks the kernel to start writing back every 8 MiB it has written
// (sync_file_range, SYNC_FILE_RANGE_WRITE, not waiting), so that the fsync at the end waits for the last
// stretch only; on tmpfs that costs nothing. Every call is checked: on any error the program prints one line to stderr and exits 1 (2 for usage).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h> // sync_file_range (_GNU_SOURCE)
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
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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
  fprintf(stderr, "usage: floor recv PORT OUT | floor send PORT IN [--no-hash] [--sendfile]\n");
  exit(2);
}

// The ring: slot i % RING carries len bytes; a slot with len 0 ends the stream for the hasher.
static char *ring[RING];
static size_t ring_len[RING];
static sem_t filled, emptied;
static EVP_MD_CTX *md_ctx;

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
    if (EVP_DigestUpdate(md_ctx, ring[i % RING], len) != 1) die("EVP_DigestUpdate failed");
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
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, hasher, NULL);
  if (rc != 0) die("pthread_create: %s", strerror(rc));
  return thread;
}

// Waits for the hasher to take the end of the stream (a slot with len 0) and returns the digest.
static void finish_hasher(pthread_t thread, unsigned long slot, unsigned char digest[DIGEST]) {
  sem_wait_checked(&emptied);
  ring_len[slot % RING] = 0;
  sem_post_checked(&filled);
  int rc = pthread_join(thread, NULL);
  if (rc != 0) die("pthread_join: %s", strerror(rc));
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(md_ctx, digest, &n) != 1 || n != DIGEST) die("EVP_DigestFinal_ex failed");
  EVP_MD_CTX_free(md_ctx);
}

static uint16_t parse_port(const char *text) {
  char *end;
  errno = 0;
  long port = strtol(text, &end, 10);
  if (errno || *end || end == text || port < 1 || port > 65535) die("bad port '%s'", text);
  return (uint16_t)port;
}

static struct sockaddr_in loopback(uint16_t port) {
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
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

// Receives up to len bytes, fewer only at the end of the stream.
static size_t recv_full(int sock, void *data, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t k = recv(sock, (char *)data + got, len - got, MSG_WAITALL);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("recv: %s", strerror(errno));
    }
    if (k == 0) break;
    got += (size_t)k;
  }
  return got;
}

// Reads up to len bytes of a file, fewer only at its end.
static size_t read_full(int fd, void *data, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t k = read(fd, (char *)data + got, len - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      die("read: %s", strerror(errno));
    }
    if (k == 0) break;
    got += (size_t)k;
  }
  return got;
}

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

static int do_recv(uint16_t port, const char *out) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp) die("path too long: %s", out);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) die("socket: %s", strerror(errno));
  int one = 1;
  if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("setsockopt(SO_REUSEADDR): %s", strerror(errno));
  struct sockaddr_in address = loopback(port);
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0) die("bind 127.0.0.1:%u: %s", port, strerror(errno));
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

  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open %s: %s", tmp, strerror(errno));

  pthread_t thread = start_hasher();
  uint64_t received = 0, writeback_from = 0;
  unsigned long slot = 0;
  while (received < size) {
    sem_wait_checked(&emptied);
    char *buffer = ring[slot % RING];
    size_t want = size - received < BUF_SIZE ? (size_t)(size - received) : BUF_SIZE;
    size_t got = recv_full(sock, buffer, want);
    if (got != want) die("the stream ended after %llu of %llu bytes", (unsigned long long)(received + got), (unsigned long long)size);
    pwrite_all(fd, buffer, got, (off_t)received);
    received += got;
    if (received - writeback_from >= WRITEBACK_INTERVAL) {
      if (sync_file_range(fd, (off_t)writeback_from, (off_t)(received - writeback_from), SYNC_FILE_RANGE_WRITE) != 0)
        die("sync_file_range %s: %s", tmp, strerror(errno));
      writeback_from = received;
    }
    ring_len[slot % RING] = got;
    sem_post_checked(&filled);
    slot++;
  }
  unsigned char digest[DIGEST];
  finish_hasher(thread, slot, digest);

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

static int do_send(uint16_t port, const char *in, int hash, int use_sendfile) {
  int fd = open(in, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open %s: %s", in, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat %s: %s", in, strerror(errno));
  if (!S_ISREG(st.st_mode)) die("%s is not a regular file", in);
  uint64_t size = (uint64_t)st.st_size;

  int sock = socket(AF_INET, SOCK_STREAM, 0);
  if (sock < 0) die("socket: %s", strerror(errno));
  struct sockaddr_in address = loopback(port);
  if (connect(sock, (struct sockaddr *)&address, sizeof address) != 0) die("connect 127.0.0.1:%u: %s", port, strerror(errno));

  unsigned char header[8];
  put_u64(header, size);
  send_all(sock, header, sizeof header);

  unsigned char digest[DIGEST];
  if (use_sendfile) {
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
    if (hash) {
      thread = start_hasher();
    } else {
      ring[0] = aligned_alloc(4096, BUF_SIZE);
      if (!ring[0]) die("aligned_alloc of %d bytes failed", BUF_SIZE);
    }
    uint64_t sent = 0;
    unsigned long slot = 0;
    while (sent < size) {
      if (hash) sem_wait_checked(&emptied);
      char *buffer = ring[hash ? slot % RING : 0];
      size_t want = size - sent < BUF_SIZE ? (size_t)(size - sent) : BUF_SIZE;
      if (read_full(fd, buffer, want) != want) die("%s shrank while being sent", in);
      send_all(sock, buffer, want);
      sent += want;
      if (hash) {
        ring_len[slot % RING] = want;
        sem_post_checked(&filled);
      }
      slot++;
    }
    if (hash) finish_hasher(thread, slot, digest);
  }
  if (close(fd) != 0) die("close %s: %s", in, strerror(errno));
  if (shutdown(sock, SHUT_WR) != 0) die("shutdown: %s", strerror(errno));

  unsigned char theirs[DIGEST];
  if (recv_full(sock, theirs, DIGEST) != DIGEST) die("the receiver closed the connection before sending its digest");
  if (close(sock) != 0) die("close(socket): %s", strerror(errno));
  if (hash && !use_sendfile && memcmp(digest, theirs, DIGEST) != 0) die("the receiver's SHA-256 differs from the sender's");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  role = argv[1];
  if (strcmp(argv[1], "recv") == 0) {
    if (argc != 4) usage();
    return do_recv(parse_port(argv[2]), argv[3]);
  }
  if (strcmp(argv[1], "send") == 0) {
    int hash = 1, use_sendfile = 0;
    for (int i = 4; i < argc; i++) {
      if (strcmp(argv[i], "--no-hash") == 0) hash = 0;
      else if (strcmp(argv[i], "--sendfile") == 0) use_sendfile = 1;
      else usage();
    }
    if (use_sendfile) hash = 0;
    return do_send(parse_port(argv[2]), argv[3], hash, use_sendfile);
  }
  usage();
}
