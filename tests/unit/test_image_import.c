/* image/import: an OCI layout directory, an OCI archive and a docker save tar
   built here from Debian's busybox-static (the scripts in tests/images), imported
   into a fresh store; every digest verified, nothing stored on failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "kubeletd/image.h"

static char base[64];      /* everything the group builds */
static char layout[128];   /* busybox OCI layout */
static char bb_digest[80]; /* its manifest digest */
static char big_layout[128];
static char big_digest[80];
static char src_dir[512];

typedef struct
{
  char dir[160];
  kd_image_store_t *s;
} fx_t;

static int run (const char *fmt, ...) KD_PRINTF (1, 2);
static int
run (const char *fmt, ...)
{
  char cmd[4096];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (cmd, sizeof (cmd), fmt, ap);
  va_end (ap);
  return system (cmd);
}

/* Runs a builder script and keeps the digest it prints last. */
static void
build (const char *cmd, char digest[80])
{
  char line[512] = "";
  FILE *p = popen (cmd, "r");
  assert_non_null (p);
  while (fgets (line, sizeof (line), p))
    ;
  assert_int_equal (pclose (p), 0);
  line[strcspn (line, "\n")] = '\0';
  assert_non_null (strstr (line, "sha256:"));
  snprintf (digest, 80, "%s", strstr (line, "sha256:"));
}

static int
rm_cb (const char *p, const struct stat *st, int flag, struct FTW *f)
{
  remove (p);
  return 0;
}

static int
group_setup (void **state)
{
  char cmd[1024];
  const char *env = getenv ("KD_SOURCE_DIR");

  if (env)
    snprintf (src_dir, sizeof (src_dir), "%s", env);
  else
    {
      /* __FILE__ is <src>/tests/unit/test_image_import.c */
      snprintf (src_dir, sizeof (src_dir), "%s", __FILE__);
      *strstr (src_dir, "/tests/unit/") = '\0';
    }
  strcpy (base, "/tmp/kd-test-import-XXXXXX");
  if (mkdtemp (base) == NULL)
    return -1;
  snprintf (layout, sizeof (layout), "%s/layout", base);
  snprintf (big_layout, sizeof (big_layout), "%s/big-layout", base);
  snprintf (cmd, sizeof (cmd),
            "bash %s/tests/images/make-busybox-oci.sh %s kubeletd.local/busybox:1.35", src_dir,
            layout);
  build (cmd, bb_digest);
  /* A layer larger than what the tar reader keeps in memory (4 MiB). */
  snprintf (cmd, sizeof (cmd), "bash %s/tests/images/make-random-oci.sh %s 6 big:1", src_dir,
            big_layout);
  assert_int_equal (run ("%s >/dev/null", cmd), 0);
  snprintf (cmd, sizeof (cmd), "jq -r '.manifests[0].digest' %s/index.json", big_layout);
  build (cmd, big_digest);
  return 0;
}

