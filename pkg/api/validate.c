/* validate: Kubernetes' ValidatePodCreate for the fields of kd_pod_t, plus
 * the rules for pods read from a manifest file (static pods).
 *
 * The pod must already be defaulted (kd_pod_set_defaults) and, for a static
 * pod, carry its final name "<name>-<node>" and namespace: Kubernetes too
 * validates the object after defaulting and name generation.
 *
 * The checks run in the order ValidatePodCreate runs them, so the error list
 * reads like the API server's: metadata, volumes, containers, init
 * containers, then the rest of the spec. Static-pod refusals come last.
 */
#include <inttypes.h>

#include "validate-internal.h"

static const char *const restart_policies[] = { "Always", "OnFailure", "Never" };
static const char *const dns_policies[]
    = { "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None" };
static const char *const preemption_policies[] = { "PreemptLowerPriority", "Never" };
static const char *const seccomp_types[] = { "Localhost", "RuntimeDefault", "Unconfined" };
static const char *const proc_mounts[] = { "Default", "Unmasked" };
static const char *const fs_group_change_policies[] = { "Always", "OnRootMismatch" };
static const char *const toleration_operators[] = { "Equal", "Exists" };
static const char *const taint_effects[] = { "NoSchedule", "PreferNoSchedule", "NoExecute" };
/* supportedHostPathTypes, sorted as sets.List prints it ("" is HostPathUnset). */
static const char *const host_path_types[]
    = { "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
        "File", "FileOrCreate", "Socket" };
/* kubeletd backs emptyDir with a directory or a tmpfs only. */
static const char *const empty_dir_media[] = { "", "Memory" };

/* Volume source keys in the order validateVolumeSource looks at them; the
   second name is the path Kubernetes uses when refusing a second source
   (two carry historical spellings). */
static const struct
{
  const char *key;
  const char *refuse;
} volume_sources[] = {
  { "emptyDir", "emptyDir" },
  { "hostPath", "hostPath" },
  { "gitRepo", "gitRepo" },
  { "gcePersistentDisk", "gcePersistentDisk" },
  { "awsElasticBlockStore", "awsElasticBlockStore" },
  { "secret", "secret" },
  { "nfs", "nfs" },
  { "iscsi", "iscsi" },
  { "glusterfs", "glusterfs" },
  { "flocker", "flocker" },
  { "persistentVolumeClaim", "persistentVolumeClaim" },
  { "rbd", "rbd" },
  { "cinder", "cinder" },
  { "cephfs", "cephFS" },
  { "quobyte", "quobyte" },
  { "downwardAPI", "downwarAPI" },
  { "fc", "fc" },
  { "flexVolume", "flexVolume" },
  { "configMap", "configMap" },
  { "azureFile", "azureFile" },
  { "vsphereVolume", "vsphereVolume" },
  { "photonPersistentDisk", "photonPersistentDisk" },
  { "portworxVolume", "portworxVolume" },
  { "azureDisk", "azureDisk" },
  { "storageos", "storageos" },
  { "projected", "projected" },
  { "scaleIO", "scaleIO" },
  { "csi", "csi" },
  { "ephemeral", "ephemeral" },
  { "image", "image" },
};

/* ---- metadata ------------------------------------------------------------- */

static void
validate_metadata (const kd_pod_t *pod, kd_field_errors_t *errs)
{
  const kd_object_meta_t *m = &pod->metadata;

  if (is_empty (m->name))
    kd_v_required (errs, "metadata.name", "name or generateName is required");
  else
    kd_v_dns1123_subdomain (errs, "metadata.name", m->name);
  if (is_empty (m->namespace_))
    kd_v_required (errs, "metadata.namespace", NULL);
  else
    kd_v_dns1123_label (errs, "metadata.namespace", m->namespace_);
  if (m->generation.set && m->generation.v < 0)
    kd_v_invalid_int (errs, "metadata.generation", m->generation.v,
                      "must be greater than or equal to 0");
  kd_v_labels (errs, "metadata.labels", &m->labels);
  kd_v_annotations (errs, "metadata.annotations", &m->annotations);

  /* ValidatePodSpecificAnnotations: a mirror pod names its node. */
  for (size_t i = 0; i < m->annotations.n; i++)
    if (kd_str_eq (m->annotations.v[i].key, "kubernetes.io/config.mirror")
        && is_empty (pod->spec.node_name))
      kd_v_invalid (errs, "metadata.annotations[kubernetes.io/config.mirror]",
                    m->annotations.v[i].value,
                    "must set spec.nodeName if mirror pod annotation is set");
}

