/* kd_ctrspec_build: the container spec the shim runs, from the pod.

   What the kubelet computes (generateContainerConfig) and what containerd
   adds when it turns the CRI request into an OCI spec, in one place:
     1. env and $(VAR) expansion of command and args (ctrspec_env.c), argv
        by Kubernetes' entrypoint rule (kd_image_container_argv);
     2. user and groups (ctrspec_user.c);
     3. capabilities: Docker's 14, or all when privileged; "ALL" in add
        grants every one and "ALL" in drop clears them before the single
        names are added and dropped (containerd's WithCapabilities);
     4. no_new_privs exactly when allowPrivilegeEscalation is false;
     5. seccomp: the container's profile over the pod's, else RuntimeDefault
        with --seccomp-default, else Unconfined; never for privileged;
        Localhost names a file under <root-dir>/seccomp that must exist;
     6. mounts: containerd's own (/etc/hostname, /etc/resolv.conf,
        /dev/shm, each unless the kubelet mounts that path) then the
        kubelet's (volume mounts in order, /etc/hosts, the termination
        log), stable-sorted by the number of path elements so a parent
        never hides a child;
     7. working dir, tty, sysctls, stop signal, oom_score_adj, cgroups,
        logs and the overlay. */
#include <ctype.h>
#include <signal.h>
#include <sys/stat.h>

#include "kubeletd/cgroup.h"
#include "pod-internal.h"

static char **
strv_dup (char *const *v, size_t n)
{
  char **r = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup (v[i]);
  return r;
}

static void
strv_free (char **v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    free (v[i]);
  free (v);
}

static char **
expand_all (char *const *v, size_t n, const kd_strv_t *kenv)
{
  char **r = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    r[i] = kd_expand_vars (v[i], kenv->v, kenv->n);
  return r;
}

/* ---- capabilities ------------------------------------------------------ */

static bool
has_all (const kd_strv_t *v)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcasecmp (v->v[i], "ALL") == 0)
      return true;
  return false;
}

static int
cap_bits (const kd_strv_t *v, uint64_t *bits, kd_error_t *err)
{
  *bits = 0;
  for (size_t i = 0; i < v->n; i++)
    {
      int cap;
      if (strcasecmp (v->v[i], "ALL") == 0)
        continue;
      if (kd_caps_from_name (v->v[i], &cap) < 0)
        return kd_make_error (err, 0, "unknown capability \"CAP_%s\"", v->v[i]);
      *bits |= 1ULL << cap;
    }
  return 0;
}

static int
capabilities (const kd_ctrspec_input_t *in, bool privileged, uint64_t *caps, kd_error_t *err)
{
  const kd_security_context_t *sc = in->ctr->security_context;
  uint64_t add = 0, drop = 0;

  if (privileged)
    {
      *caps = kd_caps_all ();
      return 0;
    }
  *caps = kd_caps_default ();
  if (sc == NULL || sc->capabilities == NULL)
    return 0;
  if (has_all (&sc->capabilities->add))
    *caps = kd_caps_all ();
  if (has_all (&sc->capabilities->drop))
    *caps = 0;
  if (cap_bits (&sc->capabilities->add, &add, err) < 0
      || cap_bits (&sc->capabilities->drop, &drop, err) < 0)
    return -1;
  *caps = (*caps | add) & ~drop;
  return 0;
}

/* ---- seccomp --------------------------------------------------------------- */

