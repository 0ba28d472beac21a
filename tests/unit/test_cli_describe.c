/* kubeletctl describe pod: kubectl's describePod layout, line for line, on
   hand-made v1 Pods and Events (a crash-looping pod with counted events, a
   running pod with probes, ports, env and volumes, an init container), and
   the Go tabwriter underneath. Times print in UTC (TZ is set). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <time.h>

#include "../../pkg/cli/describe-internal.h"
#include "kubeletd/api.h"
#include "kubeletd/cli.h"

/* JSON written with single quotes, for readability. */
static json_t *
js (const char *s)
{
  cleanup_free char *d = xstrdup (s);
  json_error_t jerr;
  json_t *j;

  for (char *p = d; *p; p++)
    if (*p == '\'')
      *p = '"';
  j = json_loads (d, 0, &jerr);
  if (j == NULL)
    fail_msg ("bad test JSON: %s: %s", jerr.text, d);
  return j;
}

static int64_t
ts (const char *s)
{
  int64_t ns = 0;
  assert_int_equal (kd_parse_time (s, &ns), 0);
  return ns;
}

static char *
describe (const char *pod, const char *events, const char *now)
{
  json_t *p = js (pod);
  json_t *e = events ? js (events) : NULL;
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream (&s, &n);

  kd_cli_describe_pod (p, e, ts (now), f);
  fclose (f);
  json_decref (p);
  json_decref (e);
  return s;
}

/* Fails with both texts and the first differing line. */
static void
assert_text (const char *want, const char *got)
{
  if (strcmp (want, got) != 0)
    {
      const char *a = want, *b = got;
      int line = 1;
      while (*a && *a == *b)
        {
          if (*a == '\n')
            line++;
          a++;
          b++;
        }
      fail_msg ("output differs at line %d\n--- want\n%s--- got\n%s", line, want, got);
    }
}

#define CRASH_POD                                                                                  \
  "{'metadata':{'name':'crash-node1','namespace':'default','uid':'u1',"                            \
  "'creationTimestamp':'2024-01-01T00:00:00Z','labels':{'app':'crash'},"                           \
  "'annotations':{'kubernetes.io/config.source':'file','kubernetes.io/config.hash':'u1'}},"        \
  "'spec':{'nodeName':'node1','priority':0,'restartPolicy':'Always','containers':[{'name':"        \
  "'crash','image':'busybox:1.36','command':['sh','-c','echo bye; exit 1'],"                       \
  "'resources':{},'terminationMessagePath':'/dev/termination-log','imagePullPolicy':"              \
  "'IfNotPresent'}],'tolerations':[{'operator':'Exists','effect':'NoExecute'}]},"                  \
  "'status':{'phase':'Running','hostIP':'192.168.1.5','podIP':'10.88.0.7','podIPs':[{'ip':"        \
  "'10.88.0.7'}],'startTime':'2024-01-01T00:00:01Z','qosClass':'BestEffort','conditions':["        \
  "{'type':'PodReadyToStartContainers','status':'True'},{'type':'Initialized','status':'True'},"   \
  "{'type':'Ready','status':'False','reason':'ContainersNotReady'},{'type':'ContainersReady',"     \
  "'status':'False'},{'type':'PodScheduled','status':'True'}],'containerStatuses':[{'name':"       \
  "'crash','image':'docker.io/library/busybox:1.36','imageID':'docker.io/library/busybox@"         \
  "sha256:aaaa','containerID':'kubeletd://0123456789abcdef','ready':false,'started':false,"        \
  "'restartCount':3,'state':{'waiting':{'reason':'CrashLoopBackOff','message':'back-off 40s "      \
  "restarting failed container=crash pod=crash-node1_default(u1)'}},'lastState':{'terminated':{"   \
  "'exitCode':1,'reason':'Error','startedAt':'2024-01-01T00:04:00Z','finishedAt':"                 \
  "'2024-01-01T00:04:01Z','containerID':'kubeletd://0123456789abcdef'}}}]}}"

