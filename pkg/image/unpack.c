/* Layer unpacking: one pass over a layer blob that decompresses, hashes the
 * uncompressed tar for its diff_id, and extracts it with libarchive's secure
 * extraction into a temp directory that is renamed into place at the end.
 *
 * The stream, in order:
 *  1. the outer reader (every filter, the "raw" format) turns the blob into
 *     the uncompressed tar stream;
 *  2. its blocks feed the inner tar reader through archive_read_open
 *     callbacks, and each block is hashed on the way, so the diff_id is
 *     known without reading the blob twice;
 *  3. every entry is checked here first (names, types, whiteouts, writes
 *     through symlinks) and then written by archive_write_disk;
 *  4. after the inner reader's end of archive the rest of the stream (tar
 *     padding) is drained into the hash, and the digest is compared.
 *
 * archive_write_disk works relative to the current directory and, with
 * ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS, refuses the absolute paths that
 * would name the temp directory. The current directory belongs to the whole
 * process, so the extraction runs in a short-lived thread that unshares its
 * file system attributes (CLONE_FS) and changes into the temp directory;
 * nothing else in the process sees that. */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "kubeletd/image.h"
#include "kubeletd/lazy-archive.h"

#define MAX_NAME_BYTES   4096
#define MAX_ENTRIES      1000000
#define WH_PREFIX        ".wh."
#define WH_META_PREFIX   ".wh..wh."
#define WH_OPAQUE        ".wh..wh..opq"
#define OPAQUE_XATTR     "trusted.overlay.opaque"
#define OUTER_BLOCK_SIZE (128 * 1024)

/* SECURE_SYMLINKS together with UNLINK makes libarchive remove a symlink
   found in the middle of a path rather than refuse the entry; entries that
   go through a symlink are refused in check_parents () before libarchive
   sees them, so that flag pair only ever acts on the final component. */
static const int extract_flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                 | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM
                                 | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME
                                 | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK;

typedef struct
{
  int blob_fd;
  int root_fd; /* the temp directory */
  const char *blob_path;
  const char *diff_hex; /* expected sha256 hex or NULL */

  struct archive *outer;
  kd_digest_t *md;
  uint64_t bytes;
  bool outer_eof;
  char *outer_error; /* why the outer reader failed, if it did */

  kd_error_t err;
  int ret;
} unpack_t;

static int
parse_sha256 (const char *digest, kd_error_t *err)
{
  size_t i;

  if (!kd_str_has_prefix (digest, "sha256:"))
    return kd_make_error (err, 0, "diff_id `%s`: not a sha256 digest", digest);
  for (i = 0; digest[7 + i]; i++)
    if (!((digest[7 + i] >= '0' && digest[7 + i] <= '9')
          || (digest[7 + i] >= 'a' && digest[7 + i] <= 'f')))
      break;
  if (i != 64 || digest[7 + i] != '\0')
    return kd_make_error (err, 0, "diff_id `%s`: not a sha256 digest", digest);
  return 0;
}

/* ---- the outer stream feeding the inner reader --------------------------- */

static const char *
outer_error_string (struct archive *a)
{
  const char *s = archive_error_string (a);
  return s ? s : "not a layer (unknown compression or truncated)";
}

static int
outer_next (unpack_t *u, const void **buf, size_t *size)
{
  la_int64_t off;
  int r;

  *size = 0;
  while (!u->outer_eof)
    {
      r = archive_read_data_block (u->outer, buf, size, &off);
      if (r == ARCHIVE_EOF)
        {
          u->outer_eof = true;
          *size = 0;
          return 0;
        }
      if (r < ARCHIVE_WARN)
        {
          if (u->outer_error == NULL)
            u->outer_error = xstrdup (
                archive_error_string (u->outer) ? archive_error_string (u->outer) : "read error");
          return -1;
        }
      if (*size == 0)
        continue;
      kd_digest_update (u->md, *buf, *size);
      u->bytes += *size;
      return 0;
    }
  return 0;
}

static la_ssize_t
inner_read_cb (struct archive *a, void *data, const void **buf)
{
  unpack_t *u = data;
  size_t size;

  if (outer_next (u, buf, &size) < 0)
    {
      archive_set_error (a, EIO, "%s", u->outer_error);
      return -1;
    }
  return (la_ssize_t) size;
}

/* ---- checks on entry names ------------------------------------------------ */

