/* server: the listening socket, accepting under the connection limit, the
   route table and the query helpers. One connection's life is in conn.c. */
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "server-internal.h"

#define DEFAULT_SOCKET_MODE       0660
#define DEFAULT_MAX_CONNECTIONS   256
#define DEFAULT_MAX_REQUEST_BYTES (1024 * 1024)
#define DEFAULT_HEADER_TIMEOUT_MS 10000
#define DEFAULT_IDLE_TIMEOUT_MS   60000
#define REFUSED_LOG_INTERVAL_MS   1000

/* A socket file left by a daemon that died is removed; one that still
   answers belongs to a running daemon, and taking it over would leave that
   daemon deaf, so it is an error. */
static int
clear_stale_socket (const char *path, kd_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int fd = -1;
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return kd_make_error (err, errno, "stat `%s`", path);
    }
  if (!S_ISSOCK (st.st_mode))
    return kd_make_error (err, 0, "`%s` exists and is not a socket", path);

  /* Non-blocking: a live daemon with a full backlog answers EAGAIN instead
     of making this call wait. */
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return kd_make_error (err, errno, "socket");
  memcpy (addr.sun_path, path, strlen (path) + 1);
  if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0 || errno == EAGAIN
      || errno == EINPROGRESS)
    return kd_make_error (err, 0, "socket `%s` is in use by another process", path);
  if (errno != ECONNREFUSED)
    return kd_make_error (err, errno, "connect `%s`", path);
  if (unlink (path) < 0 && errno != ENOENT)
    return kd_make_error (err, errno, "unlink stale socket `%s`", path);
  kd_vlog (2, "removed stale socket `%s`", path);
  return 0;
}

static void
on_refused_closed (uv_handle_t *h)
{
  free (h);
}

/* Over the limit the connection is accepted and closed at once: leaving it
   in the backlog would make libuv call us again for it forever. */
static void
refuse_connection (kd_server_t *srv)
{
  uv_pipe_t *p = xmalloc (sizeof (*p));
  uint64_t now = uv_now (srv->loop);

  uv_pipe_init (srv->loop, p, 0);
  if (uv_accept ((uv_stream_t *) &srv->listener, (uv_stream_t *) p) < 0)
    kd_vlog (4, "accept of a refused connection failed");
  uv_close ((uv_handle_t *) p, on_refused_closed);

  srv->refused++;
  if (srv->refused_logged_ms == 0 || now - srv->refused_logged_ms >= REFUSED_LOG_INTERVAL_MS)
    {
      kd_warn ("refusing connections on `%s`: %zu open, the limit is %zu (%zu refused)",
               srv->socket_path ? srv->socket_path : "", srv->n_conns, srv->opts.max_connections,
               srv->refused);
      srv->refused = 0;
      srv->refused_logged_ms = now ? now : 1;
    }
}

static void
on_connection (uv_stream_t *listener, int status)
{
  kd_server_t *srv = listener->data;
  kd_http_conn_t *conn;
  int r;

  if (status < 0)
    {
      kd_warn ("accept on `%s`: %s", srv->socket_path, uv_strerror (status));
      return;
    }
  if (srv->closing)
    return;
  if (srv->n_conns >= srv->opts.max_connections)
    {
      refuse_connection (srv);
      return;
    }
  conn = kd_conn_new (srv);
  r = uv_accept (listener, (uv_stream_t *) &conn->pipe);
  if (r < 0)
    {
      kd_warn ("accept on `%s`: %s", srv->socket_path, uv_strerror (r));
      kd_conn_close (conn);
      return;
    }
  kd_conn_start (conn);
}

static int
server_listen (kd_server_t *srv, kd_error_t *err)
{
  const char *path = srv->socket_path;
  struct sockaddr_un addr;
  struct stat st;
  int r;

  if (strlen (path) >= sizeof (addr.sun_path))
    return kd_make_error (err, ENAMETOOLONG, "socket path `%s`", path);
  if (clear_stale_socket (path, err) < 0)
    return -1;

  r = uv_pipe_init (srv->loop, &srv->listener, 0);
  if (r < 0)
    return kd_make_error (err, -r, "uv_pipe_init");
  srv->listener.data = srv;
  srv->listening = true;

  r = uv_pipe_bind (&srv->listener, path);
  if (r < 0)
    return kd_make_error (err, -r, "bind `%s`", path);
  if (lstat (path, &st) < 0)
    return kd_make_error (err, errno, "stat `%s`", path);
  srv->sock_dev = st.st_dev;
  srv->sock_ino = st.st_ino;
  /* Before listen: until then a connect is refused, so nobody slips in
     while the mode is still the umask's. */
  if (chmod (path, srv->opts.socket_mode) < 0)
    return kd_make_error (err, errno, "chmod `%s`", path);
  r = uv_listen ((uv_stream_t *) &srv->listener, SOMAXCONN, on_connection);
  if (r < 0)
    return kd_make_error (err, -r, "listen `%s`", path);
  return 0;
}

