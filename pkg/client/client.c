/* HTTP requests over kubeletd's Unix socket with libcurl: see include/kubeletd/client.h. */
#include <pthread.h>

#include "kubeletd/client.h"
#include "kubeletd/lazy-curl.h"

/* A broken or hostile server must not make the client eat all memory. */
#define KD_CLIENT_MAX_BODY (256 * 1024 * 1024)

static kd_client_opts_t client_opts = { 5000, 30000 };

const char *
kd_client_socket_path (const char *flag_value)
{
  const char *env;

  if (flag_value != NULL)
    return flag_value;
  env = getenv ("KUBELETD_SOCKET");
  if (env != NULL && *env != '\0')
    return env;
  return KD_CLIENT_DEFAULT_SOCKET;
}

void
kd_client_set_opts (const kd_client_opts_t *opts)
{
  client_opts.connect_timeout_ms
      = opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000;
  client_opts.timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 30000;
}

static void
curl_global_setup (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
curl_init_once (void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;

  /* `kubeletctl pull` polls the progress while another thread waits for
     the answer: the global setup must happen once across threads. */
  pthread_once (&once, curl_global_setup);
}

static size_t
write_cb (char *data, size_t size, size_t nmemb, void *user)
{
  kd_buf_t *b = user;
  size_t n = size * nmemb;

  if (b->len + n > KD_CLIENT_MAX_BODY)
    return 0; /* makes curl fail with CURLE_WRITE_ERROR */
  kd_buf_append (b, data, n);
  return n;
}

static void
cleanup_curl (CURL **h)
{
  if (*h != NULL)
    curl_easy_cleanup (*h);
}

int
kd_client_get (const char *socket_path, const char *path, kd_client_response_t *resp,
               kd_error_t *err)
{
  return kd_client_request (socket_path, "GET", path, 0, resp, err);
}

int
kd_client_request (const char *socket_path, const char *method, const char *path, long timeout_ms,
                   kd_client_response_t *resp, kd_error_t *err)
{
  __attribute__ ((cleanup (cleanup_curl))) CURL *h = NULL;
  cleanup_free char *url = NULL;
  char curl_err[CURL_ERROR_SIZE] = "";
  kd_buf_t body = { 0 };
  CURLcode rc;
  long os_errno = 0;

  memset (resp, 0, sizeof (*resp));
  curl_init_once ();
  h = curl_easy_init ();
  if (h == NULL)
    return kd_make_error (err, ENOMEM, "curl_easy_init");

  /* The host is ignored on a Unix socket; the daemon routes on the path only. */
  url = xasprintf ("http://localhost%s", path);
  curl_easy_setopt (h, CURLOPT_UNIX_SOCKET_PATH, socket_path);
  curl_easy_setopt (h, CURLOPT_URL, url);
  if (strcmp (method, "GET") == 0)
    curl_easy_setopt (h, CURLOPT_HTTPGET, 1L);
  else if (strcmp (method, "POST") == 0)
    {
      /* No body: every parameter is in the query. */
      curl_easy_setopt (h, CURLOPT_POST, 1L);
      curl_easy_setopt (h, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt (h, CURLOPT_POSTFIELDSIZE, 0L);
    }
  else
    curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT_MS, client_opts.connect_timeout_ms);
  curl_easy_setopt (h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : client_opts.timeout_ms);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "kubeletctl/" KD_VERSION);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, curl_err);

  rc = curl_easy_perform (h);
  if (rc != CURLE_OK)
    {
      kd_buf_free (&body);
      curl_easy_getinfo (h, CURLINFO_OS_ERRNO, &os_errno);
      if (rc == CURLE_COULDNT_CONNECT || (rc == CURLE_OPERATION_TIMEDOUT && os_errno != 0))
        {
          if (os_errno != 0)
            return kd_make_error (err, (int) os_errno, "cannot connect to kubeletd at %s",
                                  socket_path);
          return kd_make_error (err, 0, "cannot connect to kubeletd at %s: %s", socket_path,
                                curl_err[0] ? curl_err : curl_easy_strerror (rc));
        }
      return kd_make_error (err, 0, "%s %s from kubeletd at %s: %s", method, path, socket_path,
                            curl_err[0] ? curl_err : curl_easy_strerror (rc));
    }

  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &resp->code);
  resp->len = body.len;
  resp->body = kd_buf_steal (&body);
  return 0;
}

void
kd_client_response_free (kd_client_response_t *resp)
{
  free (resp->body);
  memset (resp, 0, sizeof (*resp));
}

char *
kd_client_status_message (long code, const char *body, size_t len)
{
  json_t *j;
  const char *msg;
  char *ret = NULL;
  size_t n;

  j = body ? json_loadb (body, len, 0, NULL) : NULL;
  if (j != NULL)
    {
      msg = json_string_value (json_object_get (j, "message"));
      if (msg != NULL && *msg != '\0')
        ret = xstrdup (msg);
      json_decref (j);
      if (ret != NULL)
        return ret;
    }
  if (body == NULL || len == 0)
    return xasprintf ("the server returned HTTP %ld", code);
  /* A plain-text error: its first line is the message. */
  for (n = 0; n < len && body[n] != '\n' && body[n] != '\0'; n++)
    ;
  return xasprintf ("the server returned HTTP %ld: %.*s", code, (int) n, body);
}

