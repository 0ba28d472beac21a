/* registry-internal: what registry.c (endpoints, manifests, blobs) and
 * auth.c (challenges, credentials, tokens) share.
 *
 * How to use:
 *  1. registry.c makes a kd_reg_client_t per endpoint and pings `/v2/`.
 *  2. On a 401 it hands the WWW-Authenticate header to kd_reg_authorize (),
 *     which sets client->authorization ("Bearer ..." or "Basic ...").
 *  3. Every later request sends that header.
 */
#ifndef KUBELETD_IMAGE_REGISTRY_INTERNAL_H
#define KUBELETD_IMAGE_REGISTRY_INTERNAL_H

#include "kubeletd/image.h"
#include "kubeletd/lazy-curl.h"

typedef struct
{
  const kd_registry_opts_t *opts;
  CURL *curl;          /* one handle per pull: connections are reused */
  char *base;          /* "https://registry-1.docker.io", "http://127.0.0.1:5000" */
  char *host;          /* the key for credentials: the reference's domain, or a mirror's host */
  bool tls_verify;     /* false only for insecure registries */
  char *repo_path;     /* "library/busybox" */
  char *authorization; /* "Bearer <token>" / "Basic <b64>" or NULL */
} kd_reg_client_t;

typedef struct
{
  long status;
  char *www_authenticate;
  char *content_digest; /* Docker-Content-Digest */
  char *content_type;   /* without parameters */
  kd_buf_t body;        /* buffered bodies (manifests, tokens, errors) */
} kd_reg_resp_t;

void kd_reg_resp_free (kd_reg_resp_t *r);

/* A GET through the client's handle. accept and authorization may be NULL.
   The body is buffered up to max_body bytes (more is an error). Transport
   failures are errors; any HTTP status is returned in resp->status. */
int kd_reg_get (kd_reg_client_t *c, const char *url, const char *accept, const char *authorization,
                size_t max_body, kd_reg_resp_t *resp, kd_error_t *err) KD_WUR;

/* The registry's error JSON as docker prints it ("manifest unknown:
   manifest unknown"), or `fallback` when the body says nothing. */
char *kd_reg_error_text (const kd_reg_resp_t *resp, const char *fallback);

/* Answers a 401 challenge: Bearer (token from the realm, anonymous or with
   the auth file's credentials) or Basic (needs credentials). */
int kd_reg_authorize (kd_reg_client_t *c, const char *challenge, kd_error_t *err) KD_WUR;

/* ---- endpoints and platforms (registry-endpoints.c) ---- */

typedef struct
{
  char *base;      /* "https://host[:port][/prefix]" */
  char *host;      /* credentials key */
  bool tls_verify; /* false for insecure registries */
  bool mirror;
  int group; /* an insecure host's https and http tries share a group */
} kd_reg_endpoint_t;

/* The mirrors configured for ref's domain, then the registry itself
   (docker.io is registry-1.docker.io). An insecure host (listed, or in
   127.0.0.0/8 as docker has it) is tried over HTTPS without verification,
   then over HTTP. */
void kd_reg_resolve_endpoints (const kd_registry_opts_t *o, const kd_image_ref_t *ref,
                               kd_reg_endpoint_t **eps, size_t *n);
void kd_reg_endpoints_free (kd_reg_endpoint_t *eps, size_t n);
/* "amd64", "arm64", "arm/v7", ...: this build's platform. */
const char *kd_reg_native_arch (void);
/* containerd's rule: arm64 means v8, arm means v7; NULL for the others. */
const char *kd_reg_norm_variant (const char *arch, const char *variant);

#endif