static void
server_free (kd_server_t *srv)
{
  for (size_t i = 0; i < srv->n_routes; i++)
    {
      free (srv->routes[i].method);
      free (srv->routes[i].path);
    }
  free (srv->routes);
  free (srv->socket_path);
  free (srv);
}

static void
on_listener_closed (uv_handle_t *h)
{
  server_free (h->data);
}

static void
remove_socket_file (kd_server_t *srv)
{
  struct stat st;

  if (srv->socket_path == NULL || srv->sock_ino == 0)
    return;
  /* Only our own socket: a newer daemon may have replaced it. */
  if (lstat (srv->socket_path, &st) == 0 && st.st_dev == srv->sock_dev
      && st.st_ino == srv->sock_ino)
    {
      if (unlink (srv->socket_path) < 0)
        kd_warn ("unlink `%s`: %s", srv->socket_path, strerror (errno));
    }
  srv->sock_ino = 0;
}

int
kd_server_new (uv_loop_t *loop, const kd_server_opts_t *opts, kd_server_t **out, kd_error_t *err)
{
  kd_server_t *srv = xcalloc (1, sizeof (*srv));
  struct sigaction sa;

  srv->loop = loop;
  srv->opts = *opts;
  srv->opts.socket_path = NULL;
  if (srv->opts.socket_mode == 0)
    srv->opts.socket_mode = DEFAULT_SOCKET_MODE;
  if (srv->opts.max_connections == 0)
    srv->opts.max_connections = DEFAULT_MAX_CONNECTIONS;
  if (srv->opts.max_request_bytes == 0)
    srv->opts.max_request_bytes = DEFAULT_MAX_REQUEST_BYTES;
  if (srv->opts.header_timeout_ms == 0)
    srv->opts.header_timeout_ms = DEFAULT_HEADER_TIMEOUT_MS;
  if (srv->opts.idle_timeout_ms == 0)
    srv->opts.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;

  /* A peer that closes while an answer is being written must cost an
     EPIPE, not the process. */
  if (sigaction (SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
    signal (SIGPIPE, SIG_IGN);

  if (opts->socket_path)
    {
      srv->socket_path = xstrdup (opts->socket_path);
      if (server_listen (srv, err) < 0)
        {
          remove_socket_file (srv);
          if (srv->listening)
            uv_close ((uv_handle_t *) &srv->listener, on_listener_closed);
          else
            server_free (srv);
          return -1;
        }
    }
  *out = srv;
  return 0;
}

void
kd_server_route (kd_server_t *srv, const char *method, const char *path, bool prefix,
                 kd_http_handler_t fn, void *data)
{
  kd_grow ((void **) &srv->routes, &srv->cap_routes, srv->n_routes, sizeof (kd_route_t));
  srv->routes[srv->n_routes++] = (kd_route_t){
    .method = xstrdup (method),
    .path = xstrdup (path),
    .prefix = prefix,
    .fn = fn,
    .data = data,
  };
}

void
kd_server_close (kd_server_t *srv)
{
  srv->closing = true;
  while (srv->conns)
    kd_conn_close (srv->conns);
  remove_socket_file (srv);
  if (srv->listening)
    uv_close ((uv_handle_t *) &srv->listener, on_listener_closed);
  else
    server_free (srv);
}

void
kd_server_unlink_conn (kd_server_t *srv, kd_http_conn_t *conn)
{
  if (conn->prev)
    conn->prev->next = conn->next;
  else
    srv->conns = conn->next;
  if (conn->next)
    conn->next->prev = conn->prev;
  conn->next = conn->prev = NULL;
  srv->n_conns--;
}

int
kd_server_adopt_fd (kd_server_t *srv, int fd, kd_error_t *err)
{
  kd_http_conn_t *conn = kd_conn_new (srv);
  int r = uv_pipe_open (&conn->pipe, fd);

  if (r < 0)
    {
      close (fd);
      kd_conn_close (conn);
      return kd_make_error (err, -r, "adopt fd %d", fd);
    }
  kd_conn_start (conn);
  return 0;
}

/* ---- routing ------------------------------------------------------- */

static bool
route_path_matches (const kd_route_t *r, const char *path)
{
  return r->prefix ? kd_str_has_prefix (path, r->path) : strcmp (path, r->path) == 0;
}

static void
allow_add (kd_buf_t *allow, const char *method)
{
  size_t n = strlen (method);

  for (const char *p = allow->s; p && *p;)
    {
      const char *e = strchr (p, ',');
      size_t len = e ? (size_t) (e - p) : strlen (p);
      if (len == n && memcmp (p, method, n) == 0)
        return;
      p = e ? e + 2 : p + len;
    }
  if (allow->len)
    kd_buf_puts (allow, ", ");
  kd_buf_puts (allow, method);
}

void
kd_server_dispatch (kd_server_t *srv, kd_http_conn_t *conn)
{
  const char *method = conn->req.method;
  bool head = strcmp (method, "HEAD") == 0;
  kd_buf_t allow = { 0 };
  cleanup_free char *allow_header = NULL;

  for (size_t i = 0; i < srv->n_routes; i++)
    {
      const kd_route_t *r = &srv->routes[i];

      if (!route_path_matches (r, conn->req.path))
        continue;
      /* HEAD is GET without the body; conn.c drops the body. */
      if (strcmp (r->method, method) == 0 || (head && strcmp (r->method, "GET") == 0))
        {
          kd_buf_free (&allow);
          conn->route = r->path;
          r->fn (conn, &conn->req, r->data);
          return;
        }
      allow_add (&allow, r->method);
      if (strcmp (r->method, "GET") == 0)
        allow_add (&allow, "HEAD");
    }

  if (allow.len == 0)
    {
      kd_http_respond_status (conn, 404, "NotFound",
                              "the server could not find the requested resource");
      return;
    }
  allow_header = xasprintf ("Allow: %s\r\n", allow.s);
  kd_buf_free (&allow);
  kd_conn_respond_status_headers (
      conn, 405, "MethodNotAllowed", allow_header,
      "the server does not allow this method on the requested resource");
}

/* ---- v1 Status bodies --------------------------------------------- */

/* Messages may quote client bytes that are not UTF-8, which jansson
   refuses; those bytes become '?'. */
static json_t *
status_message (const char *message)
{
  json_t *j = json_string (message);
  cleanup_free char *copy = NULL;

  if (j)
    return j;
  copy = xstrdup (message);
  for (char *p = copy; *p; p++)
    if ((unsigned char) *p >= 0x80)
      *p = '?';
  return json_string (copy);
}

void
kd_conn_respond_status_headers (kd_http_conn_t *conn, int status, const char *reason,
                                const char *headers, const char *message)
{
  json_t *o = json_object ();
  cleanup_free char *s = NULL;
  kd_buf_t b = { 0 };

  json_object_set_new (o, "kind", json_string ("Status"));
  json_object_set_new (o, "apiVersion", json_string ("v1"));
  json_object_set_new (o, "metadata", json_object ());
  json_object_set_new (o, "status", json_string ("Failure"));
  json_object_set_new (o, "message", status_message (message));
  json_object_set_new (o, "reason", json_string (reason));
  json_object_set_new (o, "code", json_integer (status));
  s = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  kd_buf_puts (&b, s ? s : "{}");
  kd_buf_putc (&b, '\n');
  kd_conn_respond_headers (conn, status, "application/json", headers, b.s, b.len);
  kd_buf_free (&b);
}

void
kd_http_respond_status (kd_http_conn_t *conn, int status, const char *reason, const char *fmt, ...)
{
  cleanup_free char *message = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&message, fmt, ap) < 0)
    abort ();
  va_end (ap);
  kd_conn_respond_status_headers (conn, status, reason, NULL, message);
}

