/* The manifest corpus: every file under tests/corpus/valid and
 * tests/corpus/invalid goes through the whole pipeline (read, YAML, decode,
 * defaults, static identity, validation) and what kd_manifest_print writes
 * must equal the file's `.err` twin, byte for byte (no `.err` = no output).
 *
 * The expected messages are Kubernetes' own (validation.go wording, field
 * paths, value rendering), so this test is the contract of the manifest and
 * api modules. Valid pods must also survive kd_pod_to_json -> kd_node_from_json
 * -> kd_pod_decode -> kd_pod_to_json unchanged.
 *
 * Runs with the source directory as cwd (KD_SOURCE_DIR, set by ctest) so the
 * printed paths read `tests/corpus/invalid/<name>`. With KD_CORPUS_UPDATE=1 it
 * rewrites the `.err` files from the actual output instead of comparing (for
 * a reviewed change of wording; check the diff before committing it).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kubeletd/api.h"
#include "kubeletd/manifest.h"

#define CORPUS_MIN_FILES 30
#define CORPUS_NODE      "node1"
#define CORPUS_SEEN_NS   INT64_C (1764478510000000000) /* 2025-11-30T04:55:10Z */

typedef struct
{
  char **v;
  size_t n;
} name_list_t;

static void
name_list_free (name_list_t *l)
{
  size_t i;

  for (i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  l->v = NULL;
  l->n = 0;
}

static int
cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
is_manifest_name (const char *name)
{
  return name[0] != '.'
         && (kd_str_has_suffix (name, ".yaml") || kd_str_has_suffix (name, ".yml")
             || kd_str_has_suffix (name, ".json"));
}

/* The manifests of one corpus folder, as paths relative to the source dir,
   sorted so failures always come out in the same order. */
static void
list_corpus (const char *dir, name_list_t *out)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t cap = 0;

  out->v = NULL;
  out->n = 0;
  if (d == NULL)
    fail_msg ("cannot open `%s` (cwd must be the source dir): %s", dir, strerror (errno));
  while ((de = readdir (d)) != NULL)
    {
      if (!is_manifest_name (de->d_name))
        continue;
      kd_grow ((void **) &out->v, &cap, out->n, sizeof (char *));
      out->v[out->n++] = xasprintf ("%s/%s", dir, de->d_name);
    }
  closedir (d);
  qsort (out->v, out->n, sizeof (char *), cmp_names);
}

/* "dir/name.yaml" -> "dir/name.err" */
static char *
err_path_for (const char *path)
{
  const char *dot = strrchr (path, '.');

  return xasprintf ("%.*s.err", (int) (dot - path), path);
}

static char *
read_text (const char *path, bool *exists)
{
  char *buf = NULL;
  size_t len = 0;
  kd_error_t err = NULL;

  *exists = access (path, F_OK) == 0;
  if (!*exists)
    return xstrdup ("");
  if (kd_read_file (path, 1 << 20, &buf, &len, &err) < 0)
    fail_msg ("read `%s`: %s", path, err->msg);
  return buf;
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");

  if (f == NULL)
    fail_msg ("write `%s`: %s", path, strerror (errno));
  fputs (text, f);
  fclose (f);
}

/* Splits text into lines (without their newlines); the pieces point into a
   copy owned by the caller through *store. */
static size_t
split_lines (const char *text, char ***lines, char **store)
{
  size_t n = 0, cap = 0;
  char *p, *nl;

  *store = xstrdup (text);
  *lines = NULL;
  for (p = *store; *p; p = nl + 1)
    {
      kd_grow ((void **) lines, &cap, n, sizeof (char *));
      (*lines)[n++] = p;
      nl = strchr (p, '\n');
      if (nl == NULL)
        break;
      *nl = '\0';
    }
  return n;
}

/* A unified-diff-like report (longest common subsequence of lines): ' '
   common, '-' expected only, '+' actual only. Enough for the few lines a
   manifest produces. */
static void
print_diff (const char *label, const char *expected, const char *actual)
{
  char **a, **b, *sa, *sb;
  size_t na = split_lines (expected, &a, &sa);
  size_t nb = split_lines (actual, &b, &sb);
  size_t *lcs = xcalloc ((na + 1) * (nb + 1), sizeof (size_t));
  size_t i, j;

#define LCS(i, j) lcs[(i) * (nb + 1) + (j)]
  for (i = na; i-- > 0;)
    for (j = nb; j-- > 0;)
      LCS (i, j) = strcmp (a[i], b[j]) == 0           ? LCS (i + 1, j + 1) + 1
                   : LCS (i + 1, j) >= LCS (i, j + 1) ? LCS (i + 1, j)
                                                      : LCS (i, j + 1);
  fprintf (stderr, "--- %s (expected)\n+++ %s (actual)\n", label, label);
  for (i = 0, j = 0; i < na || j < nb;)
    {
      if (i < na && j < nb && strcmp (a[i], b[j]) == 0)
        {
          fprintf (stderr, " %s\n", a[i]);
          i++, j++;
        }
      else if (j < nb && (i == na || LCS (i, j + 1) >= LCS (i + 1, j)))
        fprintf (stderr, "+%s\n", b[j++]);
      else
        fprintf (stderr, "-%s\n", a[i++]);
    }
#undef LCS
  free (lcs);
  free (a);
  free (b);
  free (sa);
  free (sb);
}

