/* The pod's name files: /etc/hosts, /etc/hostname and /etc/resolv.conf,
   with the kubelet's contents (pkg/kubelet/kubelet_pods.go and
   pkg/kubelet/network/dns) and containerd's resolv.conf layout. */
#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>

#include "kubeletd/sandbox.h"

#define HOSTNAME_MAX     63
#define MAX_NAMESERVERS  3    /* validation.MaxDNSNameservers */
#define MAX_SEARCH_PATHS 32   /* validation.MaxDNSSearchPaths */
#define MAX_SEARCH_CHARS 2048 /* validation.MaxDNSSearchListChars */

char *
kd_sandbox_hostname (const kd_pod_t *pod)
{
  const char *name
      = pod->spec.hostname && *pod->spec.hostname ? pod->spec.hostname : pod->metadata.name;
  size_t len = strlen (name ? name : "");

  if (len <= HOSTNAME_MAX)
    return xstrdup (name ? name : "");
  /* Cut to 63, then drop what would end the label badly. */
  len = HOSTNAME_MAX;
  while (len > 0 && (name[len - 1] == '-' || name[len - 1] == '.'))
    len--;
  return xstrndup (name, len);
}

char *
kd_sandbox_host_domain (const kd_pod_t *pod, const char *cluster_domain)
{
  if (pod->spec.subdomain == NULL || *pod->spec.subdomain == '\0' || cluster_domain == NULL
      || *cluster_domain == '\0')
    return NULL;
  return xasprintf ("%s.%s.svc.%s", pod->spec.subdomain,
                    pod->metadata.namespace_ ? pod->metadata.namespace_ : "default",
                    cluster_domain);
}

static void
host_aliases (kd_buf_t *b, const kd_pod_t *pod)
{
  if (pod->spec.n_host_aliases == 0)
    return;
  kd_buf_puts (b, "\n# Entries added by HostAliases.\n");
  for (size_t i = 0; i < pod->spec.n_host_aliases; i++)
    {
      const kd_host_alias_t *a = &pod->spec.host_aliases[i];
      kd_buf_printf (b, "%s\t", a->ip ? a->ip : "");
      for (size_t j = 0; j < a->hostnames.n; j++)
        kd_buf_printf (b, "%s%s", j ? "\t" : "", a->hostnames.v[j]);
      kd_buf_putc (b, '\n');
    }
}

int
kd_sandbox_hosts_content (const kd_pod_t *pod, char *const *pod_ips, size_t n_ips,
                          const char *cluster_domain, const char *host_hosts_path, char **out,
                          kd_error_t *err)
{
  kd_buf_t b = { 0 };

  if (pod->spec.host_network)
    {
      cleanup_free char *node = NULL;
      const char *path = host_hosts_path ? host_hosts_path : "/etc/hosts";
      if (kd_read_file (path, 1024 * 1024, &node, NULL, err) < 0)
        return -1;
      kd_buf_puts (&b, "# Kubernetes-managed hosts file (host network).\n");
      kd_buf_puts (&b, node);
    }
  else
    {
      cleanup_free char *hostname = kd_sandbox_hostname (pod);
      cleanup_free char *domain = kd_sandbox_host_domain (pod, cluster_domain);

      kd_buf_puts (&b, "# Kubernetes-managed hosts file.\n"
                       "127.0.0.1\tlocalhost\n"
                       "::1\tlocalhost ip6-localhost ip6-loopback\n"
                       "fe00::0\tip6-localnet\n"
                       "fe00::0\tip6-mcastprefix\n"
                       "fe00::1\tip6-allnodes\n"
                       "fe00::2\tip6-allrouters\n");
      for (size_t i = 0; i < n_ips; i++)
        {
          if (domain)
            kd_buf_printf (&b, "%s\t%s.%s\t%s\n", pod_ips[i], hostname, domain, hostname);
          else
            kd_buf_printf (&b, "%s\t%s\n", pod_ips[i], hostname);
        }
    }
  host_aliases (&b, pod);
  *out = kd_buf_steal (&b);
  return 0;
}

