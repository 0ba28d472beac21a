/* The pod store: per-source desired sets in, one admitted set out.

   Every change of a source runs one reconcile over all sources, so the
   result depends only on what the sources want now and on what was already
   admitted (an admitted pod is never displaced by a newcomer):
     1. each admitted pod is checked against its own source: gone -> removed,
        new uid -> updated (an edited file), same uid -> kept as it is (a
        reload of an unchanged file changes nothing, not even config.seen);
     2. every desired pod not admitted yet, sources in name order and pods in
        file order, is admitted unless its namespace/name is taken (the
        kubelet's "duplicate pod name", first wins) or --max-pods is reached.
   A refusal is logged when it first happens, not at every relist.

   Sizes are bounded by --max-pods (110 by default), so the admitted pods sit
   in one array sorted by namespace/name: binary search by name, a scan by
   uid, and GET /pods gets its stable order for free. */
#include "kubeletd/pod.h"

typedef struct
{
  char *source;
  kd_pod_t **pods;
  size_t n;
} kd_store_source_t;

typedef struct
{
  kd_pod_t *pod; /* owned copy, with status filled */
  char *source;
  char *json; /* the pod's JSON text, NULL until asked and after a change */
  size_t json_len;
} kd_store_entry_t;

struct kd_pod_store
{
  int32_t max_pods;
  kd_store_source_t *srcs; /* sorted by source */
  size_t n_srcs;
  kd_store_entry_t *pods; /* sorted by namespace, name */
  size_t n_pods;
  const kd_pod_t **view; /* kd_pod_store_list's array */
  /* Refused by admission (--max-pods): Failed with the reason, until the
     source drops or changes them (the kubelet never admits a rejected pod
     later); unsorted, --max-pods bounds nothing here but the sources do. */
  kd_store_entry_t *rejected;
  size_t n_rejected;
  const kd_pod_t **view_all; /* kd_pod_store_list_all's array */
  kd_strv_t refused;         /* refusals already logged */
  kd_pod_change_cb cb;
  void *cb_data;
  /* GET /pods body, rebuilt only after a change, from each pod's own
     cached text (only the pods that changed are encoded again): a node with
     hundreds of pods answers from memory. Shared with the answers still
     being written. */
  kd_shared_t *list_json;
};

static void
entry_forget_json (kd_store_entry_t *e)
{
  free (e->json);
  e->json = NULL;
  e->json_len = 0;
}

static void
entry_clear (kd_store_entry_t *e)
{
  kd_pod_free (e->pod);
  free (e->source);
  entry_forget_json (e);
}

static const char *entry_json (kd_store_entry_t *e, size_t *len);

static void
list_changed (kd_pod_store_t *st)
{
  kd_shared_unref (st->list_json);
  st->list_json = NULL;
}

static const char *
pod_ns (const kd_pod_t *pod)
{
  return pod->metadata.namespace_ ? pod->metadata.namespace_ : "default";
}

static const char *
pod_name (const kd_pod_t *pod)
{
  return pod->metadata.name ? pod->metadata.name : "";
}

static int
key_cmp (const char *ns_a, const char *name_a, const char *ns_b, const char *name_b)
{
  int r = strcmp (ns_a, ns_b);
  return r ? r : strcmp (name_a, name_b);
}

kd_pod_store_t *
kd_pod_store_new (int32_t max_pods)
{
  kd_pod_store_t *st = xcalloc (1, sizeof (*st));
  st->max_pods = max_pods;
  return st;
}

void
kd_pod_store_on_change (kd_pod_store_t *st, kd_pod_change_cb cb, void *data)
{
  st->cb = cb;
  st->cb_data = data;
}

static void
source_clear (kd_store_source_t *s)
{
  for (size_t i = 0; i < s->n; i++)
    kd_pod_free (s->pods[i]);
  free (s->pods);
  s->pods = NULL;
  s->n = 0;
}