static kd_manifest_t *
load (const char *path)
{
  kd_manifest_opts_t opts
      = { .node_name = CORPUS_NODE, .make_static = true, .seen_ns = CORPUS_SEEN_NS };
  kd_manifest_t *m = NULL;
  kd_error_t err = NULL;

  if (kd_manifest_load_file (path, &opts, &m, &err) < 0)
    {
      fprintf (stderr, "%s: load failed: %s\n", path, err ? err->msg : "(no message)");
      kd_error_release (&err);
      return NULL;
    }
  return m;
}

static char *
print_to_string (const kd_manifest_t *m)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);

  assert_non_null (f);
  kd_manifest_print (m, f);
  fclose (f);
  return text;
}

/* Runs one folder; returns the number of files that did not behave. */
static size_t
check_folder (const char *dir, bool want_ok)
{
  name_list_t files;
  size_t i, failures = 0;
  bool update = getenv ("KD_CORPUS_UPDATE") != NULL;

  list_corpus (dir, &files);
  for (i = 0; i < files.n; i++)
    {
      const char *path = files.v[i];
      cleanup_free char *err_path = err_path_for (path);
      cleanup_free char *expected = NULL;
      cleanup_free char *actual = NULL;
      bool has_err_file;
      kd_manifest_t *m = load (path);

      if (m == NULL)
        {
          failures++;
          continue;
        }
      expected = read_text (err_path, &has_err_file);
      actual = print_to_string (m);
      if (update)
        {
          if (actual[0] || has_err_file)
            write_text (err_path, actual);
          if (!actual[0] && has_err_file)
            unlink (err_path);
        }
      else if (strcmp (expected, actual) != 0)
        {
          print_diff (path, expected, actual);
          failures++;
        }
      if (kd_manifest_ok (m) != want_ok)
        {
          fprintf (stderr, "%s: kd_manifest_ok is %s, expected %s\n", path,
                   want_ok ? "false" : "true", want_ok ? "true" : "false");
          failures++;
        }
      kd_manifest_free (m);
    }
  name_list_free (&files);
  return failures;
}

static void
test_valid_manifests_print_only_their_warnings (void **state)
{
  (void) state;
  assert_int_equal (check_folder ("tests/corpus/valid", true), 0);
}

static void
test_invalid_manifests_print_the_expected_errors (void **state)
{
  (void) state;
  assert_int_equal (check_folder ("tests/corpus/invalid", false), 0);
}

static bool
round_trip_pod (const char *path, size_t idx, const kd_pod_t *pod)
{
  json_t *first = kd_pod_to_json (pod);
  kd_doc_t *doc = kd_node_from_json (first);
  kd_pod_t *again = xcalloc (1, sizeof (kd_pod_t));
  kd_field_errors_t errs = { 0 };
  json_t *second;
  bool ok = true;

  kd_pod_decode (kd_doc_root (doc), again, &errs);
  if (errs.n > 0)
    {
      size_t k;

      fprintf (stderr, "%s: pod %zu: decoding its own JSON reported:\n", path, idx);
      for (k = 0; k < errs.n; k++)
        {
          cleanup_free char *line = kd_fe_format (&errs.v[k], NULL);

          fprintf (stderr, "  %s\n", line);
        }
      ok = false;
    }
  second = kd_pod_to_json (again);
  if (!json_equal (first, second))
    {
      cleanup_free char *a = json_dumps (first, JSON_INDENT (1) | JSON_PRESERVE_ORDER);
      cleanup_free char *b = json_dumps (second, JSON_INDENT (1) | JSON_PRESERVE_ORDER);

      fprintf (stderr, "%s: pod %zu does not survive a JSON round trip\n", path, idx);
      print_diff (path, a, b);
      ok = false;
    }
  json_decref (first);
  json_decref (second);
  kd_fe_free (&errs);
  kd_pod_free (again);
  kd_doc_free (doc);
  return ok;
}

static void
test_valid_pods_survive_a_json_round_trip (void **state)
{
  name_list_t files;
  size_t i, j, failures = 0, pods = 0;

  (void) state;
  list_corpus ("tests/corpus/valid", &files);
  for (i = 0; i < files.n; i++)
    {
      kd_manifest_t *m = load (files.v[i]);

      if (m == NULL)
        {
          failures++;
          continue;
        }
      for (j = 0; j < m->n_pods; j++)
        {
          if (m->pods[j].pod == NULL)
            continue;
          pods++;
          if (!round_trip_pod (files.v[i], j, m->pods[j].pod))
            failures++;
        }
      kd_manifest_free (m);
    }
  name_list_free (&files);
  assert_true (pods >= files.n);
  assert_int_equal (failures, 0);
}

/* The corpus may grow but never shrink unnoticed. */
static void
test_corpus_keeps_at_least_thirty_of_each (void **state)
{
  name_list_t valid, invalid;

  (void) state;
  list_corpus ("tests/corpus/valid", &valid);
  list_corpus ("tests/corpus/invalid", &invalid);
  assert_true (valid.n >= CORPUS_MIN_FILES);
  assert_true (invalid.n >= CORPUS_MIN_FILES);
  name_list_free (&valid);
  name_list_free (&invalid);
}

static int
enter_source_dir (void **state)
{
  const char *src = getenv ("KD_SOURCE_DIR");

  (void) state;
  if (src && chdir (src) < 0)
    {
      fprintf (stderr, "chdir `%s`: %s\n", src, strerror (errno));
      return -1;
    }
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_corpus_keeps_at_least_thirty_of_each),
    cmocka_unit_test (test_valid_manifests_print_only_their_warnings),
    cmocka_unit_test (test_invalid_manifests_print_the_expected_errors),
    cmocka_unit_test (test_valid_pods_survive_a_json_round_trip),
  };

  return cmocka_run_group_tests (tests, enter_source_dir, NULL);
}
