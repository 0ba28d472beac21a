/* Go's text/tabwriter with the settings of kubectl's describers (min width
   0, padding 2, spaces), so `describe` lines up exactly as kubectl's does,
   including the trailing spaces kubectl leaves after an empty last cell. */
#include <stdarg.h>

#include "describe-internal.h"

#define TABW_PADDING 2

typedef struct
{
  const char *text; /* not NUL-terminated: len bytes */
  size_t len;
  size_t width; /* in characters */
} cell_t;

typedef struct
{
  cell_t *cells;
  size_t n;
} line_t;

typedef struct
{
  line_t *lines;
  size_t n_lines;
  size_t *widths; /* the stack of column widths being formatted */
  size_t n_widths;
  FILE *out;
} fmt_t;

void
kd_tabw_init (kd_tabw_t *w, FILE *out)
{
  memset (w, 0, sizeof (*w));
  w->out = out;
}

/* printers.WriteEscaped: terminal escapes are shown, never obeyed. */
static void
append_escaped (kd_buf_t *b, const char *s)
{
  for (; *s; s++)
    {
      if (*s == '\x1b')
        kd_buf_puts (b, "^[");
      else if (*s == '\r')
        kd_buf_puts (b, "\\r");
      else
        kd_buf_putc (b, *s);
    }
}

void
kd_tabw_printf (kd_tabw_t *w, int level, const char *fmt, ...)
{
  cleanup_free char *s = NULL;
  va_list ap;
  int i;

  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    abort ();
  va_end (ap);
  for (i = 0; i < level; i++)
    kd_buf_puts (&w->text, "  ");
  append_escaped (&w->text, s);
}

static size_t
utf8_width (const char *s, size_t len)
{
  size_t n = 0;

  for (size_t i = 0; i < len; i++)
    if (((unsigned char) s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

static void
write_lines (fmt_t *f, size_t line0, size_t line1)
{
  for (size_t i = line0; i < line1; i++)
    {
      const line_t *l = &f->lines[i];

      for (size_t j = 0; j < l->n; j++)
        {
          const cell_t *c = &l->cells[j];

          fwrite (c->text, 1, c->len, f->out);
          if (j < f->n_widths && f->widths[j] > c->width)
            fprintf (f->out, "%*s", (int) (f->widths[j] - c->width), "");
        }
      /* Every gathered line but a final partial one ended with '\n'. */
      if (i + 1 < f->n_lines || l->n == 0
          || l->cells[l->n - 1].text[l->cells[l->n - 1].len] == '\n')
        fputc ('\n', f->out);
    }
}

/* tabwriter's format (): a column block is a run of consecutive lines that
   have a tab-terminated cell in this column. */
static void
format (fmt_t *f, size_t line0, size_t line1)
{
  size_t column = f->n_widths;

  for (size_t this = line0; this < line1; this ++)
    {
      size_t width = 0;

      if (f->lines[this].n == 0 || column >= f->lines[this].n - 1)
        continue;
      write_lines (f, line0, this);
      line0 = this;
      for (; this < line1; this ++)
        {
          const line_t *l = &f->lines[this];

          if (l->n == 0 || column >= l->n - 1)
            break;
          if (l->cells[column].width + TABW_PADDING > width)
            width = l->cells[column].width + TABW_PADDING;
        }
      f->widths = xrealloc (f->widths, (f->n_widths + 1) * sizeof (size_t));
      f->widths[f->n_widths++] = width;
      format (f, line0, this);
      f->n_widths--;
      /* The line that ended the block has no cell here: skipping it, as
         Go does, changes nothing. */
      line0 = this;
    }
  write_lines (f, line0, line1);
}

void
kd_tabw_flush (kd_tabw_t *w)
{
  fmt_t f = { 0 };
  size_t cap = 0;
  const char *p, *end;

  if (w->text.len == 0)
    return;
  p = w->text.s;
  end = w->text.s + w->text.len;
  while (p < end)
    {
      const char *eol = memchr (p, '\n', (size_t) (end - p));
      const char *stop = eol ? eol : end;
      line_t l = { 0 };
      size_t lcap = 0;

      for (;;)
        {
          const char *tab = memchr (p, '\t', (size_t) (stop - p));
          const char *cend = tab ? tab : stop;

          kd_grow ((void **) &l.cells, &lcap, l.n, sizeof (cell_t));
          l.cells[l.n].text = p;
          l.cells[l.n].len = (size_t) (cend - p);
          l.cells[l.n].width = utf8_width (p, (size_t) (cend - p));
          l.n++;
          p = cend + 1;
          if (tab == NULL)
            break;
        }
      kd_grow ((void **) &f.lines, &cap, f.n_lines, sizeof (line_t));
      f.lines[f.n_lines++] = l;
      if (eol == NULL)
        break;
    }
  f.out = w->out;
  format (&f, 0, f.n_lines);
  for (size_t i = 0; i < f.n_lines; i++)
    free (f.lines[i].cells);
  free (f.lines);
  free (f.widths);
  kd_buf_free (&w->text);
  memset (&w->text, 0, sizeof (w->text));
}

void
kd_tabw_free (kd_tabw_t *w)
{
  kd_buf_free (&w->text);
  memset (&w->text, 0, sizeof (w->text));
}
