package proxyfleet_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

// The proxy protocol tests run the fleet's config (proxy protocol v2 on
// every listener, the consumer map, X-Obslink-Consumer) on nginx >= 1.23.2:
// Debian 13's 1.26, the version Amazon Linux 2023 ships, since Debian 12's
// 1.22 lacks the AWS TLV variables. Everything else runs on both.

const (
	vpcePayments = "vpce-0a1b2c3d4e5f60718"
	vpceSearch   = "vpce-0fedcba9876543210"
	vpceStranger = "vpce-0123456789abcdef0"
)

func ppRig(t *testing.T, header bool) *nginxtest.Rig {
	r := nginxtest.StartRig(t, domain, func(c *proxyfleet.Config) {
		c.ProxyProtocol, c.ConsumerHeader = true, header
	})
	// What obslink-consumers writes (its own test checks it against the EC2 API).
	require.NoError(t, os.WriteFile(r.Nginx.Config.ConsumerMap,
		[]byte(vpcePayments+" payments;\n"+vpceSearch+" search+search-eu;\n"), 0o644))
	r.Nginx.Reload(t)
	return r
}

func ppSend(t *testing.T, r *nginxtest.Rig, vpce, host string, port int, h2c bool, hdr http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.Nginx.URL(port)+"/api/v1/push", strings.NewReader(`{"m":1}`))
	require.NoError(t, err)
	req.Host = host
	for k, v := range hdr {
		req.Header[k] = v
	}
	if h2c {
		req.Header.Set("Content-Type", "application/grpc")
	}
	resp, err := r.Nginx.Client(vpce, h2c).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestProxyProtocolNamesTheConsumer(t *testing.T) {
	r := ppRig(t, true)
	for _, tt := range []struct {
		vpce, want string
	}{
		{vpcePayments, "payments"},
		{vpceSearch, "search+search-eu"}, // one account, two consumers in one region
		{vpceStranger, "unknown"},        // an endpoint obslink does not know (yet)
	} {
		t.Run(tt.vpce, func(t *testing.T) {
			// A forged header from the agent is replaced, never passed on.
			resp := ppSend(t, r, tt.vpce, "metrics."+domain, r.HTTPPort, false, http.Header{"X-Obslink-Consumer": {"forged"}})
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []string{tt.want}, resp.Header.Values("X-Seen-Consumer"), "header the ALB received")
			assert.Equal(t, []string{nginxtest.AgentAddr.Addr().String()}, resp.Header.Values("X-Seen-Forwarded-For"))

			grpc := ppSend(t, r, tt.vpce, "traces."+domain, r.GRPCPort, true, http.Header{"X-Obslink-Consumer": {"forged"}})
			require.Equal(t, http.StatusOK, grpc.StatusCode)
			assert.Equal(t, []string{tt.want}, grpc.Header.Values("X-Seen-Consumer"), "gRPC: header the ALB received")
		})
	}

	// The access log names the endpoint, the consumer, the agent and the NLB side.
	var seen []map[string]any
	for _, line := range waitLog(t, r, 6) {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		seen = append(seen, e)
	}
	// Two lines (HTTP, gRPC) per endpoint; nginx writes each after its
	// response, so lines of consecutive requests may swap: count them.
	pairs := map[string]int{}
	for i, e := range seen {
		pairs[fmt.Sprintf("%v %v", e["vpce"], e["consumer"])]++
		assert.Equal(t, nginxtest.AgentAddr.Addr().String(), e["client"], "line %d", i)
		assert.Equal(t, "127.0.0.1", e["nlb"], "line %d", i)
	}
	assert.Equal(t, map[string]int{vpcePayments + " payments": 2, vpceSearch + " search+search-eu": 2, vpceStranger + " unknown": 2}, pairs)
}

