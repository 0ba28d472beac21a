/* subPath: a path inside a volume, resolved so that nothing — "..",
   absolute symlinks, symlink chains, or a component swapped for a symlink
   between check and use — can lead outside the volume.

   openat2 (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) resolves the whole path
   in the kernel, relative to an fd of the volume root, refusing any step
   out of it (EXDEV) and /proc magic links (ELOOP). The O_PATH fd it returns
   is bind-mounted through /proc/self/fd/N, so the mount is of the object
   that was checked, not of a path that could be re-resolved later. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kubeletd/sandbox.h"

static int
openat2_beneath (int dirfd, const char *path)
{
  struct open_how how = { 0 };
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

static int
escape_error (kd_error_t *err, int errnum, const char *volume_root, const char *subpath)
{
  return kd_make_error (err, errnum, "subpath \"%s\" not within volume path \"%s\"", subpath,
                        volume_root);
}

int
kd_sandbox_subpath_open (const char *volume_root, const char *subpath, bool create, kd_error_t *err)
{
  cleanup_close int root = -1;
  cleanup_free char *copy = NULL;
  char *comp[256];
  size_t n = 0;
  char *save = NULL;
  struct stat rst;
  int fd;

  if (subpath == NULL || *subpath == '\0')
    return kd_make_error (err, 0, "subpath is empty");
  if (subpath[0] == '/')
    return kd_make_error (err, 0, "subpath \"%s\": must be a relative path", subpath);
  copy = xstrdup (subpath);
  for (char *c = strtok_r (copy, "/", &save); c; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, "..") == 0)
        return kd_make_error (err, 0, "subpath \"%s\": must not contain '..'", subpath);
      if (strcmp (c, ".") == 0)
        continue;
      if (n == KD_ARRAY_SIZE (comp))
        return kd_make_error (err, 0, "subpath \"%s\": too many components", subpath);
      comp[n++] = c;
    }
  root = open (volume_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return kd_make_error (err, errno, "open volume `%s`", volume_root);
  if (n == 0)
    return steal_fd (&root);
  if (fstat (root, &rst) < 0)
    return kd_make_error (err, errno, "stat volume `%s`", volume_root);

  /* Walk one component at a time only to create what is missing; each
     prefix is itself resolved beneath the root, so mkdirat always acts on
     a directory inside the volume. */
  {
    cleanup_close int parent = fcntl (root, F_DUPFD_CLOEXEC, 0);
    kd_buf_t prefix = { 0 };
    for (size_t i = 0; i < n; i++)
      {
        int cur;
        if (i)
          kd_buf_putc (&prefix, '/');
        kd_buf_puts (&prefix, comp[i]);
        cur = openat2_beneath (root, prefix.s);
        if (cur < 0 && errno == ENOENT && create)
          {
            /* Like the kubelet's SafeMakeDir: the volume root's mode. A
               dangling symlink here makes mkdirat fail with EEXIST and the
               second open fail: it is never followed. */
            if (mkdirat (parent, comp[i], rst.st_mode & 07777) < 0 && errno != EEXIST)
              {
                int e = errno;
                kd_buf_free (&prefix);
                return kd_make_error (err, e, "create subpath \"%s\" in \"%s\"", subpath,
                                      volume_root);
              }
            cur = openat2_beneath (root, prefix.s);
          }
        if (cur < 0)
          {
            int e = errno;
            kd_buf_free (&prefix);
            if (e == EXDEV || e == ELOOP)
              return escape_error (err, e, volume_root, subpath);
            return kd_make_error (err, e, "open subpath \"%s\" in \"%s\"", subpath, volume_root);
          }
        close (parent);
        parent = cur;
      }
    kd_buf_free (&prefix);
    fd = steal_fd (&parent);
  }
  return fd;
}

char *
kd_sandbox_subpath_target (const char *run_dir, const char *pod_uid, const char *container,
                           size_t index)
{
  return xasprintf ("%s/pods/%s/subpaths/%s/%zu", run_dir, pod_uid, container, index);
}

