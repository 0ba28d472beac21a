/* The --manifest-url source (see source.h).

   One fetch at a time: the poll timer queues a pool job that runs an easy
   libcurl transfer (blocking, but on a pool thread), and the job's
   completion on the loop parses the body and reports the set. A tick that
   comes while a fetch is in flight is skipped, so a slow server costs one
   thread, never a pile of them. An unchanged body is not parsed again (the
   kubelet compares the bytes too), so a 20 s poll of a stable manifest
   changes nothing, not even config.seen. */
#include <inttypes.h>
#include <stdatomic.h>

#include "kubeletd/lazy-curl.h"
#include "kubeletd/manifest.h"
#include "kubeletd/source.h"

#define HTTP_SOURCE_DEFAULT_PERIOD_MS  (20 * 1000)
#define HTTP_SOURCE_DEFAULT_TIMEOUT_MS (10 * 1000)

struct kd_source_http
{
  uv_loop_t *loop;
  char *url;
  char *node_name;
  uint64_t period_ms;
  uint64_t timeout_ms;
  kd_source_update_cb cb;
  void *cb_data;

  uv_timer_t timer;
  bool timer_open;
  uv_work_t work;
  bool in_flight;
  atomic_bool closing; /* read by the transfer's progress callback */

  /* the job's result (written on the pool thread, read after it) */
  kd_buf_t body;
  long status;
  char *fetch_error;

  /* the last body turned into pods, and those pods */
  char *last_body;
  size_t last_len;
  bool have_last;
  kd_pod_t **pods;
  size_t n;
};

void
kd_source_pods_free (kd_pod_t **pods, size_t n)
{
  for (size_t i = 0; i < n; i++)
    kd_pod_free (pods[i]);
  free (pods);
}

/* ---- parsing ------------------------------------------------------------ */

static void
annotate_http (kd_pod_t *pod)
{
  kd_strmap_t *m = &pod->metadata.annotations;

  /* kubetypes.HTTPSource: kd_pod_make_static stamps "file". */
  for (size_t i = 0; i < m->n; i++)
    if (kd_str_eq (m->v[i].key, "kubernetes.io/config.source"))
      {
        free (m->v[i].value);
        m->v[i].value = xstrdup ("http");
      }
}

int
kd_source_http_parse (const char *url, const char *node_name, const char *body, size_t len,
                      kd_pod_t ***pods_out, size_t *n_out, kd_error_t *err)
{
  kd_manifest_opts_t opts = { .node_name = node_name, .make_static = true };
  kd_manifest_t *m = NULL;
  kd_buf_t why = { 0 };
  kd_pod_t **pods;

  *pods_out = NULL;
  *n_out = 0;
  if (len == 0)
    {
      *pods_out = xcalloc (1, sizeof (kd_pod_t *));
      return 0;
    }
  if (kd_manifest_load_buffer (url, body, len, &opts, &m, err) < 0)
    return -1;
  if (m->error)
    {
      int r = kd_make_error (err, 0, "%s", m->error);
      kd_manifest_free (m);
      return r;
    }
  if (!kd_manifest_ok (m))
    {
      for (size_t i = 0; i < m->n_pods; i++)
        for (size_t j = 0; j < m->pods[i].errs.n; j++)
          if (m->pods[i].errs.v[j].type != KD_FE_WARNING)
            {
              cleanup_free char *msg = kd_fe_format (&m->pods[i].errs.v[j], url);
              kd_buf_printf (&why, "%s%s", why.len ? "\n" : "", msg);
            }
      kd_make_error (err, 0, "%s", why.s ? why.s : "invalid pod");
      kd_buf_free (&why);
      kd_manifest_free (m);
      return -1;
    }
  for (size_t i = 0; i < m->n_pods; i++)
    for (size_t j = 0; j < m->pods[i].errs.n; j++)
      {
        cleanup_free char *msg = kd_fe_format (&m->pods[i].errs.v[j], url);
        kd_warn ("%s", msg);
      }
  pods = xcalloc (m->n_pods + 1, sizeof (*pods));
  for (size_t i = 0; i < m->n_pods; i++)
    {
      pods[i] = kd_pod_copy (m->pods[i].pod);
      annotate_http (pods[i]);
    }
  *pods_out = pods;
  *n_out = m->n_pods;
  kd_manifest_free (m);
  return 0;
}

/* ---- the transfer, on a pool thread ------------------------------------- */

static size_t
on_body (char *ptr, size_t size, size_t nmemb, void *data)
{
  kd_source_http_t *src = data;
  size_t n = size * nmemb;

  /* Larger than any manifest the loader takes: stop here. */
  if (src->body.len + n > KD_MANIFEST_MAX_BYTES + 1)
    return 0;
  kd_buf_append (&src->body, ptr, n);
  return n;
}

static int
on_progress (void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  kd_source_http_t *src = data;
  return atomic_load (&src->closing) ? 1 : 0;
}

static void
fetch_work (uv_work_t *req)
{
  kd_source_http_t *src = req->data;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL *easy = curl_easy_init ();
  CURLcode rc;

  if (easy == NULL)
    {
      src->fetch_error = xstrdup ("curl_easy_init failed");
      return;
    }
  curl_easy_setopt (easy, CURLOPT_URL, src->url);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT_MS, (long) src->timeout_ms);
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (easy, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "kubeletd/" KD_VERSION);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, src);
  curl_easy_setopt (easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (easy, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt (easy, CURLOPT_XFERINFODATA, src);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, errbuf);
  rc = curl_easy_perform (easy);
  if (rc != CURLE_OK)
    {
      if (rc == CURLE_WRITE_ERROR && src->body.len > KD_MANIFEST_MAX_BYTES)
        src->fetch_error = xasprintf ("the body is larger than %d bytes", KD_MANIFEST_MAX_BYTES);
      else
        src->fetch_error = xstrdup (*errbuf ? errbuf : curl_easy_strerror (rc));
    }
  else
    curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &src->status);
  curl_easy_cleanup (easy);
}

