/* The built-in network's NAT: egress masquerading for the pod CIDR and the
   pods' hostPorts, written by kubeletd itself with iptables-restore.

   Why not the bridge plugin's ipMasq and the portmap plugin: both program
   iptables one command at a time (eight iptables processes per pod for
   ipMasq, about twenty for a portmap ADD, each loading the whole nat table
   under nf_tables), which made them most of a pod's start time and grew
   with the number of pods; Debian's bridge also leaves its masquerade chain
   behind when the namespace is already gone. The kubelet did the same for
   its own networks (kubenet's hostport syncer, iptables-restore).

   The rules (nat table; <br> is the built-in network's bridge, so daemons
   with different bridges never share a chain):
     POSTROUTING -> KDMASQ-<br>    masquerade what leaves the pod CIDR, and
                                   hostPort traffic from 127.0.0.0/8 or from
                                   a pod (hairpin) after its DNAT
     PREROUTING, OUTPUT (to a local address) -> KDHP-<br>
     KDHP-<br> -> KDHPP-<hash of bridge + pod>   one chain per pod with
                                   hostPorts: its DNAT rules
   The shared chains are made at the first pod and stay while pods may run
   (pods outlive kubeletd); kd_cni_builtin_teardown removes them when kubeletd
   stops its pods on exit. Every iptables process runs in libuv's thread
   pool, never on the loop. */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "cni-internal.h"

int
kd_cni_run_cmd (char *const argv[], const char *input, char **out)
{
  posix_spawn_file_actions_t fa;
  int in[2] = { -1, -1 }, p[2] = { -1, -1 }, devnull, status = 0;
  pid_t pid;
  kd_buf_t buf = { 0 };

  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    return -1;
  if ((out && pipe2 (p, O_CLOEXEC) < 0) || (input && pipe2 (in, O_CLOEXEC) < 0))
    {
      close (devnull);
      if (p[0] >= 0)
        {
          close (p[0]);
          close (p[1]);
        }
      return -1;
    }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, input ? in[0] : devnull, 0);
  posix_spawn_file_actions_adddup2 (&fa, out ? p[1] : devnull, 1);
  posix_spawn_file_actions_adddup2 (&fa, out ? p[1] : devnull, 2);
  if (posix_spawnp (&pid, argv[0], &fa, NULL, argv, environ) != 0)
    pid = -1;
  posix_spawn_file_actions_destroy (&fa);
  close (devnull);
  if (input)
    {
      size_t len = strlen (input), off = 0;

      close (in[0]);
      while (pid > 0 && off < len)
        {
          ssize_t w = write (in[1], input + off, len - off);
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            break;
          off += (size_t) w;
        }
      close (in[1]);
    }
  if (out)
    {
      char tmp[4096];
      ssize_t r;

      close (p[1]);
      while (pid > 0 && (r = read (p[0], tmp, sizeof tmp)) != 0)
        {
          if (r < 0 && errno == EINTR)
            continue;
          if (r < 0)
            break;
          if (buf.len < (1 << 20))
            kd_buf_append (&buf, tmp, (size_t) r);
        }
      close (p[0]);
      *out = buf.s ? kd_buf_steal (&buf) : xstrdup ("");
    }
  if (pid < 0)
    return -1;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

bool
kd_cni_net_nat_p (const kd_cni_net_t *net)
{
  return net && net->kubeletd_nat;
}

static bool
cidr_v6_p (const char *cidr)
{
  return strchr (cidr, ':') != NULL;
}

/* "KDHPP-" and 16 hex digits of FNV-1a over bridge and container id. */
static char *
pod_chain (const char *bridge, const char *container_id)
{
  uint64_t h = 0xcbf29ce484222325ULL;

  for (const char *s = bridge; *s; s++)
    h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
  h = (h ^ '/') * 0x100000001b3ULL;
  for (const char *s = container_id; *s; s++)
    h = (h ^ (unsigned char) *s) * 0x100000001b3ULL;
  return xasprintf ("KDHPP-%016llx", (unsigned long long) h);
}

/* The first line of a tool's output, for an error message. */
static char *
first_line (const char *out)
{
  size_t n = out ? strcspn (out, "\n") : 0;
  return n ? xstrndup (out, n) : xstrdup ("no output");
}

static int
restore (bool v6, const char *rules, char **err)
{
  char *const argv[] = { v6 ? "ip6tables-restore" : "iptables-restore", "-w", "--noflush", NULL };
  cleanup_free char *out = NULL;
  int rc = kd_cni_run_cmd (argv, rules, &out);

  if (rc != 0 && err)
    {
      cleanup_free char *line = first_line (out);
      *err = rc < 0 ? xasprintf ("%s: cannot run", argv[0])
                    : xasprintf ("%s: %s (exit %d)", argv[0], line, rc);
    }
  return rc;
}

