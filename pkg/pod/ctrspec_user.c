/* The user a container runs as, the way the kubelet and containerd decide.

   1. kubelet: runAsUser/runAsGroup/runAsNonRoot from the container's
      securityContext over the pod's. Without runAsUser the image's User
      decides: its part before ':' is a uid when numeric, else a user name;
      an empty User is uid 0. (The group part of the image's User is dropped
      here: containerd's image status reports only the user, and the kubelet
      passes that on as runAsUser/runAsUsername.)
   2. kubelet verifyRunAsNonRoot, before anything is created
      (CreateContainerConfigError).
   3. containerd WithUser("<user>[:<runAsGroup>]"): a numeric uid takes its
      primary gid from the image's /etc/passwd (0 when not listed); a name
      must be listed there; a group name must be in /etc/group.
   4. containerd WithAdditionalGIDs: the primary gid, then every group of
      /etc/group that lists the user's name as a member; then the kubelet's
      supplemental groups: fsGroup, then supplementalGroups.
   The image's files are read from the top-most lower layer that has them
   (the rootfs when there are no layers). */
#include <sys/stat.h>

#include "pod-internal.h"

static char *
image_file (const kd_ctrspec_input_t *in, const char *rel)
{
  struct stat st;
  for (size_t i = 0; i < in->n_lowerdirs; i++)
    {
      char *p = xasprintf ("%s/%s", in->lowerdirs[i], rel);
      if (lstat (p, &st) == 0)
        return p;
      free (p);
    }
  if (in->n_lowerdirs == 0 && in->rootfs)
    return xasprintf ("%s/%s", in->rootfs, rel);
  return NULL;
}

typedef struct
{
  char *name;
  long long id;
  long long gid; /* passwd */
  char *members; /* group: comma-separated */
} db_entry_t;

/* Reads a passwd (is_group false) or group file: name:x:id:gid|members:... */
static size_t
read_db (const kd_ctrspec_input_t *in, bool is_group, db_entry_t **out)
{
  cleanup_free char *path = image_file (in, is_group ? "etc/group" : "etc/passwd");
  cleanup_free char *data = NULL;
  size_t len = 0, n = 0;
  db_entry_t *v = NULL;
  kd_error_t err = NULL;

  *out = NULL;
  if (path == NULL || kd_read_file (path, 4 << 20, &data, &len, &err) < 0)
    {
      kd_error_release (&err);
      return 0;
    }
  for (char *line = data, *next; line && *line; line = next)
    {
      char *f[7] = { 0 };
      int nf = 0;
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (*line == '#' || *line == '\0')
        continue;
      for (char *p = line; nf < 7; nf++)
        {
          f[nf] = p;
          p = strchr (p, ':');
          if (p == NULL)
            {
              nf++;
              break;
            }
          *p++ = '\0';
        }
      if (nf < 3 || *f[2] == '\0')
        continue;
      char *end;
      long long id = strtoll (f[2], &end, 10);
      if (*end)
        continue;
      v = xrealloc (v, (n + 1) * sizeof (*v));
      v[n].name = xstrdup (f[0]);
      v[n].id = id;
      v[n].gid = (!is_group && nf > 3) ? strtoll (f[3], NULL, 10) : 0;
      v[n].members = xstrdup (is_group && nf > 3 ? f[3] : "");
      n++;
    }
  *out = v;
  return n;
}

static void
db_free (db_entry_t *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].name);
      free (v[i].members);
    }
  free (v);
}

static bool
parse_id (const char *s, long long *id)
{
  char *end;
  if (s == NULL || *s == '\0')
    return false;
  *id = strtoll (s, &end, 10);
  return *end == '\0' && *id >= 0;
}

static void
add_group (uint32_t **g, size_t *n, uint32_t id)
{
  *g = xrealloc (*g, (*n + 1) * sizeof (**g));
  (*g)[(*n)++] = id;
}

static bool
is_member (const char *members, const char *name)
{
  size_t len = strlen (name);
  for (const char *p = members; p && *p;)
    {
      const char *comma = strchr (p, ',');
      size_t l = comma ? (size_t) (comma - p) : strlen (p);
      if (l == len && strncmp (p, name, len) == 0)
        return true;
      p = comma ? comma + 1 : NULL;
    }
  return false;
}

