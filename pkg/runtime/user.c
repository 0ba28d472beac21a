/* The user and the end of the process setup, shared by spawn and exec.
 * Nothing is resolved here: uid, gid and groups come numeric in the spec
 * (kubeletd reads the image's /etc/passwd). */
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

int
kd_rt_user_switch (const kd_ctr_spec_t *spec, kd_error_t *err)
{
  gid_t *groups = NULL;

  /* Keep the permitted set across setresuid away from 0; the final sets are
     written by kd_rt_caps_set afterwards. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return kd_make_error (err, errno, "user: prctl `PR_SET_KEEPCAPS`");
  if (spec->n_groups > 0)
    {
      groups = xcalloc (spec->n_groups, sizeof (gid_t));
      for (size_t i = 0; i < spec->n_groups; i++)
        groups[i] = spec->groups[i];
    }
  if (setgroups (spec->n_groups, groups) < 0)
    {
      free (groups);
      return kd_make_error (err, errno, "user: setgroups `%zu groups`", spec->n_groups);
    }
  free (groups);
  if (setresgid (spec->gid, spec->gid, spec->gid) < 0)
    return kd_make_error (err, errno, "user: setresgid `%u`", spec->gid);
  if (setresuid (spec->uid, spec->uid, spec->uid) < 0)
    return kd_make_error (err, errno, "user: setresuid `%u`", spec->uid);
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return kd_make_error (err, errno, "user: prctl `PR_SET_KEEPCAPS`");
  return 0;
}

static const char *
env_get (char *const env[], const char *key)
{
  size_t n = strlen (key);
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (strncmp (env[i], key, n) == 0 && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

/* argv[0] against the container's PATH, as execvp would, but with the
   PATH of the container's environment rather than ours. */
static int
lookup_path (const char *file, char *const env[], char **out, kd_error_t *err)
{
  const char *path = env_get (env, "PATH");
  int first_errno = ENOENT;

  if (file[0] == '\0')
    return kd_make_error (err, ENOENT, "exec `%s`", file);
  if (strchr (file, '/') != NULL)
    {
      *out = xstrdup (file);
      return 0;
    }
  if (path == NULL)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (*path != '\0')
    {
      const char *end = strchrnul (path, ':');
      cleanup_free char *cand = NULL;
      struct stat st;

      cand = xasprintf ("%.*s%s%s", (int) (end - path), path, end == path ? "" : "/", file);
      if (stat (cand, &st) == 0 && S_ISREG (st.st_mode))
        {
          if (access (cand, X_OK) == 0)
            {
              *out = steal_pointer (&cand);
              return 0;
            }
          first_errno = EACCES;
        }
      path = *end == ':' ? end + 1 : end;
    }
  return kd_make_error (err, first_errno, "exec `%s`", file);
}

int
kd_rt_finalize (const kd_ctr_spec_t *spec, scmp_filter_ctx seccomp, char *const argv[],
                char *const env[], char **path, kd_error_t *err)
{
  const char *cwd = spec->cwd != NULL ? spec->cwd : "/";

  /* 1. The bounding set, while CAP_SETPCAP is still ours. */
  if (kd_rt_caps_drop_bounding (spec->cap_bounding, err) < 0)
    return -1;
  /* 2. The user; the permitted set survives (KEEPCAPS). */
  if (kd_rt_user_switch (spec, err) < 0)
    return -1;
  /* 3. chdir as the user, so that a directory the user cannot enter fails
     here with the real reason. */
  if (chdir (cwd) < 0)
    return kd_make_error (err, errno, "chdir `%s`", cwd);
  /* 4. PATH lookup while stat and access are still ours to call. */
  if (lookup_path (argv[0], env, path, err) < 0)
    return -1;
  if (spec->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return kd_make_error (err, errno, "no_new_privs: prctl `PR_SET_NO_NEW_PRIVS`");
  /* 5. seccomp. With no_new_privs the filter is the very last step before
     execve (after it, mount and friends are refused). Without it, loading
     a filter needs CAP_SYS_ADMIN, so it comes before the final capset,
     which the profiles allow (capset, prctl). */
  if (seccomp != NULL && !spec->no_new_privs)
    {
      struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
      struct __user_cap_data_struct data[2];
      if (syscall (SYS_capget, &hdr, data) == 0)
        {
          data[0].effective = data[0].permitted;
          data[1].effective = data[1].permitted;
          if (syscall (SYS_capset, &hdr, data) < 0)
            return kd_make_error (err, errno, "seccomp: capset");
        }
      if (kd_rt_seccomp_load (seccomp, false, err) < 0)
        return -1;
    }
  /* 6. The final sets. */
  if (kd_rt_caps_set (spec, err) < 0)
    return -1;
  if (seccomp != NULL && spec->no_new_privs && kd_rt_seccomp_load (seccomp, true, err) < 0)
    return -1;
  return 0;
}
