/* kubeletctl top [pods] [--containers]: GET /stats/summary printed as
   `kubectl top pods` prints metrics-server's answer: NAME CPU(cores)
   MEMORY(bytes), CPU in millicores rounded up ("12m", Quantity.MilliValue)
   and memory as the working set in whole MiB ("34Mi"). */
#include <inttypes.h>
#include <time.h>

#include "kubeletd/cli.h"
#include "kubeletd/client.h"

static const char top_usage[]
    = "Display resource (CPU/memory) usage of pods.\n"
      "\n"
      "Usage:\n"
      "  kubeletctl top [pods] [NAME] [--containers] [-n NAMESPACE | -A] [--sort-by=cpu|memory]\n"
      "\n"
      "Examples:\n"
      "  kubeletctl top\n"
      "  kubeletctl top pods --containers\n"
      "\n"
      "Options:\n"
      "  -A, --all-namespaces     show the pods of every namespace\n"
      "      --containers         show the usage of each container of the pods\n"
      "  -n, --namespace=default  the namespace of the pods\n"
      "      --no-headers         leave out the header line\n"
      "      --sort-by=''         sort by cpu or memory\n"
      "      --socket=PATH        kubeletd's socket (default $KUBELETD_SOCKET "
      "or " KD_CLIENT_DEFAULT_SOCKET ")\n";

typedef struct
{
  const char *ns;
  const char *name;
  const char *container; /* NULL for a pod row */
  uint64_t millicores;
  uint64_t mib;
  json_int_t mem_bytes;
  json_int_t nanocores;
} row_t;

static bool
usage_of (const json_t *o, json_int_t *nanocores, json_int_t *ws)
{
  json_t *nc = json_object_get (json_object_get (o, "cpu"), "usageNanoCores");
  json_t *mem = json_object_get (json_object_get (o, "memory"), "workingSetBytes");

  if (!json_is_integer (nc))
    return false;
  *nanocores = json_integer_value (nc);
  *ws = json_is_integer (mem) ? json_integer_value (mem) : 0;
  return true;
}

static void
fill (row_t *r, json_int_t nanocores, json_int_t ws)
{
  r->nanocores = nanocores;
  r->mem_bytes = ws;
  r->millicores = (uint64_t) ((nanocores + 999999) / 1000000);
  r->mib = (uint64_t) ws / (1024 * 1024);
}

static const char *sort_key;

static int
cmp_rows (const void *a, const void *b)
{
  const row_t *x = a, *y = b;
  int c;

  /* kubectl sorts descending by the key; without one, by namespace and
     name as the summary lists them. */
  if (sort_key && strcmp (sort_key, "cpu") == 0 && x->nanocores != y->nanocores)
    return x->nanocores < y->nanocores ? 1 : -1;
  if (sort_key && strcmp (sort_key, "memory") == 0 && x->mem_bytes != y->mem_bytes)
    return x->mem_bytes < y->mem_bytes ? 1 : -1;
  c = strcmp (x->ns, y->ns);
  if (c == 0)
    c = strcmp (x->name, y->name);
  if (c == 0 && x->container && y->container)
    c = strcmp (x->container, y->container);
  return c;
}

/* Whether every listed pod already has a CPU rate. */
static bool
rates_ready (const json_t *pods)
{
  size_t i;
  json_t *p;
  json_int_t nc, ws;

  json_array_foreach (pods, i, p) if (!usage_of (p, &nc, &ws)) return false;
  return true;
}

static int
fetch (kd_cli_t *cli, json_t **summary, kd_error_t *err)
{
  json_t *s = NULL;
  const char *sock = kd_client_socket_path (cli->socket);

  if (kd_client_get_json (sock, "/stats/summary", &s, NULL, err) < 0)
    return -1;
  /* A rate needs two readings a second apart: a pod started a moment ago
     has one after a short wait (metrics-server waits a whole period). */
  if (!rates_ready (json_object_get (s, "pods")))
    {
      struct timespec ts = { 1, 100 * 1000 * 1000 };
      json_t *again = NULL;

      nanosleep (&ts, NULL);
      if (kd_client_get_json (sock, "/stats/summary", &again, NULL, err) < 0)
        {
          json_decref (s);
          return -1;
        }
      json_decref (s);
      s = again;
    }
  *summary = s;
  return 0;
}