/* "./a//b/./c" -> "a/b/c"; absolute paths and ".." are errors, not skipped:
   a layer that carries them is broken or hostile. */
static int
clean_path (const char *name, char **out, kd_error_t *err)
{
  kd_buf_t b = { 0 };
  const char *p = name;

  if (strlen (name) > MAX_NAME_BYTES)
    return kd_make_error (err, 0, "name longer than %d bytes", MAX_NAME_BYTES);
  if (name[0] == '/')
    return kd_make_error (err, 0, "absolute path `%s`", name);
  while (*p)
    {
      const char *e = strchrnul (p, '/');
      size_t n = (size_t) (e - p);

      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          kd_buf_free (&b);
          return kd_make_error (err, 0, "path `%s` contains `..`", name);
        }
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (b.len > 0)
            kd_buf_putc (&b, '/');
          kd_buf_append (&b, p, n);
        }
      p = *e ? e + 1 : e;
    }
  *out = kd_buf_steal (&b);
  return 0;
}

/* Refuses a path whose directories (all but the last component) include a
   symlink: a link placed by an earlier entry must never redirect a later
   write, wherever it points. Missing directories are fine (created later). */
static int
check_parents (const char *rel, kd_error_t *err)
{
  cleanup_free char *p = xstrdup (rel);
  struct stat st;

  for (char *s = strchr (p, '/'); s; s = strchr (s + 1, '/'))
    {
      *s = '\0';
      if (lstat (p, &st) < 0)
        {
          if (errno == ENOENT)
            return 0;
          return kd_make_error (err, errno, "lstat `%s`", p);
        }
      if (S_ISLNK (st.st_mode))
        return kd_make_error (err, 0, "`%s` would be written through the symlink `%s`", rel, p);
      *s = '/';
    }
  return 0;
}

static int
mkdir_parents (const char *rel, kd_error_t *err)
{
  cleanup_free char *p = xstrdup (rel);
  char *slash = strrchr (p, '/');

  if (slash == NULL)
    return 0;
  *slash = '\0';
  return kd_mkdir_p (p, 0755, err);
}

/* ---- whiteouts --------------------------------------------------------- */

/* `.wh..wh..opq` marks its directory opaque; `.wh.<name>` becomes the
   overlayfs whiteout for <name>, a 0/0 character device. Both need root
   (mknod, trusted.* xattrs). */
static int
apply_whiteout (const char *rel, const char *base, kd_error_t *err)
{
  cleanup_free char *dir = xstrndup (rel, (size_t) (base - rel));
  cleanup_free char *target = NULL;
  struct stat st;

  if (dir[0] != '\0')
    dir[strlen (dir) - 1] = '\0'; /* the trailing slash */
  else
    {
      free (dir);
      dir = xstrdup (".");
    }
  if (mkdir_parents (rel, err) < 0)
    return -1;

  if (strcmp (base, WH_OPAQUE) == 0)
    {
      if (lstat (dir, &st) < 0)
        return kd_make_error (err, errno, "lstat `%s`", dir);
      if (!S_ISDIR (st.st_mode))
        return kd_make_error (err, 0, "opaque marker `%s`: `%s` is not a directory", rel, dir);
      if (lsetxattr (dir, OPAQUE_XATTR, "y", 1, 0) < 0)
        {
          if (errno == EPERM)
            return kd_make_error (
                err, errno, "opaque directory `%s` needs root (setxattr " OPAQUE_XATTR ")", dir);
          return kd_make_error (err, errno, "setxattr " OPAQUE_XATTR " on `%s`", dir);
        }
      return 0;
    }
  if (kd_str_has_prefix (base, WH_META_PREFIX))
    {
      /* aufs metadata (.wh..wh.plnk and friends): nothing for overlayfs. */
      kd_vlog (4, "layer: skipping aufs metadata `%s`", rel);
      return 0;
    }

  base += strlen (WH_PREFIX);
  if (base[0] == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return kd_make_error (err, 0, "invalid whiteout `%s`", rel);
  target = strcmp (dir, ".") == 0 ? xstrdup (base) : xasprintf ("%s/%s", dir, base);
  if (mknod (target, S_IFCHR | 0, makedev (0, 0)) < 0)
    {
      if (errno == EPERM)
        return kd_make_error (err, errno, "whiteout `%s` needs root (mknod)", target);
      return kd_make_error (err, errno, "whiteout: mknod `%s`", target);
    }
  return 0;
}

/* ---- one entry ------------------------------------------------------------ */

/* Overlay's own attributes (opaque, redirect, metacopy, ...) come only from
   the whiteout handling above, never from the layer's xattr records. */
static void
drop_overlay_xattrs (struct archive_entry *entry)
{
  const char *name;
  const void *value;
  size_t size, n = 0, kept = 0;
  struct
  {
    char *name;
    void *value;
    size_t size;
  } *keep = NULL;

  if (archive_entry_xattr_reset (entry) == 0)
    return;
  keep = xcalloc ((size_t) archive_entry_xattr_count (entry), sizeof (*keep));
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      n++;
      if (kd_str_has_prefix (name, "trusted.overlay.") || kd_str_has_prefix (name, "user.overlay."))
        continue;
      keep[kept].name = xstrdup (name);
      keep[kept].value = xmalloc (size + 1);
      memcpy (keep[kept].value, value, size);
      keep[kept].size = size;
      kept++;
    }
  if (kept != n)
    {
      archive_entry_xattr_clear (entry);
      for (size_t i = 0; i < kept; i++)
        archive_entry_xattr_add_entry (entry, keep[i].name, keep[i].value, keep[i].size);
    }
  for (size_t i = 0; i < kept; i++)
    {
      free (keep[i].name);
      free (keep[i].value);
    }
  free (keep);
}

