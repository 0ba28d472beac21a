/* What GET /stats/summary needs beyond the cgroup readers: CPU rates from
   two cumulative readings (cAdvisor keeps the previous sample per cgroup
   and divides; so do we), and directory usage (du) for rootfs, logs and
   volumes. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "metrics-internal.h"

typedef struct
{
  char *key;
  uint64_t usage_ns; /* the stored reading */
  int64_t at_ns;
  int64_t seen_ns; /* last update call, for prune */
  uint64_t rate;   /* nanocores between the two last stored readings */
  bool has_rate;
} cpu_entry_t;

struct kd_cpu_rates
{
  cpu_entry_t *v;
  size_t n, cap;
};

kd_cpu_rates_t *
kd_cpu_rates_new (void)
{
  return xcalloc (1, sizeof (kd_cpu_rates_t));
}

void
kd_cpu_rates_free (kd_cpu_rates_t *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++)
    free (t->v[i].key);
  free (t->v);
  free (t);
}

size_t
kd_cpu_rates_size (const kd_cpu_rates_t *t)
{
  return t->n;
}

bool
kd_cpu_rates_update (kd_cpu_rates_t *t, const char *key, uint64_t usage_ns, int64_t now_ns,
                     int64_t min_interval_ns, uint64_t *nanocores)
{
  cpu_entry_t *e = NULL;

  for (size_t i = 0; i < t->n && e == NULL; i++)
    if (strcmp (t->v[i].key, key) == 0)
      e = &t->v[i];
  if (e == NULL)
    {
      kd_grow ((void **) &t->v, &t->cap, t->n, sizeof (cpu_entry_t));
      e = &t->v[t->n++];
      memset (e, 0, sizeof (*e));
      e->key = xstrdup (key);
      e->usage_ns = usage_ns;
      e->at_ns = now_ns;
      e->seen_ns = now_ns;
      return false;
    }
  e->seen_ns = now_ns;
  if (usage_ns < e->usage_ns || now_ns < e->at_ns)
    {
      /* A new cgroup under an old path: start over. */
      e->usage_ns = usage_ns;
      e->at_ns = now_ns;
      e->has_rate = false;
      return false;
    }
  if (now_ns - e->at_ns >= min_interval_ns && now_ns > e->at_ns)
    {
      /* (usage delta in ns of CPU) per (ns of wall time) = cores; times
         1e9 = nanocores. Done in long double: the product overflows 64
         bits after ~18 s of one busy core. */
      long double r
          = (long double) (usage_ns - e->usage_ns) * 1e9L / (long double) (now_ns - e->at_ns);
      e->rate = (uint64_t) (r + 0.5L);
      e->has_rate = true;
      e->usage_ns = usage_ns;
      e->at_ns = now_ns;
    }
  if (e->has_rate)
    *nanocores = e->rate;
  return e->has_rate;
}

void
kd_cpu_rates_prune (kd_cpu_rates_t *t, int64_t before_ns)
{
  size_t keep = 0;

  for (size_t i = 0; i < t->n; i++)
    {
      if (t->v[i].seen_ns < before_ns)
        free (t->v[i].key);
      else
        t->v[keep++] = t->v[i];
    }
  t->n = keep;
}

/* ---- du ------------------------------------------------------------- */

typedef struct
{
  dev_t dev;
  ino_t ino;
} inode_t;

typedef struct
{
  dev_t root_dev;
  size_t max_entries;
  size_t entries;
  uint64_t bytes;
  uint64_t inodes;
  inode_t *seen; /* hard-linked files, counted once */
  size_t n_seen, cap_seen;
} du_t;

static bool
seen_before (du_t *d, const struct stat *st)
{
  for (size_t i = 0; i < d->n_seen; i++)
    if (d->seen[i].dev == st->st_dev && d->seen[i].ino == st->st_ino)
      return true;
  kd_grow ((void **) &d->seen, &d->cap_seen, d->n_seen, sizeof (inode_t));
  d->seen[d->n_seen++] = (inode_t){ st->st_dev, st->st_ino };
  return false;
}

static void
account (du_t *d, const struct stat *st)
{
  if (st->st_nlink > 1 && !S_ISDIR (st->st_mode) && seen_before (d, st))
    return;
  d->bytes += (uint64_t) st->st_blocks * 512;
  d->inodes++;
}

/* Walks dirfd (owned) without following symlinks or leaving the file
   system; bounded in entries so a huge tree cannot stall the loop long. */
static int
walk (du_t *d, int dirfd, int depth)
{
  DIR *dir = fdopendir (dirfd);
  struct dirent *de;

  if (dir == NULL)
    {
      close (dirfd);
      return 0;
    }
  while ((de = readdir (dir)) != NULL && d->entries < d->max_entries)
    {
      struct stat st;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      d->entries++;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue; /* gone meanwhile */
      if (st.st_dev != d->root_dev)
        continue;
      account (d, &st);
      if (S_ISDIR (st.st_mode) && depth < 256)
        {
          int fd = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0)
            walk (d, fd, depth + 1);
        }
    }
  closedir (dir);
  return 0;
}

int
kd_du (const char *path, size_t max_entries, uint64_t *bytes, uint64_t *inodes, kd_error_t *err)
{
  du_t d = { .max_entries = max_entries ? max_entries : SIZE_MAX };
  struct stat st;
  int fd;

  *bytes = 0;
  if (inodes)
    *inodes = 0;
  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return 0;
      return kd_make_error (err, errno, "stat `%s`", path);
    }
  d.root_dev = st.st_dev;
  account (&d, &st);
  if (S_ISDIR (st.st_mode))
    {
      fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return kd_make_error (err, errno, "open `%s`", path);
      walk (&d, fd, 0);
    }
  free (d.seen);
  *bytes = d.bytes;
  if (inodes)
    *inodes = d.inodes;
  return 0;
}
