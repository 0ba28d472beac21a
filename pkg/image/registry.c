/* Registry pulls (the OCI distribution API over libcurl), blocking, for
 * libuv's pool.
 *
 * Order of a pull, and why:
 *  1. Endpoints: the mirrors configured for the reference's domain, then the
 *     registry itself. Plain HTTP only for insecure registries (which are
 *     tried with HTTPS first, without verification, as docker does) and for
 *     mirrors whose URL says http://.
 *  2. `GET /v2/`; a 401 challenge is answered (auth.c) before anything else.
 *  3. The manifest (or index, resolved to linux/<arch>) is fetched into
 *     memory (4 MiB at most) and verified against the pinned digest or
 *     Docker-Content-Digest.
 *  4. Layers, then the config, are streamed into the store's blob writer;
 *     each is hashed on the way and committed only when its size and digest
 *     match the descriptor.
 *  5. The manifest (and index) are stored last: until then nothing refers
 *     to the blobs stored before, so a failure leaves no half image.
 */
#include <inttypes.h>
#include <pthread.h>

#include "registry-internal.h"
#include "store-internal.h"

#define MANIFEST_MAX   (4 * 1024 * 1024)
#define ERROR_BODY_MAX (64 * 1024)

#define MT_OCI_INDEX      "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST   "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST    "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_SCHEMA2 "application/vnd.docker.distribution.manifest.v2+json"

static const char manifest_accept[]
    = MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_SCHEMA2;

static const char *const config_types[] = {
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
};

static bool
in_list (const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (kd_str_eq (s, list[i]))
      return true;
  return false;
}

/* ---- one pull ---------------------------------------------------------------- */

typedef struct
{
  const kd_image_store_t *store;
  const kd_image_ref_t *ref;
  char *ref_string;
  const char *arch;
  const char *variant; /* normalized ("v8" for arm64, "v7" for arm) or NULL */
  kd_pull_progress_fn progress;
  void *progress_data;
  int64_t done;
  int64_t total;
} pull_t;

static void
report (pull_t *p)
{
  if (p->progress != NULL)
    p->progress (p->progress_data, p->done, p->total);
}

/* ---- HTTP ---------------------------------------------------------------------- */

typedef struct
{
  kd_reg_client_t *c;
  kd_reg_resp_t *resp;
  size_t max_body;
  /* Streaming a blob (only a 200 answer is streamed). */
  const char *digest;
  kd_blob_writer_t *writer;
  kd_digest_t *md;
  int64_t expect;
  int64_t received;
  bool length_checked;
  pull_t *pull;
  kd_error_t cb_err; /* why a callback stopped the transfer */
} xfer_t;

void
kd_reg_resp_free (kd_reg_resp_t *r)
{
  free (r->www_authenticate);
  free (r->content_digest);
  free (r->content_type);
  kd_buf_free (&r->body);
  memset (r, 0, sizeof (*r));
}

static size_t
on_header (char *p, size_t size, size_t n, void *userdata)
{
  xfer_t *x = userdata;
  size_t len = size * n, nlen;
  const char *v, *end = p + len;
  char **slot = NULL;

  /* A new status line (after a redirect or a 100): forget the headers of
     the previous answer. */
  if (len >= 5 && memcmp (p, "HTTP/", 5) == 0)
    {
      free (steal_pointer (&x->resp->www_authenticate));
      free (steal_pointer (&x->resp->content_digest));
      free (steal_pointer (&x->resp->content_type));
      return len;
    }
  v = memchr (p, ':', len);
  if (v == NULL)
    return len;
  nlen = (size_t) (v - p);
  if (nlen == 16 && strncasecmp (p, "WWW-Authenticate", nlen) == 0)
    slot = &x->resp->www_authenticate;
  else if (nlen == 21 && strncasecmp (p, "Docker-Content-Digest", nlen) == 0)
    slot = &x->resp->content_digest;
  else if (nlen == 12 && strncasecmp (p, "Content-Type", nlen) == 0)
    slot = &x->resp->content_type;
  if (slot == NULL || *slot != NULL)
    return len;
  for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
    ;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (slot == &x->resp->content_type)
    {
      const char *semi = memchr (v, ';', (size_t) (end - v));
      if (semi != NULL)
        end = semi;
      while (end > v && end[-1] == ' ')
        end--;
    }
  *slot = xstrndup (v, (size_t) (end - v));
  return len;
}

