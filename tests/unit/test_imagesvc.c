/* image service: the kubelet's pull policy answers and words, answers
   always after the call, one pull for two requests, rmi waiting for pool
   work, GC, close. Images come from a small OCI layout written here and
   imported; pulls go to a closed port on 127.0.0.1 to fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "kubeletd/imagesvc.h"

typedef struct
{
  char dir[64];
  uv_loop_t loop;
  kd_image_service_t *svc;
  int usage; /* simulated disk usage for GC */
} fx_t;

typedef struct
{
  int calls;
  char *id;
  char *reason;
  char *message;
} answer_t;

static void
on_answer (void *data, const kd_image_t *img, const char *reason, const char *message)
{
  answer_t *a = data;
  a->calls++;
  free (a->id);
  free (a->reason);
  free (a->message);
  a->id = img ? xstrdup (img->id) : NULL;
  a->reason = reason ? xstrdup (reason) : NULL;
  a->message = message ? xstrdup (message) : NULL;
}

static void
answer_free (answer_t *a)
{
  free (a->id);
  free (a->reason);
  free (a->message);
  memset (a, 0, sizeof (*a));
}

static void
sha256_hex (const void *data, size_t len, char out[65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  assert_int_equal (EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL), 1);
  for (unsigned i = 0; i < n; i++)
    sprintf (out + 2 * i, "%02x", md[i]);
}

static void
put_blob (const char *layout, const void *data, size_t len, char hex[65])
{
  kd_error_t err = NULL;
  cleanup_free char *path = NULL;

  sha256_hex (data, len, hex);
  path = xasprintf ("%s/blobs/sha256/%s", layout, hex);
  assert_int_equal (kd_write_file_atomic (path, data, len, 0644, &err), 0);
}

/* An OCI layout with one uncompressed layer holding /hello, named `name`. */
static void
make_layout (const char *layout, const char *name)
{
  char layer[65], config[65], manifest[65];
  static char tar[16384];
  size_t tar_len = 0;
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();
  cleanup_free char *blobs = xasprintf ("%s/blobs/sha256", layout);
  cleanup_free char *cfg = NULL, *man = NULL, *idx = NULL, *p = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_mkdir_p (blobs, 0755, &err), 0);
  archive_write_set_format_pax_restricted (a);
  assert_int_equal (archive_write_open_memory (a, tar, sizeof (tar), &tar_len), ARCHIVE_OK);
  archive_entry_set_pathname (e, "hello");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0644);
  archive_entry_set_size (e, 6);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (a, "hello\n", 6), 6);
  archive_entry_free (e);
  archive_write_close (a);
  archive_write_free (a);
  put_blob (layout, tar, tar_len, layer);

  cfg = xasprintf (
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
      "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
      "[\"sha256:%s\"]},\"history\":[{\"created_by\":\"test layer\"}]}",
      layer);
  put_blob (layout, cfg, strlen (cfg), config);
  man = xasprintf (
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
      "\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
      "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\","
      "\"size\":%zu}]}",
      config, strlen (cfg), layer, tar_len);
  put_blob (layout, man, strlen (man), manifest);
  idx = xasprintf ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
                   "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu,"
                   "\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                   manifest, strlen (man), name);
  p = xasprintf ("%s/index.json", layout);
  assert_int_equal (kd_write_file_atomic (p, idx, strlen (idx), 0644, &err), 0);
  free (p);
  p = xasprintf ("%s/oci-layout", layout);
  assert_int_equal (kd_write_file_atomic (p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0644, &err),
                    0);
}

static int
fake_usage (const char *path, void *data)
{
  return ((fx_t *) data)->usage;
}

static int
setup (void **state)
{
  fx_t *fx = xcalloc (1, sizeof (*fx));
  char *insecure[] = { (char *) "127.0.0.1:1" };
  kd_image_service_opts_t opts = {
    .root_dir = fx->dir,
    .registry = { .insecure = insecure, .n_insecure = 1, .timeout_s = 5 },
    .gc_high_pct = 85,
    .gc_low_pct = 80,
    .usage_fn = fake_usage,
    .usage_data = fx,
  };
  kd_error_t err = NULL;

  strcpy (fx->dir, "/tmp/kd-test-imagesvc.XXXXXX");
  assert_non_null (mkdtemp (fx->dir));
  assert_int_equal (uv_loop_init (&fx->loop), 0);
  assert_int_equal (kd_image_service_new (&fx->loop, &opts, &fx->svc, &err), 0);
  *state = fx;
  return 0;
}

