/* The result cache, in libcni's layout and format so that DEL and GC can
   run after a restart, with the netns gone and with the configuration
   changed since ADD: <root-dir>/cni/results/<network>-<container>-<ifname>
   holding {"kind":"cniCacheV1","containerId","config" (base64 of the
   conflist),"ifName","networkName","netns","cniArgs","capabilityArgs",
   "result"}. */
#include <sys/stat.h>

#include "cni-internal.h"

char *
kd_cni_results_dir (const kd_cni_t *cni)
{
  return xasprintf ("%s/cni/results", cni->root_dir);
}

char *
kd_cni_cache_path (const kd_cni_t *cni, const char *net_name, const char *container_id,
                   const char *ifname)
{
  return xasprintf ("%s/cni/results/%s-%s-%s", cni->root_dir, net_name, container_id, ifname);
}

void
kd_cni_cache_free (kd_cni_cache_t *c)
{
  if (c == NULL)
    return;
  free (c->container_id);
  free (c->if_name);
  free (c->net_name);
  free (c->netns);
  kd_cni_net_free (c->net);
  json_decref (c->result);
  json_decref (c->capability_args);
  free (c);
}

int
kd_cni_cache_write (kd_cni_t *cni, const kd_cni_net_t *net, const kd_cni_runtime_t *rt,
                    json_t *result, kd_error_t *err)
{
  cleanup_free char *dir = kd_cni_results_dir (cni);
  cleanup_free char *path = kd_cni_cache_path (cni, net->name, rt->container_id, rt->ifname);
  cleanup_free char *config = kd_cni_base64_encode (net->bytes, strlen (net->bytes));
  cleanup_free char *text = NULL;
  json_t *args = json_array ();
  json_t *j;

  if (rt->pod_name)
    {
      json_array_append_new (args, json_pack ("[s,s]", "K8S_POD_NAMESPACE",
                                              rt->pod_namespace ? rt->pod_namespace : ""));
      json_array_append_new (args, json_pack ("[s,s]", "K8S_POD_NAME", rt->pod_name));
      json_array_append_new (args,
                             json_pack ("[s,s]", "K8S_POD_INFRA_CONTAINER_ID", rt->container_id));
      json_array_append_new (args,
                             json_pack ("[s,s]", "K8S_POD_UID", rt->pod_uid ? rt->pod_uid : ""));
    }
  json_array_append_new (args, json_pack ("[s,s]", "IgnoreUnknown", "1"));
  j = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:O}", "kind", "cniCacheV1", "containerId",
                 rt->container_id, "config", config, "ifName", rt->ifname, "networkName", net->name,
                 "netns", rt->netns ? rt->netns : "", "cniArgs", args, "result", result);
  if (rt->n_port_mappings > 0)
    {
      json_t *pms = json_array ();
      for (size_t i = 0; i < rt->n_port_mappings; i++)
        {
          const kd_cni_port_mapping_t *pm = &rt->port_mappings[i];
          json_t *m = json_pack ("{s:i, s:i, s:s}", "hostPort", pm->host_port, "containerPort",
                                 pm->container_port, "protocol", pm->protocol);
          if (pm->host_ip && *pm->host_ip)
            json_object_set_new (m, "hostIP", json_string (pm->host_ip));
          json_array_append_new (pms, m);
        }
      json_object_set_new (j, "capabilityArgs", json_pack ("{s:o}", "portMappings", pms));
    }
  text = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (j);
  if (text == NULL)
    abort ();
  if (kd_mkdir_p (dir, 0700, err) < 0)
    return -1;
  return kd_write_file_atomic (path, text, strlen (text), 0600, err);
}

int
kd_cni_cache_read_file (const char *path, kd_cni_cache_t **out, kd_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *config = NULL;
  kd_error_t e = NULL;
  kd_cni_cache_t *c;
  json_t *j, *v;
  size_t len;

  *out = NULL;
  if (kd_read_file (path, 16 * 1024 * 1024, &text, &len, &e) < 0)
    {
      if (e->status == ENOENT)
        {
          kd_error_release (&e);
          return 0;
        }
      *err = e;
      return -1;
    }
  j = json_loadb (text, len, 0, NULL);
  if (!json_is_object (j))
    {
      json_decref (j);
      return kd_make_error (err, 0, "cni cache `%s`: invalid JSON", path);
    }
  c = xcalloc (1, sizeof *c);
#define S(key)                                                                                     \
  (json_is_string (json_object_get (j, key))                                                       \
       ? xstrdup (json_string_value (json_object_get (j, key)))                                    \
       : NULL)
  c->container_id = S ("containerId");
  c->if_name = S ("ifName");
  c->net_name = S ("networkName");
  c->netns = S ("netns");
#undef S
  v = json_object_get (j, "result");
  c->result = json_is_object (v) ? json_incref (v) : NULL;
  v = json_object_get (j, "capabilityArgs");
  c->capability_args = json_is_object (v) ? json_incref (v) : NULL;
  v = json_object_get (j, "config");
  if (json_is_string (v) && (config = kd_cni_base64_decode (json_string_value (v), NULL)) != NULL)
    {
      if (kd_cni_net_parse (config, strstr (config, "\"plugins\"") == NULL, path, &c->net, &e) < 0)
        kd_error_release (&e);
    }
  json_decref (j);
  if (c->container_id == NULL || c->if_name == NULL)
    {
      kd_cni_cache_free (c);
      return kd_make_error (err, 0, "cni cache `%s`: no containerId or ifName", path);
    }
  *out = c;
  return 0;
}

int
kd_cni_cache_read (kd_cni_t *cni, const char *net_name, const char *container_id,
                   const char *ifname, kd_cni_cache_t **out, kd_error_t *err)
{
  cleanup_free char *path = kd_cni_cache_path (cni, net_name, container_id, ifname);
  return kd_cni_cache_read_file (path, out, err);
}

void
kd_cni_cache_remove (kd_cni_t *cni, const char *net_name, const char *container_id,
                     const char *ifname)
{
  cleanup_free char *path = kd_cni_cache_path (cni, net_name, container_id, ifname);
  if (unlink (path) < 0 && errno != ENOENT)
    kd_warn ("cni: remove `%s`: %s", path, strerror (errno));
}
