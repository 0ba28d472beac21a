/* The container spec as JSON in the bundle directory: kubeletd writes it,
 * the shim reads it (possibly long after kubeletd is gone), so every field
 * round-trips. */
#include <jansson.h>
#include <limits.h>

#include "runtime-internal.h"

static void
free_strv (char **v, size_t n)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

void
kd_ctr_spec_free (kd_ctr_spec_t *spec)
{
  if (spec == NULL)
    return;
  free (spec->id);
  free (spec->name);
  free (spec->pod_uid);
  free_strv (spec->argv, spec->argc);
  free_strv (spec->env, spec->n_env);
  free (spec->cwd);
  free (spec->groups);
  free_strv (spec->lowerdirs, spec->n_lowerdirs);
  free (spec->upperdir);
  free (spec->workdir);
  free (spec->rootfs);
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      free (spec->mounts[i].source);
      free (spec->mounts[i].destination);
      free (spec->mounts[i].type);
      free (spec->mounts[i].data);
    }
  free (spec->mounts);
  free (spec->seccomp_profile);
  free_strv (spec->sysctls, spec->n_sysctls);
  free_strv (spec->cgroup_procs, spec->n_cgroup_procs);
  free (spec->log_path);
  free (spec->termination_log);
  free (spec->memory_oom_control);
  memset (spec, 0, sizeof (*spec));
}

/* ---- save ------------------------------------------------------------ */

static void
set_str (json_t *o, const char *k, const char *v)
{
  if (v != NULL)
    json_object_set_new (o, k, json_string (v));
}

static void
set_strv (json_t *o, const char *k, char *const *v, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  json_object_set_new (o, k, a);
}

/* Capability sets are written as hex strings: JSON numbers lose bits above
   2^53 in many readers. */
static void
set_u64 (json_t *o, const char *k, uint64_t v)
{
  char buf[32];
  snprintf (buf, sizeof (buf), "0x%016llx", (unsigned long long) v);
  json_object_set_new (o, k, json_string (buf));
}

static json_t *
spec_to_json (const kd_ctr_spec_t *s)
{
  json_t *o = json_object ();
  json_t *groups = json_array ();
  json_t *mounts = json_array ();

  set_str (o, "id", s->id);
  set_str (o, "name", s->name);
  set_str (o, "podUID", s->pod_uid);
  set_strv (o, "args", s->argv, s->argc);
  set_strv (o, "env", s->env, s->n_env);
  set_str (o, "cwd", s->cwd);
  json_object_set_new (o, "uid", json_integer (s->uid));
  json_object_set_new (o, "gid", json_integer (s->gid));
  for (size_t i = 0; i < s->n_groups; i++)
    json_array_append_new (groups, json_integer (s->groups[i]));
  json_object_set_new (o, "groups", groups);
  json_object_set_new (o, "tty", json_boolean (s->tty));
  json_object_set_new (o, "oomScoreAdj", json_integer (s->oom_score_adj));
  set_strv (o, "lowerdirs", s->lowerdirs, s->n_lowerdirs);
  set_str (o, "upperdir", s->upperdir);
  set_str (o, "workdir", s->workdir);
  set_str (o, "rootfs", s->rootfs);
  json_object_set_new (o, "readonlyRootfs", json_boolean (s->readonly_rootfs));
  for (size_t i = 0; i < s->n_mounts; i++)
    {
      const kd_mount_t *m = &s->mounts[i];
      json_t *j = json_object ();
      set_str (j, "source", m->source);
      set_str (j, "destination", m->destination);
      set_str (j, "type", m->type);
      set_str (j, "data", m->data);
      json_object_set_new (j, "readonly", json_boolean (m->readonly));
      json_object_set_new (j, "recursive", json_boolean (m->recursive));
      json_array_append_new (mounts, j);
    }
  json_object_set_new (o, "mounts", mounts);
  json_object_set_new (o, "hostPID", json_boolean (s->host_pid));
  set_u64 (o, "capBounding", s->cap_bounding);
  set_u64 (o, "capEffective", s->cap_effective);
  set_u64 (o, "capPermitted", s->cap_permitted);
  set_u64 (o, "capInheritable", s->cap_inheritable);
  set_u64 (o, "capAmbient", s->cap_ambient);
  json_object_set_new (o, "noNewPrivileges", json_boolean (s->no_new_privs));
  json_object_set_new (o, "privileged", json_boolean (s->privileged));
  json_object_set_new (o, "seccomp", json_integer (s->seccomp));
  set_str (o, "seccompProfile", s->seccomp_profile);
  set_strv (o, "sysctls", s->sysctls, s->n_sysctls);
  set_strv (o, "cgroupProcs", s->cgroup_procs, s->n_cgroup_procs);
  set_str (o, "logPath", s->log_path);
  json_object_set_new (o, "logMaxSize", json_integer (s->log_max_size));
  json_object_set_new (o, "logMaxFiles", json_integer (s->log_max_files));
  json_object_set_new (o, "stopSignal", json_integer (s->stop_signal));
  set_str (o, "terminationLog", s->termination_log);
  set_str (o, "memoryOOMControl", s->memory_oom_control);
  return o;
}