static int
rm_cb (const char *p, const struct stat *st, int flag, struct FTW *f)
{
  remove (p);
  return 0;
}

static int
teardown (void **state)
{
  fx_t *fx = *state;

  kd_image_service_close (fx->svc);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&fx->loop), 0);
  nftw (fx->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free (fx);
  return 0;
}

/* Imports a layout named `name` and runs the loop until it is stored. */
static void
import (fx_t *fx, const char *name, answer_t *a)
{
  cleanup_free char *layout = xasprintf ("%s/layout-%d", fx->dir, a->calls);

  make_layout (layout, name);
  kd_image_service_import (fx->svc, layout, NULL, on_answer, a);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (a->calls, 1);
  assert_non_null (a->id);
}

static void
test_never_without_the_image_is_err_image_never_pull (void **state)
{
  fx_t *fx = *state;
  answer_t a = { 0 };

  kd_image_service_ensure (fx->svc, "busybox:1.35", "Never", on_answer, &a);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (a.calls, 1);
  assert_null (a.id);
  assert_string_equal (a.reason, "ErrImageNeverPull");
  assert_string_equal (a.message,
                       "Container image \"busybox:1.35\" is not present with pull policy of Never");
  answer_free (&a);
}

static void
test_bad_reference_is_invalid_image_name_in_the_kubelets_words (void **state)
{
  fx_t *fx = *state;
  answer_t a = { 0 };

  kd_image_service_ensure (fx->svc, "bad//name", "IfNotPresent", on_answer, &a);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (a.calls, 1);
  assert_string_equal (a.reason, "InvalidImageName");
  assert_string_equal (a.message, "Failed to apply default image tag \"bad//name\": couldn't parse "
                                  "image name \"bad//name\": invalid reference format");
  answer_free (&a);
}

static void
test_answer_comes_after_ensure_returns (void **state)
{
  fx_t *fx = *state;
  answer_t a = { 0 };

  kd_image_service_ensure (fx->svc, "busybox", "Never", on_answer, &a);
  assert_int_equal (a.calls, 0);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (a.calls, 1);
  answer_free (&a);
}

static void
test_present_image_is_used_by_if_not_present_and_never (void **state)
{
  fx_t *fx = *state;
  answer_t imp = { 0 }, a = { 0 }, b = { 0 };

  import (fx, "127.0.0.1:1/t/hello:1", &imp);
  assert_string_equal (imp.message, "127.0.0.1:1/t/hello:1");
  /* IfNotPresent would fail against the closed port if it pulled. */
  kd_image_service_ensure (fx->svc, "127.0.0.1:1/t/hello:1", "IfNotPresent", on_answer, &a);
  kd_image_service_ensure (fx->svc, "127.0.0.1:1/t/hello:1", "Never", on_answer, &b);
  assert_int_equal (kd_image_service_busy (fx->svc), 0);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_string_equal (a.id, imp.id);
  assert_string_equal (b.id, imp.id);
  answer_free (&imp);
  answer_free (&a);
  answer_free (&b);
}

static void
test_two_requests_for_one_name_share_one_pull (void **state)
{
  fx_t *fx = *state;
  answer_t a = { 0 }, b = { 0 };
  json_t *pulls;

  kd_image_service_ensure (fx->svc, "127.0.0.1:1/t/x:1", "Always", on_answer, &a);
  kd_image_service_pull (fx->svc, "127.0.0.1:1/t/x:1", on_answer, &b);
  assert_int_equal (kd_image_service_busy (fx->svc), 1);
  pulls = kd_image_service_pulls_json (fx->svc);
  assert_int_equal (json_array_size (pulls), 1);
  assert_string_equal (json_string_value (json_object_get (json_array_get (pulls, 0), "ref")),
                       "127.0.0.1:1/t/x:1");
  assert_int_equal (json_integer_value (json_object_get (json_array_get (pulls, 0), "waiters")), 2);
  json_decref (pulls);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (a.calls, 1);
  assert_int_equal (b.calls, 1);
  assert_string_equal (a.reason, "ErrImagePull");
  assert_string_equal (a.message, b.message);
  assert_non_null (strstr (a.message, "127.0.0.1:1/t/x:1"));
  assert_int_equal (kd_image_service_busy (fx->svc), 0);
  answer_free (&a);
  answer_free (&b);
}