int
kd_cli_top (kd_cli_t *cli, int argc, char **argv)
{
  const char *ns = "default", *sort_by = NULL;
  bool all_ns = false, containers = false, no_headers = false, help = false;
  const kd_cli_opt_t opts[] = {
    { "all-namespaces", 'A', KD_OPT_FLAG, &all_ns }, { "containers", 0, KD_OPT_FLAG, &containers },
    { "namespace", 'n', KD_OPT_STRING, &ns },        { "no-headers", 0, KD_OPT_FLAG, &no_headers },
    { "sort-by", 0, KD_OPT_STRING, &sort_by },       { "help", 'h', KD_OPT_FLAG, &help },
  };
  cleanup_free char **pos = NULL;
  cleanup_free row_t *rows = NULL;
  size_t n_pos = 0, n_rows = 0, cap = 0, i, k;
  const char *only = NULL;
  kd_error_t err = NULL;
  json_t *summary = NULL, *pods, *p, *c;
  kd_table_t t;

  if (kd_cli_parse_args (opts, KD_ARRAY_SIZE (opts), argc, argv, &pos, &n_pos, &err) < 0)
    goto fail;
  if (help)
    {
      fputs (top_usage, cli->out);
      return 0;
    }
  if (sort_by && *sort_by && strcmp (sort_by, "cpu") != 0 && strcmp (sort_by, "memory") != 0)
    {
      kd_make_error (&err, 0, "--sort-by accepts only cpu or memory");
      goto fail;
    }
  i = 0;
  if (n_pos > 0
      && (strcmp (pos[0], "pods") == 0 || strcmp (pos[0], "pod") == 0
          || strcmp (pos[0], "po") == 0))
    i = 1;
  else if (n_pos > 0 && (strcmp (pos[0], "node") == 0 || strcmp (pos[0], "nodes") == 0))
    {
      kd_make_error (&err, 0,
                     "top node is not supported; the node's totals are in GET "
                     "/stats/summary");
      goto fail;
    }
  if (n_pos > i + 1)
    {
      kd_make_error (&err, 0, "only one pod name may be given");
      goto fail;
    }
  if (n_pos == i + 1)
    only = pos[i];

  if (fetch (cli, &summary, &err) < 0)
    goto fail;
  pods = json_object_get (summary, "pods");
  json_array_foreach (pods, i, p)
  {
    json_t *ref = json_object_get (p, "podRef");
    const char *pns = json_string_value (json_object_get (ref, "namespace"));
    const char *pname = json_string_value (json_object_get (ref, "name"));
    json_int_t nc, ws;

    if (pns == NULL || pname == NULL || (!all_ns && strcmp (pns, ns) != 0)
        || (only && strcmp (pname, only) != 0))
      continue;
    if (!containers)
      {
        if (!usage_of (p, &nc, &ws))
          continue;
        kd_grow ((void **) &rows, &cap, n_rows, sizeof (row_t));
        rows[n_rows] = (row_t){ .ns = pns, .name = pname };
        fill (&rows[n_rows++], nc, ws);
        continue;
      }
    json_array_foreach (json_object_get (p, "containers"), k, c)
    {
      const char *cname = json_string_value (json_object_get (c, "name"));
      if (cname == NULL || !usage_of (c, &nc, &ws))
        continue;
      kd_grow ((void **) &rows, &cap, n_rows, sizeof (row_t));
      rows[n_rows] = (row_t){ .ns = pns, .name = pname, .container = cname };
      fill (&rows[n_rows++], nc, ws);
    }
  }

  if (n_rows == 0)
    {
      if (only)
        kd_make_error (&err, 0, "podmetrics.metrics.k8s.io \"%s/%s\" not found", all_ns ? "" : ns,
                       only);
      else
        kd_make_error (&err, 0, "metrics not available yet");
      goto fail;
    }
  sort_key = sort_by;
  qsort (rows, n_rows, sizeof (row_t), cmp_rows);
  {
    /* columns: [NAMESPACE] [POD] NAME CPU(cores) MEMORY(bytes) */
    size_t n_cols = 3 + (all_ns ? 1 : 0) + (containers ? 1 : 0);
    const char *cells[5];

    kd_table_init (&t, n_cols);
    if (!no_headers)
      {
        k = 0;
        if (all_ns)
          cells[k++] = "NAMESPACE";
        if (containers)
          cells[k++] = "POD";
        cells[k++] = "NAME";
        cells[k++] = "CPU(cores)";
        cells[k++] = "MEMORY(bytes)";
        kd_table_add (&t, cells);
      }
    for (i = 0; i < n_rows; i++)
      {
        char cpu[32], mem[32];

        snprintf (cpu, sizeof (cpu), "%" PRIu64 "m", rows[i].millicores);
        snprintf (mem, sizeof (mem), "%" PRIu64 "Mi", rows[i].mib);
        k = 0;
        if (all_ns)
          cells[k++] = rows[i].ns;
        if (containers)
          cells[k++] = rows[i].name;
        cells[k++] = containers ? rows[i].container : rows[i].name;
        cells[k++] = cpu;
        cells[k++] = mem;
        kd_table_add (&t, cells);
      }
    kd_table_print (&t, cli->out);
    kd_table_free (&t);
  }
  json_decref (summary);
  return 0;

fail:
  json_decref (summary);
  fprintf (cli->err, "error: %s\n", err ? err->msg : "failed");
  kd_error_release (&err);
  return 1;
}
