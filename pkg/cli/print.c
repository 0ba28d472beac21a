/* The `get pods` table: kubectl's printPod (pkg/printers/internalversion),
   its HumanDuration ages and its tabwriter layout, on v1 Pod JSON. */
#include <inttypes.h>

#include "kubeletd/cli.h"

#define NS_PER_SEC  INT64_C (1000000000)
#define NS_PER_MIN  (60 * NS_PER_SEC)
#define NS_PER_HOUR (60 * NS_PER_MIN)

/* ---- ages ---------------------------------------------------------------- */

char *
kd_human_duration (int64_t d)
{
  int64_t seconds = d / NS_PER_SEC; /* truncates toward zero like Go's int() */
  int64_t minutes, hours;

  /* A clock a second ahead still reads as "now". */
  if (seconds < -1)
    return xstrdup ("<invalid>");
  if (seconds < 0)
    return xstrdup ("0s");
  if (seconds < 60 * 2)
    return xasprintf ("%" PRId64 "s", seconds);
  minutes = d / NS_PER_MIN;
  if (minutes < 10)
    {
      int64_t s = seconds % 60;
      return s == 0 ? xasprintf ("%" PRId64 "m", minutes)
                    : xasprintf ("%" PRId64 "m%" PRId64 "s", minutes, s);
    }
  if (minutes < 60 * 3)
    return xasprintf ("%" PRId64 "m", minutes);
  hours = d / NS_PER_HOUR;
  if (hours < 8)
    {
      int64_t m = minutes % 60;
      return m == 0 ? xasprintf ("%" PRId64 "h", hours)
                    : xasprintf ("%" PRId64 "h%" PRId64 "m", hours, m);
    }
  if (hours < 48)
    return xasprintf ("%" PRId64 "h", hours);
  if (hours < 24 * 8)
    {
      int64_t h = hours % 24;
      return h == 0 ? xasprintf ("%" PRId64 "d", hours / 24)
                    : xasprintf ("%" PRId64 "d%" PRId64 "h", hours / 24, h);
    }
  if (hours < 24 * 365 * 2)
    return xasprintf ("%" PRId64 "d", hours / 24);
  if (hours < 24 * 365 * 8)
    {
      int64_t dy = (hours / 24) % 365;
      return dy == 0 ? xasprintf ("%" PRId64 "y", hours / 24 / 365)
                     : xasprintf ("%" PRId64 "y%" PRId64 "d", hours / 24 / 365, dy);
    }
  return xasprintf ("%" PRId64 "y", hours / 24 / 365);
}

/* Go's zero time ("0001-01-01T00:00:00Z") is what an unset metav1.Time
   reads back as; kd_parse_time cannot represent it, so it fails too. */
static bool
parse_ts (const char *s, int64_t *ns)
{
  return s != NULL && *s != '\0' && kd_parse_time (s, ns) == 0 && *ns != 0;
}

char *
kd_cli_age (const char *rfc3339, int64_t now_ns)
{
  int64_t t;

  if (!parse_ts (rfc3339, &t))
    return xstrdup ("<unknown>");
  return kd_human_duration (now_ns - t);
}

/* ---- JSON accessors ------------------------------------------------------ */

static const char *
str_at (const json_t *obj, const char *key)
{
  const char *s = json_string_value (json_object_get (obj, key));
  return s ? s : "";
}

static int64_t
int_at (const json_t *obj, const char *key)
{
  return json_integer_value (json_object_get (obj, key));
}

static bool
condition_true (const json_t *status, const char *type)
{
  size_t i;
  json_t *c;

  json_array_foreach (json_object_get (status, "conditions"), i,
                      c) if (strcmp (str_at (c, "type"), type)
                             == 0) return strcmp (str_at (c, "status"), "True")
      == 0;
  return false;
}

static bool
has_condition_reason (const json_t *status, const char *type, const char *reason)
{
  size_t i;
  json_t *c;

  json_array_foreach (json_object_get (status, "conditions"), i,
                      c) if (strcmp (str_at (c, "type"), type) == 0
                             && strcmp (str_at (c, "reason"), reason) == 0) return true;
  return false;
}

/* An init container with restartPolicy Always: a sidecar. */
static bool
is_restartable_init (const json_t *spec, const char *name)
{
  size_t i;
  json_t *c;

  json_array_foreach (json_object_get (spec, "initContainers"), i,
                      c) if (strcmp (str_at (c, "name"), name)
                             == 0) return strcmp (str_at (c, "restartPolicy"), "Always")
      == 0;
  return false;
}

/* Keeps the later of *latest and the container's last termination. */
static void
note_last_restart (const json_t *cs, int64_t *latest)
{
  const json_t *t = json_object_get (json_object_get (cs, "lastState"), "terminated");
  int64_t ns;

  if (t != NULL && parse_ts (str_at (t, "finishedAt"), &ns) && ns > *latest)
    *latest = ns;
}

