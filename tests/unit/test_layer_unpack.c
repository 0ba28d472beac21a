/* image/unpack: layer tars built here with libarchive's writer, unpacked with
   kd_layer_unpack; whiteouts, owners and setuid bits need root and are
   skipped (not failed) without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "kubeletd/image.h"

enum
{
  F_NONE,
  F_GZIP,
  F_ZSTD
};

typedef struct
{
  const char *name;
  unsigned type; /* AE_IF* */
  unsigned mode;
  const char *data;
  const char *symlink;
  const char *hardlink;
  int uid;
  unsigned rdev_major, rdev_minor;
  const char *xattr; /* "name=value" */
} ent_t;

typedef struct
{
  char base[64]; /* per-test scratch directory */
  char blob[128];
  char dest[128];
  char diff_id[80];
} fx_t;

static int
rm_cb (const char *p, const struct stat *st, int flag, struct FTW *f)
{
  remove (p);
  return 0;
}

static int
setup (void **state)
{
  fx_t *fx = calloc (1, sizeof (*fx));
  strcpy (fx->base, "/tmp/kd-test-unpack-XXXXXX");
  assert_non_null (mkdtemp (fx->base));
  snprintf (fx->blob, sizeof (fx->blob), "%s/layer.blob", fx->base);
  snprintf (fx->dest, sizeof (fx->dest), "%s/work/layer", fx->base);
  snprintf (fx->diff_id, sizeof (fx->diff_id), "%s/work", fx->base);
  assert_int_equal (mkdir (fx->diff_id, 0755), 0);
  fx->diff_id[0] = '\0';
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  fx_t *fx = *state;
  nftw (fx->base, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
  free (fx);
  return 0;
}

static void
sha256_hex (const void *data, size_t len, char *out)
{
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL);
  strcpy (out, "sha256:");
  for (unsigned i = 0; i < n; i++)
    sprintf (out + 7 + 2 * i, "%02x", md[i]);
}

/* Writes the entries as a pax tar, records its diff_id, and stores it
   (compressed as asked) at fx->blob. */
static void
make_layer (fx_t *fx, int filter, const ent_t *ents, size_t n)
{
  size_t cap = 4 << 20, used = 0, zused = 0;
  char *tar = malloc (cap), *z = malloc (cap);
  struct archive *a = archive_write_new ();
  FILE *f;

  archive_write_set_format_pax_restricted (a);
  assert_int_equal (archive_write_open_memory (a, tar, cap, &used), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *e = archive_entry_new ();
      size_t len = ents[i].data ? strlen (ents[i].data) : 0;
      archive_entry_set_pathname (e, ents[i].name);
      archive_entry_set_filetype (e, ents[i].type ? ents[i].type : AE_IFREG);
      archive_entry_set_perm (e, ents[i].mode ? ents[i].mode : 0644);
      archive_entry_set_uid (e, ents[i].uid);
      archive_entry_set_gid (e, ents[i].uid);
      archive_entry_set_mtime (e, 1000000, 0);
      if (ents[i].symlink)
        archive_entry_set_symlink (e, ents[i].symlink);
      if (ents[i].hardlink)
        archive_entry_set_hardlink (e, ents[i].hardlink);
      if (ents[i].type == AE_IFCHR || ents[i].type == AE_IFBLK)
        archive_entry_set_rdev (e, makedev (ents[i].rdev_major, ents[i].rdev_minor));
      if (ents[i].xattr)
        {
          const char *eq = strchr (ents[i].xattr, '=');
          char *xn = strndup (ents[i].xattr, (size_t) (eq - ents[i].xattr));
          archive_entry_xattr_add_entry (e, xn, eq + 1, strlen (eq + 1));
          free (xn);
        }
      archive_entry_set_size (e, ents[i].hardlink ? 0 : (la_int64_t) len);
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      if (len)
        assert_int_equal (archive_write_data (a, ents[i].data, len), (la_ssize_t) len);
      archive_entry_free (e);
    }
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  sha256_hex (tar, used, fx->diff_id);

  if (filter != F_NONE)
    {
      struct archive_entry *e = archive_entry_new ();
      a = archive_write_new ();
      archive_write_set_format_raw (a);
      if (filter == F_GZIP)
        archive_write_add_filter_gzip (a);
      else
        archive_write_add_filter_zstd (a);
      archive_write_set_bytes_in_last_block (a, 1);
      assert_int_equal (archive_write_open_memory (a, z, cap, &zused), ARCHIVE_OK);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_size (e, (la_int64_t) used);
      assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
      assert_int_equal (archive_write_data (a, tar, used), (la_ssize_t) used);
      assert_int_equal (archive_write_close (a), ARCHIVE_OK);
      archive_write_free (a);
      archive_entry_free (e);
    }
  f = fopen (fx->blob, "w");
  assert_non_null (f);
  if (filter == F_NONE)
    fwrite (tar, 1, used, f);
  else
    fwrite (z, 1, zused, f);
  fclose (f);
  free (tar);
  free (z);
}

