/* Image import without a registry: an OCI image layout directory, an OCI
 * archive (a tar of a layout) or a `docker save` tar.
 *
 * Every blob is verified before anything is stored: the layout's blobs
 * against the digests that name them, a docker save tar's config against
 * its file name and its uncompressed layers against the config's diff_ids.
 * The blobs are committed only after all of them checked out (import-source.c),
 * so a bad input leaves nothing in the store.
 *
 * A docker save tar has no manifest of the distribution kind; one is
 * written (an OCI image manifest) over its config and layers, stored as
 * they are (uncompressed layers are fine as application/vnd.oci.image.
 * layer.v1.tar), and that manifest's digest is the image's. */
#include <jansson.h>

#include "import-internal.h"

#define MT_OCI_INDEX        "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST     "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG       "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST      "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST  "application/vnd.docker.distribution.manifest.v2+json"
#define MT_LAYER_TAR        "application/vnd.oci.image.layer.v1.tar"
#define ANN_REF_NAME        "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define MAX_INDEX_DEPTH     4

typedef struct
{
  char *digest;
  int64_t size;
  char *name; /* the reference the layout gives it, or NULL */
} cand_t;

typedef struct
{
  cand_t *v;
  size_t n, cap;
} cands_t;

static bool
digest_ok (const char *d)
{
  if (d == NULL || !kd_str_has_prefix (d, "sha256:") || strlen (d) != 7 + 64)
    return false;
  for (const char *p = d + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

static void
sha256_digest (const void *data, size_t len, char out[80])
{
  unsigned char md[KD_DIGEST_MAX];
  size_t n = 0;

  n = kd_digest (KD_SHA256, data, len, md);
  strcpy (out, "sha256:");
  for (unsigned int i = 0; i < n; i++)
    snprintf (out + 7 + 2 * i, 3, "%02x", md[i]);
}

static char *
blob_name (const char *digest)
{
  return xasprintf ("blobs/sha256/%s", digest + 7);
}

static json_t *
parse_json (const char *data, size_t len, const char *what, kd_error_t *err)
{
  json_error_t jerr;
  json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &jerr);

  if (j == NULL)
    kd_make_error (err, 0, "parse %s: %s (line %d)", what, jerr.text, jerr.line);
  return j;
}

/* Reads a blob of the layout and checks it against its descriptor. */
static int
read_blob (kd_import_src_t *src, const char *digest, int64_t size, char **data, size_t *len,
           kd_error_t *err)
{
  cleanup_free char *name = NULL;
  cleanup_free char *buf = NULL;
  char got[80];

  if (!digest_ok (digest))
    return kd_make_error (err, 0, "unsupported digest `%s`", digest ? digest : "");
  name = blob_name (digest);
  if (kd_import_src_read (src, name, KD_IMPORT_MAX_JSON, &buf, len, err) < 0)
    return -1;
  sha256_digest (buf, *len, got);
  if (strcmp (got, digest) != 0)
    return kd_make_error (err, 0, "`%s`: digest mismatch: got %s, expected %s", name, got, digest);
  if (size >= 0 && (int64_t) *len != size)
    return kd_make_error (err, 0, "`%s`: size mismatch: got %zu bytes, expected %lld", name, *len,
                          (long long) size);
  *data = steal_pointer (&buf);
  return 0;
}

static void
cands_free (cands_t *c)
{
  for (size_t i = 0; i < c->n; i++)
    {
      free (c->v[i].digest);
      free (c->v[i].name);
    }
  free (c->v);
}

/* ---- OCI layouts and archives ------------------------------------------- */

static bool
platform_ok (json_t *desc)
{
  json_t *p = json_object_get (desc, "platform");
  const char *os, *arch;

  if (!json_is_object (p))
    return true;
  os = json_string_value (json_object_get (p, "os"));
  arch = json_string_value (json_object_get (p, "architecture"));
  return (os == NULL || strcmp (os, "linux") == 0)
         && (arch == NULL || strcmp (arch, kd_go_arch ()) == 0);
}

static const char *
desc_name (json_t *desc)
{
  json_t *ann = json_object_get (desc, "annotations");
  const char *n = json_string_value (json_object_get (ann, ANN_CONTAINERD_NAME));

  return n ? n : json_string_value (json_object_get (ann, ANN_REF_NAME));
}

static bool
desc_named (json_t *desc, const char *want)
{
  json_t *ann = json_object_get (desc, "annotations");

  return kd_str_eq (json_string_value (json_object_get (ann, ANN_CONTAINERD_NAME)), want)
         || kd_str_eq (json_string_value (json_object_get (ann, ANN_REF_NAME)), want);
}

/* Collects the image manifests an index offers for linux/<this arch>,
   following nested indexes; only top-level descriptors carry names. */
static int
collect (kd_import_src_t *src, json_t *index, const char *name, const char *want, int depth,
         cands_t *out, kd_error_t *err)
{
  json_t *manifests = json_object_get (index, "manifests");
  json_t *d;
  size_t i;

  if (!json_is_array (manifests))
    return kd_make_error (err, 0, "index without a `manifests` list");
  json_array_foreach (manifests, i, d)
  {
    const char *mt = json_string_value (json_object_get (d, "mediaType"));
    const char *digest = json_string_value (json_object_get (d, "digest"));
    json_t *jsize = json_object_get (d, "size");
    int64_t size = json_is_integer (jsize) ? json_integer_value (jsize) : -1;
    const char *dname = depth == 0 ? desc_name (d) : name;

    if (!json_is_object (d))
      continue;
    if (depth == 0 && want && !desc_named (d, want))
      continue;
    if (!platform_ok (d))
      continue;
    if (!digest_ok (digest))
      return kd_make_error (err, 0, "index: unsupported digest `%s`", digest ? digest : "");
    if (mt && (strcmp (mt, MT_OCI_INDEX) == 0 || strcmp (mt, MT_DOCKER_LIST) == 0))
      {
        cleanup_free char *data = NULL;
        size_t len;
        json_t *nested;
        int r;

        if (depth + 1 >= MAX_INDEX_DEPTH)
          return kd_make_error (err, 0, "indexes nested deeper than %d", MAX_INDEX_DEPTH);
        if (read_blob (src, digest, size, &data, &len, err) < 0)
          return -1;
        nested = parse_json (data, len, digest, err);
        if (nested == NULL)
          return -1;
        r = collect (src, nested, dname, want, depth + 1, out, err);
        json_decref (nested);
        if (r < 0)
          return -1;
      }
    else if (mt == NULL || strcmp (mt, MT_OCI_MANIFEST) == 0
             || strcmp (mt, MT_DOCKER_MANIFEST) == 0)
      {
        kd_grow ((void **) &out->v, &out->cap, out->n, sizeof (*out->v));
        out->v[out->n].digest = xstrdup (digest);
        out->v[out->n].size = size;
        out->v[out->n].name = dname ? xstrdup (dname) : NULL;
        out->n++;
      }
    /* Anything else (artifacts, signatures) is not an image to run. */
  }
  return 0;
}

static int
pick (const char *want, cands_t *c, kd_error_t *err)
{
  kd_buf_t names = { 0 };
  cleanup_free char *list = NULL;

  if (c->n == 0 && want)
    return kd_make_error (err, 0, "no image named `%s` for linux/%s", want, kd_go_arch ());
  if (c->n == 0)
    return kd_make_error (err, 0, "no image for linux/%s", kd_go_arch ());
  for (size_t i = 1; i < c->n; i++)
    if (strcmp (c->v[i].digest, c->v[0].digest) != 0)
      {
        for (size_t j = 0; j < c->n; j++)
          kd_buf_printf (&names, "%s%s", j ? ", " : "",
                         c->v[j].name ? c->v[j].name : c->v[j].digest);
        list = kd_buf_steal (&names);
        return kd_make_error (err, 0, "several images for linux/%s (%s): name one", kd_go_arch (),
                              list);
      }
  return 0;
}

/* The image manifest's config and layers, added to the plan (layers
   first: a blob is stored before anything that refers to it). */
static int
plan_manifest (kd_import_src_t *src, json_t *m, kd_import_plan_t *plan, char **config_data,
               size_t *config_len, kd_error_t *err)
{
  const char *mt = json_string_value (json_object_get (m, "mediaType"));
  json_t *config = json_object_get (m, "config");
  json_t *layers = json_object_get (m, "layers");
  json_t *cfg = NULL, *diff_ids, *l;
  const char *cdigest;
  json_t *csize;
  size_t i;

  if (json_integer_value (json_object_get (m, "schemaVersion")) != 2)
    return kd_make_error (err, 0, "manifest: schemaVersion is not 2");
  if (mt && strcmp (mt, MT_OCI_MANIFEST) != 0 && strcmp (mt, MT_DOCKER_MANIFEST) != 0)
    return kd_make_error (err, 0, "manifest: unsupported media type `%s`", mt);
  if (!json_is_object (config) || !json_is_array (layers))
    return kd_make_error (err, 0, "manifest: no config or no layers");
  cdigest = json_string_value (json_object_get (config, "digest"));
  csize = json_object_get (config, "size");
  if (read_blob (src, cdigest, json_is_integer (csize) ? json_integer_value (csize) : -1,
                 config_data, config_len, err)
      < 0)
    return kd_error_wrap (err, "config");
  cfg = parse_json (*config_data, *config_len, "config", err);
  if (cfg == NULL)
    return -1;
  diff_ids = json_object_get (json_object_get (cfg, "rootfs"), "diff_ids");
  if (!json_is_array (diff_ids) || json_array_size (diff_ids) != json_array_size (layers))
    {
      json_decref (cfg);
      return kd_make_error (err, 0, "config lists %zu diff_ids for %zu layers",
                            json_array_size (diff_ids), json_array_size (layers));
    }
  json_decref (cfg);

  json_array_foreach (layers, i, l)
  {
    const char *digest = json_string_value (json_object_get (l, "digest"));
    json_t *size = json_object_get (l, "size");
    cleanup_free char *name = NULL;

    if (!digest_ok (digest))
      return kd_make_error (err, 0, "layer %zu: unsupported digest `%s`", i, digest ? digest : "");
    name = blob_name (digest);
    kd_import_plan_add (plan, name, digest, json_is_integer (size) ? json_integer_value (size) : -1,
                        NULL, 0);
  }
  kd_import_plan_add (plan, "config", cdigest, (int64_t) *config_len, *config_data, *config_len);
  return 0;
}

static int
import_oci (const kd_image_store_t *s, kd_import_src_t *src, const char *want, char **out_digest,
            char **out_ref, kd_error_t *err)
{
  cleanup_free char *layout_data = NULL, *index_data = NULL, *manifest_data = NULL;
  cleanup_free char *config_data = NULL;
  size_t layout_len, index_len, manifest_len, config_len;
  json_t *layout = NULL, *index = NULL, *m = NULL;
  kd_import_plan_t plan = { 0 };
  cands_t c = { 0 };
  int ret = -1;

  if (kd_import_src_read (src, "oci-layout", 65536, &layout_data, &layout_len, err) < 0)
    return -1;
  layout = parse_json (layout_data, layout_len, "oci-layout", err);
  if (layout == NULL)
    goto out;
  if (!json_is_string (json_object_get (layout, "imageLayoutVersion")))
    {
      kd_make_error (err, 0, "oci-layout: no imageLayoutVersion");
      goto out;
    }
  if (kd_import_src_read (src, "index.json", KD_IMPORT_MAX_JSON, &index_data, &index_len, err) < 0)
    goto out;
  index = parse_json (index_data, index_len, "index.json", err);
  if (index == NULL || collect (src, index, NULL, want, 0, &c, err) < 0 || pick (want, &c, err) < 0)
    goto out;

  if (read_blob (src, c.v[0].digest, c.v[0].size, &manifest_data, &manifest_len, err) < 0)
    {
      kd_error_wrap (err, "manifest");
      goto out;
    }
  m = parse_json (manifest_data, manifest_len, "manifest", err);
  if (m == NULL || plan_manifest (src, m, &plan, &config_data, &config_len, err) < 0)
    goto out;
  kd_import_plan_add (&plan, "manifest", c.v[0].digest, (int64_t) manifest_len, manifest_data,
                      manifest_len);
  if (kd_import_plan_run (&plan, s, src, err) < 0 || kd_import_plan_commit (&plan, err) < 0)
    goto out;
  *out_digest = xstrdup (c.v[0].digest);
  *out_ref = c.v[0].name ? xstrdup (c.v[0].name) : NULL;
  ret = 0;
out:
  kd_import_plan_free (&plan);
  cands_free (&c);
  json_decref (layout);
  json_decref (index);
  json_decref (m);
  return ret;
}

/* ---- docker save ------------------------------------------------------- */

/* The digest a docker save path implies: "<hex>.json" (the config, before
   Docker 25) or "blobs/sha256/<hex>" (since). NULL when it implies none. */
static char *
digest_from_path (const char *path)
{
  const char *base = strrchr (path, '/');
  char d[80];

  base = base ? base + 1 : path;
  if (kd_str_has_prefix (path, "blobs/sha256/") && strlen (base) == 64)
    snprintf (d, sizeof (d), "sha256:%s", base);
  else if (strlen (base) == 64 + 5 && kd_str_has_suffix (base, ".json"))
    snprintf (d, sizeof (d), "sha256:%.64s", base);
  else
    return NULL;
  return digest_ok (d) ? xstrdup (d) : NULL;
}

static json_t *
docker_pick (json_t *list, const char *want, kd_error_t *err)
{
  json_t *e, *t;
  size_t i, j;

  if (!json_is_array (list) || json_array_size (list) == 0)
    {
      kd_make_error (err, 0, "manifest.json: not a list of images");
      return NULL;
    }
  if (want == NULL)
    {
      if (json_array_size (list) > 1)
        kd_make_error (err, 0, "manifest.json lists %zu images: name one", json_array_size (list));
      return json_array_size (list) > 1 ? NULL : json_array_get (list, 0);
    }
  json_array_foreach (list, i, e)
  {
    json_array_foreach (json_object_get (e, "RepoTags"), j, t)
    {
      if (kd_str_eq (json_string_value (t), want))
        return e;
    }
  }
  kd_make_error (err, 0, "manifest.json has no image tagged `%s`", want);
  return NULL;
}

static const char *
layer_media_type (const kd_import_item_t *it)
{
  static const unsigned char gz[] = { 0x1f, 0x8b }, zst[] = { 0x28, 0xb5, 0x2f, 0xfd };

  if (it->n_magic >= 2 && memcmp (it->magic, gz, 2) == 0)
    return MT_LAYER_TAR "+gzip";
  if (it->n_magic >= 4 && memcmp (it->magic, zst, 4) == 0)
    return MT_LAYER_TAR "+zstd";
  return MT_LAYER_TAR;
}

static int
import_docker (const kd_image_store_t *s, kd_import_src_t *src, const char *want, char **out_digest,
               char **out_ref, kd_error_t *err)
{
  cleanup_free char *list_data = NULL, *config_data = NULL, *manifest = NULL;
  cleanup_free char *config_digest = NULL;
  cleanup_free size_t *idx = NULL;
  size_t list_len, config_len, n_layers;
  json_t *list = NULL, *cfg = NULL, *e, *layers, *diff_ids, *jl = NULL, *l;
  const char *config_path, *tag;
  kd_import_plan_t plan = { 0 };
  char digest[80];
  size_t i;
  int ret = -1;

  if (kd_import_src_read (src, "manifest.json", KD_IMPORT_MAX_JSON, &list_data, &list_len, err) < 0)
    return -1;
  list = parse_json (list_data, list_len, "manifest.json", err);
  if (list == NULL || (e = docker_pick (list, want, err)) == NULL)
    goto out;
  config_path = json_string_value (json_object_get (e, "Config"));
  layers = json_object_get (e, "Layers");
  if (config_path == NULL || !json_is_array (layers))
    {
      kd_make_error (err, 0, "manifest.json: an image without Config or Layers");
      goto out;
    }

  /* The config: its digest is its name, when the name is one. */
  if (kd_import_src_read (src, config_path, KD_IMPORT_MAX_JSON, &config_data, &config_len, err) < 0)
    goto out;
  sha256_digest (config_data, config_len, digest);
  config_digest = digest_from_path (config_path);
  if (config_digest && strcmp (config_digest, digest) != 0)
    {
      kd_make_error (err, 0, "`%s`: digest mismatch: got %s, expected %s", config_path, digest,
                     config_digest);
      goto out;
    }
  free (config_digest);
  config_digest = xstrdup (digest);
  cfg = parse_json (config_data, config_len, config_path, err);
  if (cfg == NULL)
    goto out;
  diff_ids = json_object_get (json_object_get (cfg, "rootfs"), "diff_ids");
  n_layers = json_array_size (layers);
  if (!json_is_array (diff_ids) || json_array_size (diff_ids) != n_layers)
    {
      kd_make_error (err, 0, "config lists %zu diff_ids for %zu layers", json_array_size (diff_ids),
                     n_layers);
      goto out;
    }

  idx = xcalloc (n_layers + 1, sizeof (*idx));
  json_array_foreach (layers, i, l)
  {
    cleanup_free char *expect = NULL;
    if (!json_is_string (l))
      {
        kd_make_error (err, 0, "manifest.json: layer %zu is not a path", i);
        goto out;
      }
    expect = digest_from_path (json_string_value (l));
    idx[i] = kd_import_plan_add (&plan, json_string_value (l), expect, -1, NULL, 0);
  }
  kd_import_plan_add (&plan, config_path, config_digest, (int64_t) config_len, config_data,
                      config_len);
  if (kd_import_plan_run (&plan, s, src, err) < 0)
    goto out;

  /* An uncompressed layer is its own diff_id; a compressed one is checked
     against it when unpacked. */
  jl = json_array ();
  for (i = 0; i < n_layers; i++)
    {
      kd_import_item_t *it = &plan.items[idx[i]];
      const char *mt = layer_media_type (it);
      const char *diff_id = json_string_value (json_array_get (diff_ids, i));

      if (strcmp (mt, MT_LAYER_TAR) == 0 && !kd_str_eq (diff_id, it->got))
        {
          kd_make_error (err, 0, "layer `%s` is %s, but the config's diff_id is %s", it->name,
                         it->got, diff_id ? diff_id : "missing");
          goto out;
        }
      json_array_append_new (jl, json_pack ("{s:s,s:s,s:I}", "mediaType", mt, "digest", it->got,
                                            "size", (json_int_t) it->got_size));
    }
  {
    json_t *m = json_pack ("{s:i,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion", 2, "mediaType",
                           MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest",
                           config_digest, "size", (json_int_t) config_len, "layers", jl);
    manifest = json_dumps (m, JSON_COMPACT);
    json_decref (m);
  }
  sha256_digest (manifest, strlen (manifest), digest);
  kd_import_plan_add (&plan, "manifest", digest, (int64_t) strlen (manifest), manifest,
                      strlen (manifest));
  if (kd_import_plan_run (&plan, s, src, err) < 0 || kd_import_plan_commit (&plan, err) < 0)
    goto out;

  *out_digest = xstrdup (digest);
  tag = json_string_value (json_array_get (json_object_get (e, "RepoTags"), 0));
  *out_ref = tag ? xstrdup (tag) : NULL;
  ret = 0;
out:
  kd_import_plan_free (&plan);
  json_decref (jl);
  json_decref (cfg);
  json_decref (list);
  return ret;
}

/* ---- entry points ---------------------------------------------------- */

int
kd_image_import_path_ref (const kd_image_store_t *s, const char *path, const char *want,
                          char **manifest_digest, char **ref_name, kd_error_t *err)
{
  kd_import_src_t *src = NULL;
  int r;

  *manifest_digest = NULL;
  *ref_name = NULL;
  if (kd_import_src_open (path, &src, err) < 0)
    return -1;
  if (kd_import_src_has (src, "oci-layout") && kd_import_src_has (src, "index.json"))
    r = import_oci (s, src, want, manifest_digest, ref_name, err);
  else if (kd_import_src_has (src, "manifest.json"))
    r = import_docker (s, src, want, manifest_digest, ref_name, err);
  else
    r = kd_make_error (err, 0, "not an OCI layout, an OCI archive or a docker save tar");
  kd_import_src_free (src);
  if (r < 0)
    return kd_error_wrap (err, "import `%s`", path);
  return 0;
}

int
kd_image_import_path (const kd_image_store_t *s, const char *path, char **manifest_digest,
                      char **ref_name, kd_error_t *err)
{
  return kd_image_import_path_ref (s, path, NULL, manifest_digest, ref_name, err);
}