static size_t
stop_transfer (xfer_t *x, int ret)
{
  (void) ret; /* the message is in x->cb_err */
  return 0;   /* fewer bytes than given: curl aborts with CURLE_WRITE_ERROR */
}

static size_t
on_body (char *p, size_t size, size_t n, void *userdata)
{
  xfer_t *x = userdata;
  size_t len = size * n;
  long code = 0;

  curl_easy_getinfo (x->c->curl, CURLINFO_RESPONSE_CODE, &code);
  if (x->writer == NULL || code != 200)
    {
      kd_buf_t *b = &x->resp->body;
      if (code != 200)
        {
          /* An error answer: its first bytes are enough for the message. */
          if (b->len < ERROR_BODY_MAX)
            kd_buf_append (b, p, len < ERROR_BODY_MAX - b->len ? len : ERROR_BODY_MAX - b->len);
          return len;
        }
      if (b->len + len > x->max_body)
        return stop_transfer (
            x, kd_make_error (&x->cb_err, 0, "answer larger than %zu bytes", x->max_body));
      kd_buf_append (b, p, len);
      return len;
    }

  /* A blob: its length must be the descriptor's, before and while it comes. */
  if (!x->length_checked)
    {
      curl_off_t cl = -1;
      x->length_checked = true;
      if (curl_easy_getinfo (x->c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK
          && cl >= 0 && cl != x->expect)
        return stop_transfer (x, kd_make_error (&x->cb_err, 0,
                                                "Content-Length %" PRId64
                                                " does not match the descriptor's size %" PRId64,
                                                (int64_t) cl, x->expect));
    }
  if (x->received + (int64_t) len > x->expect)
    return stop_transfer (
        x,
        kd_make_error (&x->cb_err, 0, "more data than the descriptor's size %" PRId64, x->expect));
  kd_digest_update (x->md, p, len);
  if (kd_blob_writer_write (x->writer, p, len, &x->cb_err) < 0)
    return stop_transfer (x, -1);
  x->received += (int64_t) len;
  x->pull->done += (int64_t) len;
  report (x->pull);
  return len;
}

/* curl's words for a failed transfer; a refused or unreachable connection
   reads like Go's net errors, which is what docker users know. */
static int
transport_error (kd_reg_client_t *c, const char *url, CURLcode rc, const char *errbuf,
                 kd_error_t *err)
{
  long oserr = 0;

  if (rc == CURLE_COULDNT_CONNECT
      && curl_easy_getinfo (c->curl, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr != 0)
    {
      CURLU *u = curl_url ();
      char *host = NULL, *port = NULL;
      cleanup_free char *why = xstrdup (strerror ((int) oserr));
      int ret;

      why[0] = (char) (why[0] >= 'A' && why[0] <= 'Z' ? why[0] + 'a' - 'A' : why[0]);
      if (curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK)
        {
          curl_url_get (u, CURLUPART_HOST, &host, 0);
          curl_url_get (u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        }
      ret = kd_make_error (err, 0, "get \"%s\": dial %s:%s: %s", url, host ? host : "?",
                           port ? port : "?", why);
      curl_free (host);
      curl_free (port);
      curl_url_cleanup (u);
      return ret;
    }
  return kd_make_error (err, 0, "get \"%s\": %s", url,
                        *errbuf != '\0' ? errbuf : curl_easy_strerror (rc));
}

static int
perform (kd_reg_client_t *c, const char *url, const char *accept, const char *authorization,
         xfer_t *x, kd_error_t *err)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers = NULL;
  long timeout = c->opts->timeout_s > 0 ? c->opts->timeout_s : 30;
  CURL *h = c->curl;
  CURLcode rc;

  /* reset keeps the connection cache: one TCP/TLS connection per pull. */
  curl_easy_reset (h);
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https");
  /* Registries redirect blobs to storage; curl drops our Authorization
     header when a redirect leaves the host. */
  curl_easy_setopt (h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, timeout);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "kubeletd/" KD_VERSION);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, x);
  if (accept != NULL)
    {
      cleanup_free char *line = xasprintf ("Accept: %s", accept);
      headers = curl_slist_append (headers, line);
    }
  if (authorization != NULL)
    {
      cleanup_free char *line = xasprintf ("Authorization: %s", authorization);
      headers = curl_slist_append (headers, line);
    }
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, headers);

  rc = curl_easy_perform (h);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (h, CURLOPT_ERRORBUFFER, NULL);
  curl_slist_free_all (headers);
  if (x->cb_err != NULL)
    {
      if (err != NULL && *err == NULL)
        *err = steal_pointer (&x->cb_err);
      else
        kd_error_release (&x->cb_err);
      return -1;
    }
  if (rc != CURLE_OK)
    return transport_error (c, url, rc, errbuf, err);
  curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &x->resp->status);
  return 0;
}

