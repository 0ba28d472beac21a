/* kubeletctl describe pod: kubectl's describePod layout (header, containers,
   conditions, volumes, QoS, node selectors, tolerations, events) on the v1
   Pod of GET /pods and the v1 Events of GET /events. */
#include <inttypes.h>

#include "describe-internal.h"
#include "kubeletd/api.h"
#include "kubeletd/cli.h"
#include "kubeletd/client.h"

static const char describe_usage[]
    = "Show details of a pod, with its containers, conditions, volumes and events.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl describe pod [NAME_PREFIX...] [-n NAMESPACE]\n"
      "\n"
      "A name that matches no pod exactly describes every pod whose name starts with it\n"
      "(\"describe pod web\" finds the static pod web-<node>); no name describes every pod\n"
      "of the namespace.\n"
      "\n"
      "Options:\n"
      "  -n, --namespace=default  the namespace of the pods\n"
      "      --show-events=true   show the pod's events (--show-events=false hides them)\n"
      "      --socket=PATH        kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

#define MAX_ANNOTATION_LEN 140

/* ---- labels, annotations, tolerations -------------------------------------------- */

/* printLabelsMultiline: "Title:\tk=v", then "\tk=v" for the others. */
static void
print_labels (kd_tabw_t *w, const char *title, const json_t *labels)
{
  cleanup_free const char **keys = NULL;
  size_t n, i;

  kd_tabw_printf (w, 0, "%s:\t", title);
  keys = kd_desc_sorted_keys (labels, &n);
  if (n == 0)
    {
      kd_tabw_printf (w, 0, "<none>\n");
      return;
    }
  for (i = 0; i < n; i++)
    {
      if (i != 0)
        kd_tabw_printf (w, 0, "\t");
      kd_tabw_printf (w, 0, "%s=%s\n", keys[i], kd_desc_str (labels, keys[i]));
    }
}

/* printAnnotationsMultiline: long or multi-line values go below their key,
   each line cut at 138 characters. */
static void
print_annotations (kd_tabw_t *w, const json_t *annotations)
{
  cleanup_free const char **keys = kd_desc_sorted_keys (annotations, &(size_t){ 0 });
  size_t n = 0, i;

  kd_tabw_printf (w, 0, "Annotations:\t");
  for (i = 0; keys[i] != NULL; i++)
    if (strcmp (keys[i], "kubectl.kubernetes.io/last-applied-configuration") != 0)
      keys[n++] = keys[i];
  if (n == 0)
    {
      kd_tabw_printf (w, 0, "<none>\n");
      return;
    }
  for (i = 0; i < n; i++)
    {
      cleanup_free char *value = xstrdup (kd_desc_str (annotations, keys[i]));
      size_t len = strlen (value);

      if (i != 0)
        kd_tabw_printf (w, 0, "\t");
      if (len > 0 && value[len - 1] == '\n')
        value[--len] = '\0';
      if (len + strlen (keys[i]) + 2 > MAX_ANNOTATION_LEN || strchr (value, '\n') != NULL)
        {
          char *s = value;
          kd_tabw_printf (w, 0, "%s:\n", keys[i]);
          for (;;)
            {
              char *nl = strchr (s, '\n');
              size_t l;
              if (nl != NULL)
                *nl = '\0';
              l = strlen (s);
              if (l > MAX_ANNOTATION_LEN - 2)
                kd_tabw_printf (w, 0, "\t  %.*s...\n", MAX_ANNOTATION_LEN - 2, s);
              else
                kd_tabw_printf (w, 0, "\t  %s\n", s);
              if (nl == NULL)
                break;
              s = nl + 1;
            }
        }
      else
        kd_tabw_printf (w, 0, "%s: %s\n", keys[i], value);
    }
}

static int
cmp_toleration_keys (const void *a, const void *b)
{
  return strcmp (kd_desc_str (*(const json_t *const *) a, "key"),
                 kd_desc_str (*(const json_t *const *) b, "key"));
}

