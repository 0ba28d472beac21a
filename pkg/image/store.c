/* The image store's index: open, commit, lookup, list, remove, GC.
 *
 * Crash safety comes from the order of writes. Adding an image stores its
 * blobs and layers first and writes images.json last, so a crash leaves at
 * worst unreferenced files. Removing writes images.json first and deletes
 * files after, so a crash never leaves a record pointing at nothing. When
 * images.json cannot be written, the in-memory index is put back as it was,
 * and kd_image_t pointers that callers hold stay valid throughout. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "store-internal.h"

/* ---- string lists ----------------------------------------------------------- */

static bool
strv_contains (char *const *v, size_t n, const char *s)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i], s) == 0)
      return true;
  return false;
}

static void
strv_add (char ***v, size_t *n, const char *s)
{
  if (strv_contains (*v, *n, s))
    return;
  *v = xrealloc (*v, (*n + 2) * sizeof (char *));
  (*v)[(*n)++] = xstrdup (s);
  (*v)[*n] = NULL;
}

static bool
strv_remove (char **v, size_t *n, const char *s)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp (v[i], s) == 0)
      {
        free (v[i]);
        memmove (&v[i], &v[i + 1], (*n - i - 1) * sizeof (char *));
        v[--(*n)] = NULL;
        return true;
      }
  return false;
}

static char **
strv_copy (char *const *v, size_t n)
{
  char **c = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    c[i] = xstrdup (v[i]);
  return c;
}

static void
strv_free (char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i]);
  free (v);
}

/* ---- snapshots for rollback ----------------------------------------------- */

typedef struct
{
  kd_image_t **images;
  size_t n;
  char ***tags;
  size_t *n_tags;
  char ***digests;
  size_t *n_digests;
} snapshot_t;

static void
snapshot_take (const kd_image_store_t *s, snapshot_t *snap)
{
  snap->n = s->n_images;
  snap->images = xcalloc (s->n_images + 1, sizeof (kd_image_t *));
  snap->tags = xcalloc (s->n_images + 1, sizeof (char **));
  snap->n_tags = xcalloc (s->n_images + 1, sizeof (size_t));
  snap->digests = xcalloc (s->n_images + 1, sizeof (char **));
  snap->n_digests = xcalloc (s->n_images + 1, sizeof (size_t));
  for (size_t i = 0; i < s->n_images; i++)
    {
      kd_image_t *img = s->images[i];
      snap->images[i] = img;
      snap->tags[i] = strv_copy (img->repo_tags, img->n_repo_tags);
      snap->n_tags[i] = img->n_repo_tags;
      snap->digests[i] = strv_copy (img->repo_digests, img->n_repo_digests);
      snap->n_digests[i] = img->n_repo_digests;
    }
}

static void
snapshot_free (snapshot_t *snap)
{
  for (size_t i = 0; i < snap->n; i++)
    {
      strv_free (snap->tags[i], snap->n_tags[i]);
      strv_free (snap->digests[i], snap->n_digests[i]);
    }
  free (snap->images);
  free (snap->tags);
  free (snap->n_tags);
  free (snap->digests);
  free (snap->n_digests);
  memset (snap, 0, sizeof (*snap));
}

/* Puts the index back as it was; consumes the snapshot. */
static void
snapshot_restore (kd_image_store_t *s, snapshot_t *snap)
{
  kd_grow ((void **) &s->images, &s->cap_images, snap->n, sizeof (kd_image_t *));
  for (size_t i = 0; i < snap->n; i++)
    {
      kd_image_t *img = snap->images[i];
      strv_free (img->repo_tags, img->n_repo_tags);
      strv_free (img->repo_digests, img->n_repo_digests);
      img->repo_tags = steal_pointer (&snap->tags[i]);
      img->n_repo_tags = snap->n_tags[i];
      img->repo_digests = steal_pointer (&snap->digests[i]);
      img->n_repo_digests = snap->n_digests[i];
      snap->n_tags[i] = snap->n_digests[i] = 0;
      s->images[i] = img;
    }
  s->n_images = snap->n;
  snapshot_free (snap);
}

/* ---- open ---------------------------------------------------------------------- */

