package proxyfleet_test

import (
	"bytes"
	"context"
	"crypto/tls"
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
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// mixedRig runs the proxies' config of examples/tls-mixed.yaml on real
// nginx, as the provider stack renders it (stacks.Routes, proxy protocol,
// the consumer header): metrics and profiles over HTTP to cleartext
// stand-in ALBs, traces passed through to a stand-in HTTPS listener whose
// certificate comes from a CA made here. The example's ports move to free
// ones on 127.0.0.5, keeping which services share a port.
type mixedRig struct {
	nginx *nginxtest.Nginx
	ca    *nginxtest.CA
	albs  map[string]*nginxtest.ALB
	// hosts and ports are what agents use, by service.
	hosts map[string]string
	ports map[string]int
}

func startMixedRig(t *testing.T) *mixedRig {
	topo, err := topology.Load("../../examples/tls-mixed.yaml")
	require.NoError(t, err)
	var routes []proxyfleet.ConfigRoute
	for _, r := range *stacks.Routes(topo) { // as the fleet renders them
		routes = append(routes, proxyfleet.ConfigRoute{Name: *r.Name, Host: *r.Host, Port: int(*r.Port), Upstream: *r.Upstream,
			UpstreamPort: int(*r.UpstreamPort), GRPC: *r.GRPC, UpstreamTLS: *r.UpstreamTLS, TLSPassthrough: *r.TLSPassthrough})
	}
	require.Len(t, routes, 3)
	m := &mixedRig{ca: nginxtest.NewCA(t), albs: map[string]*nginxtest.ALB{}, hosts: map[string]string{}, ports: map[string]int{}}
	dns := nginxtest.StartDNS(t)
	free := nginxtest.FreePorts(t, "127.0.0.5", len(routes)+1)
	moved := map[int]int{}
	for i := range routes {
		r := &routes[i]
		if _, ok := moved[r.Port]; !ok {
			moved[r.Port] = free[len(moved)]
		}
		r.Port = moved[r.Port]
		ip := fmt.Sprintf("127.0.0.%d", 2*i+2)
		r.UpstreamPort = nginxtest.FreePort(t, ip)
		if r.TLSPassthrough {
			m.albs[r.Name] = nginxtest.StartTLSALB(t, r.Name, ip, r.UpstreamPort, m.ca.Issue(t, r.Host))
		} else {
			m.albs[r.Name] = nginxtest.StartALB(t, r.Name, ip, r.UpstreamPort)
		}
		dns.Set(r.Upstream, 1, ip) // the ALB's own DNS name, as in the file
		m.hosts[r.Name], m.ports[r.Name] = r.Host, r.Port
	}
	require.True(t, topo.Proxy.Attribution() && topo.Proxy.Header(), "the example passes the consumer to the HTTP services' ALBs")
	cfg := proxyfleet.Config{Routes: routes, HealthPort: free[len(free)-1], ProxyProtocol: true, ConsumerHeader: true}
	m.nginx = nginxtest.Prepare(t, cfg, "127.0.0.5", dns)
	m.nginx.Env = []string{nginxtest.FleetEnv}
	m.nginx.Start(t)
	require.NoError(t, os.WriteFile(m.nginx.Config.ConsumerMap, []byte(vpcePayments+" payments;\n"), 0o644))
	m.nginx.Reload(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error log and resolver output:\n%s", m.nginx.ErrorLog())
		}
	})
	return m
}

// addr is nginx's listener of service.
func (m *mixedRig) addr(service string) string {
	return fmt.Sprintf("%s%d", m.nginx.Config.Listen, m.ports[service])
}

// tlsClient is an agent that speaks TLS to the service's name, trusting
// only the test CA, through nginx's listener of service, behind the NLB's
// proxy protocol header for vpce.
func (m *mixedRig) tlsClient(service, vpce string, h2 bool) *http.Client {
	var p http.Protocols
	p.SetHTTP1(!h2)
	p.SetHTTP2(h2)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return nginxtest.ProxyDialer(vpce)(ctx, network, m.addr(service))
		},
		TLSClientConfig: &tls.Config{RootCAs: m.ca.Pool, MinVersion: tls.VersionTLS12},
		Protocols:       &p,
	}}
}

