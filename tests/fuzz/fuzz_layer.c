/* libFuzzer target for layer unpacking: every input is a layer blob (any
   compression), written to a temp file and unpacked with no diff_id into a
   fresh directory, which is then removed. Crashes, leaks, sanitizer reports,
   a failed unpack that leaves something behind, and anything written next to
   the unpack directory (where `../` would land) are findings. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "kubeletd/image.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char work[] = "/tmp/kd-fuzz-layer-XXXXXX";
static char blob[64], root[64], dest[80];

static int
unlock_cb (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  /* Extracted directories may be 0000; the fuzzer may run without root. */
  if (flag == FTW_D || flag == FTW_DNR)
    chmod (path, 0700);
  return 0;
}

static int
rm_cb (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  remove (path);
  return 0;
}

/* The number of names in dir other than `keep`. */
static int
count_others (const char *dir, const char *keep)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;

  if (d == NULL)
    abort ();
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..") && !kd_str_eq (de->d_name, keep))
      n++;
  closedir (d);
  return n;
}

static void
cleanup_work (void)
{
  unlink (blob);
  rmdir (work);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  kd_error_t err = NULL;
  int fd;

  if (blob[0] == '\0')
    {
      if (mkdtemp (work) == NULL)
        abort ();
      snprintf (blob, sizeof (blob), "%s/blob", work);
      snprintf (root, sizeof (root), "%s/root", work);
      snprintf (dest, sizeof (dest), "%s/layer", root);
      atexit (cleanup_work);
    }
  if (mkdir (root, 0755) < 0)
    abort ();
  fd = open (blob, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, data, size) != (ssize_t) size)
    abort ();
  close (fd);

  if (kd_layer_unpack (blob, NULL, dest, &err) < 0)
    {
      /* A failed unpack leaves neither dest nor its temp directory. */
      if (count_others (root, NULL) != 0)
        abort ();
      kd_error_release (&err);
    }
  else if (count_others (root, "layer") != 0)
    abort ();
  /* Only the blob and root are in the work directory. */
  if (count_others (work, "root") != 1)
    abort ();
  nftw (root, unlock_cb, 16, FTW_PHYS);
  nftw (root, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
  if (access (root, F_OK) == 0)
    abort ();
  return 0;
}
