/* validate_container: Kubernetes' container rules (validateContainerCommon,
 * validateContainers, validateInitContainers and what they call: ports, env,
 * volume mounts, resources, probes, lifecycle handlers, security context).
 *
 * Field paths, error types and messages are Kubernetes' own, including its
 * quirks (subPath errors are reported on "volumeMounts.subPath" without the
 * index, as the API server does).
 */
#include <ctype.h>
#include <inttypes.h>

#include "validate-internal.h"

const char kd_quantity_regex_msg[] = "quantities must match the regular expression "
                                     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

static const char *const pull_policies[] = { "Always", "IfNotPresent", "Never" };
static const char *const term_msg_policies[] = { "File", "FallbackToLogsOnError" };
static const char *const protocols[] = { "SCTP", "TCP", "UDP" };
static const char *const http_schemes[] = { "HTTP", "HTTPS" };
static const char *const mount_propagations[] = { "Bidirectional", "HostToContainer", "None" };
static const char *const init_restart_policies[] = { "Always" };

/* validEnvDownwardAPIFieldPathExpressions, sorted as sets.List prints it. */
static const char *const env_field_paths[] = {
  "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
  "status.hostIP", "status.hostIPs",     "status.podIP", "status.podIPs"
};

/* What ConvertDownwardAPIFieldLabel accepts for v1 pods. */
static const char *const convertible_field_labels[] = { "metadata.annotations",
                                                        "metadata.labels",
                                                        "metadata.name",
                                                        "metadata.namespace",
                                                        "metadata.uid",
                                                        "spec.nodeName",
                                                        "spec.restartPolicy",
                                                        "spec.serviceAccountName",
                                                        "spec.schedulerName",
                                                        "status.phase",
                                                        "status.hostIP",
                                                        "status.hostIPs",
                                                        "status.podIP",
                                                        "status.podIPs",
                                                        "spec.terminationGracePeriodSeconds" };

static const char *const container_resource_paths[]
    = { "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
        "requests.cpu", "requests.ephemeral-storage", "requests.memory" };

/* helper.IsStandardResourceName (without the hugepages prefixes). */
static const char *const standard_resources[] = { "cpu",
                                                  "memory",
                                                  "ephemeral-storage",
                                                  "requests.cpu",
                                                  "requests.memory",
                                                  "requests.ephemeral-storage",
                                                  "limits.cpu",
                                                  "limits.memory",
                                                  "limits.ephemeral-storage",
                                                  "pods",
                                                  "quotas",
                                                  "services",
                                                  "replicationcontrollers",
                                                  "secrets",
                                                  "persistentvolumeclaims",
                                                  "configmaps",
                                                  "services.nodeports",
                                                  "services.loadbalancers",
                                                  "storage",
                                                  "requests.storage" };

static const char *const integer_resources[] = { "pods",
                                                 "quotas",
                                                 "services",
                                                 "replicationcontrollers",
                                                 "secrets",
                                                 "configmaps",
                                                 "persistentvolumeclaims",
                                                 "services.nodeports",
                                                 "services.loadbalancers" };

/* ---- quantities ---------------------------------------------------------- */

int
kd_v_quantity_cmp (const kd_quantity_t *a, const kd_quantity_t *b)
{
  int64_t x = a->milli, y = b->milli;

  /* milli saturates; past it the rounded-up whole value still orders them. */
  if (a->overflow || b->overflow)
    {
      x = a->value;
      y = b->value;
    }
  return x < y ? -1 : x > y ? 1 : 0;
}

static bool
is_hugepages (const char *name)
{
  return kd_str_has_prefix (name, "hugepages-");
}

/* helper.IsNativeResource: no domain, or a kubernetes.io domain. */
static bool
is_native_resource (const char *name)
{
  return strchr (name, '/') == NULL || strstr (name, "kubernetes.io/") != NULL;
}

static bool
is_extended_resource (const char *name)
{
  cleanup_free char *quota = NULL;

  if (is_native_resource (name) || kd_str_has_prefix (name, "requests."))
    return false;
  quota = xasprintf ("requests.%s", name);
  return kd_is_qualified_name (quota);
}