/* ---- volumes ------------------------------------------------------------------ */

static bool
volume_has_source (const kd_volume_t *v, const char *key)
{
  if (strcmp (key, "emptyDir") == 0)
    return v->empty_dir != NULL;
  if (strcmp (key, "hostPath") == 0)
    return v->host_path != NULL;
  if (strcmp (key, "secret") == 0)
    return v->secret;
  if (strcmp (key, "configMap") == 0)
    return v->config_map;
  if (strcmp (key, "persistentVolumeClaim") == 0)
    return v->persistent_volume_claim;
  if (strcmp (key, "projected") == 0)
    return v->projected;
  return v->other_source && kd_str_eq (v->other_source_name, key);
}

static void
validate_host_path (const kd_host_path_t *hp, const char *base, kd_field_errors_t *errs)
{
  cleanup_free char *path_p = xasprintf ("%s.path", base);
  cleanup_free char *type_p = xasprintf ("%s.type", base);

  if (is_empty (hp->path))
    {
      kd_v_required (errs, path_p, NULL);
      return;
    }
  kd_v_no_backsteps (hp->path, path_p, errs);
  if ((hp->type_set || hp->type) && !IN_LIST (hp->type ? hp->type : "", host_path_types))
    NOT_SUPPORTED (errs, type_p, hp->type, host_path_types);
}

static void
validate_empty_dir (const kd_empty_dir_t *ed, const char *base, kd_field_errors_t *errs)
{
  cleanup_free char *size_p = xasprintf ("%s.sizeLimit", base);
  cleanup_free char *medium_p = xasprintf ("%s.medium", base);
  kd_quantity_t q;

  if (ed->size_limit)
    {
      if (kd_quantity_parse (ed->size_limit, &q) < 0)
        kd_v_invalid (errs, size_p, ed->size_limit, kd_quantity_regex_msg);
      else if (q.milli < 0)
        kd_v_forbidden (errs, size_p, "SizeLimit field must be a valid resource quantity");
    }
  if (!IN_LIST (ed->medium ? ed->medium : "", empty_dir_media))
    NOT_SUPPORTED (errs, medium_p, ed->medium, empty_dir_media);
}

/* ValidateVolumes. Fills vols with the names of the volumes that validated
   cleanly: only those may be mounted (as in Kubernetes). */
