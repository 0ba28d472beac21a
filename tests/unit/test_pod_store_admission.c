/* pod store: --max-pods admission, rejected pods shown as the kubelet
   shows them (Failed, OutOfpods). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/pod.h"

static kd_pod_t *
mkpod (const char *name, const char *uid)
{
  kd_pod_t *p = xcalloc (1, sizeof (*p));

  p->metadata.name = xstrdup (name);
  p->metadata.namespace_ = xstrdup ("default");
  p->metadata.uid = xstrdup (uid);
  return p;
}

typedef struct
{
  int added, removed;
} counts_t;

static void
on_change (kd_pod_op_t op, const kd_pod_t *pod, const kd_pod_t *old, void *data)
{
  counts_t *c = data;
  if (op == KD_POD_ADDED)
    c->added++;
  if (op == KD_POD_REMOVED)
    c->removed++;
}

static void
set (kd_pod_store_t *st, const char *source, kd_pod_t *pod)
{
  kd_pod_store_set_source (st, source, &pod, pod ? 1 : 0);
}

static void
test_pod_over_max_pods_is_failed_out_of_pods_and_never_started (void **state)
{
  kd_pod_store_t *st = kd_pod_store_new (2);
  counts_t c = { 0 };
  kd_pod_t *a = mkpod ("a", "1"), *b = mkpod ("b", "2"), *z = mkpod ("c", "3");
  const kd_pod_t *const *all;
  const kd_pod_t *r;
  size_t n;

  kd_pod_store_on_change (st, on_change, &c);
  set (st, "/m/a.yaml", a);
  set (st, "/m/b.yaml", b);
  set (st, "/m/c.yaml", z);
  assert_int_equal (c.added, 2);
  kd_pod_store_list (st, &n);
  assert_int_equal (n, 2);
  all = kd_pod_store_list_all (st, &n);
  assert_int_equal (n, 3);
  assert_string_equal (all[2]->metadata.name, "c");
  r = kd_pod_store_get_any (st, "default", "c");
  assert_non_null (r);
  assert_null (kd_pod_store_get (st, "default", "c"));
  assert_string_equal (r->status.phase, "Failed");
  assert_string_equal (r->status.reason, "OutOfpods");
  assert_string_equal (r->status.message, "Pod was rejected: Node didn't have enough resource: "
                                          "pods, requested: 1, used: 2, capacity: 2");
  assert_null (kd_pod_store_get_uid (st, "3"));

  /* a slot frees: the rejected pod stays rejected (the kubelet's rule) */
  set (st, "/m/a.yaml", NULL);
  assert_int_equal (c.removed, 1);
  assert_int_equal (c.added, 2);
  assert_string_equal (kd_pod_store_get_any (st, "default", "c")->status.reason, "OutOfpods");

  /* its file edited (a new uid): admitted now */
  kd_pod_free (z);
  z = mkpod ("c", "4");
  set (st, "/m/c.yaml", z);
  assert_int_equal (c.added, 3);
  assert_string_equal (kd_pod_store_get (st, "default", "c")->status.phase, "Pending");
  kd_pod_store_list_all (st, &n);
  assert_int_equal (n, 2);

  kd_pod_free (a);
  kd_pod_free (b);
  kd_pod_free (z);
  kd_pod_store_free (st);
}

static void
test_rejected_pod_goes_with_its_source (void **state)
{
  kd_pod_store_t *st = kd_pod_store_new (1);
  kd_pod_t *a = mkpod ("a", "1"), *b = mkpod ("b", "2");
  size_t n;

  set (st, "s1", a);
  set (st, "s2", b);
  kd_pod_store_list_all (st, &n);
  assert_int_equal (n, 2);
  set (st, "s2", NULL);
  kd_pod_store_list_all (st, &n);
  assert_int_equal (n, 1);
  assert_null (kd_pod_store_get_any (st, "default", "b"));
  kd_pod_free (a);
  kd_pod_free (b);
  kd_pod_store_free (st);
}

static void
test_terminal_pods_do_not_use_a_slot (void **state)
{
  kd_pod_store_t *st = kd_pod_store_new (1);
  kd_pod_t *a = mkpod ("a", "1"), *b = mkpod ("b", "2");
  kd_pod_status_t done = { .phase = (char *) "Succeeded" };

  set (st, "s1", a);
  kd_pod_store_set_status (st, "1", &done);
  set (st, "s2", b);
  assert_non_null (kd_pod_store_get (st, "default", "b"));
  kd_pod_free (a);
  kd_pod_free (b);
  kd_pod_store_free (st);
}

/* GET /pods answers from a cached body; every change must show at once. */
static void
test_pod_list_json_follows_every_change (void **state)
{
  kd_pod_store_t *st = kd_pod_store_new (-1);
  kd_pod_t *a = mkpod ("a", "1"), *b = mkpod ("b", "2");
  kd_pod_status_t running = { .phase = (char *) "Running" };
  kd_pod_status_t failed = { .phase = (char *) "Failed" };
  kd_shared_t *body, *held;
  json_t *list;

  body = kd_pod_store_list_json (st);
  assert_string_equal (
      body->data, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}\n");
  assert_int_equal (body->len, strlen (body->data));
  set (st, "s1", a);
  body = kd_pod_store_list_json (st);
  assert_non_null (strstr (body->data, "\"name\":\"a\""));
  assert_null (strstr (body->data, "Running"));
  kd_pod_store_set_status (st, "1", &running);
  body = kd_pod_store_list_json (st);
  assert_non_null (strstr (body->data, "\"phase\":\"Running\""));
  set (st, "s2", b);
  body = kd_pod_store_list_json (st);
  assert_non_null (strstr (body->data, "\"name\":\"b\""));
  /* an answer still being written keeps the body it started with */
  held = kd_shared_ref (body);
  kd_pod_store_set_status (st, "2", &failed);
  body = kd_pod_store_list_json (st);
  assert_ptr_not_equal (body, held);
  assert_null (strstr (held->data, "Failed"));
  assert_non_null (strstr (body->data, "\"phase\":\"Failed\""));
  /* pod a's cached text is still the Running one, in a valid PodList */
  list = json_loadb (body->data, body->len, 0, NULL);
  assert_non_null (list);
  assert_int_equal (json_array_size (json_object_get (list, "items")), 2);
  assert_string_equal (
      json_string_value (json_object_get (
          json_object_get (json_array_get (json_object_get (list, "items"), 0), "status"),
          "phase")),
      "Running");
  json_decref (list);
  kd_shared_unref (held);
  /* the same status published again: the list stays as it is */
  held = kd_pod_store_list_json (st);
  kd_pod_store_set_status (st, "2", &failed);
  assert_ptr_equal (kd_pod_store_list_json (st), held);
  set (st, "s1", NULL);
  body = kd_pod_store_list_json (st);
  assert_null (strstr (body->data, "\"name\":\"a\""));
  assert_int_equal (body->data[body->len - 1], '\n');
  kd_pod_free (a);
  kd_pod_free (b);
  kd_pod_store_free (st);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pod_over_max_pods_is_failed_out_of_pods_and_never_started),
    cmocka_unit_test (test_rejected_pod_goes_with_its_source),
    cmocka_unit_test (test_terminal_pods_do_not_use_a_slot),
    cmocka_unit_test (test_pod_list_json_follows_every_change),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
