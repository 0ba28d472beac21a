/* image references: the distribution/reference grammar, Docker's
   normalization and the library's exact error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/image.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX64U "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define HEX32  "0123456789abcdef0123456789abcdef"
#define D      "sha256:" HEX64

static char *
repeat (char c, size_t n, const char *prefix, const char *suffix)
{
  char *s = xcalloc (strlen (prefix) + n + strlen (suffix) + 1, 1);
  strcpy (s, prefix);
  memset (s + strlen (prefix), c, n);
  strcat (s, suffix);
  return s;
}

static void
test_valid_references_normalize (void **state)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "busybox", "docker.io/library/busybox:latest" },
    { "busybox:1.35", "docker.io/library/busybox:1.35" },
    { "busybox:latest", "docker.io/library/busybox:latest" },
    { "library/busybox", "docker.io/library/busybox:latest" },
    { "docker.io/busybox", "docker.io/library/busybox:latest" },
    { "docker.io/library/busybox:1.35", "docker.io/library/busybox:1.35" },
    { "index.docker.io/busybox", "docker.io/library/busybox:latest" },
    { "index.docker.io/foo/bar:v1", "docker.io/foo/bar:v1" },
    { "foo/bar", "docker.io/foo/bar:latest" },
    { "foo/bar/baz", "docker.io/foo/bar/baz:latest" },
    { "my-registry/app", "docker.io/my-registry/app:latest" },
    { "127.0.0.1:5000/busybox:1.35", "127.0.0.1:5000/busybox:1.35" },
    { "192.168.1.1/x", "192.168.1.1/x:latest" },
    { "localhost/foo", "localhost/foo:latest" },
    { "localhost:5000/a/b/c:tag", "localhost:5000/a/b/c:tag" },
    { "quay.io/coreos/etcd:v3.5.0", "quay.io/coreos/etcd:v3.5.0" },
    { "sub.example.com:443/team/app:1.0", "sub.example.com:443/team/app:1.0" },
    { "[::1]:5000/foo:bar", "[::1]:5000/foo:bar" },
    { "a-b__c/f--g:TAG_1.x-y", "docker.io/a-b__c/f--g:TAG_1.x-y" },
    { "a.b-c_d/e", "a.b-c_d/e:latest" },
    { "busybox:_x", "docker.io/library/busybox:_x" },
    { "busybox@" D, "docker.io/library/busybox@" D },
    { "busybox:1.35@" D, "docker.io/library/busybox:1.35@" D },
    { "127.0.0.1:5000/busybox@" D, "127.0.0.1:5000/busybox@" D },
    /* Upper case in a first component makes it a domain. */
    { "Foo/bar", "Foo/bar:latest" },
    /* A single component is always a Docker Hub name, even these. */
    { "localhost:5000", "docker.io/library/localhost:5000" },
    { "docker.io", "docker.io/library/docker.io:latest" },
    { "a", "docker.io/library/a:latest" },
    /* A '.' makes the first component a domain candidate; one that is not
       a valid host name stays part of the path, with no domain. */
    { "foo_bar.com/x", "foo_bar.com/x:latest" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_image_ref_t ref;
      kd_error_t err = NULL;
      cleanup_free char *s = NULL;
      if (kd_image_ref_parse (cases[i].in, &ref, &err) < 0)
        fail_msg ("`%s`: %s", cases[i].in, err->msg);
      s = kd_image_ref_string (&ref);
      if (strcmp (s, cases[i].out) != 0)
        fail_msg ("`%s`: got `%s`, want `%s`", cases[i].in, s, cases[i].out);
      kd_image_ref_free (&ref);
    }
}

