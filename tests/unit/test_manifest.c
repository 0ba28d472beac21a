/* The manifest pipeline: file -> documents -> pods -> messages with
   file:line:col. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kubeletd/manifest.h"

static const kd_manifest_opts_t static_opts = {
  .node_name = "node1",
  .make_static = true,
  .seen_ns = 1700000000000000000LL,
};

static kd_manifest_t *
load (const char *name, const char *text, const kd_manifest_opts_t *opts)
{
  kd_manifest_t *m = NULL;
  kd_error_t err = NULL;

  assert_int_equal (kd_manifest_load_buffer (name, text, strlen (text), opts, &m, &err), 0);
  assert_null (err);
  assert_non_null (m);
  return m;
}

/* Everything kd_manifest_print writes, and the count it returns. */
static char *
printed (const kd_manifest_t *m, size_t *n_errors)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);

  assert_non_null (f);
  *n_errors = kd_manifest_print (m, f);
  fclose (f);
  return s;
}

static const char web_pod[] = "apiVersion: v1\n"
                              "kind: Pod\n"
                              "metadata:\n"
                              "  name: web\n"
                              "  labels: {app: web}\n"
                              "spec:\n"
                              "  containers:\n"
                              "  - name: web\n"
                              "    image: nginx:1.25\n"
                              "    ports:\n"
                              "    - containerPort: 8080\n";

static void
test_valid_pod_loads_as_a_static_pod (void **state)
{
  kd_manifest_t *m = load ("web.yaml", web_pod, &static_opts);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  assert_true (kd_manifest_ok (m));
  assert_null (m->error);
  assert_int_equal (m->n_pods, 1);
  assert_int_equal (m->pods[0].line, 1);
  assert_int_equal (m->pods[0].col, 1);
  assert_string_equal (m->pods[0].pod->metadata.name, "web-node1");
  assert_string_equal (m->pods[0].pod->metadata.namespace_, "default");
  assert_string_equal (m->pods[0].pod->spec.containers[0].image, "nginx:1.25");
  assert_int_equal (m->pods[0].pod->spec.containers[0].ports[0].container_port, 8080);
  assert_string_equal (m->path, "web.yaml");
  assert_int_equal (n, 0);
  assert_string_equal (out, "");
  kd_manifest_free (m);
}

static void
test_without_make_static_the_name_is_kept (void **state)
{
  kd_manifest_t *m = load ("web.yaml", web_pod, NULL);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  /* Nor is the namespace defaulted, which validation wants. */
  assert_false (kd_manifest_ok (m));
  assert_string_equal (out, "web.yaml:4:3: metadata.namespace: Required value\n");
  assert_string_equal (m->pods[0].pod->metadata.name, "web");
  kd_manifest_free (m);
}

static void
test_validation_error_has_file_line_col (void **state)
{
  static const char text[] = "apiVersion: v1\n"
                             "kind: Pod\n"
                             "metadata:\n"
                             "  name: web\n"
                             "spec:\n"
                             "  containers:\n"
                             "  - name: web\n"
                             "    image: nginx\n"
                             "    ports:\n"
                             "    - containerPort: 70000\n";
  kd_manifest_t *m = load ("web.yaml", text, &static_opts);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  assert_false (kd_manifest_ok (m));
  assert_null (m->error);
  assert_int_equal (m->n_pods, 1);
  assert_non_null (m->pods[0].pod);
  assert_string_equal (out, "web.yaml:10:22: spec.containers[0].ports[0].containerPort: Invalid "
                            "value: 70000: must be between 1 and 65535, inclusive\n");
  assert_int_equal (n, 1);
  kd_manifest_free (m);
}

static void
test_unknown_field_is_a_warning_with_position (void **state)
{
  static const char text[] = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n"
                             "  containers:\n  - name: web\n    image: nginx\n    imagee: x\n";
  kd_manifest_t *m = load ("web.yaml", text, &static_opts);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  /* A warning does not make the pod invalid and is not counted. */
  assert_true (kd_manifest_ok (m));
  assert_int_equal (n, 0);
  assert_non_null (strstr (out, "web.yaml:9:5: warning: "));
  assert_non_null (strstr (out, "imagee"));
  kd_manifest_free (m);
}

static void
test_multi_document_file_gives_a_pod_per_document (void **state)
{
  static const char text[] = "---\n"
                             "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
                             "spec: {containers: [{name: c, image: busybox}]}\n"
                             "---\n# nothing here\n---\n"
                             "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
                             "spec: {containers: [{name: c, image: busybox}]}\n"
                             "---\n";
  kd_manifest_t *m = load ("two.yaml", text, &static_opts);

  assert_true (kd_manifest_ok (m));
  assert_int_equal (m->n_pods, 2);
  assert_string_equal (m->pods[0].pod->metadata.name, "a-node1");
  assert_string_equal (m->pods[1].pod->metadata.name, "b-node1");
  assert_int_equal (m->pods[1].line, 9);
  kd_manifest_free (m);
}