static bool exists (const char *fmt, ...) KD_PRINTF (1, 2);
static bool
exists (const char *fmt, ...)
{
  char p[512];
  struct stat st;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (p, sizeof (p), fmt, ap);
  va_end (ap);
  return lstat (p, &st) == 0;
}

/* Nothing but the blob in base, nothing at all in base/work: no dest and
   no temp directory left behind. */
static void
assert_nothing_left (fx_t *fx)
{
  char work[160];
  DIR *d;
  struct dirent *de;
  snprintf (work, sizeof (work), "%s/work", fx->base);
  d = opendir (work);
  assert_non_null (d);
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      fail_msg ("left behind: %s", de->d_name);
  closedir (d);
}

static void
expect_rejected (fx_t *fx, const char *diff_id, const char *msg_part)
{
  kd_error_t err = NULL;
  assert_int_equal (kd_layer_unpack (fx->blob, diff_id, fx->dest, &err), -1);
  assert_non_null (err);
  if (strstr (err->msg, msg_part) == NULL)
    fail_msg ("error `%s` does not mention `%s`", err->msg, msg_part);
  kd_error_release (&err);
  assert_nothing_left (fx);
}

static const ent_t basic[] = {
  { .name = "./", .type = AE_IFDIR, .mode = 0755 },
  { .name = "./bin/", .type = AE_IFDIR, .mode = 0755 },
  { .name = "./bin/busybox", .mode = 0755, .data = "#!busybox\n" },
  { .name = "./bin/sh", .type = AE_IFLNK, .symlink = "busybox" },
  { .name = "./bin/su", .mode = 04755, .uid = 1000, .data = "su" },
  { .name = "./etc/hostname", .data = "node1\n" },
  { .name = "./etc/hostname.bak", .hardlink = "./etc/hostname" },
  { .name = "./empty/", .type = AE_IFDIR, .mode = 0700 },
};

static void
check_basic (fx_t *fx)
{
  char p[256], buf[64];
  struct stat st, st2;
  ssize_t n;

  snprintf (p, sizeof (p), "%s/bin/busybox", fx->dest);
  assert_int_equal (stat (p, &st), 0);
  assert_true (S_ISREG (st.st_mode));
  assert_int_equal (st.st_mode & 07777, 0755);
  assert_int_equal (st.st_mtime, 1000000);

  snprintf (p, sizeof (p), "%s/bin/sh", fx->dest);
  n = readlink (p, buf, sizeof (buf) - 1);
  assert_int_equal (n, 7);
  buf[n] = '\0';
  assert_string_equal (buf, "busybox");

  snprintf (p, sizeof (p), "%s/etc/hostname", fx->dest);
  assert_int_equal (stat (p, &st), 0);
  snprintf (p, sizeof (p), "%s/etc/hostname.bak", fx->dest);
  assert_int_equal (stat (p, &st2), 0);
  assert_int_equal (st.st_ino, st2.st_ino);
  assert_int_equal (st.st_nlink, 2);

  snprintf (p, sizeof (p), "%s/empty", fx->dest);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0700);

  snprintf (p, sizeof (p), "%s/bin/su", fx->dest);
  assert_int_equal (stat (p, &st), 0);
  if (geteuid () == 0)
    {
      assert_int_equal (st.st_uid, 1000);
      assert_int_equal (st.st_gid, 1000);
      assert_int_equal (st.st_mode & 07777, 04755);
    }
  /* No temp directory next to the result. */
  snprintf (p, sizeof (p), "%s/work", fx->base);
  {
    DIR *d = opendir (p);
    struct dirent *de;
    int count = 0;
    while ((de = readdir (d)))
      if (de->d_name[0] != '.')
        count++;
    closedir (d);
    assert_int_equal (count, 1);
  }
}