void
kd_pod_store_free (kd_pod_store_t *st)
{
  if (st == NULL)
    return;
  for (size_t i = 0; i < st->n_srcs; i++)
    {
      source_clear (&st->srcs[i]);
      free (st->srcs[i].source);
    }
  free (st->srcs);
  for (size_t i = 0; i < st->n_pods; i++)
    entry_clear (&st->pods[i]);
  free (st->pods);
  free (st->view);
  for (size_t i = 0; i < st->n_rejected; i++)
    entry_clear (&st->rejected[i]);
  free (st->rejected);
  free (st->view_all);
  kd_shared_unref (st->list_json);
  kd_strv_clear (&st->refused);
  free (st);
}

/* Index of namespace/name in st->pods, or -(insertion point) - 1. */
static ssize_t
find_entry (const kd_pod_store_t *st, const char *ns, const char *name)
{
  size_t lo = 0, hi = st->n_pods;

  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      const kd_pod_t *p = st->pods[mid].pod;
      int r = key_cmp (ns, name, pod_ns (p), pod_name (p));

      if (r == 0)
        return (ssize_t) mid;
      if (r < 0)
        hi = mid;
      else
        lo = mid + 1;
    }
  return -(ssize_t) lo - 1;
}

static kd_store_source_t *
find_source (const kd_pod_store_t *st, const char *source)
{
  for (size_t i = 0; i < st->n_srcs; i++)
    if (strcmp (st->srcs[i].source, source) == 0)
      return &st->srcs[i];
  return NULL;
}

/* The first pod of src with namespace/name, or NULL. */
static const kd_pod_t *
source_lookup (const kd_store_source_t *src, const char *ns, const char *name, size_t *index)
{
  if (src == NULL)
    return NULL;
  for (size_t i = 0; i < src->n; i++)
    if (key_cmp (ns, name, pod_ns (src->pods[i]), pod_name (src->pods[i])) == 0)
      {
        if (index)
          *index = i;
        return src->pods[i];
      }
  return NULL;
}

static kd_pod_t *
admitted_copy (const kd_pod_t *desired)
{
  kd_pod_t *pod = kd_pod_copy (desired);

  /* Until the runtime reports, a pod is Pending with its QoS class known. */
  if (pod->status.phase == NULL)
    pod->status.phase = xstrdup ("Pending");
  free (pod->status.qos_class);
  pod->status.qos_class = xstrdup (kd_pod_qos_class (pod));
  return pod;
}

static void
notify (kd_pod_store_t *st, kd_pod_op_t op, const kd_pod_t *pod, const kd_pod_t *old)
{
  if (st->cb)
    st->cb (op, pod, old, st->cb_data);
}

/* Logs a refusal unless it was logged at the previous reconcile; `now`
   collects this reconcile's refusals. */
static void
refuse (kd_pod_store_t *st, kd_strv_t *now, const char *msg)
{
  bool seen = false;

  for (size_t i = 0; i < st->refused.n && !seen; i++)
    seen = strcmp (st->refused.v[i], msg) == 0;
  if (!seen)
    kd_warn ("%s", msg);
  now->v = xrealloc (now->v, (now->n + 1) * sizeof (char *));
  now->v[now->n++] = xstrdup (msg);
}

/* A rejected pod stays rejected while its source still wants that very
   pod (same uid); an edit gives a new uid, which goes through admission
   again, as the kubelet sees an edited static pod as a new pod. */
static void
reconcile_rejected (kd_pod_store_t *st)
{
  for (size_t i = st->n_rejected; i-- > 0;)
    {
      kd_store_entry_t *e = &st->rejected[i];
      const kd_pod_t *want
          = source_lookup (find_source (st, e->source), pod_ns (e->pod), pod_name (e->pod), NULL);

      if (want && kd_str_eq (want->metadata.uid, e->pod->metadata.uid))
        continue;
      entry_clear (e);
      memmove (e, e + 1, (st->n_rejected - i - 1) * sizeof (*e));
      st->n_rejected--;
    }
}

static const kd_store_entry_t *
find_rejected (const kd_pod_store_t *st, const char *source, const char *uid)
{
  for (size_t i = 0; i < st->n_rejected; i++)
    if (kd_str_eq (st->rejected[i].source, source)
        && kd_str_eq (st->rejected[i].pod->metadata.uid, uid))
      return &st->rejected[i];
  return NULL;
}