int
kd_ctr_spec_save (const kd_ctr_spec_t *spec, const char *bundle_dir, kd_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle_dir);
  cleanup_free char *text = NULL;
  json_t *o = spec_to_json (spec);

  text = json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (o);
  if (text == NULL)
    abort ();
  return kd_write_file_atomic (path, text, strlen (text), 0600, err);
}

/* ---- load ------------------------------------------------------------ */

static int
get_str (json_t *o, const char *k, char **out, kd_error_t *err)
{
  json_t *v = json_object_get (o, k);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return kd_make_error (err, 0, "field `%s`: expected a string", k);
  *out = xstrdup (json_string_value (v));
  return 0;
}

static int
get_strv (json_t *o, const char *k, char ***out, size_t *n, kd_error_t *err)
{
  json_t *a = json_object_get (o, k);
  size_t i;
  json_t *v;

  *n = 0;
  if (a == NULL || json_is_null (a))
    return 0;
  if (!json_is_array (a))
    return kd_make_error (err, 0, "field `%s`: expected an array", k);
  *out = xcalloc (json_array_size (a) + 1, sizeof (char *));
  json_array_foreach (a, i, v)
  {
    if (!json_is_string (v))
      return kd_make_error (err, 0, "field `%s[%zu]`: expected a string", k, i);
    (*out)[(*n)++] = xstrdup (json_string_value (v));
  }
  return 0;
}

static int
get_int (json_t *o, const char *k, int64_t min, int64_t max, int64_t *out, kd_error_t *err)
{
  json_t *v = json_object_get (o, k);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > max)
    return kd_make_error (err, 0, "field `%s`: expected an integer in [%lld, %lld]", k,
                          (long long) min, (long long) max);
  *out = json_integer_value (v);
  return 0;
}

static int
get_bool (json_t *o, const char *k, bool *out, kd_error_t *err)
{
  json_t *v = json_object_get (o, k);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_boolean (v))
    return kd_make_error (err, 0, "field `%s`: expected a boolean", k);
  *out = json_is_true (v);
  return 0;
}

static int
get_u64 (json_t *o, const char *k, uint64_t *out, kd_error_t *err)
{
  json_t *v = json_object_get (o, k);
  const char *s;
  char *end;

  if (v == NULL || json_is_null (v))
    return 0;
  s = json_string_value (v);
  if (s == NULL)
    return kd_make_error (err, 0, "field `%s`: expected a hex string", k);
  errno = 0;
  *out = strtoull (s, &end, 16);
  if (errno != 0 || end == s || *end != '\0')
    return kd_make_error (err, 0, "field `%s`: bad value `%s`", k, s);
  return 0;
}