static int
clear_tmp (const char *dir, kd_error_t *err)
{
  cleanup_free char *tmp = xasprintf ("%s/tmp", dir);
  DIR *d = opendir (tmp);
  struct dirent *de;
  int r = 0;

  if (d == NULL)
    return kd_make_error (err, errno, "opendir `%s`", tmp);
  while (r == 0 && (de = readdir (d)) != NULL)
    {
      cleanup_free char *p = NULL;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      p = xasprintf ("%s/%s", tmp, de->d_name);
      r = kd_store_rm_rf (p, err);
    }
  closedir (d);
  return r;
}

/* What a crash leaves in layers/: chain locks and half-unpacked
   "<chain-hex>.tmp.XXXXXX" directories. Each goes only when nobody holds
   its chain's lock, so a live unpack in another process is left alone. */
static void
clear_stale_layer_files (const char *dir)
{
  cleanup_free char *layers = xasprintf ("%s/layers", dir);
  DIR *d = opendir (layers);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      const char *tmp = strstr (de->d_name, ".tmp.");
      bool is_lock = kd_str_has_suffix (de->d_name, ".lock");
      size_t hex_len = tmp ? (size_t) (tmp - de->d_name) : strlen (de->d_name) - 5;
      cleanup_free char *lock = NULL;
      cleanup_close int fd = -1;

      if (tmp == NULL && !is_lock)
        continue;
      lock = xasprintf ("%s/%.*s.lock", layers, (int) hex_len, de->d_name);
      fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0)
        continue;
      if (tmp != NULL)
        {
          cleanup_free char *p = xasprintf ("%s/%s", layers, de->d_name);
          kd_error_t err = NULL;
          if (kd_store_rm_rf (p, &err) < 0)
            kd_error_log_release (&err);
        }
      unlink (lock);
    }
  closedir (d);
}

/* kd_write_file_atomic's temp files ("images.json.tmp.<pid>"). */
static void
clear_stale_index_files (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (kd_str_has_prefix (de->d_name, "images.json.tmp."))
      {
        cleanup_free char *p = xasprintf ("%s/%s", dir, de->d_name);
        unlink (p);
      }
  closedir (d);
}