/* ---- resolv.conf ----------------------------------------------------- */

typedef struct
{
  kd_strv_t servers;
  kd_strv_t searches;
  kd_strv_t options; /* "name" or "name:value" */
} dns_t;

static void
strv_add (kd_strv_t *v, const char *s)
{
  v->v = xrealloc (v->v, (v->n + 2) * sizeof *v->v);
  v->v[v->n++] = xstrdup (s);
  v->v[v->n] = NULL;
}

static bool
strv_has (const kd_strv_t *v, const char *s)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcmp (v->v[i], s) == 0)
      return true;
  return false;
}

static void
dns_free (dns_t *d)
{
  kd_strv_clear (&d->servers);
  kd_strv_clear (&d->searches);
  kd_strv_clear (&d->options);
}

/* The option's name: the part before ':'. */
static size_t
opt_name_len (const char *o)
{
  return strcspn (o, ":");
}

/* mergeDNSOptions: a later option replaces an earlier one of that name. */
static void
opt_merge (kd_strv_t *v, const char *o)
{
  size_t n = opt_name_len (o);
  for (size_t i = 0; i < v->n; i++)
    if (opt_name_len (v->v[i]) == n && strncmp (v->v[i], o, n) == 0)
      {
        free (v->v[i]);
        v->v[i] = xstrdup (o);
        return;
      }
  strv_add (v, o);
}

/* The kubelet's parseResolvConf: nameserver lines add up, the last search
   line wins (without a trailing '.'; "." alone dropped), options add up;
   text after '#' or ';' is a comment. */
static void
parse_resolv (char *text, dns_t *d)
{
  char *save = NULL;
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[64], *s2 = NULL;
      size_t n = 0;
      line[strcspn (line, "#;")] = '\0';
      for (char *w = strtok_r (line, " \t\r", &s2); w && n < KD_ARRAY_SIZE (f);
           w = strtok_r (NULL, " \t\r", &s2))
        f[n++] = w;
      if (n == 0)
        continue;
      if (strcmp (f[0], "nameserver") == 0 && n >= 2)
        strv_add (&d->servers, f[1]);
      else if (strcmp (f[0], "search") == 0)
        {
          kd_strv_clear (&d->searches);
          for (size_t i = 1; i < n; i++)
            {
              size_t l = strlen (f[i]);
              if (strcmp (f[i], ".") == 0)
                continue;
              if (l > 0 && f[i][l - 1] == '.')
                f[i][l - 1] = '\0';
              strv_add (&d->searches, f[i]);
            }
        }
      else if (strcmp (f[0], "options") == 0)
        for (size_t i = 1; i < n; i++)
          opt_merge (&d->options, f[i]);
    }
}