/* Runs `iptables -w -t nat` with the rule in argv after -C; -A when absent. */
static int
ensure_rule (bool v6, const char *chain, const char *const *spec, char **err)
{
  char *argv[24];
  size_t n = 0, op;
  cleanup_free char *out = NULL;
  int rc;

  argv[n++] = v6 ? "ip6tables" : "iptables";
  argv[n++] = "-w";
  argv[n++] = "-t";
  argv[n++] = "nat";
  op = n;
  argv[n++] = "-C";
  argv[n++] = (char *) chain;
  for (size_t i = 0; spec[i] && n < 23; i++)
    argv[n++] = (char *) spec[i];
  argv[n] = NULL;
  if (kd_cni_run_cmd (argv, NULL, NULL) == 0)
    return 0;
  argv[op] = "-A";
  rc = kd_cni_run_cmd (argv, NULL, &out);
  if (rc != 0)
    {
      cleanup_free char *line = first_line (out);
      *err = xasprintf ("%s -A %s: %s", argv[0], chain, line);
      return -1;
    }
  return 0;
}

static int
setup_shared (const kd_cni_t *cni, bool v6, char **err)
{
  const char *br = cni->bridge, *cidr = cni->pod_cidr;
  cleanup_free char *hp = xasprintf ("KDHP-%s", br);
  cleanup_free char *masq = xasprintf ("KDMASQ-%s", br);
  cleanup_free char *c_masq = xasprintf ("kubeletd masquerade %s", br);
  cleanup_free char *c_hp = xasprintf ("kubeletd hostports %s", br);
  char *const mk[] = { v6 ? "ip6tables" : "iptables", "-w", "-t", "nat", "-N", hp, NULL };
  cleanup_free char *rules = NULL;
  const char *to_masq[] = { "-m", "comment", "--comment", c_masq, "-j", masq, NULL };
  const char *to_hp[] = { "-m",        "addrtype", "--dst-type", "LOCAL", "-m", "comment",
                          "--comment", c_hp,       "-j",         hp,      NULL };

  /* the hostport chain keeps the jumps of running pods: made when absent,
     never flushed here */
  kd_cni_run_cmd (mk, NULL, NULL);
  /* the masquerade chain has no per-pod state: (re)written whole; the
     first rule is hostPort traffic from 127.0.0.1 (IPv4 only), the second
     a pod reaching a pod (itself too) through a hostPort */
  kd_buf_t b = { 0 };
  kd_buf_printf (&b, "*nat\n:%s - [0:0]\n", masq);
  if (!v6)
    kd_buf_printf (&b, "-A %s -s 127.0.0.0/8 -o %s -m conntrack --ctstate DNAT -j MASQUERADE\n",
                   masq, br);
  kd_buf_printf (&b,
                 "-A %s -s %s -d %s -m conntrack --ctstate DNAT -j MASQUERADE\n"
                 "-A %s -s %s -d %s -j RETURN\n"
                 "-A %s -s %s -d %s -j RETURN\n"
                 "-A %s -s %s -j MASQUERADE\n"
                 "COMMIT\n",
                 masq, cidr, cidr, masq, cidr, cidr, masq, cidr, v6 ? "ff00::/8" : "224.0.0.0/4",
                 masq, cidr);
  rules = kd_buf_steal (&b);
  if (restore (v6, rules, err) != 0)
    return -1;
  if (ensure_rule (v6, "POSTROUTING", to_masq, err) < 0
      || ensure_rule (v6, "PREROUTING", to_hp, err) < 0
      || ensure_rule (v6, "OUTPUT", to_hp, err) < 0)
    return -1;
  return 0;
}

/* ---- per-pod operations, in the thread pool --------------------------- */

typedef struct
{
  uv_work_t req;
  kd_cni_t *cni;
  bool attach;
  bool any_ports; /* detach: the pod had hostPorts (or: unknown, look) */
  char *container_id;
  char *pod_ip;
  kd_cni_port_mapping_t *pm;
  size_t n_pm;
  char *err;
  kd_cni_nat_cb done;
  void *data;
} nat_op_t;