/* validateContainerResourceName. */
static void
validate_resource_name (const char *name, const char *path, kd_field_errors_t *errs)
{
  kd_msgs_t m = { 0 };
  bool no_domain = strchr (name, '/') == NULL;

  /* core.ResourceName has a String() method, so Go's field errors print
     it without quotes. */
  kd_msgs_qualified_name (name, &m);
  for (size_t i = 0; i < m.n; i++)
    kd_v_invalid_raw (errs, path, name, m.v[i]);
  if (m.n > 0)
    kd_msgs_free (&m);
  else if (no_domain && !IN_LIST (name, standard_resources) && !is_hugepages (name))
    kd_v_invalid_raw (errs, path, name, "must be a standard resource type or fully qualified");

  if (no_domain)
    {
      if (strcmp (name, "cpu") != 0 && strcmp (name, "memory") != 0
          && strcmp (name, "ephemeral-storage") != 0 && !is_hugepages (name))
        kd_v_invalid_raw (errs, path, name, "must be a standard resource for containers");
    }
  else if (!is_native_resource (name) && !is_extended_resource (name))
    kd_v_invalid_raw (errs, path, name, "doesn't follow extended resource name standard");
}

/* Parses one quantity and applies ValidateResourceQuantityValue. Returns
   false when the text is not a quantity (already reported). */
static bool
validate_quantity_value (const char *name, const char *text, const char *path, kd_quantity_t *q,
                         kd_field_errors_t *errs)
{
  cleanup_free char *canon = NULL;

  if (text == NULL || kd_quantity_parse (text, q) < 0)
    {
      kd_v_invalid (errs, path, text, kd_quantity_regex_msg);
      return false;
    }
  canon = kd_quantity_canonical (q);
  if (q->milli < 0)
    kd_v_invalid (errs, path, canon, "must be greater than or equal to 0");
  if ((IN_LIST (name, integer_resources) || is_extended_resource (name)) && !q->overflow
      && q->milli % 1000 != 0)
    kd_v_invalid_raw (errs, path, canon, "must be an integer");
  return true;
}

/* Huge pages must be a whole number of pages of the size in the name. */
static void
validate_hugepages_value (const char *name, const kd_quantity_t *q, const char *path,
                          kd_field_errors_t *errs)
{
  kd_quantity_t page;
  cleanup_free char *canon = NULL;
  cleanup_free char *detail = NULL;

  if (kd_quantity_parse (name + strlen ("hugepages-"), &page) == 0 && page.value > 0
      && q->value % page.value == 0)
    return;
  canon = kd_quantity_canonical (q);
  detail = xasprintf ("%s is not positive integer multiple of %s", canon, name);
  kd_v_invalid (errs, path, canon, detail);
}

static void
validate_resources (const kd_resource_requirements_t *r, const char *base, kd_field_errors_t *errs)
{
  cleanup_free char *lim_path = xasprintf ("%s.limits", base);
  cleanup_free char *req_path = xasprintf ("%s.requests", base);
  bool cpu_mem = false, huge = false;

  for (size_t i = 0; i < r->limits.n; i++)
    {
      const char *name = r->limits.v[i].key ? r->limits.v[i].key : "";
      cleanup_free char *path = xasprintf ("%s[%s]", lim_path, name);
      kd_quantity_t q;

      validate_resource_name (name, path, errs);
      if (validate_quantity_value (name, r->limits.v[i].value, path, &q, errs)
          && is_hugepages (name))
        validate_hugepages_value (name, &q, path, errs);
      huge |= is_hugepages (name);
      cpu_mem |= strcmp (name, "cpu") == 0 || strcmp (name, "memory") == 0;
    }
  for (size_t i = 0; i < r->requests.n; i++)
    {
      const char *name = r->requests.v[i].key ? r->requests.v[i].key : "";
      cleanup_free char *path = xasprintf ("%s[%s]", req_path, name);
      bool overcommit = is_native_resource (name) && !is_hugepages (name);
      const char *limit_text = NULL;
      kd_quantity_t q, lq;

      validate_resource_name (name, path, errs);
      if (!validate_quantity_value (name, r->requests.v[i].value, path, &q, errs))
        continue;
      for (size_t j = 0; j < r->limits.n; j++)
        if (kd_str_eq (r->limits.v[j].key, name))
          limit_text = r->limits.v[j].value ? r->limits.v[j].value : "";
      if (limit_text && kd_quantity_parse (limit_text, &lq) == 0)
        {
          int c = kd_v_quantity_cmp (&q, &lq);
          cleanup_free char *qs = kd_quantity_canonical (&q);
          cleanup_free char *ls = kd_quantity_canonical (&lq);
          cleanup_free char *detail = NULL;

          /* Resources that cannot be overcommitted need request == limit. */
          if (c != 0 && !overcommit)
            detail = xasprintf ("must be equal to %s limit of %s", name, ls);
          else if (c > 0)
            detail = xasprintf ("must be less than or equal to %s limit of %s", name, ls);
          if (detail)
            kd_v_invalid (errs, req_path, qs, detail);
        }
      else if (limit_text == NULL && !overcommit)
        kd_v_required (errs, lim_path, "Limit must be set for non overcommitable resources");
      if (is_hugepages (name))
        validate_hugepages_value (name, &q, path, errs);
      huge |= is_hugepages (name);
      cpu_mem |= strcmp (name, "cpu") == 0 || strcmp (name, "memory") == 0;
    }
  if (huge && !cpu_mem)
    kd_v_forbidden (errs, base, "HugePages require cpu or memory");
}

