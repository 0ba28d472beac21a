/* Registry authentication: the WWW-Authenticate challenge of `GET /v2/`,
 * credentials from a docker config.json-style auth file, and Bearer tokens
 * (the distribution token protocol, as docker and containerd speak it). */

#include "registry-internal.h"

#define TOKEN_MAX (1024 * 1024)

typedef struct
{
  char *scheme; /* "bearer" or "basic", lower case */
  char *realm;
  char *service;
  char *scope;
} challenge_t;

static void
challenge_free (challenge_t *c)
{
  free (c->scheme);
  free (c->realm);
  free (c->service);
  free (c->scope);
}

/* `Bearer realm="https://auth.example/token",service="registry.example"`:
   the scheme, then comma-separated key=value or key="quoted value". */
static int
parse_challenge (const char *h, challenge_t *c, kd_error_t *err)
{
  const char *p = h;
  size_t n;

  memset (c, 0, sizeof (*c));
  while (*p == ' ' || *p == '\t')
    p++;
  n = strcspn (p, " \t");
  if (n == 0)
    return kd_make_error (err, 0, "malformed WWW-Authenticate `%s`", h);
  c->scheme = xstrndup (p, n);
  for (char *q = c->scheme; *q; q++)
    *q = (char) (*q >= 'A' && *q <= 'Z' ? *q + 'a' - 'A' : *q);
  p += n;
  for (;;)
    {
      kd_buf_t val = { 0 };
      cleanup_free char *key = NULL;

      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      n = strcspn (p, "=, \t");
      key = xstrndup (p, n);
      p += n;
      if (*p != '=')
        continue;
      p++;
      if (*p == '"')
        {
          for (p++; *p && *p != '"'; p++)
            {
              if (*p == '\\' && p[1])
                p++;
              kd_buf_putc (&val, *p);
            }
          if (*p != '"')
            {
              kd_buf_free (&val);
              challenge_free (c);
              return kd_make_error (err, 0, "malformed WWW-Authenticate `%s`", h);
            }
          p++;
        }
      else
        {
          n = strcspn (p, ", \t");
          kd_buf_append (&val, p, n);
          p += n;
        }
      char **slot = strcasecmp (key, "realm") == 0     ? &c->realm
                    : strcasecmp (key, "service") == 0 ? &c->service
                    : strcasecmp (key, "scope") == 0   ? &c->scope
                                                       : NULL;
      if (slot != NULL && *slot == NULL)
        *slot = kd_buf_steal (&val);
      kd_buf_free (&val);
    }
  return 0;
}

/* "https://index.docker.io/v1/" -> "index.docker.io": how docker matches
   the keys of "auths" to a registry host. */
static char *
auth_key_host (const char *key)
{
  const char *p = key;
  if (kd_str_has_prefix (p, "https://"))
    p += 8;
  else if (kd_str_has_prefix (p, "http://"))
    p += 7;
  return xstrndup (p, strcspn (p, "/"));
}

static bool
is_docker_hub (const char *host)
{
  return strcmp (host, "docker.io") == 0 || strcmp (host, "index.docker.io") == 0
         || strcmp (host, "registry-1.docker.io") == 0;
}

static bool
host_matches (const char *a, const char *b)
{
  return strcmp (a, b) == 0 || (is_docker_hub (a) && is_docker_hub (b));
}

static char *
b64_encode (const char *s, size_t len)
{
  return kd_base64_encode (s, len);
}

static int
b64_decode (const char *s, char **out, kd_error_t *err)
{
  size_t n = 0;

  /* padded, as Docker writes it */
  if (strlen (s) % 4 != 0 || (*out = kd_base64_decode (s, &n)) == NULL)
    return kd_make_error (err, 0, "invalid base64 in auth");
  if (strlen (*out) != n)
    {
      free (*out);
      *out = NULL;
      return kd_make_error (err, 0, "invalid base64 in auth");
    }
  return 0;
}

/* "user:pass" for host from the auth file, or NULL (no file, no entry). */
static int
lookup_credentials (const char *auth_file, const char *host, char **userpass, kd_error_t *err)
{
  json_error_t jerr;
  json_t *root, *auths, *entry;
  const char *key;
  int ret = 0;

  *userpass = NULL;
  if (auth_file == NULL || host == NULL)
    return 0;
  root = json_load_file (auth_file, 0, &jerr);
  if (root == NULL)
    return kd_make_error (err, 0, "auth file `%s`: %s", auth_file, jerr.text);
  auths = json_object_get (root, "auths");
  json_object_foreach (auths, key, entry)
  {
    cleanup_free char *h = auth_key_host (key);
    const char *auth = json_string_value (json_object_get (entry, "auth"));
    const char *user = json_string_value (json_object_get (entry, "username"));
    const char *pass = json_string_value (json_object_get (entry, "password"));

    if (!host_matches (h, host))
      continue;
    if (auth != NULL && *auth != '\0')
      {
        ret = b64_decode (auth, userpass, err);
        if (ret == 0 && strchr (*userpass, ':') == NULL)
          {
            free (steal_pointer (userpass));
            ret = kd_make_error (err, 0, "auth file `%s`: auth for `%s` is not user:password",
                                 auth_file, key);
          }
      }
    else if (user != NULL && pass != NULL)
      *userpass = xasprintf ("%s:%s", user, pass);
    break;
  }
  json_decref (root);
  return ret;
}

