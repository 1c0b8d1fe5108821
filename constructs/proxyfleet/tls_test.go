package proxyfleet_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

// The tls: passthrough tests run the rendered stream config on real nginx
// (Debian 12's 1.22 with libnginx-mod-stream; with proxy protocol, trixie's
// 1.26) in front of stand-in ALB HTTPS listeners whose certificates come
// from a CA made in the test. The agents trust only that CA and check the
// server's name, so a passing request proves the proxies forwarded the TLS
// session to the right ALB without opening it.

// tlsGet sends an HTTP/1.1 POST for service through the rig's nginx.
func tlsGet(t *testing.T, r *nginxtest.TLSRig, vpce, service string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.URL(service, "/api/v1/push"), strings.NewReader(`{"m":1}`))
	require.NoError(t, err)
	c := r.Client(vpce, false)
	defer c.CloseIdleConnections() // nginx logs a connection when it closes
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// tlsGRPC sends a unary gRPC call (HTTP/2 through ALPN) to traces.
func tlsGRPC(t *testing.T, r *nginxtest.TLSRig, vpce string) *http.Response {
	t.Helper()
	frame := []byte{0, 0, 0, 0, 3, 'a', 'b', 'c'}
	req, err := http.NewRequest(http.MethodPost, r.URL("traces", "/opentelemetry.proto.collector.trace.v1.TraceService/Export"), bytes.NewReader(frame))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	c := r.Client(vpce, true)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body) // the trailers arrive after the body
	resp.Body.Close()
	return resp
}

func TestTLSPassthroughRoutesBySNI(t *testing.T) {
	r := nginxtest.StartTLSRig(t, domain)
	for _, tt := range []struct{ service, wantALB string }{{"metrics", "metrics"}, {"logs", "logs"}} {
		t.Run(tt.service, func(t *testing.T) {
			resp, err := tlsGet(t, r, "", tt.service)
			require.NoError(t, err, "the agent verifies the ALB's certificate for %s.%s", tt.service, domain)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tt.wantALB, resp.Header.Get("X-Alb"), "the service's own ALB answered")
			assert.Equal(t, tt.service+"."+domain+":"+fmt.Sprint(r.Port), resp.Header.Get("X-Seen-Host"), "the agent's Host, untouched")
			assert.Equal(t, "HTTP/1.1", resp.Header.Get("X-Seen-Proto"))
			require.NotNil(t, resp.TLS)
			assert.Equal(t, []string{tt.service + "." + domain}, resp.TLS.PeerCertificates[0].DNSNames, "the ALB's certificate reached the agent")
		})
	}
	assert.EqualValues(t, 1, r.Metrics.Requests())
	assert.EqualValues(t, 1, r.Logs.Requests())
	assert.Zero(t, r.Traces.Requests())
}

func TestTLSPassthroughGRPC(t *testing.T) {
	r := nginxtest.StartTLSRig(t, domain)
	resp := tlsGRPC(t, r, "")
	assert.Equal(t, "HTTP/2.0", resp.Proto, "ALPN h2 end to end")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "traces", resp.Header.Get("X-Alb"))
	assert.Equal(t, "HTTP/2.0", resp.Header.Get("X-Seen-Proto"), "the ALB sees the agent's own HTTP/2")
	assert.Equal(t, "8", resp.Header.Get("X-Body-Bytes"))
	assert.Equal(t, "0", resp.Trailer.Get("Grpc-Status"), "gRPC status trailer passed through")
	assert.Equal(t, []string{"traces." + domain}, resp.TLS.PeerCertificates[0].DNSNames)
}