#define CRASH_EVENTS                                                                               \
  "[{'involvedObject':{'kind':'Pod','namespace':'default','name':'crash-node1','uid':'u1',"        \
  "'fieldPath':'spec.containers{crash}'},'reason':'BackOff','message':'Back-off restarting "       \
  "failed container crash in pod crash-node1_default(u1)','source':{'component':'kubelet',"        \
  "'host':'node1'},'firstTimestamp':'2024-01-01T00:00:10Z','lastTimestamp':"                       \
  "'2024-01-01T00:04:10Z','count':5,'type':'Warning','eventTime':null},"                           \
  "{'involvedObject':{'kind':'Pod','namespace':'default','name':'crash-node1','uid':'u1',"         \
  "'fieldPath':'spec.containers{crash}'},'reason':'Pulled','message':'Container image "            \
  "\\\"busybox:1.36\\\" already present on machine\\n','source':{'component':'kubelet'},"          \
  "'firstTimestamp':'2024-01-01T00:00:02Z','lastTimestamp':'2024-01-01T00:04:00Z','count':4,"      \
  "'type':'Normal'},"                                                                              \
  "{'involvedObject':{'kind':'Pod','namespace':'default','name':'other-node1','uid':'u2'},"        \
  "'reason':'Started','message':'not mine','source':{'component':'kubelet'},"                      \
  "'firstTimestamp':'2024-01-01T00:00:02Z','lastTimestamp':'2024-01-01T00:00:02Z','count':1,"      \
  "'type':'Normal'},"                                                                              \
  "{'involvedObject':{'kind':'Pod','namespace':'default','name':'crash-node1','uid':'u1'},"        \
  "'reason':'Scheduled','message':'Successfully assigned default/crash-node1 to node1',"           \
  "'source':{},'reportingComponent':'kubelet','firstTimestamp':'2024-01-01T00:00:01Z',"            \
  "'lastTimestamp':'2024-01-01T00:00:01Z','count':1,'type':'Normal'}]"

#define WEB_POD                                                                                    \
  "{'metadata':{'name':'web-node1','namespace':'demo','uid':'u3',"                                 \
  "'deletionTimestamp':null,'labels':{'app':'web','tier':'front'},'annotations':{'note':"          \
  "'line one\\nline two'}},"                                                                       \
  "'spec':{'nodeName':'node1','nodeSelector':{'disk':'ssd'},'containers':[{'name':'web',"          \
  "'image':'busybox:1.36','args':['httpd','-f','-p','8080'],'ports':[{'name':'http',"              \
  "'containerPort':8080,'hostPort':8080,'protocol':'TCP'},{'containerPort':9090,'protocol':"       \
  "'UDP'}],'resources':{'limits':{'memory':'128Mi','cpu':'500m'},'requests':{'cpu':'0.25',"        \
  "'memory':'64Mi'}},'livenessProbe':{'httpGet':{'path':'/','port':'http','scheme':'HTTP'},"       \
  "'timeoutSeconds':1,'periodSeconds':10,'successThreshold':1,'failureThreshold':3},"              \
  "'readinessProbe':{'exec':{'command':['cat','/tmp/ready']},'initialDelaySeconds':5,"             \
  "'timeoutSeconds':2,'periodSeconds':5,'successThreshold':1,'failureThreshold':3},"               \
  "'startupProbe':{'tcpSocket':{'port':8080},'periodSeconds':1,'failureThreshold':30},"            \
  "'env':[{'name':'MODE','value':'demo'},{'name':'POD_NAME','valueFrom':{'fieldRef':{"             \
  "'apiVersion':'v1','fieldPath':'metadata.name'}}},{'name':'MEM','valueFrom':{"                   \
  "'resourceFieldRef':{'resource':'limits.memory','divisor':'1Mi'}}},{'name':'MULTI','value':"     \
  "'a\\nb'}],'volumeMounts':[{'name':'www','mountPath':'/www','readOnly':true},{'name':"           \
  "'scratch','mountPath':'/tmp','subPath':'t'}]}],'volumes':[{'name':'www','hostPath':{"           \
  "'path':'/srv/www','type':'Directory'}},{'name':'scratch','emptyDir':{'sizeLimit':'1Gi'}}],"     \
  "'tolerations':[{'key':'b','operator':'Equal','value':'x','effect':'NoSchedule'},{'key':'a',"    \
  "'operator':'Exists','effect':'NoExecute','tolerationSeconds':300}]},"                           \
  "'status':{'phase':'Running','hostIP':'192.168.1.5','podIP':'10.88.0.9','podIPs':[{'ip':"        \
  "'10.88.0.9'},{'ip':'fd00::9'}],'startTime':'2024-01-01T00:00:01Z','containerStatuses':[{"       \
  "'name':'web','image':'docker.io/library/busybox:1.36','imageID':'docker.io/library/"            \
  "busybox@sha256:bbbb','containerID':'kubeletd://feedface','ready':true,'started':true,"          \
  "'restartCount':0,'state':{'running':{'startedAt':'2024-01-01T00:00:03Z'}}}]}}"

