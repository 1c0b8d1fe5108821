package proxyfleet_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

const domain = "observability.internal"

type rig struct{ *nginxtest.Rig }

func newRig(t *testing.T) *rig { return &rig{nginxtest.StartRig(t, domain)} }

type answer struct {
	status              int
	alb, seenHost, body string
	bodyBytes           string
}

func (r *rig) send(t *testing.T, method, host string, port int, body []byte) (answer, error) {
	req, err := http.NewRequest(method, r.Nginx.URL(port)+"/api/v1/push", bytes.NewReader(body))
	require.NoError(t, err)
	req.Host = host
	// As agents do (exporters retry a batch whose connection failed): a
	// request sent on a keepalive connection that nginx closed as idle at
	// the same moment (a reload closes idle connections) is sent again on a
	// new one. Go's client does that only for replayable requests: a POST
	// with an Idempotency-Key. Without it TestALBAddressChange failed once
	// in many CI runs with EOF at the reload.
	if method == http.MethodPost {
		req.Header.Set("Idempotency-Key", fmt.Sprint(time.Now().UnixNano()))
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, alb: resp.Header.Get("X-Alb"), seenHost: resp.Header.Get("X-Seen-Host"),
		body: string(b), bodyBytes: resp.Header.Get("X-Body-Bytes")}, nil
}

func TestNginxAcceptsRenderedConfig(t *testing.T) {
	dns := nginxtest.StartDNS(t)
	n := nginxtest.Prepare(t, proxyfleet.Config{Routes: []proxyfleet.ConfigRoute{
		{Name: "metrics", Host: "metrics." + domain, Port: 80, Upstream: "m.test", UpstreamPort: 80},
		{Name: "traces", Host: "traces." + domain, Port: 4317, Upstream: "t.test", UpstreamPort: 443, GRPC: true, UpstreamTLS: true},
		{Name: "logs", Host: "logs." + domain, Port: 80, Upstream: "l.test", UpstreamPort: 443, UpstreamTLS: true},
	}}, "127.0.0.5", dns)
	n.Resolve(t) // nothing resolves: each upstream gets a placeholder marked down
	out, err := n.Test()
	require.NoError(t, err, out)

	// The same check fails on a broken config: nginx -t is a real gate.
	conf, err := os.ReadFile(n.Conf)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(n.Conf, bytes.Replace(conf, []byte("keepalive 64;"), []byte("keepalive sixty-four;"), 1), 0o644))
	out, err = n.Test()
	assert.Error(t, err, "nginx -t accepted a broken config:\n%s", out)
}

func TestHostRouting(t *testing.T) {
	r := newRig(t)
	tests := []struct {
		host    string
		wantALB string
	}{
		{"metrics." + domain, "metrics-a"},
		{"logs." + domain, "logs"},
		{"METRICS." + domain, "metrics-a"}, // host names are case-insensitive
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			a, err := r.send(t, http.MethodPost, tt.host, r.HTTPPort, []byte(`{"m":1}`))
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, a.status)
			assert.Equal(t, tt.wantALB, a.alb)
			assert.Equal(t, strings.ToLower(tt.host), strings.ToLower(a.seenHost), "the client's Host reaches the ALB (host rules)")
			assert.Equal(t, "7", a.bodyBytes)
		})
	}
}

func TestUnknownHostRejected(t *testing.T) {
	r := newRig(t)
	before := r.MetricsA.Requests() + r.Logs.Requests()
	for _, host := range []string{"evil.example.com", "metrics.observability.internal.evil.com", "127.0.0.5"} {
		a, err := r.send(t, http.MethodGet, host, r.HTTPPort, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusMisdirectedRequest, a.status, host)
	}
	assert.Equal(t, before, r.MetricsA.Requests()+r.Logs.Requests(), "nothing was proxied")
}

func TestHealthzAnsweredLocally(t *testing.T) {
	r := newRig(t)
	before := r.MetricsA.Requests() + r.Logs.Requests() + r.Traces.Requests()
	resp, err := r.Client.Get(fmt.Sprintf("http://127.0.0.5:%d/healthz", r.HealthPort))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))

	resp, err = r.Client.Get(fmt.Sprintf("http://127.0.0.5:%d/other", r.HealthPort))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, before, r.MetricsA.Requests()+r.Logs.Requests()+r.Traces.Requests(), "health checks never reach an ALB")
}

