/* The image routes of the status API (README "Image API"): list, in-flight
   pulls, pull, import, inspect, history and rmi over the image service.

   Reading is open to whoever may use the socket; changing the store (pull,
   import, rmi) takes a root peer (SO_PEERCRED), since an import reads any
   path of the node and a pull or rmi changes what pods will run. Pull and
   import answer when the work is done: the handler keeps the connection
   and the service calls back. */
#include "daemon-internal.h"
#include "kubeletd/imagesvc.h"

#define IMAGES_PREFIX    "/images/"
#define HISTORY_SUFFIX   "/history"
#define IMAGES_FORBIDDEN "images is forbidden: uid %u may not %s images (root only)"

typedef struct
{
  kd_http_conn_t *conn;
  bool import;
} pending_t;

static void
handle_list (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_image_service_t *svc = data;
  cleanup_free kd_image_t **all = NULL;
  size_t n = kd_image_store_list (kd_image_service_store (svc), &all);
  json_t *a = json_array ();

  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, kd_image_json (all[i], false));
  kd_http_respond_json (conn, 200, a);
}

static void
handle_pulls (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_http_respond_json (conn, 200, kd_image_service_pulls_json (data));
}

/* The answer of a pull or an import: the image, or a Status with the cause. */
static void
on_image_done (void *data, const kd_image_t *img, const char *reason, const char *message)
{
  pending_t *p = data;

  if (img != NULL)
    {
      json_t *o = kd_image_json (img, false);
      json_object_set_new (o, "manifestDigest", json_string (img->manifest_digest));
      /* An import says which name it gave (the image may have others). */
      if (p->import)
        json_object_set_new (o, "name", message ? json_string (message) : json_null ());
      kd_http_respond_json (p->conn, 200, o);
    }
  else if (strcmp (reason, KD_REASON_INVALID_IMAGE_NAME) == 0)
    kd_http_respond_status (p->conn, 400, "BadRequest", "%s", message);
  else
    kd_http_respond_status (p->conn, 500, "InternalError", "%s", message);
  free (p);
}

static void
handle_pull (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  cleanup_free char *ref = kd_http_query_get (req, "ref");
  pending_t *p;

  if (!kd_daemon_require_root (conn, req, IMAGES_FORBIDDEN, (unsigned) req->peer_uid, "pull"))
    return;
  if (ref == NULL || *ref == '\0')
    {
      kd_http_respond_status (conn, 400, "BadRequest", "missing query parameter \"ref\"");
      return;
    }
  p = xcalloc (1, sizeof (*p));
  p->conn = conn;
  kd_image_service_pull (data, ref, on_image_done, p);
}

static void
handle_import (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  cleanup_free char *path = kd_http_query_get (req, "path");
  cleanup_free char *tag = kd_http_query_get (req, "tag");
  pending_t *p;

  if (!kd_daemon_require_root (conn, req, IMAGES_FORBIDDEN, (unsigned) req->peer_uid, "import"))
    return;
  if (path == NULL || path[0] != '/')
    {
      kd_http_respond_status (conn, 400, "BadRequest",
                              "query parameter \"path\" must be an absolute path on the node");
      return;
    }
  if (tag != NULL && *tag != '\0')
    {
      /* A bad tag is refused before the work, not after it. */
      kd_image_ref_t r;
      kd_error_t err = NULL;
      if (kd_image_ref_parse (tag, &r, &err) < 0)
        {
          kd_http_respond_status (conn, 400, "BadRequest", "tag \"%s\": %s", tag, err->msg);
          kd_error_release (&err);
          return;
        }
      kd_image_ref_free (&r);
    }
  p = xcalloc (1, sizeof (*p));
  p->conn = conn;
  p->import = true;
  kd_image_service_import (data, path, tag, on_image_done, p);
}

/* GET /images/<ref> (inspect) and /images/<ref>/history. The path arrives
   percent-decoded, so a reference's slashes are slashes: "/history" is the
   history only when what comes before it is an image. */
static void
handle_get (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  kd_image_service_t *svc = data;
  kd_image_store_t *store = kd_image_service_store (svc);
  const char *ref = req->path + strlen (IMAGES_PREFIX);
  kd_image_t *img;

  if (kd_str_has_suffix (ref, HISTORY_SUFFIX))
    {
      cleanup_free char *base = xstrndup (ref, strlen (ref) - strlen (HISTORY_SUFFIX));
      img = *base ? kd_image_store_lookup (store, base) : NULL;
      if (img != NULL)
        {
          kd_http_respond_json (conn, 200, kd_image_history_json (svc, img));
          return;
        }
    }
  img = *ref ? kd_image_store_lookup (store, ref) : NULL;
  if (img == NULL)
    {
      kd_http_respond_status (conn, 404, "NotFound", "No such image: %s", ref);
      return;
    }
  kd_http_respond_json (conn, 200, kd_image_json (img, true));
}

static void
on_removed (void *data, int status, const char *message, const char *untagged, const char *deleted)
{
  pending_t *p = data;
  json_t *a;

  switch (status)
    {
    case 0:
      /* Docker's DELETE /images answer: what was untagged, what deleted. */
      a = json_array ();
      if (untagged)
        json_array_append_new (a, json_pack ("{s:s}", "Untagged", untagged));
      if (deleted)
        json_array_append_new (a, json_pack ("{s:s}", "Deleted", deleted));
      kd_http_respond_json (p->conn, 200, a);
      break;
    case -ENOENT:
      kd_http_respond_status (p->conn, 404, "NotFound", "%s", message);
      break;
    case -EBUSY:
      kd_http_respond_status (p->conn, 409, "Conflict", "%s", message);
      break;
    default:
      kd_http_respond_status (p->conn, 500, "InternalError", "%s", message);
      break;
    }
  free (p);
}

static void
handle_delete (kd_http_conn_t *conn, const kd_http_request_t *req, void *data)
{
  const char *ref = req->path + strlen (IMAGES_PREFIX);
  pending_t *p;

  if (!kd_daemon_require_root (conn, req, IMAGES_FORBIDDEN, (unsigned) req->peer_uid, "remove"))
    return;
  if (*ref == '\0')
    {
      kd_http_respond_status (conn, 404, "NotFound", "No such image: ");
      return;
    }
  p = xcalloc (1, sizeof (*p));
  p->conn = conn;
  kd_image_service_remove (data, ref, on_removed, p);
}

void
kd_daemon_image_routes_add (kd_server_t *srv, kd_image_service_t *svc)
{
  /* Exact paths first: the first match wins. */
  static const struct
  {
    const char *method;
    const char *path;
    bool prefix;
    kd_http_handler_t fn;
  } routes[] = {
    { "GET", "/images", false, handle_list },
    { "GET", "/images/pulls", false, handle_pulls },
    { "POST", "/images/pull", false, handle_pull },
    { "POST", "/images/import", false, handle_import },
    { "GET", IMAGES_PREFIX, true, handle_get },
    { "DELETE", IMAGES_PREFIX, true, handle_delete },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (routes); i++)
    kd_server_route (srv, routes[i].method, routes[i].path, routes[i].prefix, routes[i].fn, svc);
}