int
kd_sandbox_subpath_mount (const char *volume_root, const char *subpath, const char *target,
                          kd_error_t *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *parent = xstrdup (target);
  char proc[64];
  struct stat st, tst;
  char *slash;

  fd = kd_sandbox_subpath_open (volume_root, subpath, true, err);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return kd_make_error (err, errno, "stat subpath \"%s\"", subpath);
  slash = strrchr (parent, '/');
  if (slash && slash != parent)
    {
      *slash = '\0';
      if (kd_mkdir_p (parent, 0750, err) < 0)
        return -1;
    }
  /* A target left from an earlier run of the container is replaced: the
     running container (if any) holds its own copy of the mount. */
  umount2 (target, MNT_DETACH);
  if (S_ISDIR (st.st_mode))
    {
      if (mkdir (target, 0750) < 0 && errno != EEXIST)
        return kd_make_error (err, errno, "mkdir `%s`", target);
    }
  else
    {
      int t = open (target, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0640);
      if (t < 0)
        return kd_make_error (err, errno, "create `%s`", target);
      close (t);
    }
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (mount (proc, target, NULL, MS_BIND, NULL) < 0)
    return kd_make_error (err, errno, "bind subpath \"%s\" of `%s` on `%s`", subpath, volume_root,
                          target);
  if (mount (NULL, target, NULL, MS_PRIVATE, NULL) < 0)
    kd_warn ("make `%s` private: %s", target, strerror (errno));
  /* What is mounted must be what was checked. */
  if (stat (target, &tst) < 0 || tst.st_dev != st.st_dev || tst.st_ino != st.st_ino)
    {
      umount2 (target, MNT_DETACH);
      return kd_make_error (err, 0, "subpath \"%s\" changed while it was mounted", subpath);
    }
  return 0;
}

static void
remove_target (const char *path)
{
  struct stat st;
  /* Detach repeatedly: a target may have been mounted more than once. */
  for (int i = 0; i < 16 && umount2 (path, MNT_DETACH) == 0; i++)
    ;
  if (lstat (path, &st) < 0)
    return;
  if (S_ISDIR (st.st_mode) ? rmdir (path) : unlink (path))
    kd_warn ("remove `%s`: %s", path, strerror (errno));
}

int
kd_sandbox_subpaths_cleanup (const char *run_dir, const char *pod_uid, kd_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/pods/%s/subpaths", run_dir, pod_uid);
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    {
      if (errno == ENOENT)
        return 0;
      return kd_make_error (err, errno, "open `%s`", dir);
    }
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *cdir = NULL;
      DIR *c;
      struct dirent *e;
      if (de->d_name[0] == '.')
        continue;
      cdir = xasprintf ("%s/%s", dir, de->d_name);
      c = opendir (cdir);
      while (c && (e = readdir (c)) != NULL)
        {
          cleanup_free char *t = NULL;
          if (e->d_name[0] == '.')
            continue;
          t = xasprintf ("%s/%s", cdir, e->d_name);
          remove_target (t);
        }
      if (c)
        closedir (c);
      rmdir (cdir);
    }
  closedir (d);
  if (rmdir (dir) < 0 && errno != ENOENT)
    return kd_make_error (err, errno, "remove `%s`", dir);
  return 0;
}

void
kd_sandbox_mounts_free (kd_mount_t *m, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (m[i].source);
      free (m[i].destination);
      free (m[i].type);
      free (m[i].data);
    }
  free (m);
}

int
kd_sandbox_container_mounts (const kd_pod_t *pod, const kd_container_t *c,
                             const kd_sandbox_volume_t *vols, size_t n_vols, const char *run_dir,
                             kd_mount_t **mounts, size_t *n_mounts, kd_error_t *err)
{
  kd_mount_t *m = xcalloc (c->n_volume_mounts + 1, sizeof *m);
  size_t n = 0;

  for (size_t i = 0; i < c->n_volume_mounts; i++)
    {
      const kd_volume_mount_t *vm = &c->volume_mounts[i];
      const kd_sandbox_volume_t *v = NULL;
      const char *sub = vm->sub_path && *vm->sub_path ? vm->sub_path : NULL;
      char *source;

      for (size_t j = 0; j < n_vols && v == NULL; j++)
        if (strcmp (vols[j].name, vm->name) == 0)
          v = &vols[j];
      if (v == NULL)
        {
          kd_make_error (err, 0, "cannot find volume \"%s\" to mount into container \"%s\"",
                         vm->name, c->name);
          goto fail;
        }
      if (vm->sub_path_expr && *vm->sub_path_expr)
        {
          if (strstr (vm->sub_path_expr, "$(") != NULL)
            {
              kd_make_error (err, 0,
                             "volumeMount `%s`: subPathExpr with variables is not "
                             "supported",
                             vm->name);
              goto fail;
            }
          sub = vm->sub_path_expr;
        }
      if (sub)
        {
          source = kd_sandbox_subpath_target (run_dir, pod->metadata.uid, c->name, i);
          if (kd_sandbox_subpath_mount (v->path, sub, source, err) < 0)
            {
              free (source);
              kd_error_wrap (err, "container `%s`, volumeMount `%s`", c->name, vm->name);
              goto fail;
            }
        }
      else
        source = xstrdup (v->path);
      m[n].source = source;
      m[n].destination = xstrdup (vm->mount_path);
      m[n].type = xstrdup ("bind");
      m[n].readonly = vm->read_only;
      m[n].recursive = true;
      n++;
    }
  *mounts = m;
  *n_mounts = n;
  return 0;

fail:
  kd_sandbox_mounts_free (m, n);
  return -1;
}