#define INIT_POD                                                                                   \
  "{'metadata':{'name':'init-node1','namespace':'default','uid':'u4',"                             \
  "'deletionTimestamp':'2024-01-01T00:03:00Z','deletionGracePeriodSeconds':30},"                   \
  "'spec':{'nodeName':'node1','readinessGates':[{'conditionType':'example.com/gate'}],"            \
  "'initContainers':[{'name':'setup','image':'busybox','command':['sh','-c','touch /work/ok'],"    \
  "'volumeMounts':[{'name':'work','mountPath':'/work'}]}],'containers':[{'name':'app','image':"    \
  "'busybox','env':[{'name':'TOKEN','valueFrom':{'secretKeyRef':{'name':'s','key':'k'}}}]}],"      \
  "'volumes':[{'name':'work','emptyDir':{}}]},"                                                    \
  "'status':{'phase':'Running','hostIP':'192.168.1.5','qosClass':'BestEffort','conditions':["      \
  "{'type':'Initialized','status':'True'}],'initContainerStatuses':[{'name':'setup','image':"      \
  "'docker.io/library/busybox:latest','imageID':'docker.io/library/busybox@sha256:cccc',"          \
  "'containerID':'kubeletd://c1','ready':true,'restartCount':0,'state':{'terminated':{"            \
  "'exitCode':0,'reason':'Completed','startedAt':'2024-01-01T00:00:02Z','finishedAt':"             \
  "'2024-01-01T00:00:03Z'}}}],'containerStatuses':[{'name':'app','image':'docker.io/library/"      \
  "busybox:latest','imageID':'','containerID':'','ready':false,'restartCount':0,'state':{"         \
  "'waiting':{'reason':'ContainerCreating'}}}]}}"

static const char CRASH_WANT[]
    = "Name:         crash-node1\n"
      "Namespace:    default\n"
      "Priority:     0\n"
      "Node:         node1/192.168.1.5\n"
      "Start Time:   Mon, 01 Jan 2024 00:00:01 +0000\n"
      "Labels:       app=crash\n"
      "Annotations:  kubernetes.io/config.hash: u1\n"
      "              kubernetes.io/config.source: file\n"
      "Status:       Running\n"
      "IP:           10.88.0.7\n"
      "IPs:\n"
      "  IP:  10.88.0.7\n"
      "Containers:\n"
      "  crash:\n"
      "    Container ID:  kubeletd://0123456789abcdef\n"
      "    Image:         busybox:1.36\n"
      "    Image ID:      docker.io/library/busybox@sha256:aaaa\n"
      "    Port:          <none>\n"
      "    Host Port:     <none>\n"
      "    Command:\n"
      "      sh\n"
      "      -c\n"
      "      echo bye; exit 1\n"
      "    State:          Waiting\n"
      "      Reason:       CrashLoopBackOff\n"
      "    Last State:     Terminated\n"
      "      Reason:       Error\n"
      "      Exit Code:    1\n"
      "      Started:      Mon, 01 Jan 2024 00:04:00 +0000\n"
      "      Finished:     Mon, 01 Jan 2024 00:04:01 +0000\n"
      "    Ready:          False\n"
      "    Restart Count:  3\n"
      "    Environment:    <none>\n"
      "    Mounts:         <none>\n"
      "Conditions:\n"
      "  Type                        Status\n"
      "  PodReadyToStartContainers   True \n"
      "  Initialized                 True \n"
      "  Ready                       False \n"
      "  ContainersReady             False \n"
      "  PodScheduled                True \n"
      "Volumes:                      <none>\n"
      "QoS Class:                    BestEffort\n"
      "Node-Selectors:               <none>\n"
      "Tolerations:                  :NoExecute op=Exists\n"
      "Events:\n"
      "  Type     Reason     Age                  From     Message\n"
      "  ----     ------     ----                 ----     -------\n"
      "  Normal   Scheduled  4m59s                kubelet  Successfully assigned "
      "default/crash-node1 to node1\n"
      "  Normal   Pulled     60s (x4 over 4m58s)  kubelet  Container image \"busybox:1.36\" "
      "already present on machine\n"
      "  Warning  BackOff    50s (x5 over 4m50s)  kubelet  Back-off restarting failed container "
      "crash in pod crash-node1_default(u1)\n";

