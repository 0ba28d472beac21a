/* httpGet: one GET through libcurl's multi interface, driven by the libuv
   loop (curl_multi_socket_action with one uv_poll per socket curl opens and
   one uv_timer for curl's own timeouts, as libcurl's multi-uv example).

   The kubelet's client, reproduced (pkg/probe/http):
   - no certificate verification for HTTPS, no keep-alive;
   - User-Agent kube-probe/<major>.<minor> and "Accept: any" unless given;
     an empty Accept removes it; a Host header sets the request's host;
   - redirects followed only to the same host name, at most 10; a redirect
     to another host ends the request with the 3xx, which is a success
     with a warning ("Probe terminated redirects");
   - the body read up to 10 KiB; 200-399 succeed, others fail with
     "HTTP probe failed with statuscode: N";
   - one deadline over the whole exchange (http.Client.Timeout), with Go's
     error texts. */
#include <strings.h>

#include "kubeletd/lazy-curl.h"
#include "probe-internal.h"

#define HTTP_MAX_BODY      (10 * 1024)
#define HTTP_MAX_REDIRECTS 10

typedef struct http_probe http_probe_t;

typedef struct
{
  uv_poll_t poll;
  curl_socket_t fd;
  http_probe_t *owner;
} sock_ctx_t;

struct http_probe
{
  kd_attempt_t base;
  uv_loop_t *loop;
  CURLM *multi;
  CURL *easy;
  uv_timer_t curl_timer;
  uv_timer_t deadline;
  struct curl_slist *hdrs;
  char **header_lines; /* the user's headers but Host, as curl lines */
  size_t n_header_lines;
  char *host_header;
  char *url;
  char *first_host;
  char *user_agent;
  kd_buf_t body;
  bool body_full;
  bool any_status;
  bool torn_down;
  bool reported;
  int redirects;
  int pending; /* open uv handles */
  kd_attempt_cb cb;
  void *data;
  char errbuf[CURL_ERROR_SIZE];
};

static void
release (http_probe_t *h)
{
  if (--h->pending > 0)
    return;
  for (size_t i = 0; i < h->n_header_lines; i++)
    free (h->header_lines[i]);
  free (h->header_lines);
  free (h->host_header);
  free (h->url);
  free (h->first_host);
  free (h->user_agent);
  kd_buf_free (&h->body);
  free (h);
}

static void
on_handle_close (uv_handle_t *handle)
{
  release (handle->data);
}

static void
on_sock_close (uv_handle_t *handle)
{
  sock_ctx_t *s = handle->data;
  http_probe_t *h = s->owner;
  free (s);
  release (h);
}

/* Stops everything; the object is freed once libuv has closed its handles. */
static void
teardown (http_probe_t *h)
{
  if (h->torn_down)
    return;
  h->torn_down = true;
  /* Removing the handle and cleaning the multi call the socket callback
     with CURL_POLL_REMOVE for every socket still open: those close their
     polls. */
  curl_multi_remove_handle (h->multi, h->easy);
  curl_easy_cleanup (h->easy);
  curl_multi_cleanup (h->multi);
  curl_slist_free_all (h->hdrs);
  h->hdrs = NULL;
  uv_close ((uv_handle_t *) &h->curl_timer, on_handle_close);
  uv_close ((uv_handle_t *) &h->deadline, on_handle_close);
}

static void
report (http_probe_t *h, kd_outcome_t o, bool errored, const char *msg)
{
  kd_attempt_cb cb = h->cb;
  void *data = h->data;

  if (h->reported)
    return;
  h->reported = true;
  teardown (h);
  cb (data, o, errored, msg);
}

static void on_poll (uv_poll_t *p, int status, int events);

static int
on_socket (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
  http_probe_t *h = userp;
  sock_ctx_t *s = socketp;

  if (what == CURL_POLL_REMOVE)
    {
      if (s)
        {
          uv_poll_stop (&s->poll);
          uv_close ((uv_handle_t *) &s->poll, on_sock_close);
          curl_multi_assign (h->multi, fd, NULL);
        }
      return 0;
    }
  if (s == NULL)
    {
      s = xcalloc (1, sizeof (*s));
      s->fd = fd;
      s->owner = h;
      uv_poll_init_socket (h->loop, &s->poll, fd);
      s->poll.data = s;
      h->pending++;
      curl_multi_assign (h->multi, fd, s);
    }
  int events = 0;
  if (what & CURL_POLL_IN)
    events |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    events |= UV_WRITABLE;
  uv_poll_start (&s->poll, events, on_poll);
  return 0;
}