static void
test_invalid_references_give_the_library_reason (void **state)
{
  cleanup_free char *long_tag = repeat ('t', 129, "busybox:", "");
  cleanup_free char *long_name = repeat ('a', 248, "", "");
  static const char *lowercase_busybox
      = "invalid reference format: repository name (library/Busybox) must be lowercase";
  const struct
  {
    const char *in, *reason;
  } cases[] = {
    { "", "invalid reference format" },
    { "Busybox", lowercase_busybox },
    { "Busybox:1.35", lowercase_busybox },
    { "docker.io/Foo/bar",
      "invalid reference format: repository name (Foo/bar) must be lowercase" },
    { "example.com/FOO:tag", "invalid reference format: repository name (FOO) must be lowercase" },
    { "FOO_BAR/x", "repository name must be lowercase" },
    { "busybox:", "invalid reference format" },
    { "busybox:-tag", "invalid reference format" },
    { "busybox:.tag", "invalid reference format" },
    { long_tag, "invalid reference format" },
    { "busybox@sha256:abc", "invalid reference format" },
    { "busybox@sha256:" HEX32, "invalid checksum digest length" },
    { "busybox@sha256:" HEX64U, "invalid checksum digest format" },
    { "busybox@sha512:" HEX64 HEX64, "unsupported digest algorithm" },
    { "foo@bar", "invalid reference format" },
    { HEX64, "invalid repository name (" HEX64 "), cannot specify 64-byte hexadecimal strings" },
    { "foo//bar", "invalid reference format" },
    { "foo/bar/", "invalid reference format" },
    { "-foo", "invalid reference format" },
    { "foo-", "invalid reference format" },
    { "foo..bar", "invalid reference format" },
    { "foo._bar", "invalid reference format" },
    { "foo___bar", "invalid reference format" },
    { "foo bar", "invalid reference format" },
    { "foo:bar:baz", "invalid reference format" },
    { "http://example.com/foo", "invalid reference format" },
    { "example.com:port/foo", "invalid reference format" },
    { "example.com:5000:6000/foo", "invalid reference format" },
    { "[::1/foo", "invalid reference format" },
    { long_name, "repository name must not be more than 255 characters" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_image_ref_t ref;
      kd_error_t err = NULL;
      if (kd_image_ref_parse (cases[i].in, &ref, &err) == 0)
        {
          cleanup_free char *s = kd_image_ref_string (&ref);
          fail_msg ("`%s` parsed as `%s`", cases[i].in, s);
        }
      if (strcmp (err->msg, cases[i].reason) != 0)
        fail_msg ("`%s`: got `%s`, want `%s`", cases[i].in, err->msg, cases[i].reason);
      kd_error_release (&err);
    }
}

static void
test_name_length_limit_is_on_the_path (void **state)
{
  /* "library/" + 247 = 255 characters: the longest allowed. */
  cleanup_free char *name = repeat ('a', 247, "", ":v1");
  kd_image_ref_t ref;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_ref_parse (name, &ref, &err), 0);
  assert_int_equal (strlen (ref.path), 255);
  assert_string_equal (ref.tag, "v1");
  kd_image_ref_free (&ref);
}

static void
test_fields_split_domain_path_tag_digest (void **state)
{
  kd_image_ref_t ref;
  kd_error_t err = NULL;
  cleanup_free char *repo = NULL;

  assert_int_equal (kd_image_ref_parse ("127.0.0.1:5000/team/app:1.0@" D, &ref, &err), 0);
  assert_string_equal (ref.domain, "127.0.0.1:5000");
  assert_string_equal (ref.path, "team/app");
  assert_string_equal (ref.tag, "1.0");
  assert_string_equal (ref.digest, D);
  repo = kd_image_ref_repository (&ref);
  assert_string_equal (repo, "127.0.0.1:5000/team/app");
  kd_image_ref_free (&ref);
  assert_null (ref.path);
}

static void
test_latest_only_without_tag_and_digest (void **state)
{
  kd_image_ref_t ref;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_ref_parse ("busybox@" D, &ref, &err), 0);
  assert_null (ref.tag);
  assert_string_equal (ref.digest, D);
  kd_image_ref_free (&ref);

  assert_int_equal (kd_image_ref_parse ("busybox", &ref, &err), 0);
  assert_string_equal (ref.domain, "docker.io");
  assert_string_equal (ref.path, "library/busybox");
  assert_string_equal (ref.tag, "latest");
  assert_null (ref.digest);
  kd_image_ref_free (&ref);
}

static void
test_longest_tag_is_accepted (void **state)
{
  cleanup_free char *tag = repeat ('t', 128, "busybox:", "");
  kd_image_ref_t ref;
  kd_error_t err = NULL;

  assert_int_equal (kd_image_ref_parse (tag, &ref, &err), 0);
  assert_int_equal (strlen (ref.tag), 128);
  kd_image_ref_free (&ref);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_valid_references_normalize),
    cmocka_unit_test (test_invalid_references_give_the_library_reason),
    cmocka_unit_test (test_name_length_limit_is_on_the_path),
    cmocka_unit_test (test_fields_split_domain_path_tag_digest),
    cmocka_unit_test (test_latest_only_without_tag_and_digest),
    cmocka_unit_test (test_longest_tag_is_accepted),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