static int
group_teardown (void **state)
{
  nftw (base, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
  return 0;
}

static int
setup (void **state)
{
  static int n;
  fx_t *fx = calloc (1, sizeof (*fx));
  kd_error_t err = NULL;
  snprintf (fx->dir, sizeof (fx->dir), "%s/store-%d", base, n++);
  if (kd_image_store_open (fx->dir, &fx->s, &err) < 0)
    fail_msg ("store open: %s", err->msg);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  fx_t *fx = *state;
  kd_image_store_free (fx->s);
  nftw (fx->dir, rm_cb, 16, FTW_PHYS | FTW_DEPTH);
  free (fx);
  return 0;
}

static int
count_blobs (fx_t *fx)
{
  char p[256];
  int n = 0;
  DIR *d;
  struct dirent *de;
  snprintf (p, sizeof (p), "%s/blobs/sha256", fx->dir);
  d = opendir (p);
  if (d == NULL)
    return 0;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

static json_t *
read_blob_json (fx_t *fx, const char *digest)
{
  char *data = NULL;
  size_t len;
  kd_error_t err = NULL;
  json_t *j;
  if (kd_image_store_read_blob (fx->s, digest, 1 << 20, &data, &len, &err) < 0)
    fail_msg ("read blob %s: %s", digest, err->msg);
  j = json_loadb (data, len, 0, NULL);
  free (data);
  assert_non_null (j);
  return j;
}

/* The manifest, its config and every layer are in the store. */
static void
assert_image_stored (fx_t *fx, const char *digest)
{
  json_t *m = read_blob_json (fx, digest), *l;
  size_t i;
  assert_true (kd_image_store_has_blob (fx->s, digest));
  assert_true (kd_image_store_has_blob (
      fx->s, json_string_value (json_object_get (json_object_get (m, "config"), "digest"))));
  json_array_foreach (json_object_get (m, "layers"), i, l)
  {
    assert_true (
        kd_image_store_has_blob (fx->s, json_string_value (json_object_get (l, "digest"))));
  }
  json_decref (m);
}

static void
import_ok (fx_t *fx, const char *path, const char *want, char **digest, char **ref)
{
  kd_error_t err = NULL;
  if (kd_image_import_path_ref (fx->s, path, want, digest, ref, &err) < 0)
    fail_msg ("import %s: %s", path, err->msg);
}

static void
import_fails (fx_t *fx, const char *path, const char *want, const char *msg_part)
{
  kd_error_t err = NULL;
  char *digest = NULL, *ref = NULL;
  assert_int_equal (kd_image_import_path_ref (fx->s, path, want, &digest, &ref, &err), -1);
  assert_non_null (err);
  if (strstr (err->msg, msg_part) == NULL)
    fail_msg ("error `%s` does not mention `%s`", err->msg, msg_part);
  assert_null (digest);
  assert_null (ref);
  kd_error_release (&err);
}

static void
test_oci_layout_dir_imports_with_ref_name (void **state)
{
  fx_t *fx = *state;
  char *digest = NULL, *ref = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_import_path (fx->s, layout, &digest, &ref, &err), 0);
  assert_string_equal (digest, bb_digest);
  assert_string_equal (ref, "kubeletd.local/busybox:1.35");
  assert_image_stored (fx, digest);
  assert_int_equal (count_blobs (fx), 3);
  /* The stored image unpacks: every layer's diff_id checks out. */
  if (kd_image_store_prepare (fx->s, digest, &err) < 0)
    fail_msg ("prepare: %s", err->msg);
  free (digest);
  free (ref);
}

static void
test_oci_archive_imports_same_digest (void **state)
{
  fx_t *fx = *state;
  char tarball[160], *digest = NULL, *ref = NULL;

  snprintf (tarball, sizeof (tarball), "%s/oci.tar", base);
  assert_int_equal (run ("tar -C %s -cf %s .", layout, tarball), 0);
  import_ok (fx, tarball, NULL, &digest, &ref);
  assert_string_equal (digest, bb_digest);
  assert_string_equal (ref, "kubeletd.local/busybox:1.35");
  assert_image_stored (fx, digest);
  free (digest);
  free (ref);
}

static void
test_oci_archive_streams_large_layer (void **state)
{
  fx_t *fx = *state;
  char tarball[160], *digest = NULL, *ref = NULL;

  snprintf (tarball, sizeof (tarball), "%s/big-oci.tar.gz", base);
  /* Compressed as a whole, and blobs before index.json as skopeo writes it. */
  assert_int_equal (run ("tar -C %s -czf %s blobs oci-layout index.json", big_layout, tarball), 0);
  import_ok (fx, tarball, NULL, &digest, &ref);
  assert_string_equal (digest, big_digest);
  assert_string_equal (ref, "big:1");
  assert_image_stored (fx, digest);
  free (digest);
  free (ref);
}

static void
test_docker_save_tar_converts_to_oci_manifest (void **state)
{
  fx_t *fx = *state;
  char tarball[160], config[80], *digest = NULL, *ref = NULL, cmd[2048];
  json_t *m, *layers, *l0;
  kd_error_t err = NULL;

  snprintf (tarball, sizeof (tarball), "%s/save.tar", base);
  snprintf (cmd, sizeof (cmd), "bash %s/tests/images/make-docker-save.sh %s %s busybox:test",
            src_dir, layout, tarball);
  build (cmd, config);
  import_ok (fx, tarball, NULL, &digest, &ref);
  assert_string_equal (ref, "busybox:test");
  assert_image_stored (fx, digest);

  m = read_blob_json (fx, digest);
  assert_string_equal (json_string_value (json_object_get (m, "mediaType")),
                       "application/vnd.oci.image.manifest.v1+json");
  assert_string_equal (
      json_string_value (json_object_get (json_object_get (m, "config"), "digest")), config);
  layers = json_object_get (m, "layers");
  assert_int_equal (json_array_size (layers), 1);
  l0 = json_array_get (layers, 0);
  assert_string_equal (json_string_value (json_object_get (l0, "mediaType")),
                       "application/vnd.oci.image.layer.v1.tar");
  /* An uncompressed layer's digest is its diff_id. */
  {
    json_t *cfg = read_blob_json (fx, config);
    assert_string_equal (json_string_value (json_object_get (l0, "digest")),
                         json_string_value (json_array_get (
                             json_object_get (json_object_get (cfg, "rootfs"), "diff_ids"), 0)));
    json_decref (cfg);
  }
  json_decref (m);
  if (kd_image_store_prepare (fx->s, digest, &err) < 0)
    fail_msg ("prepare: %s", err->msg);
  free (digest);
  free (ref);
}

static void
test_docker_save_with_linked_repeated_layer_and_big_layer (void **state)
{
  fx_t *fx = *state;
  char tarball[160], config[80], *digest = NULL, *ref = NULL, cmd[2048];
  json_t *m;

  snprintf (tarball, sizeof (tarball), "%s/save-big.tar", base);
  snprintf (cmd, sizeof (cmd),
            "DUP_LAST_LAYER=1 bash %s/tests/images/make-docker-save.sh %s %s big:2", src_dir,
            big_layout, tarball);
  build (cmd, config);
  import_ok (fx, tarball, NULL, &digest, &ref);
  assert_string_equal (ref, "big:2");
  m = read_blob_json (fx, digest);
  assert_int_equal (json_array_size (json_object_get (m, "layers")), 2);
  assert_string_equal (json_string_value (json_object_get (
                           json_array_get (json_object_get (m, "layers"), 0), "digest")),
                       json_string_value (json_object_get (
                           json_array_get (json_object_get (m, "layers"), 1), "digest")));
  json_decref (m);
  assert_image_stored (fx, digest);
  free (digest);
  free (ref);
}

static void
test_tampered_layout_blob_fails_and_stores_nothing (void **state)
{
  fx_t *fx = *state;
  char bad[160], tarball[160];
  snprintf (bad, sizeof (bad), "%s/tampered", base);
  snprintf (tarball, sizeof (tarball), "%s/tampered.tar", base);
  if (access (bad, F_OK) != 0)
    {
      /* Same size, one byte changed, in the (largest) layer blob. */
      assert_int_equal (run ("cp -a %s %s && f=$(ls -S %s/blobs/sha256/* | head -1) && "
                             "printf 'X' | dd of=$f bs=1 seek=100 conv=notrunc status=none",
                             layout, bad, bad),
                        0);
      assert_int_equal (run ("tar -C %s -cf %s .", bad, tarball), 0);
    }
  import_fails (fx, bad, NULL, "digest mismatch");
  assert_int_equal (count_blobs (fx), 0);
  import_fails (fx, tarball, NULL, "digest mismatch");
  assert_int_equal (count_blobs (fx), 0);
}

static void
test_tampered_manifest_fails_and_stores_nothing (void **state)
{
  fx_t *fx = *state;
  char bad[160];
  snprintf (bad, sizeof (bad), "%s/tampered-manifest", base);
  assert_int_equal (run ("cp -a %s %s && f=%s/blobs/sha256/%s && "
                         "sed -i 's/schemaVersion\":2/schemaVersion\": 2/' $f",
                         layout, bad, bad, bb_digest + 7),
                    0);
  import_fails (fx, bad, NULL, "digest mismatch");
  assert_int_equal (count_blobs (fx), 0);
}

static void
test_docker_save_layer_not_matching_diff_id_fails (void **state)
{
  fx_t *fx = *state;
  char tarball[160], cmd[2048], config[80];
  snprintf (tarball, sizeof (tarball), "%s/save-bad.tar", base);
  snprintf (cmd, sizeof (cmd),
            "bash %s/tests/images/make-docker-save.sh %s %s.in busybox:bad >/dev/null && "
            "d=$(mktemp -d) && tar -C $d -xf %s.in && printf x >>$d/1/layer.tar && "
            "tar -C $d -cf %s . && rm -rf $d && echo sha256:none",
            src_dir, layout, tarball, tarball, tarball);
  build (cmd, config);
  import_fails (fx, tarball, NULL, "diff_id");
  assert_int_equal (count_blobs (fx), 0);
}

static void
test_docker_save_config_not_matching_its_name_fails (void **state)
{
  fx_t *fx = *state;
  char tarball[160], cmd[2048], config[80];
  snprintf (tarball, sizeof (tarball), "%s/save-badcfg.tar", base);
  snprintf (cmd, sizeof (cmd),
            "bash %s/tests/images/make-docker-save.sh %s %s.in busybox:bad >/dev/null && "
            "d=$(mktemp -d) && tar -C $d -xf %s.in && sed -i 's/\"os\"/\"os\" /' $d/*.json && "
            "tar -C $d -cf %s . && rm -rf $d && echo sha256:none",
            src_dir, layout, tarball, tarball, tarball);
  build (cmd, config);
  import_fails (fx, tarball, NULL, "digest mismatch");
  assert_int_equal (count_blobs (fx), 0);
}

/* Writes <dir>/index.json with the given manifests array (a JSON string). */
static void
write_index (const char *dir, const char *manifests)
{
  char p[256];
  FILE *f;
  snprintf (p, sizeof (p), "%s/index.json", dir);
  f = fopen (p, "w");
  fprintf (f, "{\"schemaVersion\":2,\"manifests\":%s}", manifests);
  fclose (f);
}

static const char *
native (void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#else
  return "unknown";
#endif
}

static void
test_multi_platform_index_picks_this_arch (void **state)
{
  fx_t *fx = *state;
  char dir[160], m[1024], *digest = NULL, *ref = NULL;
  static const char other[]
      = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

  snprintf (dir, sizeof (dir), "%s/multi", base);
  assert_int_equal (run ("rm -rf %s && cp -a %s %s", dir, layout, dir), 0);
  /* The foreign platform's manifest is not in the layout: it must not be read. */
  snprintf (m, sizeof (m),
            "[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
            "\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}},"
            "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
            "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"},"
            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi:1\"}}]",
            other, bb_digest, native ());
  write_index (dir, m);
  import_ok (fx, dir, NULL, &digest, &ref);
  assert_string_equal (digest, bb_digest);
  assert_string_equal (ref, "multi:1");
  free (digest);
  free (ref);
}