static const char WEB_WANT[]
    = "Name:         web-node1\n"
      "Namespace:    demo\n"
      "Node:         node1/192.168.1.5\n"
      "Start Time:   Mon, 01 Jan 2024 00:00:01 +0000\n"
      "Labels:       app=web\n"
      "              tier=front\n"
      "Annotations:  note:\n"
      "                line one\n"
      "                line two\n"
      "Status:       Running\n"
      "IP:           10.88.0.9\n"
      "IPs:\n"
      "  IP:  10.88.0.9\n"
      "  IP:  fd00::9\n"
      "Containers:\n"
      "  web:\n"
      "    Container ID:  kubeletd://feedface\n"
      "    Image:         busybox:1.36\n"
      "    Image ID:      docker.io/library/busybox@sha256:bbbb\n"
      "    Ports:         8080/TCP (http), 9090/UDP\n"
      "    Host Ports:    8080/TCP (http), 0/UDP\n"
      "    Args:\n"
      "      httpd\n"
      "      -f\n"
      "      -p\n"
      "      8080\n"
      "    State:          Running\n"
      "      Started:      Mon, 01 Jan 2024 00:00:03 +0000\n"
      "    Ready:          True\n"
      "    Restart Count:  0\n"
      "    Limits:\n"
      "      cpu:     500m\n"
      "      memory:  128Mi\n"
      "    Requests:\n"
      "      cpu:      250m\n"
      "      memory:   64Mi\n"
      "    Liveness:   http-get http://:http/ delay=0s timeout=1s period=10s #success=1 "
      "#failure=3\n"
      "    Readiness:  exec [cat /tmp/ready] delay=5s timeout=2s period=5s #success=1 #failure=3\n"
      "    Startup:    tcp-socket :8080 delay=0s timeout=1s period=1s #success=1 #failure=30\n"
      "    Environment:\n"
      "      MODE:      demo\n"
      "      POD_NAME:  web-node1 (v1:metadata.name)\n"
      "      MEM:       128 (limits.memory)\n"
      "      MULTI:     a\n"
      "                 b\n"
      "    Mounts:\n"
      "      /tmp from scratch (rw,path=\"t\")\n"
      "      /www from www (ro)\n"
      "Volumes:\n"
      "  www:\n"
      "    Type:          HostPath (bare host directory volume)\n"
      "    Path:          /srv/www\n"
      "    HostPathType:  Directory\n"
      "  scratch:\n"
      "    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)\n"
      "    Medium:      \n"
      "    SizeLimit:   1Gi\n"
      "QoS Class:       Burstable\n"
      "Node-Selectors:  disk=ssd\n"
      "Tolerations:     a:NoExecute op=Exists for 300s\n"
      "                 b=x:NoSchedule\n"
      "Events:          <none>\n";