int
kd_image_store_open (const char *dir, kd_image_store_t **out, kd_error_t *err)
{
  static const char *const subdirs[] = { "", "/blobs/sha256", "/layers", "/tmp" };
  kd_image_store_t *s;

  for (size_t i = 0; i < KD_ARRAY_SIZE (subdirs); i++)
    {
      cleanup_free char *p = xasprintf ("%s%s", dir, subdirs[i]);
      if (kd_mkdir_p (p, 0700, err) < 0)
        return -1;
    }
  if (clear_tmp (dir, err) < 0)
    return -1;
  clear_stale_layer_files (dir);
  clear_stale_index_files (dir);
  s = xcalloc (1, sizeof (*s));
  s->dir = xstrdup (dir);
  if (kd_store_load_index (s, err) < 0)
    {
      kd_image_store_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

void
kd_image_store_free (kd_image_store_t *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_images; i++)
    kd_store_image_free (s->images[i]);
  free (s->images);
  free (s->dir);
  free (s);
}

const char *
kd_image_store_dir (const kd_image_store_t *s)
{
  return s->dir;
}

/* ---- lookup ------------------------------------------------------------------------ */

typedef enum
{
  MATCH_ID,
  MATCH_TAG,
  MATCH_DIGEST,
} match_kind_t;

static kd_image_t *
find_by_id (kd_image_store_t *s, const char *id)
{
  for (size_t i = 0; i < s->n_images; i++)
    if (strcmp (s->images[i]->id, id) == 0)
      return s->images[i];
  return NULL;
}

/* A unique image whose id starts with the hex prefix (>= 12 digits). */
static kd_image_t *
find_by_prefix (kd_image_store_t *s, const char *ref)
{
  const char *hex = kd_str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  size_t n = strlen (hex);
  kd_image_t *found = NULL;

  if (n < 12 || n > 64 || !kd_str_hex_p (hex))
    return NULL;
  for (size_t i = 0; i < s->n_images; i++)
    if (strncmp (s->images[i]->id + 7, hex, n) == 0)
      {
        if (found != NULL)
          return NULL; /* ambiguous */
        found = s->images[i];
      }
  return found;
}

/* The order is Docker's: a full id; then the name as a tag or a digest
   reference; then an id prefix. *key gets the tag or repo digest matched. */
static kd_image_t *
find (kd_image_store_t *s, const char *ref, match_kind_t *kind, char **key)
{
  kd_image_ref_t r;
  kd_error_t err = NULL;
  kd_image_t *img = NULL;

  *key = NULL;
  *kind = MATCH_ID;
  if (kd_store_digest_ok (ref))
    return find_by_id (s, ref);
  if (strlen (ref) == 64 && kd_str_hex_p (ref))
    {
      cleanup_free char *id = xasprintf ("sha256:%s", ref);
      return find_by_id (s, id);
    }
  if (kd_image_ref_parse (ref, &r, &err) == 0)
    {
      cleanup_free char *repo = kd_image_ref_repository (&r);
      cleanup_free char *k
          = r.digest ? xasprintf ("%s@%s", repo, r.digest) : xasprintf ("%s:%s", repo, r.tag);
      for (size_t i = 0; i < s->n_images && img == NULL; i++)
        {
          kd_image_t *c = s->images[i];
          if (r.digest ? strv_contains (c->repo_digests, c->n_repo_digests, k)
                       : strv_contains (c->repo_tags, c->n_repo_tags, k))
            img = c;
        }
      if (img)
        {
          *kind = r.digest ? MATCH_DIGEST : MATCH_TAG;
          *key = steal_pointer (&k);
        }
      kd_image_ref_free (&r);
      if (img)
        return img;
    }
  kd_error_release (&err);
  return find_by_prefix (s, ref);
}

kd_image_t *
kd_image_store_lookup (kd_image_store_t *s, const char *ref)
{
  match_kind_t kind;
  cleanup_free char *key = NULL;
  return find (s, ref, &kind, &key);
}

/* ---- commit --------------------------------------------------------------------- */

static int64_t
blob_size (const kd_image_store_t *s, const char *digest)
{
  cleanup_free char *p = kd_image_store_blob_path (s, digest);
  struct stat st;
  return stat (p, &st) == 0 ? (int64_t) st.st_size : 0;
}

static kd_image_t *
build_image (const kd_image_store_t *s, const char *manifest_digest, kd_store_manifest_t *m,
             kd_image_config_t *cfg, kd_error_t *err)
{
  kd_image_t *img;
  char **chain = kd_store_chain_ids (cfg->diff_ids, cfg->n_diff_ids);

  for (size_t i = 0; i < cfg->n_diff_ids; i++)
    {
      cleanup_free char *dir = kd_store_layer_dir (s, chain[i]);
      struct stat st;
      if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode))
        {
          kd_make_error (err, 0, "image %s is not prepared: layer %s is not unpacked",
                         manifest_digest, m->layers[i]);
          strv_free (chain, cfg->n_diff_ids);
          return NULL;
        }
    }
  img = xcalloc (1, sizeof (*img));
  img->id = steal_pointer (&m->config_digest);
  img->manifest_digest = xstrdup (manifest_digest);
  img->chain_ids = chain;
  img->n_chain_ids = cfg->n_diff_ids;
  img->layers = steal_pointer (&m->layers);
  img->n_layers = m->n_layers;
  m->n_layers = 0;
  img->size = (int64_t) m->raw_len + blob_size (s, img->id);
  for (size_t i = 0; i < img->n_layers; i++)
    img->size += blob_size (s, img->layers[i]);
  img->last_used_ns = kd_now_ns ();
  img->config = *cfg;
  memset (cfg, 0, sizeof (*cfg));
  return img;
}

static void
swap_images (kd_image_t *a, kd_image_t *b)
{
  kd_image_t t = *a;
  *a = *b;
  *b = t;
}