static char *
terminated_reason (const json_t *t, const char *prefix)
{
  const char *reason = str_at (t, "reason");

  if (*reason != '\0')
    return xasprintf ("%s%s", prefix, reason);
  if (int_at (t, "signal") != 0)
    return xasprintf ("%sSignal:%" PRId64, prefix, int_at (t, "signal"));
  return xasprintf ("%sExitCode:%" PRId64, prefix, int_at (t, "exitCode"));
}

static void
set_reason (char **reason, char *v)
{
  free (*reason);
  *reason = v;
}

/* ---- printPod ------------------------------------------------------------- */

void
kd_pod_row (const json_t *pod, int64_t now_ns, kd_pod_row_t *row)
{
  const json_t *meta = json_object_get (pod, "metadata");
  const json_t *spec = json_object_get (pod, "spec");
  const json_t *status = json_object_get (pod, "status");
  const char *phase = str_at (status, "phase");
  int64_t restarts = 0, sidecar_restarts = 0;
  int64_t last_restart = 0, last_sidecar_restart = 0;
  size_t total = json_array_size (json_object_get (spec, "containers"));
  size_t ready = 0, n_init = json_array_size (json_object_get (spec, "initContainers"));
  char *reason = xstrdup (*str_at (status, "reason") ? str_at (status, "reason") : phase);
  bool initializing = false, deleting;
  const json_t *statuses, *c;
  size_t i;

  memset (row, 0, sizeof (*row));
  if (has_condition_reason (status, "PodScheduled", "SchedulingGated"))
    set_reason (&reason, xstrdup ("SchedulingGated"));

  json_array_foreach (json_object_get (spec, "initContainers"), i,
                      c) if (strcmp (str_at (c, "restartPolicy"), "Always") == 0) total++;

  /* Init containers, in order: the first one not done names the status. */
  statuses = json_object_get (status, "initContainerStatuses");
  json_array_foreach (statuses, i, c)
  {
    const json_t *state = json_object_get (c, "state");
    const json_t *term = json_object_get (state, "terminated");
    const json_t *wait = json_object_get (state, "waiting");
    bool sidecar = is_restartable_init (spec, str_at (c, "name"));

    restarts += int_at (c, "restartCount");
    note_last_restart (c, &last_restart);
    if (sidecar)
      {
        sidecar_restarts += int_at (c, "restartCount");
        note_last_restart (c, &last_sidecar_restart);
      }
    if (term != NULL && int_at (term, "exitCode") == 0)
      continue;
    if (sidecar && json_is_true (json_object_get (c, "started")))
      {
        if (json_is_true (json_object_get (c, "ready")))
          ready++;
        continue;
      }
    if (term != NULL)
      set_reason (&reason, terminated_reason (term, "Init:"));
    else if (wait != NULL && *str_at (wait, "reason") != '\0'
             && strcmp (str_at (wait, "reason"), "PodInitializing") != 0)
      set_reason (&reason, xasprintf ("Init:%s", str_at (wait, "reason")));
    else
      set_reason (&reason, xasprintf ("Init:%zu/%zu", i, n_init));
    initializing = true;
    break;
  }

  if (!initializing || condition_true (status, "Initialized"))
    {
      bool has_running = false;

      restarts = sidecar_restarts;
      last_restart = last_sidecar_restart;
      statuses = json_object_get (status, "containerStatuses");
      /* From the last container to the first, so the first one's state wins,
         as kubectl does. */
      for (i = json_array_size (statuses); i-- > 0;)
        {
          const json_t *state;
          const json_t *term, *wait;

          c = json_array_get (statuses, i);
          state = json_object_get (c, "state");
          term = json_object_get (state, "terminated");
          wait = json_object_get (state, "waiting");
          restarts += int_at (c, "restartCount");
          note_last_restart (c, &last_restart);
          if (wait != NULL && *str_at (wait, "reason") != '\0')
            set_reason (&reason, xstrdup (str_at (wait, "reason")));
          else if (term != NULL)
            set_reason (&reason, terminated_reason (term, ""));
          else if (json_is_true (json_object_get (c, "ready"))
                   && json_object_get (state, "running") != NULL)
            {
              has_running = true;
              ready++;
            }
        }
      /* A pod with one container done and another still running. */
      if (strcmp (reason, "Completed") == 0 && has_running)
        set_reason (&reason, xstrdup (condition_true (status, "Ready") ? "Running" : "NotReady"));
    }

  deleting = *str_at (meta, "deletionTimestamp") != '\0';
  if (deleting && strcmp (str_at (status, "reason"), "NodeLost") == 0)
    set_reason (&reason, xstrdup ("Unknown"));
  else if (deleting && strcmp (phase, "Failed") != 0 && strcmp (phase, "Succeeded") != 0)
    set_reason (&reason, xstrdup ("Terminating"));

  row->name = xstrdup (str_at (meta, "name"));
  row->ready = xasprintf ("%zu/%zu", ready, total);
  row->status = reason;
  if (restarts != 0 && last_restart != 0)
    {
      cleanup_free char *ago = kd_human_duration (now_ns - last_restart);
      row->restarts = xasprintf ("%" PRId64 " (%s ago)", restarts, ago);
    }
  else
    row->restarts = xasprintf ("%" PRId64, restarts);
  row->age = kd_cli_age (str_at (meta, "creationTimestamp"), now_ns);

  {
    const char *ip = str_at (json_array_get (json_object_get (status, "podIPs"), 0), "ip");
    const char *node = str_at (spec, "nodeName");
    const char *nominated = str_at (status, "nominatedNodeName");
    const json_t *gates = json_object_get (spec, "readinessGates");

    row->ip = xstrdup (*ip ? ip : "<none>");
    row->node = xstrdup (*node ? node : "<none>");
    row->nominated_node = xstrdup (*nominated ? nominated : "<none>");
    if (json_array_size (gates) > 0)
      {
        size_t n_true = 0;
        json_array_foreach (gates, i, c) if (condition_true (status, str_at (c, "conditionType")))
            n_true++;
        row->readiness_gates = xasprintf ("%zu/%zu", n_true, json_array_size (gates));
      }
    else
      row->readiness_gates = xstrdup ("<none>");
  }
}

