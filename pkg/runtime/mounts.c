/* The container's file system view, DESIGN §8 (bubblewrap's and crun's
 * sequence): private propagation, the rootfs (overlay or bind), /proc, /dev
 * and its nodes, /dev/pts, /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup, the
 * spec's mounts in order, sysctls, masked and read-only paths, pivot_root
 * and the read-only remount of /.
 *
 * Every mount target is resolved with openat2(RESOLVE_IN_ROOT) against the
 * rootfs, so a symlink in the image ("/etc/hosts -> /etc/shadow" or
 * "/proc -> /") can never redirect a mount onto the host; the mount is made
 * on the /proc/self/fd magic link of the resolved fd. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

static const char *const masked_paths[] = {
  "/proc/acpi",       "/proc/asound",      "/proc/kcore",       "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int
resolve (int rootfd, const char *rel, int flags)
{
  struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*rel == '/')
    rel++;
  if (*rel == '\0')
    rel = ".";
  return (int) syscall (SYS_openat2, rootfd, rel, &how, sizeof (how));
}

/* Opens (O_PATH) the target rel under the root, creating it and its
   parents when missing: a directory when dir, else an empty file. */
static int
open_target (int rootfd, const char *rel, bool dir, kd_error_t *err)
{
  cleanup_free char *parent = NULL;
  const char *base;
  int fd, pfd, r;

  fd = resolve (rootfd, rel, O_PATH);
  if (fd >= 0 || errno != ENOENT)
    {
      if (fd < 0)
        return kd_make_error (err, errno, "open `%s`", rel);
      return fd;
    }
  base = strrchr (rel, '/');
  parent = base != NULL ? xstrndup (rel, (size_t) (base - rel)) : xstrdup ("");
  base = base != NULL ? base + 1 : rel;
  pfd = open_target (rootfd, parent, true, err);
  if (pfd < 0)
    return -1;
  if (dir)
    r = mkdirat (pfd, base, 0755);
  else
    {
      r = openat (pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (r >= 0)
        r = close (r);
    }
  close (pfd);
  if (r < 0 && errno != EEXIST)
    return kd_make_error (err, errno, "%s `%s`", dir ? "mkdir" : "create", rel);
  fd = resolve (rootfd, rel, O_PATH);
  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", rel);
  return fd;
}

static char *
fd_path (int fd)
{
  return xasprintf ("/proc/self/fd/%d", fd);
}

static int
set_readonly (int rootfd, const char *dest, bool recursive, uint64_t extra, kd_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | extra };
  /* Reopened: the fd used to mount still points below the new mount. */
  cleanup_close int fd = resolve (rootfd, dest, O_PATH);

  if (fd < 0)
    return kd_make_error (err, errno, "open `%s`", dest);
  if (mount_setattr (fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof (attr))
      < 0)
    return kd_make_error (err, errno, "remount read-only `%s`", dest);
  return 0;
}

/* mount(2) onto dest under the root; dest is created (dir unless
   file_target). */
static int
mount_in (int rootfd, const char *source, const char *dest, const char *type, unsigned long flags,
          const char *data, bool file_target, kd_error_t *err)
{
  cleanup_close int fd = open_target (rootfd, dest, !file_target, err);
  cleanup_free char *target = NULL;

  if (fd < 0)
    return kd_error_wrap (err, "mount `%s`", dest);
  target = fd_path (fd);
  if (mount (source, target, type, flags, data) < 0)
    return kd_make_error (err, errno, "mount `%s` on `%s`", source, dest);
  return 0;
}