/* ---- query and escapes -------------------------------------------- */

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *
kd_http_unescape (const char *s, size_t len, bool plus_space)
{
  cleanup_free char *out = xmalloc (len + 1);
  size_t j = 0;

  for (size_t i = 0; i < len; i++)
    {
      char c = s[i];

      if (c == '%')
        {
          int hi, lo;

          if (i + 2 >= len)
            return NULL;
          hi = hex_value (s[i + 1]);
          lo = hex_value (s[i + 2]);
          /* An encoded NUL would cut every C string made from it. */
          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return NULL;
          c = (char) (hi * 16 + lo);
          i += 2;
        }
      else if (c == '+' && plus_space)
        c = ' ';
      else if (c == '\0')
        return NULL;
      out[j++] = c;
    }
  out[j] = '\0';
  return steal_pointer (&out);
}

char *
kd_http_query_get (const kd_http_request_t *req, const char *key)
{
  const char *p = req->query ? req->query : "";

  while (*p)
    {
      const char *end = strchr (p, '&');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      const char *eq = memchr (p, '=', len);
      size_t klen = eq ? (size_t) (eq - p) : len;
      cleanup_free char *k = kd_http_unescape (p, klen, true);

      /* Pairs that do not decode are skipped, as Go's url.ParseQuery does. */
      if (k && strcmp (k, key) == 0)
        {
          char *v = eq ? kd_http_unescape (eq + 1, len - klen - 1, true) : xstrdup ("");
          if (v)
            return v;
        }
      p = end ? end + 1 : p + len;
    }
  return NULL;
}