func TestGRPCRouting(t *testing.T) {
	r := newRig(t)
	frame := []byte{0, 0, 0, 0, 3, 'a', 'b', 'c'} // one length-prefixed message
	req, err := http.NewRequest(http.MethodPost, r.Nginx.URL(r.GRPCPort)+"/opentelemetry.proto.collector.trace.v1.TraceService/Export", bytes.NewReader(frame))
	require.NoError(t, err)
	req.Host = "traces." + domain
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := r.GRPCClient.Do(req)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()

	assert.Equal(t, "HTTP/2.0", resp.Proto, "agents speak cleartext HTTP/2 to the proxy")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "traces", resp.Header.Get("X-Alb"))
	assert.Equal(t, "HTTP/2.0", resp.Header.Get("X-Seen-Proto"), "the proxy speaks HTTP/2 to the upstream")
	assert.Equal(t, "traces."+domain, resp.Header.Get("X-Seen-Host"))
	assert.Equal(t, "8", resp.Header.Get("X-Body-Bytes"))
	assert.Equal(t, "0", resp.Trailer.Get("Grpc-Status"), "gRPC status trailer passed through")
}

func TestUpstreamConnectionsReused(t *testing.T) {
	r := newRig(t)
	const n = 100
	conns, reqs := r.MetricsA.Conns(), r.MetricsA.Requests()
	for i := 0; i < n; i++ {
		a, err := r.send(t, http.MethodPost, "metrics."+domain, r.HTTPPort, []byte("x"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, a.status)
	}
	assert.Equal(t, int64(n), r.MetricsA.Requests()-reqs)
	// One client connection lands on one worker; with upstream keepalive that
	// worker reuses its connection. Without keepalive this would be 100.
	assert.LessOrEqual(t, r.MetricsA.Conns()-conns, int64(2), "upstream connections were not reused")
}

func TestBodySizes(t *testing.T) {
	r := newRig(t)
	big := bytes.Repeat([]byte("l"), 8<<20) // a large log batch
	a, err := r.send(t, http.MethodPost, "logs."+domain, r.HTTPPort, big)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, fmt.Sprint(len(big)), a.bodyBytes)

	tooBig := bytes.Repeat([]byte("l"), 17<<20)
	a, err = r.send(t, http.MethodPost, "logs."+domain, r.HTTPPort, tooBig)
	if err == nil { // nginx may close the connection before reading the whole body
		assert.Equal(t, http.StatusRequestEntityTooLarge, a.status)
	}
}

func TestAccessLogNamesServiceUpstreamStatusTimings(t *testing.T) {
	r := newRig(t)
	_, err := r.send(t, http.MethodPost, "metrics."+domain, r.HTTPPort, []byte("x"))
	require.NoError(t, err)
	var entry map[string]any
	require.Eventually(t, func() bool {
		for _, l := range r.Nginx.AccessLog() {
			if json.Unmarshal([]byte(l), &entry) == nil && entry["service"] == "metrics" {
				return true
			}
		}
		return false
	}, 5*time.Second, 50*time.Millisecond, "no access log line for metrics")
	assert.Equal(t, fmt.Sprintf("127.0.0.2:%d", r.ALBPort), entry["upstream"])
	assert.EqualValues(t, 200, entry["status"])
	for _, k := range []string{"request_time", "upstream_connect_time", "upstream_response_time", "request_bytes"} {
		assert.Contains(t, entry, k)
	}
}