static void
test_nested_index_named_at_top_resolves_platform (void **state)
{
  fx_t *fx = *state;
  char dir[160], nested[1024], top[512], *digest = NULL, *ref = NULL;
  static const char other[]
      = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  FILE *p;
  char idx_digest[80] = "";

  snprintf (dir, sizeof (dir), "%s/nested", base);
  assert_int_equal (run ("rm -rf %s && cp -a %s %s", dir, layout, dir), 0);
  snprintf (nested, sizeof (nested),
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
            "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            "\"digest\":\"%s\",\"platform\":{\"os\":\"linux\",\"architecture\":\"riscv64\"}},"
            "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
            "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}}]}",
            other, bb_digest, native ());
  {
    char path[256];
    FILE *f;
    snprintf (path, sizeof (path), "%s/nested.json", dir);
    f = fopen (path, "w");
    fputs (nested, f);
    fclose (f);
    assert_int_equal (run ("cd %s && d=$(sha256sum nested.json | cut -d' ' -f1) && mv nested.json "
                           "blobs/sha256/$d && echo sha256:$d > idx",
                           dir),
                      0);
    snprintf (path, sizeof (path), "%s/idx", dir);
    p = fopen (path, "r");
    assert_non_null (fgets (idx_digest, sizeof (idx_digest), p));
    fclose (p);
    idx_digest[strcspn (idx_digest, "\n")] = '\0';
  }
  snprintf (top, sizeof (top),
            "[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"%s\","
            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"example.com/app:2\"}}]",
            idx_digest);
  write_index (dir, top);
  import_ok (fx, dir, NULL, &digest, &ref);
  assert_string_equal (digest, bb_digest);
  assert_string_equal (ref, "example.com/app:2");
  /* Only the platform image is stored, not the index. */
  assert_false (kd_image_store_has_blob (fx->s, idx_digest));
  free (digest);
  free (ref);
}

