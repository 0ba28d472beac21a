/* cgroup removal: kill whatever is left inside, then rmdir children first,
 * in every hierarchy.
 *
 * On v2, and on hybrid through the tracking cgroup, cgroup.kill (Linux 5.14)
 * kills the whole subtree at once, forks in flight included. Otherwise (and
 * for stragglers that joined only v1 hierarchies) every pid listed in a
 * cgroup.procs of the subtree gets SIGKILL, again every 10 ms, until all are
 * empty; a pid read there can in theory be reused before the signal lands,
 * a window of microseconds that runc's v1 path shares. The v1 freezer is
 * not used: repeated SIGKILL passes catch a fork loop that pids.max already
 * bounds, and hybrid hosts have cgroup.kill. The whole job is bounded by
 * 2 s. Missing directories count as removed. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup-internal.h"

#define DESTROY_TIMEOUT_NS (2LL * 1000 * 1000 * 1000)
#define DESTROY_STEP_NS    (10LL * 1000 * 1000)

static void
pause_step (void)
{
  struct timespec ts = { 0, DESTROY_STEP_NS };
  nanosleep (&ts, NULL);
}

static bool
is_dir_entry (int dfd, const struct dirent *de)
{
  struct stat st;

  if (de->d_type == DT_DIR)
    return true;
  if (de->d_type != DT_UNKNOWN)
    return false;
  return fstatat (dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

/* Sends SIGKILL to every process of dir and its descendants; returns how
   many pids were listed. */
static size_t
kill_subtree (const char *dir)
{
  cleanup_free char *text = NULL;
  kd_error_t err = NULL;
  size_t seen = 0;
  pid_t self = getpid ();
  DIR *d;

  if (kd_cgroup_read (dir, "cgroup.procs", &text, &err) < 0)
    kd_error_release (&err);
  else
    for (char *save = NULL, *tok = strtok_r (text, "\n", &save); tok;
         tok = strtok_r (NULL, "\n", &save))
      {
        pid_t pid = (pid_t) strtol (tok, NULL, 10);
        if (pid <= 0 || pid == self)
          continue;
        seen++;
        kill (pid, SIGKILL);
      }

  d = opendir (dir);
  if (d == NULL)
    return seen;
  for (struct dirent *de; (de = readdir (d)) != NULL;)
    {
      if (de->d_name[0] == '.' || !is_dir_entry (dirfd (d), de))
        continue;
      cleanup_free char *child = xasprintf ("%s/%s", dir, de->d_name);
      seen += kill_subtree (child);
    }
  closedir (d);
  return seen;
}

/* rmdir dir after its subdirectories; EBUSY (a task still exiting) is
   retried until the deadline. */
static int
remove_subtree (const char *dir, bool plain, int64_t deadline, kd_error_t *err)
{
  DIR *d = opendir (dir);

  if (d == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return kd_make_error (err, errno, "opendir `%s`", dir);
    }
  for (struct dirent *de; (de = readdir (d)) != NULL;)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (is_dir_entry (dirfd (d), de))
        {
          cleanup_free char *child = xasprintf ("%s/%s", dir, de->d_name);
          if (remove_subtree (child, plain, deadline, err) < 0)
            {
              closedir (d);
              return -1;
            }
        }
      else if (plain)
        unlinkat (dirfd (d), de->d_name, 0); /* a test tree's files */
    }
  closedir (d);
  for (;;)
    {
      if (rmdir (dir) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY || kd_monotonic_ns () >= deadline)
        return kd_make_error (err, errno, "rmdir `%s`", dir);
      pause_step ();
    }
}

static void
kill_all (const kd_cgroup_t *cg)
{
  cleanup_free char *killfile = NULL;

  if (cg->unified_dir == NULL || cg->plain)
    return;
  killfile = xasprintf ("%s/cgroup.kill", cg->unified_dir);
  if (access (killfile, F_OK) == 0)
    {
      kd_error_t err = NULL;
      if (kd_cgroup_write (cg->unified_dir, "cgroup.kill", "1", false, &err) < 0)
        kd_error_release (&err); /* the SIGKILL loop below still runs */
    }
}

int
kd_cgroup_destroy (kd_cgroup_t *cg, kd_error_t *err)
{
  int64_t deadline = kd_monotonic_ns () + DESTROY_TIMEOUT_NS;
  int ret = 0;

  if (cg == NULL)
    return 0;
  kill_all (cg);
  for (;;)
    {
      size_t left = 0;
      for (size_t i = 0; cg->dirs[i]; i++)
        left += kill_subtree (cg->dirs[i]);
      if (left == 0)
        break;
      if (kd_monotonic_ns () >= deadline)
        {
          ret = kd_make_error (err, EBUSY, "cgroup `%s`: %zu processes left after SIGKILL",
                               cg->path, left);
          break;
        }
      pause_step ();
    }
  /* Every hierarchy is tried even when one fails, so as little as
     possible is left behind; the first error is reported. */
  for (size_t i = 0; cg->dirs[i]; i++)
    if (remove_subtree (cg->dirs[i], cg->plain, deadline, err) < 0)
      ret = -1;
  if (ret < 0)
    kd_error_wrap (err, "destroy cgroup `%s`", cg->path);
  kd_cgroup_free (cg);
  return ret;
}
