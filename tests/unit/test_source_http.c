/* source/http: --manifest-url bodies into static pods, and the poll loop
   against a small HTTP server on the same libuv loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/source.h"

#define URL "http://127.0.0.1:1/pods.yaml"

static const char POD_A[] = "apiVersion: v1\n"
                            "kind: Pod\n"
                            "metadata: {name: a}\n"
                            "spec:\n"
                            "  containers: [{name: c, image: busybox}]\n";

static const char *
annotation (const kd_pod_t *pod, const char *key)
{
  for (size_t i = 0; i < pod->metadata.annotations.n; i++)
    if (kd_str_eq (pod->metadata.annotations.v[i].key, key))
      return pod->metadata.annotations.v[i].value;
  return NULL;
}

static void
test_http_body_pod_gets_static_identity_and_http_source (void **state)
{
  kd_pod_t **pods = NULL;
  size_t n = 0;
  kd_error_t err = NULL;

  assert_int_equal (kd_source_http_parse (URL, "node1", POD_A, strlen (POD_A), &pods, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (pods[0]->metadata.name, "a-node1");
  assert_string_equal (pods[0]->metadata.namespace_, "default");
  assert_string_equal (annotation (pods[0], "kubernetes.io/config.source"), "http");
  assert_string_equal (annotation (pods[0], "kubernetes.io/config.hash"), pods[0]->metadata.uid);
  kd_source_pods_free (pods, n);
}

static void
test_http_uid_depends_on_the_url (void **state)
{
  kd_pod_t **a = NULL, **b = NULL;
  size_t na = 0, nb = 0;
  kd_error_t err = NULL;

  assert_int_equal (kd_source_http_parse (URL, "n", POD_A, strlen (POD_A), &a, &na, &err), 0);
  assert_int_equal (
      kd_source_http_parse ("http://127.0.0.1:2/x", "n", POD_A, strlen (POD_A), &b, &nb, &err), 0);
  assert_string_not_equal (a[0]->metadata.uid, b[0]->metadata.uid);
  kd_source_pods_free (a, na);
  kd_source_pods_free (b, nb);
}

static void
test_http_body_list_podlist_and_multi_document (void **state)
{
  static const char list[] = "apiVersion: v1\nkind: List\nitems:\n"
                             "- {apiVersion: v1, kind: Pod, metadata: {name: x}, spec: "
                             "{containers: [{name: c, image: i}]}}\n"
                             "- {apiVersion: v1, kind: Pod, metadata: {name: w}, spec: "
                             "{containers: [{name: c, image: i}]}}\n";
  static const char podlist[]
      = "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"items\":[{\"metadata\":"
        "{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"image\":\"i\"}]}}]}";
  cleanup_free char *multi = xasprintf ("%s---\n%s", POD_A,
                                        "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
                                        "spec: {containers: [{name: c, image: i}]}\n");
  kd_pod_t **pods = NULL;
  size_t n = 0;
  kd_error_t err = NULL;

  if (kd_source_http_parse (URL, "n", list, strlen (list), &pods, &n, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (n, 2);
  assert_string_equal (pods[1]->metadata.name, "w-n");
  kd_source_pods_free (pods, n);
  assert_int_equal (kd_source_http_parse (URL, "n", podlist, strlen (podlist), &pods, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (pods[0]->metadata.name, "p-n");
  kd_source_pods_free (pods, n);
  assert_int_equal (kd_source_http_parse (URL, "n", multi, strlen (multi), &pods, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_string_equal (pods[1]->metadata.name, "b-n");
  kd_source_pods_free (pods, n);
}

static void
test_http_bad_body_is_an_error_and_empty_body_no_pods (void **state)
{
  static const char invalid[] = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {}\n";
  static const char broken[] = "kind: Pod\n  : : [\n";
  kd_pod_t **pods = NULL;
  size_t n = 7;
  kd_error_t err = NULL;

  assert_int_equal (kd_source_http_parse (URL, "n", invalid, strlen (invalid), &pods, &n, &err),
                    -1);
  assert_non_null (strstr (err->msg, "spec.containers"));
  kd_error_release (&err);
  assert_int_equal (kd_source_http_parse (URL, "n", broken, strlen (broken), &pods, &n, &err), -1);
  kd_error_release (&err);
  assert_int_equal (kd_source_http_parse (URL, "n", "", 0, &pods, &n, &err), 0);
  assert_int_equal (n, 0);
  kd_source_pods_free (pods, n);
}

/* ---- a one-route HTTP server on the test's loop ------------------------ */

typedef struct
{
  uv_loop_t loop;
  uv_tcp_t server;
  int port;
  int status;       /* what the next request gets */
  const char *body; /* NULL: close without answering */
  int requests;
  /* what the source reported last */
  int updates;
  size_t n;
  char *first_name;
  char *source;
} srv_t;

typedef struct
{
  uv_tcp_t tcp;
  uv_write_t wr;
  srv_t *srv;
  kd_buf_t in;
  char *out;
} client_t;

static void
client_closed (uv_handle_t *h)
{
  client_t *c = h->data;
  kd_buf_free (&c->in);
  free (c->out);
  free (c);
}

static void
on_written (uv_write_t *w, int status)
{
  client_t *c = w->data;
  uv_close ((uv_handle_t *) &c->tcp, client_closed);
}

static void
on_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  buf->base = xmalloc (suggested);
  buf->len = suggested;
}

