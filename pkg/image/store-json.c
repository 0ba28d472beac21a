/* images.json: the image records and their tags.
 *
 *   {"version":1,"images":[{"id":"sha256:..","manifestDigest":"sha256:..",
 *     "repoTags":[..],"repoDigests":[..],"layers":[..],"chainIds":[..],
 *     "size":N,"lastUsed":NS}]}
 *
 * The image config is not copied here: it is read back from its blob (and
 * verified) at load, so the blob stays the one source of truth. */
#include "store-internal.h"

#define INDEX_MAX  (64 * 1024 * 1024)
#define CONFIG_MAX (8 * 1024 * 1024)

static void
free_strings (char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

void
kd_store_image_free (kd_image_t *img)
{
  if (img == NULL)
    return;
  free (img->id);
  free (img->manifest_digest);
  free_strings (img->repo_tags, img->n_repo_tags);
  free_strings (img->repo_digests, img->n_repo_digests);
  free_strings (img->layers, img->n_layers);
  free_strings (img->chain_ids, img->n_chain_ids);
  kd_image_config_free (&img->config);
  free (img);
}

static json_t *
strings_to_json (char *const *v, size_t n)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

int
kd_store_save_index (const kd_image_store_t *s, kd_error_t *err)
{
  json_t *root = json_object (), *list = json_array ();
  cleanup_free char *path = xasprintf ("%s/images.json", s->dir);
  cleanup_free char *text = NULL;

  for (size_t i = 0; i < s->n_images; i++)
    {
      const kd_image_t *img = s->images[i];
      json_t *o = json_object ();
      json_object_set_new (o, "id", json_string (img->id));
      json_object_set_new (o, "manifestDigest", json_string (img->manifest_digest));
      json_object_set_new (o, "repoTags", strings_to_json (img->repo_tags, img->n_repo_tags));
      json_object_set_new (o, "repoDigests",
                           strings_to_json (img->repo_digests, img->n_repo_digests));
      json_object_set_new (o, "layers", strings_to_json (img->layers, img->n_layers));
      json_object_set_new (o, "chainIds", strings_to_json (img->chain_ids, img->n_chain_ids));
      json_object_set_new (o, "size", json_integer (img->size));
      json_object_set_new (o, "lastUsed", json_integer (img->last_used_ns));
      json_array_append_new (list, o);
    }
  json_object_set_new (root, "version", json_integer (1));
  json_object_set_new (root, "images", list);
  text = json_dumps (root, JSON_INDENT (1) | JSON_SORT_KEYS);
  json_decref (root);
  if (text == NULL)
    abort ();
  if (kd_write_file_atomic (path, text, strlen (text), 0600, err) < 0)
    return -1;
  kd_store_sync_dir (s->dir);
  return 0;
}

/* An array of strings; each must be a sha256 digest when `digests`. */
static int
load_strings (json_t *o, const char *key, bool digests, char ***out, size_t *n, const char *where,
              kd_error_t *err)
{
  json_t *a = json_object_get (o, key), *e;
  size_t i;

  *out = NULL;
  *n = 0;
  if (a == NULL)
    return 0;
  if (!json_is_array (a))
    return kd_make_error (err, 0, "%s: %s must be an array", where, key);
  *out = xcalloc (json_array_size (a) + 1, sizeof (char *));
  json_array_foreach (a, i, e)
  {
    if (!json_is_string (e) || (digests && !kd_store_digest_ok (json_string_value (e))))
      return kd_make_error (err, 0, "%s: %s[%zu] is not valid", where, key, i);
    (*out)[(*n)++] = xstrdup (json_string_value (e));
  }
  return 0;
}

static int
load_record (json_t *o, kd_image_t *img, const char *where, kd_error_t *err)
{
  json_t *id = json_object_get (o, "id"), *md = json_object_get (o, "manifestDigest");
  json_t *size = json_object_get (o, "size"), *lu = json_object_get (o, "lastUsed");

  if (!json_is_object (o))
    return kd_make_error (err, 0, "%s: not an object", where);
  if (!json_is_string (id) || !kd_store_digest_ok (json_string_value (id)))
    return kd_make_error (err, 0, "%s: id is not valid", where);
  if (!json_is_string (md) || !kd_store_digest_ok (json_string_value (md)))
    return kd_make_error (err, 0, "%s: manifestDigest is not valid", where);
  img->id = xstrdup (json_string_value (id));
  img->manifest_digest = xstrdup (json_string_value (md));
  img->size = json_is_integer (size) ? json_integer_value (size) : 0;
  img->last_used_ns = json_is_integer (lu) ? json_integer_value (lu) : 0;
  if (load_strings (o, "repoTags", false, &img->repo_tags, &img->n_repo_tags, where, err) < 0
      || load_strings (o, "repoDigests", false, &img->repo_digests, &img->n_repo_digests, where,
                       err)
             < 0
      || load_strings (o, "layers", true, &img->layers, &img->n_layers, where, err) < 0
      || load_strings (o, "chainIds", true, &img->chain_ids, &img->n_chain_ids, where, err) < 0)
    return -1;
  if (img->n_layers != img->n_chain_ids)
    return kd_make_error (err, 0, "%s: layers and chainIds differ in length", where);
  return 0;
}

/* Reads the config blob; a record whose config cannot be read is dropped
   (with a warning) rather than stopping the daemon. */
static bool
load_config (kd_image_store_t *s, kd_image_t *img)
{
  kd_error_t err = NULL;
  cleanup_free char *raw = NULL;
  size_t len = 0;

  if (kd_image_store_read_blob (s, img->id, CONFIG_MAX, &raw, &len, &err) < 0
      || kd_image_config_parse (raw, len, &img->config, &err) < 0)
    {
      kd_error_wrap (&err, "image %s dropped from the index", img->id);
      kd_error_log_release (&err);
      return false;
    }
  return true;
}

int
kd_store_load_index (kd_image_store_t *s, kd_error_t *err)
{
  cleanup_free char *path = xasprintf ("%s/images.json", s->dir);
  cleanup_free char *text = NULL;
  size_t len = 0, i;
  json_error_t jerr;
  json_t *root, *list, *o;
  int r = 0;

  if (access (path, F_OK) < 0 && errno == ENOENT)
    return 0;
  if (kd_read_file (path, INDEX_MAX, &text, &len, err) < 0)
    return -1;
  root = json_loadb (text, len, 0, &jerr);
  if (root == NULL)
    return kd_make_error (err, 0, "`%s` is corrupt: %s at line %d", path, jerr.text, jerr.line);
  list = json_object_get (root, "images");
  if (!json_is_object (root) || !json_is_array (list))
    {
      json_decref (root);
      return kd_make_error (err, 0, "`%s` is corrupt: no images list", path);
    }
  json_array_foreach (list, i, o)
  {
    kd_image_t *img = xcalloc (1, sizeof (*img));
    cleanup_free char *where = xasprintf ("`%s` is corrupt: images[%zu]", path, i);
    if (load_record (o, img, where, err) < 0)
      {
        kd_store_image_free (img);
        r = -1;
        break;
      }
    if (!load_config (s, img))
      {
        kd_store_image_free (img);
        continue;
      }
    kd_grow ((void **) &s->images, &s->cap_images, s->n_images, sizeof (kd_image_t *));
    s->images[s->n_images++] = img;
  }
  json_decref (root);
  return r;
}