static int
spec_from_json (json_t *o, kd_ctr_spec_t *s, kd_error_t *err)
{
  json_t *a, *v;
  size_t i;
  int64_t n;

  if (!json_is_object (o))
    return kd_make_error (err, 0, "expected an object");
  if (get_str (o, "id", &s->id, err) < 0 || get_str (o, "name", &s->name, err) < 0
      || get_str (o, "podUID", &s->pod_uid, err) < 0
      || get_strv (o, "args", &s->argv, &s->argc, err) < 0
      || get_strv (o, "env", &s->env, &s->n_env, err) < 0 || get_str (o, "cwd", &s->cwd, err) < 0)
    return -1;
  n = 0;
  if (get_int (o, "uid", 0, UINT32_MAX, &n, err) < 0)
    return -1;
  s->uid = (uint32_t) n;
  n = 0;
  if (get_int (o, "gid", 0, UINT32_MAX, &n, err) < 0)
    return -1;
  s->gid = (uint32_t) n;
  a = json_object_get (o, "groups");
  if (json_is_array (a))
    {
      s->groups = xcalloc (json_array_size (a) + 1, sizeof (uint32_t));
      json_array_foreach (a, i, v)
      {
        if (!json_is_integer (v) || json_integer_value (v) < 0
            || json_integer_value (v) > UINT32_MAX)
          return kd_make_error (err, 0, "field `groups[%zu]`: expected a gid", i);
        s->groups[s->n_groups++] = (uint32_t) json_integer_value (v);
      }
    }
  if (get_bool (o, "tty", &s->tty, err) < 0)
    return -1;
  n = 0;
  if (get_int (o, "oomScoreAdj", -1000, 1000, &n, err) < 0)
    return -1;
  s->oom_score_adj = (int) n;
  if (get_strv (o, "lowerdirs", &s->lowerdirs, &s->n_lowerdirs, err) < 0
      || get_str (o, "upperdir", &s->upperdir, err) < 0
      || get_str (o, "workdir", &s->workdir, err) < 0 || get_str (o, "rootfs", &s->rootfs, err) < 0
      || get_bool (o, "readonlyRootfs", &s->readonly_rootfs, err) < 0)
    return -1;
  a = json_object_get (o, "mounts");
  if (json_is_array (a))
    {
      s->mounts = xcalloc (json_array_size (a) + 1, sizeof (kd_mount_t));
      json_array_foreach (a, i, v)
      {
        kd_mount_t *m = &s->mounts[s->n_mounts++];
        if (get_str (v, "source", &m->source, err) < 0
            || get_str (v, "destination", &m->destination, err) < 0
            || get_str (v, "type", &m->type, err) < 0 || get_str (v, "data", &m->data, err) < 0
            || get_bool (v, "readonly", &m->readonly, err) < 0
            || get_bool (v, "recursive", &m->recursive, err) < 0)
          return kd_error_wrap (err, "mounts[%zu]", i);
      }
    }
  if (get_bool (o, "hostPID", &s->host_pid, err) < 0
      || get_u64 (o, "capBounding", &s->cap_bounding, err) < 0
      || get_u64 (o, "capEffective", &s->cap_effective, err) < 0
      || get_u64 (o, "capPermitted", &s->cap_permitted, err) < 0
      || get_u64 (o, "capInheritable", &s->cap_inheritable, err) < 0
      || get_u64 (o, "capAmbient", &s->cap_ambient, err) < 0
      || get_bool (o, "noNewPrivileges", &s->no_new_privs, err) < 0
      || get_bool (o, "privileged", &s->privileged, err) < 0)
    return -1;
  n = 0;
  if (get_int (o, "seccomp", KD_SECCOMP_UNCONFINED, KD_SECCOMP_LOCALHOST, &n, err) < 0)
    return -1;
  s->seccomp = (kd_seccomp_mode_t) n;
  if (get_str (o, "seccompProfile", &s->seccomp_profile, err) < 0
      || get_strv (o, "sysctls", &s->sysctls, &s->n_sysctls, err) < 0
      || get_strv (o, "cgroupProcs", &s->cgroup_procs, &s->n_cgroup_procs, err) < 0
      || get_str (o, "logPath", &s->log_path, err) < 0
      || get_int (o, "logMaxSize", 0, INT64_MAX, &s->log_max_size, err) < 0)
    return -1;
  n = 0;
  if (get_int (o, "logMaxFiles", 0, INT_MAX, &n, err) < 0)
    return -1;
  s->log_max_files = (int) n;
  n = 0;
  if (get_int (o, "stopSignal", 0, 64, &n, err) < 0)
    return -1;
  s->stop_signal = (int) n;
  if (get_str (o, "terminationLog", &s->termination_log, err) < 0
      || get_str (o, "memoryOOMControl", &s->memory_oom_control, err) < 0)
    return -1;
  if (s->argc == 0)
    return kd_make_error (err, 0, "field `args`: empty");
  return 0;
}

int
kd_ctr_spec_load (const char *bundle_dir, kd_ctr_spec_t *spec, kd_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle_dir);
  cleanup_free char *text = NULL;
  json_error_t jerr;
  json_t *o;
  size_t len;
  int r;

  memset (spec, 0, sizeof (*spec));
  if (kd_read_file (path, 16 << 20, &text, &len, err) < 0)
    return -1;
  o = json_loadb (text, len, 0, &jerr);
  if (o == NULL)
    return kd_make_error (err, 0, "parse `%s`: line %d: %s", path, jerr.line, jerr.text);
  r = spec_from_json (o, spec, err);
  json_decref (o);
  if (r < 0)
    {
      kd_ctr_spec_free (spec);
      return kd_error_wrap (err, "load `%s`", path);
    }
  return 0;
}
