/* Import sources (a layout directory or a tar) and the plan that copies
   their blobs into the store, verified. See import-internal.h. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "import-internal.h"
#include "kubeletd/lazy-archive.h"

#define MEM_FILE_MAX  (4 << 20)  /* tar files kept in memory by the first pass */
#define MEM_TOTAL_MAX (64 << 20) /* ... up to this much in all */
#define MAX_ENTRIES   100000
#define MAX_LINK_HOPS 16
#define COPY_BLOCK    (128 * 1024)

typedef struct
{
  char *name;
  char *link; /* hard or symbolic link target, as a name in the archive */
  char *data; /* the content when kept in memory */
  size_t len;
  bool big; /* a regular file too large to keep: streamed by a second pass */
} tar_file_t;

struct kd_import_src
{
  char *path;
  int dir_fd; /* >= 0 for a directory */
  tar_file_t *files;
  size_t n_files, cap_files;
  size_t mem_total;
};

/* ---- names inside an archive --------------------------------------------- */

/* Lexical normalization of a name inside the archive's own namespace
   ("./a//b/../c" -> "a/c"); ".." never climbs above the top. These names
   are only compared with each other, never used as paths on disk. */
static char *
norm_name (const char *base_dir, const char *name)
{
  cleanup_free char *joined = NULL;
  char **parts;
  size_t n = 0;
  kd_buf_t b = { 0 };
  char *save = NULL;

  if (base_dir && base_dir[0] && name[0] != '/')
    joined = xasprintf ("%s/%s", base_dir, name);
  else
    joined = xstrdup (name);
  parts = xcalloc (strlen (joined) + 1, sizeof (char *));
  for (char *t = strtok_r (joined, "/", &save); t; t = strtok_r (NULL, "/", &save))
    {
      if (strcmp (t, ".") == 0)
        continue;
      if (strcmp (t, "..") == 0)
        {
          if (n > 0)
            n--;
          continue;
        }
      parts[n++] = t;
    }
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        kd_buf_putc (&b, '/');
      kd_buf_puts (&b, parts[i]);
    }
  free (parts);
  return kd_buf_steal (&b);
}

static tar_file_t *
find_file (kd_import_src_t *src, const char *name)
{
  /* The last entry of a name wins, as when a tar is extracted. */
  for (size_t i = src->n_files; i-- > 0;)
    if (strcmp (src->files[i].name, name) == 0)
      return &src->files[i];
  return NULL;
}

static tar_file_t *
resolve (kd_import_src_t *src, const char *name)
{
  cleanup_free char *n = norm_name (NULL, name);
  tar_file_t *f = NULL;

  for (int hop = 0; hop < MAX_LINK_HOPS; hop++)
    {
      f = find_file (src, n);
      if (f == NULL || f->link == NULL)
        return f;
      free (n);
      n = xstrdup (f->link);
    }
  return NULL;
}

/* ---- the first pass over a tar ------------------------------------------ */

static struct archive *
open_tar (const char *path, kd_error_t *err)
{
  struct archive *a = archive_read_new ();

  /* `docker save | gzip` is common enough to accept compressed tars. */
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, path, COPY_BLOCK) != ARCHIVE_OK)
    {
      kd_make_error (err, 0, "read `%s`: %s", path, archive_error_string (a));
      archive_read_free (a);
      return NULL;
    }
  return a;
}

static int
read_entry_data (struct archive *a, const char *path, const char *name, size_t size, char **out,
                 kd_error_t *err)
{
  cleanup_free char *buf = xmalloc (size + 1);
  size_t got = 0;

  for (;;)
    {
      la_ssize_t r = archive_read_data (a, buf + got, size + 1 - got);
      if (r < 0)
        return kd_make_error (err, 0, "read `%s` in `%s`: %s", name, path,
                              archive_error_string (a));
      if (r == 0)
        break;
      got += (size_t) r;
      if (got > size)
        return kd_make_error (err, 0, "`%s` in `%s` is longer than its header says", name, path);
    }
  if (got != size)
    return kd_make_error (err, 0, "`%s` in `%s` is truncated", name, path);
  buf[got] = '\0';
  *out = steal_pointer (&buf);
  return 0;
}

