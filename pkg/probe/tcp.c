/* tcpSocket: success when a TCP connection opens within the timeout
   (pkg/probe/tcp DoTCPProbe); the connection is closed at once. Failures
   read as Go's net.DialTimeout errors: "dial tcp 10.88.0.5:8080: connect:
   connection refused", "dial tcp 10.88.0.5:8080: i/o timeout". */
#include <netdb.h>

#include "probe-internal.h"

typedef struct
{
  kd_attempt_t base;
  uv_loop_t *loop;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect;
  uv_getaddrinfo_t gai;
  char *host;
  char *hostport;
  int port;
  int pending; /* open handles and in-flight requests */
  bool tcp_open;
  bool gai_active;
  bool reported;
  char *early_msg; /* a failure known in the start call, reported from the loop */
  kd_attempt_cb cb;
  void *data;
} tcp_probe_t;

static void on_timeout (uv_timer_t *timer);

static void
release (tcp_probe_t *t)
{
  if (--t->pending == 0)
    {
      free (t->host);
      free (t->hostport);
      free (t->early_msg);
      free (t);
    }
}

static void
on_close (uv_handle_t *h)
{
  release (h->data);
}

static void
finish_handles (tcp_probe_t *t)
{
  if (!uv_is_closing ((uv_handle_t *) &t->timer))
    uv_close ((uv_handle_t *) &t->timer, on_close);
  if (t->tcp_open && !uv_is_closing ((uv_handle_t *) &t->tcp))
    uv_close ((uv_handle_t *) &t->tcp, on_close);
  if (t->gai_active)
    uv_cancel ((uv_req_t *) &t->gai);
}

static void
report (tcp_probe_t *t, kd_outcome_t o, const char *msg)
{
  if (t->reported)
    return;
  t->reported = true;
  t->cb (t->data, o, false, msg);
  finish_handles (t);
}

static void
on_connect (uv_connect_t *req, int status)
{
  tcp_probe_t *t = req->data;
  char err[128];

  if (t->reported)
    return;
  if (status == 0)
    {
      report (t, KD_OUTCOME_SUCCESS, "");
      return;
    }
  kd_go_errno (-status, err, sizeof (err));
  cleanup_free char *msg = xasprintf ("dial tcp %s: connect: %s", t->hostport, err);
  report (t, KD_OUTCOME_FAILURE, msg);
}

static void
start_connect (tcp_probe_t *t, const struct sockaddr *sa)
{
  int r;

  uv_tcp_init (t->loop, &t->tcp);
  t->tcp.data = t;
  t->tcp_open = true;
  t->pending++;
  t->connect.data = t;
  r = uv_tcp_connect (&t->connect, &t->tcp, sa, on_connect);
  if (r < 0)
    {
      char err[128];
      kd_go_errno (-r, err, sizeof (err));
      t->early_msg = xasprintf ("dial tcp %s: connect: %s", t->hostport, err);
      uv_timer_start (&t->timer, on_timeout, 0, 0);
    }
}

static void
on_resolved (uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
  tcp_probe_t *t = req->data;

  t->gai_active = false;
  if (!t->reported)
    {
      if (status < 0 || res == NULL)
        {
          cleanup_free char *msg = xasprintf ("dial tcp: lookup %s: no such host", t->host);
          report (t, KD_OUTCOME_FAILURE, msg);
        }
      else
        start_connect (t, res->ai_addr);
    }
  uv_freeaddrinfo (res);
  release (t);
}

static void
on_timeout (uv_timer_t *timer)
{
  tcp_probe_t *t = timer->data;
  if (t->early_msg)
    {
      report (t, KD_OUTCOME_FAILURE, t->early_msg);
      return;
    }
  cleanup_free char *msg = xasprintf ("dial tcp %s: i/o timeout", t->hostport);
  report (t, KD_OUTCOME_FAILURE, msg);
}

static void
tcp_cancel (kd_attempt_t *base)
{
  tcp_probe_t *t = (tcp_probe_t *) base;
  t->reported = true;
  finish_handles (t);
}

kd_attempt_t *
kd_tcp_start (uv_loop_t *loop, const char *host, int port, uint64_t timeout_ms, kd_attempt_cb cb,
              void *data)
{
  tcp_probe_t *t = xcalloc (1, sizeof (*t));
  struct sockaddr_storage ss;

  t->base.cancel = tcp_cancel;
  t->loop = loop;
  t->host = xstrdup (host);
  t->port = port;
  t->hostport = kd_join_host_port (host, port);
  t->cb = cb;
  t->data = data;
  uv_timer_init (loop, &t->timer);
  t->timer.data = t;
  t->pending = 1;
  uv_timer_start (&t->timer, on_timeout, timeout_ms ? timeout_ms : 1000, 0);

  if (uv_ip4_addr (host, port, (struct sockaddr_in *) &ss) == 0
      || uv_ip6_addr (host, port, (struct sockaddr_in6 *) &ss) == 0)
    start_connect (t, (const struct sockaddr *) &ss);
  else
    {
      char service[16];
      struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
      snprintf (service, sizeof (service), "%d", port);
      t->gai.data = t;
      t->pending++;
      t->gai_active = true;
      if (uv_getaddrinfo (loop, &t->gai, on_resolved, host, service, &hints) < 0)
        {
          t->gai_active = false;
          t->pending--;
          t->early_msg = xasprintf ("dial tcp: lookup %s: no such host", host);
          uv_timer_start (&t->timer, on_timeout, 0, 0);
        }
    }
  return &t->base;
}