// TestTLSPassthroughRefusesUnknownNames: a name nginx does not route, no
// name at all, a routed name on an ALB whose certificate is for another
// name, and plain HTTP never reach an agent's verified session; refusals
// are logged.
func TestTLSPassthroughRefusesUnknownNames(t *testing.T) {
	r := nginxtest.StartTLSRig(t, domain)
	before := r.Metrics.Conns() + r.Logs.Conns() + r.Traces.Conns()

	err := r.Handshake("", &tls.Config{ServerName: "unknown." + domain})
	assert.Error(t, err, "an unknown SNI is refused")
	err = r.Handshake("", &tls.Config{ServerName: "metrics." + domain + ".evil.com"})
	assert.Error(t, err, "a name that only starts like a service's is refused")
	// No SNI: Go sends none without a ServerName (then it cannot verify a name).
	err = r.Handshake("", &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the point: no SNI at all
	assert.Error(t, err, "a handshake without SNI is refused")
	c, err := net.DialTimeout("tcp", r.Addr(), 5*time.Second)
	require.NoError(t, err)
	_, _ = fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: metrics.%s\r\n\r\n", domain)
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	assert.Empty(t, b, "plain HTTP gets nothing")
	assert.Equal(t, before, r.Metrics.Conns()+r.Logs.Conns()+r.Traces.Conns(), "no refused connection reached an ALB")

	// Names are matched ignoring case, as DNS does.
	assert.NoError(t, r.Handshake("", &tls.Config{ServerName: "METRICS." + domain}))

	var refused []map[string]any
	require.Eventually(t, func() bool {
		refused = nil
		for _, l := range r.Nginx.AccessLog() {
			var e map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &e), l)
			if e["service"] == "-" {
				refused = append(refused, e)
			}
		}
		return len(refused) >= 4
	}, 20*time.Second, 50*time.Millisecond, "access log lines for the refused connections")
	snis := map[any]bool{}
	for _, e := range refused {
		snis[e["sni"]] = true
		assert.EqualValues(t, 0, e["upstream_error"], "a refusal is not an ALB's fault: %v", e)
		assert.Equal(t, "", e["upstream"], "no ALB was tried: %v", e)
	}
	assert.Equal(t, map[any]bool{"unknown." + domain: true, "metrics." + domain + ".evil.com": true, "": true}, snis)
	assert.Contains(t, r.Nginx.ErrorLog(), `no port in upstream "`+proxyfleet.RefusedUpstream+`"`, "the error log says why")
}

// TestTLSPassthroughVerificationIsEndToEnd: when the proxy sends a name's
// connection to an ALB whose certificate is for another name, the agent's
// verification fails: the proxies cannot stand in for an ALB.
func TestTLSPassthroughVerificationIsEndToEnd(t *testing.T) {
	r := nginxtest.StartTLSRig(t, domain)
	_, err := tlsGet(t, r, "", "logs")
	require.NoError(t, err)
	// logs' upstream now points at the metrics ALB (as a wrong route would).
	require.NoError(t, os.WriteFile(filepath.Join(r.Nginx.Config.UpstreamDir, "logs.conf"),
		[]byte(fmt.Sprintf("server 127.0.0.2:%d max_fails=1 fail_timeout=5s;\n", r.ALBPorts["metrics"])), 0o644))
	r.Nginx.Reload(t)
	_, err = tlsGet(t, r, "", "logs")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate is valid for metrics."+domain+", not logs."+domain)
	assert.EqualValues(t, 1, r.Logs.Requests())
	assert.Zero(t, r.Metrics.Requests(), "the request never left the agent")
}

// TestTLSPassthroughAccessLog: one JSON line per connection with the fields
// the log and the metric filters read (status, upstream_error as numbers).
func TestTLSPassthroughAccessLog(t *testing.T) {
	r := nginxtest.StartTLSRig(t, domain)
	_, err := tlsGet(t, r, "", "metrics")
	require.NoError(t, err)
	tlsGRPC(t, r, "")
	lines := tlsLog(t, r, 2)
	byService := map[any]map[string]any{}
	for _, e := range lines {
		byService[e["service"]] = e
	}
	m := byService["metrics"]
	require.NotNil(t, m, "%v", lines)
	assert.Equal(t, "metrics."+domain, m["sni"])
	assert.Equal(t, fmt.Sprintf("127.0.0.2:%d", r.ALBPorts["metrics"]), m["upstream"])
	assert.Equal(t, "127.0.0.1", m["client"])
	assert.EqualValues(t, r.Port, m["port"])
	assert.EqualValues(t, 200, m["status"])
	assert.EqualValues(t, 0, m["upstream_error"])
	for _, k := range []string{"request_bytes", "response_bytes", "session_time"} {
		assert.IsType(t, float64(0), m[k], k)
		assert.Positive(t, m[k], k)
	}
	assert.Contains(t, m, "alpn")
	assert.Contains(t, byService["traces"]["alpn"], "h2", "gRPC agents ask for h2")

	// An ALB that cannot be reached: upstream_error 1, as the metric filter counts it.
	require.NoError(t, os.WriteFile(filepath.Join(r.Nginx.Config.UpstreamDir, "logs.conf"),
		[]byte("server 127.0.0.9:1 max_fails=1 fail_timeout=5s;\n"), 0o644))
	r.Nginx.Reload(t)
	_, err = tlsGet(t, r, "", "logs")
	require.Error(t, err)
	var failed map[string]any
	require.Eventually(t, func() bool {
		for _, e := range tlsLog(t, r, 0) {
			if e["service"] == "logs" {
				failed = e
			}
		}
		return failed != nil
	}, 10*time.Second, 50*time.Millisecond)
	assert.EqualValues(t, 502, failed["status"])
	assert.EqualValues(t, 1, failed["upstream_error"])
}