int
kd_sandbox_resolv_content (const kd_pod_t *pod, const char *host_resolv_path, char **out,
                           kd_error_t *err)
{
  const char *policy = pod->spec.dns_policy ? pod->spec.dns_policy : "ClusterFirst";
  const kd_dns_config_t *cfg = pod->spec.dns_config;
  dns_t d = { 0 };
  kd_buf_t b = { 0 };
  size_t chars = 0;

  /* kubeletd has no cluster DNS: every policy but None is the node's. */
  if (strcmp (policy, "None") != 0)
    {
      cleanup_free char *text = NULL;
      kd_error_t e = NULL;
      const char *path = host_resolv_path ? host_resolv_path : "/etc/resolv.conf";
      if (kd_read_file (path, 1024 * 1024, &text, NULL, &e) < 0)
        {
          if (e->status != ENOENT)
            {
              *err = e;
              dns_free (&d);
              return -1;
            }
          kd_error_release (&e);
        }
      else
        parse_resolv (text, &d);
    }
  /* appendDNSConfig: the pod's entries after the base ones, duplicates
     dropped, options merged by name. */
  if (cfg)
    {
      for (size_t i = 0; i < cfg->nameservers.n; i++)
        if (!strv_has (&d.servers, cfg->nameservers.v[i]))
          strv_add (&d.servers, cfg->nameservers.v[i]);
      for (size_t i = 0; i < cfg->searches.n; i++)
        if (!strv_has (&d.searches, cfg->searches.v[i]))
          strv_add (&d.searches, cfg->searches.v[i]);
      for (size_t i = 0; i < cfg->n_options; i++)
        {
          const kd_dns_option_t *o = &cfg->options[i];
          cleanup_free char *s = o->value ? xasprintf ("%s:%s", o->name, o->value)
                                          : xstrdup (o->name ? o->name : "");
          opt_merge (&d.options, s);
        }
    }

  /* formDNSConfigFitsLimits: at most 3 nameservers, 32 search domains and
     2048 characters of search list. */
  if (d.searches.n > 0)
    {
      kd_buf_puts (&b, "search");
      for (size_t i = 0; i < d.searches.n && i < MAX_SEARCH_PATHS; i++)
        {
          chars += strlen (d.searches.v[i]) + (i ? 1 : 0);
          if (chars > MAX_SEARCH_CHARS)
            break;
          kd_buf_printf (&b, " %s", d.searches.v[i]);
        }
      kd_buf_putc (&b, '\n');
    }
  for (size_t i = 0; i < d.servers.n && i < MAX_NAMESERVERS; i++)
    kd_buf_printf (&b, "nameserver %s\n", d.servers.v[i]);
  if (d.options.n > 0)
    {
      kd_buf_puts (&b, "options");
      for (size_t i = 0; i < d.options.n; i++)
        kd_buf_printf (&b, " %s", d.options.v[i]);
      kd_buf_putc (&b, '\n');
    }
  dns_free (&d);
  *out = b.s ? kd_buf_steal (&b) : xstrdup ("");
  return 0;
}

/* Temp file and rename, without kd_write_file_atomic's fsync: the files
   live in the run directory, which does not outlive the machine (a tmpfs
   on most hosts), and a kubeletd that dies leaves them in the page cache.
   After a reboot the sandbox and these files are made again. The rename
   still keeps a reader (the container's bind mount source) from seeing a
   half-written file. */
static int
write_run_file (const char *path, const char *data, kd_error_t *err)
{
  return kd_write_file_replace (path, data, strlen (data), 0644, false, err);
}

int
kd_sandbox_write_files (const kd_pod_t *pod, const char *pod_dir, char *const *pod_ips,
                        size_t n_ips, const char *cluster_domain, kd_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/etc", pod_dir);
  cleanup_free char *hosts = NULL;
  cleanup_free char *resolv = NULL;
  cleanup_free char *hostname = kd_sandbox_hostname (pod);
  cleanup_free char *hostname_line = xasprintf ("%s\n", hostname);
  cleanup_free char *p1 = xasprintf ("%s/hosts", dir);
  cleanup_free char *p2 = xasprintf ("%s/hostname", dir);
  cleanup_free char *p3 = xasprintf ("%s/resolv.conf", dir);

  if (kd_sandbox_hosts_content (pod, pod_ips, n_ips, cluster_domain, NULL, &hosts, err) < 0
      || kd_sandbox_resolv_content (pod, NULL, &resolv, err) < 0)
    return -1;
  if (kd_mkdir_p (dir, 0755, err) < 0)
    return -1;
  if (write_run_file (p1, hosts, err) < 0 || write_run_file (p2, hostname_line, err) < 0
      || write_run_file (p3, resolv, err) < 0)
    return -1;
  return 0;
}

void
kd_sandbox_files_mounts (const char *pod_dir, kd_mount_t **mounts, size_t *n)
{
  static const char *const names[] = { "hosts", "hostname", "resolv.conf" };
  *mounts = xrealloc (*mounts, (*n + KD_ARRAY_SIZE (names)) * sizeof **mounts);
  for (size_t i = 0; i < KD_ARRAY_SIZE (names); i++)
    {
      kd_mount_t *m = &(*mounts)[(*n)++];
      memset (m, 0, sizeof *m);
      m->source = xasprintf ("%s/etc/%s", pod_dir, names[i]);
      m->destination = xasprintf ("/etc/%s", names[i]);
      m->type = xstrdup ("bind");
    }
}
