/* apiload: GET latency of the status API under concurrent clients.
 *   apiload SOCKET PATH CLIENTS REQUESTS MAX_SECONDS
 * CLIENTS processes each send REQUESTS requests, one connection per request
 * (as kubeletctl does), reading each answer to its end; every process stops
 * at MAX_SECONDS. Prints one JSON object: p50/p99/max in ms, req/s, errors.
 * Built by tests/bench/run; not part of the project's build. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One request on a new connection; returns 0 if the answer was a 200 read
   to its end (Content-Length or the connection's close). */
static int
one (const char *sock_path, const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  char req[512], buf[65536];
  size_t got = 0, want = (size_t) -1, head = 0;
  int fd, status = 0;

  strncpy (sa.sun_path, sock_path, sizeof (sa.sun_path) - 1);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof (sa)) < 0)
    goto fail;
  int n = snprintf (req, sizeof (req),
                    "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
  if (write (fd, req, n) != n)
    goto fail;
  for (;;)
    {
      ssize_t r = read (fd, buf + (head ? 0 : got), head ? sizeof (buf) : sizeof (buf) - 1 - got);
      if (r <= 0)
        break;
      got += r;
      if (!head)
        {
          buf[got] = '\0';
          char *end = strstr (buf, "\r\n\r\n");
          if (end == NULL)
            {
              if (got >= sizeof (buf) - 1)
                goto fail;
              continue;
            }
          head = end + 4 - buf;
          status = atoi (buf + 9);
          char *cl = strcasestr (buf, "\r\nContent-Length:");
          if (cl != NULL && cl < end)
            want = head + strtoull (cl + 17, NULL, 10);
        }
      if (got >= want)
        break;
    }
  close (fd);
  return status == 200 && (want == (size_t) -1 || got >= want) ? 0 : -1;
fail:
  if (fd >= 0)
    close (fd);
  return -1;
}

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  if (argc != 6)
    {
      fprintf (stderr, "usage: apiload SOCKET PATH CLIENTS REQUESTS MAX_SECONDS\n");
      return 2;
    }
  int clients = atoi (argv[3]), requests = atoi (argv[4]);
  double deadline = now () + atof (argv[5]);
  size_t total = (size_t) clients * requests;
  double *lat = mmap (NULL, total * sizeof (double), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int *errs = mmap (NULL, clients * sizeof (int), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (lat == MAP_FAILED || errs == MAP_FAILED)
    return 1;
  for (size_t i = 0; i < total; i++)
    lat[i] = -1;
  double t0 = now ();
  for (int c = 0; c < clients; c++)
    {
      pid_t p = fork ();
      if (p < 0)
        return 1;
      if (p == 0)
        {
          for (int r = 0; r < requests && now () < deadline; r++)
            {
              double a = now ();
              if (one (argv[1], argv[2]) < 0)
                errs[c]++;
              else
                lat[(size_t) c * requests + r] = (now () - a) * 1000;
            }
          _exit (0);
        }
    }
  while (wait (NULL) > 0)
    ;
  double elapsed = now () - t0;
  size_t n = 0;
  int errors = 0;
  for (size_t i = 0; i < total; i++)
    if (lat[i] >= 0)
      lat[n++] = lat[i];
  for (int c = 0; c < clients; c++)
    errors += errs[c];
  qsort (lat, n, sizeof (double), cmp);
  if (n == 0)
    {
      printf ("{\"ok\":0,\"errors\":%d}\n", errors);
      return 1;
    }
  printf (
      "{\"clients\":%d,\"requests\":%d,\"ok\":%zu,\"errors\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"max_ms\":%.3f,\"rps\":%.1f,\"seconds\":%.2f}\n",
      clients, requests, n, errors, lat[(n - 1) / 2], lat[(size_t) ((n - 1) * 0.99)], lat[n - 1],
      n / elapsed, elapsed);
  return 0;
}
