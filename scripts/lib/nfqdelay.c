/*
 * nfqdelay: adds a fixed delay (and optional random loss) to every packet an
 * NFQUEUE hands it. The kernel here lacks netem, so the testbed's forwarding
 * namespace queues its forwarded packets here. It must run in a forwarding
 * namespace, never in a sender's own: TCP small queues would then throttle the
 * sender to ~1 Mbit/s.
 *
 * Packets are held by id only (metadata copy mode) and released in arrival
 * order: with one constant delay, due times are monotonic, so a ring suffices.
 *
 * usage: nfqdelay QUEUE DELAY_US [LOSS_PERCENT]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnfnetlink/libnfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define RING (1u << 18)

struct held { uint32_t id; uint64_t due_ns; };
static struct held ring[RING];
static uint32_t head, tail;
static uint64_t delay_ns;
static double loss;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg; (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  if (loss > 0 && drand48() * 100.0 < loss) return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
  if (delay_ns == 0 || tail - head >= RING) return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
  ring[tail % RING] = (struct held){ id, now_ns() + delay_ns };
  tail++;
  return 0;
}

static void on_signal(int s) { (void)s; stop = 1; }

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: nfqdelay QUEUE DELAY_US [LOSS_PERCENT]\n"); return 2; }
  int qnum = atoi(argv[1]);
  delay_ns = (uint64_t)strtoull(argv[2], NULL, 10) * 1000ull;
  loss = argc > 3 ? atof(argv[3]) : 0.0;
  srand48((long)now_ns());
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  struct nfq_handle *h = nfq_open();
  if (!h) { perror("nfq_open"); return 1; }
  nfq_unbind_pf(h, AF_INET);
  if (nfq_bind_pf(h, AF_INET) < 0) { perror("nfq_bind_pf"); return 1; }
  struct nfq_q_handle *qh = nfq_create_queue(h, qnum, &on_packet, NULL);
  if (!qh) { perror("nfq_create_queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  nfq_set_queue_maxlen(qh, RING);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 32 * 1024 * 1024);
  int fd = nfq_fd(h);
  static char buf[65536] __attribute__((aligned));
  fprintf(stderr, "nfqdelay: queue %d, delay %llu us, loss %.3f%%\n", qnum,
          (unsigned long long)(delay_ns / 1000), loss);

  while (!stop) {
    uint64_t now = now_ns();
    while (head != tail && ring[head % RING].due_ns <= now) {
      nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL);
      head++;
    }
    struct timespec ts = { 1, 0 };
    if (head != tail) {
      uint64_t wait = ring[head % RING].due_ns - now;
      ts.tv_sec = (time_t)(wait / 1000000000ull);
      ts.tv_nsec = (long)(wait % 1000000000ull);
    }
    struct pollfd p = { fd, POLLIN, 0 };
    int r = ppoll(&p, 1, &ts, NULL);
    if (r < 0 && errno != EINTR) { perror("ppoll"); break; }
    if (r > 0) {
      for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
          if (errno == ENOBUFS) { fprintf(stderr, "nfqdelay: ENOBUFS (kernel dropped queue messages)\n"); continue; }
          break;
        }
        nfq_handle_packet(h, buf, (int)n);
      }
    }
  }
  /* let everything still held go so no flow hangs on exit */
  while (head != tail) { nfq_set_verdict(qh, ring[head % RING].id, NF_ACCEPT, 0, NULL); head++; }
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
