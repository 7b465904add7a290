// HTTP/1.1 GET load client for scripts/bench: drains response bodies with recv(MSG_TRUNC), which
// discards data in the kernel without copying it, so the client costs almost no CPU and large
// GETs measure the server (curl spends about one core copying 3-4 GB/s to userspace here).
//
//   sink whole HOST PORT TARGET CONNS REPEAT
//       CONNS connections at once; each GETs TARGET REPEAT times in a row (keep-alive).
//   sink range HOST PORT TARGET CONNS SECONDS SPAN OBJSIZE
//       CONNS keep-alive connections for SECONDS, each request a `Range: bytes=a-(a+SPAN-1)`
//       with a random (unaligned) a in [0, OBJSIZE-SPAN].
//
// Prints one JSON line: {"requests":N,"bytes":B,"seconds":S,"errors":E}. TARGET is a path with
// its query (presigned URLs need no headers beyond Host).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host;
static int port;
static const char *target;
static int repeat;
static double seconds;
static long long span, objsize;
static int range_mode;

struct result {
  long long requests, bytes, errors;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return -1;
    p += w;
    n -= w;
  }
  return 0;
}

/* One request/response on fd. Returns body bytes, or -1 on a broken connection, -2 on a non-2xx. */
static long long exchange(int fd, const char *extra) {
  char req[8192];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n", target, host, port, extra);
  if (send_all(fd, req, n) != 0) return -1;
  char buf[16384];
  size_t have = 0;
  char *end = NULL;
  while (!end) {
    ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
    if (r <= 0) return -1;
    have += r;
    buf[have] = 0;
    end = strstr(buf, "\r\n\r\n");
    if (!end && have >= sizeof buf - 1) return -1;
  }
  int status = atoi(buf + 9);
  long long length = -1;
  for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
    if (strncasecmp(line + 2, "content-length:", 15) == 0) length = atoll(line + 17);
  }
  if (length < 0) return -1; /* this client only handles sized bodies */
  long long got = (long long)have - ((end + 4) - buf);
  char sinkbuf[65536];
  while (got < length) {
    long long want = length - got;
    ssize_t r = recv(fd, sinkbuf, want > (1 << 30) ? (1 << 30) : (size_t)want, MSG_TRUNC);
    if (r <= 0) return -1;
    got += r;
  }
  return (status >= 200 && status < 300) ? length : -2;
}

static void *run(void *arg) {
  struct result *res = arg;
  unsigned seed = (unsigned)(uintptr_t)arg ^ (unsigned)time(NULL);
  int fd = dial();
  char extra[256] = "";
  double deadline = now() + seconds;
  for (int i = 0; range_mode ? now() < deadline : i < repeat; i++) {
    if (range_mode) {
      long long max = objsize - span;
      long long off = (((long long)rand_r(&seed) << 31) ^ rand_r(&seed)) % (max + 1);
      snprintf(extra, sizeof extra, "Range: bytes=%lld-%lld\r\n", off, off + span - 1);
    }
    long long got = exchange(fd, extra);
    if (got == -1) {
      res->errors++;
      close(fd);
      fd = dial();
      continue;
    }
    if (got == -2) res->errors++;
    else res->bytes += got;
    res->requests++;
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: sink whole HOST PORT TARGET CONNS REPEAT | range HOST PORT TARGET CONNS SECONDS SPAN OBJSIZE\n");
    return 2;
  }
  range_mode = strcmp(argv[1], "range") == 0;
  host = argv[2];
  port = atoi(argv[3]);
  target = argv[4];
  int conns = atoi(argv[5]);
  if (range_mode) {
    if (argc < 9) return 2;
    seconds = atof(argv[6]);
    span = atoll(argv[7]);
    objsize = atoll(argv[8]);
  } else {
    repeat = atoi(argv[6]);
  }
  pthread_t t[256];
  struct result r[256];
  memset(r, 0, sizeof r);
  if (conns < 1 || conns > 256) return 2;
  double t0 = now();
  for (int i = 0; i < conns; i++) pthread_create(&t[i], NULL, run, &r[i]);
  struct result total = {0};
  for (int i = 0; i < conns; i++) {
    pthread_join(t[i], NULL);
    total.requests += r[i].requests;
    total.bytes += r[i].bytes;
    total.errors += r[i].errors;
  }
  double el = now() - t0;
  printf("{\"requests\":%lld,\"bytes\":%lld,\"seconds\":%.6f,\"errors\":%lld}\n", total.requests, total.bytes, el, total.errors);
  return 0;
}
