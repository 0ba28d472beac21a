/* The node's hostPort table: one entry per (port, protocol, host IP)
   published by a pod, so that a second pod asking for a port already in use
   is refused with a reason instead of silently losing to portmap's rules. */
#include <ctype.h>

#include "kubeletd/sandbox.h"

typedef struct
{
  char *pod; /* "namespace/name" */
  int port;
  char *protocol; /* upper case, "TCP" */
  char *host_ip;  /* "0.0.0.0" when unset */
} entry_t;

struct kd_sandbox_ports
{
  entry_t *v;
  size_t n, cap;
};

kd_sandbox_ports_t *
kd_sandbox_ports_new (void)
{
  return xcalloc (1, sizeof (kd_sandbox_ports_t));
}

static void
entry_free (entry_t *e)
{
  free (e->pod);
  free (e->protocol);
  free (e->host_ip);
}

void
kd_sandbox_ports_free (kd_sandbox_ports_t *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    entry_free (&p->v[i]);
  free (p->v);
  free (p);
}

static const char *
any_ip (const char *ip)
{
  return ip && *ip ? ip : "0.0.0.0";
}

static bool
ip_overlaps (const char *a, const char *b)
{
  return strcmp (a, "0.0.0.0") == 0 || strcmp (b, "0.0.0.0") == 0 || strcmp (a, b) == 0;
}

static void
release_key (kd_sandbox_ports_t *p, const char *key)
{
  size_t k = 0;
  for (size_t i = 0; i < p->n; i++)
    {
      if (strcmp (p->v[i].pod, key) == 0)
        entry_free (&p->v[i]);
      else
        p->v[k++] = p->v[i];
    }
  p->n = k;
}

void
kd_sandbox_ports_release (kd_sandbox_ports_t *p, const char *pod_namespace, const char *pod_name)
{
  cleanup_free char *key
      = xasprintf ("%s/%s", pod_namespace ? pod_namespace : "default", pod_name ? pod_name : "");
  release_key (p, key);
}

static void
for_each_port (const kd_pod_t *pod, void (*fn) (const kd_container_port_t *, void *), void *data)
{
  const kd_container_t *lists[] = { pod->spec.init_containers, pod->spec.containers };
  size_t ns[] = { pod->spec.n_init_containers, pod->spec.n_containers };
  for (size_t l = 0; l < 2; l++)
    for (size_t i = 0; i < ns[l]; i++)
      for (size_t j = 0; j < lists[l][i].n_ports; j++)
        if (lists[l][i].ports[j].host_port > 0)
          fn (&lists[l][i].ports[j], data);
}

typedef struct
{
  kd_sandbox_ports_t *p;
  const char *key;
  size_t first_new; /* entries from here on are this call's */
  char *conflict;
} reserve_t;

static void
reserve_one (const kd_container_port_t *cp, void *data)
{
  reserve_t *r = data;
  cleanup_free char *proto = xstrdup (cp->protocol && *cp->protocol ? cp->protocol : "TCP");
  const char *ip = any_ip (cp->host_ip);
  entry_t *e;

  if (r->conflict)
    return;
  for (char *c = proto; *c; c++)
    *c = (char) toupper ((unsigned char) *c);
  for (size_t i = 0; i < r->p->n; i++)
    {
      const entry_t *o = &r->p->v[i];
      if (o->port != cp->host_port || strcmp (o->protocol, proto) != 0
          || !ip_overlaps (o->host_ip, ip))
        continue;
      /* The pod's own earlier entries are being replaced, not clashed
         with; the same port twice within this call is a clash. */
      if (i < r->first_new && strcmp (o->pod, r->key) == 0)
        continue;
      r->conflict = xasprintf ("port %d/%s on %s is already used by pod %s", cp->host_port, proto,
                               ip, o->pod);
      return;
    }
  kd_grow ((void **) &r->p->v, &r->p->cap, r->p->n, sizeof *r->p->v);
  e = &r->p->v[r->p->n++];
  e->pod = xstrdup (r->key);
  e->port = cp->host_port;
  e->protocol = steal_pointer (&proto);
  e->host_ip = xstrdup (ip);
}

int
kd_sandbox_ports_reserve (kd_sandbox_ports_t *p, const kd_pod_t *pod, kd_error_t *err)
{
  cleanup_free char *key
      = xasprintf ("%s/%s", pod->metadata.namespace_ ? pod->metadata.namespace_ : "default",
                   pod->metadata.name ? pod->metadata.name : "");
  reserve_t r = { p, key, p->n, NULL };

  for_each_port (pod, reserve_one, &r);
  if (r.conflict)
    {
      /* All or nothing: drop what this call added. */
      for (size_t i = r.first_new; i < p->n; i++)
        entry_free (&p->v[i]);
      p->n = r.first_new;
      kd_make_error (err, 0, "%s", r.conflict);
      free (r.conflict);
      return -1;
    }
  /* Now forget the pod's older entries (a re-reservation). */
  {
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
      {
        if (i < r.first_new && strcmp (p->v[i].pod, key) == 0)
          entry_free (&p->v[i]);
        else
          p->v[k++] = p->v[i];
      }
    p->n = k;
  }
  return 0;
}

typedef struct
{
  kd_cni_port_mapping_t *v;
  size_t n;
} maps_t;

static void
map_one (const kd_container_port_t *cp, void *data)
{
  maps_t *m = data;
  const char *proto = cp->protocol ? cp->protocol : "TCP";
  m->v = xrealloc (m->v, (m->n + 1) * sizeof *m->v);
  m->v[m->n].host_port = cp->host_port;
  m->v[m->n].container_port = cp->container_port;
  /* portmap wants the protocol in lower case. */
  m->v[m->n].protocol = strcasecmp (proto, "UDP") == 0    ? "udp"
                        : strcasecmp (proto, "SCTP") == 0 ? "sctp"
                                                          : "tcp";
  m->v[m->n].host_ip = cp->host_ip;
  m->n++;
}

void
kd_sandbox_port_mappings (const kd_pod_t *pod, kd_cni_port_mapping_t **out, size_t *n)
{
  maps_t m = { NULL, 0 };
  for_each_port (pod, map_one, &m);
  *out = m.v;
  *n = m.n;
}