int
kd_reg_get (kd_reg_client_t *c, const char *url, const char *accept, const char *authorization,
            size_t max_body, kd_reg_resp_t *resp, kd_error_t *err)
{
  xfer_t x = { .c = c, .resp = resp, .max_body = max_body };

  memset (resp, 0, sizeof (*resp));
  if (perform (c, url, accept, authorization, &x, err) < 0)
    {
      kd_reg_resp_free (resp);
      return -1;
    }
  return 0;
}

/* {"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]} ->
   "manifest unknown: manifest unknown", as docker's errcode prints it. */
char *
kd_reg_error_text (const kd_reg_resp_t *resp, const char *fallback)
{
  json_t *root = NULL, *e;
  const char *code, *msg, *details;
  char *ret = NULL;

  if (resp->body.len > 0)
    root = json_loadb (resp->body.s, resp->body.len, 0, NULL);
  e = json_array_get (json_object_get (root, "errors"), 0);
  code = json_string_value (json_object_get (e, "code"));
  msg = json_string_value (json_object_get (e, "message"));
  details = json_string_value (json_object_get (root, "details"));
  if (code != NULL)
    {
      cleanup_free char *c = xstrdup (code);
      for (char *q = c; *q; q++)
        *q = *q == '_' ? ' ' : (char) (*q >= 'A' && *q <= 'Z' ? *q + 'a' - 'A' : *q);
      ret = msg != NULL && *msg ? xasprintf ("%s: %s", c, msg) : xstrdup (c);
    }
  else if (details != NULL)
    ret = xasprintf ("%s: %s", fallback, details);
  else
    ret = xstrdup (fallback);
  json_decref (root);
  return ret;
}

static int
status_error (const kd_reg_resp_t *r, const char *not_found, kd_error_t *err)
{
  cleanup_free char *other = xasprintf ("unexpected status %ld", r->status);
  cleanup_free char *msg = NULL;
  const char *fallback = r->status == 401   ? "unauthorized: authentication required"
                         : r->status == 403 ? "denied: requested access to the resource is denied"
                         : r->status == 404 ? not_found
                         : r->status == 429 ? "toomanyrequests: too many requests"
                                            : other;
  msg = kd_reg_error_text (r, fallback);
  return kd_make_error (err, 0, "%s", msg);
}

/* ---- digests ------------------------------------------------------------------- */

/* Only sha256, always 64 lower-case hex digits: a digest becomes a path in
   the store, so nothing else may pass. */