/* ---- on the loop ----------------------------------------------------------- */

static void
maybe_free (kd_source_http_t *src)
{
  if (!atomic_load (&src->closing) || src->in_flight || src->timer_open)
    return;
  kd_buf_free (&src->body);
  free (src->fetch_error);
  free (src->last_body);
  kd_source_pods_free (src->pods, src->n);
  free (src->url);
  free (src->node_name);
  free (src);
}

static void
apply_body (kd_source_http_t *src)
{
  kd_error_t err = NULL;
  kd_pod_t **pods = NULL;
  size_t n = 0;
  const char *body = src->body.s ? src->body.s : "";

  if (src->have_last && src->last_len == src->body.len
      && memcmp (src->last_body ? src->last_body : "", body, src->body.len) == 0)
    return;
  if (kd_source_http_parse (src->url, src->node_name, body, src->body.len, &pods, &n, &err) < 0)
    {
      kd_warn ("manifest URL `%s`: invalid content; keeping the %zu pod(s) it defined before: %s",
               src->url, src->n, err->msg);
      kd_error_release (&err);
      return;
    }
  free (src->last_body);
  src->last_body = xmalloc (src->body.len + 1);
  memcpy (src->last_body, body, src->body.len);
  src->last_body[src->body.len] = '\0';
  src->last_len = src->body.len;
  src->have_last = true;
  if (n == 0)
    kd_warn ("manifest URL `%s`: zero-length data received; it defines no pods", src->url);
  kd_source_pods_free (src->pods, src->n);
  src->pods = pods;
  src->n = n;
  kd_vlog (2, "manifest URL `%s`: %zu pod(s)", src->url, n);
  src->cb (src->url, src->pods, src->n, src->cb_data);
}

static void
fetch_done (uv_work_t *req, int status)
{
  kd_source_http_t *src = req->data;

  src->in_flight = false;
  if (atomic_load (&src->closing) || status == UV_ECANCELED)
    goto out;
  if (src->fetch_error)
    kd_warn ("manifest URL `%s`: fetch failed; keeping the %zu pod(s) it defined before: %s",
             src->url, src->n, src->fetch_error);
  else if (src->status != 200)
    kd_warn ("manifest URL `%s`: HTTP status %ld; keeping the %zu pod(s) it defined before",
             src->url, src->status, src->n);
  else
    apply_body (src);
out:
  kd_buf_free (&src->body);
  free (src->fetch_error);
  src->fetch_error = NULL;
  src->status = 0;
  maybe_free (src);
}

void
kd_source_http_fetch (kd_source_http_t *src)
{
  int r;

  if (src->in_flight || atomic_load (&src->closing))
    return;
  memset (&src->body, 0, sizeof (src->body));
  src->work.data = src;
  r = uv_queue_work (src->loop, &src->work, fetch_work, fetch_done);
  if (r < 0)
    {
      kd_warn ("manifest URL `%s`: cannot queue the fetch: %s", src->url, uv_strerror (r));
      return;
    }
  src->in_flight = true;
}

static void
on_tick (uv_timer_t *t)
{
  kd_source_http_fetch (t->data);
}

int
kd_source_http_new (uv_loop_t *loop, const kd_source_http_opts_t *opts, kd_source_update_cb cb,
                    void *data, kd_source_http_t **out, kd_error_t *err)
{
  kd_source_http_t *src;

  if (opts->url == NULL || *opts->url == '\0')
    return kd_make_error (err, 0, "--manifest-url: empty URL");
  if (!kd_str_has_prefix (opts->url, "http://") && !kd_str_has_prefix (opts->url, "https://"))
    return kd_make_error (
        err, 0, "--manifest-url `%s`: only http:// and https:// URLs are supported", opts->url);
  /* Before any pool thread can run a transfer. */
  curl_global_init (CURL_GLOBAL_DEFAULT);
  src = xcalloc (1, sizeof (*src));
  src->loop = loop;
  src->url = xstrdup (opts->url);
  src->node_name = xstrdup (opts->node_name ? opts->node_name : "localhost");
  src->period_ms = opts->period_ms ? opts->period_ms : HTTP_SOURCE_DEFAULT_PERIOD_MS;
  src->timeout_ms = opts->timeout_ms ? opts->timeout_ms : HTTP_SOURCE_DEFAULT_TIMEOUT_MS;
  src->cb = cb;
  src->cb_data = data;
  atomic_init (&src->closing, false);
  uv_timer_init (loop, &src->timer);
  src->timer.data = src;
  src->timer_open = true;
  /* The first fetch right away, then every period. */
  uv_timer_start (&src->timer, on_tick, 0, src->period_ms);
  *out = src;
  return 0;
}

static void
on_timer_closed (uv_handle_t *h)
{
  kd_source_http_t *src = h->data;

  src->timer_open = false;
  maybe_free (src);
}

void
kd_source_http_close (kd_source_http_t *src)
{
  if (src == NULL || atomic_load (&src->closing))
    return;
  atomic_store (&src->closing, true);
  /* A job not started yet never runs; a running one is aborted by the
     progress callback (fetch_done still runs: in_flight stays set). */
  if (src->in_flight)
    uv_cancel ((uv_req_t *) &src->work);
  uv_close ((uv_handle_t *) &src->timer, on_timer_closed);
}
