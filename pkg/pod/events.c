/* The node's recent events, as the kubelet's event recorder makes them.

   The recorder (client-go tools/record) keys an event by its source,
   involved object (kind, namespace, name, uid, fieldPath), type, reason and
   message; a repeat within the cache increments count and lastTimestamp of
   the first one (same name, same firstTimestamp) instead of adding one.
   Without an API server the events live here: a bounded list (oldest
   occurrence dropped first), searched linearly — the cap keeps it small and
   recording is rare next to a probe period. */
#include "kubeletd/podlogic.h"

struct kd_events
{
  char *node;
  size_t cap;
  kd_event_t **v; /* in order of last occurrence, oldest first */
  size_t n;
  uint64_t seq;
};

kd_events_t *
kd_events_new (const char *node_name, size_t cap)
{
  kd_events_t *ev = xcalloc (1, sizeof (*ev));
  ev->node = xstrdup (node_name ? node_name : "");
  ev->cap = cap ? cap : 1000;
  return ev;
}

static void
event_free (kd_event_t *e)
{
  if (e == NULL)
    return;
  free (e->name);
  free (e->namespace_);
  free (e->pod_name);
  free (e->pod_uid);
  free (e->field_path);
  free (e->type);
  free (e->reason);
  free (e->message);
  free (e);
}

void
kd_events_free (kd_events_t *ev)
{
  if (ev == NULL)
    return;
  for (size_t i = 0; i < ev->n; i++)
    event_free (ev->v[i]);
  free (ev->v);
  free (ev->node);
  free (ev);
}

size_t
kd_events_count (const kd_events_t *ev)
{
  return ev->n;
}

/* kubecontainer.GenerateContainerRef: the field path names the list the
   container is in. */
static char *
field_path_of (const kd_pod_t *pod, const char *container)
{
  if (container == NULL)
    return NULL;
  for (size_t i = 0; i < pod->spec.n_init_containers; i++)
    if (kd_str_eq (pod->spec.init_containers[i].name, container))
      return xasprintf ("spec.initContainers{%s}", container);
  return xasprintf ("spec.containers{%s}", container);
}

static void
move_to_end (kd_events_t *ev, size_t i)
{
  kd_event_t *e = ev->v[i];
  memmove (&ev->v[i], &ev->v[i + 1], (ev->n - i - 1) * sizeof (*ev->v));
  ev->v[ev->n - 1] = e;
}

const kd_event_t *
kd_events_record (kd_events_t *ev, const kd_pod_t *pod, const char *container, const char *type,
                  const char *reason, int64_t now_ns, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;
  cleanup_free char *fp = field_path_of (pod, container);
  const char *ns = pod->metadata.namespace_ ? pod->metadata.namespace_ : "default";
  const char *name = pod->metadata.name ? pod->metadata.name : "";
  const char *uid = pod->metadata.uid ? pod->metadata.uid : "";

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);

  for (size_t i = 0; i < ev->n; i++)
    {
      kd_event_t *e = ev->v[i];
      if (kd_str_eq (e->namespace_, ns) && kd_str_eq (e->pod_name, name)
          && kd_str_eq (e->pod_uid, uid) && kd_str_eq (e->field_path, fp)
          && kd_str_eq (e->type, type) && kd_str_eq (e->reason, reason)
          && kd_str_eq (e->message, msg))
        {
          free (msg);
          e->count++;
          e->last_timestamp = now_ns;
          e->seq = ++ev->seq;
          move_to_end (ev, i);
          return e;
        }
    }

  if (ev->n == ev->cap)
    {
      event_free (ev->v[0]);
      memmove (&ev->v[0], &ev->v[1], (ev->n - 1) * sizeof (*ev->v));
      ev->n--;
    }
  else
    ev->v = xrealloc (ev->v, (ev->n + 1) * sizeof (*ev->v));

  kd_event_t *e = xcalloc (1, sizeof (*e));
  /* the recorder names an event "<object name>.<unix nanoseconds in hex>" */
  e->name = xasprintf ("%s.%llx", name, (unsigned long long) now_ns);
  e->namespace_ = xstrdup (ns);
  e->pod_name = xstrdup (name);
  e->pod_uid = xstrdup (uid);
  e->field_path = steal_pointer (&fp);
  e->type = xstrdup (type);
  e->reason = xstrdup (reason);
  e->message = msg;
  e->count = 1;
  e->first_timestamp = now_ns;
  e->last_timestamp = now_ns;
  e->seq = ++ev->seq;
  ev->v[ev->n++] = e;
  return e;
}

