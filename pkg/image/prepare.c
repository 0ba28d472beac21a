/* Preparing an image: reading its manifest and config, computing the chain
 * IDs and unpacking each layer not on disk yet into layers/<chain-hex>/.
 *
 * Layers are shared by images, so two pulls (threads of the pool, or two
 * processes) may want the same chain at once. Each unpack runs under an
 * flock on layers/<chain-hex>.lock and checks again for the directory once
 * it holds the lock, so a chain is unpacked once. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "store-internal.h"

#define MANIFEST_MAX (4 * 1024 * 1024)
#define CONFIG_MAX   (8 * 1024 * 1024)

static const char *const manifest_types[] = {
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
};

static const char *const index_types[] = {
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
};

const char *const kd_store_layer_types[] = {
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
};
const size_t kd_store_n_layer_types = KD_ARRAY_SIZE (kd_store_layer_types);

static bool
in_list (const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

static int
parse_descriptor (json_t *d, const char *what, char **digest, int64_t *size, const char **mtype,
                  kd_error_t *err)
{
  json_t *dg = json_object_get (d, "digest"), *sz = json_object_get (d, "size");
  json_t *mt = json_object_get (d, "mediaType");

  if (!json_is_object (d))
    return kd_make_error (err, 0, "manifest: %s is not an object", what);
  if (!json_is_string (dg) || !kd_store_digest_ok (json_string_value (dg)))
    return kd_make_error (err, 0, "manifest: %s has no sha256 digest", what);
  if (!json_is_integer (sz) || json_integer_value (sz) < 0)
    return kd_make_error (err, 0, "manifest: %s has no size", what);
  *digest = xstrdup (json_string_value (dg));
  *size = json_integer_value (sz);
  *mtype = json_is_string (mt) ? json_string_value (mt) : NULL;
  return 0;
}

static int
parse_manifest (json_t *root, kd_store_manifest_t *m, kd_error_t *err)
{
  json_t *mt = json_object_get (root, "mediaType"), *layers, *l;
  const char *type = json_is_string (mt) ? json_string_value (mt) : NULL, *ltype;
  size_t i;

  if (!json_is_object (root))
    return kd_make_error (err, 0, "manifest: not a JSON object");
  if (type && in_list (type, index_types, KD_ARRAY_SIZE (index_types)))
    return kd_make_error (err, 0, "manifest: `%s` is an index, not an image manifest", type);
  if (type && !in_list (type, manifest_types, KD_ARRAY_SIZE (manifest_types)))
    return kd_make_error (err, 0, "manifest: unsupported media type `%s`", type);
  if (!json_is_integer (json_object_get (root, "schemaVersion"))
      || json_integer_value (json_object_get (root, "schemaVersion")) != 2)
    return kd_make_error (err, 0, "manifest: schemaVersion must be 2");
  m->media_type = xstrdup (type ? type : manifest_types[0]);
  if (parse_descriptor (json_object_get (root, "config"), "config", &m->config_digest,
                        &m->config_size, &ltype, err)
      < 0)
    return -1;
  layers = json_object_get (root, "layers");
  if (!json_is_array (layers))
    return kd_make_error (err, 0, "manifest: layers must be an array");
  m->layers = xcalloc (json_array_size (layers) + 1, sizeof (char *));
  m->layer_sizes = xcalloc (json_array_size (layers) + 1, sizeof (int64_t));
  json_array_foreach (layers, i, l)
  {
    cleanup_free char *what = xasprintf ("layers[%zu]", i);
    if (parse_descriptor (l, what, &m->layers[i], &m->layer_sizes[i], &ltype, err) < 0)
      return -1;
    m->n_layers++;
    if (ltype && !in_list (ltype, kd_store_layer_types, kd_store_n_layer_types))
      return kd_make_error (err, 0, "manifest: %s has unsupported media type `%s`", what, ltype);
  }
  return 0;
}

void
kd_store_manifest_free (kd_store_manifest_t *m)
{
  free (m->media_type);
  free (m->config_digest);
  for (size_t i = 0; i < m->n_layers; i++)
    free (m->layers[i]);
  free (m->layers);
  free (m->layer_sizes);
  memset (m, 0, sizeof (*m));
}

int
kd_store_load_manifest (const kd_image_store_t *s, const char *manifest_digest,
                        kd_store_manifest_t *m, kd_image_config_t *cfg, kd_error_t *err)
{
  cleanup_free char *raw = NULL;
  cleanup_free char *craw = NULL;
  size_t len = 0, clen = 0;
  json_error_t jerr;
  json_t *root;
  int r;

  memset (m, 0, sizeof (*m));
  memset (cfg, 0, sizeof (*cfg));
  if (kd_image_store_read_blob (s, manifest_digest, MANIFEST_MAX, &raw, &len, err) < 0)
    return kd_error_wrap (err, "manifest %s", manifest_digest);
  root = json_loadb (raw, len, 0, &jerr);
  if (root == NULL)
    return kd_make_error (err, 0, "manifest %s: %s at line %d", manifest_digest, jerr.text,
                          jerr.line);
  r = parse_manifest (root, m, err);
  json_decref (root);
  m->raw_len = len;
  if (r < 0)
    goto fail;
  if (kd_image_store_read_blob (s, m->config_digest, CONFIG_MAX, &craw, &clen, err) < 0)
    {
      kd_error_wrap (err, "config %s", m->config_digest);
      goto fail;
    }
  if (kd_image_config_parse (craw, clen, cfg, err) < 0)
    {
      kd_error_wrap (err, "config %s", m->config_digest);
      goto fail;
    }
  if (cfg->n_diff_ids != m->n_layers)
    {
      kd_make_error (err, 0, "manifest %s has %zu layers but its config has %zu diff_ids",
                     manifest_digest, m->n_layers, cfg->n_diff_ids);
      kd_image_config_free (cfg);
      goto fail;
    }
  return 0;

fail:
  kd_store_manifest_free (m);
  return -1;
}

char **
kd_store_chain_ids (char *const *diff_ids, size_t n)
{
  char **out = xcalloc (n + 1, sizeof (char *));

  for (size_t i = 0; i < n; i++)
    {
      char d[KD_DIGEST_LEN];
      cleanup_free char *joined = NULL;
      if (i == 0)
        {
          out[i] = xstrdup (diff_ids[0]);
          continue;
        }
      joined = xasprintf ("%s %s", out[i - 1], diff_ids[i]);
      kd_store_sha256 (joined, strlen (joined), d);
      out[i] = xstrdup (d);
    }
  return out;
}

char *
kd_store_layer_dir (const kd_image_store_t *s, const char *chain_id)
{
  return xasprintf ("%s/layers/%s", s->dir, chain_id + 7);
}

static bool
dir_exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

/* Takes the chain's lock. The holder unlinks the lock file when done, so a
   waiter may wake up holding a file that is no longer the one at `path`:
   then it tries again with the new file. */
