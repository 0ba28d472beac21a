/* Pod volumes: emptyDir (a directory under the pod's directory, or a tmpfs
   for medium Memory) and hostPath with Kubernetes' type checks. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "kubeletd/sandbox.h"

char *
kd_sandbox_empty_dir_path (const char *root_dir, const char *pod_uid, const char *name)
{
  return xasprintf ("%s/pods/%s/volumes/kubernetes.io~empty-dir/%s", root_dir, pod_uid, name);
}

int
kd_sandbox_hostpath_check (const char *path, const char *type, kd_error_t *err)
{
  struct stat st;
  bool exists;

  if (type == NULL || *type == '\0')
    return 0;
  /* The kubelet stats through symlinks (os.Stat). */
  exists = stat (path, &st) == 0;
  if (strcmp (type, "DirectoryOrCreate") == 0)
    {
      if (!exists)
        return kd_mkdir_p (path, 0755, err);
      type = "Directory";
    }
  else if (strcmp (type, "FileOrCreate") == 0)
    {
      if (!exists)
        {
          /* O_CREAT without O_EXCL: a file that appeared meanwhile is fine;
             a missing parent is an error, as in the kubelet. */
          int fd = open (path, O_CREAT | O_RDONLY | O_CLOEXEC | O_NOCTTY, 0644);
          if (fd < 0)
            return kd_make_error (err, errno, "open %s", path);
          close (fd);
          return 0;
        }
      type = "File";
    }

  if (strcmp (type, "Directory") == 0)
    {
      if (!exists || !S_ISDIR (st.st_mode))
        return kd_make_error (err, 0, "hostPath type check failed: %s is not a directory", path);
    }
  else if (strcmp (type, "File") == 0)
    {
      if (!exists || !S_ISREG (st.st_mode))
        return kd_make_error (err, 0, "hostPath type check failed: %s is not a file", path);
    }
  else if (strcmp (type, "Socket") == 0)
    {
      if (!exists || !S_ISSOCK (st.st_mode))
        return kd_make_error (err, 0, "hostPath type check failed: %s is not a socket file", path);
    }
  else if (strcmp (type, "CharDevice") == 0)
    {
      if (!exists || !S_ISCHR (st.st_mode))
        return kd_make_error (err, 0, "hostPath type check failed: %s is not a character device",
                              path);
    }
  else if (strcmp (type, "BlockDevice") == 0)
    {
      if (!exists || !S_ISBLK (st.st_mode))
        return kd_make_error (err, 0, "hostPath type check failed: %s is not a block device", path);
    }
  else
    return kd_make_error (err, 0, "%s is an invalid volume type", type);
  return 0;
}

/* Whether path is the root of a mount (its device differs from its
   parent's): a tmpfs emptyDir already set up by an earlier run. */
static bool
mount_point_p (const char *path)
{
  cleanup_free char *parent = xasprintf ("%s/..", path);
  struct stat a, b;
  return stat (path, &a) == 0 && stat (parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int
setup_empty_dir (const kd_volume_t *v, const char *path, bool *tmpfs, kd_error_t *err)
{
  const kd_empty_dir_t *ed = v->empty_dir;

  if (kd_mkdir_p (path, 0750, err) < 0)
    return -1;
  /* The kubelet makes emptyDirs world-writable, whatever the umask. */
  if (chmod (path, 0777) < 0)
    return kd_make_error (err, errno, "chmod `%s`", path);
  *tmpfs = ed->medium && strcmp (ed->medium, "Memory") == 0;
  if (*tmpfs && !mount_point_p (path))
    {
      cleanup_free char *data = NULL;
      if (ed->size_limit)
        {
          kd_quantity_t q;
          if (kd_quantity_parse (ed->size_limit, &q) < 0)
            return kd_make_error (err, 0, "emptyDir `%s`: invalid sizeLimit `%s`", v->name,
                                  ed->size_limit);
          if (q.value > 0)
            data = xasprintf ("size=%lld", (long long) q.value);
        }
      if (mount ("tmpfs", path, "tmpfs", 0, data) < 0)
        return kd_make_error (err, errno, "mount tmpfs on `%s`", path);
      if (mount (NULL, path, NULL, MS_PRIVATE, NULL) < 0)
        kd_warn ("make `%s` private: %s", path, strerror (errno));
    }
  return 0;
}

void
kd_sandbox_volumes_free (kd_sandbox_volume_t *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].name);
      free (v[i].path);
    }
  free (v);
}