static void
unpack_ok (fx_t *fx, const char *diff_id)
{
  kd_error_t err = NULL;
  int r = kd_layer_unpack (fx->blob, diff_id, fx->dest, &err);
  if (r < 0)
    fail_msg ("unpack: %s", err->msg);
}

static void
test_uncompressed_layer_extracts_files_links_owner_and_setuid (void **state)
{
  fx_t *fx = *state;
  make_layer (fx, F_NONE, basic, KD_ARRAY_SIZE (basic));
  unpack_ok (fx, fx->diff_id);
  check_basic (fx);
}

static void
test_gzip_layer_verifies_diff_id_of_uncompressed_stream (void **state)
{
  fx_t *fx = *state;
  make_layer (fx, F_GZIP, basic, KD_ARRAY_SIZE (basic));
  unpack_ok (fx, fx->diff_id);
  check_basic (fx);
}

static void
test_zstd_layer_verifies_diff_id_of_uncompressed_stream (void **state)
{
  fx_t *fx = *state;
  make_layer (fx, F_ZSTD, basic, KD_ARRAY_SIZE (basic));
  unpack_ok (fx, fx->diff_id);
  check_basic (fx);
}

static void
test_null_diff_id_skips_verification (void **state)
{
  fx_t *fx = *state;
  make_layer (fx, F_GZIP, basic, KD_ARRAY_SIZE (basic));
  unpack_ok (fx, NULL);
  assert_true (exists ("%s/bin/busybox", fx->dest));
}

static void
test_whiteout_and_opaque_dir_become_overlay_whiteouts (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "etc/", .type = AE_IFDIR, .mode = 0755 },
    { .name = "etc/.wh.motd" },
    { .name = "var/cache/", .type = AE_IFDIR, .mode = 0755 },
    { .name = "var/cache/.wh..wh..opq" },
    { .name = "var/cache/new", .data = "x" },
    { .name = ".wh.toplevel" },
  };
  char p[256], v[8];
  struct stat st;
  kd_error_t err = NULL;

  make_layer (fx, F_GZIP, ents, KD_ARRAY_SIZE (ents));
  if (geteuid () != 0)
    {
      /* Without root the layer fails with a clear error. */
      assert_int_equal (kd_layer_unpack (fx->blob, fx->diff_id, fx->dest, &err), -1);
      assert_non_null (strstr (err->msg, "needs root"));
      kd_error_release (&err);
      assert_nothing_left (fx);
      skip ();
    }
  unpack_ok (fx, fx->diff_id);
  snprintf (p, sizeof (p), "%s/etc/motd", fx->dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (major (st.st_rdev), 0);
  assert_int_equal (minor (st.st_rdev), 0);
  snprintf (p, sizeof (p), "%s/toplevel", fx->dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_false (exists ("%s/etc/.wh.motd", fx->dest));

  snprintf (p, sizeof (p), "%s/var/cache", fx->dest);
  assert_int_equal (lgetxattr (p, "trusted.overlay.opaque", v, sizeof (v)), 1);
  assert_int_equal (v[0], 'y');
  assert_false (exists ("%s/var/cache/.wh..wh..opq", fx->dest));
  assert_true (exists ("%s/var/cache/new", fx->dest));
  /* Directories without the marker are not opaque. */
  snprintf (p, sizeof (p), "%s/etc", fx->dest);
  assert_int_equal (lgetxattr (p, "trusted.overlay.opaque", v, sizeof (v)), -1);
}

static void
test_overlay_xattrs_in_layer_are_dropped_others_kept (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "d/", .type = AE_IFDIR, .mode = 0755, .xattr = "trusted.overlay.opaque=y" },
    { .name = "f", .data = "x", .xattr = "trusted.overlay.redirect=/etc" },
    { .name = "g", .data = "x", .xattr = "user.note=kept" },
  };
  char p[256], v[16];
  if (geteuid () != 0)
    skip ();
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  unpack_ok (fx, fx->diff_id);
  snprintf (p, sizeof (p), "%s/d", fx->dest);
  assert_int_equal (lgetxattr (p, "trusted.overlay.opaque", v, sizeof (v)), -1);
  snprintf (p, sizeof (p), "%s/f", fx->dest);
  assert_int_equal (lgetxattr (p, "trusted.overlay.redirect", v, sizeof (v)), -1);
  snprintf (p, sizeof (p), "%s/g", fx->dest);
  assert_int_equal (lgetxattr (p, "user.note", v, sizeof (v)), 4);
  assert_memory_equal (v, "kept", 4);
}