static int
lock_chain (const char *path, kd_error_t *err)
{
  for (;;)
    {
      cleanup_close int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      struct stat held, now;
      int r;

      if (fd < 0)
        return kd_make_error (err, errno, "open `%s`", path);
      do
        r = flock (fd, LOCK_EX);
      while (r < 0 && errno == EINTR);
      if (r < 0)
        return kd_make_error (err, errno, "flock `%s`", path);
      if (fstat (fd, &held) == 0 && stat (path, &now) == 0 && held.st_ino == now.st_ino
          && held.st_dev == now.st_dev)
        return steal_fd (&fd);
    }
}

static int
unpack_layer (const kd_image_store_t *s, const char *blob_digest, const char *diff_id,
              const char *chain_id, kd_error_t *err)
{
  cleanup_free char *dest = kd_store_layer_dir (s, chain_id);
  cleanup_free char *lock = xasprintf ("%s.lock", dest);
  cleanup_free char *blob = NULL;
  cleanup_close int fd = -1;
  int r = 0;

  if (dir_exists (dest))
    return 0;
  fd = lock_chain (lock, err);
  if (fd < 0)
    return -1;
  /* Another thread or process may have finished it while we waited. */
  if (!dir_exists (dest))
    {
      blob = kd_image_store_blob_path (s, blob_digest);
      r = kd_layer_unpack (blob, diff_id, dest, err);
      if (r < 0)
        kd_error_wrap (err, "unpack layer %s", blob_digest);
      else
        {
          cleanup_free char *layers = xasprintf ("%s/layers", s->dir);
          kd_store_sync_dir (layers);
        }
    }
  /* Unlink while holding the lock; see lock_chain. */
  unlink (lock);
  return r;
}

int
kd_image_store_prepare (const kd_image_store_t *s, const char *manifest_digest, kd_error_t *err)
{
  kd_store_manifest_t m;
  kd_image_config_t cfg;
  char **chain = NULL;
  int r = 0;

  if (kd_store_load_manifest (s, manifest_digest, &m, &cfg, err) < 0)
    return -1;
  chain = kd_store_chain_ids (cfg.diff_ids, cfg.n_diff_ids);
  for (size_t i = 0; i < m.n_layers && r == 0; i++)
    {
      if (!kd_image_store_has_blob (s, m.layers[i]))
        {
          r = kd_make_error (err, ENOENT, "layer %s is not stored", m.layers[i]);
          break;
        }
      r = unpack_layer (s, m.layers[i], cfg.diff_ids[i], chain[i], err);
    }
  for (size_t i = 0; i < cfg.n_diff_ids; i++)
    free (chain[i]);
  free (chain);
  kd_image_config_free (&cfg);
  kd_store_manifest_free (&m);
  return r;
}