static int
mount_rootfs (const kd_ctr_spec_t *spec, kd_error_t *err)
{
  if (spec->rootfs == NULL)
    return kd_make_error (err, EINVAL, "rootfs: no rootfs in the spec");
  if (spec->n_lowerdirs > 0)
    {
      kd_buf_t data = { 0 };
      int r;

      kd_buf_puts (&data, "lowerdir=");
      for (size_t i = 0; i < spec->n_lowerdirs; i++)
        kd_buf_printf (&data, "%s%s", i ? ":" : "", spec->lowerdirs[i]);
      if (spec->upperdir != NULL)
        kd_buf_printf (&data, ",upperdir=%s,workdir=%s", spec->upperdir,
                       spec->workdir ? spec->workdir : "");
      /* An overlay needs two lowers without an upper; one is a bind. */
      if (spec->upperdir == NULL && spec->n_lowerdirs == 1)
        r = mount (spec->lowerdirs[0], spec->rootfs, NULL, MS_BIND | MS_REC, NULL);
      else if (data.len >= (size_t) getpagesize ())
        {
          kd_buf_free (&data);
          return kd_make_error (err, E2BIG, "rootfs: mount overlay on `%s`", spec->rootfs);
        }
      else
        r = mount ("overlay", spec->rootfs, "overlay", 0, data.s);
      kd_buf_free (&data);
      if (r < 0)
        return kd_make_error (err, errno, "rootfs: mount overlay on `%s`", spec->rootfs);
    }
  /* pivot_root needs a mount point: bind the rootfs onto itself. */
  if (mount (spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return kd_make_error (err, errno, "rootfs: bind `%s`", spec->rootfs);
  return 0;
}

static bool
has_mount_at (const kd_ctr_spec_t *spec, const char *dest)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (kd_str_eq (spec->mounts[i].destination, dest))
      return true;
  return false;
}

static int
mount_dev (const kd_ctr_spec_t *spec, int rootfd, kd_error_t *err)
{
  cleanup_close int devfd = -1;

  if (mount_in (rootfd, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                "mode=755,size=65536k", false, err)
      < 0)
    return -1;
  devfd = resolve (rootfd, "/dev", O_DIRECTORY | O_RDONLY);
  if (devfd < 0)
    return kd_make_error (err, errno, "open `/dev`");
  if (kd_rt_create_devices (devfd, spec->privileged, err) < 0)
    return -1;
  if (mount_in (rootfd, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5", false, err)
      < 0)
    return -1;
  /* The pod's shared /dev/shm comes as a spec mount; else a private one. */
  if (!has_mount_at (spec, "/dev/shm")
      && mount_in (rootfd, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=1777,size=65536k", false, err)
             < 0)
    return -1;
  if (mount_in (rootfd, "mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                false, err)
      < 0)
    return -1;
  return 0;
}

/* /sys/fs/cgroup: fresh cgroup mounts made after the cgroup namespace was
   created are rooted at the container's own cgroup, which a bind of the
   host's tree would not be. The host's layout (v2, v1 or hybrid) is copied
   from our mountinfo: a cgroup2 at the top, or a tmpfs with one mount per
   hierarchy (same options) and the same symlinks (cpu -> cpu,cpuacct). */
static int
mount_cgroups (const kd_ctr_spec_t *spec, int rootfd, kd_error_t *err)
{
  unsigned long ro = spec->privileged ? 0 : MS_RDONLY;
  unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;
  bool top_done = false;

  if (f == NULL)
    return kd_make_error (err, errno, "cgroup: open `/proc/self/mountinfo`");
  while (getline (&line, &cap, f) > 0)
    {
      char mnt[4096], fstype[64], super[1024];
      const char *sep = strstr (line, " - ");
      cleanup_free char *dest = NULL;
      kd_buf_t data = { 0 };
      int r;

      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %4095s", mnt) != 1
          || sscanf (sep + 3, "%63s %*s %1023s", fstype, super) != 2)
        continue;
      if (strcmp (mnt, "/sys/fs/cgroup") == 0)
        {
          if (strcmp (fstype, "cgroup2") == 0)
            return mount_in (rootfd, "cgroup2", "/sys/fs/cgroup", "cgroup2", fl | ro, NULL, false,
                             err);
          continue;
        }
      if (!kd_str_has_prefix (mnt, "/sys/fs/cgroup/")
          || strchr (mnt + strlen ("/sys/fs/cgroup/"), '/') != NULL)
        continue;
      if (strcmp (fstype, "cgroup") != 0 && strcmp (fstype, "cgroup2") != 0)
        continue;
      if (!top_done)
        {
          if (mount_in (rootfd, "tmpfs", "/sys/fs/cgroup", "tmpfs", fl, "mode=755", false, err) < 0)
            return -1;
          top_done = true;
        }
      /* The hierarchy's options minus rw/ro: controllers, name=, flags. */
      for (char *tok = strtok (super, ","); tok != NULL; tok = strtok (NULL, ","))
        if (strcmp (tok, "rw") != 0 && strcmp (tok, "ro") != 0)
          kd_buf_printf (&data, "%s%s", data.len ? "," : "", tok);
      dest = xstrdup (mnt);
      r = mount_in (rootfd, fstype, dest, fstype, fl | ro, data.s, false, err);
      kd_buf_free (&data);
      if (r < 0)
        return -1;
    }
  if (!top_done)
    return 0;
  /* The controller links of v1 hosts. */
  {
    cleanup_close int hostfd = open ("/sys/fs/cgroup", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    cleanup_close int ctrfd = resolve (rootfd, "/sys/fs/cgroup", O_DIRECTORY | O_RDONLY);
    DIR *d = hostfd >= 0 ? fdopendir (dup (hostfd)) : NULL;
    struct dirent *de;

    if (ctrfd < 0)
      return kd_make_error (err, errno, "open `/sys/fs/cgroup`");
    while (d != NULL && (de = readdir (d)) != NULL)
      {
        char target[256];
        ssize_t n;
        if (de->d_type != DT_LNK)
          continue;
        n = readlinkat (hostfd, de->d_name, target, sizeof (target) - 1);
        if (n <= 0)
          continue;
        target[n] = '\0';
        if (symlinkat (target, ctrfd, de->d_name) < 0 && errno != EEXIST)
          {
            closedir (d);
            return kd_make_error (err, errno, "symlink `/sys/fs/cgroup/%s`", de->d_name);
          }
      }
    if (d != NULL)
      closedir (d);
  }
  if (ro != 0)
    return set_readonly (rootfd, "/sys/fs/cgroup", false,
                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
  return 0;
}

static int
spec_mount (const kd_mount_t *m, int rootfd, kd_error_t *err)
{
  const char *type = m->type != NULL ? m->type : "bind";

  if (m->destination == NULL || m->destination[0] != '/')
    return kd_make_error (err, EINVAL, "mount: destination `%s` is not absolute",
                          m->destination ? m->destination : "");
  if (strcmp (type, "bind") == 0 || strcmp (type, "rbind") == 0)
    {
      struct stat st;
      if (m->source == NULL || stat (m->source, &st) < 0)
        return kd_make_error (err, errno ? errno : EINVAL, "mount: stat `%s`",
                              m->source ? m->source : "");
      if (mount_in (rootfd, m->source, m->destination, NULL,
                    MS_BIND | (m->recursive || strcmp (type, "rbind") == 0 ? MS_REC : 0), NULL,
                    !S_ISDIR (st.st_mode), err)
          < 0)
        return -1;
      if (m->readonly)
        return set_readonly (rootfd, m->destination, true, 0, err);
      return 0;
    }
  return mount_in (rootfd, m->source ? m->source : type, m->destination, type,
                   MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0), m->data, false, err);
}

static int
mask_paths (int rootfd, kd_error_t *err)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (masked_paths); i++)
    {
      cleanup_close int fd = resolve (rootfd, masked_paths[i], O_PATH);
      cleanup_free char *target = NULL;
      struct stat st;
      int r;

      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0 || fstat (fd, &st) < 0)
        return kd_make_error (err, errno, "mask `%s`", masked_paths[i]);
      target = fd_path (fd);
      if (S_ISDIR (st.st_mode))
        r = mount ("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "size=0");
      else
        r = mount ("/dev/null", target, NULL, MS_BIND, NULL);
      if (r < 0)
        return kd_make_error (err, errno, "mask `%s`", masked_paths[i]);
    }
  return 0;
}

static int
readonly_proc_paths (int rootfd, kd_error_t *err)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (readonly_paths); i++)
    {
      cleanup_close int fd = resolve (rootfd, readonly_paths[i], O_PATH);
      cleanup_free char *target = NULL;

      if (fd < 0 && errno == ENOENT)
        continue;
      if (fd < 0)
        return kd_make_error (err, errno, "read-only `%s`", readonly_paths[i]);
      target = fd_path (fd);
      if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return kd_make_error (err, errno, "read-only: bind `%s`", readonly_paths[i]);
      if (set_readonly (rootfd, readonly_paths[i], true,
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err)
          < 0)
        return -1;
    }
  return 0;
}