static void
test_dotdot_entry_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "ok", .data = "fine" },
    { .name = "../escaped", .data = "evil" },
  };
  make_layer (fx, F_GZIP, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "..");
  assert_false (exists ("%s/escaped", fx->base));
}

static void
test_nested_dotdot_entry_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "a/b/../../../escaped", .data = "evil" },
  };
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, NULL, "..");
  assert_false (exists ("%s/escaped", fx->base));
}

static void
test_absolute_path_is_rejected (void **state)
{
  fx_t *fx = *state;
  char name[160];
  ent_t ents[] = {
    { .name = name, .data = "evil" },
  };
  snprintf (name, sizeof (name), "%s/abs-escaped", fx->base);
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, NULL, "absolute path");
  assert_false (exists ("%s/abs-escaped", fx->base));
}

static void
test_write_through_absolute_symlink_is_rejected (void **state)
{
  fx_t *fx = *state;
  char outside[160];
  ent_t ents[] = {
    { .name = "lnk", .type = AE_IFLNK, .symlink = outside },
    { .name = "lnk/pwned", .data = "evil" },
  };
  snprintf (outside, sizeof (outside), "%s/outside", fx->base);
  assert_int_equal (mkdir (outside, 0755), 0);
  make_layer (fx, F_GZIP, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "symlink");
  assert_false (exists ("%s/outside/pwned", fx->base));
  assert_true (exists ("%s/outside", fx->base));
}

static void
test_write_through_symlink_to_parent_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "d/", .type = AE_IFDIR, .mode = 0755 },
    { .name = "d/up", .type = AE_IFLNK, .symlink = "../.." },
    { .name = "d/up/escaped", .data = "evil" },
  };
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "symlink");
  assert_false (exists ("%s/escaped", fx->base));
  assert_false (exists ("%s/work/escaped", fx->base));
}

static void
test_symlink_to_dotdot_then_whiteout_through_it_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "up", .type = AE_IFLNK, .symlink = ".." },
    { .name = "up/.wh.layer.blob" },
  };
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "symlink");
  assert_true (exists ("%s/layer.blob", fx->base));
}

static void
test_hardlink_outside_layer_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "passwd", .hardlink = "/etc/passwd" },
  };
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "absolute path");
}

static void
test_hardlink_to_missing_target_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "passwd", .hardlink = "etc/passwd" },
  };
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "not in this layer");
}

static void
test_device_node_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "sda", .type = AE_IFBLK, .rdev_major = 8, .rdev_minor = 0 },
  };
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  expect_rejected (fx, fx->diff_id, "device node");
}