static int
check_type (struct archive_entry *entry, const char *rel, kd_error_t *err)
{
  const char *link = archive_entry_symlink (entry);

  switch (archive_entry_filetype (entry))
    {
    case AE_IFREG:
    case AE_IFDIR:
    case AE_IFIFO:
      return 0;
    case AE_IFLNK:
      if (link == NULL)
        return kd_make_error (err, 0, "symlink `%s` without a target", rel);
      if (strlen (link) > MAX_NAME_BYTES)
        return kd_make_error (err, 0, "symlink `%s`: target longer than %d bytes", rel,
                              MAX_NAME_BYTES);
      return 0;
    case AE_IFCHR:
      /* A layer written in overlay's own format carries its whiteouts as
         0/0 character devices; any other device is refused. */
      if (archive_entry_rdevmajor (entry) == 0 && archive_entry_rdevminor (entry) == 0)
        return 0;
      return kd_make_error (err, 0, "device node `%s` is not allowed in a layer", rel);
    case AE_IFBLK:
      return kd_make_error (err, 0, "device node `%s` is not allowed in a layer", rel);
    default:
      return kd_make_error (err, 0, "`%s` has an unsupported file type 0%o", rel,
                            (unsigned) archive_entry_filetype (entry));
    }
}

/* Hard links resolve inside this layer only: the target is a clean relative
   path, not behind a symlink, and was extracted by an earlier entry (the
   temp root started empty). */
static int
check_hardlink (struct archive_entry *entry, const char *rel, const char *link, kd_error_t *err)
{
  cleanup_free char *target = NULL;
  struct stat st;

  if (clean_path (link, &target, err) < 0)
    return kd_error_wrap (err, "hard link `%s`", rel);
  if (target[0] == '\0' || check_parents (target, err) < 0)
    return kd_make_error (err, 0, "hard link `%s` to `%s`: bad target", rel, link);
  if (lstat (target, &st) < 0)
    return kd_make_error (err, 0, "hard link `%s` to `%s`: the target is not in this layer", rel,
                          link);
  if (S_ISDIR (st.st_mode))
    return kd_make_error (err, 0, "hard link `%s` to the directory `%s`", rel, link);
  archive_entry_set_hardlink (entry, target);
  return 0;
}

static int
copy_data (struct archive *in, struct archive *disk, const char *rel, kd_error_t *err)
{
  const void *buf;
  size_t size;
  la_int64_t off;

  for (;;)
    {
      int r = archive_read_data_block (in, &buf, &size, &off);
      if (r == ARCHIVE_EOF)
        return 0;
      if (r < ARCHIVE_WARN)
        return kd_make_error (err, 0, "read `%s`: %s", rel, archive_error_string (in));
      if (archive_write_data_block (disk, buf, size, off) < ARCHIVE_WARN)
        return kd_make_error (err, 0, "write `%s`: %s", rel, archive_error_string (disk));
    }
}