static void
validate_volumes (const kd_pod_spec_t *spec, kd_volset_t *vols, kd_field_errors_t *errs)
{
  vols->names = xcalloc (spec->n_volumes + 1, sizeof (char *));
  vols->n = 0;
  for (size_t i = 0; i < spec->n_volumes; i++)
    {
      const kd_volume_t *v = &spec->volumes[i];
      cleanup_free char *base = xasprintf ("spec.volumes[%zu]", i);
      cleanup_free char *name_p = xasprintf ("%s.name", base);
      size_t before = kd_fe_count_errors (errs);
      int sources = 0;
      bool dup = false;

      for (size_t k = 0; k < KD_ARRAY_SIZE (volume_sources); k++)
        {
          cleanup_free char *sp = NULL;

          if (!volume_has_source (v, volume_sources[k].key))
            continue;
          if (sources++ > 0)
            {
              sp = xasprintf ("%s.%s", base, volume_sources[k].refuse);
              kd_v_forbidden (errs, sp, "may not specify more than 1 volume type");
              continue;
            }
          sp = xasprintf ("%s.%s", base, volume_sources[k].key);
          if (v->host_path && strcmp (volume_sources[k].key, "hostPath") == 0)
            validate_host_path (v->host_path, sp, errs);
        }
      /* emptyDir is checked whatever else is set (it comes first anyway). */
      if (v->empty_dir)
        {
          cleanup_free char *ep = xasprintf ("%s.emptyDir", base);
          validate_empty_dir (v->empty_dir, ep, errs);
        }
      if (sources == 0 && v->other_source)
        sources++; /* a source kubeletd does not know by name: refused below */
      if (sources == 0)
        kd_v_required (errs, base, "must specify a volume type");

      if (is_empty (v->name))
        kd_v_required (errs, name_p, NULL);
      else
        kd_v_dns1123_label (errs, name_p, v->name);
      for (size_t j = 0; j < vols->n; j++)
        dup |= kd_str_eq (vols->names[j], v->name ? v->name : "");
      if (dup)
        kd_v_duplicate (errs, name_p, v->name);
      if (kd_fe_count_errors (errs) == before)
        vols->names[vols->n++] = v->name ? v->name : "";
    }
}

/* ---- security contexts ----------------------------------------------------------------- */

/* validateSeccompProfileField; shared with the pod security context. */
void
kd_v_seccomp_profile (const kd_seccomp_profile_t *sp, const char *base, kd_field_errors_t *errs)
{
  cleanup_free char *tp = NULL;
  cleanup_free char *lp = NULL;

  if (sp == NULL)
    return;
  tp = xasprintf ("%s.type", base);
  lp = xasprintf ("%s.localhostProfile", base);
  if (is_empty (sp->type))
    kd_v_required (errs, tp, "type is required when seccompProfile is set");
  else if (!IN_LIST (sp->type, seccomp_types))
    NOT_SUPPORTED (errs, tp, sp->type, seccomp_types);
  if (kd_str_eq (sp->type, "Localhost"))
    {
      if (sp->localhost_profile == NULL)
        kd_v_required (errs, lp, "must be set when seccomp type is Localhost");
      else
        kd_v_local_descending_path (sp->localhost_profile, lp, errs);
    }
  else if (sp->localhost_profile)
    /* Go prints the whole struct (with pointer addresses); no value is shown. */
    kd_v_invalid_raw (errs, lp, NULL, "can only be set when seccomp type is Localhost");
}