static void
test_several_named_images_choose_by_name (void **state)
{
  fx_t *fx = *state;
  char dir[160], m[1024], second[80], *digest = NULL, *ref = NULL, cmd[1024];

  snprintf (dir, sizeof (dir), "%s/two", base);
  /* A second manifest (same config and layer, one annotation more). */
  snprintf (cmd, sizeof (cmd),
            "rm -rf %s && cp -a %s %s && cd %s && "
            "jq -c '.annotations={\"v\":\"2\"}' blobs/sha256/%s > m2 && "
            "d=$(sha256sum m2 | cut -d' ' -f1) && mv m2 blobs/sha256/$d && echo sha256:$d",
            dir, layout, dir, dir, bb_digest + 7);
  build (cmd, second);
  snprintf (m, sizeof (m),
            "[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"app:1\"}},"
            "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\","
            "\"annotations\":{\"org.opencontainers.image.ref.name\":\"app:2\"}}]",
            bb_digest, second);
  write_index (dir, m);
  import_fails (fx, dir, NULL, "name one");
  assert_int_equal (count_blobs (fx), 0);
  import_ok (fx, dir, "app:2", &digest, &ref);
  assert_string_equal (digest, second);
  assert_string_equal (ref, "app:2");
  free (digest);
  free (ref);
  import_fails (fx, dir, "app:3", "no image named `app:3`");
}

