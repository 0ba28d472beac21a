/* Parsing plugin results and plugin errors. */
#include "cni-internal.h"

static char *
dup_str (json_t *o, const char *key)
{
  json_t *v = json_object_get (o, key);
  return json_is_string (v) ? xstrdup (json_string_value (v)) : NULL;
}

kd_cni_result_t *
kd_cni_result_from_json (json_t *raw)
{
  kd_cni_result_t *r = xcalloc (1, sizeof *r);
  json_t *ifaces = json_object_get (raw, "interfaces");
  json_t *ips = json_object_get (raw, "ips");
  size_t i;
  json_t *v;

  r->raw = json_incref (raw);
  r->cni_version = dup_str (raw, "cniVersion");
  if (json_is_array (ifaces) && json_array_size (ifaces) > 0)
    {
      r->ifaces = xcalloc (json_array_size (ifaces), sizeof *r->ifaces);
      json_array_foreach (ifaces, i, v)
      {
        kd_cni_iface_t *f = &r->ifaces[r->n_ifaces++];
        f->name = dup_str (v, "name");
        f->mac = dup_str (v, "mac");
        f->sandbox = dup_str (v, "sandbox");
      }
    }
  if (json_is_array (ips) && json_array_size (ips) > 0)
    {
      r->ips = xcalloc (json_array_size (ips), sizeof *r->ips);
      json_array_foreach (ips, i, v)
      {
        json_t *idx = json_object_get (v, "interface");
        kd_cni_ip_t *p;
        char *slash;

        if (!json_is_string (json_object_get (v, "address")))
          continue;
        p = &r->ips[r->n_ips++];
        p->address = dup_str (v, "address");
        p->gateway = dup_str (v, "gateway");
        p->ip = xstrdup (p->address);
        slash = strchr (p->ip, '/');
        if (slash)
          *slash = '\0';
        /* 0.4.0 says "version"; 1.0.0 dropped it: look at the address. */
        p->family = strchr (p->ip, ':') ? 6 : 4;
        p->interface = json_is_integer (idx) ? (int) json_integer_value (idx) : -1;
      }
    }
  return r;
}

int
kd_cni_result_parse (const char *text, size_t len, kd_cni_result_t **out, kd_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_loadb (text, len, 0, &jerr);

  if (j == NULL)
    return kd_make_error (err, 0, "invalid result JSON: %s", jerr.text);
  if (!json_is_object (j))
    {
      json_decref (j);
      return kd_make_error (err, 0, "invalid result: not a JSON object");
    }
  *out = kd_cni_result_from_json (j);
  json_decref (j);
  return 0;
}

void
kd_cni_result_free (kd_cni_result_t *r)
{
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_ifaces; i++)
    {
      free (r->ifaces[i].name);
      free (r->ifaces[i].mac);
      free (r->ifaces[i].sandbox);
    }
  for (size_t i = 0; i < r->n_ips; i++)
    {
      free (r->ips[i].address);
      free (r->ips[i].ip);
      free (r->ips[i].gateway);
    }
  free (r->ifaces);
  free (r->ips);
  free (r->cni_version);
  json_decref (r->raw);
  free (r);
}

const char *
kd_cni_result_pod_ip (const kd_cni_result_t *r)
{
  if (r == NULL || r->n_ips == 0)
    return NULL;
  for (size_t i = 0; i < r->n_ips; i++)
    if (r->ips[i].family == 4)
      return r->ips[i].ip;
  return r->ips[0].ip;
}

static char *
trimmed (const char *s, size_t len)
{
  while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
    len--;
  while (len > 0 && (*s == '\n' || *s == ' '))
    s++, len--;
  return xstrndup (s, len);
}

char *
kd_cni_format_plugin_error (const char *type, const char *out, size_t len, int exit_status)
{
  json_t *j = out && len ? json_loadb (out, len, 0, NULL) : NULL;
  json_t *code = json_object_get (j, "code");
  const char *msg = json_string_value (json_object_get (j, "msg"));
  const char *details = json_string_value (json_object_get (j, "details"));
  char *s;

  if (json_is_integer (code) || msg != NULL)
    {
      /* The spec's error object: the message first, the details after. */
      if (details && *details)
        s = xasprintf ("plugin %s failed (code %lld): %s: %s", type,
                       (long long) json_integer_value (code), msg ? msg : "", details);
      else
        s = xasprintf ("plugin %s failed (code %lld): %s", type,
                       (long long) json_integer_value (code), msg ? msg : "");
    }
  else
    {
      cleanup_free char *t = trimmed (out ? out : "", out ? len : 0);
      if (*t)
        s = xasprintf ("plugin %s failed (exit status %d): %s", type, exit_status, t);
      else
        s = xasprintf ("plugin %s failed (exit status %d)", type, exit_status);
    }
  json_decref (j);
  return s;
}

/* Base64 (RFC 4648), for the "config" field of libcni's cache files, which
   Go's encoding/json writes as base64. */
char *
kd_cni_base64_encode (const char *data, size_t len)
{
  return kd_base64_encode (data, len);
}

char *
kd_cni_base64_decode (const char *s, size_t *len)
{
  return kd_base64_decode (s, len);
}