static void
test_list_of_pods (void **state)
{
  static const char text[] = "apiVersion: v1\n"
                             "kind: List\n"
                             "items:\n"
                             "- apiVersion: v1\n"
                             "  kind: Pod\n"
                             "  metadata: {name: a}\n"
                             "  spec: {containers: [{name: c, image: busybox}]}\n"
                             "- apiVersion: v1\n"
                             "  kind: Pod\n"
                             "  metadata: {name: b}\n"
                             "  spec: {containers: [{name: c, image: busybox}]}\n";
  kd_manifest_t *m = load ("list.yaml", text, &static_opts);

  assert_true (kd_manifest_ok (m));
  assert_int_equal (m->n_pods, 2);
  assert_string_equal (m->pods[1].pod->metadata.name, "b-node1");
  assert_int_equal (m->pods[1].line, 8);
  assert_int_equal (m->pods[1].col, 3);
  kd_manifest_free (m);
}

static void
test_pod_list_items_may_leave_out_kind (void **state)
{
  static const char text[] = "apiVersion: v1\nkind: PodList\nitems:\n"
                             "- metadata: {name: a}\n"
                             "  spec: {containers: [{name: c, image: busybox}]}\n";
  kd_manifest_t *m = load ("list.yaml", text, &static_opts);

  assert_true (kd_manifest_ok (m));
  assert_int_equal (m->n_pods, 1);
  assert_string_equal (m->pods[0].pod->kind, "Pod");
  kd_manifest_free (m);
}

static void
test_list_item_that_is_not_a_pod_is_an_error (void **state)
{
  static const char text[] = "apiVersion: v1\n"
                             "kind: List\n"
                             "items:\n"
                             "- apiVersion: v1\n"
                             "  kind: Pod\n"
                             "  metadata: {name: a}\n"
                             "  spec: {containers: [{name: c, image: busybox}]}\n"
                             "- apiVersion: apps/v1\n"
                             "  kind: Deployment\n"
                             "- metadata: {name: c}\n";
  kd_manifest_t *m = load ("list.yaml", text, &static_opts);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  assert_false (kd_manifest_ok (m));
  assert_string_equal (out, "list.yaml:9:9: items[1].kind: Unsupported value: \"Deployment\": "
                            "supported values: \"Pod\"\n"
                            "list.yaml:10:3: items[2].kind: Required value: must be \"Pod\"\n");
  assert_int_equal (n, 2);
  /* The good item is still decoded. */
  assert_int_equal (m->n_pods, 1);
  kd_manifest_free (m);
}

static void
test_unsupported_kind (void **state)
{
  kd_manifest_t *m = load ("d.yaml", "apiVersion: apps/v1\nkind: Deployment\n", &static_opts);

  assert_false (kd_manifest_ok (m));
  assert_int_equal (m->n_pods, 0);
  assert_string_equal (m->error, "d.yaml:2:7: kind: Unsupported value: \"Deployment\": supported "
                                 "values: \"Pod\", \"List\"");
  kd_manifest_free (m);
}

static void
test_missing_kind (void **state)
{
  kd_manifest_t *m = load ("d.yaml", "# a pod\napiVersion: v1\nmetadata: {name: x}\n", NULL);

  assert_string_equal (m->error, "d.yaml:2:1: kind: Required value: must be \"Pod\" or \"List\"");
  kd_manifest_free (m);
}

static void
test_unsupported_api_version (void **state)
{
  kd_manifest_t *m = load ("d.yaml", "apiVersion: apps/v1\nkind: Pod\n", NULL);

  assert_string_equal (m->error, "d.yaml:1:13: apiVersion: Unsupported value: \"apps/v1\": "
                                 "supported values: \"v1\"");
  assert_int_equal (m->n_pods, 0);
  kd_manifest_free (m);
}

static void
test_document_that_is_not_a_mapping (void **state)
{
  kd_manifest_t *m = load ("d.yaml", "- a\n- b\n", NULL);

  assert_string_equal (
      m->error, "d.yaml:1:1: a manifest must be a mapping (a Pod or a List), not a sequence");
  kd_manifest_free (m);
}

static void
test_file_without_documents_is_an_error (void **state)
{
  kd_manifest_t *m = load ("e.yaml", "# only a comment\n", NULL);
  kd_manifest_t *m2 = load ("e.yaml", "", NULL);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  assert_false (kd_manifest_ok (m));
  assert_int_equal (m->n_pods, 0);
  assert_string_equal (out, "e.yaml: no pods: the file has no YAML or JSON document\n");
  assert_int_equal (n, 1);
  assert_false (kd_manifest_ok (m2));
  kd_manifest_free (m);
  kd_manifest_free (m2);
}

static void
test_syntax_error_is_the_file_error (void **state)
{
  kd_manifest_t *m = load ("s.yaml", "kind: Pod\nmetadata:\n\tname: x\n", NULL);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  assert_false (kd_manifest_ok (m));
  assert_int_equal (m->n_pods, 0);
  assert_string_equal (out, "s.yaml:3:1: found character that cannot start any token while "
                            "scanning for the next token\n");
  assert_int_equal (n, 1);
  kd_manifest_free (m);
}