int
kd_ctrspec_user (const kd_ctrspec_input_t *in, uint32_t *uid, uint32_t *gid, uint32_t **groups,
                 size_t *n_groups, const char **reason, kd_error_t *err)
{
  const kd_security_context_t *csc = in->ctr->security_context;
  const kd_pod_security_context_t *psc = in->pod->spec.security_context;
  kd_opt_i64_t run_uid = { 0 }, run_gid = { 0 };
  kd_opt_bool_t non_root = { 0 };
  cleanup_free char *username = NULL;
  long long image_uid = 0;
  bool have_image_uid = true;
  db_entry_t *pw = NULL, *gr = NULL;
  size_t n_pw = 0, n_gr = 0;
  int ret = -1;

  if (psc)
    {
      run_uid = psc->run_as_user;
      run_gid = psc->run_as_group;
      non_root = psc->run_as_non_root;
    }
  if (csc && csc->run_as_user.set)
    run_uid = csc->run_as_user;
  if (csc && csc->run_as_group.set)
    run_gid = csc->run_as_group;
  if (csc && csc->run_as_non_root.set)
    non_root = csc->run_as_non_root;

  /* 1. the image's user (getImageUser) */
  const char *iu = in->image && in->image->user ? in->image->user : "";
  if (*iu)
    {
      const char *colon = strchr (iu, ':');
      cleanup_free char *u = colon ? xstrndup (iu, colon - iu) : xstrdup (iu);
      if (!parse_id (u, &image_uid))
        {
          have_image_uid = false;
          username = steal_pointer (&u);
        }
    }

  /* 2. verifyRunAsNonRoot */
  if (non_root.set && non_root.v)
    {
      cleanup_free char *p = kd_pod_format (in->pod);
      *reason = KD_REASON_CREATE_CONFIG_ERROR;
      if (run_uid.set && run_uid.v == 0)
        return kd_make_error (err, 0,
                              "container's runAsUser breaks non-root policy (pod: \"%s\", "
                              "container: %s)",
                              p, in->ctr->name);
      if (!run_uid.set && have_image_uid && image_uid == 0)
        return kd_make_error (err, 0,
                              "container has runAsNonRoot and image will run as root (pod: "
                              "\"%s\", container: %s)",
                              p, in->ctr->name);
      if (!run_uid.set && !have_image_uid)
        return kd_make_error (err, 0,
                              "container has runAsNonRoot and image has non-numeric user (%s), "
                              "cannot verify user is non-root (pod: \"%s\", container: %s)",
                              username, p, in->ctr->name);
    }
  if (run_uid.set)
    {
      free (username);
      username = NULL;
    }

  /* 3. WithUser */
  *reason = KD_REASON_CREATE_ERROR;
  n_pw = read_db (in, false, &pw);
  const char *pw_name = NULL;
  if (username)
    {
      for (size_t i = 0; i < n_pw && !pw_name; i++)
        if (strcmp (pw[i].name, username) == 0)
          {
            *uid = (uint32_t) pw[i].id;
            *gid = (uint32_t) pw[i].gid;
            pw_name = pw[i].name;
          }
      if (pw_name == NULL)
        {
          kd_make_error (err, 0, "unable to find user %s: no matching entries in passwd file",
                         username);
          goto out;
        }
    }
  else
    {
      long long u = run_uid.set ? run_uid.v : image_uid;
      *uid = (uint32_t) u;
      *gid = 0;
      for (size_t i = 0; i < n_pw && !pw_name; i++)
        if (pw[i].id == u)
          {
            *gid = (uint32_t) pw[i].gid;
            pw_name = pw[i].name;
          }
    }
  if (run_gid.set)
    *gid = (uint32_t) run_gid.v;

  /* 4. groups */
  *groups = NULL;
  *n_groups = 0;
  add_group (groups, n_groups, *gid);
  n_gr = read_db (in, true, &gr);
  for (size_t i = 0; pw_name && i < n_gr; i++)
    if (strcmp (gr[i].name, pw_name) != 0 && is_member (gr[i].members, pw_name))
      add_group (groups, n_groups, (uint32_t) gr[i].id);
  if (psc && psc->fs_group.set)
    add_group (groups, n_groups, (uint32_t) psc->fs_group.v);
  for (size_t i = 0; psc && i < psc->supplemental_groups.n; i++)
    add_group (groups, n_groups, (uint32_t) psc->supplemental_groups.v[i]);
  ret = 0;
out:
  db_free (pw, n_pw);
  db_free (gr, n_gr);
  return ret;
}
