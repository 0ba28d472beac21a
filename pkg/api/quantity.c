/* Quantities as k8s.io/apimachinery/pkg/api/resource parses and prints them.

   Go keeps a quantity either as an int64Amount (an int64 and a base-10
   scale: the "fast path") or as an arbitrary-precision inf.Dec.  This file
   keeps both as one exact value, an unsigned 128-bit mantissa and a base-10
   exponent, and reproduces which path Go takes, because the path decides
   three visible things:
     - whether the input text is kept and printed verbatim ("1.500" stays
       "1.500", "+1" stays "+1", "01" stays "01");
     - rounding: the slow path rounds up (away from zero) to 1n and caps
       binary-suffixed values at 2^63-1;
     - RoundUp(Milli) keeps an int64Amount whose scale is already >= -3.

   Not reproduced (documented limits):
     - values that need more than 38 significant decimal digits after the
       1n rounding (Go accepts any length) are rejected;
     - binary-suffixed values whose mantissa times 2^k exceeds 128 bits are
       rejected unless they are certainly above the 2^63-1 cap (more than ~20
       significant digits with a fraction);
     - Go's int32 wrap-around of scales within a few dozen of +-2^31;
     - inputs kept verbatim by Go but longer than 63 bytes (possible only
       with long runs of leading zeros) are printed in canonical form;
     - ScaledValue on Go's slow path rounds negative values toward +inf in
       some cases; here milli and value always round away from zero. */

#include <limits.h>

#include "kubeletd/api.h"

typedef unsigned __int128 u128;

/* maxInt64Factors in math.go: the most decimal digits the fast path takes. */
#define MAX_INT64_FACTORS 18
#define NANO_SCALE        (-9)
#define MAX_DIGITS        38

static u128
pow10_u128 (int n)
{
  u128 r = 1;
  while (n-- > 0)
    r *= 10;
  return r;
}

/* Multiplies v by 10^n; returns false on overflow. */
static bool
mul_pow10 (u128 v, int64_t n, u128 *out)
{
  if (v == 0)
    {
      *out = 0;
      return true;
    }
  if (n > MAX_DIGITS)
    return false;
  for (int64_t i = 0; i < n; i++)
    if (__builtin_mul_overflow (v, (u128) 10, &v))
      return false;
  *out = v;
  return true;
}

/* Divides v by 10^n rounding the magnitude up; n >= 0. */
static u128
div_pow10_up (u128 v, int64_t n)
{
  u128 d, q;

  if (v == 0 || n == 0)
    return v;
  if (n > MAX_DIGITS)
    return 1;
  d = pow10_u128 ((int) n);
  q = v / d;
  return v % d != 0 ? q + 1 : q;
}