static const char INIT_WANT[]
    = "Name:                      init-node1\n"
      "Namespace:                 default\n"
      "Node:                      node1/192.168.1.5\n"
      "Labels:                    <none>\n"
      "Annotations:               <none>\n"
      "Status:                    Terminating (lasts 2m)\n"
      "Termination Grace Period:  30s\n"
      "IP:                        \n"
      "IPs:                       <none>\n"
      "Init Containers:\n"
      "  setup:\n"
      "    Container ID:  kubeletd://c1\n"
      "    Image:         busybox\n"
      "    Image ID:      docker.io/library/busybox@sha256:cccc\n"
      "    Port:          <none>\n"
      "    Host Port:     <none>\n"
      "    Command:\n"
      "      sh\n"
      "      -c\n"
      "      touch /work/ok\n"
      "    State:          Terminated\n"
      "      Reason:       Completed\n"
      "      Exit Code:    0\n"
      "      Started:      Mon, 01 Jan 2024 00:00:02 +0000\n"
      "      Finished:     Mon, 01 Jan 2024 00:00:03 +0000\n"
      "    Ready:          True\n"
      "    Restart Count:  0\n"
      "    Environment:    <none>\n"
      "    Mounts:\n"
      "      /work from work (rw)\n"
      "Containers:\n"
      "  app:\n"
      "    Container ID:   \n"
      "    Image:          busybox\n"
      "    Image ID:       \n"
      "    Port:           <none>\n"
      "    Host Port:      <none>\n"
      "    State:          Waiting\n"
      "      Reason:       ContainerCreating\n"
      "    Ready:          False\n"
      "    Restart Count:  0\n"
      "    Environment:\n"
      "      TOKEN:  <set to the key 'k' in secret 's'>  Optional: false\n"
      "    Mounts:   <none>\n"
      "Readiness Gates:\n"
      "  Type               Status\n"
      "  example.com/gate   <none> \n"
      "Conditions:\n"
      "  Type          Status\n"
      "  Initialized   True \n"
      "Volumes:\n"
      "  work:\n"
      "    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)\n"
      "    Medium:      \n"
      "    SizeLimit:   <unset>\n"
      "QoS Class:       BestEffort\n"
      "Node-Selectors:  <none>\n"
      "Tolerations:     <none>\n"
      "Events:          <none>\n";

static void
test_crash_looping_pod_reads_as_kubectl_describe (void **state)
{
  cleanup_free char *got = describe (CRASH_POD, CRASH_EVENTS, "2024-01-01T00:05:00Z");
  /* Counted events read "60s (x4 over 4m58s)", sorted by last time; the
     event of another pod is left out; the trimmed message. */
  assert_text (CRASH_WANT, got);
}

static void
test_running_pod_shows_probes_ports_env_and_volumes (void **state)
{
  cleanup_free char *got = describe (WEB_POD, "[]", "2024-01-01T00:05:00Z");
  /* No events: "Events:  <none>" lines up with the tolerations above it. */
  assert_text (WEB_WANT, got);
}

static void
test_init_containers_and_a_terminating_pod (void **state)
{
  cleanup_free char *got = describe (INIT_POD, "[]", "2024-01-01T00:05:00Z");
  assert_text (INIT_WANT, got);
}

static void
test_show_events_false_leaves_the_section_out (void **state)
{
  cleanup_free char *got = describe (INIT_POD, NULL, "2024-01-01T00:05:00Z");
  assert_null (strstr (got, "Events:"));
  assert_non_null (strstr (got, "Tolerations:     <none>\n"));
}