/* The kubelet's admission counts active pods only: a pod that Succeeded or
   Failed no longer uses a slot. */
static size_t
active_pods (const kd_pod_store_t *st)
{
  size_t n = 0;

  for (size_t i = 0; i < st->n_pods; i++)
    {
      const char *phase = st->pods[i].pod->status.phase;
      if (!kd_str_eq (phase, "Succeeded") && !kd_str_eq (phase, "Failed"))
        n++;
    }
  return n;
}

/* rejectPod: phase Failed, the predicate's reason, "Pod was rejected: "
   and its message. */
static void
reject (kd_pod_store_t *st, const kd_pod_t *want, const char *source, const char *reason,
        const char *message)
{
  kd_store_entry_t *e;
  kd_pod_t *pod = admitted_copy (want);

  free (pod->status.phase);
  pod->status.phase = xstrdup ("Failed");
  free (pod->status.reason);
  pod->status.reason = xstrdup (reason);
  free (pod->status.message);
  pod->status.message = xasprintf ("Pod was rejected: %s", message);
  st->rejected = xrealloc (st->rejected, (st->n_rejected + 1) * sizeof (*st->rejected));
  e = &st->rejected[st->n_rejected++];
  memset (e, 0, sizeof *e);
  e->pod = pod;
  e->source = xstrdup (source);
}

static void
reconcile_admitted (kd_pod_store_t *st)
{
  for (size_t i = st->n_pods; i-- > 0;)
    {
      kd_store_entry_t *e = &st->pods[i];
      const kd_pod_t *want
          = source_lookup (find_source (st, e->source), pod_ns (e->pod), pod_name (e->pod), NULL);

      if (want == NULL)
        {
          kd_info ("pod %s/%s (uid %s) removed: gone from `%s`", pod_ns (e->pod), pod_name (e->pod),
                   e->pod->metadata.uid, e->source);
          notify (st, KD_POD_REMOVED, e->pod, NULL);
          entry_clear (e);
          memmove (e, e + 1, (st->n_pods - i - 1) * sizeof (*e));
          st->n_pods--;
        }
      else if (!kd_str_eq (want->metadata.uid, e->pod->metadata.uid))
        {
          kd_pod_t *old = e->pod;

          e->pod = admitted_copy (want);
          entry_forget_json (e);
          kd_info ("pod %s/%s updated from `%s`: uid %s -> %s", pod_ns (old), pod_name (old),
                   e->source, old->metadata.uid, e->pod->metadata.uid);
          notify (st, KD_POD_UPDATED, e->pod, old);
          kd_pod_free (old);
        }
    }
}

static void
admit_new (kd_pod_store_t *st, kd_strv_t *refused_now)
{
  for (size_t s = 0; s < st->n_srcs; s++)
    {
      const kd_store_source_t *src = &st->srcs[s];

      for (size_t i = 0; i < src->n; i++)
        {
          const kd_pod_t *want = src->pods[i];
          const char *ns = pod_ns (want), *name = pod_name (want);
          ssize_t at = find_entry (st, ns, name);
          size_t first = 0;
          cleanup_free char *msg = NULL;

          if (at >= 0)
            {
              const kd_store_entry_t *e = &st->pods[at];
              bool mine = strcmp (e->source, src->source) == 0
                          && source_lookup (src, ns, name, &first) != NULL && first == i;

              if (mine)
                continue;
              msg = xasprintf ("pod %s/%s from `%s` failed validation due to duplicate pod "
                               "name, ignoring (already defined by `%s`)",
                               ns, name, src->source, e->source);
              refuse (st, refused_now, msg);
              continue;
            }
          if (find_rejected (st, src->source, want->metadata.uid))
            continue;
          if (st->max_pods >= 0 && active_pods (st) >= (size_t) st->max_pods)
            {
              cleanup_free char *why
                  = xasprintf ("Node didn't have enough resource: pods, requested: 1, used: %zu, "
                               "capacity: %d",
                               active_pods (st), st->max_pods);
              msg = xasprintf ("pod %s/%s from `%s` not admitted: OutOfpods: %s", ns, name,
                               src->source, why);
              refuse (st, refused_now, msg);
              reject (st, want, src->source, "OutOfpods", why);
              continue;
            }

          at = -at - 1;
          st->pods = xrealloc (st->pods, (st->n_pods + 1) * sizeof (*st->pods));
          memmove (&st->pods[at + 1], &st->pods[at],
                   (st->n_pods - (size_t) at) * sizeof (*st->pods));
          memset (&st->pods[at], 0, sizeof st->pods[at]);
          st->pods[at].pod = admitted_copy (want);
          st->pods[at].source = xstrdup (src->source);
          st->n_pods++;
          kd_info ("pod %s/%s (uid %s) added from `%s`", ns, name, want->metadata.uid, src->source);
          notify (st, KD_POD_ADDED, st->pods[at].pod, NULL);
        }
    }
}