int
kd_image_store_commit (kd_image_store_t *s, const char *manifest_digest, const kd_image_ref_t *ref,
                       kd_error_t *err)
{
  kd_store_manifest_t m;
  kd_image_config_t cfg;
  kd_image_t *img, *old;
  snapshot_t snap;
  size_t slot = s->n_images;

  if (kd_store_load_manifest (s, manifest_digest, &m, &cfg, err) < 0)
    return -1;
  img = build_image (s, manifest_digest, &m, &cfg, err);
  kd_store_manifest_free (&m);
  kd_image_config_free (&cfg);
  if (img == NULL)
    return -1;

  snapshot_take (s, &snap);
  old = find_by_id (s, img->id);
  if (old != NULL)
    {
      /* The same config again (another manifest for it, or a re-pull):
         keep its names and its users. */
      img->repo_tags = strv_copy (old->repo_tags, old->n_repo_tags);
      img->n_repo_tags = old->n_repo_tags;
      img->repo_digests = strv_copy (old->repo_digests, old->n_repo_digests);
      img->n_repo_digests = old->n_repo_digests;
      img->in_use = old->in_use;
      for (slot = 0; s->images[slot] != old; slot++)
        ;
    }
  else
    kd_grow ((void **) &s->images, &s->cap_images, s->n_images, sizeof (kd_image_t *));
  s->images[slot] = img;
  if (old == NULL)
    s->n_images++;

  if (ref != NULL)
    {
      cleanup_free char *repo = kd_image_ref_repository (ref);
      cleanup_free char *by_manifest = xasprintf ("%s@%s", repo, manifest_digest);
      if (ref->tag != NULL)
        {
          cleanup_free char *tag = xasprintf ("%s:%s", repo, ref->tag);
          /* A tag names one image: it moves. The image it leaves may end
             up with no name at all, like Docker's dangling "<none>". */
          for (size_t i = 0; i < s->n_images; i++)
            if (s->images[i] != img)
              strv_remove (s->images[i]->repo_tags, &s->images[i]->n_repo_tags, tag);
          strv_add (&img->repo_tags, &img->n_repo_tags, tag);
        }
      strv_add (&img->repo_digests, &img->n_repo_digests, by_manifest);
      /* Pulled by an index digest: that name finds the image too. */
      if (ref->digest != NULL && strcmp (ref->digest, manifest_digest) != 0)
        {
          cleanup_free char *by_ref = xasprintf ("%s@%s", repo, ref->digest);
          strv_add (&img->repo_digests, &img->n_repo_digests, by_ref);
        }
    }

  if (kd_store_save_index (s, err) < 0)
    {
      snapshot_restore (s, &snap);
      kd_store_image_free (img);
      return -1;
    }
  snapshot_free (&snap);
  if (old != NULL)
    {
      /* Keep the address callers hold; free the old contents. */
      swap_images (old, img);
      s->images[slot] = old;
      kd_store_image_free (img);
    }
  return 0;
}

/* ---- list -------------------------------------------------------------------------- */

static const char *
sort_key (const kd_image_t *img)
{
  const char *best = NULL;
  for (size_t i = 0; i < img->n_repo_tags; i++)
    if (best == NULL || strcmp (img->repo_tags[i], best) < 0)
      best = img->repo_tags[i];
  return best;
}

static int
cmp_images (const void *a, const void *b)
{
  const kd_image_t *x = *(kd_image_t *const *) a, *y = *(kd_image_t *const *) b;
  const char *kx = sort_key (x), *ky = sort_key (y);

  /* Untagged images last, like "<none>" rows. */
  if (kx && ky && strcmp (kx, ky) != 0)
    return strcmp (kx, ky);
  if (kx == NULL && ky != NULL)
    return 1;
  if (kx != NULL && ky == NULL)
    return -1;
  return strcmp (x->id, y->id);
}

size_t
kd_image_store_list (kd_image_store_t *s, kd_image_t ***out)
{
  kd_image_t **v = xcalloc (s->n_images + 1, sizeof (kd_image_t *));

  for (size_t i = 0; i < s->n_images; i++)
    v[i] = s->images[i];
  qsort (v, s->n_images, sizeof (kd_image_t *), cmp_images);
  *out = v;
  return s->n_images;
}

/* ---- remove ---------------------------------------------------------------------- */

static bool
blob_referenced (const kd_image_store_t *s, const char *digest)
{
  for (size_t i = 0; i < s->n_images; i++)
    {
      const kd_image_t *img = s->images[i];
      if (strcmp (img->id, digest) == 0 || strcmp (img->manifest_digest, digest) == 0
          || strv_contains (img->layers, img->n_layers, digest))
        return true;
    }
  return false;
}

static bool
chain_referenced (const kd_image_store_t *s, const char *chain)
{
  for (size_t i = 0; i < s->n_images; i++)
    if (strv_contains (s->images[i]->chain_ids, s->images[i]->n_chain_ids, chain))
      return true;
  return false;
}

static void
remove_blob (const kd_image_store_t *s, const char *digest)
{
  cleanup_free char *p = NULL;
  if (blob_referenced (s, digest))
    return;
  p = kd_image_store_blob_path (s, digest);
  if (unlink (p) < 0 && errno != ENOENT)
    kd_warn ("unlink `%s`: %s", p, strerror (errno));
}