static int
scan_tar (kd_import_src_t *src, kd_error_t *err)
{
  struct archive *a = open_tar (src->path, err);
  struct archive_entry *e;
  int ret = -1;

  if (a == NULL)
    return -1;
  for (;;)
    {
      int r = archive_read_next_header (a, &e);
      const char *name, *hard, *sym;
      tar_file_t *f;
      la_int64_t size;

      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          kd_make_error (err, 0, "read `%s`: %s", src->path, archive_error_string (a));
          goto out;
        }
      if (src->n_files >= MAX_ENTRIES)
        {
          kd_make_error (err, 0, "`%s` has more than %d entries", src->path, MAX_ENTRIES);
          goto out;
        }
      name = archive_entry_pathname (e);
      hard = archive_entry_hardlink (e);
      sym = archive_entry_symlink (e);
      if (name == NULL)
        continue;
      if (hard == NULL && archive_entry_filetype (e) != AE_IFREG
          && !(archive_entry_filetype (e) == AE_IFLNK && sym))
        continue;

      kd_grow ((void **) &src->files, &src->cap_files, src->n_files, sizeof (*src->files));
      f = &src->files[src->n_files++];
      memset (f, 0, sizeof (*f));
      f->name = norm_name (NULL, name);
      if (hard)
        f->link = norm_name (NULL, hard);
      else if (archive_entry_filetype (e) == AE_IFLNK)
        {
          /* docker save links repeated layers: "<id>/layer.tar" -> "../<id2>/layer.tar". */
          cleanup_free char *dir = xstrdup (f->name);
          char *slash = strrchr (dir, '/');
          if (slash)
            *slash = '\0';
          else
            dir[0] = '\0';
          f->link = norm_name (dir, sym);
        }
      else
        {
          size = archive_entry_size (e);
          if (size < 0)
            size = 0;
          if ((uint64_t) size <= MEM_FILE_MAX && src->mem_total + (size_t) size <= MEM_TOTAL_MAX)
            {
              if (read_entry_data (a, src->path, f->name, (size_t) size, &f->data, err) < 0)
                goto out;
              f->len = (size_t) size;
              src->mem_total += f->len;
            }
          else
            f->big = true;
        }
    }
  ret = 0;
out:
  archive_read_free (a);
  return ret;
}

int
kd_import_src_open (const char *path, kd_import_src_t **out, kd_error_t *err)
{
  kd_import_src_t *src;
  struct stat st;

  if (stat (path, &st) < 0)
    return kd_make_error (err, errno, "import `%s`", path);
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    return kd_make_error (err, 0, "import `%s`: not a directory or a file", path);
  src = xcalloc (1, sizeof (*src));
  src->path = xstrdup (path);
  src->dir_fd = -1;
  if (S_ISDIR (st.st_mode))
    {
      src->dir_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (src->dir_fd < 0)
        {
          kd_import_src_free (src);
          return kd_make_error (err, errno, "open `%s`", path);
        }
    }
  else if (scan_tar (src, err) < 0)
    {
      kd_import_src_free (src);
      return -1;
    }
  *out = src;
  return 0;
}

void
kd_import_src_free (kd_import_src_t *src)
{
  if (src == NULL)
    return;
  for (size_t i = 0; i < src->n_files; i++)
    {
      free (src->files[i].name);
      free (src->files[i].link);
      free (src->files[i].data);
    }
  free (src->files);
  if (src->dir_fd >= 0)
    close (src->dir_fd);
  free (src->path);
  free (src);
}

/* ---- files of a layout directory ------------------------------------------ */

/* Opens a file beneath the layout directory: names come from the input
   (docker save layer paths) and must not reach outside it, through ".."
   or through a symlink. */