static size_t
u128_to_dec (u128 v, char *buf)
{
  char tmp[48];
  size_t n = 0, i;

  do
    {
      tmp[n++] = (char) ('0' + (int) (v % 10));
      v /= 10;
    }
  while (v != 0);
  for (i = 0; i < n; i++)
    buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

/* ---- the scanner (parseQuantityString) ---------------------------------- */

typedef struct
{
  bool positive;
  const char *num; /* integer digits without leading zeros, or "0" */
  size_t num_len;
  const char *denom; /* fraction digits as written */
  size_t denom_len;
  const char *suffix;
  size_t suffix_len;
  bool value_has_digits; /* the numeric text has at least one digit */
} scan_t;

static bool
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

static int
scan_quantity (const char *str, size_t end, scan_t *sc)
{
  size_t pos = 0, i, int_start;

  memset (sc, 0, sizeof (*sc));
  sc->positive = true;
  sc->suffix = "";
  if (pos < end && (str[0] == '-' || str[0] == '+'))
    {
      sc->positive = str[0] == '+';
      pos++;
    }
  int_start = pos;
  while (pos < end && str[pos] == '0')
    pos++;
  if (pos >= end)
    {
      /* only a sign and zeros (or nothing): Go returns "0" right away */
      sc->num = "0";
      sc->num_len = 1;
      sc->value_has_digits = true;
      return 0;
    }
  for (i = pos; i < end && is_digit (str[i]); i++)
    ;
  sc->num = str + pos;
  sc->num_len = i - pos;
  sc->value_has_digits = i > int_start;
  pos = i;
  if (sc->num_len == 0)
    {
      sc->num = "0";
      sc->num_len = 1;
    }
  if (pos < end && str[pos] == '.')
    {
      pos++;
      for (i = pos; i < end && is_digit (str[i]); i++)
        ;
      sc->denom = str + pos;
      sc->denom_len = i - pos;
      sc->value_has_digits |= i > pos;
      pos = i;
    }
  if (pos >= end)
    return 0;

  sc->suffix = str + pos;
  for (i = pos; i < end && strchr ("eEinumkKMGTP", str[i]) != NULL; i++)
    ;
  if (i < end && (str[i] == '-' || str[i] == '+'))
    i++;
  for (; i < end; i++)
    if (!is_digit (str[i]))
      return -1; /* ErrFormatWrong */
  sc->suffix_len = end - pos;
  return 0;
}

/* ---- suffixes (suffix.go) ----------------------------------------------- */

typedef struct
{
  const char *s;
  int exp;
} suffix_t;

static const suffix_t decimal_suffixes[] = {
  { "n", -9 }, { "u", -6 }, { "m", -3 }, { "", 0 },   { "k", 3 },
  { "M", 6 },  { "G", 9 },  { "T", 12 }, { "P", 15 }, { "E", 18 },
};

static const suffix_t binary_suffixes[] = {
  { "Ki", 10 }, { "Mi", 20 }, { "Gi", 30 }, { "Ti", 40 }, { "Pi", 50 }, { "Ei", 60 },
};

/* Go's strconv.ParseInt(s, 10, 64) for the exponent digits. */
static bool
parse_go_int64 (const char *s, size_t n, int64_t *out)
{
  bool neg = false;
  uint64_t v = 0, limit;
  size_t i = 0;

  if (n > 0 && (s[0] == '+' || s[0] == '-'))
    {
      neg = s[0] == '-';
      i = 1;
    }
  if (i >= n)
    return false;
  limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
  for (; i < n; i++)
    {
      if (!is_digit (s[i]))
        return false;
      if (v > (limit - (uint64_t) (s[i] - '0')) / 10)
        return false;
      v = v * 10 + (uint64_t) (s[i] - '0');
    }
  *out = neg ? (int64_t) (0 - v) : (int64_t) v;
  return true;
}

/* suffixHandler.interpret: base (10 or 2), exponent and format. */
static bool
interpret_suffix (const char *s, size_t n, int *base, int32_t *exp, kd_quantity_format_t *fmt)
{
  int64_t parsed;

  for (size_t i = 0; i < KD_ARRAY_SIZE (decimal_suffixes); i++)
    if (strlen (decimal_suffixes[i].s) == n && memcmp (decimal_suffixes[i].s, s, n) == 0)
      {
        *base = 10;
        *exp = decimal_suffixes[i].exp;
        *fmt = KD_QFMT_DECIMAL_SI;
        return true;
      }
  for (size_t i = 0; i < KD_ARRAY_SIZE (binary_suffixes); i++)
    if (strlen (binary_suffixes[i].s) == n && memcmp (binary_suffixes[i].s, s, n) == 0)
      {
        *base = 2;
        *exp = binary_suffixes[i].exp;
        *fmt = KD_QFMT_BINARY_SI;
        return true;
      }
  if (n > 1 && (s[0] == 'e' || s[0] == 'E') && parse_go_int64 (s + 1, n - 1, &parsed))
    {
      *base = 10;
      *exp = (int32_t) (uint32_t) (uint64_t) parsed; /* Go's int32(parsed) */
      *fmt = KD_QFMT_DECIMAL_EXPONENT;
      return true;
    }
  return false;
}

/* ---- milli and value ---------------------------------------------------- */

/* ceil(|x| / 10^scale) with the sign put back, saturated at the int64
   rails; returns false when saturated. */
static bool
scaled_value (const kd_quantity_t *q, int64_t scale, int64_t *out)
{
  int64_t shift = q->exponent - scale;
  u128 mag;
  u128 limit = q->negative ? (u128) INT64_MAX + 1 : (u128) INT64_MAX;

  if (q->mantissa == 0)
    {
      *out = 0;
      return true;
    }
  if (shift >= 0)
    {
      if (!mul_pow10 (q->mantissa, shift, &mag))
        mag = limit + 1;
    }
  else
    mag = div_pow10_up (q->mantissa, -shift);
  if (mag > limit)
    {
      *out = q->negative ? INT64_MIN : INT64_MAX;
      return false;
    }
  *out = q->negative ? (int64_t) (0 - (uint64_t) mag) : (int64_t) mag;
  return true;
}

static void
fill_derived (kd_quantity_t *q)
{
  if (q->mantissa == 0)
    q->negative = false;
  q->overflow = !scaled_value (q, -3, &q->milli);
  scaled_value (q, 0, &q->value);
}

/* ---- ParseQuantity ------------------------------------------------------ */

static void
keep_text (kd_quantity_t *q, const char *s, size_t n)
{
  if (n < sizeof (q->text))
    {
      memcpy (q->text, s, n);
      q->text[n] = '\0';
      q->cached = true;
    }
}

/* The fast path; returns 1 when it applied, 0 to fall through. */
static int
parse_fast (const char *s, size_t len, const scan_t *sc, int32_t exponent, kd_quantity_format_t fmt,
            kd_quantity_t *q)
{
  int32_t precision, scale = 0;
  uint64_t value = 0, mantissa = 1;
  char shifted[MAX_INT64_FACTORS + 2];
  size_t n = sc->num_len + sc->denom_len;

  if (fmt == KD_QFMT_BINARY_SI)
    {
      if (sc->denom_len != 0)
        return 0;
      mantissa = (uint64_t) 1 << exponent;
      precision = 15 - (int32_t) sc->num_len - exponent * 3 / 10 - 1;
    }
  else
    {
      scale = exponent;
      precision = MAX_INT64_FACTORS - (int32_t) n;
    }
  if (precision < 0)
    return 0;
  scale = (int32_t) ((uint32_t) scale - (uint32_t) sc->denom_len);
  if (scale < NANO_SCALE)
    return 0;

  /* precision >= 0 bounds the digits to 18, so the int64 parse cannot fail */
  memcpy (shifted, sc->num, sc->num_len);
  if (sc->denom_len)
    memcpy (shifted + sc->num_len, sc->denom, sc->denom_len);
  shifted[n] = '\0';
  for (size_t i = 0; i < n; i++)
    value = value * 10 + (uint64_t) (shifted[i] - '0');
  if (value != 0 && mantissa != 1 && value > (uint64_t) INT64_MAX / mantissa)
    return 0; /* int64Multiply overflows: slow path */

  q->negative = !sc->positive;
  q->mantissa = (u128) (value * mantissa);
  q->exponent = scale;
  q->format = fmt;
  q->int64_amount = true;
  if (fmt == KD_QFMT_BINARY_SI)
    {
      if (exponent % 10 == 0 && (value & 0x07) != 0)
        keep_text (q, s, len);
    }
  else if (scale % 3 == 0 && !(n >= 3 && memcmp (shifted + n - 3, "000", 3) == 0)
           && shifted[0] != '0')
    keep_text (q, s, len);
  return 1;
}

/* The inf.Dec path: exact digits, 1n round-up, the binary cap. */
static int
parse_slow (const scan_t *sc, int base, int32_t exponent, kd_quantity_format_t fmt,
            kd_quantity_t *q)
{
  char digits[4096];
  const char *all;
  size_t n = 0, lead = 0, keep;
  int64_t e10 = -(int64_t) sc->denom_len;
  u128 m = 0;
  bool sticky = false;
  cleanup_free char *big = NULL;

  /* inf.Dec.SetString needs at least one digit ("." or "e-10" have none) */
  if (!sc->value_has_digits)
    return -1;

  n = sc->num_len + sc->denom_len;
  if (n + 1 > sizeof (digits))
    big = xmalloc (n + 1);
  {
    char *d = big ? big : digits;
    memcpy (d, sc->num, sc->num_len);
    if (sc->denom_len)
      memcpy (d + sc->num_len, sc->denom, sc->denom_len);
    d[n] = '\0';
    all = d;
  }
  while (lead < n && all[lead] == '0')
    lead++;
  all += lead;
  n -= lead;
  while (n > 0 && all[n - 1] == '0')
    {
      n--;
      e10++;
    }
  if (base == 10)
    e10 += exponent;

  if (n == 0)
    m = 0;
  else if (base == 10)
    {
      keep = n;
      if (e10 < NANO_SCALE)
        {
          /* round up to 1n now, so the digits below 1n never count */
          int64_t drop = NANO_SCALE - e10;
          keep = (int64_t) n > drop ? n - (size_t) drop : 0;
          for (size_t i = keep; i < n; i++)
            sticky |= all[i] != '0';
          e10 = NANO_SCALE;
        }
      if (keep > MAX_DIGITS)
        return -1;
      for (size_t i = 0; i < keep; i++)
        m = m * 10 + (u128) (all[i] - '0');
      if (sticky)
        m++;
    }
  else
    {
      bool over = n > MAX_DIGITS;
      u128 shifted;

      for (size_t i = 0; !over && i < n; i++)
        m = m * 10 + (u128) (all[i] - '0');
      if (!over && __builtin_mul_overflow (m, (u128) 1 << exponent, &shifted))
        over = true;
      if (over)
        {
          /* Past 128 bits the value is only known to exceed the cap when
             its integer part has 20 digits or more. */
          if ((int64_t) n + e10 < 20)
            return -1;
          m = (u128) INT64_MAX;
          e10 = 0;
        }
      else
        m = shifted;
    }

  if (m != 0 && e10 < NANO_SCALE)
    {
      m = div_pow10_up (m, NANO_SCALE - e10);
      e10 = NANO_SCALE;
    }
  q->mantissa = m;
  q->exponent = e10;
  q->negative = !sc->positive;
  if (fmt == KD_QFMT_BINARY_SI && m != 0)
    {
      u128 whole;
      /* value > 2^63-1: with a negative exponent compare m against
         (2^63-1) * 10^-e10, which is beyond any m when it overflows */
      bool above = e10 >= 0 ? !mul_pow10 (m, e10, &whole) || whole > (u128) INT64_MAX
                            : mul_pow10 ((u128) INT64_MAX, -e10, &whole) && m > whole;
      bool below_one = e10 < 0 && (-e10 > MAX_DIGITS || m < pow10_u128 ((int) -e10));

      if (above)
        {
          q->mantissa = (u128) INT64_MAX;
          q->exponent = 0;
        }
      else if (below_one)
        fmt = KD_QFMT_DECIMAL_SI;
    }
  q->format = fmt;
  q->int64_amount = false;
  return 0;
}

int
kd_quantity_parse (const char *s, kd_quantity_t *q)
{
  scan_t sc;
  int base;
  int32_t exponent;
  kd_quantity_format_t fmt;
  size_t len;

  memset (q, 0, sizeof (*q));
  if (s == NULL || *s == '\0')
    return -1;
  len = strlen (s);
  if (strcmp (s, "0") == 0)
    {
      q->format = KD_QFMT_DECIMAL_SI;
      q->int64_amount = true;
      keep_text (q, s, len);
      return 0;
    }
  if (scan_quantity (s, len, &sc) < 0)
    return -1;
  if (!interpret_suffix (sc.suffix, sc.suffix_len, &base, &exponent, &fmt))
    return -1;
  if (parse_fast (s, len, &sc, exponent, fmt, q) == 0
      && parse_slow (&sc, base, exponent, fmt, q) < 0)
    {
      memset (q, 0, sizeof (*q));
      return -1;
    }
  fill_derived (q);
  return 0;
}

/* ---- CanonicalizeBytes -------------------------------------------------- */

static const char *
decimal_suffix_for (int64_t exp)
{
  for (size_t i = 0; i < KD_ARRAY_SIZE (decimal_suffixes); i++)
    if (decimal_suffixes[i].exp == exp)
      return decimal_suffixes[i].s;
  /* Go's constructBytes finds no suffix above E (10^18) and prints the
     number alone: "1000E" comes out as "1". Kept as Kubernetes does it. */
  return "";
}

static char *
canonical_decimal (const kd_quantity_t *q, kd_quantity_format_t fmt)
{
  u128 m = q->mantissa;
  int64_t e = q->exponent;
  int zeros = 0;
  char num[48];
  kd_buf_t b = { 0 };

  while (m % 10 == 0)
    {
      m /= 10;
      e++;
    }
  /* make the exponent a multiple of 3, as Go's switch on exponent % 3 */
  switch (e % 3)
    {
    case 1:
    case -2:
      zeros = 1;
      break;
    case 2:
    case -1:
      zeros = 2;
      break;
    default:
      break;
    }
  e -= zeros;
  u128_to_dec (m, num);
  if (q->negative)
    kd_buf_putc (&b, '-');
  kd_buf_puts (&b, num);
  for (int i = 0; i < zeros; i++)
    kd_buf_putc (&b, '0');
  if (fmt == KD_QFMT_DECIMAL_SI)
    kd_buf_puts (&b, decimal_suffix_for (e));
  else if (e != 0)
    kd_buf_printf (&b, "e%lld", (long long) e);
  return kd_buf_steal (&b);
}

static char *
canonical_binary (const kd_quantity_t *q)
{
  u128 v, d;
  int k = 0;
  char num[48];

  /* |x| < 1024 prints as DecimalSI */
  if (q->exponent >= 0)
    {
      if (!mul_pow10 (q->mantissa, q->exponent, &v))
        return canonical_decimal (q, KD_QFMT_DECIMAL_SI);
    }
  else
    {
      if (-q->exponent > MAX_DIGITS)
        return canonical_decimal (q, KD_QFMT_DECIMAL_SI);
      d = pow10_u128 ((int) -q->exponent);
      if (q->mantissa % d != 0)
        return canonical_decimal (q, KD_QFMT_DECIMAL_SI); /* a fraction */
      v = q->mantissa / d;
    }
  if (v < 1024)
    return canonical_decimal (q, KD_QFMT_DECIMAL_SI);
  while (v >= 1024 && v % 1024 == 0)
    {
      v /= 1024;
      k++;
    }
  u128_to_dec (v, num);
  return xasprintf ("%s%s%s", q->negative ? "-" : "", num, k > 0 ? binary_suffixes[k - 1].s : "");
}

char *
kd_quantity_canonical (const kd_quantity_t *q)
{
  if (q->cached)
    return xstrdup (q->text);
  if (q->mantissa == 0)
    return xstrdup ("0");
  if (q->format == KD_QFMT_BINARY_SI)
    return canonical_binary (q);
  return canonical_decimal (q, q->format);
}

/* ---- Cmp and RoundUp ---------------------------------------------------- */

static int
cmp_magnitude (u128 ma, int64_t ea, u128 mb, int64_t eb)
{
  u128 scaled;

  if (ma == 0 || mb == 0)
    return ma == mb ? 0 : ma == 0 ? -1 : 1;
  if (ea > eb)
    {
      if (!mul_pow10 (ma, ea - eb, &scaled))
        return 1;
      ma = scaled;
    }
  else if (eb > ea)
    {
      if (!mul_pow10 (mb, eb - ea, &scaled))
        return -1;
      mb = scaled;
    }
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

int
kd_quantity_cmp (const kd_quantity_t *a, const kd_quantity_t *b)
{
  int sa = a->mantissa == 0 ? 0 : a->negative ? -1 : 1;
  int sb = b->mantissa == 0 ? 0 : b->negative ? -1 : 1;
  int c;

  if (sa != sb)
    return sa < sb ? -1 : 1;
  if (sa == 0)
    return 0;
  c = cmp_magnitude (a->mantissa, a->exponent, b->mantissa, b->exponent);
  return sa < 0 ? -c : c;
}

void
kd_quantity_round_up_milli (kd_quantity_t *q)
{
  /* an int64Amount already at milli precision keeps its string */
  if (q->int64_amount && q->exponent >= -3)
    return;
  q->cached = false;
  q->text[0] = '\0';
  if (q->exponent < -3)
    {
      q->mantissa = div_pow10_up (q->mantissa, -3 - q->exponent);
      q->exponent = -3;
    }
  fill_derived (q);
}
