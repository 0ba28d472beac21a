/* Where a pull goes (mirrors, then the registry; HTTPS unless insecure)
 * and which platform it wants. */
#include <arpa/inet.h>

#include "registry-internal.h"

/* ---- endpoints ---------------------------------------------------------------- */

static char *
host_without_port (const char *hostport)
{
  if (hostport[0] == '[')
    return xstrndup (hostport + 1, strcspn (hostport + 1, "]"));
  const char *colon = strchr (hostport, ':');
  if (colon != NULL && strchr (colon + 1, ':') != NULL)
    return xstrdup (hostport); /* a bare IPv6 address */
  return xstrndup (hostport, colon ? (size_t) (colon - hostport) : strlen (hostport));
}

static bool
in_cidr (const char *host, const char *cidr)
{
  unsigned char a[16], net[16];
  cleanup_free char *ip = xstrndup (cidr, strcspn (cidr, "/"));
  const char *slash = strchr (cidr, '/');
  int family = strchr (ip, ':') ? AF_INET6 : AF_INET;
  int bits = slash ? atoi (slash + 1) : (family == AF_INET ? 32 : 128);
  int len = family == AF_INET ? 4 : 16;

  if (inet_pton (family, ip, net) != 1 || inet_pton (family, host, a) != 1 || bits < 0
      || bits > len * 8)
    return false;
  for (int i = 0; i < len && bits > 0; i++, bits -= 8)
    {
      unsigned char mask = (unsigned char) (bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
      if ((a[i] & mask) != (net[i] & mask))
        return false;
    }
  return true;
}

/* An --insecure-registry entry (HOST[:PORT] exactly, or a CIDR for IP
   hosts), and, as docker does by default, 127.0.0.0/8: a registry on the
   loopback is reached over plain HTTP without being listed. docker resolves
   names to apply the CIDRs; kubeletd does not look names up and treats only
   "localhost" as loopback. */
static bool
is_insecure (const kd_registry_opts_t *o, const char *hostport)
{
  cleanup_free char *host = host_without_port (hostport);

  for (size_t i = 0; i < o->n_insecure; i++)
    {
      const char *e = o->insecure[i];
      if (strcmp (e, hostport) == 0 || (strchr (e, '/') != NULL && in_cidr (host, e)))
        return true;
    }
  return strcmp (host, "localhost") == 0 || in_cidr (host, "127.0.0.0/8");
}

static void
add_endpoint (kd_reg_endpoint_t **eps, size_t *n, char *base, const char *host, bool tls_verify,
              bool mirror, int group)
{
  size_t len = strlen (base);
  while (len > 0 && base[len - 1] == '/')
    base[--len] = '\0';
  *eps = xrealloc (*eps, (*n + 1) * sizeof (**eps));
  (*eps)[*n] = (kd_reg_endpoint_t){
    .base = base, .host = xstrdup (host), .tls_verify = tls_verify, .mirror = mirror, .group = group
  };
  (*n)++;
}

/* An insecure host: HTTPS without verification first, then plain HTTP. */
static void
add_host (kd_reg_endpoint_t **eps, size_t *n, const kd_registry_opts_t *o, const char *hostport,
          const char *path, const char *cred_host, bool mirror, int group)
{
  if (is_insecure (o, hostport))
    {
      add_endpoint (eps, n, xasprintf ("https://%s%s", hostport, path), cred_host, false, mirror,
                    group);
      add_endpoint (eps, n, xasprintf ("http://%s%s", hostport, path), cred_host, false, mirror,
                    group);
    }
  else
    add_endpoint (eps, n, xasprintf ("https://%s%s", hostport, path), cred_host, true, mirror,
                  group);
}

void
kd_reg_resolve_endpoints (const kd_registry_opts_t *o, const kd_image_ref_t *ref,
                          kd_reg_endpoint_t **eps, size_t *n)
{
  int group = 0;

  *eps = NULL;
  *n = 0;
  for (size_t i = 0; i < o->n_mirrors; i++)
    {
      const char *m = o->mirrors[i], *eq = strchr (m, '=');
      const char *url, *rest;
      cleanup_free char *hostport = NULL;

      if (eq == NULL || strlen (ref->domain) != (size_t) (eq - m)
          || strncmp (m, ref->domain, (size_t) (eq - m)) != 0)
        continue;
      url = eq + 1;
      rest = strstr (url, "://") ? strstr (url, "://") + 3 : url;
      hostport = xstrndup (rest, strcspn (rest, "/"));
      if (kd_str_has_prefix (url, "http://"))
        add_endpoint (eps, n, xstrdup (url), hostport, false, true, group++);
      else if (kd_str_has_prefix (url, "https://"))
        add_endpoint (eps, n, xstrdup (url), hostport, !is_insecure (o, hostport), true, group++);
      else
        add_host (eps, n, o, hostport, rest + strlen (hostport), hostport, true, group++);
    }
  if (strcmp (ref->domain, "docker.io") == 0)
    add_endpoint (eps, n, xstrdup ("https://registry-1.docker.io"), "docker.io", true, false,
                  group);
  else
    add_host (eps, n, o, ref->domain, "", ref->domain, false, group);
}

/* kd_go_arch with the ARM variant OCI indexes name ("arm/v7"). */
const char *
kd_reg_native_arch (void)
{
#if defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH <= 6
  return "arm/v6";
#elif defined(__arm__)
  return "arm/v7";
#else
  return kd_go_arch ();
#endif
}

/* containerd's normalization: arm64 means arm64/v8, arm means arm/v7;
   other architectures have no variant that matters. */
const char *
kd_reg_norm_variant (const char *arch, const char *variant)
{
  if (strcmp (arch, "arm64") == 0)
    return variant && *variant ? variant : "v8";
  if (strcmp (arch, "arm") == 0)
    return variant && *variant ? variant : "v7";
  return NULL;
}

void
kd_reg_endpoints_free (kd_reg_endpoint_t *eps, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (eps[i].base);
      free (eps[i].host);
    }
  free (eps);
}