// TestALBAddressChange moves the metrics ALB to a new address in DNS while a
// client pushes continuously: traffic must follow within the TTL plus the
// resolver's interval, and no request may fail on the way.
func TestALBAddressChange(t *testing.T) {
	r := newRig(t)
	r.Nginx.ResolveLoop(t, 1)

	var failures []string
	seen := map[string]int{}
	lastB, switched := 0, false
	deadline := time.Now().Add(45 * time.Second) // a bound on the loop, not an assertion
	for i := 0; time.Now().Before(deadline); i++ {
		a, err := r.send(t, http.MethodPost, "metrics."+domain, r.HTTPPort, []byte(`{"sample":1}`))
		switch {
		case err != nil:
			failures = append(failures, err.Error())
		case a.status != http.StatusOK:
			failures = append(failures, fmt.Sprintf("status %d: %s", a.status, a.body))
		default:
			seen[a.alb]++
		}
		if !switched && seen["metrics-a"] >= 20 {
			r.DNS.Set("metrics-alb.test", 1, "127.0.0.3")
			switched = true
		}
		if a.alb == "metrics-b" {
			lastB++
		} else {
			lastB = 0
		}
		if lastB >= 50 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Empty(t, failures, "requests failed while the ALB moved")
	assert.GreaterOrEqual(t, seen["metrics-a"], 20)
	assert.GreaterOrEqual(t, lastB, 50, "traffic did not move to the new ALB address (seen %v)", seen)
	upstream, err := os.ReadFile(filepath.Join(r.Nginx.Config.UpstreamDir, "metrics.conf"))
	require.NoError(t, err)
	assert.Contains(t, string(upstream), fmt.Sprintf("server 127.0.0.3:%d", r.ALBPort))
}

// TestResolverFailureKeepsAddresses: when DNS fails, the proxy keeps the
// last known addresses instead of dropping the route, and logs what the
// resolver answered.
func TestResolverFailureKeepsAddresses(t *testing.T) {
	r := newRig(t)
	file := filepath.Join(r.Nginx.Config.UpstreamDir, "metrics.conf")
	before, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(before), "127.0.0.2")

	for failure, logged := range map[nginxtest.DNSFailure]string{
		nginxtest.DNSServFail: "(SERVFAIL)",
		nginxtest.DNSNXDomain: "(NXDOMAIN)",
		nginxtest.DNSEmpty:    "(NOERROR, no address)",
	} {
		r.DNS.SetFailure(failure)
		out := r.Nginx.ResolveOnce(t)
		assert.Contains(t, out, "no address for metrics-alb.test "+logged+"; keeping the previous ones", failure)
		after, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, string(before), string(after), failure)
		a, err := r.send(t, http.MethodPost, "metrics."+domain, r.HTTPPort, []byte("x"))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, a.status, failure)
	}
}

// TestAccessLogFlagsUpstreamErrors: upstream_error is 1 when the ALB answers
// 5xx (or cannot be reached), 0 otherwise: a number, for metric filters.
func TestAccessLogFlagsUpstreamErrors(t *testing.T) {
	r := newRig(t)
	for _, status := range []string{"503", ""} {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.5:%d/", r.HTTPPort), strings.NewReader("x"))
		require.NoError(t, err)
		req.Host = "logs." + domain
		if status != "" {
			req.Header.Set("X-Alb-Status", status)
		}
		resp, err := r.Client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	flags := map[float64]float64{} // status -> upstream_error
	require.Eventually(t, func() bool {
		for _, l := range r.Nginx.AccessLog() {
			var e map[string]any
			if json.Unmarshal([]byte(l), &e) == nil && e["service"] == "logs" {
				flags[e["status"].(float64)] = e["upstream_error"].(float64)
			}
		}
		return len(flags) == 2
	}, 5*time.Second, 50*time.Millisecond, "access log lines for logs")
	assert.Equal(t, map[float64]float64{503: 1, 200: 0}, flags)
}

// TestHealthzFailsWhenBodyBufferDiskIsLow: obslink-resolve marks the disk of
// the request-body buffer low, and /healthz answers 503 until it has room.
func TestHealthzFailsWhenBodyBufferDiskIsLow(t *testing.T) {
	r := newRig(t)
	healthz := func() int {
		resp, err := r.Client.Get(fmt.Sprintf("http://127.0.0.5:%d/healthz", r.HealthPort))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	tmp := "OBSLINK_TEMP_DIR=" + r.Nginx.Config.TempDir
	out := r.Nginx.ResolveOnce(t, tmp, "OBSLINK_MIN_FREE_MB=999999999") // more than any disk here
	assert.Contains(t, out, "/healthz answers 503")
	assert.Equal(t, http.StatusServiceUnavailable, healthz())
	out = r.Nginx.ResolveOnce(t, tmp, "OBSLINK_MIN_FREE_MB=1")
	assert.Contains(t, out, "/healthz answers 200")
	assert.Equal(t, http.StatusOK, healthz())
}

// TestAccessLogFieldsForMetricFilters: the fields the monitoring's metric
// filters compare as numbers (status, request_time, upstream_error) are
// JSON numbers in every line, and service is a string; a quoted number
// would never match a numeric filter.
func TestAccessLogFieldsForMetricFilters(t *testing.T) {
	r := newRig(t)
	_, err := r.send(t, http.MethodPost, "metrics."+domain, r.HTTPPort, []byte("x"))
	require.NoError(t, err)
	_, err = r.send(t, http.MethodPost, "unknown."+domain, r.HTTPPort, []byte("x"))
	require.NoError(t, err)
	var lines []map[string]any
	require.Eventually(t, func() bool {
		lines = nil
		for _, l := range r.Nginx.AccessLog() {
			var e map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &e), l)
			lines = append(lines, e)
		}
		return len(lines) >= 2
	}, 5*time.Second, 50*time.Millisecond)
	for _, e := range lines {
		for _, k := range []string{"status", "request_time", "upstream_error"} {
			assert.IsType(t, float64(0), e[k], "%s in %v", k, e)
		}
		assert.IsType(t, "", e["service"])
	}
}