static void
test_probe_descriptions_match_kubectl (void **state)
{
  static const struct
  {
    const char *probe, *want;
  } cases[] = {
    { "{'httpGet':{'path':'/healthz','port':8080,'scheme':'HTTPS','host':'10.0.0.1'},"
      "'initialDelaySeconds':3,'timeoutSeconds':2,'periodSeconds':7,'successThreshold':1,"
      "'failureThreshold':5}",
      "http-get https://10.0.0.1:8080/healthz delay=3s timeout=2s period=7s #success=1 "
      "#failure=5" },
    { "{'httpGet':{'path':'/','port':'http'}}",
      "http-get http://:http/ delay=0s timeout=1s period=10s #success=1 #failure=3" },
    { "{'httpGet':{'path':'a b?c','port':80,'host':'fd00::1'}}",
      "http-get http://[fd00::1]:80/a%20b%3Fc delay=0s timeout=1s period=10s #success=1 "
      "#failure=3" },
    { "{'exec':{'command':['sh','-c','test -f /ok']}}",
      "exec [sh -c test -f /ok] delay=0s timeout=1s period=10s #success=1 #failure=3" },
    { "{'tcpSocket':{'host':'db','port':5432}}",
      "tcp-socket db:5432 delay=0s timeout=1s period=10s #success=1 #failure=3" },
    { "{'grpc':{'port':9000,'service':'health'}}",
      "grpc <pod>:9000 health delay=0s timeout=1s period=10s #success=1 #failure=3" },
    { "{}", "unknown delay=0s timeout=1s period=10s #success=1 #failure=3" },
  };

  for (size_t i = 0; i < KD_ARRAY_SIZE (cases); i++)
    {
      json_t *p = js (cases[i].probe);
      cleanup_free char *got = kd_desc_probe (p);
      json_decref (p);
      if (strcmp (got, cases[i].want) != 0)
        fail_msg ("probe %s: got [%s], want [%s]", cases[i].probe, got, cases[i].want);
    }
}

static char *
tab (const char *lines[], size_t n, int flush_at)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);
  kd_tabw_t w;

  kd_tabw_init (&w, f);
  for (size_t i = 0; i < n; i++)
    {
      if ((int) i == flush_at)
        kd_tabw_flush (&w);
      kd_tabw_printf (&w, 0, "%s", lines[i]);
    }
  kd_tabw_flush (&w);
  kd_tabw_free (&w);
  fclose (f);
  return s;
}

static void
test_tabwriter_columns_restart_after_a_line_without_a_tab (void **state)
{
  const char *lines[] = { "a:\t1\n", "long key:\t2\n", "block end\n", "b:\t3\n", "\tcont\n" };
  cleanup_free char *got = tab (lines, KD_ARRAY_SIZE (lines), -1);

  assert_text ("a:         1\n"
               "long key:  2\n"
               "block end\n"
               "b:  3\n"
               "    cont\n",
               got);
}

static void
test_tabwriter_pads_a_cell_before_empty_text_and_flush_splits (void **state)
{
  const char *lines[] = { "x:\t\n", "longer:\tv\n", "y:\tw\n" };
  cleanup_free char *joined = tab (lines, KD_ARRAY_SIZE (lines), -1);
  cleanup_free char *split = tab (lines, KD_ARRAY_SIZE (lines), 2);

  assert_text ("x:       \n"
               "longer:  v\n"
               "y:       w\n",
               joined);
  assert_text ("x:       \n"
               "longer:  v\n"
               "y:  w\n",
               split);
}

static void
test_go_quote_escapes_like_strconv (void **state)
{
  cleanup_free char *q = kd_fe_quote ("a\"b\\c\n\x01");
  assert_string_equal (q, "\"a\\\"b\\\\c\\n\\x01\"");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_crash_looping_pod_reads_as_kubectl_describe),
    cmocka_unit_test (test_running_pod_shows_probes_ports_env_and_volumes),
    cmocka_unit_test (test_init_containers_and_a_terminating_pod),
    cmocka_unit_test (test_show_events_false_leaves_the_section_out),
    cmocka_unit_test (test_probe_descriptions_match_kubectl),
    cmocka_unit_test (test_tabwriter_columns_restart_after_a_line_without_a_tab),
    cmocka_unit_test (test_tabwriter_pads_a_cell_before_empty_text_and_flush_splits),
    cmocka_unit_test (test_go_quote_escapes_like_strconv),
  };

  setenv ("TZ", "UTC", 1);
  tzset ();
  return cmocka_run_group_tests (tests, NULL, NULL);
}