void
kd_v_security_context (const kd_security_context_t *sc, const char *base, kd_field_errors_t *errs)
{
  if (sc == NULL)
    return;
  if (sc->run_as_user.set && (sc->run_as_user.v < 0 || sc->run_as_user.v > 0xffffffffLL))
    {
      cleanup_free char *p = xasprintf ("%s.runAsUser", base);
      kd_v_invalid_int (errs, p, sc->run_as_user.v, "must be between 0 and 4294967295, inclusive");
    }
  if (sc->run_as_group.set && (sc->run_as_group.v < 0 || sc->run_as_group.v > 0xffffffffLL))
    {
      cleanup_free char *p = xasprintf ("%s.runAsGroup", base);
      kd_v_invalid_int (errs, p, sc->run_as_group.v, "must be between 0 and 4294967295, inclusive");
    }
  if (sc->proc_mount)
    {
      cleanup_free char *p = xasprintf ("%s.procMount", base);
      if (!IN_LIST (sc->proc_mount, proc_mounts))
        NOT_SUPPORTED (errs, p, sc->proc_mount, proc_mounts);
      /* Pods here always share the host user namespace (hostUsers true). */
      if (strcmp (sc->proc_mount, "Unmasked") == 0)
        kd_v_invalid (errs, p, sc->proc_mount, "`hostUsers` must be false to use `Unmasked`");
    }
  if (sc->seccomp_profile)
    {
      cleanup_free char *p = xasprintf ("%s.seccompProfile", base);
      kd_v_seccomp_profile (sc->seccomp_profile, p, errs);
    }
  if (sc->allow_privilege_escalation.set && !sc->allow_privilege_escalation.v)
    {
      /* Go renders the whole SecurityContext struct here; no value is shown. */
      if (sc->privileged.set && sc->privileged.v)
        kd_v_invalid_raw (
            errs, base, NULL,
            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
      if (sc->capabilities)
        for (size_t i = 0; i < sc->capabilities->add.n; i++)
          if (kd_str_eq (sc->capabilities->add.v[i], "CAP_SYS_ADMIN"))
            kd_v_invalid_raw (errs, base, NULL,
                              "cannot set `allowPrivilegeEscalation` to false and "
                              "`capabilities.Add` CAP_SYS_ADMIN");
    }
}

/* ---- pod security context, DNS, tolerations, host aliases ----------------------------- */

/* utilsysctl.GetNamespace: which namespaced sysctls follow the pod's
   network or IPC namespace. Returns "net", "ipc" or NULL. */
static const char *
sysctl_namespace (const char *name)
{
  cleanup_free char *n = xstrdup (name);
  size_t first = strcspn (n, "./");

  /* A name whose first separator is '/' uses '/' for '.' (kernel/shmmax). */
  if (n[first] == '/')
    for (char *p = n; *p; p++)
      *p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
  if (kd_str_has_prefix (n, "net."))
    return "net";
  if (strcmp (n, "kernel.sem") == 0 || kd_str_has_prefix (n, "kernel.shm")
      || kd_str_has_prefix (n, "kernel.msg") || kd_str_has_prefix (n, "fs.mqueue."))
    return "ipc";
  return NULL;
}

static void
validate_id (const kd_opt_i64_t *id, const char *path, kd_field_errors_t *errs)
{
  if (id->set && (id->v < 0 || id->v > 0xffffffffLL))
    kd_v_invalid_int (errs, path, id->v, "must be between 0 and 4294967295, inclusive");
}

static void
validate_pod_security_context (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  const kd_pod_security_context_t *sc = spec->security_context;

  kd_pod_security_context_t empty = { 0 };

  if (sc == NULL)
    sc = &empty;
  validate_id (&sc->fs_group, "spec.securityContext.fsGroup", errs);
  validate_id (&sc->run_as_user, "spec.securityContext.runAsUser", errs);
  validate_id (&sc->run_as_group, "spec.securityContext.runAsGroup", errs);
  for (size_t i = 0; i < sc->supplemental_groups.n; i++)
    {
      kd_opt_i64_t g = { true, sc->supplemental_groups.v[i] };
      cleanup_free char *p = xasprintf ("spec.securityContext.supplementalGroups[%zu]", i);
      validate_id (&g, p, errs);
    }
  /* Kubernetes keeps hostPID and shareProcessNamespace in its internal
     security context, hence the path. */
  if (spec->share_process_namespace.set && spec->share_process_namespace.v && spec->host_pid)
    kd_v_invalid_raw (errs, "spec.securityContext.shareProcessNamespace", "true",
                      "ShareProcessNamespace and HostPID cannot both be enabled");
  for (size_t i = 0; i < sc->n_sysctls; i++)
    {
      const char *name = sc->sysctls[i].name ? sc->sysctls[i].name : "";
      cleanup_free char *p = xasprintf ("spec.securityContext.sysctls[%zu].name", i);
      const char *ns = sysctl_namespace (name);
      bool dup = false;

      for (size_t j = 0; j < i; j++)
        dup |= kd_str_eq (sc->sysctls[j].name ? sc->sysctls[j].name : "", name);
      if (*name == '\0')
        kd_v_required (errs, p, NULL);
      else if (!kd_is_valid_sysctl_name (name))
        {
          cleanup_free char *d
              = xasprintf ("must have at most 253 characters and match regex %s", kd_sysctl_regex);
          kd_v_invalid (errs, p, name, d);
        }
      else if (dup)
        kd_v_duplicate (errs, p, name);
      if (spec->host_network && kd_str_eq (ns, "net"))
        kd_v_invalid (errs, p, name, "may not be specified when 'hostNetwork' is true");
      else if (spec->host_ipc && kd_str_eq (ns, "ipc"))
        kd_v_invalid (errs, p, name, "may not be specified when 'hostIPC' is true");
    }
  if (sc->fs_group_change_policy && !IN_LIST (sc->fs_group_change_policy, fs_group_change_policies))
    NOT_SUPPORTED (errs, "spec.securityContext.fsGroupChangePolicy", sc->fs_group_change_policy,
                   fs_group_change_policies);
  kd_v_seccomp_profile (sc->seccomp_profile, "spec.securityContext.seccompProfile", errs);
}

static void
validate_dns_config (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  const kd_dns_config_t *dc = spec->dns_config;
  size_t total = 0;

  if (kd_str_eq (spec->dns_policy, "None"))
    {
      if (dc == NULL)
        {
          kd_v_required (errs, "spec.dnsConfig",
                         "must provide `dnsConfig` when `dnsPolicy` is None");
          return;
        }
      if (dc->nameservers.n == 0)
        {
          kd_v_required (errs, "spec.dnsConfig.nameservers",
                         "must provide at least one DNS nameserver when `dnsPolicy` is None");
          return;
        }
    }
  if (dc == NULL)
    return;
  if (dc->nameservers.n > 3)
    {
      cleanup_free char *r = kd_v_render_strv (&dc->nameservers);
      kd_v_invalid_raw (errs, "spec.dnsConfig.nameservers", r,
                        "must not have more than 3 nameservers");
    }
  for (size_t i = 0; i < dc->nameservers.n; i++)
    {
      cleanup_free char *p = xasprintf ("spec.dnsConfig.nameservers[%zu]", i);
      kd_v_ip (errs, p, dc->nameservers.v[i]);
    }
  if (dc->searches.n > 32)
    {
      cleanup_free char *r = kd_v_render_strv (&dc->searches);
      kd_v_invalid_raw (errs, "spec.dnsConfig.searches", r,
                        "must not have more than 32 search paths");
    }
  for (size_t i = 0; i < dc->searches.n; i++)
    total += (i > 0 ? 1 : 0) + (dc->searches.v[i] ? strlen (dc->searches.v[i]) : 0);
  if (total > 2048)
    {
      cleanup_free char *r = kd_v_render_strv (&dc->searches);
      kd_v_invalid_raw (errs, "spec.dnsConfig.searches", r,
                        "must not have more than 2048 characters (including spaces) in the search "
                        "list");
    }
  for (size_t i = 0; i < dc->searches.n; i++)
    {
      const char *s = dc->searches.v[i] ? dc->searches.v[i] : "";
      cleanup_free char *p = xasprintf ("spec.dnsConfig.searches[%zu]", i);
      cleanup_free char *t = xstrdup (s);
      kd_msgs_t m = { 0 };

      /* RelaxedDNSSearchValidation: "." alone is allowed, a trailing dot is
         dropped, and '_' may start a label. */
      if (strcmp (s, ".") == 0)
        continue;
      if (kd_str_has_suffix (t, "."))
        t[strlen (t) - 1] = '\0';
      kd_msgs_dns1123_subdomain_us (t, &m);
      kd_v_invalid_msgs (errs, p, t, &m);
    }
  for (size_t i = 0; i < dc->n_options; i++)
    if (is_empty (dc->options[i].name))
      {
        cleanup_free char *p = xasprintf ("spec.dnsConfig.options[%zu]", i);
        kd_v_required (errs, p, "must not be empty");
      }
}

static void
validate_tolerations (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  for (size_t i = 0; i < spec->n_tolerations; i++)
    {
      const kd_toleration_t *t = &spec->tolerations[i];
      const char *op = t->operator_ ? t->operator_ : "";
      const char *effect = t->effect ? t->effect : "";
      cleanup_free char *key_p = xasprintf ("spec.tolerations[%zu].key", i);
      cleanup_free char *op_p = xasprintf ("spec.tolerations[%zu].operator", i);
      cleanup_free char *eff_p = xasprintf ("spec.tolerations[%zu].effect", i);

      if (!is_empty (t->key))
        kd_v_qualified_name (errs, key_p, t->key);
      if (is_empty (t->key) && strcmp (op, "Exists") != 0)
        kd_v_invalid (errs, op_p, op,
                      "operator must be Exists when `key` is empty, which means \"match all "
                      "values and all keys\"");
      if (t->toleration_seconds.set && strcmp (effect, "NoExecute") != 0)
        kd_v_invalid (errs, eff_p, effect,
                      "effect must be 'NoExecute' when `tolerationSeconds` is set");
      if (*op == '\0' || strcmp (op, "Equal") == 0)
        {
          kd_msgs_t m = { 0 };
          kd_buf_t b = { 0 };
          cleanup_free char *joined = NULL;

          kd_msgs_label_value (t->value ? t->value : "", &m);
          for (size_t k = 0; k < m.n; k++)
            {
              if (k > 0)
                kd_buf_putc (&b, ';');
              kd_buf_puts (&b, m.v[k]);
            }
          if (m.n > 0)
            {
              joined = kd_buf_steal (&b);
              kd_v_invalid (errs, op_p, t->value, joined);
            }
          kd_buf_free (&b);
          kd_msgs_free (&m);
        }
      else if (strcmp (op, "Exists") == 0)
        {
          if (!is_empty (t->value))
            kd_v_invalid (errs, op_p, t->value, "value must be empty when `operator` is 'Exists'");
        }
      else
        NOT_SUPPORTED (errs, op_p, op, toleration_operators);
      if (*effect && !IN_LIST (effect, taint_effects))
        NOT_SUPPORTED (errs, eff_p, effect, taint_effects);
    }
}

static void
validate_host_aliases (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  for (size_t i = 0; i < spec->n_host_aliases; i++)
    {
      const kd_host_alias_t *ha = &spec->host_aliases[i];
      cleanup_free char *ip_p = xasprintf ("spec.hostAliases[%zu].ip", i);

      kd_v_ip (errs, ip_p, ha->ip);
      for (size_t j = 0; j < ha->hostnames.n; j++)
        {
          cleanup_free char *p = xasprintf ("spec.hostAliases[%zu].hostnames[%zu]", i, j);
          kd_v_dns1123_subdomain (errs, p, ha->hostnames.v[j]);
        }
    }
}

/* ---- the spec ------------------------------------------------------------------------ */

static void
validate_enum (const char *value, const char *path, const char *const *list, size_t n,
               kd_field_errors_t *errs)
{
  if (is_empty (value))
    kd_v_required (errs, path, NULL);
  else if (!kd_v_in_list (value, list, n))
    kd_v_not_supported (errs, path, value, list, n);
}

static void
validate_spec (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  kd_volset_t vols = { 0 };

  if (!spec->termination_grace_period_seconds.set)
    kd_v_required (errs, "spec.terminationGracePeriodSeconds", NULL);

  validate_volumes (spec, &vols, errs);
  kd_v_containers (spec, false, &vols, errs);
  kd_v_containers (spec, true, &vols, errs);
  free (vols.names);

  /* validatePodHostNetworkDeps: in a pod, hostPort must equal containerPort. */
  for (size_t i = 0; spec->host_network && i < spec->n_containers; i++)
    for (size_t j = 0; j < spec->containers[i].n_ports; j++)
      {
        const kd_container_port_t *p = &spec->containers[i].ports[j];

        if (p->host_port != p->container_port)
          {
            cleanup_free char *path = xasprintf ("spec.containers[%zu].ports[%zu].hostPort", i, j);
            kd_v_invalid_int (errs, path, p->host_port,
                              "must match `containerPort` when `hostNetwork` is true");
          }
      }

  validate_enum (spec->restart_policy, "spec.restartPolicy", restart_policies,
                 KD_ARRAY_SIZE (restart_policies), errs);
  validate_enum (spec->dns_policy, "spec.dnsPolicy", dns_policies, KD_ARRAY_SIZE (dns_policies),
                 errs);
  kd_v_labels (errs, "spec.nodeSelector", &spec->node_selector);
  validate_pod_security_context (spec, errs);
  validate_dns_config (spec, errs);
  if (!is_empty (spec->service_account_name))
    kd_v_dns1123_subdomain (errs, "spec.serviceAccountName", spec->service_account_name);
  if (!is_empty (spec->node_name))
    kd_v_dns1123_subdomain (errs, "spec.nodeName", spec->node_name);
  if (spec->active_deadline_seconds.set
      && (spec->active_deadline_seconds.v < 1 || spec->active_deadline_seconds.v > INT32_MAX))
    kd_v_invalid_int (errs, "spec.activeDeadlineSeconds", spec->active_deadline_seconds.v,
                      "must be between 1 and 2147483647, inclusive");
  if (!is_empty (spec->hostname))
    kd_v_dns1123_label (errs, "spec.hostname", spec->hostname);
  if (!is_empty (spec->subdomain))
    kd_v_dns1123_label (errs, "spec.subdomain", spec->subdomain);
  validate_tolerations (spec, errs);
  validate_host_aliases (spec, errs);
  if (!is_empty (spec->priority_class_name))
    kd_v_dns1123_subdomain (errs, "spec.priorityClassName", spec->priority_class_name);
  if (spec->preemption_policy)
    validate_enum (spec->preemption_policy, "spec.preemptionPolicy", preemption_policies,
                   KD_ARRAY_SIZE (preemption_policies), errs);
}

/* What a pod from a manifest file may not use: it has no API server behind it
   to read secrets, config maps, claims or service account tokens from. */
static void
validate_static (const kd_pod_spec_t *spec, kd_field_errors_t *errs)
{
  for (size_t i = 0; i < spec->n_volumes; i++)
    {
      const kd_volume_t *v = &spec->volumes[i];
      const struct
      {
        bool set;
        const char *key;
      } refused[] = { { v->secret, "secret" },
                      { v->persistent_volume_claim, "persistentVolumeClaim" },
                      { v->config_map, "configMap" },
                      { v->projected, "projected" } };

      for (size_t k = 0; k < KD_ARRAY_SIZE (refused); k++)
        if (refused[k].set)
          {
            cleanup_free char *p = xasprintf ("spec.volumes[%zu].%s", i, refused[k].key);
            kd_v_forbidden (errs, p, "not supported for static pods");
          }
      if (v->other_source)
        {
          cleanup_free char *p = xasprintf (
              "spec.volumes[%zu].%s", i, v->other_source_name ? v->other_source_name : "unknown");
          kd_v_forbidden (errs, p, "not supported by kubeletd");
        }
    }
  kd_v_containers_static (spec, errs);
  if (!is_empty (spec->service_account_name))
    kd_v_forbidden (errs, "spec.serviceAccountName", "not supported for static pods");
}

void
kd_pod_validate (const kd_pod_t *pod, kd_field_errors_t *errs)
{
  const kd_pod_spec_t *spec = &pod->spec;

  validate_metadata (pod, errs);
  validate_spec (spec, errs);
  kd_v_containers_image_space (spec, false, errs);
  kd_v_containers_image_space (spec, true, errs);
  validate_static (spec, errs);

  /* Not an error in Kubernetes: the API server warns and uses 1. */
  if (spec->termination_grace_period_seconds.set && spec->termination_grace_period_seconds.v < 0)
    kd_fe_add (errs, KD_FE_WARNING, "spec.terminationGracePeriodSeconds", NULL,
               "spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid "
               "and will be treated as 1");
}