// TestSelfCheckGatesHealthz: with a ready file configured, /healthz answers
// 503 until obslink-selfcheck has found every ALB reachable once, then 200.
func TestSelfCheckGatesHealthz(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	r := &rig{nginxtest.StartRig(t, domain, func(c *proxyfleet.Config) { c.ReadyFile = ready })}
	healthz := func() (int, string) {
		resp, err := r.Client.Get(fmt.Sprintf("http://127.0.0.5:%d/healthz", r.HealthPort))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := healthz()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "bootstrap self-check pending\n", body)
	out, ok := r.Nginx.SelfCheck(t, ready)
	require.True(t, ok, out)
	assert.Contains(t, out, "ready")
	code, _ = healthz()
	assert.Equal(t, http.StatusOK, code)
}

// TestSelfCheckFindsBrokenALBs: a name that did not resolve fails the
// check; an ALB address that does not answer is a warning (its routes and
// rules deploy after the provider), a failure with OBSLINK_REQUIRE_REACHABLE=1.
func TestSelfCheckFindsBrokenALBs(t *testing.T) {
	r := newRig(t)
	out, ok := r.Nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"))
	require.True(t, ok, "all stand-in ALBs answer: %s", out)

	dir := r.Nginx.Config.UpstreamDir
	require.NoError(t, os.WriteFile(filepath.Join(dir, "metrics.conf"), []byte("server 127.0.0.9:1 max_fails=1 fail_timeout=5s;\n"), 0o644))
	ready := filepath.Join(t.TempDir(), "ready")
	out, ok = r.Nginx.SelfCheck(t, ready)
	assert.True(t, ok, out)
	assert.Contains(t, out, "warning: metrics: metrics-alb.test (127.0.0.9 ) does not answer on port")
	assert.FileExists(t, ready)
	out, ok = r.Nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"), "OBSLINK_REQUIRE_REACHABLE=1")
	assert.False(t, ok, out)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "logs.conf"), []byte("server 127.0.0.1:9 down; # logs-alb.test did not resolve\n"), 0o644))
	ready = filepath.Join(t.TempDir(), "ready")
	out, ok = r.Nginx.SelfCheck(t, ready)
	assert.False(t, ok, out)
	assert.Contains(t, out, "logs: logs-alb.test did not resolve")
	assert.Contains(t, out, "1 problem(s); not ready")
	assert.NoFileExists(t, ready)
}

