/* Images as the API shows them: the CRI Image's fields (id, repoTags,
   repoDigests, size) plus created, and for inspect the record and the
   config; docker history's rows. */
#include <sys/stat.h>

#include "imagesvc-internal.h"

static json_t *
strings (char *const *v, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

static json_t *
time_or_null (int64_t ns)
{
  char buf[40];

  if (ns == 0)
    return json_null ();
  kd_format_time (ns, buf, sizeof (buf));
  return json_string (buf);
}

static json_t *
str_or_null (const char *s)
{
  return s ? json_string (s) : json_null ();
}

static json_t *
config_json (const kd_image_config_t *c)
{
  json_t *history = json_array ();

  for (size_t i = 0; i < c->n_history; i++)
    {
      const kd_image_history_t *h = &c->history[i];
      json_t *o = json_object ();
      if (h->created)
        json_object_set_new (o, "created", json_string (h->created));
      if (h->created_by)
        json_object_set_new (o, "created_by", json_string (h->created_by));
      if (h->comment)
        json_object_set_new (o, "comment", json_string (h->comment));
      if (h->empty_layer)
        json_object_set_new (o, "empty_layer", json_true ());
      json_array_append_new (history, o);
    }
  /* The OCI image config's own spelling, as `docker inspect` shows it. */
  return json_pack ("{s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:s, s:o}, s:o}",
                    "architecture", str_or_null (c->architecture), "os", str_or_null (c->os),
                    "created", time_or_null (c->created_ns), "config", "Entrypoint",
                    c->entrypoint ? strings (c->entrypoint, c->n_entrypoint) : json_null (), "Cmd",
                    c->cmd ? strings (c->cmd, c->n_cmd) : json_null (), "Env",
                    strings (c->env, c->n_env), "WorkingDir", str_or_null (c->working_dir), "User",
                    str_or_null (c->user), "StopSignal", str_or_null (c->stop_signal), "rootfs",
                    "type", "layers", "diff_ids", strings (c->diff_ids, c->n_diff_ids), "history",
                    history);
}

json_t *
kd_image_json (const kd_image_t *img, bool full)
{
  json_t *o = json_pack ("{s:s, s:o, s:o, s:I, s:o}", "id", img->id, "repoTags",
                         strings (img->repo_tags, img->n_repo_tags), "repoDigests",
                         strings (img->repo_digests, img->n_repo_digests), "size",
                         (json_int_t) img->size, "created", time_or_null (img->config.created_ns));

  if (!full)
    return o;
  json_object_set_new (o, "manifestDigest", json_string (img->manifest_digest));
  json_object_set_new (o, "layers", strings (img->layers, img->n_layers));
  json_object_set_new (o, "chainIDs", strings (img->chain_ids, img->n_chain_ids));
  json_object_set_new (o, "lastUsed", time_or_null (img->last_used_ns));
  json_object_set_new (o, "inUse", json_integer (img->in_use));
  json_object_set_new (o, "config", config_json (&img->config));
  return o;
}

static int64_t
blob_size (kd_image_service_t *svc, const char *digest)
{
  cleanup_free char *path = kd_image_store_blob_path (svc->store, digest);
  struct stat st;

  return path && stat (path, &st) == 0 ? (int64_t) st.st_size : 0;
}

json_t *
kd_image_history_json (kd_image_service_t *svc, const kd_image_t *img)
{
  const kd_image_config_t *c = &img->config;
  json_t *rows = json_array ();
  size_t layer = 0;

  /* History entries that are not empty layers match the layers in order.
     An image without history gets one row per layer. */
  if (c->n_history == 0)
    for (size_t i = 0; i < img->n_layers; i++)
      json_array_insert_new (
          rows, 0,
          json_pack ("{s:n, s:s, s:s, s:I, s:b}", "created", "createdBy", "", "comment", "", "size",
                     (json_int_t) blob_size (svc, img->layers[i]), "emptyLayer", 0));
  for (size_t i = 0; i < c->n_history; i++)
    {
      const kd_image_history_t *h = &c->history[i];
      int64_t size = 0;

      if (!h->empty_layer && layer < img->n_layers)
        size = blob_size (svc, img->layers[layer++]);
      json_array_insert_new (
          rows, 0,
          json_pack ("{s:o, s:s, s:s, s:I, s:b}", "created", str_or_null (h->created), "createdBy",
                     h->created_by ? h->created_by : "", "comment", h->comment ? h->comment : "",
                     "size", (json_int_t) size, "emptyLayer", h->empty_layer));
    }
  /* docker history: the image's ID on the newest row, <missing> below. */
  for (size_t i = 0; i < json_array_size (rows); i++)
    json_object_set_new (json_array_get (rows, i), "id",
                         json_string (i == 0 ? img->id : "<missing>"));
  return rows;
}