static void
add_ports (const kd_cni_t *cni, nat_op_t *o, bool v6)
{
  cleanup_free char *chain = pod_chain (cni->bridge, o->container_id);
  kd_buf_t b = { 0 };
  size_t rules = 0;

  kd_buf_printf (&b, "*nat\n:%s - [0:0]\n", chain);
  for (size_t i = 0; i < o->n_pm; i++)
    {
      const kd_cni_port_mapping_t *m = &o->pm[i];
      const char *proto = m->protocol && *m->protocol ? m->protocol : "tcp";
      bool any_ip = m->host_ip == NULL || *m->host_ip == '\0' || strcmp (m->host_ip, "0.0.0.0") == 0
                    || strcmp (m->host_ip, "::") == 0;

      /* a mapping of the other family does not apply to this network */
      if (!any_ip && (strchr (m->host_ip, ':') != NULL) != v6)
        continue;
      kd_buf_printf (&b, "-A %s -p %s -m %s --dport %d%s%s -j DNAT --to-destination %s%s%s:%d\n",
                     chain, proto, proto, m->host_port, any_ip ? "" : " -d ",
                     any_ip ? "" : m->host_ip, v6 ? "[" : "", o->pod_ip, v6 ? "]" : "",
                     m->container_port);
      rules++;
    }
  kd_buf_printf (&b, "-A KDHP-%s -m comment --comment \"%s\" -j %s\nCOMMIT\n", cni->bridge,
                 o->container_id, chain);
  if (rules > 0 && restore (v6, b.s, &o->err) != 0)
    {
      char *e = o->err;
      o->err = xasprintf ("hostPorts: %s", e);
      free (e);
    }
  free (b.s);
}

static void
del_ports (const kd_cni_t *cni, nat_op_t *o, bool v6)
{
  cleanup_free char *chain = pod_chain (cni->bridge, o->container_id);
  cleanup_free char *with_jump
      = xasprintf ("*nat\n:%s - [0:0]\n-D KDHP-%s -m comment --comment \"%s\" -j %s\n"
                   "-X %s\nCOMMIT\n",
                   chain, cni->bridge, o->container_id, chain, chain);
  cleanup_free char *alone = xasprintf ("*nat\n:%s - [0:0]\n-X %s\nCOMMIT\n", chain, chain);

  /* the jump may be gone (or never made): then the chain alone; declaring
     it makes it when absent, so both forms succeed for a pod never seen */
  if (restore (v6, with_jump, NULL) != 0 && restore (v6, alone, &o->err) != 0)
    {
      char *e = o->err;
      o->err = xasprintf ("hostPorts: %s", e);
      free (e);
    }
}

static void
nat_work (uv_work_t *req)
{
  nat_op_t *o = req->data;
  kd_cni_t *cni = o->cni;
  bool v6 = cidr_v6_p (cni->pod_cidr);

  if (o->attach)
    {
      uv_mutex_lock (&cni->nat_lock);
      if (!cni->nat_ready && setup_shared (cni, v6, &o->err) == 0)
        cni->nat_ready = true;
      uv_mutex_unlock (&cni->nat_lock);
      if (o->err)
        return;
      if (!v6)
        {
          /* DNAT of 127.0.0.1 to a pod needs the bridge to route loopback
             sources (as portmap sets it) */
          cleanup_free char *p
              = xasprintf ("/proc/sys/net/ipv4/conf/%s/route_localnet", cni->bridge);
          int fd = open (p, O_WRONLY | O_CLOEXEC);
          if (fd < 0 || write (fd, "1", 1) != 1)
            kd_vlog (2, "cni: cannot set %s: %s", p, strerror (errno));
          if (fd >= 0)
            close (fd);
        }
      if (o->n_pm > 0 && o->pod_ip)
        add_ports (cni, o, v6);
    }
  else if (o->any_ports)
    del_ports (cni, o, v6);
}

static void
nat_after (uv_work_t *req, int status)
{
  nat_op_t *o = req->data;
  kd_cni_t *cni = o->cni;

  (void) status;
  if (o->done)
    o->done (o->err, o->data);
  for (size_t i = 0; i < o->n_pm; i++)
    {
      free ((char *) o->pm[i].protocol);
      free ((char *) o->pm[i].host_ip);
    }
  free (o->pm);
  free (o->container_id);
  free (o->pod_ip);
  free (o->err);
  free (o);
  kd_cni_op_end (cni);
}

static void
nat_queue (kd_cni_t *cni, bool attach, bool any_ports, const char *container_id, const char *pod_ip,
           const kd_cni_port_mapping_t *pm, size_t n_pm, kd_cni_nat_cb done, void *data)
{
  nat_op_t *o = xcalloc (1, sizeof *o);

  o->cni = cni;
  o->attach = attach;
  o->any_ports = any_ports;
  o->container_id = xstrdup (container_id);
  o->pod_ip = pod_ip ? xstrdup (pod_ip) : NULL;
  o->pm = n_pm ? xcalloc (n_pm, sizeof *o->pm) : NULL;
  for (size_t i = 0; i < n_pm; i++)
    {
      o->pm[i] = pm[i];
      o->pm[i].protocol = pm[i].protocol ? xstrdup (pm[i].protocol) : NULL;
      o->pm[i].host_ip = pm[i].host_ip ? xstrdup (pm[i].host_ip) : NULL;
    }
  o->n_pm = n_pm;
  o->done = done;
  o->data = data;
  o->req.data = o;
  kd_cni_op_begin (cni);
  uv_queue_work (cni->loop, &o->req, nat_work, nat_after);
}