// TestMallocTunablesKeepLargeBodiesOnTheHeap reproduces the benchmark's finding
// on real nginx: without proxyfleet.MallocTunables, glibc maps each 1 MiB
// request-body buffer with mmap and returns it when freed, so every large
// body page-faults its buffer back in; with them, the workers' minor page
// faults per request fall to a small fraction. (Page faults, not time: the
// count does not depend on the machine's load.)
func TestMallocTunablesKeepLargeBodiesOnTheHeap(t *testing.T) {
	body := bytes.Repeat([]byte("l"), 1<<20)
	faultsPerRequest := func(env ...string) (faults, ticks float64) {
		dns := nginxtest.StartDNS(t)
		albPort := nginxtest.FreePort(t, "127.0.0.2")
		nginxtest.StartALB(t, "logs", "127.0.0.2", albPort)
		dns.Set("logs-alb.test", 1, "127.0.0.2")
		ports := nginxtest.FreePorts(t, "127.0.0.5", 2)
		n := nginxtest.Prepare(t, proxyfleet.Config{HealthPort: ports[1], Routes: []proxyfleet.ConfigRoute{
			{Name: "logs", Host: "logs." + domain, Port: ports[0], Upstream: "logs-alb.test", UpstreamPort: albPort},
		}}, "127.0.0.5", dns)
		n.Env = env
		n.Start(t)
		client := n.Client("", false)
		// Eight agents at once, as the benchmark's load: the heap grows past
		// glibc's trim threshold and shrinks back after each wave.
		const agents, rounds = 8, 25
		send := func(rounds int) {
			for i := 0; i < rounds; i++ {
				var wg sync.WaitGroup
				errs := make(chan error, agents)
				for a := 0; a < agents; a++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req, err := http.NewRequest(http.MethodPost, n.URL(ports[0])+"/push", bytes.NewReader(body))
						if err == nil {
							req.Host = "logs." + domain
							var resp *http.Response
							if resp, err = client.Do(req); err == nil {
								_, _ = io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
								if resp.StatusCode != http.StatusOK {
									err = fmt.Errorf("status %d", resp.StatusCode)
								}
							}
						}
						errs <- err
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err)
				}
			}
		}
		send(2) // warm up both workers' heaps
		before, cpu := n.MinorFaults(), n.CPUTicks()
		send(rounds)
		return float64(n.MinorFaults()-before) / (agents * rounds), float64(n.CPUTicks()-cpu) / (agents * rounds)
	}
	without, cpuWithout := faultsPerRequest()
	with, cpuWith := faultsPerRequest("GLIBC_TUNABLES=" + proxyfleet.MallocTunables)
	t.Logf("per 1 MiB request: %.1f minor page faults without the tunables, %.1f with; workers' CPU %.3f vs %.3f clock ticks (logged, not asserted)",
		without, with, cpuWithout, cpuWith)
	assert.Less(t, with*4, without, "the tunables keep the body buffer mapped between requests")
}

// TestOwnFailureIsRetryable: when nginx itself cannot take a request (here
// it cannot write a large body to its buffer directory, as on a full disk)
// agents get a 503, which they retry, on a new connection, instead of a
// 500, on which an OTLP/HTTP exporter drops its batch; the ALB's own 500s
// pass unchanged.
func TestOwnFailureIsRetryable(t *testing.T) {
	r := newRig(t)
	bodies := filepath.Join(r.Nginx.Config.TempDir, "client_body")
	require.NoError(t, os.RemoveAll(bodies))
	require.NoError(t, os.WriteFile(bodies, nil, 0o644)) // no directory to buffer bodies in
	req, err := http.NewRequest(http.MethodPost, r.Nginx.URL(r.HTTPPort)+"/v1/logs", bytes.NewReader(bytes.Repeat([]byte("l"), 2<<20)))
	require.NoError(t, err)
	req.Host = "logs." + domain
	resp, err := r.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.True(t, resp.Close, "the connection closes, so that the retry can reach another proxy")

	req, err = http.NewRequest(http.MethodPost, r.Nginx.URL(r.HTTPPort)+"/v1/logs", strings.NewReader("x"))
	require.NoError(t, err)
	req.Host = "logs." + domain
	req.Header.Set("X-Alb-Status", "500")
	resp, err = r.Client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "the ALB's 500 passes unchanged")
}

// TestBatchResentWhenAnALBAddressResets: a push that one ALB address resets
// after it was sent (a node going away) is sent again to the ALB's other
// address, so the agent gets its 200: telemetry batches are replay-safe
// (agents resend them themselves), though POSTs. Without it nginx answers
// 502 for a POST it has sent.
func TestBatchResentWhenAnALBAddressResets(t *testing.T) {
	r := newRig(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.11:%d", r.ALBPort))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = c.Read(make([]byte, 1024)) // the request arrived ...
				_ = c.(*net.TCPConn).SetLinger(0)
				c.Close() // ... and the connection is reset
			}()
		}
	}()
	r.DNS.Set("metrics-alb.test", 1, "127.0.0.2", "127.0.0.11")
	r.Nginx.Resolve(t)
	r.Nginx.Reload(t)
	for i := 0; i < 20; i++ {
		a, err := r.send(t, http.MethodPost, "metrics."+domain, r.HTTPPort, []byte("batch"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, a.status, "push %d: %s", i, a.body)
		assert.Equal(t, "metrics-a", a.alb)
	}
	assert.Contains(t, r.Nginx.ErrorLog(), "127.0.0.11", "the resetting address was tried")
}
