/* A pod from JSON for the sandbox tests (decoded, not defaulted). */
#ifndef KD_SANDBOX_TEST_POD_H
#define KD_SANDBOX_TEST_POD_H

#include "kubeletd/api.h"

static kd_pod_t *
test_pod (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  kd_field_errors_t errs = { 0 };
  kd_pod_t *pod = xcalloc (1, sizeof *pod);
  kd_doc_t *doc;

  if (j == NULL)
    {
      fprintf (stderr, "bad test JSON: %s\n", jerr.text);
      abort ();
    }
  doc = kd_node_from_json (j);
  kd_pod_decode (kd_doc_root (doc), pod, &errs);
  if (kd_fe_count_errors (&errs) > 0)
    {
      fprintf (stderr, "test pod: %s\n", errs.v[0].field);
      abort ();
    }
  kd_fe_free (&errs);
  kd_doc_free (doc);
  json_decref (j);
  return pod;
}

#endif