/* The layer directory first moves into tmp/ (one rename: it is gone from
   layers/ at once); what a crash leaves of the deletion is in tmp/. */
static void
remove_layer (const kd_image_store_t *s, const char *chain)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *trash = NULL;
  kd_error_t err = NULL;

  if (chain_referenced (s, chain))
    return;
  dir = kd_store_layer_dir (s, chain);
  trash = xasprintf ("%s/tmp/rm-%s-%lld", s->dir, chain + 7, (long long) kd_monotonic_ns ());
  if (rename (dir, trash) < 0)
    {
      if (errno != ENOENT)
        kd_warn ("rename `%s` to `%s`: %s", dir, trash, strerror (errno));
      return;
    }
  if (kd_store_rm_rf (trash, &err) < 0)
    kd_error_log_release (&err);
}

/* After images.json no longer lists img: the files only it used go. */
static void
sweep (const kd_image_store_t *s, const kd_image_t *img)
{
  remove_blob (s, img->manifest_digest);
  remove_blob (s, img->id);
  for (size_t i = 0; i < img->n_layers; i++)
    remove_blob (s, img->layers[i]);
  for (size_t i = 0; i < img->n_chain_ids; i++)
    remove_layer (s, img->chain_ids[i]);
}

static void
detach (kd_image_store_t *s, const kd_image_t *img)
{
  for (size_t i = 0; i < s->n_images; i++)
    if (s->images[i] == img)
      {
        memmove (&s->images[i], &s->images[i + 1], (s->n_images - i - 1) * sizeof (kd_image_t *));
        s->n_images--;
        return;
      }
}

/* Deletes an image: the index first, then its unshared files. */
static int
delete_image (kd_image_store_t *s, kd_image_t *img, snapshot_t *snap, kd_error_t *err)
{
  detach (s, img);
  if (kd_store_save_index (s, err) < 0)
    {
      snapshot_restore (s, snap);
      return -1;
    }
  snapshot_free (snap);
  sweep (s, img);
  kd_store_image_free (img);
  return 0;
}

/* Removes repo digests of `repo` ("name@sha256:..") from img. */
static void
drop_repo_digests (kd_image_t *img, const char *repo)
{
  size_t n = strlen (repo);
  for (size_t i = 0; i < img->n_repo_digests;)
    if (strncmp (img->repo_digests[i], repo, n) == 0 && img->repo_digests[i][n] == '@')
      strv_remove (img->repo_digests, &img->n_repo_digests, img->repo_digests[i]);
    else
      i++;
}

static bool
has_tag_in_repo (const kd_image_t *img, const char *repo)
{
  size_t n = strlen (repo);
  for (size_t i = 0; i < img->n_repo_tags; i++)
    if (strncmp (img->repo_tags[i], repo, n) == 0 && img->repo_tags[i][n] == ':')
      return true;
  return false;
}

/* Docker's exact wording, with an errno callers can test (kd_make_error
   would append strerror to the message). */
static int
error_with_status (kd_error_t *err, int status, char *msg)
{
  cleanup_free char *m = msg;
  kd_make_error (err, 0, "%s", m);
  if (err && *err && strcmp ((*err)->msg, m) == 0)
    (*err)->status = status;
  return -1;
}

int
kd_image_store_remove (kd_image_store_t *s, const char *ref, kd_error_t *err)
{
  match_kind_t kind;
  cleanup_free char *key = NULL;
  kd_image_t *img = find (s, ref, &kind, &key);
  snapshot_t snap;
  bool delete = true;

  if (img == NULL)
    return error_with_status (err, ENOENT, xasprintf ("No such image: %s", ref));
  snapshot_take (s, &snap);
  if (kind == MATCH_TAG)
    {
      /* Docker's untag: the tag goes; when it was the repository's last
         tag, that repository's digest names go with it. */
      cleanup_free char *repo = xstrndup (key, strrchr (key, ':') - key);
      strv_remove (img->repo_tags, &img->n_repo_tags, key);
      if (!has_tag_in_repo (img, repo))
        drop_repo_digests (img, repo);
    }
  else if (kind == MATCH_DIGEST)
    strv_remove (img->repo_digests, &img->n_repo_digests, key);
  if (kind != MATCH_ID)
    delete = img->n_repo_tags == 0 && img->n_repo_digests == 0;

  if (delete &&img->in_use > 0)
    {
      snapshot_restore (s, &snap);
      return error_with_status (err, EBUSY, xstrdup ("image is in use by a container"));
    }
  if (delete)
    return delete_image (s, img, &snap, err);
  if (kd_store_save_index (s, err) < 0)
    {
      snapshot_restore (s, &snap);
      return -1;
    }
  snapshot_free (&snap);
  return 0;
}