int
kd_sandbox_volumes_setup (const kd_pod_t *pod, const char *root_dir, kd_sandbox_volume_t **out,
                          size_t *n_out, kd_error_t *err)
{
  kd_sandbox_volume_t *vols = xcalloc (pod->spec.n_volumes + 1, sizeof *vols);
  const kd_pod_security_context_t *psc = pod->spec.security_context;
  size_t n = 0;

  for (size_t i = 0; i < pod->spec.n_volumes; i++)
    {
      const kd_volume_t *v = &pod->spec.volumes[i];
      kd_sandbox_volume_t *sv = &vols[n];

      if (v->empty_dir)
        {
          sv->path = kd_sandbox_empty_dir_path (root_dir, pod->metadata.uid, v->name);
          if (setup_empty_dir (v, sv->path, &sv->tmpfs, err) < 0)
            goto fail;
          if (psc && psc->fs_group.set
              && kd_sandbox_volume_ownership (sv->path, psc->fs_group.v,
                                              psc->fs_group_change_policy, err)
                     < 0)
            {
              if (sv->tmpfs)
                umount2 (sv->path, MNT_DETACH);
              goto fail;
            }
        }
      else if (v->host_path)
        {
          struct stat st;
          sv->path = xstrdup (v->host_path->path);
          if (kd_sandbox_hostpath_check (sv->path, v->host_path->type, err) < 0)
            goto fail;
          /* Type "": no check, but a missing path is created as a directory,
             as containerd and Docker do for a missing bind source. */
          if ((v->host_path->type == NULL || *v->host_path->type == '\0')
              && stat (sv->path, &st) < 0 && errno == ENOENT
              && kd_mkdir_p (sv->path, 0755, err) < 0)
            goto fail;
        }
      else
        {
          kd_make_error (err, 0, "volume `%s`: unsupported volume type", v->name);
          goto fail;
        }
      sv->name = xstrdup (v->name);
      n++;
    }
  *out = vols;
  *n_out = n;
  return 0;

fail:
  kd_error_wrap (err, "volume `%s`", pod->spec.volumes[n].name);
  free (vols[n].path);
  for (size_t i = 0; i < n; i++)
    if (vols[i].tmpfs)
      umount2 (vols[i].path, MNT_DETACH);
  kd_sandbox_volumes_free (vols, n);
  return -1;
}

int
kd_sandbox_volumes_teardown (const char *root_dir, const char *pod_uid, kd_error_t *err)
{
  cleanup_free char *dir = xasprintf ("%s/pods/%s/volumes", root_dir, pod_uid);
  cleanup_free char *ed = xasprintf ("%s/kubernetes.io~empty-dir", dir);
  DIR *d = opendir (ed);
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL)
    {
      cleanup_free char *p = NULL;
      if (de->d_name[0] == '.')
        continue;
      p = xasprintf ("%s/%s", ed, de->d_name);
      if (mount_point_p (p) && umount2 (p, MNT_DETACH) < 0)
        {
          closedir (d);
          return kd_make_error (err, errno, "unmount `%s`", p);
        }
    }
  if (d)
    closedir (d);
  /* FTW_MOUNT: never descend into anything still mounted below. */
  if (kd_rm_tree (dir) < 0 && errno != ENOENT)
    return kd_make_error (err, errno, "remove `%s`", dir);
  if (access (dir, F_OK) == 0)
    return kd_make_error (err, 0, "remove `%s`: something is still mounted below", dir);
  return 0;
}