static void
test_not_an_image_is_rejected (void **state)
{
  fx_t *fx = *state;
  char tarball[160];
  snprintf (tarball, sizeof (tarball), "%s/plain.tar", base);
  assert_int_equal (run ("tar -C %s/tests/images -cf %s .", src_dir, tarball), 0);
  import_fails (fx, tarball, NULL, "not an OCI layout");
  import_fails (fx, "/nonexistent/path", NULL, "No such file");
  assert_int_equal (count_blobs (fx), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown (f, setup, teardown)
    T (test_oci_layout_dir_imports_with_ref_name),
    T (test_oci_archive_imports_same_digest),
    T (test_oci_archive_streams_large_layer),
    T (test_docker_save_tar_converts_to_oci_manifest),
    T (test_docker_save_with_linked_repeated_layer_and_big_layer),
    T (test_tampered_layout_blob_fails_and_stores_nothing),
    T (test_tampered_manifest_fails_and_stores_nothing),
    T (test_docker_save_layer_not_matching_diff_id_fails),
    T (test_docker_save_config_not_matching_its_name_fails),
    T (test_multi_platform_index_picks_this_arch),
    T (test_nested_index_named_at_top_resolves_platform),
    T (test_several_named_images_choose_by_name),
    T (test_not_an_image_is_rejected),
#undef T
  };
  return cmocka_run_group_tests (tests, group_setup, group_teardown);
}