static int
extract_entry (struct archive *in, struct archive *disk, struct archive_entry *entry,
               kd_error_t *err)
{
  const char *name = archive_entry_pathname (entry);
  const char *link = archive_entry_hardlink (entry);
  cleanup_free char *rel = NULL;
  const char *base;
  int r;

  if (name == NULL)
    return kd_make_error (err, 0, "an entry has no readable name");
  if (clean_path (name, &rel, err) < 0)
    return -1;
  /* The layer's root is the temp directory itself, created 0755. */
  if (rel[0] == '\0')
    return 0;
  if (check_parents (rel, err) < 0)
    return -1;

  base = strrchr (rel, '/');
  base = base ? base + 1 : rel;
  if (kd_str_has_prefix (base, WH_PREFIX))
    return apply_whiteout (rel, base, err);

  if (link != NULL)
    {
      if (check_hardlink (entry, rel, link, err) < 0)
        return -1;
    }
  else if (check_type (entry, rel, err) < 0)
    return -1;

  archive_entry_set_pathname (entry, rel);
  drop_overlay_xattrs (entry);
  r = archive_write_header (disk, entry);
  if (r < ARCHIVE_WARN)
    return kd_make_error (err, 0, "extract `%s`: %s", rel, archive_error_string (disk));
  if (r == ARCHIVE_WARN)
    kd_vlog (4, "layer: `%s`: %s", rel, archive_error_string (disk));
  if (archive_entry_size (entry) > 0 && copy_data (in, disk, rel, err) < 0)
    return -1;
  r = archive_write_finish_entry (disk);
  if (r < ARCHIVE_WARN)
    return kd_make_error (err, 0, "extract `%s`: %s", rel, archive_error_string (disk));
  return 0;
}

/* ---- the pass ----------------------------------------------------------- */

static int
stream_error (unpack_t *u, struct archive *inner, kd_error_t *err)
{
  if (u->outer_error)
    return kd_make_error (err, 0, "read layer: %s", u->outer_error);
  return kd_make_error (err, 0, "read layer: %s",
                        archive_error_string (inner) ? archive_error_string (inner)
                                                     : "unknown error");
}

static int
extract_all (unpack_t *u, struct archive *inner, struct archive *disk, kd_error_t *err)
{
  struct archive_entry *entry;
  size_t count = 0;

  for (;;)
    {
      int r = archive_read_next_header (inner, &entry);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        return stream_error (u, inner, err);
      if (++count > MAX_ENTRIES)
        return kd_make_error (err, 0, "layer has more than %d entries", MAX_ENTRIES);
      if (extract_entry (inner, disk, entry, err) < 0)
        return -1;
    }
  /* Deferred directory permissions and times are applied here. */
  if (archive_write_close (disk) < ARCHIVE_WARN)
    return kd_make_error (err, 0, "extract: %s", archive_error_string (disk));
  return 0;
}

static int
drain_and_verify (unpack_t *u, kd_error_t *err)
{
  const void *buf;
  size_t size;
  unsigned char md[KD_DIGEST_MAX];
  size_t md_len = 0;
  char hex[2 * KD_DIGEST_MAX + 1];

  do
    if (outer_next (u, &buf, &size) < 0)
      return kd_make_error (err, 0, "read layer: %s", u->outer_error);
  while (size > 0);

  md_len = kd_digest_final (u->md, md);
  for (unsigned int i = 0; i < md_len; i++)
    snprintf (hex + 2 * i, 3, "%02x", md[i]);
  if (u->diff_hex && strcmp (hex, u->diff_hex) != 0)
    return kd_make_error (
        err, 0, "diff_id mismatch: the uncompressed layer is sha256:%s, expected sha256:%s", hex,
        u->diff_hex);
  return 0;
}

