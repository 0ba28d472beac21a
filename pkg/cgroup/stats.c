/* cgroup file I/O, OOM kill counts and usage statistics. */
#include <fcntl.h>
#include <inttypes.h>

#include "cgroup-internal.h"

/* Control files are small; memory.stat is the largest we read (~2 KiB). */
#define CGROUP_FILE_MAX (64 * 1024)

int
kd_cgroup_read (const char *dir, const char *file, char **out, kd_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  cleanup_free char *buf = xmalloc (CGROUP_FILE_MAX + 1);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  size_t n = 0;

  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", path);
  for (;;)
    {
      ssize_t r = read (fd, buf + n, CGROUP_FILE_MAX - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return kd_make_error (err, errno, "read `%s`", path);
      if (r == 0 || (n += (size_t) r) == CGROUP_FILE_MAX)
        break;
    }
  buf[n] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

int
kd_cgroup_write (const char *dir, const char *file, const char *value, bool create, kd_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, file);
  /* A cgroup file takes the value in one write; O_TRUNC only matters for
     the plain files of a test tree. */
  cleanup_close int fd = open (path, O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644);
  size_t len = strlen (value);
  ssize_t w;

  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", path);
  do
    w = write (fd, value, len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return kd_make_error (err, errno, "write `%s` to `%s`", value, path);
  if ((size_t) w != len)
    return kd_make_error (err, EIO, "short write of `%s` to `%s`", value, path);
  return 0;
}

bool
kd_cgroup_keyed_value (const char *text, const char *key, uint64_t *value)
{
  size_t klen = strlen (key);

  for (const char *line = text; line && *line;)
    {
      const char *next = strchr (line, '\n');
      if (strncmp (line, key, klen) == 0 && line[klen] == ' ')
        {
          char *end;
          errno = 0;
          unsigned long long v = strtoull (line + klen + 1, &end, 10);
          if (errno != 0 || end == line + klen + 1 || (*end != '\n' && *end != '\0'))
            return false;
          *value = v;
          return true;
        }
      line = next ? next + 1 : NULL;
    }
  return false;
}

int
kd_cgroup_parse_u64 (const char *text, uint64_t *value)
{
  char *end;
  unsigned long long v;

  if (strncmp (text, "max", 3) == 0 && (text[3] == '\n' || text[3] == '\0'))
    {
      *value = UINT64_MAX;
      return 0;
    }
  if (text[0] < '0' || text[0] > '9')
    return -1;
  errno = 0;
  v = strtoull (text, &end, 10);
  if (errno != 0 || (*end != '\n' && *end != '\0'))
    return -1;
  *value = v;
  return 0;
}

int
kd_cgroup_read_oom_kills (const char *oom_file, uint64_t *kills, kd_error_t *err)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *text = NULL;
  const char *slash;

  if (oom_file == NULL)
    return kd_make_error (err, EINVAL, "no OOM file: the memory controller is not in use");
  slash = strrchr (oom_file, '/');
  dir = slash ? xstrndup (oom_file, (size_t) (slash - oom_file)) : xstrdup (".");
  if (kd_cgroup_read (dir, slash ? slash + 1 : oom_file, &text, err) < 0)
    return -1;
  /* v1 memory.oom_control: "oom_kill_disable 0\nunder_oom 0\noom_kill N"
     (oom_kill since Linux 4.13); v2 memory.events: "... oom N\noom_kill N
     ...". Both are flat keyed; a kernel without the key counts nothing. */
  if (!kd_cgroup_keyed_value (text, "oom_kill", kills))
    *kills = 0;
  return 0;
}

static int
read_u64 (const char *dir, const char *file, uint64_t *v, kd_error_t *err)
{
  cleanup_free char *text = NULL;

  if (kd_cgroup_read (dir, file, &text, err) < 0)
    return -1;
  if (kd_cgroup_parse_u64 (text, v) < 0)
    return kd_make_error (err, EINVAL, "parse `%s/%s`: `%.40s`", dir, file, text);
  return 0;
}

static int
read_keyed (const char *dir, const char *file, const char *key, uint64_t *v, kd_error_t *err)
{
  cleanup_free char *text = NULL;

  if (kd_cgroup_read (dir, file, &text, err) < 0)
    return -1;
  if (!kd_cgroup_keyed_value (text, key, v))
    return kd_make_error (err, EINVAL, "no `%s` in `%s/%s`", key, dir, file);
  return 0;
}

static int
stats_v1 (const kd_cgroup_t *cg, kd_cgroup_stats_t *st, kd_error_t *err)
{
  uint64_t inactive = 0;

  if (cg->cpuacct_dir && read_u64 (cg->cpuacct_dir, "cpuacct.usage", &st->cpu_usage_ns, err) < 0)
    return -1;
  if (cg->memory_dir)
    {
      cleanup_free char *text = NULL;
      if (read_u64 (cg->memory_dir, "memory.usage_in_bytes", &st->memory_usage, err) < 0)
        return -1;
      if (kd_cgroup_read (cg->memory_dir, "memory.stat", &text, err) < 0)
        return -1;
      /* The total_ keys include the descendants (a pod's containers). */
      if (!kd_cgroup_keyed_value (text, "total_inactive_file", &inactive))
        inactive = 0;
      if (!kd_cgroup_keyed_value (text, "total_rss", &st->memory_rss))
        st->memory_rss = 0;
    }
  if (cg->pids_dir && read_u64 (cg->pids_dir, "pids.current", &st->pids, err) < 0)
    return -1;
  /* cAdvisor's working set: usage minus the inactive page cache. */
  st->memory_working_set = st->memory_usage > inactive ? st->memory_usage - inactive : 0;
  return 0;
}

static int
stats_v2 (const kd_cgroup_t *cg, kd_cgroup_stats_t *st, kd_error_t *err)
{
  const char *dir = cg->unified_dir;
  uint64_t usec = 0, inactive = 0;

  /* cpu.stat's usage_usec is there even without the cpu controller. */
  if (read_keyed (dir, "cpu.stat", "usage_usec", &usec, err) < 0)
    return -1;
  st->cpu_usage_ns = usec * 1000;
  if (cg->memory_dir)
    {
      cleanup_free char *text = NULL;
      if (read_u64 (dir, "memory.current", &st->memory_usage, err) < 0)
        return -1;
      if (kd_cgroup_read (dir, "memory.stat", &text, err) < 0)
        return -1;
      if (!kd_cgroup_keyed_value (text, "inactive_file", &inactive))
        inactive = 0;
      if (!kd_cgroup_keyed_value (text, "anon", &st->memory_rss))
        st->memory_rss = 0;
    }
  if (cg->pids_dir && read_u64 (dir, "pids.current", &st->pids, err) < 0)
    return -1;
  st->memory_working_set = st->memory_usage > inactive ? st->memory_usage - inactive : 0;
  return 0;
}

int
kd_cgroup_stats (const kd_cgroup_t *cg, kd_cgroup_stats_t *st, kd_error_t *err)
{
  memset (st, 0, sizeof (*st));
  if ((cg->mode == KD_CGROUP_V2 ? stats_v2 (cg, st, err) : stats_v1 (cg, st, err)) < 0)
    return kd_error_wrap (err, "stats of cgroup `%s`", cg->path);
  return 0;
}