static int
open_beneath (kd_import_src_t *src, const char *name, kd_error_t *err)
{
  struct open_how how = {
    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  struct stat st;
  int fd;

  fd = (int) syscall (SYS_openat2, src->dir_fd, name, &how, sizeof (how));
  if (fd < 0 && errno == ENOSYS)
    {
      cleanup_free char *n = norm_name (NULL, name);
      if (name[0] == '/' || strstr (name, "..") != NULL)
        return kd_make_error (err, EXDEV, "open `%s` in `%s`", name, src->path);
      fd = openat (src->dir_fd, n, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    }
  if (fd < 0)
    return kd_make_error (err, errno, "open `%s` in `%s`", name, src->path);
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return kd_make_error (err, 0, "`%s` in `%s` is not a regular file", name, src->path);
    }
  return fd;
}

bool
kd_import_src_has (kd_import_src_t *src, const char *name)
{
  if (src->dir_fd >= 0)
    {
      kd_error_t err = NULL;
      int fd = open_beneath (src, name, &err);
      kd_error_release (&err);
      if (fd < 0)
        return false;
      close (fd);
      return true;
    }
  return resolve (src, name) != NULL;
}

int
kd_import_src_read (kd_import_src_t *src, const char *name, size_t max, char **data, size_t *len,
                    kd_error_t *err)
{
  if (src->dir_fd >= 0)
    {
      cleanup_close int fd = open_beneath (src, name, err);
      cleanup_free char *buf = NULL;
      size_t n = 0;
      struct stat st;

      if (fd < 0)
        return -1;
      if (fstat (fd, &st) < 0)
        return kd_make_error (err, errno, "stat `%s`", name);
      if ((uint64_t) st.st_size > max)
        return kd_make_error (err, 0, "`%s` in `%s` is too large (limit %zu bytes)", name,
                              src->path, max);
      buf = xmalloc ((size_t) st.st_size + 1);
      while (n < (size_t) st.st_size)
        {
          ssize_t r = read (fd, buf + n, (size_t) st.st_size - n);
          if (r < 0 && errno == EINTR)
            continue;
          if (r < 0)
            return kd_make_error (err, errno, "read `%s` in `%s`", name, src->path);
          if (r == 0)
            break;
          n += (size_t) r;
        }
      buf[n] = '\0';
      *data = steal_pointer (&buf);
      *len = n;
      return 0;
    }
  else
    {
      tar_file_t *f = resolve (src, name);
      if (f == NULL)
        return kd_make_error (err, ENOENT, "`%s` in `%s`", name, src->path);
      if (f->big || f->len > max)
        return kd_make_error (err, 0, "`%s` in `%s` is too large (limit %zu bytes)", name,
                              src->path, max);
      *data = xmalloc (f->len + 1);
      memcpy (*data, f->data, f->len);
      (*data)[f->len] = '\0';
      *len = f->len;
      return 0;
    }
}

/* ---- the plan ------------------------------------------------------------- */

size_t
kd_import_plan_add (kd_import_plan_t *p, const char *name, const char *digest, int64_t size,
                    const char *data, size_t data_len)
{
  kd_import_item_t *it;

  for (size_t i = 0; i < p->n; i++)
    if (strcmp (p->items[i].name, name) == 0)
      return i;
  kd_grow ((void **) &p->items, &p->cap, p->n, sizeof (*p->items));
  it = &p->items[p->n];
  memset (it, 0, sizeof (*it));
  it->name = xstrdup (name);
  it->digest = digest ? xstrdup (digest) : NULL;
  it->size = size;
  it->data = data;
  it->data_len = data_len;
  return p->n++;
}

static int
item_begin (kd_import_item_t *it, const kd_image_store_t *s, kd_error_t *err)
{
  if (kd_blob_writer_new (s, &it->w, err) < 0)
    return -1;
  it->md = kd_digest_new (KD_SHA256);
  return 0;
}

static int
item_feed (kd_import_item_t *it, const void *buf, size_t len, kd_error_t *err)
{
  if (it->n_magic < sizeof (it->magic))
    {
      size_t k = sizeof (it->magic) - it->n_magic;
      if (k > len)
        k = len;
      memcpy (it->magic + it->n_magic, buf, k);
      it->n_magic += k;
    }
  kd_digest_update (it->md, buf, len);
  it->got_size += (int64_t) len;
  if (it->size >= 0 && it->got_size > it->size)
    return kd_make_error (err, 0, "`%s`: larger than the %lld bytes its descriptor says", it->name,
                          (long long) it->size);
  return kd_blob_writer_write (it->w, buf, len, err);
}

static int
item_end (kd_import_item_t *it, kd_error_t *err)
{
  unsigned char md[KD_DIGEST_MAX];
  size_t n = 0;

  n = kd_digest_final (it->md, md);
  kd_digest_free (it->md);
  it->md = NULL;
  strcpy (it->got, "sha256:");
  for (unsigned int i = 0; i < n; i++)
    snprintf (it->got + 7 + 2 * i, 3, "%02x", md[i]);
  it->done = true;
  if (it->digest && strcmp (it->digest, it->got) != 0)
    return kd_make_error (err, 0, "`%s`: digest mismatch: got %s, expected %s", it->name, it->got,
                          it->digest);
  if (it->size >= 0 && it->size != it->got_size)
    return kd_make_error (err, 0, "`%s`: size mismatch: got %lld bytes, expected %lld", it->name,
                          (long long) it->got_size, (long long) it->size);
  return 0;
}

static int
copy_fd (kd_import_item_t *it, int fd, kd_error_t *err)
{
  cleanup_free char *buf = xmalloc (COPY_BLOCK);

  for (;;)
    {
      ssize_t r = read (fd, buf, COPY_BLOCK);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return kd_make_error (err, errno, "read `%s`", it->name);
      if (r == 0)
        return 0;
      if (item_feed (it, buf, (size_t) r, err) < 0)
        return -1;
    }
}

/* The second pass over a tar: streams the large files still missing. */
static int
stream_big (kd_import_plan_t *p, kd_import_src_t *src, kd_error_t *err)
{
  struct archive *a = open_tar (src->path, err);
  struct archive_entry *e;
  int ret = -1;

  if (a == NULL)
    return -1;
  for (;;)
    {
      int r = archive_read_next_header (a, &e);
      cleanup_free char *name = NULL;
      const void *buf;
      size_t size;
      la_int64_t off;
      bool wanted = false;

      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          kd_make_error (err, 0, "read `%s`: %s", src->path, archive_error_string (a));
          goto out;
        }
      if (archive_entry_pathname (e) == NULL || archive_entry_filetype (e) != AE_IFREG
          || archive_entry_hardlink (e) != NULL)
        continue;
      name = norm_name (NULL, archive_entry_pathname (e));
      for (size_t i = 0; i < p->n; i++)
        {
          tar_file_t *f = p->items[i].done ? NULL : resolve (src, p->items[i].name);
          if (f && f->big && strcmp (f->name, name) == 0)
            wanted = true;
        }
      if (!wanted)
        continue;
      for (;;)
        {
          r = archive_read_data_block (a, &buf, &size, &off);
          if (r == ARCHIVE_EOF)
            break;
          if (r < ARCHIVE_WARN)
            {
              kd_make_error (err, 0, "read `%s` in `%s`: %s", name, src->path,
                             archive_error_string (a));
              goto out;
            }
          for (size_t i = 0; i < p->n; i++)
            {
              tar_file_t *f = p->items[i].done ? NULL : resolve (src, p->items[i].name);
              if (f && f->big && strcmp (f->name, name) == 0
                  && item_feed (&p->items[i], buf, size, err) < 0)
                goto out;
            }
        }
      for (size_t i = 0; i < p->n; i++)
        {
          tar_file_t *f = p->items[i].done ? NULL : resolve (src, p->items[i].name);
          if (f && f->big && strcmp (f->name, name) == 0 && item_end (&p->items[i], err) < 0)
            goto out;
        }
    }
  for (size_t i = 0; i < p->n; i++)
    if (!p->items[i].done)
      {
        kd_make_error (err, 0, "`%s` is missing from `%s`", p->items[i].name, src->path);
        goto out;
      }
  ret = 0;
out:
  archive_read_free (a);
  return ret;
}