size_t
kd_events_for_pod (const kd_events_t *ev, const char *uid, const kd_event_t ***out)
{
  size_t n = 0;
  const kd_event_t **v = xcalloc (ev->n + 1, sizeof (*v));
  for (size_t i = 0; i < ev->n; i++)
    if (kd_str_eq (ev->v[i]->pod_uid, uid))
      v[n++] = ev->v[i];
  *out = v;
  return n;
}

static json_t *
time_json (kd_time_t t)
{
  char buf[40];
  if (t == 0)
    return json_null ();
  kd_format_time (t, buf, sizeof (buf));
  return json_string (buf);
}

json_t *
kd_event_to_json (const kd_events_t *ev, const kd_event_t *e)
{
  json_t *obj = json_object ();
  json_t *meta = json_object ();
  json_t *inv = json_object ();
  json_t *src = json_object ();

  json_object_set_new (obj, "kind", json_string ("Event"));
  json_object_set_new (obj, "apiVersion", json_string ("v1"));
  json_object_set_new (meta, "name", json_string (e->name));
  json_object_set_new (meta, "namespace", json_string (e->namespace_));
  json_object_set_new (meta, "creationTimestamp", time_json (e->first_timestamp));
  json_object_set_new (obj, "metadata", meta);
  json_object_set_new (inv, "kind", json_string ("Pod"));
  json_object_set_new (inv, "namespace", json_string (e->namespace_));
  json_object_set_new (inv, "name", json_string (e->pod_name));
  json_object_set_new (inv, "uid", json_string (e->pod_uid));
  json_object_set_new (inv, "apiVersion", json_string ("v1"));
  if (e->field_path)
    json_object_set_new (inv, "fieldPath", json_string (e->field_path));
  json_object_set_new (obj, "involvedObject", inv);
  json_object_set_new (obj, "reason", json_string (e->reason));
  json_object_set_new (obj, "message", json_string (e->message));
  json_object_set_new (src, "component", json_string ("kubelet"));
  json_object_set_new (src, "host", json_string (ev->node));
  json_object_set_new (obj, "source", src);
  json_object_set_new (obj, "firstTimestamp", time_json (e->first_timestamp));
  json_object_set_new (obj, "lastTimestamp", time_json (e->last_timestamp));
  json_object_set_new (obj, "count", json_integer (e->count));
  json_object_set_new (obj, "type", json_string (e->type));
  json_object_set_new (obj, "eventTime", json_null ());
  json_object_set_new (obj, "reportingComponent", json_string ("kubelet"));
  json_object_set_new (obj, "reportingInstance", json_string (ev->node));
  return obj;
}

json_t *
kd_events_to_json (const kd_events_t *ev, const char *ns)
{
  json_t *list = json_object ();
  json_t *items = json_array ();
  json_object_set_new (list, "kind", json_string ("EventList"));
  json_object_set_new (list, "apiVersion", json_string ("v1"));
  json_object_set_new (list, "metadata", json_object ());
  for (size_t i = 0; i < ev->n; i++)
    if (ns == NULL || kd_str_eq (ev->v[i]->namespace_, ns))
      json_array_append_new (items, kd_event_to_json (ev, ev->v[i]));
  json_object_set_new (list, "items", items);
  return list;
}

char *
kd_event_pulled_message (const char *image, int64_t pull_ns, int64_t total_ns, int64_t size)
{
  char a[32], b[32];
  /* Duration.Truncate(time.Millisecond) */
  kd_go_duration (pull_ns - pull_ns % 1000000, a, sizeof (a));
  kd_go_duration (total_ns - total_ns % 1000000, b, sizeof (b));
  return xasprintf ("Successfully pulled image \"%s\" in %s (%s including waiting). Image size: "
                    "%lld bytes.",
                    image, a, b, (long long) size);
}