/* ---- using images ----------------------------------------------------------------- */

int
kd_image_store_lowerdirs (kd_image_store_t *s, const kd_image_t *img, char ***dirs, size_t *n,
                          kd_error_t *err)
{
  char **v = xcalloc (img->n_chain_ids + 1, sizeof (char *));

  /* overlayfs takes the top layer first. */
  for (size_t i = 0; i < img->n_chain_ids; i++)
    {
      struct stat st;
      v[i] = kd_store_layer_dir (s, img->chain_ids[img->n_chain_ids - 1 - i]);
      if (stat (v[i], &st) < 0 || !S_ISDIR (st.st_mode))
        {
          int saved = errno ? errno : ENOTDIR;
          kd_make_error (err, saved, "layer directory `%s` of image %s", v[i], img->id);
          strv_free (v, i + 1);
          return -1;
        }
    }
  *dirs = v;
  *n = img->n_chain_ids;
  return 0;
}

void
kd_image_store_touch (kd_image_store_t *s, kd_image_t *img)
{
  kd_error_t err = NULL;
  int64_t now = kd_now_ns ();

  img->last_used_ns = now;
  /* Only the GC order depends on it, at the scale of minutes: the index
     (two fsyncs) is written again only when the stored time is a minute
     old, not on every container start. A failed write is not fatal. */
  if (now - img->last_used_saved_ns < 60 * (int64_t) 1000000000)
    return;
  if (kd_store_save_index (s, &err) < 0)
    kd_error_log_release (&err);
  else
    img->last_used_saved_ns = now;
}

/* ---- garbage collection ------------------------------------------------------- */

static int
statvfs_usage (const char *path, void *data)
{
  struct statvfs st;
  uint64_t used, avail;

  if (statvfs (path, &st) < 0 || st.f_blocks == 0)
    return -1;
  /* As df computes it: used / (used + available to unprivileged users). */
  used = (uint64_t) (st.f_blocks - st.f_bfree);
  avail = (uint64_t) st.f_bavail;
  if (used + avail == 0)
    return 0;
  return (int) ((used * 100 + used + avail - 1) / (used + avail));
}

static int
cmp_last_used (const void *a, const void *b)
{
  const kd_image_t *x = *(kd_image_t *const *) a, *y = *(kd_image_t *const *) b;
  if (x->last_used_ns != y->last_used_ns)
    return x->last_used_ns < y->last_used_ns ? -1 : 1;
  return strcmp (x->id, y->id);
}

int
kd_image_store_gc (kd_image_store_t *s, int high_pct, int low_pct, kd_disk_usage_fn usage_pct_fn,
                   void *data, size_t *removed, kd_error_t *err)
{
  cleanup_free kd_image_t **cand = NULL;
  size_t n = 0;
  int usage;

  if (usage_pct_fn == NULL)
    usage_pct_fn = statvfs_usage;
  *removed = 0;
  usage = usage_pct_fn (s->dir, data);
  if (usage < 0)
    return kd_make_error (err, errno, "disk usage of `%s`", s->dir);
  if (usage < high_pct)
    return 0;

  cand = xcalloc (s->n_images + 1, sizeof (kd_image_t *));
  for (size_t i = 0; i < s->n_images; i++)
    if (s->images[i]->in_use == 0)
      cand[n++] = s->images[i];
  qsort (cand, n, sizeof (kd_image_t *), cmp_last_used);

  for (size_t i = 0; i < n && usage >= low_pct; i++)
    {
      snapshot_t snap;
      snapshot_take (s, &snap);
      if (delete_image (s, cand[i], &snap, err) < 0)
        return -1;
      (*removed)++;
      usage = usage_pct_fn (s->dir, data);
      if (usage < 0)
        return kd_make_error (err, errno, "disk usage of `%s`", s->dir);
    }
  return 0;
}
