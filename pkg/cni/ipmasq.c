/* The masquerade chain a bridge (or ptp) plugin with ipMasq leaves behind.

   The plugin creates, per attachment, a nat chain named like every CNI
   chain (utils.FormatChainName: "CNI-" and the first 24 hex digits of
   sha512(network name + container id)) and a POSTROUTING jump to it from
   the pod's address. Its DEL removes both only from inside a live network
   namespace: Debian's bridge returns early (after releasing the IP) when
   the namespace is already gone, which is the normal case here since the
   shim, which holds the namespace, is stopped before the network is torn
   down. So after every DEL the chain is looked for and removed by hand,
   the jump first (a referenced chain cannot be deleted).

   iptables is a process and takes the xtables lock: it runs in libuv's
   thread pool, never on the loop. */

#include "cni-internal.h"

char *
kd_cni_ipmasq_chain (const char *net_name, const char *container_id)
{
  unsigned char md[KD_DIGEST_MAX];
  cleanup_free char *in = xasprintf ("%s%s", net_name, container_id);
  char *out = xmalloc (4 + 24 + 1);

  kd_digest (KD_SHA512, in, strlen (in), md);
  memcpy (out, "CNI-", 4);
  kd_hex (md, 12, out + 4);
  return out;
}

/* Removes every POSTROUTING jump to chain, then the chain. The jump's
   rule is rebuilt from `iptables -S` (its source address) and deleted by
   specification, which stays exact while other pods' rules come and go. */
static void
remove_chain (const char *ipt, const char *chain, const char *comment)
{
  char *const exists[] = { (char *) ipt, "-w", "-t", "nat", "-S", (char *) chain, NULL };
  char *const list[] = { (char *) ipt, "-w", "-t", "nat", "-S", "POSTROUTING", NULL };
  char *const flush[] = { (char *) ipt, "-w", "-t", "nat", "-F", (char *) chain, NULL };
  char *const del[] = { (char *) ipt, "-w", "-t", "nat", "-X", (char *) chain, NULL };
  cleanup_free char *rules = NULL;
  cleanup_free char *jump = xasprintf (" -j %s", chain);
  char *line, *save = NULL;

  if (kd_cni_run_cmd (exists, NULL, NULL) != 0)
    return; /* the plugin removed it (or there was none) */
  if (kd_cni_run_cmd (list, NULL, &rules) == 0)
    for (line = strtok_r (rules, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
      {
        size_t n = strlen (line), m = strlen (jump);
        char *src, *end;

        if (n < m || strcmp (line + n - m, jump) != 0 || (src = strstr (line, " -s ")) == NULL)
          continue;
        src += 4;
        end = strchr (src, ' ');
        if (end)
          *end = '\0';
        {
          char *const d[] = {
            (char *) ipt, "-w",           "-t", "nat",     "-D",        "POSTROUTING",    "-s", src,
            "-j",         (char *) chain, "-m", "comment", "--comment", (char *) comment, NULL
          };
          if (kd_cni_run_cmd (d, NULL, NULL) != 0)
            {
              /* a rule without our comment: delete it without one */
              char *const d2[] = { (char *) ipt, "-w", "-t", "nat",          "-D", "POSTROUTING",
                                   "-s",         src,  "-j", (char *) chain, NULL };
              if (kd_cni_run_cmd (d2, NULL, NULL) != 0)
                kd_warn ("cni: cannot delete the POSTROUTING jump to %s from %s", chain, src);
            }
        }
      }
  if (kd_cni_run_cmd (flush, NULL, NULL) != 0 || kd_cni_run_cmd (del, NULL, NULL) != 0)
    kd_warn ("cni: cannot delete the nat chain %s", chain);
  else
    kd_vlog (2, "cni: removed the leftover masquerade chain %s", chain);
}

typedef struct
{
  uv_work_t req;
  kd_cni_t *cni;
  char **chains;   /* NULL-terminated */
  char **comments; /* same length */
  bool v6;
  void (*done) (void *data);
  void *data;
} masq_t;

static void
masq_work (uv_work_t *req)
{
  masq_t *m = req->data;

  for (size_t i = 0; m->chains[i]; i++)
    {
      remove_chain ("iptables", m->chains[i], m->comments[i]);
      if (m->v6)
        remove_chain ("ip6tables", m->chains[i], m->comments[i]);
    }
}

static void
masq_after (uv_work_t *req, int status)
{
  masq_t *m = req->data;
  kd_cni_t *cni = m->cni;

  for (size_t i = 0; m->chains[i]; i++)
    {
      free (m->chains[i]);
      free (m->comments[i]);
    }
  free (m->chains);
  free (m->comments);
  if (m->done)
    m->done (m->data);
  free (m);
  kd_cni_op_end (cni);
}

static bool
plugin_masquerades (json_t *p)
{
  const char *type = json_string_value (json_object_get (p, "type"));
  return type && (strcmp (type, "bridge") == 0 || strcmp (type, "ptp") == 0)
         && json_is_true (json_object_get (p, "ipMasq"));
}

static bool
net_has_v6 (const kd_cni_net_t *net)
{
  /* the chain for an IPv6 address lives in ip6tables: look there only when
     the configuration mentions an IPv6 range at all */
  return net->bytes && strstr (net->bytes, "::") != NULL;
}

void
kd_cni_ipmasq_cleanup (kd_cni_t *cni, const kd_cni_net_t *net, const char *container_id,
                       void (*done) (void *data), void *data)
{
  masq_t *m;
  size_t idx;
  json_t *p;
  bool any = false;

  if (net && json_is_array (net->plugins))
    json_array_foreach (net->plugins, idx, p) any = any || plugin_masquerades (p);
  if (!any || container_id == NULL || *container_id == '\0')
    {
      if (done)
        done (data);
      return;
    }
  m = xcalloc (1, sizeof *m);
  m->cni = cni;
  m->done = done;
  m->data = data;
  m->v6 = net_has_v6 (net);
  /* one chain per network and container: every masquerading plugin of the
     list names the same one */
  m->chains = xcalloc (2, sizeof (char *));
  m->comments = xcalloc (2, sizeof (char *));
  m->chains[0] = kd_cni_ipmasq_chain (net->name, container_id);
  m->comments[0] = xasprintf ("name: \"%s\" id: \"%s\"", net->name, container_id);
  m->req.data = m;
  kd_cni_op_begin (cni);
  uv_queue_work (cni->loop, &m->req, masq_work, masq_after);
}