static int
view_cmp (const void *a, const void *b)
{
  const kd_pod_t *pa = *(const kd_pod_t *const *) a, *pb = *(const kd_pod_t *const *) b;
  int r = key_cmp (pod_ns (pa), pod_name (pa), pod_ns (pb), pod_name (pb));

  /* a rejected pod may share its name with an admitted one: admitted first */
  if (r == 0)
    r = kd_str_eq (pa->status.reason, "OutOfpods") - kd_str_eq (pb->status.reason, "OutOfpods");
  return r;
}

static void
rebuild_view (kd_pod_store_t *st)
{
  size_t n = st->n_pods + st->n_rejected;

  st->view = xrealloc (st->view, (st->n_pods + 1) * sizeof (*st->view));
  for (size_t i = 0; i < st->n_pods; i++)
    st->view[i] = st->pods[i].pod;
  st->view_all = xrealloc (st->view_all, (n + 1) * sizeof (*st->view_all));
  for (size_t i = 0; i < st->n_pods; i++)
    st->view_all[i] = st->pods[i].pod;
  for (size_t i = 0; i < st->n_rejected; i++)
    st->view_all[st->n_pods + i] = st->rejected[i].pod;
  if (st->n_rejected)
    qsort (st->view_all, n, sizeof (*st->view_all), view_cmp);
}

static void
set_source_pods (kd_pod_store_t *st, const char *source, kd_pod_t *const *pods, size_t n)
{
  kd_store_source_t *src = find_source (st, source);
  size_t at;

  if (src == NULL)
    {
      if (n == 0)
        return;
      for (at = 0; at < st->n_srcs && strcmp (st->srcs[at].source, source) < 0; at++)
        ;
      st->srcs = xrealloc (st->srcs, (st->n_srcs + 1) * sizeof (*st->srcs));
      memmove (&st->srcs[at + 1], &st->srcs[at], (st->n_srcs - at) * sizeof (*st->srcs));
      st->n_srcs++;
      src = &st->srcs[at];
      memset (src, 0, sizeof (*src));
      src->source = xstrdup (source);
    }
  source_clear (src);
  if (n == 0)
    {
      at = (size_t) (src - st->srcs);
      free (src->source);
      memmove (src, src + 1, (st->n_srcs - at - 1) * sizeof (*src));
      st->n_srcs--;
      return;
    }
  src->pods = xmalloc (n * sizeof (*src->pods));
  for (size_t i = 0; i < n; i++)
    src->pods[i] = kd_pod_copy (pods[i]);
  src->n = n;
}

void
kd_pod_store_set_source (kd_pod_store_t *st, const char *source, kd_pod_t *const *pods, size_t n)
{
  kd_strv_t refused_now = { 0 };

  set_source_pods (st, source, pods, n);
  reconcile_rejected (st);
  reconcile_admitted (st);
  admit_new (st, &refused_now);
  kd_strv_clear (&st->refused);
  st->refused = refused_now;
  rebuild_view (st);
  list_changed (st);
}

const kd_pod_t *const *
kd_pod_store_list (const kd_pod_store_t *st, size_t *n)
{
  *n = st->n_pods;
  return st->view;
}

const kd_pod_t *
kd_pod_store_get (const kd_pod_store_t *st, const char *namespace_, const char *name)
{
  ssize_t at = find_entry (st, namespace_, name);
  return at >= 0 ? st->pods[at].pod : NULL;
}

