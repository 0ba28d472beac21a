/* image store: verified blobs, crash leftovers, commit and lookup, tags,
   rmi, shared layers, GC and the persisted index. Test images are built
   here: layer tars written with libarchive, gzipped, with config and
   manifest JSON, stored with put_blob, then prepared (the real
   kd_layer_unpack) and committed. */
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
#include <pthread.h>
#include <sys/stat.h>

#include "kubeletd/image.h"

typedef struct
{
  char dir[64];
  kd_image_store_t *s;
} fx_t;

typedef struct
{
  char *digest;  /* compressed blob */
  char *diff_id; /* uncompressed tar */
} layer_t;

/* ---- helpers ------------------------------------------------------------------- */

static void
sha256 (const void *data, size_t len, char out[72])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  assert_int_equal (EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL), 1);
  strcpy (out, "sha256:");
  for (unsigned i = 0; i < n; i++)
    sprintf (out + 7 + 2 * i, "%02x", md[i]);
}

static int
rm_cb (const char *p, const struct stat *st, int flag, struct FTW *f)
{
  if (flag == FTW_DP)
    chmod (p, 0700);
  remove (p);
  return 0;
}

static int
setup (void **state)
{
  fx_t *fx = xcalloc (1, sizeof (*fx));
  kd_error_t err = NULL;

  strcpy (fx->dir, "/tmp/kd-test-imgstore-XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  strcat (fx->dir, "/images");
  assert_int_equal (kd_image_store_open (fx->dir, &fx->s, &err), 0);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  fx_t *fx = *state;
  kd_image_store_free (fx->s);
  *strrchr (fx->dir, '/') = '\0';
  nftw (fx->dir, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
  free (fx);
  return 0;
}

static void
reopen (fx_t *fx)
{
  kd_error_t err = NULL;
  kd_image_store_free (fx->s);
  fx->s = NULL;
  if (kd_image_store_open (fx->dir, &fx->s, &err) < 0)
    fail_msg ("reopen: %s", err->msg);
}

static char *
path_in (fx_t *fx, const char *rel)
{
  return xasprintf ("%s/%s", fx->dir, rel);
}

static bool
exists (const char *p)
{
  struct stat st;
  return lstat (p, &st) == 0;
}

static size_t
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t n = 0;

  assert_non_null (d);
  while ((de = readdir (d)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

static void
put (fx_t *fx, const void *data, size_t len, char digest[72])
{
  kd_error_t err = NULL;
  sha256 (data, len, digest);
  if (kd_image_store_put_blob (fx->s, data, len, digest, &err) < 0)
    fail_msg ("put_blob: %s", err->msg);
}

/* A gzipped layer holding `dir/` and `dir/name` with `content`. */
static layer_t
make_layer (fx_t *fx, const char *dir, const char *name, const char *content)
{
  static unsigned char tar[64 * 1024], gz[64 * 1024];
  size_t tar_len = 0, gz_len = 0;
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  cleanup_free char *file = xasprintf ("%s/%s", dir, name);
  char d[72];
  layer_t l;

  assert_int_equal (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  assert_int_equal (archive_write_open_memory (a, tar, sizeof (tar), &tar_len), ARCHIVE_OK);
  archive_entry_set_pathname (e, dir);
  archive_entry_set_filetype (e, AE_IFDIR);
  archive_entry_set_perm (e, 0755);
  archive_entry_set_uid (e, getuid ());
  archive_entry_set_gid (e, getgid ());
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  archive_entry_clear (e);
  archive_entry_set_pathname (e, file);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_uid (e, getuid ());
  archive_entry_set_gid (e, getgid ());
  archive_entry_set_size (e, (la_int64_t) strlen (content));
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (a, content, strlen (content)),
                    (la_ssize_t) strlen (content));
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);

  /* gzip the tar stream with the raw format: one unnamed entry. */
  a = archive_write_new ();
  assert_int_equal (archive_write_set_format_raw (a), ARCHIVE_OK);
  assert_int_equal (archive_write_add_filter_gzip (a), ARCHIVE_OK);
  assert_int_equal (archive_write_set_bytes_in_last_block (a, 1), ARCHIVE_OK);
  assert_int_equal (archive_write_open_memory (a, gz, sizeof (gz), &gz_len), ARCHIVE_OK);
  archive_entry_clear (e);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_size (e, (la_int64_t) tar_len);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (a, tar, tar_len), (la_ssize_t) tar_len);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  archive_entry_free (e);

  sha256 (tar, tar_len, d);
  l.diff_id = xstrdup (d);
  put (fx, gz, gz_len, d);
  l.digest = xstrdup (d);
  return l;
}

static void
layer_free (layer_t *l)
{
  free (l->digest);
  free (l->diff_id);
}

/* The layers' media type in Docker manifests made by make_image. */
static const char *docker_layer_type = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/* Stores a config (Cmd = [marker], so each image gets its own id) and a
   manifest; returns the manifest digest. The config digest goes to id. */
static char *
make_image (fx_t *fx, const layer_t *layers, size_t n, const char *marker, bool docker, char id[72])
{
  json_t *cfg = json_object (), *diff = json_array (), *c = json_object ();
  json_t *man = json_object (), *ls = json_array (), *desc;
  cleanup_free char *cfg_text = NULL;
  cleanup_free char *man_text = NULL;
  char md[72];

  for (size_t i = 0; i < n; i++)
    json_array_append_new (diff, json_string (layers[i].diff_id));
  json_object_set_new (c, "Cmd", json_pack ("[s]", marker));
  json_object_set_new (c, "Env", json_pack ("[s]", "PATH=/bin"));
  json_object_set_new (cfg, "config", c);
  json_object_set_new (cfg, "architecture", json_string ("amd64"));
  json_object_set_new (cfg, "os", json_string ("linux"));
  json_object_set_new (cfg, "created", json_string ("2024-01-02T03:04:05Z"));
  json_object_set_new (cfg, "rootfs", json_pack ("{s:s,s:o}", "type", "layers", "diff_ids", diff));
  cfg_text = json_dumps (cfg, JSON_COMPACT);
  json_decref (cfg);
  put (fx, cfg_text, strlen (cfg_text), id);

  for (size_t i = 0; i < n; i++)
    {
      cleanup_free char *p = NULL;
      struct stat st;
      p = xasprintf ("%s/blobs/sha256/%s", fx->dir, layers[i].digest + 7);
      assert_int_equal (stat (p, &st), 0);
      desc = json_pack ("{s:s,s:s,s:I}", "mediaType",
                        docker ? docker_layer_type : "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest", layers[i].digest, "size", (json_int_t) st.st_size);
      json_array_append_new (ls, desc);
    }
  json_object_set_new (man, "schemaVersion", json_integer (2));
  json_object_set_new (man, "mediaType",
                       json_string (docker ? "application/vnd.docker.distribution.manifest.v2+json"
                                           : "application/vnd.oci.image.manifest.v1+json"));
  json_object_set_new (man, "config",
                       json_pack ("{s:s,s:s,s:I}", "mediaType",
                                  docker ? "application/vnd.docker.container.image.v1+json"
                                         : "application/vnd.oci.image.config.v1+json",
                                  "digest", id, "size", (json_int_t) strlen (cfg_text)));
  json_object_set_new (man, "layers", ls);
  man_text = json_dumps (man, JSON_COMPACT);
  json_decref (man);
  put (fx, man_text, strlen (man_text), md);
  return xstrdup (md);
}

/* prepare + commit with `ref` (NULL: untagged). */
static void
add (fx_t *fx, const char *manifest, const char *ref)
{
  kd_error_t err = NULL;
  kd_image_ref_t r;

  if (kd_image_store_prepare (fx->s, manifest, &err) < 0)
    fail_msg ("prepare: %s", err->msg);
  if (ref)
    assert_int_equal (kd_image_ref_parse (ref, &r, &err), 0);
  if (kd_image_store_commit (fx->s, manifest, ref ? &r : NULL, &err) < 0)
    fail_msg ("commit: %s", err->msg);
  if (ref)
    kd_image_ref_free (&r);
}

/* One image with a base layer and a top layer. */
static char *
simple_image (fx_t *fx, const char *marker, layer_t *base, layer_t *top, char id[72])
{
  layer_t ls[2];
  *base = make_layer (fx, "etc", "base", "base layer");
  *top = make_layer (fx, "app", marker, marker);
  ls[0] = *base;
  ls[1] = *top;
  return make_image (fx, ls, 2, marker, false, id);
}

static bool
blob_exists (fx_t *fx, const char *digest)
{
  return kd_image_store_has_blob (fx->s, digest);
}

static bool
layer_dir_exists (fx_t *fx, const char *chain)
{
  cleanup_free char *p = xasprintf ("%s/layers/%s", fx->dir, chain + 7);
  return exists (p);
}

/* ---- blobs ----------------------------------------------------------------------- */

static void
test_blob_writer_verifies_digest_and_size (void **state)
{
  fx_t *fx = *state;
  kd_blob_writer_t *w = NULL;
  kd_error_t err = NULL;
  char d[72];
  cleanup_free char *data = NULL;
  cleanup_free char *tmp = path_in (fx, "tmp");
  size_t len = 0;

  sha256 ("hello world", 11, d);
  assert_int_equal (kd_blob_writer_new (fx->s, &w, &err), 0);
  assert_int_equal (kd_blob_writer_write (w, "hello ", 6, &err), 0);
  assert_int_equal (kd_blob_writer_write (w, "world", 5, &err), 0);
  assert_int_equal (kd_blob_writer_size (w), 11);
  assert_false (kd_image_store_has_blob (fx->s, d));
  assert_int_equal (kd_blob_writer_commit (w, d, 11, &err), 0);
  assert_true (kd_image_store_has_blob (fx->s, d));
  assert_int_equal (kd_image_store_read_blob (fx->s, d, 1024, &data, &len, &err), 0);
  assert_int_equal (len, 11);
  assert_memory_equal (data, "hello world", 11);
  assert_int_equal (count_entries (tmp), 0);

  /* A wrong size is refused before anything is renamed. */
  assert_int_equal (kd_blob_writer_new (fx->s, &w, &err), 0);
  assert_int_equal (kd_blob_writer_write (w, "hello world", 11, &err), 0);
  assert_int_equal (kd_blob_writer_commit (w, d, 12, &err), -1);
  assert_non_null (strstr (err->msg, "size mismatch"));
  kd_error_release (&err);
  assert_int_equal (count_entries (tmp), 0);
}

static void
test_blob_digest_mismatch_stores_nothing (void **state)
{
  fx_t *fx = *state;
  kd_blob_writer_t *w = NULL;
  kd_error_t err = NULL;
  char want[72], got[72];
  cleanup_free char *msg = NULL;
  cleanup_free char *tmp = path_in (fx, "tmp");
  cleanup_free char *blobs = path_in (fx, "blobs/sha256");

  sha256 ("expected", 8, want);
  sha256 ("tampered", 8, got);
  assert_int_equal (kd_blob_writer_new (fx->s, &w, &err), 0);
  assert_int_equal (kd_blob_writer_write (w, "tampered", 8, &err), 0);
  assert_int_equal (kd_blob_writer_commit (w, want, -1, &err), -1);
  msg = xasprintf ("digest mismatch for %s: got %s", want, got);
  assert_string_equal (err->msg, msg);
  kd_error_release (&err);
  assert_false (kd_image_store_has_blob (fx->s, want));
  assert_false (kd_image_store_has_blob (fx->s, got));
  assert_int_equal (count_entries (tmp), 0);
  assert_int_equal (count_entries (blobs), 0);

  /* put_blob checks the same way; abort also leaves nothing. */
  assert_int_equal (kd_image_store_put_blob (fx->s, "tampered", 8, want, &err), -1);
  assert_string_equal (err->msg, msg);
  kd_error_release (&err);
  assert_int_equal (kd_blob_writer_new (fx->s, &w, &err), 0);
  assert_int_equal (kd_blob_writer_write (w, "partial", 7, &err), 0);
  kd_blob_writer_abort (w);
  assert_int_equal (count_entries (tmp), 0);
  assert_int_equal (count_entries (blobs), 0);

  /* Digests that are not sha256 never become paths. */
  assert_int_equal (kd_image_store_put_blob (fx->s, "x", 1, "sha256:../../etc/passwd", &err), -1);
  kd_error_release (&err);
  assert_int_equal (count_entries (blobs), 0);
}

static void
test_read_blob_detects_corruption (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  char d[72];
  cleanup_free char *p = NULL;
  char *data = NULL;
  size_t len;
  FILE *f;

  put (fx, "{\"small\":true}", 14, d);
  p = kd_image_store_blob_path (fx->s, d);
  f = fopen (p, "w");
  assert_non_null (f);
  fputs ("{\"small\":false}", f);
  fclose (f);
  assert_int_equal (kd_image_store_read_blob (fx->s, d, 1024, &data, &len, &err), -1);
  assert_true (kd_str_has_prefix (err->msg, "digest mismatch for "));
  assert_null (data);
  kd_error_release (&err);
}

/* ---- crash safety ------------------------------------------------------------- */

static void
test_leftovers_of_a_crash_are_cleared_at_open (void **state)
{
  fx_t *fx = *state;
  cleanup_free char *partial = path_in (fx, "tmp/blob-crashed");
  cleanup_free char *index_tmp = path_in (fx, "images.json.tmp.4242");
  cleanup_free char *unpack_tmp = NULL;
  cleanup_free char *tmp = path_in (fx, "tmp");
  cleanup_free char *layers = path_in (fx, "layers");
  cleanup_free char *manifest = NULL;
  layer_t base, top;
  char id[72], d[72];
  FILE *f;

  /* A blob half written, an index write cut short, an unpack cut short. */
  f = fopen (partial, "w");
  fputs ("half a blob", f);
  fclose (f);
  sha256 ("half a blob", 11, d);
  f = fopen (index_tmp, "w");
  fputs ("{\"images\":[", f);
  fclose (f);
  unpack_tmp = xasprintf ("%s/%s.tmp.AbC123", layers, d + 7);
  assert_int_equal (mkdir (unpack_tmp, 0555), 0);

  /* An image stored and prepared but never committed (crash before
     images.json): it must not appear, and no tag may point at it. */
  manifest = simple_image (fx, "uncommitted", &base, &top, id);
  {
    kd_error_t err = NULL;
    assert_int_equal (kd_image_store_prepare (fx->s, manifest, &err), 0);
  }

  reopen (fx);
  assert_int_equal (count_entries (tmp), 0);
  assert_false (exists (index_tmp));
  assert_false (exists (unpack_tmp));
  assert_false (kd_image_store_has_blob (fx->s, d));
  assert_null (kd_image_store_lookup (fx->s, "uncommitted"));
  assert_null (kd_image_store_lookup (fx->s, id));
  {
    kd_image_t **list = NULL;
    assert_int_equal (kd_image_store_list (fx->s, &list), 0);
    free (list);
  }
  layer_free (&base);
  layer_free (&top);
}

/* ---- commit and lookup ---------------------------------------------------------- */

static void
test_commit_records_image_and_lookup_forms (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t base, top;
  char id[72], chain1[72];
  cleanup_free char *manifest = simple_image (fx, "one", &base, &top, id);
  cleanup_free char *by_digest = NULL;
  cleanup_free char *joined = NULL;
  char prefix[32];
  kd_image_t *img;
  char **dirs = NULL;
  size_t n = 0;

  add (fx, manifest, "127.0.0.1:5000/busybox:1.35");
  img = kd_image_store_lookup (fx->s, "127.0.0.1:5000/busybox:1.35");
  assert_non_null (img);
  assert_string_equal (img->id, id);
  assert_string_equal (img->manifest_digest, manifest);
  assert_int_equal (img->n_repo_tags, 1);
  assert_string_equal (img->repo_tags[0], "127.0.0.1:5000/busybox:1.35");
  by_digest = xasprintf ("127.0.0.1:5000/busybox@%s", manifest);
  assert_int_equal (img->n_repo_digests, 1);
  assert_string_equal (img->repo_digests[0], by_digest);
  assert_int_equal (img->n_layers, 2);
  assert_string_equal (img->layers[0], base.digest);
  assert_string_equal (img->config.cmd[0], "one");
  assert_true (img->size > 0);
  assert_true (img->last_used_ns > 0);

  /* Chain IDs per the OCI spec. */
  joined = xasprintf ("%s %s", base.diff_id, top.diff_id);
  sha256 (joined, strlen (joined), chain1);
  assert_int_equal (img->n_chain_ids, 2);
  assert_string_equal (img->chain_ids[0], base.diff_id);
  assert_string_equal (img->chain_ids[1], chain1);

  /* Every way of naming it. */
  assert_ptr_equal (kd_image_store_lookup (fx->s, by_digest), img);
  assert_ptr_equal (kd_image_store_lookup (fx->s, id), img);
  assert_ptr_equal (kd_image_store_lookup (fx->s, id + 7), img);
  snprintf (prefix, sizeof (prefix), "%.12s", id + 7);
  assert_ptr_equal (kd_image_store_lookup (fx->s, prefix), img);
  snprintf (prefix, sizeof (prefix), "sha256:%.12s", id + 7);
  assert_ptr_equal (kd_image_store_lookup (fx->s, prefix), img);
  snprintf (prefix, sizeof (prefix), "%.11s", id + 7);
  assert_null (kd_image_store_lookup (fx->s, prefix));
  assert_null (kd_image_store_lookup (fx->s, "busybox"));
  assert_null (kd_image_store_lookup (fx->s, "127.0.0.1:5000/busybox"));

  /* Overlay lower directories: the top layer first. */
  assert_int_equal (kd_image_store_lowerdirs (fx->s, img, &dirs, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_true (kd_str_has_suffix (dirs[0], chain1 + 7));
  assert_true (kd_str_has_suffix (dirs[1], base.diff_id + 7));
  {
    cleanup_free char *f = xasprintf ("%s/app/one", dirs[0]);
    cleanup_free char *g = xasprintf ("%s/etc/base", dirs[1]);
    assert_true (exists (f));
    assert_true (exists (g));
  }
  for (size_t i = 0; i < n; i++)
    free (dirs[i]);
  free (dirs);
  layer_free (&base);
  layer_free (&top);
}

static void
test_commit_needs_a_prepared_image (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t base, top;
  char id[72];
  cleanup_free char *manifest = simple_image (fx, "raw", &base, &top, id);
  kd_image_ref_t r;

  assert_int_equal (kd_image_ref_parse ("raw", &r, &err), 0);
  assert_int_equal (kd_image_store_commit (fx->s, manifest, &r, &err), -1);
  assert_non_null (strstr (err->msg, "is not prepared"));
  kd_error_release (&err);
  assert_null (kd_image_store_lookup (fx->s, "raw"));
  kd_image_ref_free (&r);
  layer_free (&base);
  layer_free (&top);
}

static void
test_docker_schema2_manifest_is_accepted (void **state)
{
  fx_t *fx = *state;
  layer_t l = make_layer (fx, "bin", "tool", "tool");
  char id[72];
  cleanup_free char *manifest = make_image (fx, &l, 1, "docker", true, id);
  kd_image_t *img;

  add (fx, manifest, "registry.example.com/team/tool:2");
  img = kd_image_store_lookup (fx->s, "registry.example.com/team/tool:2");
  assert_non_null (img);
  assert_string_equal (img->id, id);
  layer_free (&l);
}

/* A registry pull accepts Docker's uncompressed layer type: the store
   prepares such an image too (the layer's compression is read from its
   bytes, not from the type). */
static void
test_docker_uncompressed_layer_type_is_accepted (void **state)
{
  fx_t *fx = *state;
  layer_t l = make_layer (fx, "bin", "plain", "plain");
  char id[72];
  cleanup_free char *manifest = NULL;

  docker_layer_type = "application/vnd.docker.image.rootfs.diff.tar";
  manifest = make_image (fx, &l, 1, "plain", true, id);
  docker_layer_type = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  add (fx, manifest, "registry.example.com/team/plain:1");
  assert_non_null (kd_image_store_lookup (fx->s, "registry.example.com/team/plain:1"));
  layer_free (&l);
}

static void
test_prepare_refuses_a_wrong_diff_id (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t l = make_layer (fx, "bin", "tool", "tool"), lie;
  char id[72];
  cleanup_free char *manifest = NULL;
  cleanup_free char *layers = path_in (fx, "layers");

  lie.digest = l.digest;
  lie.diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
  manifest = make_image (fx, &lie, 1, "liar", false, id);
  assert_int_equal (kd_image_store_prepare (fx->s, manifest, &err), -1);
  kd_error_release (&err);
  assert_int_equal (count_entries (layers), 0);
  layer_free (&l);
}

typedef struct
{
  fx_t *fx;
  const char *manifest;
  int r;
} prep_arg_t;

static void *
prepare_thread (void *p)
{
  prep_arg_t *a = p;
  kd_error_t err = NULL;
  a->r = kd_image_store_prepare (a->fx->s, a->manifest, &err);
  if (a->r < 0)
    kd_error_release (&err);
  return NULL;
}

static void
test_concurrent_prepares_unpack_each_chain_once (void **state)
{
  fx_t *fx = *state;
  layer_t base, top;
  char id[72];
  cleanup_free char *manifest = simple_image (fx, "race", &base, &top, id);
  cleanup_free char *layers = path_in (fx, "layers");
  prep_arg_t args[4];
  pthread_t th[4];

  for (int i = 0; i < 4; i++)
    {
      args[i] = (prep_arg_t){ fx, manifest, -1 };
      assert_int_equal (pthread_create (&th[i], NULL, prepare_thread, &args[i]), 0);
    }
  for (int i = 0; i < 4; i++)
    {
      pthread_join (th[i], NULL);
      assert_int_equal (args[i].r, 0);
    }
  /* Two chain directories; no lock files or temp directories left. */
  assert_int_equal (count_entries (layers), 2);
  layer_free (&base);
  layer_free (&top);
}

/* ---- tags and rmi --------------------------------------------------------------- */

static void
test_tag_moves_and_leaves_a_dangling_image (void **state)
{
  fx_t *fx = *state;
  layer_t b1, t1, b2, t2;
  char id1[72], id2[72];
  cleanup_free char *m1 = simple_image (fx, "v1", &b1, &t1, id1);
  cleanup_free char *m2 = simple_image (fx, "v2", &b2, &t2, id2);
  kd_image_t *old, *new, **list = NULL;

  add (fx, m1, "app:1");
  old = kd_image_store_lookup (fx->s, "docker.io/library/app:1");
  assert_non_null (old);
  add (fx, m2, "app:1");
  new = kd_image_store_lookup (fx->s, "app:1");
  assert_non_null (new);
  assert_string_equal (new->id, id2);
  /* The old image stays, with no tag: Docker's "<none>". */
  assert_ptr_equal (kd_image_store_lookup (fx->s, id1), old);
  assert_int_equal (old->n_repo_tags, 0);
  assert_int_equal (kd_image_store_list (fx->s, &list), 2);
  assert_ptr_equal (list[0], new);
  assert_ptr_equal (list[1], old);
  free (list);

  /* Committing the same image again keeps the pointer callers hold. */
  new->in_use = 3;
  add (fx, m2, "app:2");
  assert_ptr_equal (kd_image_store_lookup (fx->s, "app:2"), new);
  assert_int_equal (new->n_repo_tags, 2);
  assert_int_equal (new->in_use, 3);
  new->in_use = 0;
  layer_free (&b1);
  layer_free (&t1);
  layer_free (&b2);
  layer_free (&t2);
}

static void
test_list_is_sorted_by_repository_and_tag (void **state)
{
  fx_t *fx = *state;
  static const char *names[] = { "zeta:1", "alpha:2", "quay.io/x/y:1", "alpha:10" };
  static const char *sorted[] = { "docker.io/library/alpha:10", "docker.io/library/alpha:2",
                                  "docker.io/library/zeta:1", "quay.io/x/y:1" };
  kd_image_t **list = NULL;

  for (size_t i = 0; i < KD_ARRAY_SIZE (names); i++)
    {
      layer_t l = make_layer (fx, "d", "f", names[i]);
      char id[72];
      cleanup_free char *m = make_image (fx, &l, 1, names[i], false, id);
      add (fx, m, names[i]);
      layer_free (&l);
    }
  assert_int_equal (kd_image_store_list (fx->s, &list), 4);
  for (size_t i = 0; i < 4; i++)
    assert_string_equal (list[i]->repo_tags[0], sorted[i]);
  free (list);
}

static void
test_rmi_untags_then_deletes (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t base, top;
  char id[72];
  cleanup_free char *manifest = simple_image (fx, "rmi", &base, &top, id);
  kd_image_t *img;

  add (fx, manifest, "app:1");
  add (fx, manifest, "app:2");
  img = kd_image_store_lookup (fx->s, "app:1");
  assert_int_equal (img->n_repo_tags, 2);

  /* One of two tags: only the tag goes. */
  assert_int_equal (kd_image_store_remove (fx->s, "app:1", &err), 0);
  assert_null (kd_image_store_lookup (fx->s, "app:1"));
  assert_ptr_equal (kd_image_store_lookup (fx->s, "app:2"), img);
  assert_true (blob_exists (fx, manifest));
  assert_true (layer_dir_exists (fx, base.diff_id));

  /* The last tag: the image, its blobs and its layers go. */
  assert_int_equal (kd_image_store_remove (fx->s, "app:2", &err), 0);
  assert_null (kd_image_store_lookup (fx->s, id));
  assert_false (blob_exists (fx, manifest));
  assert_false (blob_exists (fx, id));
  assert_false (blob_exists (fx, base.digest));
  assert_false (blob_exists (fx, top.digest));
  assert_false (layer_dir_exists (fx, base.diff_id));
  {
    cleanup_free char *layers = path_in (fx, "layers");
    cleanup_free char *tmp = path_in (fx, "tmp");
    assert_int_equal (count_entries (layers), 0);
    assert_int_equal (count_entries (tmp), 0);
  }

  assert_int_equal (kd_image_store_remove (fx->s, "app:2", &err), -1);
  assert_string_equal (err->msg, "No such image: app:2");
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
  layer_free (&base);
  layer_free (&top);
}

static void
test_rmi_by_id_deletes_every_tag (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t base, top;
  char id[72], prefix[16];
  cleanup_free char *manifest = simple_image (fx, "byid", &base, &top, id);

  add (fx, manifest, "a:1");
  add (fx, manifest, "b:1");
  snprintf (prefix, sizeof (prefix), "%.12s", id + 7);
  assert_int_equal (kd_image_store_remove (fx->s, prefix, &err), 0);
  assert_null (kd_image_store_lookup (fx->s, "a:1"));
  assert_null (kd_image_store_lookup (fx->s, "b:1"));
  assert_false (blob_exists (fx, id));
  layer_free (&base);
  layer_free (&top);
}

static void
test_rmi_refused_while_in_use (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t base, top;
  char id[72];
  cleanup_free char *manifest = simple_image (fx, "busy", &base, &top, id);
  kd_image_t *img;

  add (fx, manifest, "busy:1");
  add (fx, manifest, "busy:2");
  img = kd_image_store_lookup (fx->s, "busy:1");
  img->in_use = 1;

  /* Untagging while another tag is left is allowed, as with docker rmi. */
  assert_int_equal (kd_image_store_remove (fx->s, "busy:1", &err), 0);
  /* Removing the image is not. */
  assert_int_equal (kd_image_store_remove (fx->s, "busy:2", &err), -1);
  assert_string_equal (err->msg, "image is in use by a container");
  assert_int_equal (err->status, EBUSY);
  kd_error_release (&err);
  assert_int_equal (kd_image_store_remove (fx->s, id, &err), -1);
  kd_error_release (&err);
  assert_ptr_equal (kd_image_store_lookup (fx->s, "busy:2"), img);
  assert_true (blob_exists (fx, manifest));

  /* And the refusal did not change what is on disk. */
  reopen (fx);
  img = kd_image_store_lookup (fx->s, "busy:2");
  assert_non_null (img);
  assert_null (kd_image_store_lookup (fx->s, "busy:1"));
  layer_free (&base);
  layer_free (&top);
}

static void
test_shared_layers_stay_until_the_last_image_goes (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  layer_t base = make_layer (fx, "etc", "base", "shared base");
  layer_t t1 = make_layer (fx, "app", "one", "one"), t2 = make_layer (fx, "app", "two", "two");
  layer_t l1[2] = { base, t1 }, l2[2] = { base, t2 };
  char id1[72], id2[72];
  cleanup_free char *m1 = make_image (fx, l1, 2, "one", false, id1);
  cleanup_free char *m2 = make_image (fx, l2, 2, "two", false, id2);
  cleanup_free char *layers = path_in (fx, "layers");
  cleanup_free char *base_dir = xasprintf ("%s/%s", layers, base.diff_id + 7);
  struct stat st1, st2;

  add (fx, m1, "one");
  assert_int_equal (stat (base_dir, &st1), 0);
  add (fx, m2, "two");
  /* The base is unpacked once and shared: three directories, not four. */
  assert_int_equal (count_entries (layers), 3);
  assert_int_equal (stat (base_dir, &st2), 0);
  assert_int_equal (st1.st_ino, st2.st_ino);

  assert_int_equal (kd_image_store_remove (fx->s, "one", &err), 0);
  assert_true (exists (base_dir));
  assert_true (blob_exists (fx, base.digest));
  assert_false (blob_exists (fx, t1.digest));
  assert_int_equal (count_entries (layers), 2);

  assert_int_equal (kd_image_store_remove (fx->s, "two", &err), 0);
  assert_false (exists (base_dir));
  assert_false (blob_exists (fx, base.digest));
  assert_int_equal (count_entries (layers), 0);
  layer_free (&base);
  layer_free (&t1);
  layer_free (&t2);
}

/* ---- GC ---------------------------------------------------------------------------- */

/* Disk use that falls by 10 points per image removed. */
static int
fake_usage (const char *path, void *data)
{
  fx_t *fx = data;
  kd_image_t **list = NULL;
  size_t n = kd_image_store_list (fx->s, &list);
  free (list);
  return 55 + 10 * (int) n;
}

static void
test_gc_removes_least_recently_used_unused_images (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  static const char *names[] = { "oldest", "older", "newer", "newest" };
  kd_image_t *imgs[4];
  size_t removed = 99;

  for (int i = 0; i < 4; i++)
    {
      layer_t l = make_layer (fx, "d", names[i], names[i]);
      char id[72];
      cleanup_free char *m = make_image (fx, &l, 1, names[i], false, id);
      add (fx, m, names[i]);
      imgs[i] = kd_image_store_lookup (fx->s, names[i]);
      imgs[i]->last_used_ns = 1000 + i;
      layer_free (&l);
    }
  imgs[0]->in_use = 1; /* the least recently used, but running */

  /* Below the high threshold (95 < 96) nothing happens. */
  assert_int_equal (kd_image_store_gc (fx->s, 96, 80, fake_usage, fx, &removed, &err), 0);
  assert_int_equal (removed, 0);

  /* 95% >= 85%: "older" (-> 85%) then "newer" (-> 75% < 80%). */
  assert_int_equal (kd_image_store_gc (fx->s, 85, 80, fake_usage, fx, &removed, &err), 0);
  assert_int_equal (removed, 2);
  assert_non_null (kd_image_store_lookup (fx->s, "oldest"));
  assert_null (kd_image_store_lookup (fx->s, "older"));
  assert_null (kd_image_store_lookup (fx->s, "newer"));
  assert_non_null (kd_image_store_lookup (fx->s, "newest"));

  /* The recorded use order survives a restart. */
  kd_image_store_touch (fx->s, kd_image_store_lookup (fx->s, "oldest"));
  reopen (fx);
  assert_true (kd_image_store_lookup (fx->s, "newest")->last_used_ns == 1003);
  assert_true (kd_image_store_lookup (fx->s, "oldest")->last_used_ns > 1003);
}

/* ---- the persisted index ------------------------------------------------------------ */

static void
test_index_is_persisted_and_reloaded (void **state)
{
  fx_t *fx = *state;
  layer_t base, top;
  char id[72];
  cleanup_free char *manifest = simple_image (fx, "persist", &base, &top, id);
  cleanup_free char *by_digest = NULL;
  kd_image_t *img;
  int64_t size;

  add (fx, manifest, "quay.io/team/persist:v1");
  size = kd_image_store_lookup (fx->s, id)->size;
  reopen (fx);
  img = kd_image_store_lookup (fx->s, "quay.io/team/persist:v1");
  assert_non_null (img);
  assert_string_equal (img->id, id);
  assert_true (img->size == size);
  assert_int_equal (img->in_use, 0);
  assert_int_equal (img->config.n_cmd, 1);
  assert_string_equal (img->config.cmd[0], "persist");
  assert_int_equal (img->n_chain_ids, 2);
  by_digest = xasprintf ("quay.io/team/persist@%s", manifest);
  assert_ptr_equal (kd_image_store_lookup (fx->s, by_digest), img);
  layer_free (&base);
  layer_free (&top);
}

static void
test_missing_index_is_empty_and_corrupt_index_is_an_error (void **state)
{
  fx_t *fx = *state;
  kd_error_t err = NULL;
  cleanup_free char *index = path_in (fx, "images.json");
  kd_image_store_t *s = NULL;
  FILE *f;

  kd_image_t **list = NULL;

  assert_false (exists (index));
  assert_int_equal (kd_image_store_list (fx->s, &list), 0);
  free (list);

  f = fopen (index, "w");
  fputs ("{\"images\": [ {\"id\": ", f);
  fclose (f);
  assert_int_equal (kd_image_store_open (fx->dir, &s, &err), -1);
  assert_null (s);
  assert_non_null (strstr (err->msg, index));
  assert_non_null (strstr (err->msg, "corrupt"));
  kd_error_release (&err);

  f = fopen (index, "w");
  fputs ("{\"version\":1,\"images\":[{\"id\":\"sha256:../../x\",\"manifestDigest\":\"y\"}]}", f);
  fclose (f);
  assert_int_equal (kd_image_store_open (fx->dir, &s, &err), -1);
  assert_non_null (strstr (err->msg, index));
  kd_error_release (&err);
}

static void
test_store_layout_is_private (void **state)
{
  fx_t *fx = *state;
  static const char *dirs[] = { "", "blobs/sha256", "layers", "tmp" };

  for (size_t i = 0; i < KD_ARRAY_SIZE (dirs); i++)
    {
      cleanup_free char *p = path_in (fx, dirs[i]);
      struct stat st;
      assert_int_equal (stat (p, &st), 0);
      assert_true (S_ISDIR (st.st_mode));
      assert_int_equal (st.st_mode & 077, 0);
    }
}

int
main (void)
{
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
  const struct CMUnitTest tests[] = {
    T (test_blob_writer_verifies_digest_and_size),
    T (test_blob_digest_mismatch_stores_nothing),
    T (test_read_blob_detects_corruption),
    T (test_leftovers_of_a_crash_are_cleared_at_open),
    T (test_commit_records_image_and_lookup_forms),
    T (test_commit_needs_a_prepared_image),
    T (test_docker_schema2_manifest_is_accepted),
    T (test_docker_uncompressed_layer_type_is_accepted),
    T (test_prepare_refuses_a_wrong_diff_id),
    T (test_concurrent_prepares_unpack_each_chain_once),
    T (test_tag_moves_and_leaves_a_dangling_image),
    T (test_list_is_sorted_by_repository_and_tag),
    T (test_rmi_untags_then_deletes),
    T (test_rmi_by_id_deletes_every_tag),
    T (test_rmi_refused_while_in_use),
    T (test_shared_layers_stay_until_the_last_image_goes),
    T (test_gc_removes_least_recently_used_unused_images),
    T (test_index_is_persisted_and_reloaded),
    T (test_missing_index_is_empty_and_corrupt_index_is_an_error),
    T (test_store_layout_is_private),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
