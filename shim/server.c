/* The shim's epoll loop and its side of the socket protocol (one JSON object
 * per line, see include/kubeletd/shim.h).
 *
 * One client at a time: a new connection replaces the old one (kubeletd
 * restarted) and first receives an exit event for every exited container
 * still known, so exits that happened while nobody listened are reported
 * with their true codes. A line that is not a valid request gets an error
 * reply; a line over MAX_LINE bytes, or a client that stops reading while
 * MAX_OUT bytes of replies wait, is disconnected. */
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "shim.h"

#define MAX_LINE   (64 * 1024)
#define MAX_OUT    (16 * 1024 * 1024)
#define MAX_EVENTS 16

static int epfd = -1;
static const char *pod_dir;
static shim_src_t listen_src = { SHIM_SRC_LISTEN, -1, NULL, 0 };
static shim_src_t client_src = { SHIM_SRC_CLIENT, -1, NULL, 0 };
static shim_src_t signal_src = { SHIM_SRC_SIGNAL, -1, NULL, 0 };
static kd_buf_t in;  /* the client's unprocessed bytes */
static kd_buf_t out; /* replies not yet taken by the socket */
static size_t out_off;
static bool want_out;

int
shim_server_add_fd (shim_src_t *src)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };
  return epoll_ctl (epfd, EPOLL_CTL_ADD, src->fd, &ev);
}