// tlsLog returns the access log's lines, decoded, once it has at least n.
func tlsLog(t *testing.T, r *nginxtest.TLSRig, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	require.Eventually(t, func() bool {
		out = nil
		for _, l := range r.Nginx.AccessLog() {
			var e map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &e), l)
			out = append(out, e)
		}
		return len(out) >= n
	}, 10*time.Second, 20*time.Millisecond, "access log: want %d lines", n)
	return out
}

// TestTLSPassthroughProxyProtocol: behind the NLB's proxy protocol, the log
// names each connection's consumer, as the http block does for requests.
func TestTLSPassthroughProxyProtocol(t *testing.T) {
	r := nginxtest.StartTLSRig(t, domain, func(c *proxyfleet.Config) { c.ProxyProtocol = true })
	require.NoError(t, os.WriteFile(r.Nginx.Config.ConsumerMap, []byte(vpcePayments+" payments;\n"), 0o644))
	r.Nginx.Reload(t)
	resp, err := tlsGet(t, r, vpcePayments, "metrics")
	require.NoError(t, err)
	assert.Equal(t, "metrics", resp.Header.Get("X-Alb"))
	assert.Empty(t, resp.Header.Values("X-Seen-Consumer"), "nothing is added inside the agent's TLS")
	assert.Equal(t, "0", tlsGRPC(t, r, vpceStranger).Trailer.Get("Grpc-Status"))

	byService := map[any]map[string]any{}
	for _, e := range tlsLog(t, r, 2) {
		byService[e["service"]] = e
	}
	assert.Equal(t, vpcePayments, byService["metrics"]["vpce"])
	assert.Equal(t, "payments", byService["metrics"]["consumer"])
	assert.Equal(t, vpceStranger, byService["traces"]["vpce"])
	assert.Equal(t, "unknown", byService["traces"]["consumer"])
	for _, e := range byService {
		assert.Equal(t, nginxtest.AgentAddr.Addr().String(), e["client"], "the agent's address in its VPC")
		assert.Equal(t, "127.0.0.1", e["nlb"])
	}

	// Without the NLB's header nothing gets through.
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", r.Addr(), &tls.Config{ServerName: "metrics." + domain, RootCAs: r.CA.Pool})
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "a connection without a proxy protocol header")

	ready := filepath.Join(t.TempDir(), "ready")
	out, ok := r.Nginx.SelfCheck(t, ready, "OBSLINK_HEALTH_PROXY_PROTOCOL=1")
	assert.True(t, ok, out)
}

// TestTLSPassthroughSelfCheck: the bootstrap's self-check completes a TLS
// handshake through the proxy for every route; one whose ALB answers
// directly but not through the proxy fails it; an ALB that does not answer
// at all stays a warning, as without passthrough.
func TestTLSPassthroughSelfCheck(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	r := nginxtest.StartTLSRig(t, domain, func(c *proxyfleet.Config) { c.ReadyFile = ready })
	out, ok := r.Nginx.SelfCheck(t, ready)
	require.True(t, ok, out)
	assert.NotContains(t, out, "warning")
	assert.FileExists(t, ready)

	// A route nginx does not serve (the name, as a broken map would): failure.
	routes := filepath.Join(t.TempDir(), "tls-routes")
	require.NoError(t, os.WriteFile(routes, []byte(strings.Replace(r.Nginx.Config.TLSRoutes(), "logs logs."+domain, "logs other."+domain, 1)), 0o644))
	out, ok = r.Nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"), "OBSLINK_TLS_ROUTES="+routes)
	assert.False(t, ok, out)
	assert.Contains(t, out, "logs: logs-alb.test answers, but a TLS handshake through this proxy with SNI other."+domain)

	// An ALB that does not answer (its rules deploy later): a warning.
	require.NoError(t, os.WriteFile(filepath.Join(r.Nginx.Config.UpstreamDir, "metrics.conf"), []byte("server 127.0.0.9:1 max_fails=1 fail_timeout=5s;\n"), 0o644))
	r.Nginx.Reload(t)
	out, ok = r.Nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"))
	assert.True(t, ok, out)
	assert.Contains(t, out, "warning: metrics: metrics-alb.test (127.0.0.9 ) does not answer")
	out, ok = r.Nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"), "OBSLINK_REQUIRE_REACHABLE=1")
	assert.False(t, ok, out)
}