static void on_curl_timer (uv_timer_t *t);

static int
on_curl_timeout (CURLM *multi, long timeout_ms, void *userp)
{
  http_probe_t *h = userp;

  if (h->torn_down)
    return 0;
  if (timeout_ms < 0)
    uv_timer_stop (&h->curl_timer);
  else
    uv_timer_start (&h->curl_timer, on_curl_timer, (uint64_t) timeout_ms, 0);
  return 0;
}

static size_t
on_write (char *ptr, size_t size, size_t nmemb, void *userdata)
{
  http_probe_t *h = userdata;
  size_t n = size * nmemb;
  size_t room = HTTP_MAX_BODY - h->body.len;

  if (n > room)
    {
      /* utilio.ReadAtMost: stop at the limit, keep what was read. */
      kd_buf_append (&h->body, ptr, room);
      h->body_full = true;
      return 0;
    }
  kd_buf_append (&h->body, ptr, n);
  return n;
}

/* The host name of an absolute URL, as url.URL.Hostname (), and the
   host:port Go dials. */
static char *
url_part (const char *url, CURLUPart part)
{
  CURLU *u = curl_url ();
  char *v = NULL, *r = NULL;

  if (curl_url_set (u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK
      && curl_url_get (u, part, &v, part == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) == CURLUE_OK)
    {
      r = xstrdup (v);
      curl_free (v);
    }
  curl_url_cleanup (u);
  return r;
}

static char *
dial_addr (const char *url)
{
  cleanup_free char *host = url_part (url, CURLUPART_HOST);
  cleanup_free char *port = url_part (url, CURLUPART_PORT);
  return xasprintf ("%s:%s", host ? host : "", port ? port : "");
}

static void
build_headers (http_probe_t *h, bool with_host)
{
  curl_slist_free_all (h->hdrs);
  h->hdrs = NULL;
  if (with_host && h->host_header)
    {
      cleanup_free char *line = xasprintf ("Host: %s", h->host_header);
      h->hdrs = curl_slist_append (h->hdrs, line);
    }
  for (size_t i = 0; i < h->n_header_lines; i++)
    h->hdrs = curl_slist_append (h->hdrs, h->header_lines[i]);
  curl_easy_setopt (h->easy, CURLOPT_HTTPHEADER, h->hdrs);
}

static bool
is_abs_url (const char *s)
{
  const char *p = s;
  if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
    return false;
  while (*p && *p != ':' && *p != '/' && *p != '?' && *p != '#')
    p++;
  return *p == ':';
}

/* Go's Client: follow 301/302/303/307/308 with a Location; the kubelet's
   CheckRedirect stops at another host name (the redirect itself is the
   response) and errors after 10 redirects. Returns true when a new
   request was started. */
static bool
follow_redirect (http_probe_t *h, long code)
{
  char *next = NULL;
  struct curl_header *loc = NULL;

  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
    return false;
  if (curl_easy_getinfo (h->easy, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || next == NULL)
    return false;
  cleanup_free char *target = xstrdup (next);
  cleanup_free char *host = url_part (target, CURLUPART_HOST);
  if (host == NULL || h->first_host == NULL || strcmp (host, h->first_host) != 0)
    return false;
  if (h->redirects >= HTTP_MAX_REDIRECTS)
    {
      cleanup_free char *q = kd_fe_quote (target);
      cleanup_free char *msg = xasprintf ("Get %s: stopped after 10 redirects", q);
      report (h, KD_OUTCOME_FAILURE, false, msg);
      return true;
    }
  /* A Host override survives a relative redirect only (Go issue 22233). */
  bool relative = true;
  if (curl_easy_header (h->easy, "Location", 0, CURLH_HEADER, -1, &loc) == CURLHE_OK && loc)
    relative = !is_abs_url (loc->value);
  h->redirects++;
  free (h->url);
  h->url = steal_pointer (&target);
  h->body.len = 0;
  h->body_full = false;
  curl_multi_remove_handle (h->multi, h->easy);
  curl_easy_setopt (h->easy, CURLOPT_URL, h->url);
  build_headers (h, relative);
  curl_multi_add_handle (h->multi, h->easy);
  return true;
}

static void
transfer_done (http_probe_t *h, CURLcode res)
{
  long code = 0;

  if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && h->body_full))
    {
      curl_easy_getinfo (h->easy, CURLINFO_RESPONSE_CODE, &code);
      if (follow_redirect (h, code))
        return;
      const char *body = h->body.s ? h->body.s : "";
      if (h->any_status)
        report (h, KD_OUTCOME_SUCCESS, false, body);
      else if (code >= 200 && code < 400)
        {
          if (code >= 300)
            {
              cleanup_free char *msg
                  = xasprintf ("Probe terminated redirects, Response body: %s", body);
              report (h, KD_OUTCOME_WARNING, false, msg);
            }
          else
            report (h, KD_OUTCOME_SUCCESS, false, body);
        }
      else
        {
          cleanup_free char *msg = xasprintf ("HTTP probe failed with statuscode: %ld", code);
          report (h, KD_OUTCOME_FAILURE, false, msg);
        }
      return;
    }

  /* Transport errors, as Go's url.Error: Get "URL": <net error>. */
  cleanup_free char *q = kd_fe_quote (h->url);
  cleanup_free char *addr = dial_addr (h->url);
  cleanup_free char *detail = NULL;
  long os_errno = 0;
  char err[128];
  curl_easy_getinfo (h->easy, CURLINFO_OS_ERRNO, &os_errno);
  switch (res)
    {
    case CURLE_COULDNT_CONNECT:
      kd_go_errno (os_errno ? (int) os_errno : ECONNREFUSED, err, sizeof (err));
      detail = xasprintf ("dial tcp %s: connect: %s", addr, err);
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      {
        cleanup_free char *host = url_part (h->url, CURLUPART_HOST);
        detail = xasprintf ("dial tcp: lookup %s: no such host", host ? host : "");
      }
      break;
    case CURLE_GOT_NOTHING:
      detail = xstrdup ("EOF");
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno)
        {
          kd_go_errno ((int) os_errno, err, sizeof (err));
          detail
              = xasprintf ("%s tcp %s: %s", res == CURLE_RECV_ERROR ? "read" : "write", addr, err);
          break;
        }
      /* fall through */
    default:
      detail = xstrdup (h->errbuf[0] ? h->errbuf : curl_easy_strerror (res));
    }
  cleanup_free char *msg = xasprintf ("Get %s: %s", q, detail);
  report (h, KD_OUTCOME_FAILURE, false, msg);
}