static int
seccomp (const kd_ctrspec_input_t *in, bool privileged, kd_ctr_spec_t *out, kd_error_t *err)
{
  const kd_seccomp_profile_t *p = NULL;
  struct stat st;

  if (in->ctr->security_context && in->ctr->security_context->seccomp_profile)
    p = in->ctr->security_context->seccomp_profile;
  else if (in->pod->spec.security_context && in->pod->spec.security_context->seccomp_profile)
    p = in->pod->spec.security_context->seccomp_profile;

  out->seccomp = KD_SECCOMP_UNCONFINED;
  if (privileged)
    return 0;
  if (p == NULL || p->type == NULL)
    {
      if (in->seccomp_default)
        out->seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
      return 0;
    }
  if (strcmp (p->type, "RuntimeDefault") == 0)
    out->seccomp = KD_SECCOMP_RUNTIME_DEFAULT;
  else if (strcmp (p->type, "Localhost") == 0)
    {
      char *path = xasprintf ("%s/%s", in->seccomp_dir ? in->seccomp_dir : "",
                              p->localhost_profile ? p->localhost_profile : "");
      if (stat (path, &st) < 0)
        {
          /* Go spells errno texts in lower case */
          cleanup_free char *why = xstrdup (strerror (errno));
          why[0] = (char) tolower ((unsigned char) why[0]);
          kd_make_error (err, 0,
                         "failed to generate seccomp spec opts: cannot load seccomp profile "
                         "\"%s\": open %s: %s",
                         path, path, why);
          free (path);
          return -1;
        }
      out->seccomp = KD_SECCOMP_LOCALHOST;
      out->seccomp_profile = path;
    }
  return 0;
}

/* ---- mounts ---------------------------------------------------------------- */

static void
add_mount (kd_ctr_spec_t *s, const char *src, const char *dst, bool ro)
{
  kd_mount_t *m;
  s->mounts = xrealloc (s->mounts, (s->n_mounts + 1) * sizeof (*m));
  m = &s->mounts[s->n_mounts++];
  memset (m, 0, sizeof (*m));
  m->source = xstrdup (src);
  m->destination = xstrdup (dst);
  m->type = xstrdup ("bind");
  m->readonly = ro;
  m->recursive = true;
}

static size_t
path_parts (const char *p)
{
  size_t n = 1;
  for (const char *c = p; *c; c++)
    if (*c == '/' && c[1] != '/' && c[1] != '\0')
      n++;
  return n;
}

static bool
ctr_mounts_path (const kd_container_t *c, const char *path)
{
  for (size_t i = 0; i < c->n_volume_mounts; i++)
    if (kd_str_eq (c->volume_mounts[i].mount_path, path))
      return true;
  return false;
}

static bool
has_backstep (const char *p)
{
  for (const char *s = p; s && *s;)
    {
      const char *slash = strchr (s, '/');
      size_t l = slash ? (size_t) (slash - s) : strlen (s);
      if (l == 2 && s[0] == '.' && s[1] == '.')
        return true;
      s = slash ? slash + 1 : NULL;
    }
  return false;
}

static int
mounts (const kd_ctrspec_input_t *in, const kd_strv_t *kenv, bool ro_root, kd_ctr_spec_t *s,
        kd_error_t *err)
{
  const kd_container_t *c = in->ctr;
  bool hosts = in->hosts_file && (in->n_pod_ips > 0 || in->pod->spec.host_network);

  /* containerd's */
  if (in->hostname_file && !ctr_mounts_path (c, "/etc/hostname"))
    add_mount (s, in->hostname_file, "/etc/hostname", ro_root);
  if (in->resolv_file && !ctr_mounts_path (c, "/etc/resolv.conf"))
    add_mount (s, in->resolv_file, "/etc/resolv.conf", ro_root);
  if (in->shm_dir && !ctr_mounts_path (c, "/dev/shm"))
    add_mount (s, in->shm_dir, "/dev/shm", false);

  /* the kubelet's (makeMounts) */
  for (size_t i = 0; i < c->n_volume_mounts; i++)
    {
      const kd_volume_mount_t *vm = &c->volume_mounts[i];
      const kd_volume_path_t *vol = NULL;
      cleanup_free char *sub = NULL;
      cleanup_free char *src = NULL;

      if (kd_str_eq (vm->mount_path, "/etc/hosts"))
        hosts = false;
      for (size_t j = 0; j < in->n_volumes; j++)
        if (kd_str_eq (in->volumes[j].name, vm->name))
          vol = &in->volumes[j];
      if (vol == NULL)
        return kd_make_error (err, 0, "cannot find volume \"%s\" to mount into container \"%s\"",
                              vm->name ? vm->name : "", c->name);
      if (vm->sub_path_expr && *vm->sub_path_expr)
        sub = kd_expand_vars (vm->sub_path_expr, kenv->v, kenv->n);
      else if (vm->sub_path && *vm->sub_path)
        sub = xstrdup (vm->sub_path);
      if (sub && *sub == '/')
        return kd_make_error (err, 0, "error SubPath `%s` must not be an absolute path", sub);
      if (sub && has_backstep (sub))
        return kd_make_error (err, 0, "unable to provision SubPath `%s`: must not contain '..'",
                              sub);
      src = sub && *sub ? xasprintf ("%s/%s", vol->host_path, sub) : xstrdup (vol->host_path);
      add_mount (s, src, vm->mount_path, vm->read_only);
    }
  if (hosts)
    add_mount (s, in->hosts_file, "/etc/hosts", false);
  if (in->termination_log && c->termination_message_path && *c->termination_message_path)
    add_mount (s, in->termination_log, c->termination_message_path, false);

  /* containerd: sort.Stable by the number of path elements */
  for (size_t i = 1; i < s->n_mounts; i++)
    {
      kd_mount_t m = s->mounts[i];
      size_t parts = path_parts (m.destination), j = i;
      while (j > 0 && path_parts (s->mounts[j - 1].destination) > parts)
        {
          s->mounts[j] = s->mounts[j - 1];
          j--;
        }
      s->mounts[j] = m;
    }
  return 0;
}