static void
test_alias_bomb_is_a_file_error (void **state)
{
  static const char bomb[] = "apiVersion: v1\nkind: Pod\nmetadata:\n"
                             "  a: &a [x,x,x,x,x,x,x,x,x,x,x,x,x,x,x,x]\n"
                             "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                             "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                             "  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                             "  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
  kd_manifest_t *m = load ("bomb.yaml", bomb, &static_opts);

  assert_non_null (m->error);
  assert_non_null (strstr (m->error, "too many nodes after alias expansion (limit 200000)"));
  kd_manifest_free (m);
}

static void
test_json_manifest_with_tabs (void **state)
{
  static const char text[]
      = "{\n"
        "\t\"apiVersion\": \"v1\",\n"
        "\t\"kind\": \"Pod\",\n"
        "\t\"metadata\": {\"name\": \"web\"},\n"
        "\t\"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"nginx\",\n"
        "\t\t\"ports\": [{\"containerPort\": 0}]}]}\n"
        "}\n";
  kd_manifest_t *m = load ("web.json", text, &static_opts);
  size_t n;
  cleanup_free char *out = printed (m, &n);

  assert_null (m->error);
  assert_int_equal (m->n_pods, 1);
  assert_string_equal (out, "web.json:6:31: spec.containers[0].ports[0].containerPort: Required "
                            "value\n");
  kd_manifest_free (m);
}

static void
test_load_file_reads_and_names_the_file (void **state)
{
  char dir[] = "/tmp/kd-test-manifest-XXXXXX";
  cleanup_free char *path = NULL;
  kd_manifest_t *m = NULL;
  kd_error_t err = NULL;
  FILE *f;

  assert_non_null (mkdtemp (dir));
  path = xasprintf ("%s/web.yaml", dir);
  f = fopen (path, "w");
  fputs (web_pod, f);
  fclose (f);
  assert_int_equal (kd_manifest_load_file (path, &static_opts, &m, &err), 0);
  assert_true (kd_manifest_ok (m));
  assert_string_equal (m->path, path);
  kd_manifest_free (m);

  /* A directory and a missing file cannot be read at all. */
  m = NULL;
  assert_true (kd_manifest_load_file (dir, &static_opts, &m, &err) < 0);
  assert_non_null (err);
  assert_null (m);
  kd_error_release (&err);
  unlink (path);
  assert_true (kd_manifest_load_file (path, &static_opts, &m, &err) < 0);
  assert_int_equal (err->status, ENOENT);
  kd_error_release (&err);
  rmdir (dir);
}

static void
test_file_over_ten_mib_is_refused (void **state)
{
  char path[] = "/tmp/kd-test-manifest-big-XXXXXX";
  int fd = mkstemp (path);
  kd_manifest_t *m = NULL;
  kd_error_t err = NULL;

  assert_true (fd >= 0);
  assert_int_equal (ftruncate (fd, 11 * 1024 * 1024), 0);
  close (fd);
  assert_true (kd_manifest_load_file (path, &static_opts, &m, &err) < 0);
  assert_null (m);
  assert_non_null (err);
  assert_non_null (strstr (err->msg, "too large"));
  kd_error_release (&err);
  unlink (path);

  /* The same for a buffer. */
  {
    size_t len = 11 * 1024 * 1024;
    char *big = xcalloc (1, len);

    assert_true (kd_manifest_load_buffer ("big.yaml", big, len, NULL, &m, &err) < 0);
    assert_null (m);
    assert_non_null (strstr (err->msg, "too large"));
    kd_error_release (&err);
    free (big);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_valid_pod_loads_as_a_static_pod),
    cmocka_unit_test (test_without_make_static_the_name_is_kept),
    cmocka_unit_test (test_validation_error_has_file_line_col),
    cmocka_unit_test (test_unknown_field_is_a_warning_with_position),
    cmocka_unit_test (test_multi_document_file_gives_a_pod_per_document),
    cmocka_unit_test (test_list_of_pods),
    cmocka_unit_test (test_pod_list_items_may_leave_out_kind),
    cmocka_unit_test (test_list_item_that_is_not_a_pod_is_an_error),
    cmocka_unit_test (test_unsupported_kind),
    cmocka_unit_test (test_missing_kind),
    cmocka_unit_test (test_unsupported_api_version),
    cmocka_unit_test (test_document_that_is_not_a_mapping),
    cmocka_unit_test (test_file_without_documents_is_an_error),
    cmocka_unit_test (test_syntax_error_is_the_file_error),
    cmocka_unit_test (test_alias_bomb_is_a_file_error),
    cmocka_unit_test (test_json_manifest_with_tabs),
    cmocka_unit_test (test_load_file_reads_and_names_the_file),
    cmocka_unit_test (test_file_over_ten_mib_is_refused),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