static char *
url_escape (CURL *curl, const char *s)
{
  char *e = curl_easy_escape (curl, s, 0);
  char *r = xstrdup (e);
  curl_free (e);
  return r;
}

/* The token protocol: GET realm?service=..&scope=repository:<path>:pull,
   with basic credentials when the auth file has some; the answer has
   "token" or (OAuth2 style) "access_token". */
static int
fetch_token (kd_reg_client_t *c, const challenge_t *ch, const char *userpass, kd_error_t *err)
{
  cleanup_free char *scope = xasprintf ("repository:%s:pull", c->repo_path);
  cleanup_free char *escope = url_escape (c->curl, scope);
  cleanup_free char *url = NULL;
  cleanup_free char *basic = NULL;
  cleanup_free char *b64 = NULL;
  kd_reg_resp_t resp = { 0 };
  json_t *root;
  const char *tok;

  if (ch->realm == NULL
      || !(kd_str_has_prefix (ch->realm, "https://") || kd_str_has_prefix (ch->realm, "http://")))
    return kd_make_error (err, 0, "bearer challenge without a usable realm");
  if (ch->service != NULL)
    {
      cleanup_free char *esvc = url_escape (c->curl, ch->service);
      url = xasprintf ("%s%cservice=%s&scope=%s", ch->realm, strchr (ch->realm, '?') ? '&' : '?',
                       esvc, escope);
    }
  else
    url = xasprintf ("%s%cscope=%s", ch->realm, strchr (ch->realm, '?') ? '&' : '?', escope);
  if (userpass != NULL)
    {
      b64 = b64_encode (userpass, strlen (userpass));
      basic = xasprintf ("Basic %s", b64);
    }
  if (kd_reg_get (c, url, "application/json", basic, TOKEN_MAX, &resp, err) < 0)
    return kd_error_wrap (err, "token");
  if (resp.status != 200)
    {
      cleanup_free char *msg = kd_reg_error_text (
          &resp, resp.status == 401 || resp.status == 403 ? "unauthorized: authentication required"
                                                          : "token server refused the request");
      kd_reg_resp_free (&resp);
      return kd_make_error (err, 0, "%s", msg);
    }
  root = json_loadb (resp.body.s ? resp.body.s : "", resp.body.len, 0, NULL);
  kd_reg_resp_free (&resp);
  tok = json_string_value (json_object_get (root, "token"));
  if (tok == NULL || *tok == '\0')
    tok = json_string_value (json_object_get (root, "access_token"));
  if (tok == NULL || *tok == '\0')
    {
      json_decref (root);
      return kd_make_error (err, 0, "token server answered without a token");
    }
  free (c->authorization);
  c->authorization = xasprintf ("Bearer %s", tok);
  json_decref (root);
  return 0;
}

int
kd_reg_authorize (kd_reg_client_t *c, const char *challenge, kd_error_t *err)
{
  cleanup_free char *userpass = NULL;
  challenge_t ch;
  int ret;

  if (parse_challenge (challenge, &ch, err) < 0)
    return -1;
  /* Credentials go to the host they were saved for (a mirror gets its
     own entry, never the upstream's); docker.io's aliases are one host. */
  ret = lookup_credentials (c->opts->auth_file, c->host, &userpass, err);
  if (ret < 0)
    goto out;
  if (strcmp (ch.scheme, "bearer") == 0)
    ret = fetch_token (c, &ch, userpass, err);
  else if (strcmp (ch.scheme, "basic") == 0)
    {
      if (userpass == NULL)
        {
          ret = kd_make_error (err, 0, "unauthorized: authentication required");
          goto out;
        }
      cleanup_free char *b64 = b64_encode (userpass, strlen (userpass));
      free (c->authorization);
      c->authorization = xasprintf ("Basic %s", b64);
      ret = 0;
    }
  else
    ret = kd_make_error (err, 0, "unsupported authentication scheme `%s`", ch.scheme);
out:
  challenge_free (&ch);
  return ret;
}