// TestMixedTLSExample: one fleet serves plain-HTTP services, routed by Host
// with the consumer header added, and a passthrough service, routed by SNI
// with the agent's TLS ending at the ALB, each on its own port.
func TestMixedTLSExample(t *testing.T) {
	m := startMixedRig(t)
	for _, service := range []string{"metrics", "profiles"} {
		t.Run(service, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/ingest", m.addr(service)), strings.NewReader(`{"m":1}`))
			require.NoError(t, err)
			req.Host = m.hosts[service]
			req.Header.Set(proxyfleet.ConsumerHeaderName, "forged")
			resp, err := m.nginx.Client(vpcePayments, false).Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, service, resp.Header.Get("X-Alb"), "the service's own ALB answered")
			assert.Equal(t, []string{"payments"}, resp.Header.Values("X-Seen-Consumer"), "the proxies name the consumer to HTTP services' ALBs")
			assert.EqualValues(t, 1, m.albs[service].Requests())
		})
	}

	t.Run("traces", func(t *testing.T) {
		frame := []byte{0, 0, 0, 0, 3, 'a', 'b', 'c'}
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("https://%s:%d/opentelemetry.proto.collector.trace.v1.TraceService/Export", m.hosts["traces"], m.ports["traces"]), bytes.NewReader(frame))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("TE", "trailers")
		c := m.tlsClient("traces", vpcePayments, true)
		defer c.CloseIdleConnections()
		resp, err := c.Do(req)
		require.NoError(t, err, "the agent verifies the ALB's certificate for %s", m.hosts["traces"])
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "0", resp.Trailer.Get("Grpc-Status"))
		assert.Equal(t, "HTTP/2.0", resp.Header.Get("X-Seen-Proto"), "gRPC over the agent's own TLS (ALPN h2)")
		assert.Equal(t, "traces", resp.Header.Get("X-Alb"))
		assert.Empty(t, resp.Header.Values("X-Seen-Consumer"), "nothing is added inside the agent's TLS")
		assert.Equal(t, []string{m.hosts["traces"]}, resp.TLS.PeerCertificates[0].DNSNames, "the ALB's certificate reached the agent")
	})

	t.Run("each port speaks its own", func(t *testing.T) {
		// TLS to an HTTP service's port: nginx's http listener answers no handshake.
		_, err := m.tlsClient("metrics", vpcePayments, false).Get("https://" + m.hosts["metrics"] + "/")
		assert.Error(t, err)
		// Plain HTTP to the passthrough port: no ClientHello, no name, no upstream.
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/", m.addr("traces")), nil)
		require.NoError(t, err)
		req.Host = m.hosts["traces"]
		_, err = m.nginx.Client(vpcePayments, false).Do(req)
		assert.Error(t, err)
		assert.EqualValues(t, 1, m.albs["traces"].Requests(), "only the agent's TLS request reached the traces ALB")
	})

	// The bootstrap's self-check: HTTP routes by their ALBs, the
	// passthrough route by a handshake through the proxy.
	out, ok := m.nginx.SelfCheck(t, filepath.Join(t.TempDir(), "ready"), "OBSLINK_HEALTH_PROXY_PROTOCOL=1", "OBSLINK_REQUIRE_REACHABLE=1")
	assert.True(t, ok, out)
}

// TestMixedTLSConfig: a fleet with passthrough and HTTP routes renders
// both blocks, loads the stream module, lists only the passthrough routes
// for the self-check's handshakes, and refuses a port both would use.
func TestMixedTLSConfig(t *testing.T) {
	routes := []proxyfleet.ConfigRoute{
		{Name: "metrics", Host: "metrics." + domain, Port: 80, Upstream: "m.test", UpstreamPort: 80},
		{Name: "traces", Host: "traces." + domain, Port: 443, Upstream: "t.test", UpstreamPort: 443, UpstreamTLS: true, GRPC: true, TLSPassthrough: true},
	}
	cfg := proxyfleet.Config{Routes: routes, ProxyProtocol: true, ConsumerHeader: true}
	conf, err := cfg.Render()
	require.NoError(t, err)
	assert.Contains(t, conf, "load_module "+proxyfleet.DefaultStreamModule+";")
	assert.Contains(t, conf, "server_name metrics."+domain+";")
	assert.NotContains(t, conf, "server_name traces.", "the passthrough service is not in the http block")
	assert.Contains(t, conf, `"443:traces.`+domain+`" traces_upstream;`)
	assert.NotContains(t, conf, `"80:metrics.`, "the HTTP service is not in the stream block")
	assert.Contains(t, conf, proxyfleet.ConsumerHeaderName+" $obslink_consumer;", "the HTTP service's ALB gets the header")
	assert.Equal(t, "traces traces."+domain+" 443\n", cfg.TLSRoutes())
	assert.True(t, cfg.NeedsStream())
	assert.Contains(t, cfg.SelfCheckScript(), "curl -sk")

	clash := append([]proxyfleet.ConfigRoute(nil), routes...)
	clash[1].Port = 80
	_, err = proxyfleet.Config{Routes: clash}.Render()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "port 80 mixes TLSPassthrough and HTTP routes")

	allTLS := []proxyfleet.ConfigRoute{routes[1]}
	_, err = proxyfleet.Config{Routes: allTLS, ProxyProtocol: true, ConsumerHeader: true}.Render()
	require.Error(t, err, "a header with no HTTP route to add it to")
	assert.Contains(t, err.Error(), "cannot add a header")
}