/* ---- ports ------------------------------------------------------------------ */

static void
validate_ports (const kd_container_t *c, const char *base, kd_field_errors_t *errs)
{
  for (size_t i = 0; i < c->n_ports; i++)
    {
      const kd_container_port_t *p = &c->ports[i];
      cleanup_free char *idx = xasprintf ("%s.ports[%zu]", base, i);
      cleanup_free char *name_path = xasprintf ("%s.name", idx);
      cleanup_free char *cp_path = xasprintf ("%s.containerPort", idx);
      cleanup_free char *hp_path = xasprintf ("%s.hostPort", idx);
      cleanup_free char *proto_path = xasprintf ("%s.protocol", idx);

      if (!is_empty (p->name))
        {
          kd_msgs_t m = { 0 };
          bool dup = false;

          kd_msgs_port_name (p->name, &m);
          for (size_t j = 0; j < i && m.n == 0; j++)
            if (kd_str_eq (c->ports[j].name, p->name))
              dup = true;
          if (m.n > 0)
            kd_v_invalid_msgs (errs, name_path, p->name, &m);
          else if (dup)
            kd_v_duplicate (errs, name_path, p->name);
        }
      if (p->container_port == 0)
        kd_v_required (errs, cp_path, NULL);
      else if (p->container_port < 1 || p->container_port > 65535)
        kd_v_invalid_int (errs, cp_path, p->container_port,
                          "must be between 1 and 65535, inclusive");
      if (p->host_port != 0 && (p->host_port < 1 || p->host_port > 65535))
        kd_v_invalid_int (errs, hp_path, p->host_port, "must be between 1 and 65535, inclusive");
      if (is_empty (p->protocol))
        kd_v_required (errs, proto_path, NULL);
      else if (!IN_LIST (p->protocol, protocols))
        NOT_SUPPORTED (errs, proto_path, p->protocol, protocols);
    }
}

/* checkHostPortConflicts over containers[from..to). */
static void
check_host_ports (const kd_container_t *cs, size_t from, size_t to, const char *list_path,
                  kd_field_errors_t *errs)
{
  size_t cap = 0, n = 0;
  char **seen = NULL;

  for (size_t ci = from; ci < to; ci++)
    for (size_t pi = 0; pi < cs[ci].n_ports; pi++)
      {
        const kd_container_port_t *p = &cs[ci].ports[pi];
        char *key;
        bool dup = false;

        if (p->host_port == 0)
          continue;
        key = xasprintf ("%s/%s/%d", p->protocol ? p->protocol : "", p->host_ip ? p->host_ip : "",
                         p->host_port);
        for (size_t k = 0; k < n; k++)
          dup |= strcmp (seen[k], key) == 0;
        if (dup)
          {
            cleanup_free char *path = xasprintf ("%s[%zu].ports[%zu].hostPort", list_path, ci, pi);
            kd_v_duplicate (errs, path, key);
            free (key);
            continue;
          }
        kd_grow ((void **) &seen, &cap, n, sizeof (char *));
        seen[n++] = key;
      }
  for (size_t k = 0; k < n; k++)
    free (seen[k]);
  free (seen);
}

/* ---- env ------------------------------------------------------------------------ */