func TestProxyProtocolWithoutHeaderOption(t *testing.T) {
	r := ppRig(t, false)
	resp := ppSend(t, r, vpcePayments, "metrics."+domain, r.HTTPPort, false, http.Header{"X-Obslink-Consumer": {"forged"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("X-Seen-Consumer"), "header off: nothing, not even the agent's forgery, reaches the ALB")
	lines := waitLog(t, r, 1)
	assert.Contains(t, lines[0], `"consumer":"payments"`, "the log still names the consumer")
}

func TestProxyProtocolHealthChecks(t *testing.T) {
	r := ppRig(t, true)
	health := fmt.Sprintf("http://%s%d/healthz", r.Nginx.Config.Listen, r.Nginx.Config.HealthPort)
	// The NLB's health checks carry a LOCAL header (no client, no TLV).
	resp, err := r.Nginx.Client("", false).Get(health)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A connection without the header (anything but the NLB) gets nothing.
	_, err = http.Get(health)
	assert.Error(t, err, "nginx answered a request without a proxy protocol header")

	// The bootstrap's self-check speaks proxy protocol v1 (curl --haproxy-protocol).
	ready := filepath.Join(t.TempDir(), "ready")
	out, ok := r.Nginx.SelfCheck(t, ready, "OBSLINK_HEALTH_PROXY_PROTOCOL=1")
	assert.True(t, ok, out)
	out, ok = r.Nginx.SelfCheck(t, ready)
	assert.False(t, ok, "self-check without proxy protocol passed:\n%s", out)
	assert.Contains(t, out, "nginx does not answer")
}

func TestProxyProtocolRequiredOnServicePorts(t *testing.T) {
	r := ppRig(t, true)
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(r.Nginx.URL(r.HTTPPort), "http://"), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = fmt.Fprintf(c, "POST /api/v1/push HTTP/1.1\r\nHost: metrics.%s\r\nContent-Length: 2\r\n\r\n{}", domain)
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	assert.NotContains(t, string(b), "200 OK", "a request without the NLB's header was proxied")
	assert.Zero(t, r.MetricsA.Requests())
}

// waitLog returns the access log once it has n lines (nginx writes a line
// after the response is sent).
func waitLog(t *testing.T, r *nginxtest.Rig, n int) []string {
	t.Helper()
	var lines []string
	require.Eventually(t, func() bool { lines = r.Nginx.AccessLog(); return len(lines) >= n },
		5*time.Second, 20*time.Millisecond, "access log: want %d lines", n)
	require.Len(t, lines, n)
	return lines
}

// TestConsumersScriptOnRealNginx runs obslink-consumers against moto's SSM
// and EC2 APIs (assets/endpoints/test_obslink_consumers.py) with this
// nginx's -t and reload, then sends requests from each endpoint through
// nginx: the names the script mapped reach the ALB stand-in.
func TestConsumersScriptOnRealNginx(t *testing.T) {
	r := nginxtest.StartRig(t, domain, func(c *proxyfleet.Config) { c.ProxyProtocol, c.ConsumerHeader = true, true })
	n := r.Nginx
	result := filepath.Join(t.TempDir(), "result.json")
	t.Setenv("OBSLINK_TEST_CONSUMER_MAP", n.Config.ConsumerMap)
	t.Setenv("OBSLINK_TEST_NGINX_TEST", fmt.Sprintf("%s -t -q -p %s -c %s -e %s", n.Bin, n.Dir, n.Conf, filepath.Join(n.Dir, "error.log")))
	t.Setenv("OBSLINK_TEST_RELOAD", fmt.Sprintf("%s -p %s -c %s -s reload", n.Bin, n.Dir, n.Conf))
	t.Setenv("OBSLINK_TEST_RESULT", result)
	nginxtest.PythonUnittest(t, "../../assets/endpoints", "test_obslink_consumers")
	b, err := os.ReadFile(result)
	require.NoError(t, err, "the script's real-nginx case did not run")
	var want map[string]string
	require.NoError(t, json.Unmarshal(b, &want))
	require.Len(t, want, 5) // three named, one by account, one not connected
	for vpce, name := range want {
		// The reload is asynchronous: new workers take over within moments.
		assert.Eventually(t, func() bool {
			resp := ppSend(t, r, vpce, "metrics."+domain, r.HTTPPort, false, nil)
			return resp.Header.Get("X-Seen-Consumer") == name
		}, 10*time.Second, 100*time.Millisecond, "%s: want %s", vpce, name)
	}
}