void
shim_server_del_fd (shim_src_t *src)
{
  if (src->fd >= 0)
    epoll_ctl (epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

static void
drop_client (void)
{
  if (client_src.fd < 0)
    return;
  shim_server_del_fd (&client_src);
  close (client_src.fd);
  client_src.fd = -1;
  kd_buf_free (&in);
  kd_buf_free (&out);
  out_off = 0;
  want_out = false;
}

static void
set_want_out (bool on)
{
  struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = &client_src };

  if (on == want_out)
    return;
  want_out = on;
  epoll_ctl (epfd, EPOLL_CTL_MOD, client_src.fd, &ev);
}

static void
flush_out (void)
{
  while (client_src.fd >= 0 && out_off < out.len)
    {
      ssize_t n
          = send (client_src.fd, out.s + out_off, out.len - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          set_want_out (true);
          return;
        }
      if (n < 0)
        {
          drop_client ();
          return;
        }
      out_off += (size_t) n;
    }
  if (client_src.fd < 0)
    return;
  kd_buf_free (&out);
  out_off = 0;
  set_want_out (false);
}

/* Queues one line for the client (if any); takes the reference. */
static void
send_json (json_t *j)
{
  char *s;

  if (client_src.fd < 0)
    {
      json_decref (j);
      return;
    }
  s = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  kd_buf_puts (&out, s);
  kd_buf_putc (&out, '\n');
  free (s);
  if (out.len - out_off > MAX_OUT)
    {
      kd_warn ("client does not read its replies: disconnecting it");
      drop_client ();
      return;
    }
  flush_out ();
}

void
shim_server_send_event (json_t *event)
{
  send_json (event);
}

static json_t *
reply_new (json_t *seq, bool ok)
{
  json_t *r = json_object ();

  if (seq)
    json_object_set (r, "seq", seq);
  json_object_set_new (r, "ok", json_boolean (ok));
  return r;
}

static void
reply_error (json_t *seq, const char *msg)
{
  json_t *r = reply_new (seq, false);
  json_object_set_new (r, "error", json_string (msg));
  send_json (r);
}

static void
reply_result (json_t *seq, int r, kd_error_t *err)
{
  if (r < 0)
    {
      reply_error (seq, *err ? (*err)->msg : "failed");
      kd_error_release (err);
    }
  else
    send_json (reply_new (seq, true));
}

static void __attribute__ ((noreturn)) do_shutdown (json_t *seq)
{
  shim_ctr_kill_all ();
  send_json (reply_new (seq, true));
  /* The reply must leave before the socket goes: a blocking send with a
     timeout, so a client that stopped reading cannot hold the exit. */
  if (client_src.fd >= 0 && out_off < out.len)
    {
      struct timeval tv = { 2, 0 };
      fcntl (client_src.fd, F_SETFL, fcntl (client_src.fd, F_GETFL) & ~O_NONBLOCK);
      setsockopt (client_src.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof (tv));
      while (out_off < out.len)
        {
          ssize_t n = send (client_src.fd, out.s + out_off, out.len - out_off, MSG_NOSIGNAL);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          out_off += (size_t) n;
        }
    }
  shim_cleanup_files (pod_dir);
  _exit (0);
}

static void
handle_request (const char *line, size_t len)
{
  json_error_t jerr;
  json_t *req = json_loadb (line, len, 0, &jerr);
  json_t *seq;
  const char *op, *id;
  kd_error_t err = NULL;
  int r;

  if (req == NULL || !json_is_object (req))
    {
      cleanup_free char *msg = xasprintf ("invalid request: %s", req ? "not an object" : jerr.text);
      reply_error (NULL, msg);
      json_decref (req);
      return;
    }
  seq = json_object_get (req, "seq");
  if (seq && !json_is_integer (seq))
    seq = NULL;
  op = json_string_value (json_object_get (req, "op"));
  id = json_string_value (json_object_get (req, "id"));
  if (seq == NULL)
    reply_error (NULL, "invalid request: missing `seq`");
  else if (op == NULL)
    reply_error (seq, "invalid request: missing `op`");
  else if (strcmp (op, "state") == 0)
    {
      json_t *rep = reply_new (seq, true);
      json_object_set_new (rep, "containers", shim_ctr_list ());
      send_json (rep);
    }
  else if (strcmp (op, "shutdown") == 0)
    do_shutdown (seq);
  else if (strcmp (op, "create") != 0 && strcmp (op, "kill") != 0 && strcmp (op, "delete") != 0)
    {
      cleanup_free char *msg = xasprintf ("unknown op `%s`", op);
      reply_error (seq, msg);
    }
  else if (id == NULL)
    reply_error (seq, "invalid request: missing `id`");
  else if (strcmp (op, "create") == 0)
    {
      json_t *rep = NULL;
      r = shim_ctr_create (pod_dir, id, &rep, &err);
      if (r < 0)
        reply_result (seq, r, &err);
      else
        {
          json_object_set (rep, "seq", seq);
          send_json (rep);
        }
    }
  else if (strcmp (op, "kill") == 0)
    {
      json_t *s = json_object_get (req, "signal");
      if (!json_is_integer (s))
        reply_error (seq, "invalid request: missing `signal`");
      else
        {
          r = shim_ctr_kill (id, (int) json_integer_value (s), &err);
          reply_result (seq, r, &err);
        }
    }
  else
    {
      r = shim_ctr_delete (id, &err);
      reply_result (seq, r, &err);
    }
  json_decref (req);
  /* After the reply: exits noticed now come after it (see create). */
  shim_ctr_reap ();
}

static void
on_client (uint32_t events)
{
  char buf[4096];
  size_t start = 0;

  if (events & EPOLLOUT)
    flush_out ();
  if (client_src.fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    return;
  ssize_t n = recv (client_src.fd, buf, sizeof (buf), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      drop_client ();
      return;
    }
  kd_buf_append (&in, buf, (size_t) n);
  for (;;)
    {
      char *nl = memchr (in.s + start, '\n', in.len - start);
      if (nl == NULL)
        break;
      if (nl > in.s + start)
        handle_request (in.s + start, (size_t) (nl - (in.s + start)));
      if (client_src.fd < 0)
        return; /* dropped while replying */
      start = (size_t) (nl - in.s) + 1;
    }
  if (in.len - start > MAX_LINE)
    {
      kd_warn ("request line over %d bytes: disconnecting the client", MAX_LINE);
      drop_client ();
      return;
    }
  memmove (in.s, in.s + start, in.len - start);
  in.len -= start;
  in.s[in.len] = '\0';
}

static void
send_exit (json_t *event)
{
  send_json (event);
}

static void
on_listen (void)
{
  int fd = accept4 (listen_src.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd < 0)
    return;
  /* kubeletd restarted: the newest connection wins. */
  drop_client ();
  client_src.fd = fd;
  if (shim_server_add_fd (&client_src) < 0)
    {
      close (fd);
      client_src.fd = -1;
      return;
    }
  shim_ctr_foreach_exited (send_exit);
}

static void
on_signal (void)
{
  struct signalfd_siginfo si;

  while (read (signal_src.fd, &si, sizeof (si)) == sizeof (si))
    ;
  shim_ctr_reap ();
}

void
shim_server_run (const char *dir, int listen_fd)
{
  struct epoll_event evs[MAX_EVENTS];
  sigset_t mask;

  pod_dir = dir;
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    {
      kd_err ("epoll_create1: %s", strerror (errno));
      _exit (1);
    }
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal_src.fd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  listen_src.fd = listen_fd;
  if (signal_src.fd < 0 || shim_server_add_fd (&signal_src) < 0
      || shim_server_add_fd (&listen_src) < 0)
    {
      kd_err ("signalfd/epoll: %s", strerror (errno));
      _exit (1);
    }

  for (;;)
    {
      int timeout = shim_ctr_timeouts ();
      int n = epoll_wait (epfd, evs, MAX_EVENTS, timeout);

      if (n < 0 && errno != EINTR)
        {
          kd_err ("epoll_wait: %s", strerror (errno));
          _exit (1);
        }
      for (int i = 0; i < n; i++)
        {
          shim_src_t *src = evs[i].data.ptr;
          switch (src->kind)
            {
            case SHIM_SRC_LISTEN:
              on_listen ();
              break;
            case SHIM_SRC_CLIENT:
              on_client (evs[i].events);
              break;
            case SHIM_SRC_SIGNAL:
              on_signal ();
              break;
            case SHIM_SRC_PIPE:
              shim_ctr_on_pipe (src);
              break;
            }
        }
      shim_ctr_collect ();
    }
}