static int
unpack_run (unpack_t *u, kd_error_t *err)
{
  struct archive *inner = NULL, *disk = NULL;
  struct archive_entry *raw;
  int ret = -1, r;

  if (unshare (CLONE_FS) < 0)
    return kd_make_error (err, errno, "unshare CLONE_FS");
  if (fchdir (u->root_fd) < 0)
    return kd_make_error (err, errno, "fchdir to the temp directory");

  u->outer = archive_read_new ();
  archive_read_support_filter_all (u->outer);
  archive_read_support_format_raw (u->outer);
  if (archive_read_open_fd (u->outer, u->blob_fd, OUTER_BLOCK_SIZE) != ARCHIVE_OK)
    {
      kd_make_error (err, 0, "read layer: %s", outer_error_string (u->outer));
      goto out;
    }
  r = archive_read_next_header (u->outer, &raw);
  if (r == ARCHIVE_EOF)
    {
      kd_make_error (err, 0, "the layer is empty");
      goto out;
    }
  if (r < ARCHIVE_WARN)
    {
      kd_make_error (err, 0, "read layer: %s", outer_error_string (u->outer));
      goto out;
    }

  inner = archive_read_new ();
  archive_read_support_format_tar (inner);
  if (archive_read_open (inner, u, NULL, inner_read_cb, NULL) != ARCHIVE_OK)
    {
      stream_error (u, inner, err);
      goto out;
    }
  disk = archive_write_disk_new ();
  archive_write_disk_set_options (disk, extract_flags);

  if (extract_all (u, inner, disk, err) < 0)
    goto out;
  if (drain_and_verify (u, err) < 0)
    goto out;
  ret = 0;

out:
  if (disk)
    archive_write_free (disk);
  if (inner)
    archive_read_free (inner);
  archive_read_free (u->outer);
  u->outer = NULL;
  return ret;
}

static void *
unpack_thread (void *arg)
{
  unpack_t *u = arg;

  u->ret = unpack_run (u, &u->err);
  return NULL;
}

/* ---- removing a failed temp directory ------------------------------------ */

static int
rm_cb (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (remove (path) < 0 && errno != ENOENT)
    kd_vlog (2, "layer: remove `%s`: %s", path, strerror (errno));
  return 0;
}

static int
unlock_dir_cb (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  /* Without root, a directory extracted 0555 or 0000 keeps its entries. */
  if (flag == FTW_D || flag == FTW_DNR)
    chmod (path, 0700);
  return 0;
}

static void
remove_tree (const char *path)
{
  if (geteuid () != 0)
    nftw (path, unlock_dir_cb, 32, FTW_PHYS);
  nftw (path, rm_cb, 32, FTW_PHYS | FTW_DEPTH);
}

/* ---- the entry point --------------------------------------------------- */

int
kd_layer_unpack (const char *blob_path, const char *diff_id, const char *dest, kd_error_t *err)
{
  cleanup_close int blob_fd = -1;
  cleanup_close int root_fd = -1;
  cleanup_free char *tmp = NULL;
  unpack_t u = { 0 };
  pthread_t th;
  struct stat st;
  int r;

  if (diff_id && parse_sha256 (diff_id, err) < 0)
    return -1;
  if (lstat (dest, &st) == 0)
    return kd_make_error (err, EEXIST, "unpack to `%s`", dest);
  blob_fd = open (blob_path, O_RDONLY | O_CLOEXEC);
  if (blob_fd < 0)
    return kd_make_error (err, errno, "open `%s`", blob_path);

  tmp = xasprintf ("%s.tmp.XXXXXX", dest);
  if (mkdtemp (tmp) == NULL)
    return kd_make_error (err, errno, "mkdtemp `%s`", tmp);
  root_fd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0 || fchmod (root_fd, 0755) < 0)
    {
      kd_make_error (err, errno, "open `%s`", tmp);
      goto fail;
    }

  u.blob_fd = blob_fd;
  u.root_fd = root_fd;
  u.blob_path = blob_path;
  u.diff_hex = diff_id ? diff_id + strlen ("sha256:") : NULL;
  u.md = kd_digest_new (KD_SHA256);
  r = pthread_create (&th, NULL, unpack_thread, &u);
  if (r != 0)
    {
      kd_digest_free (u.md);
      kd_make_error (err, r, "pthread_create");
      goto fail;
    }
  pthread_join (th, NULL);
  kd_digest_free (u.md);
  free (u.outer_error);
  if (u.ret < 0)
    {
      if (err && *err == NULL)
        *err = steal_pointer (&u.err);
      kd_error_release (&u.err);
      kd_error_wrap (err, "layer `%s`", blob_path);
      goto fail;
    }

  /* The layer is complete on disk before its name appears. */
  if (syncfs (root_fd) < 0)
    {
      kd_make_error (err, errno, "syncfs `%s`", tmp);
      goto fail;
    }
  if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) < 0)
    {
      kd_make_error (err, errno, "rename `%s` to `%s`", tmp, dest);
      goto fail;
    }
  return 0;

fail:
  remove_tree (tmp);
  return -1;
}
