/* cgroup layout detection: v1, v2 or hybrid, and where each controller is.
 *
 * The mount table is the truth: a cgroup2 mount at the root means v2; v1
 * hierarchies mounted below the root mean v1, and with a cgroup2 mount
 * beside them (systemd's <root>/unified) hybrid. On hybrid the v1
 * controllers carry every limit; the cgroup2 mount holds no controller we
 * use, so it only tracks processes (each cgroup is also made there, which
 * gives destroy an atomic cgroup.kill). When root is not a mount point (a
 * test tree), the directories themselves are inspected. */
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup-internal.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static char *
strip_slashes (const char *root)
{
  char *r = xstrdup (root);
  size_t n = strlen (r);

  while (n > 1 && r[n - 1] == '/')
    r[--n] = '\0';
  return r;
}

static bool
path_at_or_below (const char *path, const char *root)
{
  size_t n = strlen (root);

  if (strcmp (root, "/") == 0)
    return path[0] == '/';
  return strncmp (path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
unescape_octal (char *s)
{
  char *w = s;

  for (char *r = s; *r; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
}

static bool
has_token (const char *list, const char *token)
{
  size_t n = strlen (token);

  for (const char *p = list; p && *p;)
    {
      const char *end = strchr (p, ',');
      size_t len = end ? (size_t) (end - p) : strlen (p);
      if (len == n && strncmp (p, token, n) == 0)
        return true;
      p = end ? end + 1 : NULL;
    }
  return false;
}

static void
set_once (char **slot, const char *value)
{
  if (*slot == NULL)
    *slot = xstrdup (value);
}

/* Reads <dir>/cgroup.controllers into the v2 flags. */
static void
read_v2_controllers (kd_cgroup_layout_t *l)
{
  cleanup_free char *text = NULL;
  kd_error_t err = NULL;

  if (kd_cgroup_read (l->unified, "cgroup.controllers", &text, &err) < 0)
    {
      kd_error_release (&err);
      return;
    }
  for (char *save = NULL, *tok = strtok_r (text, " \n", &save); tok;
       tok = strtok_r (NULL, " \n", &save))
    {
      if (strcmp (tok, "cpu") == 0)
        l->v2_cpu = true;
      else if (strcmp (tok, "memory") == 0)
        l->v2_memory = true;
      else if (strcmp (tok, "pids") == 0)
        l->v2_pids = true;
    }
}

static bool
has_v1_controller (const kd_cgroup_layout_t *l)
{
  return l->cpu || l->cpuacct || l->memory || l->pids;
}

static bool
is_cgroup_fs (const char *dir)
{
  struct statfs sfs;

  if (statfs (dir, &sfs) < 0)
    return false;
  return sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Fills mode from what was found; fails when nothing usable is there. */
static int
finish_layout (kd_cgroup_layout_t *l, char *v2_root, char *unified, kd_error_t *err)
{
  if (v2_root)
    {
      /* A cgroup2 mount at the root wins: v1 mounts below it are leftovers. */
      free (l->cpu);
      free (l->cpuacct);
      free (l->memory);
      free (l->pids);
      l->cpu = l->cpuacct = l->memory = l->pids = NULL;
      free (unified);
      l->mode = KD_CGROUP_V2;
      l->unified = v2_root;
      read_v2_controllers (l);
      l->plain = !is_cgroup_fs (l->unified);
      return 0;
    }
  if (!has_v1_controller (l))
    {
      free (unified);
      return kd_make_error (err, ENOENT, "no cgroup hierarchy under `%s`", l->root);
    }
  l->mode = unified ? KD_CGROUP_HYBRID : KD_CGROUP_V1;
  l->unified = unified;
  l->plain = !is_cgroup_fs (l->memory    ? l->memory
                            : l->cpu     ? l->cpu
                            : l->cpuacct ? l->cpuacct
                                         : l->pids);
  return 0;
}

int
kd_cgroup_layout_from_mountinfo (const char *root, const char *mountinfo, kd_cgroup_layout_t **out,
                                 kd_error_t *err)
{
  kd_cgroup_layout_t *l = xcalloc (1, sizeof (*l));
  cleanup_free char *text = xstrdup (mountinfo);
  char *v2_root = NULL, *unified = NULL;

  l->root = strip_slashes (root);
  for (char *save = NULL, *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      /* id parent maj:min root mountpoint options [optional...] - fstype source superoptions */
      char *fields[64];
      size_t n = 0, dash = 0;

      for (char *s2 = NULL, *f = strtok_r (line, " ", &s2); f && n < KD_ARRAY_SIZE (fields);
           f = strtok_r (NULL, " ", &s2))
        {
          if (dash == 0 && n >= 6 && strcmp (f, "-") == 0)
            dash = n;
          fields[n++] = f;
        }
      if (dash == 0 || n < dash + 4)
        continue;

      const char *fstype = fields[dash + 1], *superopts = fields[dash + 3];
      char *mp = fields[4];
      unescape_octal (mp);
      if (!path_at_or_below (mp, l->root))
        continue;
      if (strcmp (fstype, "cgroup2") == 0)
        {
          if (strcmp (mp, l->root) == 0)
            set_once (&v2_root, mp);
          else
            set_once (&unified, mp);
        }
      else if (strcmp (fstype, "cgroup") == 0)
        {
          if (has_token (superopts, "cpu"))
            set_once (&l->cpu, mp);
          if (has_token (superopts, "cpuacct"))
            set_once (&l->cpuacct, mp);
          if (has_token (superopts, "memory"))
            set_once (&l->memory, mp);
          if (has_token (superopts, "pids"))
            set_once (&l->pids, mp);
        }
    }
  if (finish_layout (l, v2_root, unified, err) < 0)
    {
      kd_cgroup_layout_free (l);
      return -1;
    }
  *out = l;
  return 0;
}

static bool
file_exists (const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf ("%s/%s", dir, file);
  return access (p, F_OK) == 0;
}

int
kd_cgroup_layout_from_tree (const char *root, kd_cgroup_layout_t **out, kd_error_t *err)
{
  kd_cgroup_layout_t *l = xcalloc (1, sizeof (*l));
  char *v2_root = NULL, *unified = NULL;
  DIR *d;

  l->root = strip_slashes (root);
  if (file_exists (l->root, "cgroup.controllers"))
    v2_root = xstrdup (l->root);
  else if ((d = opendir (l->root)) != NULL)
    {
      /* A v1 hierarchy is recognised by its files; symlinks such as cpu ->
         cpu,cpuacct resolve to one directory, so the first name wins only
         among equals. */
      struct dirent *de;
      while ((de = readdir (d)) != NULL)
        {
          cleanup_free char *dir = NULL;
          char real[PATH_MAX];
          struct stat st;

          if (de->d_name[0] == '.' || strcmp (de->d_name, "unified") == 0)
            continue;
          dir = xasprintf ("%s/%s", l->root, de->d_name);
          if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode) || realpath (dir, real) == NULL)
            continue;
          if (file_exists (real, "cpu.shares"))
            set_once (&l->cpu, real);
          if (file_exists (real, "cpuacct.usage"))
            set_once (&l->cpuacct, real);
          if (file_exists (real, "memory.limit_in_bytes"))
            set_once (&l->memory, real);
          if (file_exists (real, "pids.max") && !file_exists (real, "cgroup.controllers"))
            set_once (&l->pids, real);
        }
      closedir (d);
      cleanup_free char *u = xasprintf ("%s/unified", l->root);
      if (file_exists (u, "cgroup.controllers"))
        unified = steal_pointer (&u);
    }
  if (finish_layout (l, v2_root, unified, err) < 0)
    {
      kd_cgroup_layout_free (l);
      return -1;
    }
  *out = l;
  return 0;
}

int
kd_cgroup_detect (const char *root, kd_cgroup_layout_t **out, kd_error_t *err)
{
  cleanup_free char *mountinfo = NULL;
  kd_error_t local = NULL;

  if (root == NULL || root[0] != '/')
    return kd_make_error (err, EINVAL, "cgroup root `%s` is not an absolute path",
                          root ? root : "");
  if (kd_read_file ("/proc/self/mountinfo", 16 << 20, &mountinfo, NULL, err) < 0)
    return -1;
  if (kd_cgroup_layout_from_mountinfo (root, mountinfo, out, &local) == 0)
    return 0;
  if (local->status != ENOENT)
    {
      *err = local;
      return -1;
    }
  /* Nothing mounted at or below root: a tree prepared by hand. */
  kd_error_release (&local);
  return kd_cgroup_layout_from_tree (root, out, err);
}

kd_cgroup_mode_t
kd_cgroup_mode (const kd_cgroup_layout_t *l)
{
  return l->mode;
}

void
kd_cgroup_layout_free (kd_cgroup_layout_t *l)
{
  if (l == NULL)
    return;
  free (l->root);
  free (l->cpu);
  free (l->cpuacct);
  free (l->memory);
  free (l->pids);
  free (l->unified);
  free (l);
}