static void
on_read (uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  client_t *c = s->data;
  const char *b;
  uv_buf_t ob;

  if (nread > 0)
    kd_buf_append (&c->in, buf->base, (size_t) nread);
  free (buf->base);
  if (nread < 0)
    {
      uv_close ((uv_handle_t *) s, client_closed);
      return;
    }
  if (c->in.s == NULL || strstr (c->in.s, "\r\n\r\n") == NULL)
    return;
  uv_read_stop (s);
  c->srv->requests++;
  b = c->srv->body;
  if (b == NULL)
    {
      uv_close ((uv_handle_t *) s, client_closed);
      return;
    }
  c->out = xasprintf ("HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                      c->srv->status, strlen (b), b);
  ob = uv_buf_init (c->out, (unsigned) strlen (c->out));
  c->wr.data = c;
  uv_write (&c->wr, s, &ob, 1, on_written);
}

static void
on_conn (uv_stream_t *server, int status)
{
  srv_t *srv = server->data;
  client_t *c = xcalloc (1, sizeof (*c));

  c->srv = srv;
  uv_tcp_init (&srv->loop, &c->tcp);
  c->tcp.data = c;
  assert_int_equal (uv_accept (server, (uv_stream_t *) &c->tcp), 0);
  uv_read_start ((uv_stream_t *) &c->tcp, on_alloc, on_read);
}

static void
on_update (const char *source, kd_pod_t *const *pods, size_t n, void *data)
{
  srv_t *srv = data;

  srv->updates++;
  srv->n = n;
  free (srv->first_name);
  srv->first_name = n ? xstrdup (pods[0]->metadata.name) : NULL;
  free (srv->source);
  srv->source = xstrdup (source);
}

/* Runs the loop until `requests` answers were given and the source had
   time to apply the last one. */
static void
run_until (srv_t *srv, kd_source_http_t *src, int requests)
{
  for (int i = 0; i < 2000 && srv->requests < requests; i++)
    {
      if (srv->requests < requests)
        kd_source_http_fetch (src);
      uv_run (&srv->loop, UV_RUN_ONCE);
    }
  assert_int_equal (srv->requests, requests);
  /* the pool job's completion */
  for (int i = 0; i < 50; i++)
    uv_run (&srv->loop, UV_RUN_NOWAIT), usleep (2000);
}

static void
test_http_source_polls_adds_changes_keeps_on_failure_and_removes (void **state)
{
  srv_t srv = { .status = 200 };
  struct sockaddr_in addr;
  int len = sizeof (addr);
  kd_source_http_t *src = NULL;
  kd_error_t err = NULL;
  cleanup_free char *url = NULL;
  static const char pod_b[] = "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
                              "spec: {containers: [{name: c, image: i}]}\n";

  assert_int_equal (uv_loop_init (&srv.loop), 0);
  uv_tcp_init (&srv.loop, &srv.server);
  srv.server.data = &srv;
  uv_ip4_addr ("127.0.0.1", 0, &addr);
  assert_int_equal (uv_tcp_bind (&srv.server, (struct sockaddr *) &addr, 0), 0);
  assert_int_equal (uv_listen ((uv_stream_t *) &srv.server, 16, on_conn), 0);
  uv_tcp_getsockname (&srv.server, (struct sockaddr *) &addr, &len);
  srv.port = ntohs (addr.sin_port);
  url = xasprintf ("http://127.0.0.1:%d/pods", srv.port);

  srv.body = POD_A;
  kd_source_http_opts_t opts = { .url = url, .node_name = "n", .period_ms = 3600 * 1000 };
  assert_int_equal (kd_source_http_new (&srv.loop, &opts, on_update, &srv, &src, &err), 0);
  run_until (&srv, src, 1);
  assert_int_equal (srv.updates, 1);
  assert_int_equal (srv.n, 1);
  assert_string_equal (srv.first_name, "a-n");
  assert_string_equal (srv.source, url);

  /* the same body again: nothing reported */
  run_until (&srv, src, 2);
  assert_int_equal (srv.updates, 1);

  /* a changed body */
  srv.body = pod_b;
  run_until (&srv, src, 3);
  assert_int_equal (srv.updates, 2);
  assert_string_equal (srv.first_name, "b-n");

  /* a 500, a broken body, a dropped connection: the pods stay */
  srv.status = 500;
  run_until (&srv, src, 4);
  srv.status = 200;
  srv.body = "kind: [";
  run_until (&srv, src, 5);
  srv.body = NULL;
  run_until (&srv, src, 6);
  assert_int_equal (srv.updates, 2);

  /* an empty body: the pods go */
  srv.body = "";
  run_until (&srv, src, 7);
  assert_int_equal (srv.updates, 3);
  assert_int_equal (srv.n, 0);

  kd_source_http_close (src);
  uv_close ((uv_handle_t *) &srv.server, NULL);
  uv_run (&srv.loop, UV_RUN_DEFAULT);
  assert_int_equal (uv_loop_close (&srv.loop), 0);
  free (srv.first_name);
  free (srv.source);
}

static void
test_http_source_refuses_other_schemes (void **state)
{
  uv_loop_t loop;
  kd_source_http_t *src = NULL;
  kd_error_t err = NULL;
  kd_source_http_opts_t opts = { .url = "file:///etc/passwd" };

  uv_loop_init (&loop);
  assert_int_equal (kd_source_http_new (&loop, &opts, on_update, NULL, &src, &err), -1);
  assert_non_null (strstr (err->msg, "only http:// and https://"));
  kd_error_release (&err);
  uv_loop_close (&loop);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_http_body_pod_gets_static_identity_and_http_source),
    cmocka_unit_test (test_http_uid_depends_on_the_url),
    cmocka_unit_test (test_http_body_list_podlist_and_multi_document),
    cmocka_unit_test (test_http_bad_body_is_an_error_and_empty_body_no_pods),
    cmocka_unit_test (test_http_source_polls_adds_changes_keeps_on_failure_and_removes),
    cmocka_unit_test (test_http_source_refuses_other_schemes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
