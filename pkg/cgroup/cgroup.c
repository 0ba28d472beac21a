/* cgroup creation, limits and the per-cgroup accessors.
 *
 * A cgroup is one relative path made in every hierarchy that carries a
 * controller we use: on v1 the cpu, cpuacct, memory and pids mounts (one
 * directory when cpu and cpuacct are co-mounted), plus the cgroup2 mount on
 * hybrid hosts for process tracking; on v2 the one unified directory, with
 * cpu, memory and pids enabled in every ancestor's cgroup.subtree_control. */
#include <inttypes.h>
#include <sys/stat.h>

#include "cgroup-internal.h"

#define CONTROLLERS_LIMIT_MSG "the %s controller is not available on this host"

void
kd_cgroup_free_strv (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}

void
kd_cgroup_free (kd_cgroup_t *cg)
{
  if (cg == NULL)
    return;
  free (cg->path);
  kd_cgroup_free_strv (cg->dirs);
  kd_cgroup_free_strv (cg->procs);
  free (cg->oom_file);
  free (cg);
}

/* A relative path of plain names: an empty path or ".." would point
   destroy's SIGKILL at a whole hierarchy. */
static int
check_path (const char *path, kd_error_t *err)
{
  const char *p = path;

  if (p == NULL)
    return kd_make_error (err, EINVAL, "cgroup path is missing");
  while (*p == '/')
    p++;
  if (*p == '\0')
    return kd_make_error (err, EINVAL, "cgroup path `%s` is empty", path);
  for (const char *c = p; *c;)
    {
      size_t n = strcspn (c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return kd_make_error (err, EINVAL, "cgroup path `%s` has an empty, `.` or `..` component",
                              path);
      c += n;
      if (*c == '/')
        c++;
    }
  if (p[strlen (p) - 1] == '/')
    return kd_make_error (err, EINVAL, "cgroup path `%s` ends with `/`", path);
  return 0;
}

/* Adds mount/path to cg->dirs unless the same mount is already there;
   returns the directory kept. */
static char *
add_dir (kd_cgroup_t *cg, size_t *n, const char *mount, const char *rel)
{
  cleanup_free char *dir = NULL;

  if (mount == NULL)
    return NULL;
  dir = xasprintf ("%s/%s", mount, rel);
  for (size_t i = 0; i < *n; i++)
    if (strcmp (cg->dirs[i], dir) == 0)
      return cg->dirs[i];
  cg->dirs[(*n)++] = steal_pointer (&dir);
  cg->dirs[*n] = NULL;
  return cg->dirs[*n - 1];
}

static kd_cgroup_t *
build (const kd_cgroup_layout_t *l, const char *path)
{
  kd_cgroup_t *cg = xcalloc (1, sizeof (*cg));
  const char *rel = path;
  size_t n = 0;

  while (*rel == '/')
    rel++;
  cg->mode = l->mode;
  cg->plain = l->plain;
  cg->path = xstrdup (rel);
  cg->dirs = xcalloc (6, sizeof (char *));
  if (l->mode == KD_CGROUP_V2)
    {
      char *dir = add_dir (cg, &n, l->unified, rel);
      cg->unified_dir = dir;
      cg->cpu_dir = l->v2_cpu ? dir : NULL;
      cg->cpuacct_dir = dir; /* cpu.stat is always there */
      cg->memory_dir = l->v2_memory ? dir : NULL;
      cg->pids_dir = l->v2_pids ? dir : NULL;
      if (cg->memory_dir)
        cg->oom_file = xasprintf ("%s/memory.events", dir);
    }
  else
    {
      cg->cpu_dir = add_dir (cg, &n, l->cpu, rel);
      cg->cpuacct_dir = add_dir (cg, &n, l->cpuacct, rel);
      cg->memory_dir = add_dir (cg, &n, l->memory, rel);
      cg->pids_dir = add_dir (cg, &n, l->pids, rel);
      cg->unified_dir = add_dir (cg, &n, l->unified, rel);
      if (cg->memory_dir)
        cg->oom_file = xasprintf ("%s/memory.oom_control", cg->memory_dir);
    }
  return cg;
}

/* Forgets the hybrid tracking directory (it could not be made). */
static void
drop_unified (kd_cgroup_t *cg)
{
  size_t i = 0, w = 0;

  if (cg->mode != KD_CGROUP_HYBRID || cg->unified_dir == NULL)
    return;
  for (i = 0; cg->dirs[i]; i++)
    if (cg->dirs[i] == cg->unified_dir)
      free (cg->dirs[i]);
    else
      cg->dirs[w++] = cg->dirs[i];
  cg->dirs[w] = NULL;
  cg->unified_dir = NULL;
}

static void
fill_procs (kd_cgroup_t *cg)
{
  size_t n = 0;

  while (cg->dirs[n])
    n++;
  kd_cgroup_free_strv (cg->procs);
  cg->procs = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    cg->procs[i] = xasprintf ("%s/cgroup.procs", cg->dirs[i]);
}

static bool
dir_exists (const char *dir)
{
  struct stat st;
  return stat (dir, &st) == 0 && S_ISDIR (st.st_mode);
}

/* ---- cgroup v2: controllers in the parents ------------------------------ */

static bool
word_in (const char *text, const char *word)
{
  size_t n = strlen (word);

  for (const char *p = text; p && *p;)
    {
      p += strspn (p, " \n+");
      size_t len = strcspn (p, " \n");
      if (len == n && strncmp (p, word, n) == 0)
        return true;
      p += len;
    }
  return false;
}

/* The no-internal-process rule: a cgroup that holds processes cannot give
   controllers to its children. When a pod's cgroup holds its shim and a
   container cgroup is made below it, the shim moves to a leaf "init"
   beside the containers (container ids are hex, so the name is free). */
static int
move_procs_to_leaf (const char *dir, kd_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *leaf = xasprintf ("%s/init", dir);

  if (kd_cgroup_read (dir, "cgroup.procs", &text, err) < 0)
    return -1;
  if (mkdir (leaf, 0755) < 0 && errno != EEXIST)
    return kd_make_error (err, errno, "mkdir `%s`", leaf);
  for (char *save = NULL, *tok = strtok_r (text, "\n", &save); tok;
       tok = strtok_r (NULL, "\n", &save))
    {
      kd_error_t local = NULL;
      if (kd_cgroup_write (leaf, "cgroup.procs", tok, false, &local) < 0)
        {
          /* The process may have exited meanwhile. */
          if (local->status != ESRCH)
            {
              *err = local;
              return -1;
            }
          kd_error_release (&local);
        }
    }
  return 0;
}

static int
enable_controllers (const kd_cgroup_layout_t *l, const char *dir, bool is_mount_root,
                    kd_error_t *err)
{
  static const char *const names[] = { "cpu", "memory", "pids" };
  const bool wanted[] = { l->v2_cpu, l->v2_memory, l->v2_pids };
  cleanup_free char *available = NULL, *enabled = NULL;
  kd_buf_t add = { 0 };
  kd_error_t local = NULL;
  int ret = 0;

  /* A test tree may lack both files: then everything counts as available
     and nothing as enabled yet. */
  if (kd_cgroup_read (dir, "cgroup.controllers", &available, &local) < 0)
    {
      if (!l->plain)
        {
          *err = local;
          return -1;
        }
      kd_error_release (&local);
    }
  if (kd_cgroup_read (dir, "cgroup.subtree_control", &enabled, &local) < 0)
    {
      if (!l->plain)
        {
          *err = local;
          return -1;
        }
      kd_error_release (&local);
    }
  for (size_t i = 0; i < KD_ARRAY_SIZE (names); i++)
    if (wanted[i] && (available == NULL || word_in (available, names[i]))
        && (enabled == NULL || !word_in (enabled, names[i])))
      kd_buf_printf (&add, "%s+%s", add.len ? " " : "", names[i]);
  if (add.len == 0)
    return 0;

  for (int attempt = 0; attempt < 3; attempt++)
    {
      ret = kd_cgroup_write (dir, "cgroup.subtree_control", add.s, l->plain, &local);
      if (ret == 0 || local->status != EBUSY || is_mount_root)
        break;
      kd_error_release (&local);
      if (move_procs_to_leaf (dir, &local) < 0)
        {
          ret = -1;
          break;
        }
    }
  kd_buf_free (&add);
  if (ret < 0)
    *err = local;
  return ret;
}

/* mkdir each component of rel below the mount, enabling the controllers
   in each parent first (a child can only use what its parent enabled). */
static int
make_v2 (const kd_cgroup_layout_t *l, const char *rel, kd_error_t *err)
{
  cleanup_free char *dir = xstrdup (l->unified);
  const char *c = rel;
  bool at_root = true;

  while (*c)
    {
      size_t n = strcspn (c, "/");
      char *next;

      if (enable_controllers (l, dir, at_root, err) < 0)
        return -1;
      next = xasprintf ("%s/%.*s", dir, (int) n, c);
      free (dir);
      dir = next;
      if (mkdir (dir, 0755) < 0 && errno != EEXIST)
        return kd_make_error (err, errno, "mkdir `%s`", dir);
      at_root = false;
      c += n;
      if (*c == '/')
        c++;
    }
  return 0;
}

/* ---- limits ------------------------------------------------------------- */

static int put (const kd_cgroup_t *cg, const char *dir, const char *file, kd_error_t *err,
                const char *fmt, ...) KD_PRINTF (5, 6);

static int
put (const kd_cgroup_t *cg, const char *dir, const char *file, kd_error_t *err, const char *fmt,
     ...)
{
  va_list ap;
  char value[64];

  va_start (ap, fmt);
  vsnprintf (value, sizeof (value), fmt, ap);
  va_end (ap);
  return kd_cgroup_write (dir, file, value, cg->plain, err);
}

static int
check_controllers (const kd_cgroup_t *cg, const kd_cgroup_limits_t *lim, kd_error_t *err)
{
  if (lim->memory_limit > 0 && cg->memory_dir == NULL)
    return kd_make_error (err, ENOTSUP, CONTROLLERS_LIMIT_MSG, "memory");
  if ((lim->cpu_shares > 0 || lim->cpu_quota_us > 0) && cg->cpu_dir == NULL)
    return kd_make_error (err, ENOTSUP, CONTROLLERS_LIMIT_MSG, "cpu");
  if (lim->pids_limit > 0 && cg->pids_dir == NULL)
    return kd_make_error (err, ENOTSUP, CONTROLLERS_LIMIT_MSG, "pids");
  return 0;
}

/* v1 CFS: the kernel checks quota/period against the parent at each write,
   so when the period cannot go first the quota goes first (as runc does). */
static int
write_cfs_v1 (const kd_cgroup_t *cg, int64_t quota, int64_t period, kd_error_t *err)
{
  kd_error_t local = NULL;

  if (put (cg, cg->cpu_dir, "cpu.cfs_period_us", &local, "%" PRId64, period) == 0)
    return put (cg, cg->cpu_dir, "cpu.cfs_quota_us", err, "%" PRId64, quota);
  if (local->status != EINVAL)
    {
      *err = local;
      return -1;
    }
  kd_error_release (&local);
  if (put (cg, cg->cpu_dir, "cpu.cfs_quota_us", err, "%" PRId64, quota) < 0)
    return -1;
  return put (cg, cg->cpu_dir, "cpu.cfs_period_us", err, "%" PRId64, period);
}

/* Writes the limits; with reset, a zero field restores the kernel default
   (an update that drops a limit), otherwise it is left alone. Like the
   kubelet, v1 gets no memory.memsw limit (the file exists only with swap
   accounting enabled). */
static int
write_limits (const kd_cgroup_t *cg, const kd_cgroup_limits_t *lim, bool reset, kd_error_t *err)
{
  int64_t period = lim->cpu_period_us > 0 ? lim->cpu_period_us : 100000;
  bool v2 = cg->mode == KD_CGROUP_V2;

  if (check_controllers (cg, lim, err) < 0)
    return -1;
  if (cg->memory_dir && (lim->memory_limit > 0 || reset))
    {
      const char *file = v2 ? "memory.max" : "memory.limit_in_bytes";
      if (lim->memory_limit > 0)
        {
          if (put (cg, cg->memory_dir, file, err, "%" PRId64, lim->memory_limit) < 0)
            return -1;
        }
      else if (put (cg, cg->memory_dir, file, err, "%s", v2 ? "max" : "-1") < 0)
        return -1;
    }
  if (cg->cpu_dir && (lim->cpu_shares > 0 || reset))
    {
      /* Defaults: 1024 shares on v1, weight 100 on v2 (the conversion
         maps 1024 shares to 39, not to the kernel's default). */
      if (v2)
        {
          int64_t weight
              = lim->cpu_shares > 0 ? kd_cgroup_weight_from_shares (lim->cpu_shares) : 100;
          if (put (cg, cg->cpu_dir, "cpu.weight", err, "%" PRId64, weight) < 0)
            return -1;
        }
      else if (put (cg, cg->cpu_dir, "cpu.shares", err, "%" PRId64,
                    lim->cpu_shares > 0 ? lim->cpu_shares : 1024)
               < 0)
        return -1;
    }
  if (cg->cpu_dir && (lim->cpu_quota_us > 0 || reset))
    {
      if (v2)
        {
          if (lim->cpu_quota_us > 0)
            {
              if (put (cg, cg->cpu_dir, "cpu.max", err, "%" PRId64 " %" PRId64, lim->cpu_quota_us,
                       period)
                  < 0)
                return -1;
            }
          else if (put (cg, cg->cpu_dir, "cpu.max", err, "max %" PRId64, period) < 0)
            return -1;
        }
      else if (lim->cpu_quota_us > 0)
        {
          if (write_cfs_v1 (cg, lim->cpu_quota_us, period, err) < 0)
            return -1;
        }
      else if (put (cg, cg->cpu_dir, "cpu.cfs_quota_us", err, "-1") < 0)
        return -1;
    }
  if (cg->pids_dir && (lim->pids_limit > 0 || reset))
    {
      if (lim->pids_limit > 0)
        {
          if (put (cg, cg->pids_dir, "pids.max", err, "%" PRId64, lim->pids_limit) < 0)
            return -1;
        }
      else if (put (cg, cg->pids_dir, "pids.max", err, "max") < 0)
        return -1;
    }
  return 0;
}

/* ---- the API ------------------------------------------------------------ */

int
kd_cgroup_create (const kd_cgroup_layout_t *l, const char *path, const kd_cgroup_limits_t *lim,
                  kd_cgroup_t **out, kd_error_t *err)
{
  kd_cgroup_t *cg;
  bool existed;
  int ret = 0;

  if (check_path (path, err) < 0)
    return -1;
  cg = build (l, path);
  if (lim && check_controllers (cg, lim, err) < 0)
    goto fail;
  existed = dir_exists (cg->dirs[0]);
  if (cg->mode == KD_CGROUP_V2)
    ret = make_v2 (l, cg->path, err);
  else
    for (size_t i = 0; ret == 0 && cg->dirs[i]; i++)
      {
        kd_error_t local = NULL;
        if (kd_mkdir_p (cg->dirs[i], 0755, &local) == 0)
          continue;
        if (cg->dirs[i] == cg->unified_dir)
          {
            /* Tracking on hybrid is a convenience: the limits live in v1. */
            kd_warn ("cgroup %s: no process tracking in the cgroup2 mount: %s", cg->path,
                     local->msg);
            kd_error_release (&local);
            drop_unified (cg);
            break;
          }
        *err = local;
        ret = -1;
      }
  if (ret < 0)
    goto fail;
  if (lim && write_limits (cg, lim, false, err) < 0)
    {
      /* A cgroup made here and left half-configured is removed again; an
         adopted one is left as it was found. */
      if (!existed)
        {
          kd_error_t ignored = NULL;
          kd_cgroup_t *tmp = build (l, path);
          if (kd_cgroup_destroy (tmp, &ignored) < 0)
            kd_error_release (&ignored);
        }
      goto fail;
    }
  fill_procs (cg);
  *out = cg;
  return 0;

fail:
  kd_error_wrap (err, "cgroup `%s`", path);
  kd_cgroup_free (cg);
  return -1;
}

int
kd_cgroup_open (const kd_cgroup_layout_t *l, const char *path, kd_cgroup_t **out, kd_error_t *err)
{
  kd_cgroup_t *cg;
  bool any = false;

  if (check_path (path, err) < 0)
    return -1;
  cg = build (l, path);
  for (size_t i = 0; cg->dirs[i]; i++)
    if (dir_exists (cg->dirs[i]))
      any = true;
    else if (cg->dirs[i] == cg->unified_dir && cg->mode == KD_CGROUP_HYBRID)
      {
        drop_unified (cg);
        break;
      }
  if (!any)
    {
      kd_cgroup_free (cg);
      return kd_make_error (err, ENOENT, "cgroup `%s` does not exist", path);
    }
  fill_procs (cg);
  *out = cg;
  return 0;
}

int
kd_cgroup_update (kd_cgroup_t *cg, const kd_cgroup_limits_t *lim, kd_error_t *err)
{
  if (write_limits (cg, lim, true, err) < 0)
    return kd_error_wrap (err, "cgroup `%s`", cg->path);
  return 0;
}

const char *
kd_cgroup_path (const kd_cgroup_t *cg)
{
  return cg->path;
}

char *const *
kd_cgroup_procs_files (const kd_cgroup_t *cg)
{
  return cg->procs;
}

const char *
kd_cgroup_oom_file (const kd_cgroup_t *cg)
{
  return cg->oom_file;
}
