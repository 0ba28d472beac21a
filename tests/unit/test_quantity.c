/* api/quantity: resource.ParseQuantity, String/MarshalJSON, Cmp, RoundUp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kubeletd/api.h"

typedef struct
{
  const char *in;
  const char *out; /* what Kubernetes prints; NULL = rejected */
  kd_quantity_format_t fmt;
} qcase_t;

#define DSI KD_QFMT_DECIMAL_SI
#define BSI KD_QFMT_BINARY_SI
#define DEX KD_QFMT_DECIMAL_EXPONENT

static const qcase_t cases[] = {
  /* plain numbers and the decimal SI suffixes */
  { "0", "0", DSI },
  { "1", "1", DSI },
  { "100m", "100m", DSI },
  { "1000m", "1", DSI },
  { "0.5", "500m", DSI },
  { "0.1", "100m", DSI },
  { ".5", "500m", DSI },
  { "1.5", "1500m", DSI },
  { "1.0", "1", DSI },
  { "0.001", "1m", DSI },
  { "1000", "1k", DSI },
  { "1024", "1024", DSI },
  { "1000M", "1G", DSI },
  { "1000000k", "1G", DSI },
  { "5.444T", "5.444T", DSI },
  { "5.4T", "5400G", DSI },
  { "2.5P", "2500T", DSI },
  { "100E", "100E", DSI },
  { "100u", "100u", DSI },
  { "1000u", "1m", DSI },
  { "1n", "1n", DSI },
  /* sub-nano values round up to 1n (not to 1m: that is RoundUp(Milli)) */
  { "0.1m", "100u", DSI },
  { "0.0001", "100u", DSI },
  { "0.5n", "1n", DSI },
  { "0.000000000000001", "1n", DSI },
  /* Go keeps input that already looks canonical, verbatim */
  { "1.500", "1.500", DSI },
  { "1.441", "1.441", DSI },
  { "+1", "+1", DSI },
  { "01", "01", DSI },
  { "5.", "5.", DSI },
  { "1.G", "1.G", DSI },
  /* signs */
  { "-1", "-1", DSI },
  { "-0", "0", DSI },
  { "-1.5", "-1500m", DSI },
  { "-0.1m", "-100u", DSI },
  /* oddities Go accepts as zero */
  { ".", "0", DSI },
  { "-", "0", DSI },
  { "Mi", "0", BSI },
  { "m", "0", DSI },
  { ".Ki", "0", BSI },
  /* binary SI */
  { "1Ki", "1Ki", BSI },
  { "8Ki", "8Ki", BSI },
  { "1024Mi", "1Gi", BSI },
  { "2049Ki", "2049Ki", BSI },
  { "1.5Gi", "1536Mi", BSI },
  { "1.5Mi", "1536Ki", BSI },
  { "0.5Mi", "512Ki", BSI },
  { "0.5Ki", "512", BSI },
  { "1.5Ki", "1536", BSI },
  { "1.0Ki", "1Ki", BSI },
  { "0Gi", "0", BSI },
  { "-1Ki", "-1Ki", BSI },
  { "-9.5Gi", "-9728Mi", BSI },
  { "-9.5000000001Gi", "-10200547328107374183n", BSI },
  /* binary values cap at 2^63-1 */
  { "8Ei", "9223372036854775807", BSI },
  { "9Ei", "9223372036854775807", BSI },
  { "-20Ei", "-9223372036854775807", BSI },
  /* binary values below one become decimal */
  { "0.0000000001Ki", "103n", DSI },
  /* decimal exponent */
  { "1e3", "1e3", DEX },
  { "1E3", "1E3", DEX },
  { "10e2", "1e3", DEX },
  { "1.5e3", "1500", DEX },
  { "1e+3", "1e+3", DEX },
  { "12e-3", "12e-3", DEX },
  { "100e98", "10e99", DEX },
  { "1E-3", "1E-3", DEX },
  /* beyond int64 and the largest suffix (Go prints the number alone) */
  { "9223372036854775807", "9223372036854775807", DSI },
  { "18446744073709551616", "18446744073709551616", DSI },
  { "1000E", "1", DSI },
  /* rejected */
  { "", NULL, DSI },
  { "1.2.3", NULL, DSI },
  { "12Mx", NULL, DSI },
  { "1e", NULL, DSI },
  { "1e-", NULL, DSI },
  { "-3.01e-", NULL, DSI },
  { " 1", NULL, DSI },
  { "1 ", NULL, DSI },
  { "1i", NULL, DSI },
  { ".5i", NULL, DSI },
  { "-3.01i", NULL, DSI },
  { "0.1mi", NULL, DSI },
  { "0.1am", NULL, DSI },
  { "1.1.M", NULL, DSI },
  { "1+1.0M", NULL, DSI },
  { "aoeu", NULL, DSI },
  { "1K", NULL, DSI },
  { "1ki", NULL, DSI },
  { "1KiB", NULL, DSI },
  { "1e3k", NULL, DSI },
  { "1e1.5", NULL, DSI },
  { "--1", NULL, DSI },
  { "0x10", NULL, DSI },
  { "e-10", NULL, DSI },
  { "1e99999999999999999999", NULL, DSI },
};

static void
test_quantity_table_parses_and_prints_like_kubernetes (void **state)
{
  size_t valid = 0, invalid = 0;

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_quantity_t q;
      int r = kd_quantity_parse (cases[i].in, &q);

      if (cases[i].out == NULL)
        {
          if (r != -1)
            fail_msg ("`%s` parsed but must be rejected", cases[i].in);
          invalid++;
          continue;
        }
      if (r != 0)
        fail_msg ("`%s` rejected", cases[i].in);
      {
        cleanup_free char *out = kd_quantity_canonical (&q);
        if (strcmp (out, cases[i].out) != 0)
          fail_msg ("`%s`: got `%s`, want `%s`", cases[i].in, out, cases[i].out);
        if (q.format != cases[i].fmt)
          fail_msg ("`%s`: format %d, want %d", cases[i].in, q.format, cases[i].fmt);
      }
      valid++;
    }
  assert_true (valid >= 40);
  assert_true (invalid >= 20);
}