typedef struct
{
  int calls;
  int status;
  char *deleted;
} removed_t;

static void
on_removed (void *data, int status, const char *message, const char *untagged, const char *deleted)
{
  removed_t *r = data;
  r->calls++;
  r->status = status;
  free (r->deleted);
  r->deleted = deleted ? xstrdup (deleted) : NULL;
}

static void
test_rmi_waits_for_pool_work_and_refuses_images_in_use (void **state)
{
  fx_t *fx = *state;
  answer_t imp = { 0 }, pull = { 0 };
  removed_t r = { 0 };
  kd_image_t *img;

  import (fx, "127.0.0.1:1/t/hello:1", &imp);
  img = kd_image_store_lookup (kd_image_service_store (fx->svc), imp.id);
  kd_image_service_use (fx->svc, img, +1);
  kd_image_service_remove (fx->svc, "127.0.0.1:1/t/hello:1", on_removed, &r);
  assert_int_equal (r.calls, 1);
  assert_int_equal (r.status, -EBUSY);
  kd_image_service_use (fx->svc, img, -1);

  /* A pull in flight: the remove waits for it. */
  kd_image_service_pull (fx->svc, "127.0.0.1:1/t/other:1", on_answer, &pull);
  kd_image_service_remove (fx->svc, "127.0.0.1:1/t/hello:1", on_removed, &r);
  assert_int_equal (r.calls, 1);
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (pull.calls, 1);
  assert_int_equal (r.calls, 2);
  assert_int_equal (r.status, 0);
  assert_string_equal (r.deleted, imp.id);
  kd_image_service_remove (fx->svc, "127.0.0.1:1/t/hello:1", on_removed, &r);
  assert_int_equal (r.status, -ENOENT);
  free (r.deleted);
  answer_free (&imp);
  answer_free (&pull);
}

static void
test_gc_removes_unused_images_above_the_high_threshold_only (void **state)
{
  fx_t *fx = *state;
  answer_t imp = { 0 };
  kd_error_t err = NULL;
  size_t removed = 99;

  import (fx, "127.0.0.1:1/t/hello:1", &imp);
  fx->usage = 84;
  assert_int_equal (kd_image_service_gc (fx->svc, &removed, &err), 0);
  assert_int_equal (removed, 0);
  fx->usage = 90;
  assert_int_equal (kd_image_service_gc (fx->svc, &removed, &err), 0);
  assert_int_equal (removed, 1);
  assert_null (kd_image_store_lookup (kd_image_service_store (fx->svc), imp.id));
  answer_free (&imp);
}

static void
test_close_answers_every_waiter_at_once (void **state)
{
  fx_t *fx = *state;
  answer_t a = { 0 }, b = { 0 };

  kd_image_service_pull (fx->svc, "127.0.0.1:1/t/x:1", on_answer, &a);
  kd_image_service_ensure (fx->svc, "busybox", "Never", on_answer, &b);
  kd_image_service_close (fx->svc);
  fx->svc = NULL; /* freed once the loop drains; teardown must not close it again */
  assert_int_equal (a.calls, 1);
  assert_int_equal (b.calls, 1);
  assert_string_equal (a.message, "kubeletd is stopping");
  assert_string_equal (b.message, "kubeletd is stopping");
  uv_run (&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal (a.calls, 1);
  answer_free (&a);
  answer_free (&b);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_never_without_the_image_is_err_image_never_pull, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_bad_reference_is_invalid_image_name_in_the_kubelets_words,
                                     setup, teardown),
    cmocka_unit_test_setup_teardown (test_answer_comes_after_ensure_returns, setup, teardown),
    cmocka_unit_test_setup_teardown (test_present_image_is_used_by_if_not_present_and_never, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_two_requests_for_one_name_share_one_pull, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_rmi_waits_for_pool_work_and_refuses_images_in_use, setup,
                                     teardown),
    cmocka_unit_test_setup_teardown (test_gc_removes_unused_images_above_the_high_threshold_only,
                                     setup, teardown),
    cmocka_unit_test_setup_teardown (test_close_answers_every_waiter_at_once, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
