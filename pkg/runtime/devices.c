/* /dev: the device nodes every container gets and the standard links.
 * mknod needs CAP_MKNOD in the mount's user namespace; when it is refused
 * (or the filesystem is nodev-by-policy) the host's node is bound instead,
 * as runc does in user namespaces. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "runtime-internal.h"

static const struct
{
  const char *name;
  unsigned major, minor;
} dev_nodes[] = {
  { "null", 1, 3 }, { "zero", 1, 5 },   { "full", 1, 7 },
  { "tty", 5, 0 },  { "random", 1, 8 }, { "urandom", 1, 9 },
};

static const struct
{
  const char *name;
  const char *target;
} dev_links[] = {
  { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
  { "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },
};

static int
make_node (int devfd, const char *name, mode_t type, dev_t dev, mode_t perm, kd_error_t *err)
{
  cleanup_free char *host = NULL, *target = NULL;
  int fd;

  if (mknodat (devfd, name, type | perm, dev) == 0)
    {
      /* umask may have trimmed the mode. */
      if (fchmodat (devfd, name, perm, 0) < 0)
        return kd_make_error (err, errno, "devices: chmod `/dev/%s`", name);
      return 0;
    }
  if (errno == EEXIST)
    return 0;
  if (errno != EPERM && errno != EACCES)
    return kd_make_error (err, errno, "devices: mknod `/dev/%s`", name);
  fd = openat (devfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return kd_make_error (err, errno, "devices: create `/dev/%s`", name);
  close (fd);
  host = xasprintf ("/dev/%s", name);
  target = xasprintf ("/proc/self/fd/%d/%s", devfd, name);
  if (mount (host, target, NULL, MS_BIND, NULL) < 0)
    return kd_make_error (err, errno, "devices: bind `%s`", host);
  return 0;
}

/* privileged: every character and block device the host has at the top of
   /dev (Docker gives privileged containers all host devices). */
static int
copy_host_devices (int devfd, kd_error_t *err)
{
  DIR *d = opendir ("/dev");
  struct dirent *de;

  if (d == NULL)
    return kd_make_error (err, errno, "devices: opendir `/dev`");
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
        continue;
      if (strcmp (de->d_name, "ptmx") == 0 || strcmp (de->d_name, "console") == 0)
        continue;
      if (make_node (devfd, de->d_name, st.st_mode & S_IFMT, st.st_rdev, st.st_mode & 07777, err)
          < 0)
        {
          closedir (d);
          return -1;
        }
    }
  closedir (d);
  return 0;
}

int
kd_rt_create_devices (int devfd, bool privileged, kd_error_t *err)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (dev_nodes); i++)
    if (make_node (devfd, dev_nodes[i].name, S_IFCHR,
                   makedev (dev_nodes[i].major, dev_nodes[i].minor), 0666, err)
        < 0)
      return -1;
  if (privileged && copy_host_devices (devfd, err) < 0)
    return -1;
  for (size_t i = 0; i < KD_ARRAY_SIZE (dev_links); i++)
    if (symlinkat (dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST)
      return kd_make_error (err, errno, "devices: symlink `/dev/%s`", dev_links[i].name);
  return 0;
}