static void
print_tolerations (kd_tabw_t *w, const json_t *tolerations)
{
  size_t n = json_array_size (tolerations), i;
  cleanup_free const json_t **v = xcalloc (n + 1, sizeof (json_t *));

  kd_tabw_printf (w, 0, "Tolerations:\t");
  if (n == 0)
    {
      kd_tabw_printf (w, 0, "<none>\n");
      return;
    }
  for (i = 0; i < n; i++)
    v[i] = json_array_get (tolerations, i);
  /* A stable sort by key (Go's sort.Slice is not stable; equal keys keep
     the spec's order here). */
  for (i = 1; i < n; i++)
    for (size_t j = i; j > 0 && cmp_toleration_keys (&v[j - 1], &v[j]) > 0; j--)
      {
        const json_t *t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  for (i = 0; i < n; i++)
    {
      const char *key = kd_desc_str (v[i], "key");
      const char *value = kd_desc_str (v[i], "value");
      const char *effect = kd_desc_str (v[i], "effect");
      const json_t *secs = json_object_get (v[i], "tolerationSeconds");

      if (i != 0)
        kd_tabw_printf (w, 0, "\t");
      kd_tabw_printf (w, 0, "%s", key);
      if (*value)
        kd_tabw_printf (w, 0, "=%s", value);
      if (*effect)
        kd_tabw_printf (w, 0, ":%s", effect);
      /* operator Exists without a value tolerates everything it names. */
      if (strcmp (kd_desc_str (v[i], "operator"), "Exists") == 0 && *value == '\0')
        kd_tabw_printf (w, 0, (*key || *effect) ? " op=Exists" : "op=Exists");
      if (json_is_integer (secs))
        kd_tabw_printf (w, 0, " for %" JSON_INTEGER_FORMAT "s", json_integer_value (secs));
      kd_tabw_printf (w, 0, "\n");
    }
}

/* ---- volumes ------------------------------------------------------------------------ */

static void
describe_volume (kd_tabw_t *w, const json_t *vol)
{
  const json_t *s;

  if ((s = json_object_get (vol, "hostPath")) != NULL)
    kd_tabw_printf (w, 2,
                    "Type:\tHostPath (bare host directory volume)\n"
                    "    Path:\t%s\n"
                    "    HostPathType:\t%s\n",
                    kd_desc_str (s, "path"),
                    json_is_string (json_object_get (s, "type")) ? kd_desc_str (s, "type")
                                                                 : "<none>");
  else if ((s = json_object_get (vol, "emptyDir")) != NULL)
    {
      kd_quantity_t q;
      const char *limit = kd_desc_str (s, "sizeLimit");
      cleanup_free char *size = NULL;

      if (*limit && kd_quantity_parse (limit, &q) == 0 && !q.negative && q.mantissa != 0)
        size = kd_quantity_canonical (&q);
      kd_tabw_printf (w, 2,
                      "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                      "    Medium:\t%s\n"
                      "    SizeLimit:\t%s\n",
                      kd_desc_str (s, "medium"), size ? size : "<unset>");
    }
  else if ((s = json_object_get (vol, "configMap")) != NULL)
    kd_tabw_printf (w, 2,
                    "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                    "    Name:\t%s\n"
                    "    Optional:\t%s\n",
                    kd_desc_str (s, "name"),
                    json_is_true (json_object_get (s, "optional")) ? "true" : "false");
  else if ((s = json_object_get (vol, "secret")) != NULL)
    kd_tabw_printf (w, 2,
                    "Type:\tSecret (a volume populated by a Secret)\n"
                    "    SecretName:\t%s\n"
                    "    Optional:\t%s\n",
                    kd_desc_str (s, "secretName"),
                    json_is_true (json_object_get (s, "optional")) ? "true" : "false");
  else if ((s = json_object_get (vol, "persistentVolumeClaim")) != NULL)
    kd_tabw_printf (w, 2,
                    "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in "
                    "the same namespace)\n"
                    "    ClaimName:\t%s\n"
                    "    ReadOnly:\t%s\n",
                    kd_desc_str (s, "claimName"),
                    json_is_true (json_object_get (s, "readOnly")) ? "true" : "false");
  else if ((s = json_object_get (vol, "downwardAPI")) != NULL)
    {
      const json_t *item;
      size_t i;

      kd_tabw_printf (w, 2,
                      "Type:\tDownwardAPI (a volume populated by information about the "
                      "pod)\n    Items:\n");
      json_array_foreach (json_object_get (s, "items"), i, item)
      {
        const json_t *f = json_object_get (item, "fieldRef");
        const json_t *r = json_object_get (item, "resourceFieldRef");
        if (f != NULL)
          kd_tabw_printf (w, 3, "%s -> %s\n", kd_desc_str (f, "fieldPath"),
                          kd_desc_str (item, "path"));
        if (r != NULL)
          kd_tabw_printf (w, 3, "%s -> %s\n", kd_desc_str (r, "resource"),
                          kd_desc_str (item, "path"));
      }
    }
  else
    kd_tabw_printf (w, 1, "<unknown>\n");
}

static void
describe_volumes (kd_tabw_t *w, const json_t *volumes)
{
  const json_t *vol;
  size_t i;

  if (json_array_size (volumes) == 0)
    {
      kd_tabw_printf (w, 0, "Volumes:\t<none>\n");
      return;
    }
  kd_tabw_printf (w, 0, "Volumes:\n");
  json_array_foreach (volumes, i, vol)
  {
    kd_tabw_printf (w, 1, "%s:\n", kd_desc_str (vol, "name"));
    describe_volume (w, vol);
  }
}

/* ---- QoS ------------------------------------------------------------------------------ */

/* qos.GetPodQOS when the status does not say: BestEffort without any cpu
   or memory request or limit; Guaranteed when every container limits both
   and requests what it limits; Burstable otherwise. */
static const char *
pod_qos (const json_t *pod)
{
  const json_t *spec = json_object_get (pod, "spec");
  const char *qos = kd_desc_str (json_object_get (pod, "status"), "qosClass");
  static const char *const lists[] = { "initContainers", "containers" };
  static const char *const names[] = { "cpu", "memory" };
  bool any = false, guaranteed = true;

  if (*qos)
    return qos;
  for (size_t l = 0; l < 2; l++)
    {
      const json_t *c;
      size_t i;

      json_array_foreach (json_object_get (spec, lists[l]), i, c)
      {
        const json_t *res = json_object_get (c, "resources");
        const json_t *req = json_object_get (res, "requests");
        const json_t *lim = json_object_get (res, "limits");

        for (size_t r = 0; r < 2; r++)
          {
            const char *rq = json_string_value (json_object_get (req, names[r]));
            const char *lm = json_string_value (json_object_get (lim, names[r]));
            kd_quantity_t a, b;

            if (rq != NULL && kd_quantity_parse (rq, &a) == 0 && a.mantissa != 0)
              any = true;
            if (lm != NULL && kd_quantity_parse (lm, &b) == 0 && b.mantissa != 0)
              any = true;
            else
              guaranteed = false;
            if (rq != NULL && lm != NULL && kd_quantity_parse (rq, &a) == 0
                && kd_quantity_parse (lm, &b) == 0 && kd_quantity_cmp (&a, &b) != 0)
              guaranteed = false;
          }
      }
    }
  if (!any)
    return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/* ---- events ---------------------------------------------------------------------------- */

static int64_t
ts_or_zero (const char *s)
{
  int64_t ns = 0;
  if (s == NULL || *s == '\0' || kd_parse_time (s, &ns) < 0)
    return 0;
  return ns;
}

static bool
event_is_for (const json_t *ev, const json_t *pod)
{
  const json_t *io = json_object_get (ev, "involvedObject");
  const json_t *meta = json_object_get (pod, "metadata");
  const char *uid = kd_desc_str (io, "uid");

  /* kubectl searches by name, namespace and uid (any kind). */
  return strcmp (kd_desc_str (io, "name"), kd_desc_str (meta, "name")) == 0
         && strcmp (kd_desc_str (io, "namespace"), kd_desc_str (meta, "namespace")) == 0
         && (*uid == '\0' || strcmp (uid, kd_desc_str (meta, "uid")) == 0);
}

static char *
trim_space (const char *s)
{
  size_t len;

  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
    s++;
  len = strlen (s);
  while (len > 0 && strchr (" \t\n\r\v\f", s[len - 1]) != NULL)
    len--;
  return xstrndup (s, len);
}

static void
describe_events (kd_tabw_t *w, const json_t *events, const json_t *pod, int64_t now_ns)
{
  size_t n = 0, i, total = json_array_size (events);
  cleanup_free const json_t **v = xcalloc (total + 1, sizeof (json_t *));
  const json_t *ev;

  json_array_foreach (events, i, ev) if (event_is_for (ev, pod)) v[n++] = ev;
  if (n == 0)
    {
      kd_tabw_printf (w, 0, "Events:\t<none>\n");
      return;
    }
  kd_tabw_flush (w);
  /* SortableEvents: by lastTimestamp (a stable insertion sort). */
  for (i = 1; i < n; i++)
    for (size_t j = i; j > 0
                       && ts_or_zero (kd_desc_str (v[j - 1], "lastTimestamp"))
                              > ts_or_zero (kd_desc_str (v[j], "lastTimestamp"));
         j--)
      {
        const json_t *t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  kd_tabw_printf (w, 0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
  kd_tabw_printf (w, 1, "----\t------\t----\t----\t-------\n");
  for (i = 0; i < n; i++)
    {
      const char *event_time = kd_desc_str (v[i], "eventTime");
      cleanup_free char *first
          = kd_cli_age (*event_time ? event_time : kd_desc_str (v[i], "firstTimestamp"), now_ns);
      cleanup_free char *interval = NULL;
      cleanup_free char *message = trim_space (kd_desc_str (v[i], "message"));
      const json_t *series = json_object_get (v[i], "series");
      json_int_t count = json_integer_value (json_object_get (v[i], "count"));
      const char *source = kd_desc_str (json_object_get (v[i], "source"), "component");

      if (series != NULL && json_is_object (series))
        {
          cleanup_free char *last = kd_cli_age (kd_desc_str (series, "lastObservedTime"), now_ns);
          interval = xasprintf ("%s (x%" JSON_INTEGER_FORMAT " over %s)", last,
                                json_integer_value (json_object_get (series, "count")), first);
        }
      else if (count > 1)
        {
          cleanup_free char *last = kd_cli_age (kd_desc_str (v[i], "lastTimestamp"), now_ns);
          interval = xasprintf ("%s (x%" JSON_INTEGER_FORMAT " over %s)", last, count, first);
        }
      else
        interval = xstrdup (first);
      if (*source == '\0')
        source = kd_desc_str (v[i], "reportingComponent");
      kd_tabw_printf (w, 1, "%s\t%s\t%s\t%s\t%s\n", kd_desc_str (v[i], "type"),
                      kd_desc_str (v[i], "reason"), interval, source, message);
    }
}

/* ---- the pod ------------------------------------------------------------------------------ */

void
kd_cli_describe_pod (const json_t *pod, const json_t *events, int64_t now_ns, FILE *out)
{
  const json_t *meta = json_object_get (pod, "metadata");
  const json_t *spec = json_object_get (pod, "spec");
  const json_t *status = json_object_get (pod, "status");
  const json_t *v, *c;
  const char *phase = kd_desc_str (status, "phase");
  kd_tabw_t w;
  size_t i;

  kd_tabw_init (&w, out);
  kd_tabw_printf (&w, 0, "Name:\t%s\n", kd_desc_str (meta, "name"));
  kd_tabw_printf (&w, 0, "Namespace:\t%s\n", kd_desc_str (meta, "namespace"));
  if (json_is_integer (v = json_object_get (spec, "priority")))
    kd_tabw_printf (&w, 0, "Priority:\t%" JSON_INTEGER_FORMAT "\n", json_integer_value (v));
  if (*kd_desc_str (spec, "priorityClassName"))
    kd_tabw_printf (&w, 0, "Priority Class Name:\t%s\n", kd_desc_str (spec, "priorityClassName"));
  if (*kd_desc_str (spec, "runtimeClassName"))
    kd_tabw_printf (&w, 0, "Runtime Class Name:\t%s\n", kd_desc_str (spec, "runtimeClassName"));
  if (*kd_desc_str (spec, "serviceAccountName"))
    kd_tabw_printf (&w, 0, "Service Account:\t%s\n", kd_desc_str (spec, "serviceAccountName"));
  if (*kd_desc_str (spec, "nodeName") == '\0')
    kd_tabw_printf (&w, 0, "Node:\t<none>\n");
  else
    kd_tabw_printf (&w, 0, "Node:\t%s/%s\n", kd_desc_str (spec, "nodeName"),
                    kd_desc_str (status, "hostIP"));
  if (*kd_desc_str (status, "startTime"))
    {
      cleanup_free char *t = kd_desc_time (kd_desc_str (status, "startTime"));
      kd_tabw_printf (&w, 0, "Start Time:\t%s\n", t);
    }
  print_labels (&w, "Labels", json_object_get (meta, "labels"));
  print_annotations (&w, json_object_get (meta, "annotations"));
  if (*kd_desc_str (meta, "deletionTimestamp") && strcmp (phase, "Failed") != 0
      && strcmp (phase, "Succeeded") != 0)
    {
      cleanup_free char *lasts = kd_cli_age (kd_desc_str (meta, "deletionTimestamp"), now_ns);
      kd_tabw_printf (&w, 0, "Status:\tTerminating (lasts %s)\n", lasts);
      kd_tabw_printf (&w, 0, "Termination Grace Period:\t%" JSON_INTEGER_FORMAT "s\n",
                      json_integer_value (json_object_get (meta, "deletionGracePeriodSeconds")));
    }
  else
    kd_tabw_printf (&w, 0, "Status:\t%s\n", phase);
  if (*kd_desc_str (status, "reason"))
    kd_tabw_printf (&w, 0, "Reason:\t%s\n", kd_desc_str (status, "reason"));
  if (*kd_desc_str (status, "message"))
    kd_tabw_printf (&w, 0, "Message:\t%s\n", kd_desc_str (status, "message"));
  v = json_object_get (json_object_get (spec, "securityContext"), "seccompProfile");
  if (v != NULL)
    {
      kd_tabw_printf (&w, 0, "SeccompProfile:\t%s\n", kd_desc_str (v, "type"));
      if (strcmp (kd_desc_str (v, "type"), "Localhost") == 0)
        kd_tabw_printf (&w, 0, "LocalhostProfile:\t%s\n", kd_desc_str (v, "localhostProfile"));
    }
  kd_tabw_printf (&w, 0, "IP:\t%s\n", kd_desc_str (status, "podIP"));
  if (json_array_size (json_object_get (status, "podIPs")) == 0)
    kd_tabw_printf (&w, 0, "IPs:\t<none>\n");
  else
    {
      kd_tabw_printf (&w, 0, "IPs:\n");
      json_array_foreach (json_object_get (status, "podIPs"), i, v)
          kd_tabw_printf (&w, 1, "IP:\t%s\n", kd_desc_str (v, "ip"));
    }
  json_array_foreach (json_object_get (meta, "ownerReferences"), i, v)
  {
    if (json_is_true (json_object_get (v, "controller")))
      {
        kd_tabw_printf (&w, 0, "Controlled By:\t%s/%s\n", kd_desc_str (v, "kind"),
                        kd_desc_str (v, "name"));
        break;
      }
  }
  if (*kd_desc_str (status, "nominatedNodeName"))
    kd_tabw_printf (&w, 0, "NominatedNodeName:\t%s\n", kd_desc_str (status, "nominatedNodeName"));

  if (json_array_size (json_object_get (spec, "initContainers")) > 0)
    kd_desc_containers (&w, "Init Containers", pod, json_object_get (spec, "initContainers"),
                        json_object_get (status, "initContainerStatuses"));
  kd_desc_containers (&w, "Containers", pod, json_object_get (spec, "containers"),
                      json_object_get (status, "containerStatuses"));

  if (json_array_size (json_object_get (spec, "readinessGates")) > 0)
    {
      kd_tabw_printf (&w, 0, "Readiness Gates:\n  Type\tStatus\n");
      json_array_foreach (json_object_get (spec, "readinessGates"), i, v)
      {
        const char *st = "<none>";
        size_t j;
        json_array_foreach (json_object_get (status, "conditions"), j, c)
        {
          if (strcmp (kd_desc_str (c, "type"), kd_desc_str (v, "conditionType")) == 0)
            {
              st = kd_desc_str (c, "status");
              break;
            }
        }
        kd_tabw_printf (&w, 1, "%s \t%s \n", kd_desc_str (v, "conditionType"), st);
      }
    }
  if (json_array_size (json_object_get (status, "conditions")) > 0)
    {
      kd_tabw_printf (&w, 0, "Conditions:\n  Type\tStatus\n");
      json_array_foreach (json_object_get (status, "conditions"), i, c)
          kd_tabw_printf (&w, 1, "%s \t%s \n", kd_desc_str (c, "type"), kd_desc_str (c, "status"));
    }
  describe_volumes (&w, json_object_get (spec, "volumes"));
  kd_tabw_printf (&w, 0, "QoS Class:\t%s\n", pod_qos (pod));
  print_labels (&w, "Node-Selectors", json_object_get (spec, "nodeSelector"));
  print_tolerations (&w, json_object_get (spec, "tolerations"));
  if (events != NULL)
    describe_events (&w, events, pod, now_ns);
  kd_tabw_flush (&w);
  kd_tabw_free (&w);
}

/* ---- the command ----------------------------------------------------------------------------- */

static bool
is_pod_resource (const char *s)
{
  return strcmp (s, "pods") == 0 || strcmp (s, "pod") == 0 || strcmp (s, "po") == 0;
}

/* The pods of ns named `name`, or else those whose name starts with it
   (kubectl describe's NAME_PREFIX rule). Appends to out. */
static void
match_pods (const json_t *items, const char *ns, const char *name, json_t *out)
{
  const json_t *pod;
  size_t i;
  bool exact = false;

  json_array_foreach (items, i, pod)
  {
    const json_t *meta = json_object_get (pod, "metadata");
    if (strcmp (kd_desc_str (meta, "namespace"), ns) == 0
        && strcmp (kd_desc_str (meta, "name"), name) == 0)
      {
        json_array_append (out, (json_t *) pod);
        exact = true;
      }
  }
  if (exact)
    return;
  json_array_foreach (items, i, pod)
  {
    const json_t *meta = json_object_get (pod, "metadata");
    if (strcmp (kd_desc_str (meta, "namespace"), ns) == 0
        && kd_str_has_prefix (kd_desc_str (meta, "name"), name))
      json_array_append (out, (json_t *) pod);
  }
}

int
kd_cli_describe (kd_cli_t *cli, int argc, char **argv)
{
  const char *ns_opt = NULL, *show_events = NULL;
  bool help = false;
  const kd_cli_opt_t opts[] = {
    { "namespace", 'n', KD_OPT_STRING, &ns_opt },
    { "show-events", 0, KD_OPT_STRING, &show_events },
    { "help", 'h', KD_OPT_FLAG, &help },
  };
  kd_error_t err = NULL;
  cleanup_free char **pos = NULL;
  size_t n_pos = 0, i, first_name = 1;
  json_t *list = NULL, *events_list = NULL, *pods;
  const json_t *items;
  const char *ns, *sock;
  bool with_events = true, any_missing = false;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    return kd_cli_fail (cli, &err);
  if (help)
    {
      fputs (describe_usage, cli->out);
      return 0;
    }
  if (show_events != NULL)
    {
      if (strcmp (show_events, "true") == 0)
        with_events = true;
      else if (strcmp (show_events, "false") == 0)
        with_events = false;
      else
        {
          kd_make_error (&err, 0,
                         "invalid argument \"%s\" for \"--show-events\" flag: strconv.ParseBool: "
                         "parsing \"%s\": invalid syntax",
                         show_events, show_events);
          return kd_cli_fail (cli, &err);
        }
    }
  if (n_pos == 0)
    {
      kd_make_error (&err, 0,
                     "You must specify the type of resource to describe. Use \"kubeletctl "
                     "describe pod NAME\".");
      return kd_cli_fail (cli, &err);
    }
  {
    const char *slash = strchr (pos[0], '/');
    cleanup_free char *type
        = slash ? xstrndup (pos[0], (size_t) (slash - pos[0])) : xstrdup (pos[0]);
    if (!is_pod_resource (type))
      {
        kd_make_error (&err, 0, "the server doesn't have a resource type \"%s\"", type);
        return kd_cli_fail (cli, &err);
      }
    if (slash != NULL)
      {
        /* "pod/NAME": the name is part of the first word. */
        pos[0] = (char *) slash + 1;
        first_name = 0;
      }
  }
  ns = ns_opt && *ns_opt ? ns_opt : "default";
  sock = kd_client_socket_path (cli->socket);
  if (kd_client_get_json (sock, "/pods", &list, NULL, &err) < 0)
    return kd_cli_fail (cli, &err);
  items = json_object_get (list, "items");
  pods = json_array ();
  if (n_pos <= first_name)
    {
      const json_t *pod;
      json_array_foreach (items, i, pod)
      {
        if (strcmp (kd_desc_str (json_object_get (pod, "metadata"), "namespace"), ns) == 0)
          json_array_append (pods, (json_t *) pod);
      }
      if (json_array_size (pods) == 0)
        fprintf (cli->err, "No resources found in %s namespace.\n", ns);
    }
  else
    for (i = first_name; i < n_pos; i++)
      {
        size_t before = json_array_size (pods);
        match_pods (items, ns, pos[i], pods);
        if (json_array_size (pods) == before)
          {
            fprintf (cli->err, "error: pods \"%s\" not found\n", pos[i]);
            any_missing = true;
          }
      }

  /* Events are a bonus: kubectl describes the pod even when they cannot
     be had. */
  if (with_events && json_array_size (pods) > 0
      && kd_client_get_json (sock, "/events", &events_list, NULL, &err) < 0)
    kd_error_release (&err);
  json_array_foreach (pods, i, items)
  {
    const json_t *ev = NULL;
    if (with_events)
      ev = json_is_array (json_object_get (events_list, "items"))
               ? json_object_get (events_list, "items")
               : json_array ();
    if (i > 0)
      fputs ("\n\n", cli->out);
    kd_cli_describe_pod (items, ev, kd_now_ns (), cli->out);
    if (with_events && !json_is_array (json_object_get (events_list, "items")))
      json_decref ((json_t *) ev);
  }
  json_decref (pods);
  json_decref (list);
  json_decref (events_list);
  return any_missing ? 1 : 0;
}