static void
test_overlay_format_whiteout_device_is_allowed (void **state)
{
  fx_t *fx = *state;
  static const ent_t ents[] = {
    { .name = "gone", .type = AE_IFCHR, .mode = 0 },
  };
  struct stat st;
  char p[256];
  if (geteuid () != 0)
    skip ();
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  unpack_ok (fx, fx->diff_id);
  snprintf (p, sizeof (p), "%s/gone", fx->dest);
  assert_int_equal (lstat (p, &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (st.st_rdev, makedev (0, 0));
}

static void
test_name_longer_than_4096_bytes_is_rejected (void **state)
{
  fx_t *fx = *state;
  char *name = malloc (5001);
  ent_t ents[] = {
    { .name = name, .data = "x" },
  };
  memset (name, 'a', 5000);
  for (int i = 200; i < 5000; i += 200)
    name[i] = '/';
  name[5000] = '\0';
  make_layer (fx, F_NONE, ents, KD_ARRAY_SIZE (ents));
  free (name);
  expect_rejected (fx, fx->diff_id, "4096");
}

static void
test_wrong_diff_id_is_rejected (void **state)
{
  fx_t *fx = *state;
  static const char wrong[]
      = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  make_layer (fx, F_GZIP, basic, KD_ARRAY_SIZE (basic));
  expect_rejected (fx, wrong, "diff_id mismatch");
}

static void
test_malformed_diff_id_is_rejected (void **state)
{
  fx_t *fx = *state;
  make_layer (fx, F_GZIP, basic, KD_ARRAY_SIZE (basic));
  expect_rejected (fx, "sha256:abc", "not a sha256 digest");
}

static void
test_truncated_gzip_stream_is_rejected (void **state)
{
  fx_t *fx = *state;
  struct stat st;
  make_layer (fx, F_GZIP, basic, KD_ARRAY_SIZE (basic));
  assert_int_equal (stat (fx->blob, &st), 0);
  assert_int_equal (truncate (fx->blob, st.st_size / 2), 0);
  expect_rejected (fx, fx->diff_id, "read layer");
  /* Without a diff_id to check, truncation is still an error. */
  expect_rejected (fx, NULL, "read layer");
}

static void
test_gzip_missing_only_its_trailer_is_rejected (void **state)
{
  fx_t *fx = *state;
  struct stat st;
  make_layer (fx, F_GZIP, basic, KD_ARRAY_SIZE (basic));
  assert_int_equal (stat (fx->blob, &st), 0);
  /* The 8-byte CRC/size trailer: every tar byte is there, the stream is not. */
  assert_int_equal (truncate (fx->blob, st.st_size - 8), 0);
  expect_rejected (fx, NULL, "read layer");
}

static void
test_not_a_tar_is_rejected (void **state)
{
  fx_t *fx = *state;
  FILE *f = fopen (fx->blob, "w");
  fputs ("this is not a tar archive, just some text that is long enough", f);
  fclose (f);
  expect_rejected (fx, NULL, "read layer");
}

static void
test_existing_dest_is_refused (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  make_layer (fx, F_NONE, basic, KD_ARRAY_SIZE (basic));
  assert_int_equal (mkdir (fx->dest, 0755), 0);
  assert_int_equal (kd_layer_unpack (fx->blob, fx->diff_id, fx->dest, &err), -1);
  assert_int_equal (err->status, EEXIST);
  kd_error_release (&err);
  assert_false (exists ("%s/bin", fx->dest));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
    T (test_uncompressed_layer_extracts_files_links_owner_and_setuid),
    T (test_gzip_layer_verifies_diff_id_of_uncompressed_stream),
    T (test_zstd_layer_verifies_diff_id_of_uncompressed_stream),
    T (test_null_diff_id_skips_verification),
    T (test_whiteout_and_opaque_dir_become_overlay_whiteouts),
    T (test_overlay_xattrs_in_layer_are_dropped_others_kept),
    T (test_dotdot_entry_is_rejected),
    T (test_nested_dotdot_entry_is_rejected),
    T (test_absolute_path_is_rejected),
    T (test_write_through_absolute_symlink_is_rejected),
    T (test_write_through_symlink_to_parent_is_rejected),
    T (test_symlink_to_dotdot_then_whiteout_through_it_is_rejected),
    T (test_hardlink_outside_layer_is_rejected),
    T (test_hardlink_to_missing_target_is_rejected),
    T (test_device_node_is_rejected),
    T (test_overlay_format_whiteout_device_is_allowed),
    T (test_name_longer_than_4096_bytes_is_rejected),
    T (test_wrong_diff_id_is_rejected),
    T (test_malformed_diff_id_is_rejected),
    T (test_truncated_gzip_stream_is_rejected),
    T (test_gzip_missing_only_its_trailer_is_rejected),
    T (test_not_a_tar_is_rejected),
    T (test_existing_dest_is_refused),
#undef T
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