static bool
valid_digest (const char *d)
{
  if (d == NULL || !kd_str_has_prefix (d, "sha256:") || strlen (d) != 71)
    return false;
  for (const char *p = d + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

static char *
digest_string (const unsigned char *md, unsigned len)
{
  char *s = xmalloc (7 + 2 * len + 1);
  memcpy (s, "sha256:", 7);
  for (unsigned i = 0; i < len; i++)
    sprintf (s + 7 + 2 * i, "%02x", md[i]);
  return s;
}

static char *
sha256_of (const void *data, size_t len)
{
  unsigned char md[KD_DIGEST_MAX];
  size_t n = 0;
  n = kd_digest (KD_SHA256, data, len, md);
  return digest_string (md, n);
}

static const char *
platform_string (const pull_t *p, char *buf, size_t size)
{
  if (p->variant != NULL && strcmp (p->arch, "arm") == 0)
    snprintf (buf, size, "linux/%s/%s", p->arch, p->variant);
  else
    snprintf (buf, size, "linux/%s", p->arch);
  return buf;
}

static json_t *
select_platform (json_t *index, const pull_t *p)
{
  size_t i;
  json_t *m;

  json_array_foreach (json_object_get (index, "manifests"), i, m)
  {
    json_t *pl = json_object_get (m, "platform");
    const char *os = json_string_value (json_object_get (pl, "os"));
    const char *arch = json_string_value (json_object_get (pl, "architecture"));
    const char *variant = json_string_value (json_object_get (pl, "variant"));

    if (!kd_str_eq (os, "linux") || !kd_str_eq (arch, p->arch))
      continue;
    if (p->variant != NULL && !kd_str_eq (kd_reg_norm_variant (arch, variant), p->variant))
      continue;
    return m;
  }
  return NULL;
}

/* ---- manifests ------------------------------------------------------------------ */

typedef struct
{
  char *body;
  size_t len;
  char *digest;
  char *media_type;
  json_t *json;
} manifest_t;

static void
manifest_free (manifest_t *m)
{
  free (m->body);
  free (m->digest);
  free (m->media_type);
  json_decref (m->json);
  memset (m, 0, sizeof (*m));
}

static bool
is_index_type (const char *mt)
{
  return kd_str_eq (mt, MT_OCI_INDEX) || kd_str_eq (mt, MT_DOCKER_LIST);
}

static bool
is_manifest_type (const char *mt)
{
  return kd_str_eq (mt, MT_OCI_MANIFEST) || kd_str_eq (mt, MT_DOCKER_SCHEMA2);
}

/* reference is a tag or a digest; expect_digest (pinned) and expect_size
   (from a descriptor, -1 if none) must match what arrives. */
static int
fetch_manifest (kd_reg_client_t *c, const char *reference, const char *expect_digest,
                int64_t expect_size, manifest_t *m, kd_error_t *err)
{
  cleanup_free char *url = xasprintf ("%s/v2/%s/manifests/%s", c->base, c->repo_path, reference);
  kd_reg_resp_t resp;
  const char *mt;
  json_error_t jerr;

  memset (m, 0, sizeof (*m));
  if (kd_reg_get (c, url, manifest_accept, c->authorization, MANIFEST_MAX, &resp, err) < 0)
    return kd_error_wrap (err, "manifest");
  if (resp.status != 200)
    {
      status_error (&resp, "manifest unknown: manifest unknown", err);
      kd_reg_resp_free (&resp);
      return -1;
    }
  m->len = resp.body.len;
  m->body = m->len > 0 ? kd_buf_steal (&resp.body) : xstrdup ("");
  m->digest = sha256_of (m->body, m->len);
  if (expect_digest != NULL && strcmp (expect_digest, m->digest) != 0)
    {
      kd_make_error (err, 0, "manifest %s: digest mismatch: got %s", expect_digest, m->digest);
      goto fail;
    }
  if (expect_digest == NULL && resp.content_digest != NULL
      && kd_str_has_prefix (resp.content_digest, "sha256:")
      && strcmp (resp.content_digest, m->digest) != 0)
    {
      kd_make_error (err, 0, "manifest %s: digest mismatch: got %s", resp.content_digest,
                     m->digest);
      goto fail;
    }
  if (expect_size >= 0 && (int64_t) m->len != expect_size)
    {
      kd_make_error (err, 0, "manifest %s: size %zu does not match the descriptor's %" PRId64,
                     m->digest, m->len, expect_size);
      goto fail;
    }
  m->json = json_loadb (m->body, m->len, 0, &jerr);
  if (!json_is_object (m->json))
    {
      kd_make_error (err, 0, "manifest %s: invalid JSON: %s", m->digest, jerr.text);
      goto fail;
    }
  /* OCI lets mediaType be left out of the body; then the Content-Type
     says it, and failing both the shape does. */
  mt = json_string_value (json_object_get (m->json, "mediaType"));
  if (mt == NULL)
    mt = resp.content_type;
  if (mt == NULL || strcmp (mt, "application/json") == 0)
    mt = json_object_get (m->json, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
  m->media_type = xstrdup (mt);
  kd_reg_resp_free (&resp);
  return 0;

fail:
  kd_reg_resp_free (&resp);
  manifest_free (m);
  return -1;
}

/* A descriptor's digest and size, checked before either is used. */
static int
descriptor (json_t *d, const char *what, const char *const *types, size_t n_types,
            const char **digest, int64_t *size, kd_error_t *err)
{
  const char *mt = json_string_value (json_object_get (d, "mediaType"));
  json_t *sz = json_object_get (d, "size");

  if (!json_is_object (d))
    return kd_make_error (err, 0, "manifest has no %s", what);
  if (types != NULL && !in_list (mt, types, n_types))
    return kd_make_error (err, 0, "unsupported media type `%s` for %s", mt ? mt : "", what);
  *digest = json_string_value (json_object_get (d, "digest"));
  if (!valid_digest (*digest))
    return kd_make_error (err, 0, "unsupported digest `%s` for %s", *digest ? *digest : "", what);
  if (!json_is_integer (sz) || json_integer_value (sz) < 0)
    return kd_make_error (err, 0, "invalid size for %s %s", what, *digest);
  *size = json_integer_value (sz);
  return 0;
}

/* ---- blobs -------------------------------------------------------------------------- */

static int
fetch_blob (kd_reg_client_t *c, pull_t *p, const char *digest, int64_t size, kd_error_t *err)
{
  cleanup_free char *url = NULL;
  cleanup_free char *got = NULL;
  kd_reg_resp_t resp = { 0 };
  xfer_t x = { .c = c, .resp = &resp, .digest = digest, .expect = size, .pull = p };
  unsigned char md[KD_DIGEST_MAX];
  size_t md_len = 0;
  int64_t done_before = p->done;
  int ret;

  if (kd_image_store_has_blob (p->store, digest))
    {
      p->done += size;
      report (p);
      return 0;
    }
  if (kd_blob_writer_new (p->store, &x.writer, err) < 0)
    return -1;
  x.md = kd_digest_new (KD_SHA256);
  url = xasprintf ("%s/v2/%s/blobs/%s", c->base, c->repo_path, digest);
  ret = perform (c, url, NULL, c->authorization, &x, err);
  if (ret == 0 && resp.status != 200)
    ret = status_error (&resp, "blob unknown: blob unknown to registry", err);
  else if (ret == 0 && x.received != size)
    ret = kd_make_error (err, 0, "got %" PRId64 " bytes, the descriptor says %" PRId64, x.received,
                         size);
  if (ret == 0)
    {
      md_len = kd_digest_final (x.md, md);
      got = digest_string (md, md_len);
      if (strcmp (got, digest) != 0)
        ret = kd_make_error (err, 0, "digest mismatch: got %s", got);
    }
  kd_digest_free (x.md);
  kd_reg_resp_free (&resp);
  if (ret < 0)
    {
      kd_blob_writer_abort (x.writer); /* removes the partial temp file */
      p->done = done_before;
      return kd_error_wrap (err, "blob %s", digest);
    }
  if (kd_blob_writer_commit (x.writer, digest, size, err) < 0)
    return kd_error_wrap (err, "blob %s", digest);
  return 0;
}

/* ---- the pull ----------------------------------------------------------------------- */

static int
ping (kd_reg_client_t *c, bool *reached, kd_error_t *err)
{
  cleanup_free char *url = xasprintf ("%s/v2/", c->base);
  kd_reg_resp_t resp;
  int ret = 0;

  if (kd_reg_get (c, url, NULL, NULL, ERROR_BODY_MAX, &resp, err) < 0)
    return -1;
  *reached = true;
  if (resp.status == 401 && resp.www_authenticate != NULL)
    ret = kd_reg_authorize (c, resp.www_authenticate, err);
  else if (resp.status != 200)
    ret = status_error (&resp, "not found: no registry API at /v2/", err);
  kd_reg_resp_free (&resp);
  return ret;
}

static int
pull_manifests (kd_reg_client_t *c, pull_t *p, manifest_t *index, manifest_t *image,
                kd_error_t *err)
{
  const kd_image_ref_t *ref = p->ref;
  manifest_t top;

  if (fetch_manifest (c, ref->digest ? ref->digest : ref->tag, ref->digest, -1, &top, err) < 0)
    return -1;
  if (is_index_type (top.media_type))
    {
      char plat[64];
      const char *digest;
      int64_t size;
      json_t *d = select_platform (top.json, p);

      *index = top;
      if (d == NULL)
        return kd_make_error (err, 0, "no image for %s in %s",
                              platform_string (p, plat, sizeof (plat)), p->ref_string);
      if (descriptor (d, "platform manifest", NULL, 0, &digest, &size, err) < 0)
        return -1;
      if (size > MANIFEST_MAX)
        return kd_make_error (err, 0, "manifest %s: larger than %d bytes", digest, MANIFEST_MAX);
      if (fetch_manifest (c, digest, digest, size, image, err) < 0)
        return -1;
    }
  else
    *image = top;
  if (!is_manifest_type (image->media_type))
    return kd_make_error (err, 0, "unsupported media type `%s`", image->media_type);
  if (json_integer_value (json_object_get (image->json, "schemaVersion")) != 2)
    return kd_make_error (err, 0, "unsupported manifest schema version");
  return 0;
}

static int
pull_endpoint (kd_reg_client_t *c, pull_t *p, bool *reached, char **manifest_digest,
               kd_error_t *err)
{
  manifest_t index = { 0 }, image = { 0 };
  json_t *layers, *l;
  const char *cfg_digest;
  int64_t cfg_size;
  size_t i;
  int ret = -1;

  if (ping (c, reached, err) < 0)
    return -1;
  if (pull_manifests (c, p, &index, &image, err) < 0)
    goto out;
  if (descriptor (json_object_get (image.json, "config"), "config", config_types,
                  KD_ARRAY_SIZE (config_types), &cfg_digest, &cfg_size, err)
      < 0)
    goto out;
  layers = json_object_get (image.json, "layers");
  if (!json_is_array (layers))
    {
      kd_make_error (err, 0, "manifest %s has no layers", image.digest);
      goto out;
    }
  p->done = 0;
  p->total = cfg_size;
  json_array_foreach (layers, i, l)
  {
    const char *d;
    int64_t sz;
    if (descriptor (l, "layer", kd_store_layer_types, kd_store_n_layer_types, &d, &sz, err) < 0)
      goto out;
    p->total += sz;
  }
  report (p);
  json_array_foreach (layers, i, l)
  {
    const char *d = json_string_value (json_object_get (l, "digest"));
    if (fetch_blob (c, p, d, json_integer_value (json_object_get (l, "size")), err) < 0)
      goto out;
  }
  if (fetch_blob (c, p, cfg_digest, cfg_size, err) < 0)
    goto out;
  /* Last, so that a stored manifest always has its blobs. */
  if (kd_image_store_put_blob (p->store, image.body, image.len, image.digest, err) < 0)
    goto out;
  if (index.body != NULL && !kd_image_store_has_blob (p->store, index.digest)
      && kd_image_store_put_blob (p->store, index.body, index.len, index.digest, err) < 0)
    goto out;
  *manifest_digest = steal_pointer (&image.digest);
  ret = 0;
out:
  if (index.body != image.body)
    manifest_free (&index);
  manifest_free (&image);
  return ret;
}

static char *
ref_string (const kd_image_ref_t *r)
{
  return xasprintf ("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "", r->tag ? r->tag : "",
                    r->digest ? "@" : "", r->digest ? r->digest : "");
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

int
kd_registry_pull (const kd_registry_opts_t *opts, const kd_image_store_t *s,
                  const kd_image_ref_t *ref, kd_pull_progress_fn progress, void *data,
                  char **manifest_digest, kd_error_t *err)
{
  kd_registry_opts_t defaults = { 0 };
  cleanup_free char *arch = NULL;
  kd_reg_endpoint_t *eps = NULL;
  size_t n_eps = 0;
  kd_error_t last = NULL;
  pull_t p = { .store = s, .ref = ref, .progress = progress, .progress_data = data };
  int skip_group = -1, ret = -1;
  char *slash;

  if (opts == NULL)
    opts = &defaults;
  p.ref_string = ref_string (ref);
  if (ref->digest == NULL && ref->tag == NULL)
    {
      kd_make_error (err, 0, "pull %s: no tag or digest", p.ref_string);
      free (p.ref_string);
      return -1;
    }
  if (ref->digest != NULL && !valid_digest (ref->digest))
    {
      kd_make_error (err, 0, "pull %s: unsupported digest `%s`", p.ref_string, ref->digest);
      free (p.ref_string);
      return -1;
    }
  arch = xstrdup (opts->arch ? opts->arch : kd_reg_native_arch ());
  slash = strchr (arch, '/');
  if (slash != NULL)
    *slash++ = '\0';
  p.arch = arch;
  p.variant = kd_reg_norm_variant (arch, slash);

  pthread_once (&curl_once, curl_init_once);
  kd_reg_resolve_endpoints (opts, ref, &eps, &n_eps);
  for (size_t i = 0; i < n_eps; i++)
    {
      kd_reg_client_t c = { .opts = opts,
                            .base = eps[i].base,
                            .host = eps[i].host,
                            .tls_verify = eps[i].tls_verify,
                            .repo_path = ref->path };
      kd_error_t e = NULL;
      bool reached = false;

      if (eps[i].group == skip_group)
        continue;
      c.curl = curl_easy_init ();
      if (c.curl == NULL)
        abort ();
      ret = pull_endpoint (&c, &p, &reached, manifest_digest, &e);
      curl_easy_cleanup (c.curl);
      free (c.authorization);
      kd_error_release (&last);
      if (ret == 0)
        break;
      last = e;
      if (!reached)
        continue; /* unreachable: the next way to the same registry */
      if (!eps[i].mirror)
        break;
      kd_warn ("pull %s from mirror %s: %s", p.ref_string, eps[i].base, e->msg);
      skip_group = eps[i].group;
    }
  if (ret < 0)
    {
      if (err != NULL && *err == NULL && last != NULL)
        *err = steal_pointer (&last);
      kd_error_release (&last);
      kd_error_wrap (err, "pull %s", p.ref_string);
    }
  kd_reg_endpoints_free (eps, n_eps);
  free (p.ref_string);
  return ret;
}