// TestTLSPassthroughConfig: the rules Config enforces, what the stream
// block holds, and the bootstrap's extra package and self-check routes.
func TestTLSPassthroughConfig(t *testing.T) {
	routes := []proxyfleet.ConfigRoute{
		{Name: "metrics", Host: "metrics." + domain, Port: 443, Upstream: "m.test", UpstreamPort: 443, UpstreamTLS: true},
		{Name: "traces", Host: "traces." + domain, Port: 443, Upstream: "t.test", UpstreamPort: 443, UpstreamTLS: true, GRPC: true},
	}
	cfg := proxyfleet.Config{Routes: routes, TLSPassthrough: true}
	conf, err := cfg.Render()
	require.NoError(t, err, "gRPC and HTTP share a port: SNI routes them")
	assert.True(t, strings.HasPrefix(conf, "# Rendered by obslink"))
	assert.Contains(t, conf, "load_module "+proxyfleet.DefaultStreamModule+";")
	assert.Contains(t, conf, `"443:traces.`+domain+`" traces_upstream;`)
	assert.NotContains(t, conf, "proxy_pass http", "the http block proxies nothing")
	assert.Equal(t, 1, strings.Count(conf, "ssl_preread on;"))

	none := ""
	conf, err = proxyfleet.Config{Routes: routes, TLSPassthrough: true, StreamModule: &none}.Render()
	require.NoError(t, err)
	assert.NotContains(t, conf, "load_module", "a built-in module needs none")

	plain := proxyfleet.Config{Routes: routes[:1]}
	conf, err = plain.Render()
	require.NoError(t, err)
	assert.NotContains(t, conf, "\nstream {")
	assert.NotContains(t, conf, "ssl_preread")
	assert.NotContains(t, conf, "load_module")

	for _, tt := range []struct {
		name string
		cfg  proxyfleet.Config
		want string
	}{
		{"cleartext upstream", proxyfleet.Config{TLSPassthrough: true, Routes: []proxyfleet.ConfigRoute{{Name: "m", Host: "m.x", Port: 443, Upstream: "m.test", UpstreamPort: 80}}}, "set UpstreamTLS"},
		{"consumer header", proxyfleet.Config{TLSPassthrough: true, ProxyProtocol: true, ConsumerHeader: true, Routes: routes}, "cannot add a header"},
		{"mixed port without passthrough", proxyfleet.Config{Routes: routes}, "mixes gRPC and HTTP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Render()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	b, err := cfg.Bootstrap(proxyfleet.UserDataInput{})
	require.NoError(t, err)
	assert.Contains(t, b.UserData, "dnf install -y nginx "+proxyfleet.StreamPackage+" bind-utils")
	assert.Contains(t, b.Files, "OBSLINK_TLS_ROUTES=/etc/obslink/tls-routes")
	assert.Equal(t, "metrics metrics."+domain+" 443\ntraces traces."+domain+" 443\n", cfg.TLSRoutes())
	script, err := nginxtest.FetchFiles(t, b.UserData, b.Parameters)
	require.NoError(t, err)
	files := nginxtest.RunFiles(t, script)
	assert.Equal(t, cfg.TLSRoutes(), files["/etc/obslink/tls-routes"].Text, "the bootstrap writes the routes")
	assert.Equal(t, cfg.SelfCheckScript(), files["/usr/local/bin/obslink-selfcheck"].Text)
	conf, err = cfg.Render()
	require.NoError(t, err)
	assert.Equal(t, conf, files["/etc/nginx/nginx.conf"].Text)
	b, err = plain.Bootstrap(proxyfleet.UserDataInput{})
	require.NoError(t, err)
	assert.NotContains(t, b.UserData, proxyfleet.StreamPackage)
	assert.NotContains(t, b.Files, "OBSLINK_TLS_ROUTES")

	// The self-check's handshakes ship only with passthrough (other fleets'
	// user data stays as it was); both variants are valid bash.
	assert.Contains(t, cfg.SelfCheckScript(), "curl -sk")
	assert.NotContains(t, plain.SelfCheckScript(), "curl -sk")
	assert.NotContains(t, plain.SelfCheckScript(), "tls-passthrough")
	shellcheck := nginxtest.Require(t, "shellcheck")
	for _, script := range []string{cfg.SelfCheckScript(), plain.SelfCheckScript()} {
		cmd := exec.Command(shellcheck, "--shell=bash", "-")
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "shellcheck:\n%s", out)
	}
}

// TestTLSPassthroughFleet: the construct turns the header off and ships
// the passthrough config.
func TestTLSPassthroughFleet(t *testing.T) {
	f := newFleet(t, proxyfleet.Props{TLSPassthrough: jsii.Bool(true), ProxyProtocol: jsii.Bool(true), Routes: &[]*proxyfleet.Route{
		{Name: jsii.String("metrics"), Host: jsii.String("metrics.observability.internal"), Port: jsii.Number(443), Upstream: jsii.String("m.elb.amazonaws.com"), UpstreamPort: jsii.Number(443), UpstreamTLS: jsii.Bool(true)},
		{Name: jsii.String("traces"), Host: jsii.String("traces.observability.internal"), Port: jsii.Number(443), Upstream: jsii.String("t.elb.amazonaws.com"), UpstreamPort: jsii.Number(443), GRPC: jsii.Bool(true), UpstreamTLS: jsii.Bool(true)},
	}})
	conf := f.fleet.NginxConfig()
	assert.Contains(t, conf, "ssl_preread on;")
	assert.NotContains(t, conf, proxyfleet.ConsumerHeaderName+" $obslink_consumer")
}

// TestLongHostNamesPassNginx: a service name of 63 characters (a DNS
// label's most) under a long domain makes keys far longer than nginx's
// default hash buckets hold (about 46 bytes); nginx refuses such a config
// ("could not build map_hash"), which would fail the bootstrap. The
// rendered config sizes the buckets, with and without passthrough, and the
// default topology's short names keep nginx's default (no directive).
func TestLongHostNamesPassNginx(t *testing.T) {
	long := strings.Repeat("s", 63)
	longDomain := "observability.platform-team.example-company.internal"
	routes := []proxyfleet.ConfigRoute{
		{Name: "metrics", Host: "metrics." + longDomain, Port: 443, Upstream: "m.test", UpstreamPort: 443, UpstreamTLS: true},
		{Name: "long", Host: long + "." + longDomain, Port: 443, Upstream: "l.test", UpstreamPort: 443, UpstreamTLS: true},
		{Name: "traces", Host: "traces." + longDomain, Port: 4317, Upstream: "t.test", UpstreamPort: 443, UpstreamTLS: true, GRPC: true},
	}
	dns := nginxtest.StartDNS(t)
	for _, host := range []string{"m.test", "l.test", "t.test"} {
		dns.Set(host, 1, "127.0.0.2")
	}
	for _, passthrough := range []bool{false, true} {
		t.Run(fmt.Sprintf("passthrough=%v", passthrough), func(t *testing.T) {
			cfg := proxyfleet.Config{Routes: routes, TLSPassthrough: passthrough}
			if passthrough {
				bin := nginxtest.Require(t, "nginx", "/usr/sbin/nginx")
				module := nginxtest.StreamModule(t, bin)
				cfg.StreamModule = &module
			} else {
				cfg.Routes[2].Port = 4317 // gRPC keeps its own port without passthrough
			}
			n := nginxtest.Prepare(t, cfg, "127.0.0.5", dns)
			n.Resolve(t)
			out, err := n.Test()
			require.NoError(t, err, "nginx -t:\n%s", out)
			conf, err := cfg.Render()
			require.NoError(t, err)
			assert.Contains(t, conf, "map_hash_bucket_size 256;")
		})
	}
	short, err := proxyfleet.Config{Routes: nginxtest.RigRoutes(domain, 80, 4317, 80, 443)}.Render()
	require.NoError(t, err)
	assert.NotContains(t, short, "bucket_size", "short names keep nginx's defaults (and the deployed config)")
}