const kd_pod_t *const *
kd_pod_store_list_all (const kd_pod_store_t *st, size_t *n)
{
  *n = st->n_pods + st->n_rejected;
  return st->view_all;
}

const kd_pod_t *
kd_pod_store_get_any (const kd_pod_store_t *st, const char *namespace_, const char *name)
{
  const kd_pod_t *pod = kd_pod_store_get (st, namespace_, name);

  for (size_t i = 0; pod == NULL && i < st->n_rejected; i++)
    if (key_cmp (namespace_, name, pod_ns (st->rejected[i].pod), pod_name (st->rejected[i].pod))
        == 0)
      pod = st->rejected[i].pod;
  return pod;
}

const kd_pod_t *
kd_pod_store_get_uid (const kd_pod_store_t *st, const char *uid)
{
  for (size_t i = 0; i < st->n_pods; i++)
    if (kd_str_eq (st->pods[i].pod->metadata.uid, uid))
      return st->pods[i].pod;
  return NULL;
}

const char *
kd_pod_store_source_of (const kd_pod_store_t *st, const char *namespace_, const char *name)
{
  ssize_t at = find_entry (st, namespace_, name);
  return at >= 0 ? st->pods[at].source : NULL;
}

void
kd_pod_store_set_status (kd_pod_store_t *st, const char *uid, const kd_pod_status_t *status)
{
  for (size_t i = 0; i < st->n_pods; i++)
    {
      kd_pod_t *pod = st->pods[i].pod;
      if (!kd_str_eq (pod->metadata.uid, uid))
        continue;
      kd_store_entry_t *e = &st->pods[i];
      cleanup_free char *old = steal_pointer (&e->json);
      size_t old_len = e->json_len, len;
      const char *now;

      kd_type_free (&kd_type_pod_status, &pod->status);
      kd_type_copy (&kd_type_pod_status, &pod->status, status);
      /* encoded now rather than by the next reader: a GET /pods after a
         burst of changes only joins texts, and a status published again
         unchanged keeps the list as it is */
      e->json_len = 0;
      now = entry_json (e, &len);
      if (old == NULL || old_len != len || memcmp (old, now, len) != 0)
        list_changed (st);
      return;
    }
}

/* The entry that holds pod (admitted or rejected). */
static kd_store_entry_t *
entry_of (kd_pod_store_t *st, const kd_pod_t *pod)
{
  ssize_t at = find_entry (st, pod_ns (pod), pod_name (pod));

  if (at >= 0 && st->pods[at].pod == pod)
    return &st->pods[at];
  for (size_t i = 0; i < st->n_rejected; i++)
    if (st->rejected[i].pod == pod)
      return &st->rejected[i];
  return NULL;
}

static const char *
entry_json (kd_store_entry_t *e, size_t *len)
{
  if (e->json == NULL)
    {
      json_t *j = kd_pod_to_json (e->pod);
      e->json = json_dumps (j, JSON_COMPACT);
      json_decref (j);
      if (e->json == NULL)
        abort ();
      e->json_len = strlen (e->json);
    }
  *len = e->json_len;
  return e->json;
}

kd_shared_t *
kd_pod_store_list_json (kd_pod_store_t *st)
{
  static const char head[]
      = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[";
  size_t n;
  const kd_pod_t *const *pods;
  kd_buf_t b = { 0 };

  if (st->list_json)
    return st->list_json;
  pods = kd_pod_store_list_all (st, &n);
  kd_buf_append (&b, head, sizeof head - 1);
  for (size_t i = 0; i < n; i++)
    {
      kd_store_entry_t *e = entry_of (st, pods[i]);
      size_t len;
      const char *s;

      if (e == NULL)
        abort (); /* every pod of the view has its entry */
      s = entry_json (e, &len);
      if (i > 0)
        kd_buf_putc (&b, ',');
      kd_buf_append (&b, s, len);
    }
  /* one object then a newline, as every JSON answer of the API */
  kd_buf_puts (&b, "]}\n");
  st->list_json = kd_shared_take (xrealloc (b.s, b.len + 1), b.len); /* no spare capacity */
  return st->list_json;
}