void
kd_pod_row_free (kd_pod_row_t *row)
{
  free (row->name);
  free (row->ready);
  free (row->status);
  free (row->restarts);
  free (row->age);
  free (row->ip);
  free (row->node);
  free (row->nominated_node);
  free (row->readiness_gates);
  memset (row, 0, sizeof (*row));
}

/* ---- the table ------------------------------------------------------------ */

/* kubectl's tabwriter settings (cli-runtime printers/tabwriter.go). */
#define TAB_MIN_WIDTH 6
#define TAB_PADDING   3

void
kd_table_init (kd_table_t *t, size_t n_cols)
{
  memset (t, 0, sizeof (*t));
  t->n_cols = n_cols;
}

void
kd_table_add (kd_table_t *t, const char *const *cells)
{
  size_t i, base = t->n_rows * t->n_cols;

  kd_grow ((void **) &t->cells, &t->cap, base + t->n_cols, sizeof (char *));
  for (i = 0; i < t->n_cols; i++)
    t->cells[base + i] = xstrdup (cells[i] ? cells[i] : "");
  t->n_rows++;
}

/* Display width in characters (UTF-8 continuation bytes do not count), as
   tabwriter counts runes. */
static size_t
text_width (const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    if (((unsigned char) *s & 0xC0) != 0x80)
      n++;
  return n;
}

void
kd_table_print (const kd_table_t *t, FILE *out)
{
  cleanup_free size_t *width = xcalloc (t->n_cols, sizeof (size_t));
  size_t r, c;

  for (r = 0; r < t->n_rows; r++)
    for (c = 0; c + 1 < t->n_cols; c++)
      {
        size_t w = text_width (t->cells[r * t->n_cols + c]) + TAB_PADDING;
        if (w < TAB_MIN_WIDTH)
          w = TAB_MIN_WIDTH;
        if (w > width[c])
          width[c] = w;
      }
  for (r = 0; r < t->n_rows; r++)
    {
      for (c = 0; c < t->n_cols; c++)
        {
          const char *cell = t->cells[r * t->n_cols + c];

          fputs (cell, out);
          /* The last column is text after the last tab: never padded. */
          if (c + 1 < t->n_cols)
            fprintf (out, "%*s", (int) (width[c] - text_width (cell)), "");
        }
      fputc ('\n', out);
    }
}

void
kd_table_free (kd_table_t *t)
{
  size_t i;

  for (i = 0; i < t->n_rows * t->n_cols; i++)
    free (t->cells[i]);
  free (t->cells);
  memset (t, 0, sizeof (*t));
}

void
kd_cli_print_pods (const json_t *pods, bool wide, bool all_namespaces, bool no_headers,
                   int64_t now_ns, FILE *out)
{
  static const char *const header[] = {
    "NAMESPACE", "NAME", "READY", "STATUS",         "RESTARTS",
    "AGE",       "IP",   "NODE",  "NOMINATED NODE", "READINESS GATES",
  };
  size_t skip = all_namespaces ? 0 : 1;
  size_t n_cols = (wide ? 10 : 6) - skip;
  kd_table_t t;
  const json_t *pod;
  size_t i;

  kd_table_init (&t, n_cols);
  if (!no_headers)
    kd_table_add (&t, header + skip);
  json_array_foreach (pods, i, pod)
  {
    kd_pod_row_t row;
    const char *ns = str_at (json_object_get (pod, "metadata"), "namespace");

    kd_pod_row (pod, now_ns, &row);
    {
      const char *cells[] = {
        ns,      row.name, row.ready, row.status,         row.restarts,
        row.age, row.ip,   row.node,  row.nominated_node, row.readiness_gates,
      };
      kd_table_add (&t, cells + skip);
    }
    kd_pod_row_free (&row);
  }
  kd_table_print (&t, out);
  kd_table_free (&t);
}