static void
validate_field_ref (const kd_object_field_selector_t *fs, const char *base, kd_field_errors_t *errs)
{
  cleanup_free char *fp_path = xasprintf ("%s.fieldPath", base);
  cleanup_free char *detail = NULL;
  const char *fp = fs->field_path;
  size_t len;

  if (is_empty (fs->api_version))
    {
      cleanup_free char *p = xasprintf ("%s.apiVersion", base);
      kd_v_required (errs, p, NULL);
      return;
    }
  if (is_empty (fp))
    {
      kd_v_required (errs, fp_path, NULL);
      return;
    }
  len = strlen (fp);
  if (strcmp (fs->api_version, "v1") != 0)
    detail = xasprintf ("error converting fieldPath: unsupported pod version: %s", fs->api_version);
  else if (kd_str_has_suffix (fp, "']") && strstr (fp, "['") && strstr (fp, "['") != fp)
    {
      /* A subscripted path: metadata.labels['key'] or metadata.annotations['key']. */
      const char *open = strstr (fp, "['");
      cleanup_free char *path = xstrndup (fp, (size_t) (open - fp));
      cleanup_free char *key = xstrndup (open + 2, len - (size_t) (open - fp) - 4);

      if (strcmp (path, "metadata.annotations") == 0)
        {
          for (char *k = key; *k; k++)
            *k = (char) tolower ((unsigned char) *k);
          kd_v_qualified_name (errs, base, key);
        }
      else if (strcmp (path, "metadata.labels") == 0)
        kd_v_qualified_name (errs, base, key);
      else
        detail = xasprintf ("error converting fieldPath: field label does not support "
                            "subscript: %s",
                            fp);
      if (detail == NULL)
        return;
    }
  else if (strcmp (fp, "spec.host") == 0)
    fp = "spec.nodeName";
  else if (!IN_LIST (fp, convertible_field_labels))
    detail = xasprintf ("error converting fieldPath: field label not supported: %s", fp);

  if (detail)
    kd_v_invalid (errs, fp_path, fs->field_path, detail);
  else if (!IN_LIST (fp, env_field_paths))
    NOT_SUPPORTED (errs, fp_path, fp, env_field_paths);
}

static const char *const cpu_divisors[] = { "1m", "1" };
static const char *const byte_divisors[]
    = { "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei" };

static void
validate_resource_field_ref (const kd_resource_field_selector_t *fs, const char *base,
                             kd_field_errors_t *errs)
{
  cleanup_free char *res_path = xasprintf ("%s.resource", base);
  cleanup_free char *div_path = xasprintf ("%s.divisor", base);
  cleanup_free char *canon = NULL;
  const char *r = fs->resource ? fs->resource : "";
  const char *kind = NULL;
  kd_quantity_t q;

  if (*r == '\0')
    kd_v_required (errs, res_path, NULL);
  else if (!IN_LIST (r, container_resource_paths) && !kd_str_has_prefix (r, "requests.hugepages-")
           && !kd_str_has_prefix (r, "limits.hugepages-"))
    NOT_SUPPORTED (errs, res_path, r, container_resource_paths);

  /* An unset or zero divisor means the default; only a set one is checked. */
  if (is_empty (fs->divisor) || kd_quantity_parse (fs->divisor, &q) < 0 || q.milli == 0)
    return;
  canon = kd_quantity_canonical (&q);
  if (strcmp (r, "limits.cpu") == 0 || strcmp (r, "requests.cpu") == 0)
    {
      if (!IN_LIST (canon, cpu_divisors))
        kd_v_invalid (errs, div_path, r,
                      "only divisor's values 1m and 1 are supported with the cpu resource");
    }
  else if (strcmp (r, "limits.memory") == 0 || strcmp (r, "requests.memory") == 0)
    kind = "memory";
  else if (strcmp (r, "limits.ephemeral-storage") == 0
           || strcmp (r, "requests.ephemeral-storage") == 0)
    kind = "local ephemeral storage";
  else if (kd_str_has_prefix (r, "requests.hugepages-")
           || kd_str_has_prefix (r, "limits.hugepages-"))
    kind = "hugepages";
  if (kind && !IN_LIST (canon, byte_divisors))
    {
      cleanup_free char *detail
          = xasprintf ("only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, "
                       "1Ei are supported with the %s resource",
                       kind);
      kd_v_invalid (errs, div_path, r, detail);
    }
}