int
kd_client_get_json (const char *socket_path, const char *path, json_t **out, long *code,
                    kd_error_t *err)
{
  return kd_client_request_json (socket_path, "GET", path, 0, out, code, err);
}

int
kd_client_request_json (const char *socket_path, const char *method, const char *path,
                        long timeout_ms, json_t **out, long *code, kd_error_t *err)
{
  kd_client_response_t resp;
  json_error_t jerr;
  json_t *j;

  *out = NULL;
  if (code)
    *code = 0;
  if (kd_client_request (socket_path, method, path, timeout_ms, &resp, err) < 0)
    return -1;
  if (code)
    *code = resp.code;
  if (resp.code < 200 || resp.code > 299)
    {
      cleanup_free char *msg = kd_client_status_message (resp.code, resp.body, resp.len);
      kd_client_response_free (&resp);
      return kd_make_error (err, 0, "%s", msg);
    }
  j = json_loadb (resp.body, resp.len, 0, &jerr);
  kd_client_response_free (&resp);
  if (j == NULL)
    return kd_make_error (err, 0, "%s %s: invalid JSON from kubeletd: %s (line %d)", method, path,
                          jerr.text, jerr.line);
  *out = j;
  return 0;
}

char *
kd_client_escape (const char *segment)
{
  kd_buf_t b = { 0 };
  const unsigned char *p;
  /* "." and ".." would be squashed as dot-segments: escape their dots. */
  bool dots_only = strspn (segment, ".") == strlen (segment);

  /* RFC 3986 unreserved characters stay; everything else is %XX, so a name
     can never add a path segment ("a/b") or a query. */
  for (p = (const unsigned char *) segment; *p; p++)
    {
      if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
          || *p == '-' || *p == '_' || *p == '~' || (*p == '.' && !dots_only))
        kd_buf_putc (&b, (char) *p);
      else
        kd_buf_printf (&b, "%%%02X", *p);
    }
  return kd_buf_steal (&b);
}

/* ---- streaming GET (logs -f) ------------------------------------------ */

typedef struct
{
  CURL *h;
  kd_client_stream_fn fn;
  void *user;
  kd_buf_t error_body; /* a non-2xx answer, collected */
  bool stopped;        /* fn asked to stop */
} stream_ctx_t;

static size_t
stream_write_cb (char *data, size_t size, size_t nmemb, void *user)
{
  stream_ctx_t *c = user;
  size_t n = size * nmemb;
  long code = 0;

  /* The headers are in when the first byte of the body arrives. */
  curl_easy_getinfo (c->h, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code > 299)
    return write_cb (data, size, nmemb, &c->error_body);
  if (!c->fn (data, n, c->user))
    {
      c->stopped = true;
      return 0;
    }
  return n;
}

int
kd_client_get_stream (const char *socket_path, const char *path, kd_client_stream_fn fn, void *user,
                      kd_client_response_t *resp, kd_error_t *err)
{
  __attribute__ ((cleanup (cleanup_curl))) CURL *h = NULL;
  cleanup_free char *url = NULL;
  char curl_err[CURL_ERROR_SIZE] = "";
  stream_ctx_t c = { .fn = fn, .user = user };
  CURLcode rc;
  long os_errno = 0;

  memset (resp, 0, sizeof (*resp));
  curl_init_once ();
  h = curl_easy_init ();
  if (h == NULL)
    return kd_make_error (err, ENOMEM, "curl_easy_init");
  c.h = h;
  url = xasprintf ("http://localhost%s", path);
  curl_easy_setopt (h, CURLOPT_UNIX_SOCKET_PATH, socket_path);
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT_MS, client_opts.connect_timeout_ms);
  /* A follow lasts as long as the container writes: no total timeout. */
  curl_easy_setopt (h, CURLOPT_TIMEOUT_MS, 0L);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "kubeletctl/" KD_VERSION);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, stream_write_cb);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, curl_err);
  /* Each chunk is handed over as it arrives, not when a buffer fills. */
  curl_easy_setopt (h, CURLOPT_BUFFERSIZE, 16384L);

  rc = curl_easy_perform (h);
  if (rc != CURLE_OK)
    {
      kd_buf_free (&c.error_body);
      if (c.stopped)
        return kd_make_error (err, 0, "GET %s: stopped by the reader", path);
      curl_easy_getinfo (h, CURLINFO_OS_ERRNO, &os_errno);
      if (rc == CURLE_COULDNT_CONNECT || (rc == CURLE_OPERATION_TIMEDOUT && os_errno != 0))
        {
          if (os_errno != 0)
            return kd_make_error (err, (int) os_errno, "cannot connect to kubeletd at %s",
                                  socket_path);
          return kd_make_error (err, 0, "cannot connect to kubeletd at %s: %s", socket_path,
                                curl_err[0] ? curl_err : curl_easy_strerror (rc));
        }
      return kd_make_error (err, 0, "GET %s from kubeletd at %s: %s", path, socket_path,
                            curl_err[0] ? curl_err : curl_easy_strerror (rc));
    }
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &resp->code);
  resp->len = c.error_body.len;
  resp->body = kd_buf_steal (&c.error_body);
  return 0;
}