void
kd_cni_nat_attach (kd_cni_t *cni, const char *container_id, const char *pod_ip,
                   const kd_cni_port_mapping_t *pm, size_t n_pm, kd_cni_nat_cb done, void *data)
{
  nat_queue (cni, true, n_pm > 0, container_id, pod_ip, pm, n_pm, done, data);
}

void
kd_cni_nat_detach (kd_cni_t *cni, const char *container_id, bool had_ports, kd_cni_nat_cb done,
                   void *data)
{
  if (!had_ports)
    {
      done (NULL, data);
      return;
    }
  nat_queue (cni, false, true, container_id, NULL, NULL, 0, done, data);
}

/* Whether the bridge has no interface attached; false when it is absent. */
static bool
bridge_empty_p (const char *brif, bool *exists)
{
  DIR *d = opendir (brif);
  struct dirent *de;
  bool empty = true;

  *exists = d != NULL;
  if (d == NULL)
    return false;
  while (empty && (de = readdir (d)) != NULL)
    empty = de->d_name[0] == '.';
  closedir (d);
  return empty;
}

/* The bridge, when nothing is attached to it any more. The pods' veths go
   when the kernel destroys their network namespaces, asynchronously after
   the shims exit: wait for that, up to 2 s. */
static void
remove_bridge (const kd_cni_t *cni)
{
  cleanup_free char *brif = xasprintf ("/sys/class/net/%s/brif", cni->bridge);
  char *const del[] = { "ip", "link", "del", cni->bridge, NULL };
  bool exists = false, empty = bridge_empty_p (brif, &exists);

  for (int i = 0; i < 40 && exists && !empty; i++)
    {
      usleep (50 * 1000);
      empty = bridge_empty_p (brif, &exists);
    }
  if (!exists)
    return;
  if (!empty)
    kd_warn ("cni: the bridge %s still has interfaces; left in place", cni->bridge);
  else if (kd_cni_run_cmd (del, NULL, NULL) != 0)
    kd_warn ("cni: cannot delete the bridge %s", cni->bridge);
}

void
kd_cni_builtin_teardown (kd_cni_t *cni)
{
  bool v6 = cidr_v6_p (cni->pod_cidr);
  const char *ipt = v6 ? "ip6tables" : "iptables";
  cleanup_free char *hp = xasprintf ("KDHP-%s", cni->bridge);
  cleanup_free char *masq = xasprintf ("KDMASQ-%s", cni->bridge);
  cleanup_free char *c_masq = xasprintf ("kubeletd masquerade %s", cni->bridge);
  cleanup_free char *c_hp = xasprintf ("kubeletd hostports %s", cni->bridge);
  char *const d_post[] = { (char *) ipt, "-w",        "-t",   "nat", "-D", "POSTROUTING", "-m",
                           "comment",    "--comment", c_masq, "-j",  masq, NULL };
  char *const d_pre[] = { (char *) ipt, "-w",       "-t",         "nat",   "-D", "PREROUTING",
                          "-m",         "addrtype", "--dst-type", "LOCAL", "-m", "comment",
                          "--comment",  c_hp,       "-j",         hp,      NULL };
  char *const d_out[] = { (char *) ipt, "-w",       "-t",         "nat",   "-D", "OUTPUT",
                          "-m",         "addrtype", "--dst-type", "LOCAL", "-m", "comment",
                          "--comment",  c_hp,       "-j",         hp,      NULL };
  char *const f_masq[] = { (char *) ipt, "-w", "-t", "nat", "-F", masq, NULL };
  char *const x_masq[] = { (char *) ipt, "-w", "-t", "nat", "-X", masq, NULL };
  char *const x_hp[] = { (char *) ipt, "-w", "-t", "nat", "-X", hp, NULL };
  char *const s_hp[] = { (char *) ipt, "-w", "-t", "nat", "-S", hp, NULL };

  /* blocking, once, when kubeletd exits after stopping every pod; nothing
     to do when no pod of this network ever ran here */
  if (kd_cni_run_cmd (s_hp, NULL, NULL) != 0)
    {
      remove_bridge (cni);
      return;
    }
  kd_cni_run_cmd (d_post, NULL, NULL);
  kd_cni_run_cmd (d_pre, NULL, NULL);
  kd_cni_run_cmd (d_out, NULL, NULL);
  kd_cni_run_cmd (f_masq, NULL, NULL);
  kd_cni_run_cmd (x_masq, NULL, NULL);
  if (kd_cni_run_cmd (x_hp, NULL, NULL) != 0)
    kd_warn ("cni: the hostport chain %s still has pods' rules; left in place", hp);
  cni->nat_ready = false;
  remove_bridge (cni);
}