static void
test_quantity_canonical_output_parses_to_itself (void **state)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      kd_quantity_t q, again;
      cleanup_free char *out = NULL;
      cleanup_free char *out2 = NULL;

      if (cases[i].out == NULL || strcmp (cases[i].in, "1000E") == 0)
        continue; /* Go's "1000E" -> "1" loses the suffix; not a round trip */
      assert_int_equal (kd_quantity_parse (cases[i].in, &q), 0);
      out = kd_quantity_canonical (&q);
      assert_int_equal (kd_quantity_parse (out, &again), 0);
      out2 = kd_quantity_canonical (&again);
      assert_string_equal (out, out2);
      assert_int_equal (kd_quantity_cmp (&q, &again), 0);
    }
}

static void
test_quantity_milli_and_value_round_up (void **state)
{
  static const struct
  {
    const char *in;
    int64_t milli;
    int64_t value;
    bool overflow;
  } t[] = {
    { "0", 0, 0, false },
    { "1", 1000, 1, false },
    { "100m", 100, 1, false },
    { "0.5", 500, 1, false },
    { "1.5Gi", 1610612736000LL, 1610612736LL, false },
    { "128Mi", 134217728000LL, 134217728LL, false },
    { "0.1m", 1, 1, false },
    { "1n", 1, 1, false },
    { "-1", -1000, -1, false },
    { "-0.1m", -1, -1, false },
    { "1e3", 1000000, 1000, false },
    { "9223372036854775", 9223372036854775000LL, 9223372036854775LL, false },
    { "9223372036854776", INT64_MAX, 9223372036854776LL, true },
    { "8Ei", INT64_MAX, INT64_MAX, true },
    { "1000E", INT64_MAX, INT64_MAX, true },
    { "-1000E", INT64_MIN, INT64_MIN, true },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (t); i++)
    {
      kd_quantity_t q;
      assert_int_equal (kd_quantity_parse (t[i].in, &q), 0);
      if (q.milli != t[i].milli || q.value != t[i].value || q.overflow != t[i].overflow)
        fail_msg ("`%s`: milli %lld value %lld overflow %d", t[i].in, (long long) q.milli,
                  (long long) q.value, q.overflow);
    }
}

static void
test_quantity_cmp_compares_exact_values (void **state)
{
  static const struct
  {
    const char *a, *b;
    int want;
  } t[] = {
    { "1", "1000m", 0 }, { "1Ki", "1024", 0 },   { "1G", "1Gi", -1 },
    { "-1", "0", -1 },   { "1e3", "1k", 0 },     { "100u", "1m", -1 },
    { "2", "1999m", 1 }, { "-2", "-1999m", -1 }, { "1E", "1000P", 0 },
    { "0", "-0", 0 },    { "1n", "0", 1 },       { "18446744073709551616", "16Ei", 1 },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (t); i++)
    {
      kd_quantity_t a, b;
      assert_int_equal (kd_quantity_parse (t[i].a, &a), 0);
      assert_int_equal (kd_quantity_parse (t[i].b, &b), 0);
      if (kd_quantity_cmp (&a, &b) != t[i].want || kd_quantity_cmp (&b, &a) != -t[i].want)
        fail_msg ("cmp `%s` `%s` != %d", t[i].a, t[i].b, t[i].want);
    }
}

static void
test_quantity_round_up_milli_like_resource_list_defaults (void **state)
{
  static const struct
  {
    const char *in, *out;
  } t[] = {
    { "100u", "1m" },   { "1n", "1m" },        { "0.0001", "1m" }, { "1.0000m", "1m" },
    { "0.5n", "1m" },   { "1.1234", "1124m" }, { "1.5", "1500m" }, { "1.500", "1.500" },
    { "100m", "100m" }, { "1Gi", "1Gi" },      { "+1", "+1" },     { "-0.1m", "-1m" },
    { "1000m", "1" },   { "0.5Ki", "512" },    { "1e-4", "1e-3" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (t); i++)
    {
      kd_quantity_t q;
      cleanup_free char *out = NULL;

      assert_int_equal (kd_quantity_parse (t[i].in, &q), 0);
      kd_quantity_round_up_milli (&q);
      out = kd_quantity_canonical (&q);
      if (strcmp (out, t[i].out) != 0)
        fail_msg ("round `%s`: got `%s`, want `%s`", t[i].in, out, t[i].out);
      /* rounding twice changes nothing */
      kd_quantity_round_up_milli (&q);
      {
        cleanup_free char *out2 = kd_quantity_canonical (&q);
        assert_string_equal (out, out2);
      }
    }
}

static void
test_quantity_failed_parse_leaves_zero (void **state)
{
  kd_quantity_t q;

  assert_int_equal (kd_quantity_parse ("12Mx", &q), -1);
  assert_int_equal (q.milli, 0);
  assert_false (q.cached);
  assert_int_equal (kd_quantity_parse (NULL, &q), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_quantity_table_parses_and_prints_like_kubernetes),
    cmocka_unit_test (test_quantity_canonical_output_parses_to_itself),
    cmocka_unit_test (test_quantity_milli_and_value_round_up),
    cmocka_unit_test (test_quantity_cmp_compares_exact_values),
    cmocka_unit_test (test_quantity_round_up_milli_like_resource_list_defaults),
    cmocka_unit_test (test_quantity_failed_parse_leaves_zero),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
