/* Volume ownership for the pod's fsGroup, as the kubelet's
   SetVolumeOwnership does it for emptyDir: every file and directory of the
   volume gets the group fsGroup and the group read/write bits, directories
   also group search and the setgid bit, so that whatever the containers
   create there later belongs to fsGroup too. Symlinks are skipped: chmod
   would follow them to their target. With fsGroupChangePolicy
   OnRootMismatch nothing is walked when the root already has the group
   and the bits. */
#include <ftw.h>
#include <sys/stat.h>

#include "kubeletd/sandbox.h"

#define RW_MASK   0660
#define EXEC_MASK 0110

static gid_t walk_gid;
static int walk_errno;
static char *walk_path;

static mode_t
wanted_mask (bool dir)
{
  return RW_MASK | (dir ? (S_ISGID | EXEC_MASK) : 0);
}

static int
own_entry (const char *path, const struct stat *st, int flag, struct FTW *f)
{
  mode_t mask;

  if (S_ISLNK (st->st_mode) || flag == FTW_SL || flag == FTW_SLN)
    return 0;
  mask = wanted_mask (S_ISDIR (st->st_mode));
  if ((lchown (path, (uid_t) -1, walk_gid) < 0 || chmod (path, (st->st_mode & 07777) | mask) < 0)
      && walk_errno == 0)
    {
      walk_errno = errno;
      walk_path = xstrdup (path);
    }
  return 0;
}

int
kd_sandbox_volume_ownership (const char *path, int64_t fs_group, const char *change_policy,
                             kd_error_t *err)
{
  struct stat st;
  int r;

  if (lstat (path, &st) < 0)
    return kd_make_error (err, errno, "stat `%s`", path);
  if (change_policy && strcmp (change_policy, "OnRootMismatch") == 0
      && st.st_gid == (gid_t) fs_group
      && (st.st_mode & wanted_mask (S_ISDIR (st.st_mode))) == wanted_mask (S_ISDIR (st.st_mode)))
    return 0;
  /* nftw has no user data: the walk runs on the loop thread only */
  walk_gid = (gid_t) fs_group;
  walk_errno = 0;
  walk_path = NULL;
  r = nftw (path, own_entry, 32, FTW_PHYS | FTW_MOUNT);
  if (r < 0)
    return kd_make_error (err, errno, "walk `%s`", path);
  if (walk_errno)
    {
      cleanup_free char *p = walk_path;
      walk_path = NULL;
      return kd_make_error (err, walk_errno, "set the volume's ownership to fsGroup %lld on `%s`",
                            (long long) fs_group, p);
    }
  return 0;
}