/* ---- signals ------------------------------------------------------------- */

static const struct
{
  const char *name;
  int sig;
} signals[] = {
  { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT }, { "ILL", SIGILL },
  { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "BUS", SIGBUS },   { "FPE", SIGFPE },
  { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
  { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT },
  { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
  { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },   { "XCPU", SIGXCPU },
  { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
  { "IO", SIGIO },     { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

/* "SIGTERM", "TERM", "15", "SIGRTMIN+3"; 0 when unknown. */
static int
parse_signal (const char *s)
{
  long long n;
  char *end;
  if (s == NULL || *s == '\0')
    return 0;
  n = strtoll (s, &end, 10);
  if (*end == '\0')
    return n > 0 && n < NSIG ? (int) n : 0;
  if (strncasecmp (s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < KD_ARRAY_SIZE (signals); i++)
    if (strcasecmp (s, signals[i].name) == 0)
      return signals[i].sig;
  if (strncasecmp (s, "RTMIN", 5) == 0)
    {
      long off = s[5] == '+' ? strtol (s + 6, NULL, 10) : 0;
      return SIGRTMIN + off <= SIGRTMAX ? SIGRTMIN + (int) off : 0;
    }
  return 0;
}

/* ---- the whole ------------------------------------------------------------ */

static int64_t
memory_request (const kd_container_t *c)
{
  kd_quantity_t q;
  for (size_t i = 0; i < c->resources.requests.n; i++)
    if (kd_str_eq (c->resources.requests.v[i].key, "memory")
        && kd_quantity_parse (c->resources.requests.v[i].value, &q) == 0)
      return q.value;
  return 0;
}

int
kd_ctrspec_build (const kd_ctrspec_input_t *in, kd_ctr_spec_t *out, const char **reason,
                  kd_error_t *err)
{
  const kd_container_t *c = in->ctr;
  const kd_security_context_t *sc = c->security_context;
  kd_strv_t kenv = { 0 }, env = { 0 };
  bool privileged = sc && sc->privileged.set && sc->privileged.v;
  char **cmd = NULL, **args = NULL;
  uint64_t caps;
  int ret = -1;

  memset (out, 0, sizeof (*out));
  *reason = KD_REASON_CREATE_CONFIG_ERROR;

  /* 1. env, argv */
  if (kd_ctrspec_kubelet_env (in, &kenv, err) < 0)
    goto fail;
  cmd = expand_all (c->command.v, c->command.n, &kenv);
  args = expand_all (c->args.v, c->args.n, &kenv);
  if (in->image)
    out->argv = kd_image_container_argv (in->image, cmd, c->command.n, args, c->args.n);
  else
    {
      kd_image_config_t empty = { 0 };
      out->argv = kd_image_container_argv (&empty, cmd, c->command.n, args, c->args.n);
    }
  while (out->argv && out->argv[out->argc])
    out->argc++;
  if (out->argc == 0)
    {
      *reason = KD_REASON_CREATE_ERROR;
      kd_make_error (err, 0, "failed to generate container spec: no command specified");
      goto fail;
    }
  kd_ctrspec_process_env (in, &kenv, &env);
  out->env = steal_pointer (&env.v);
  out->n_env = env.n;

  /* 2. user (verifyRunAsNonRoot first: a config error) */
  if (kd_ctrspec_user (in, &out->uid, &out->gid, &out->groups, &out->n_groups, reason, err) < 0)
    goto fail;

  /* 3-5. security */
  *reason = KD_REASON_CREATE_ERROR;
  if (capabilities (in, privileged, &caps, err) < 0)
    goto fail;
  out->cap_bounding = out->cap_effective = out->cap_permitted = caps;
  out->privileged = privileged;
  out->no_new_privs = sc && sc->allow_privilege_escalation.set && !sc->allow_privilege_escalation.v;
  if (seccomp (in, privileged, out, err) < 0)
    goto fail;
  out->readonly_rootfs = sc && sc->read_only_root_filesystem.set && sc->read_only_root_filesystem.v;

  /* 6. mounts */
  *reason = KD_REASON_CREATE_CONFIG_ERROR;
  if (mounts (in, &kenv, out->readonly_rootfs, out, err) < 0)
    goto fail;

  /* 7. the rest */
  out->id = xstrdup (in->id ? in->id : "");
  out->name = xstrdup (c->name ? c->name : "");
  out->pod_uid = xstrdup (in->pod->metadata.uid ? in->pod->metadata.uid : "");
  if (c->working_dir && *c->working_dir)
    out->cwd = xstrdup (c->working_dir);
  else if (in->image && in->image->working_dir && *in->image->working_dir)
    out->cwd = xstrdup (in->image->working_dir);
  out->tty = c->tty;
  out->host_pid = in->pod->spec.host_pid;
  out->lowerdirs = strv_dup (in->lowerdirs, in->n_lowerdirs);
  out->n_lowerdirs = in->n_lowerdirs;
  out->upperdir = in->upperdir ? xstrdup (in->upperdir) : NULL;
  out->workdir = in->workdir ? xstrdup (in->workdir) : NULL;
  out->rootfs = in->rootfs ? xstrdup (in->rootfs) : NULL;
  const kd_pod_security_context_t *psc = in->pod->spec.security_context;
  if (psc && psc->n_sysctls)
    {
      out->sysctls = xcalloc (psc->n_sysctls + 1, sizeof (char *));
      for (size_t i = 0; i < psc->n_sysctls; i++)
        out->sysctls[i] = xasprintf ("%s=%s", psc->sysctls[i].name ? psc->sysctls[i].name : "",
                                     psc->sysctls[i].value ? psc->sysctls[i].value : "");
      out->n_sysctls = psc->n_sysctls;
    }
  out->cgroup_procs = strv_dup (in->cgroup_procs, in->n_cgroup_procs);
  out->n_cgroup_procs = in->n_cgroup_procs;
  out->memory_oom_control = in->oom_file ? xstrdup (in->oom_file) : NULL;
  out->log_path = in->log_path ? xstrdup (in->log_path) : NULL;
  out->log_max_size = in->log_max_size;
  out->log_max_files = in->log_max_files;
  out->termination_log = in->termination_log ? xstrdup (in->termination_log) : NULL;
  out->stop_signal = 0;
  if (c->lifecycle && c->lifecycle->stop_signal)
    out->stop_signal = parse_signal (c->lifecycle->stop_signal);
  if (out->stop_signal == 0 && in->image)
    out->stop_signal = parse_signal (in->image->stop_signal);
  if (out->stop_signal == 0)
    out->stop_signal = SIGTERM;
  out->oom_score_adj
      = kd_oom_score_adj (kd_pod_qos_class (in->pod), memory_request (c), in->node_memory);
  ret = 0;
  *reason = NULL;
  goto done;

fail:
  kd_ctr_spec_free (out);
  memset (out, 0, sizeof (*out));
done:
  strv_free (kenv.v, kenv.n);
  strv_free (env.v, env.n);
  strv_free (cmd, c->command.n);
  strv_free (args, c->args.n);
  return ret;
}