int
kd_rt_setup_rootfs (const kd_ctr_spec_t *spec, kd_error_t *err)
{
  unsigned long sys_ro = spec->privileged ? 0 : MS_RDONLY;
  cleanup_close int rootfd = -1;

  /* 1. Nothing we mount propagates back to the host (and the old root can
     be detached below without touching the host's mounts). */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return kd_make_error (err, errno, "mount: make `/` private");
  /* 2. The rootfs, then everything under it through rootfd. */
  if (mount_rootfs (spec, err) < 0)
    return -1;
  rootfd = open (spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return kd_make_error (err, errno, "rootfs: open `%s`", spec->rootfs);
  if (mount_in (rootfd, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false, err)
      < 0)
    return -1;
  if (mount_dev (spec, rootfd, err) < 0)
    return -1;
  if (mount_in (rootfd, "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | sys_ro, NULL,
                false, err)
      < 0)
    return -1;
  if (mount_cgroups (spec, rootfd, err) < 0)
    return -1;
  /* 3. Volumes, /etc/hosts, /etc/hostname, /etc/resolv.conf,
     /dev/termination-log, the pod's /dev/shm: in the spec's order. */
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (spec_mount (&spec->mounts[i], rootfd, err) < 0)
      return -1;
  /* 4. sysctls, before /proc/sys becomes read-only. */
  if (spec->n_sysctls > 0)
    {
      cleanup_close int sysfd = resolve (rootfd, "/proc/sys", O_DIRECTORY | O_RDONLY);
      if (sysfd < 0)
        return kd_make_error (err, errno, "sysctl: open `/proc/sys`");
      if (kd_rt_apply_sysctls (spec, sysfd, err) < 0)
        return -1;
    }
  /* 5. Masked and read-only paths (not for privileged containers). */
  if (!spec->privileged && (mask_paths (rootfd, err) < 0 || readonly_proc_paths (rootfd, err) < 0))
    return -1;
  /* 6. The working directory is created when missing, as Docker does;
     errors are left to the chdir, which reports the real cause. */
  if (spec->cwd != NULL && spec->cwd[0] == '/' && spec->cwd[1] != '\0')
    {
      kd_error_t ignored = NULL;
      int fd = open_target (rootfd, spec->cwd, true, &ignored);
      if (fd >= 0)
        close (fd);
      kd_error_release (&ignored);
    }
  /* 7. pivot_root(".", "."): the old root ends up on top of the new one
     and is detached at once (no directory for it inside the rootfs). */
  if (fchdir (rootfd) < 0)
    return kd_make_error (err, errno, "rootfs: chdir `%s`", spec->rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return kd_make_error (err, errno, "pivot_root `%s`", spec->rootfs);
  if (umount2 (".", MNT_DETACH) < 0)
    return kd_make_error (err, errno, "pivot_root: detach the old root");
  if (chdir ("/") < 0)
    return kd_make_error (err, errno, "chdir `/`");
  /* 8. Last, so that every mount point above could still be created. */
  if (spec->readonly_rootfs && mount (NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return kd_make_error (err, errno, "remount `/` read-only");
  return 0;
}
