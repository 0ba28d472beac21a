/* pod events: the kubelet's event objects, de-duplication, the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/podlogic.h"

#define S(x) ((int64_t) (x) *1000000000LL)

static kd_container_t init_c = { .name = "init1" };
static kd_container_t app_c = { .name = "web" };

static void
make_pod (kd_pod_t *pod, const char *name, const char *uid)
{
  memset (pod, 0, sizeof (*pod));
  pod->metadata.name = (char *) name;
  pod->metadata.namespace_ = "default";
  pod->metadata.uid = (char *) uid;
  pod->spec.init_containers = &init_c;
  pod->spec.n_init_containers = 1;
  pod->spec.containers = &app_c;
  pod->spec.n_containers = 1;
}

static void
test_events_repeat_counts_and_keeps_first (void **state)
{
  kd_pod_t pod;
  kd_events_t *ev = kd_events_new ("node1", 0);
  make_pod (&pod, "web-node1", "u1");
  const kd_event_t *e = kd_events_record (ev, &pod, "web", KD_EVENT_WARNING, KD_EV_BACKOFF, S (100),
                                          KD_EVMSG_CRASH_BACKOFF, "web", "web-node1_default(u1)");
  assert_string_equal (e->message,
                       "Back-off restarting failed container web in pod web-node1_default(u1)");
  char *name = xstrdup (e->name);
  e = kd_events_record (ev, &pod, "web", KD_EVENT_WARNING, KD_EV_BACKOFF, S (130),
                        KD_EVMSG_CRASH_BACKOFF, "web", "web-node1_default(u1)");
  assert_int_equal (e->count, 2);
  assert_int_equal (e->first_timestamp, S (100));
  assert_int_equal (e->last_timestamp, S (130));
  assert_string_equal (e->name, name);
  assert_int_equal (kd_events_count (ev), 1);
  /* another message is another event */
  kd_events_record (ev, &pod, "web", KD_EVENT_NORMAL, KD_EV_STARTED, S (140), KD_EVMSG_STARTED,
                    "web");
  assert_int_equal (kd_events_count (ev), 2);
  free (name);
  kd_events_free (ev);
}

static void
test_events_json_has_kubelet_shape (void **state)
{
  kd_pod_t pod;
  kd_events_t *ev = kd_events_new ("node1", 0);
  make_pod (&pod, "web-node1", "u1");
  kd_events_record (ev, &pod, "init1", KD_EVENT_NORMAL, KD_EV_PULLING, S (1764476110),
                    KD_EVMSG_PULLING, "busybox");
  kd_events_record (ev, &pod, NULL, KD_EVENT_NORMAL, KD_EV_SANDBOX_CHANGED, S (1764476111), "%s",
                    KD_EVMSG_SANDBOX_CHANGED);
  json_t *list = kd_events_to_json (ev, NULL);
  assert_string_equal (json_string_value (json_object_get (list, "kind")), "EventList");
  json_t *items = json_object_get (list, "items");
  assert_int_equal (json_array_size (items), 2);
  json_t *e0 = json_array_get (items, 0);
  json_t *inv = json_object_get (e0, "involvedObject");
  assert_string_equal (json_string_value (json_object_get (inv, "kind")), "Pod");
  assert_string_equal (json_string_value (json_object_get (inv, "uid")), "u1");
  assert_string_equal (json_string_value (json_object_get (inv, "fieldPath")),
                       "spec.initContainers{init1}");
  assert_string_equal (json_string_value (json_object_get (e0, "message")),
                       "Pulling image \"busybox\"");
  assert_string_equal (json_string_value (json_object_get (e0, "firstTimestamp")),
                       "2025-11-30T04:15:10Z");
  assert_int_equal (json_integer_value (json_object_get (e0, "count")), 1);
  json_t *src = json_object_get (e0, "source");
  assert_string_equal (json_string_value (json_object_get (src, "component")), "kubelet");
  assert_string_equal (json_string_value (json_object_get (src, "host")), "node1");
  assert_string_equal (
      json_string_value (json_object_get (json_object_get (e0, "metadata"), "name")),
      "web-node1.187cadac67368c00");
  /* a pod-level event has no fieldPath */
  json_t *e1 = json_array_get (items, 1);
  assert_null (json_object_get (json_object_get (e1, "involvedObject"), "fieldPath"));
  json_decref (list);
  list = kd_events_to_json (ev, "other");
  assert_int_equal (json_array_size (json_object_get (list, "items")), 0);
  json_decref (list);
  kd_events_free (ev);
}

static void
test_events_cap_drops_oldest (void **state)
{
  kd_pod_t pod;
  kd_events_t *ev = kd_events_new ("node1", 3);
  make_pod (&pod, "web-node1", "u1");
  for (int i = 0; i < 5; i++)
    kd_events_record (ev, &pod, "web", KD_EVENT_NORMAL, KD_EV_STARTED, S (i + 1), "msg %d", i);
  assert_int_equal (kd_events_count (ev), 3);
  const kd_event_t **v;
  size_t n = kd_events_for_pod (ev, "u1", &v);
  assert_int_equal (n, 3);
  assert_string_equal (v[0]->message, "msg 2");
  assert_string_equal (v[2]->message, "msg 4");
  free (v);
  /* a repeat of an old one makes it the newest, so it survives */
  kd_events_record (ev, &pod, "web", KD_EVENT_NORMAL, KD_EV_STARTED, S (9), "msg 2");
  kd_events_record (ev, &pod, "web", KD_EVENT_NORMAL, KD_EV_STARTED, S (10), "msg 5");
  n = kd_events_for_pod (ev, "u1", &v);
  assert_int_equal (n, 3);
  assert_string_equal (v[0]->message, "msg 4");
  assert_string_equal (v[1]->message, "msg 2");
  free (v);
  kd_events_free (ev);
}

static void
test_events_for_pod_filters_by_uid (void **state)
{
  kd_pod_t a, b;
  kd_events_t *ev = kd_events_new ("node1", 0);
  make_pod (&a, "a-node1", "ua");
  make_pod (&b, "b-node1", "ub");
  kd_events_record (ev, &a, "web", KD_EVENT_NORMAL, KD_EV_CREATED, S (1), KD_EVMSG_CREATED, "web");
  kd_events_record (ev, &b, "web", KD_EVENT_NORMAL, KD_EV_CREATED, S (2), KD_EVMSG_CREATED, "web");
  const kd_event_t **v;
  size_t n = kd_events_for_pod (ev, "ub", &v);
  assert_int_equal (n, 1);
  assert_string_equal (v[0]->pod_name, "b-node1");
  assert_string_equal (v[0]->message, "Created container: web");
  free (v);
  kd_events_free (ev);
}

static void
test_pulled_message_text (void **state)
{
  char *m = kd_event_pulled_message ("busybox", 1234567890LL, 1500999999LL, 2150000);
  assert_string_equal (m, "Successfully pulled image \"busybox\" in 1.234s (1.5s including "
                          "waiting). Image size: 2150000 bytes.");
  free (m);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_events_repeat_counts_and_keeps_first),
    cmocka_unit_test (test_events_json_has_kubelet_shape),
    cmocka_unit_test (test_events_cap_drops_oldest),
    cmocka_unit_test (test_events_for_pod_filters_by_uid),
    cmocka_unit_test (test_pulled_message_text),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