int
kd_import_plan_run (kd_import_plan_t *p, const kd_image_store_t *s, kd_import_src_t *src,
                    kd_error_t *err)
{
  bool need_pass = false;

  for (size_t i = 0; i < p->n; i++)
    {
      kd_import_item_t *it = &p->items[i];
      tar_file_t *f = NULL;

      if (it->done)
        continue;
      if (item_begin (it, s, err) < 0)
        return -1;
      if (it->data)
        {
          if (item_feed (it, it->data, it->data_len, err) < 0 || item_end (it, err) < 0)
            return -1;
          continue;
        }
      if (src->dir_fd >= 0)
        {
          cleanup_close int fd = open_beneath (src, it->name, err);
          if (fd < 0 || copy_fd (it, fd, err) < 0 || item_end (it, err) < 0)
            return -1;
          continue;
        }
      f = resolve (src, it->name);
      if (f == NULL)
        return kd_make_error (err, ENOENT, "`%s` in `%s`", it->name, src->path);
      if (f->big)
        {
          need_pass = true;
          continue;
        }
      if (item_feed (it, f->data, f->len, err) < 0 || item_end (it, err) < 0)
        return -1;
    }
  if (need_pass)
    return stream_big (p, src, err);
  return 0;
}

int
kd_import_plan_commit (kd_import_plan_t *p, kd_error_t *err)
{
  for (size_t i = 0; i < p->n; i++)
    {
      kd_import_item_t *it = &p->items[i];
      kd_blob_writer_t *w = steal_pointer (&it->w);
      if (w && kd_blob_writer_commit (w, it->got, it->got_size, err) < 0)
        return kd_error_wrap (err, "store `%s`", it->name);
    }
  return 0;
}

void
kd_import_plan_free (kd_import_plan_t *p)
{
  for (size_t i = 0; i < p->n; i++)
    {
      kd_blob_writer_abort (p->items[i].w);
      kd_digest_free (p->items[i].md);
      free (p->items[i].name);
      free (p->items[i].digest);
    }
  free (p->items);
  memset (p, 0, sizeof (*p));
}
