/* The built-in networks: the default pod network used when --cni-conf-dir
   holds no config, and the loopback network every pod gets on "lo". */
#include "cni-internal.h"

kd_cni_net_t *
kd_cni_default_network (const char *bridge, const char *cidr, const char *data_dir)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  /* The bridge plugin with host-local IPAM, as a user would write it for
     the Debian containernetworking-plugins, but without ipMasq and portmap:
     "kubeletdNat" has kubeletd write one masquerade rule for the CIDR and
     the hostPorts itself (nat.c), a few milliseconds instead of dozens of
     iptables processes per pod. The key is the list's own (plugins never
     see it) and stays in the cached config, so DEL knows it too.
     hairpinMode lets a pod reach itself through its own hostPort. */
  json_t *list = json_pack (
      "{s:s, s:s, s:b, s:[{s:s, s:s, s:b, s:b, s:b, s:{s:s, s:[[{s:s}]], s:[{s:s}], s:s}}]}",
      "cniVersion", "1.0.0", "name", KD_CNI_DEFAULT_NET_NAME, "kubeletdNat", 1, "plugins", "type",
      "bridge", "bridge", bridge ? bridge : KD_CNI_DEFAULT_BRIDGE, "isGateway", 1, "ipMasq", 0,
      "hairpinMode", 1, "ipam", "type", "host-local", "ranges", "subnet", cidr, "routes", "dst",
      strchr (cidr, ':') ? "::/0" : "0.0.0.0/0", "dataDir", data_dir);

  if (list == NULL)
    abort ();
  if (kd_cni_net_from_json (list, "built-in", &net, &err) < 0)
    abort (); /* the table above is always valid */
  return net;
}

kd_cni_net_t *
kd_cni_loopback_network (void)
{
  kd_cni_net_t *net = NULL;
  kd_error_t err = NULL;
  json_t *list = json_pack ("{s:s, s:s, s:[{s:s}]}", "cniVersion", "1.0.0", "name",
                            KD_CNI_LOOPBACK_NET_NAME, "plugins", "type", "loopback");
  if (list == NULL || kd_cni_net_from_json (list, "built-in", &net, &err) < 0)
    abort ();
  return net;
}