static void
validate_env (const kd_container_t *c, const char *base, kd_field_errors_t *errs)
{
  for (size_t i = 0; i < c->n_env; i++)
    {
      const kd_env_var_t *ev = &c->env[i];
      const kd_env_var_source_t *vf = ev->value_from;
      cleanup_free char *name_path = xasprintf ("%s.env[%zu].name", base, i);
      cleanup_free char *vf_path = xasprintf ("%s.env[%zu].valueFrom", base, i);
      int sources = 0;

      if (is_empty (ev->name))
        kd_v_required (errs, name_path, NULL);
      else
        {
          kd_msgs_t m = { 0 };
          kd_msgs_env_name (ev->name, &m);
          kd_v_invalid_msgs (errs, name_path, ev->name, &m);
        }
      if (vf == NULL)
        continue;
      if (vf->field_ref)
        {
          cleanup_free char *p = xasprintf ("%s.fieldRef", vf_path);
          sources++;
          validate_field_ref (vf->field_ref, p, errs);
        }
      if (vf->resource_field_ref)
        {
          cleanup_free char *p = xasprintf ("%s.resourceFieldRef", vf_path);
          sources++;
          validate_resource_field_ref (vf->resource_field_ref, p, errs);
        }
      sources += vf->config_map_key_ref ? 1 : 0;
      sources += vf->secret_key_ref ? 1 : 0;
      if (sources == 0)
        kd_v_invalid (errs, vf_path, "",
                      "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                      "`secretKeyRef`");
      else if (!is_empty (ev->value))
        kd_v_invalid (errs, vf_path, "", "may not be specified when `value` is not empty");
      else if (sources > 1)
        kd_v_invalid (errs, vf_path, "", "may not have more than one field specified at a time");
    }
}

/* ---- volume mounts ---------------------------------------------------------------- */

static bool
volset_has (const kd_volset_t *vols, const char *name)
{
  for (size_t i = 0; i < vols->n; i++)
    if (kd_str_eq (vols->names[i], name))
      return true;
  return false;
}

static bool
is_privileged (const kd_container_t *c)
{
  return c->security_context && c->security_context->privileged.set
         && c->security_context->privileged.v;
}

static void
validate_volume_mounts (const kd_container_t *c, const kd_volset_t *vols, const char *base,
                        kd_field_errors_t *errs)
{
  cleanup_free char *list = xasprintf ("%s.volumeMounts", base);

  for (size_t i = 0; i < c->n_volume_mounts; i++)
    {
      const kd_volume_mount_t *vm = &c->volume_mounts[i];
      cleanup_free char *name_path = xasprintf ("%s[%zu].name", list, i);
      cleanup_free char *mp_path = xasprintf ("%s[%zu].mountPath", list, i);
      const char *mp = vm->mount_path ? vm->mount_path : "";
      bool dup = false;

      if (is_empty (vm->name))
        kd_v_required (errs, name_path, NULL);
      if (!volset_has (vols, vm->name ? vm->name : ""))
        kd_v_not_found (errs, name_path, vm->name);
      if (*mp == '\0')
        kd_v_required (errs, mp_path, NULL);
      for (size_t j = 0; j < i; j++)
        dup |= kd_str_eq (c->volume_mounts[j].mount_path ? c->volume_mounts[j].mount_path : "", mp);
      if (dup)
        kd_v_invalid (errs, mp_path, mp, "must be unique");

      /* Kubernetes reports these on the list path, without the index. */
      if (!is_empty (vm->sub_path))
        {
          cleanup_free char *p = xasprintf ("%s.subPath", list);
          kd_v_local_descending_path (vm->sub_path, p, errs);
        }
      if (!is_empty (vm->sub_path_expr))
        {
          cleanup_free char *p = xasprintf ("%s.subPathExpr", list);
          if (!is_empty (vm->sub_path))
            {
              cleanup_free char *ip = xasprintf ("%s[%zu].subPathExpr", list, i);
              kd_v_invalid (errs, ip, vm->sub_path_expr,
                            "subPathExpr and subPath are mutually exclusive");
            }
          kd_v_local_descending_path (vm->sub_path_expr, p, errs);
        }
      if (vm->mount_propagation)
        {
          cleanup_free char *p = xasprintf ("%s.mountPropagation", list);
          if (!IN_LIST (vm->mount_propagation, mount_propagations))
            NOT_SUPPORTED (errs, p, vm->mount_propagation, mount_propagations);
          if (strcmp (vm->mount_propagation, "Bidirectional") == 0 && !is_privileged (c))
            kd_v_forbidden (errs, p,
                            "Bidirectional mount propagation is available only to privileged "
                            "containers");
        }
    }
}

/* ---- probes and handlers ----------------------------------------------------------- */

static void
validate_port_num_or_name (const kd_intstr_t *port, const char *path, kd_field_errors_t *errs)
{
  if (port->set && port->is_str)
    {
      kd_msgs_t m = { 0 };
      kd_msgs_port_name (port->s ? port->s : "", &m);
      kd_v_invalid_msgs (errs, path, port->s, &m);
    }
  else if (port->i < 1 || port->i > 65535)
    kd_v_invalid_int (errs, path, port->i, "must be between 1 and 65535, inclusive");
}

/* Probes take exec/httpGet/tcpSocket/grpc, lifecycle hooks exec/httpGet/
   tcpSocket/sleep; the other member is ignored as Kubernetes' converters do. */
static void
validate_handler (const kd_handler_t *h, bool probe, const kd_opt_i64_t *grace, const char *base,
                  kd_field_errors_t *errs)
{
  int n = 0;

  if (h->exec)
    {
      cleanup_free char *p = xasprintf ("%s.exec.command", base);
      n++;
      if (h->exec->command.n == 0)
        kd_v_required (errs, p, NULL);
    }
  if (h->http_get)
    {
      cleanup_free char *hp = xasprintf ("%s.httpGet", base);
      if (n++ > 0)
        kd_v_forbidden (errs, hp, "may not specify more than 1 handler type");
      else
        {
          const kd_http_get_action_t *g = h->http_get;
          cleanup_free char *path_p = xasprintf ("%s.path", hp);
          cleanup_free char *port_p = xasprintf ("%s.port", hp);
          cleanup_free char *scheme_p = xasprintf ("%s.scheme", hp);
          cleanup_free char *hdr_p = xasprintf ("%s.httpHeaders", hp);

          if (is_empty (g->path))
            kd_v_required (errs, path_p, NULL);
          validate_port_num_or_name (&g->port, port_p, errs);
          if (!IN_LIST (g->scheme ? g->scheme : "", http_schemes))
            NOT_SUPPORTED (errs, scheme_p, g->scheme, http_schemes);
          for (size_t i = 0; i < g->n_http_headers; i++)
            {
              kd_msgs_t m = { 0 };
              const char *name = g->http_headers[i].name ? g->http_headers[i].name : "";
              kd_msgs_http_header_name (name, &m);
              kd_v_invalid_msgs (errs, hdr_p, name, &m);
            }
        }
    }
  if (h->tcp_socket)
    {
      cleanup_free char *tp = xasprintf ("%s.tcpSocket", base);
      cleanup_free char *port_p = xasprintf ("%s.port", tp);
      if (n++ > 0)
        kd_v_forbidden (errs, tp, "may not specify more than 1 handler type");
      else
        validate_port_num_or_name (&h->tcp_socket->port, port_p, errs);
    }
  if (probe && h->grpc)
    {
      cleanup_free char *gp = xasprintf ("%s.grpc", base);
      cleanup_free char *port_p = xasprintf ("%s.port", gp);
      if (n++ > 0)
        kd_v_forbidden (errs, gp, "may not specify more than 1 handler type");
      else if (h->grpc->port < 1 || h->grpc->port > 65535)
        kd_v_invalid_int (errs, port_p, h->grpc->port, "must be between 1 and 65535, inclusive");
    }
  if (!probe && h->sleep)
    {
      cleanup_free char *sp = xasprintf ("%s.sleep", base);
      if (n++ > 0)
        kd_v_forbidden (errs, sp, "may not specify more than 1 handler type");
      else if (grace->set && (h->sleep->seconds < 0 || h->sleep->seconds > grace->v))
        {
          cleanup_free char *detail
              = xasprintf ("must be non-negative and less than terminationGracePeriodSeconds "
                           "(%" PRId64 ")",
                           grace->v);
          kd_v_invalid_int (errs, sp, h->sleep->seconds, detail);
        }
    }
  if (n == 0)
    kd_v_required (errs, base, "must specify a handler type");
}

typedef enum
{
  PROBE_LIVENESS,
  PROBE_READINESS,
  PROBE_STARTUP,
} probe_kind_t;

static void
validate_probe (const kd_probe_t *p, probe_kind_t kind, const kd_opt_i64_t *grace, const char *base,
                kd_field_errors_t *errs)
{
  static const char *const names[] = { "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                       "successThreshold", "failureThreshold" };
  const int32_t values[] = { p->initial_delay_seconds, p->timeout_seconds, p->period_seconds,
                             p->success_threshold, p->failure_threshold };
  cleanup_free char *tgp = xasprintf ("%s.terminationGracePeriodSeconds", base);
  cleanup_free char *stp = xasprintf ("%s.successThreshold", base);

  validate_handler (&p->handler, true, grace, base, errs);
  for (size_t i = 0; i < KD_ARRAY_SIZE (names); i++)
    if (values[i] < 0)
      {
        cleanup_free char *fp = xasprintf ("%s.%s", base, names[i]);
        kd_v_invalid_int (errs, fp, values[i], "must be greater than or equal to 0");
      }
  if (p->termination_grace_period_seconds.set && p->termination_grace_period_seconds.v <= 0)
    kd_v_invalid_int (errs, tgp, p->termination_grace_period_seconds.v, "must be greater than 0");
  if (kind != PROBE_READINESS && p->success_threshold != 1)
    kd_v_invalid_int (errs, stp, p->success_threshold, "must be 1");
  if (kind == PROBE_READINESS && p->termination_grace_period_seconds.set)
    kd_v_invalid_int (errs, tgp, p->termination_grace_period_seconds.v,
                      "must not be set for readinessProbes");
}

static void
validate_probes_and_lifecycle (const kd_container_t *c, const kd_opt_i64_t *grace, const char *base,
                               kd_field_errors_t *errs)
{
  struct
  {
    const kd_probe_t *p;
    probe_kind_t kind;
    const char *name;
  } probes[] = { { c->liveness_probe, PROBE_LIVENESS, "livenessProbe" },
                 { c->readiness_probe, PROBE_READINESS, "readinessProbe" },
                 { c->startup_probe, PROBE_STARTUP, "startupProbe" } };

  if (c->lifecycle)
    {
      if (c->lifecycle->post_start)
        {
          cleanup_free char *p = xasprintf ("%s.lifecycle.postStart", base);
          validate_handler (c->lifecycle->post_start, false, grace, p, errs);
        }
      if (c->lifecycle->pre_stop)
        {
          cleanup_free char *p = xasprintf ("%s.lifecycle.preStop", base);
          validate_handler (c->lifecycle->pre_stop, false, grace, p, errs);
        }
    }
  for (size_t i = 0; i < KD_ARRAY_SIZE (probes); i++)
    if (probes[i].p)
      {
        cleanup_free char *p = xasprintf ("%s.%s", base, probes[i].name);
        validate_probe (probes[i].p, probes[i].kind, grace, p, errs);
      }
}

/* ---- containers -------------------------------------------------------------------------- */

static void
validate_container_common (const kd_container_t *c, const kd_volset_t *vols, const char *base,
                           kd_field_errors_t *errs)
{
  cleanup_free char *name_p = xasprintf ("%s.name", base);
  cleanup_free char *image_p = xasprintf ("%s.image", base);
  cleanup_free char *tmp_p = xasprintf ("%s.terminationMessagePolicy", base);
  cleanup_free char *pull_p = xasprintf ("%s.imagePullPolicy", base);
  cleanup_free char *res_p = xasprintf ("%s.resources", base);
  cleanup_free char *sc_p = xasprintf ("%s.securityContext", base);

  if (is_empty (c->name))
    kd_v_required (errs, name_p, NULL);
  else
    kd_v_dns1123_label (errs, name_p, c->name);
  if (is_empty (c->image))
    kd_v_required (errs, image_p, NULL);
  if (is_empty (c->termination_message_policy))
    kd_v_required (errs, tmp_p, NULL);
  else if (!IN_LIST (c->termination_message_policy, term_msg_policies))
    NOT_SUPPORTED (errs, tmp_p, c->termination_message_policy, term_msg_policies);
  validate_ports (c, base, errs);
  validate_env (c, base, errs);
  validate_volume_mounts (c, vols, base, errs);
  if (is_empty (c->image_pull_policy))
    kd_v_required (errs, pull_p, NULL);
  else if (!IN_LIST (c->image_pull_policy, pull_policies))
    NOT_SUPPORTED (errs, pull_p, c->image_pull_policy, pull_policies);
  validate_resources (&c->resources, res_p, errs);
  kd_v_security_context (c->security_context, sc_p, errs);
}

void
kd_v_containers (const kd_pod_spec_t *spec, bool init, const kd_volset_t *vols,
                 kd_field_errors_t *errs)
{
  const kd_container_t *cs = init ? spec->init_containers : spec->containers;
  size_t n = init ? spec->n_init_containers : spec->n_containers;
  const char *list = init ? "spec.initContainers" : "spec.containers";
  const kd_opt_i64_t *grace = &spec->termination_grace_period_seconds;

  if (!init && n == 0)
    {
      kd_v_required (errs, list, NULL);
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      const kd_container_t *c = &cs[i];
      cleanup_free char *base = xasprintf ("%s[%zu]", list, i);
      cleanup_free char *name_p = xasprintf ("%s.name", base);
      cleanup_free char *rp_p = xasprintf ("%s.restartPolicy", base);
      const char *name = c->name ? c->name : "";
      bool dup = false;

      validate_container_common (c, vols, base, errs);
      if (init && c->restart_policy && !IN_LIST (c->restart_policy, init_restart_policies))
        NOT_SUPPORTED (errs, rp_p, c->restart_policy, init_restart_policies);

      /* Names are unique across app and init containers; an init container is
         compared with every app container and the init containers before it. */
      for (size_t j = 0; j < i; j++)
        if (kd_str_eq (cs[j].name ? cs[j].name : "", name) && (!init || *name))
          dup = true;
      for (size_t j = 0; init && j < spec->n_containers; j++)
        if (kd_str_eq (spec->containers[j].name ? spec->containers[j].name : "", name))
          dup = true;
      if (dup)
        kd_v_duplicate (errs, name_p, name);

      if (!init)
        {
          validate_probes_and_lifecycle (c, grace, base, errs);
          if (c->restart_policy)
            kd_v_forbidden (errs, rp_p, "may not be set for non-init containers");
          continue;
        }

      /* Init containers run one at a time: host ports only clash within one. */
      check_host_ports (cs, i, i + 1, list, errs);
      if (kd_str_eq (c->restart_policy, "Always"))
        validate_probes_and_lifecycle (c, grace, base, errs);
      else
        {
          static const char *const fields[]
              = { "lifecycle", "livenessProbe", "readinessProbe", "startupProbe" };
          const bool set[] = { c->lifecycle != NULL, c->liveness_probe != NULL,
                               c->readiness_probe != NULL, c->startup_probe != NULL };

          for (size_t k = 0; k < KD_ARRAY_SIZE (fields); k++)
            if (set[k])
              {
                cleanup_free char *p = xasprintf ("%s.%s", base, fields[k]);
                kd_v_forbidden (errs, p,
                                "may not be set for init containers without restartPolicy=Always");
              }
        }
    }
  if (!init)
    check_host_ports (cs, 0, n, list, errs);
}

/* The image must not carry surrounding whitespace (validateContainersOnlyForPod). */
void
kd_v_containers_image_space (const kd_pod_spec_t *spec, bool init, kd_field_errors_t *errs)
{
  const kd_container_t *cs = init ? spec->init_containers : spec->containers;
  size_t n = init ? spec->n_init_containers : spec->n_containers;

  for (size_t i = 0; i < n; i++)
    {
      const char *img = cs[i].image;
      size_t len = img ? strlen (img) : 0;

      if (len > 0 && (isspace ((unsigned char) img[0]) || isspace ((unsigned char) img[len - 1])))
        {
          cleanup_free char *p
              = xasprintf ("%s[%zu].image", init ? "spec.initContainers" : "spec.containers", i);
          kd_v_invalid (errs, p, img, "must not have leading or trailing whitespace");
        }
    }
}

void
kd_v_containers_static (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  for (int init = 0; init <= 1; init++)
    {
      const kd_container_t *cs = init ? spec->init_containers : spec->containers;
      size_t n = init ? spec->n_init_containers : spec->n_containers;
      const char *list = init ? "spec.initContainers" : "spec.containers";

      for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < cs[i].n_env; e++)
          {
            const kd_env_var_source_t *vf = cs[i].env[e].value_from;

            if (vf && vf->secret_key_ref)
              {
                cleanup_free char *p
                    = xasprintf ("%s[%zu].env[%zu].valueFrom.secretKeyRef", list, i, e);
                kd_v_forbidden (errs, p, "not supported for static pods");
              }
            if (vf && vf->config_map_key_ref)
              {
                cleanup_free char *p
                    = xasprintf ("%s[%zu].env[%zu].valueFrom.configMapKeyRef", list, i, e);
                kd_v_forbidden (errs, p, "not supported for static pods");
              }
          }
    }
}