static void
check_info (http_probe_t *h)
{
  CURLMsg *m;
  int left;

  while (!h->torn_down && (m = curl_multi_info_read (h->multi, &left)))
    if (m->msg == CURLMSG_DONE)
      {
        transfer_done (h, m->data.result);
        /* A redirect re-added the handle: the queue is stale now. */
        return;
      }
}

static void
on_poll (uv_poll_t *p, int status, int events)
{
  sock_ctx_t *s = p->data;
  http_probe_t *h = s->owner;
  int flags = 0, running;

  if (h->torn_down)
    return;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  else
    {
      if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
      if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    }
  curl_multi_socket_action (h->multi, s->fd, flags, &running);
  check_info (h);
}

static void
on_curl_timer (uv_timer_t *t)
{
  http_probe_t *h = t->data;
  int running;

  if (h->torn_down)
    return;
  curl_multi_socket_action (h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_info (h);
}

/* http.Client.Timeout: its messages depend on how far the exchange got. */
static void
on_deadline (uv_timer_t *t)
{
  http_probe_t *h = t->data;
  long code = 0;
  curl_off_t connected = 0;

  if (h->reported)
    return;
  curl_easy_getinfo (h->easy, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo (h->easy, CURLINFO_CONNECT_TIME_T, &connected);
  if (code > 0)
    {
      /* ReadAtMost failed: the Go prober returns (Failure, "", err). */
      report (h, KD_OUTCOME_FAILURE, true,
              "context deadline exceeded (Client.Timeout or context cancellation while reading "
              "body)");
      return;
    }
  cleanup_free char *q = kd_fe_quote (h->url);
  cleanup_free char *msg = NULL;
  if (connected == 0)
    {
      cleanup_free char *addr = dial_addr (h->url);
      msg = xasprintf ("Get %s: dial tcp %s: i/o timeout (Client.Timeout exceeded while awaiting "
                       "headers)",
                       q, addr);
    }
  else
    msg = xasprintf (
        "Get %s: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", q);
  report (h, KD_OUTCOME_FAILURE, false, msg);
}

static void
http_cancel (kd_attempt_t *base)
{
  http_probe_t *h = (http_probe_t *) base;
  h->reported = true;
  teardown (h);
}

static bool
has_header (const kd_http_req_t *req, const char *name)
{
  for (size_t i = 0; i < req->n_headers; i++)
    if (strcasecmp (req->headers[i].name, name) == 0)
      return true;
  return false;
}

kd_attempt_t *
kd_http_start (uv_loop_t *loop, const kd_http_req_t *req, uint64_t timeout_ms, kd_attempt_cb cb,
               void *data)
{
  static bool curl_ready;
  http_probe_t *h = xcalloc (1, sizeof (*h));

  if (!curl_ready)
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      curl_ready = true;
    }
  h->base.cancel = http_cancel;
  h->loop = loop;
  h->cb = cb;
  h->data = data;
  h->any_status = req->any_status;
  h->url = xstrdup (req->url);
  h->first_host = url_part (req->url, CURLUPART_HOST);
  h->host_header = req->host_header ? xstrdup (req->host_header) : NULL;
  h->user_agent = xstrdup (req->user_agent ? req->user_agent : KD_PROBE_USER_AGENT);
  kd_buf_puts (&h->body, "");
  h->body.len = 0;

  /* Header lines: the user's (Host apart), then the defaults. */
  h->header_lines = xcalloc (req->n_headers + 3, sizeof (char *));
  for (size_t i = 0; i < req->n_headers; i++)
    {
      const kd_http_header_t *hd = &req->headers[i];
      if (strcasecmp (hd->name, "Host") == 0)
        continue;
      if (hd->value[0] == '\0')
        /* "Accept:" removes curl's header; "Name;" sends an empty one. */
        h->header_lines[h->n_header_lines++] = strcasecmp (hd->name, "Accept") == 0
                                                   ? xasprintf ("%s:", hd->name)
                                                   : xasprintf ("%s;", hd->name);
      else
        h->header_lines[h->n_header_lines++] = xasprintf ("%s: %s", hd->name, hd->value);
    }
  if (!has_header (req, "User-Agent"))
    h->header_lines[h->n_header_lines++] = xasprintf ("User-Agent: %s", h->user_agent);
  if (!has_header (req, "Accept"))
    h->header_lines[h->n_header_lines++] = xstrdup ("Accept: */*");

  uv_timer_init (loop, &h->curl_timer);
  uv_timer_init (loop, &h->deadline);
  h->curl_timer.data = h->deadline.data = h;
  h->pending = 2;

  h->multi = curl_multi_init ();
  curl_multi_setopt (h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt (h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt (h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
  curl_multi_setopt (h->multi, CURLMOPT_TIMERDATA, h);

  h->easy = curl_easy_init ();
  curl_easy_setopt (h->easy, CURLOPT_URL, h->url);
  curl_easy_setopt (h->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (h->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h->easy, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt (h->easy, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt (h->easy, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt (h->easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt (h->easy, CURLOPT_ERRORBUFFER, h->errbuf);
  curl_easy_setopt (h->easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (h->easy, CURLOPT_WRITEDATA, h);
  /* Go's transport asks for gzip and decodes it when nobody else asked. */
  if (!has_header (req, "Accept-Encoding"))
    curl_easy_setopt (h->easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  build_headers (h, true);

  if (timeout_ms)
    uv_timer_start (&h->deadline, on_deadline, timeout_ms, 0);
  /* Adding the handle asks for a 0 ms timer: the transfer starts from the
     loop, never inside this call. */
  curl_multi_add_handle (h->multi, h->easy);
  return &h->base;
}
