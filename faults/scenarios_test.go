package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/assert"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

// stopTimeout is how long systemd lets nginx stop gracefully before it
// kills it, on an instance the shipped bootstrap set up: its drop-in's
// TimeoutStopSec (in the files script the user data fetches), or Amazon
// Linux 2023's nginx.service's 5 s (Fedora's unit: KillSignal=SIGQUIT,
// TimeoutStopSec=5).
func stopTimeout(t *testing.T) time.Duration {
	t.Helper()
	b, err := proxyfleet.Config{Routes: routes(httpPort, grpcPort), HealthPort: healthPort}.Bootstrap(proxyfleet.UserDataInput{})
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\d+)s?$`).FindStringSubmatch(b.Files); m != nil {
		var s int
		fmt.Sscan(m[1], &s)
		return time.Duration(s) * time.Second
	}
	return 5 * time.Second
}

// retire retires the first instance of each fleet as an instance refresh
// or a scale-in does: the NLB deregisters it (no new connections; the
// agents' open ones go on) and, after the deregistration delay, the
// instance shuts down: systemd stops the proxy gracefully (nginx: SIGQUIT;
// HAProxy: SIGUSR1) and kills it after its stop timeout. Probes sent
// straight to the retiring instance just before the stop, which the
// receiver answers only after 8 s (under the 60 s nginx waits for an ALB),
// are in flight when it comes: each must get its answer.
func retire(t *testing.T, r *rig) time.Time {
	drain := seconds("FAULTS_DRAIN", 10*time.Second) // the fleet's deregistration delay is 60 s
	kill := stopTimeout(t)
	t.Logf("retire: deregistration delay %s, stop timeout %s", drain, kill)
	for _, via := range vias {
		r.nlbs[via].register(instances[via][0], false)
	}
	time.Sleep(drain)
	r.rc.probeDelay.Store(int64(8 * time.Second))
	var wg sync.WaitGroup
	answered := map[string]*atomic.Int64{}
	const probes = 10
	for _, via := range vias {
		answered[via] = &atomic.Int64{}
		for i := 0; i < probes; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, err := pushOnce(instances[via][0], "probe-"+via, int64(i)); err == nil && status > 0 {
					answered[via].Add(1)
				}
			}()
		}
	}
	time.Sleep(time.Second) // the probes are in flight
	stops := []struct {
		via string
		pid int
		sig syscall.Signal
	}{{"obslink", r.nginx[0].Pid(), syscall.SIGQUIT}, {"haproxy", r.haproxy[0].Pid(), syscall.SIGUSR1}}
	var sw sync.WaitGroup
	for _, s := range stops {
		sw.Add(1)
		go func() {
			defer sw.Done()
			_ = syscall.Kill(s.pid, s.sig)
			deadline := time.Now().Add(kill)
			for time.Now().Before(deadline) && syscall.Kill(s.pid, 0) == nil {
				time.Sleep(50 * time.Millisecond)
			}
			if syscall.Kill(s.pid, 0) == nil {
				t.Logf("retire: %s still running after %s: killed", s.via, kill)
				_ = syscall.Kill(-s.pid, syscall.SIGKILL)
			}
		}()
	}
	sw.Wait()
	wg.Wait()
	r.rc.probeDelay.Store(0)
	end := time.Now()
	for _, via := range vias {
		t.Logf("retire %s: %d of %d requests in flight at the stop got their answer", via, answered[via].Load(), probes)
	}
	assert.EqualValues(t, probes, answered["obslink"].Load(), "every request in flight when nginx stopped got its answer")
	return end
}

// ppDialer dials the proxy instance at ip and sends the NLB's proxy
// protocol header first (the consumer's VPC endpoint; the agent's address).
func ppDialer(ip string, port int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", hostPort(ip, port))
		if err != nil {
			return nil, err
		}
		src := netip.MustParseAddrPort(c.LocalAddr().String())
		dst := netip.MustParseAddrPort(hostPort(nlbIP, port))
		if _, err := c.Write(nginxtest.ProxyHeader(src, dst, vpce)); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

// writeRequest is a remote-write body with one sample, seq, for via.
func writeRequest(via string, seq int64) []byte {
	req := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: "obslink_fault_load"}, {Name: "signal", Value: load}, {Name: "via", Value: via}},
		Samples: []prompb.Sample{{Value: float64(seq), Timestamp: time.Now().UnixMilli()}},
	}}}
	raw, _ := req.Marshal()
	return snappy.Encode(nil, raw)
}

// pushOnce sends one remote-write request through the proxy instance at ip
// on a connection of its own, and returns the answer's status.
func pushOnce(ip, via string, seq int64) (int, error) {
	tr := &http.Transport{DialContext: ppDialer(ip, httpPort)}
	defer tr.CloseIdleConnections()
	return push(&http.Client{Transport: tr, Timeout: 2 * time.Minute}, via, seq)
}

func push(c *http.Client, via string, seq int64) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://metrics.%s:%d/api/v1/write", domain, httpPort), bytes.NewReader(writeRequest(via, seq)))
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// loadGen is many agents, each on a connection of its own, each sending
// a remote-write request every 5 s (Prometheus's default batch deadline),
// retrying as Prometheus does (5xx and connection errors, backoff from
// 30 ms to 5 s) until the request is delivered.
type loadGen struct {
	sent  atomic.Int64
	mu    sync.Mutex
	acked map[int64]bool
}

// loadFault holds 2,000 agent connections on each proxy for 20 s (2
// minutes with FAULTS_LOAD=1), spread over its two instances as the NLB
// spreads them, under the shipped worker_connections and
// worker_rlimit_nofile (and the peer's maxconn).
func loadFault(t *testing.T, r *rig) time.Time {
	const conns = 2000
	length := 20 * time.Second
	if os.Getenv("FAULTS_LOAD") == "1" {
		length = 2 * time.Minute
	}
	stop := time.Now().Add(length)
	r.load = map[string]*loadGen{}
	var wg sync.WaitGroup
	var open atomic.Int64
	var peak atomic.Int64
	for _, via := range vias {
		g := &loadGen{acked: map[int64]bool{}}
		r.load[via] = g
		for i := 0; i < conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr := &http.Transport{DialContext: ppDialer(instances[via][i%2], httpPort), MaxConnsPerHost: 1, IdleConnTimeout: time.Minute}
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
				time.Sleep(rand.N(5 * time.Second)) // the agents do not start in step
				peak.Store(max(peak.Load(), open.Add(1)))
				defer open.Add(-1)
				for time.Now().Before(stop) {
					seq := g.sent.Add(1)
					for backoff := 30 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
						status, err := push(c, via, seq)
						if err == nil && status/100 == 2 {
							g.mu.Lock()
							g.acked[seq] = true
							g.mu.Unlock()
							break
						}
						if (err == nil && status/100 == 4) || time.Now().After(stop.Add(time.Minute)) {
							break // not recoverable, or the suite's bound
						}
						time.Sleep(backoff)
					}
					time.Sleep(5 * time.Second)
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("load: %d agent connections at most at once over both proxies", peak.Load())
	return time.Now()
}

// badInput sends what a proxy must refuse or time out, to the first
// instance of each fleet directly (as any host in the VPC could), while
// the agents' traffic flows through the NLB beside it.
func badInput(t *testing.T, r *rig) time.Time {
	type outcome struct{ via, name, got string }
	var mu sync.Mutex
	var outcomes []outcome
	var wg sync.WaitGroup
	try := func(via, name string, f func(ip string) string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := f(instances[via][0])
			mu.Lock()
			outcomes = append(outcomes, outcome{via, name, got})
			mu.Unlock()
		}()
	}
	host := "metrics." + domain
	pp := func(ip string) []byte {
		src := netip.MustParseAddrPort("10.1.2.3:40000")
		return nginxtest.ProxyHeader(src, netip.MustParseAddrPort(hostPort(ip, httpPort)), vpce)
	}
	cases := []struct {
		name string
		send func(ip string) string
	}{
		{"no proxy protocol header", func(ip string) string {
			return exchange(ip, nil, fmt.Sprintf("POST /api/v1/write HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n", host), 0)
		}},
		{"malformed proxy protocol header", func(ip string) string {
			return exchange(ip, []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff garbage"), fmt.Sprintf("GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host), 0)
		}},
		{"unknown Host", func(ip string) string {
			return exchange(ip, pp(ip), "POST /api/v1/write HTTP/1.1\r\nHost: unknown.example.com\r\nContent-Length: 0\r\n\r\n", 0)
		}},
		{"body over 16 MiB", func(ip string) string {
			return exchange(ip, pp(ip), fmt.Sprintf("POST /api/v1/write HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", host, 17<<20), 0)
		}},
		{"headers of 100 KiB", func(ip string) string {
			return exchange(ip, pp(ip), fmt.Sprintf("GET / HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", host, strings.Repeat("b", 100<<10)), 0)
		}},
		{"HTTP/2 cleartext on the HTTP/1 port", func(ip string) string {
			return exchange(ip, pp(ip), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00", 0)
		}},
		{"a client trickling its request (1 byte/s)", func(ip string) string {
			return exchange(ip, pp(ip), fmt.Sprintf("POST /api/v1/write HTTP/1.1\r\nHost: %s\r\nX-Slow: %s", host, strings.Repeat("s", 300)), time.Second)
		}},
		{"1,000 idle connections", func(ip string) string { return idle(ip, pp(ip), 1000) }},
	}
	for _, c := range cases {
		for _, via := range vias {
			try(via, c.name, c.send)
		}
	}
	const unknownSNI = "TLS with an unknown SNI (tls: passthrough)"
	sni := tlsUnknownSNI(t)
	wg.Wait()
	end := time.Now()
	got := map[string]map[string]string{unknownSNI: sni}
	for _, o := range outcomes {
		if got[o.name] == nil {
			got[o.name] = map[string]string{}
		}
		got[o.name][o.via] = o.got
	}
	for _, c := range cases {
		t.Logf("bad input %-45s obslink: %-40s haproxy: %s", c.name, got[c.name]["obslink"], got[c.name]["haproxy"])
	}
	t.Logf("bad input %-45s obslink: %-40s haproxy: %s", unknownSNI, sni["obslink"], sni["haproxy"])
	want := map[string]string{
		"no proxy protocol header":                  "closed, no answer",
		"malformed proxy protocol header":           "closed, no answer",
		"unknown Host":                              "HTTP/1.1 421 Misdirected Request",
		"body over 16 MiB":                          "HTTP/1.1 413 Request Entity Too Large",
		"headers of 100 KiB":                        "HTTP/1.1 400 Bad Request",
		"HTTP/2 cleartext on the HTTP/1 port":       "HTTP/1.1 400 Bad Request",
		"a client trickling its request (1 byte/s)": "closed, no answer",
		"1,000 idle connections":                    "1000 of 1000 closed by the proxy",
		unknownSNI:                                  "refused before any ALB, logged",
	}
	for name, w := range want {
		assert.Equal(t, w, got[name]["obslink"], name)
	}
	// nginx logs each: the broken proxy protocol headers in its error log,
	// the refusals and the client that timed out (408) in its access log.
	// (A connection that never sent a byte is closed without a line.)
	errLog := r.nginx[0].ErrorLog()
	assert.Contains(t, errLog, "broken header")
	assert.Contains(t, errLog, "while reading PROXY protocol")
	statuses := map[string]bool{}
	for _, l := range r.nginx[0].AccessLog() {
		if m := regexp.MustCompile(`"status":(\d+)`).FindStringSubmatch(l); m != nil {
			statuses[m[1]] = true
		}
	}
	for _, s := range []string{"400", "408", "413", "421"} {
		assert.True(t, statuses[s], "an access log line with status %s", s)
	}
	return end
}

// exchange opens a connection to the proxy instance at ip, sends header (a
// proxy protocol header, or none) and then text (all at once, or a byte
// every pace), and returns the status line of the answer or what happened.
func exchange(ip string, header []byte, text string, pace time.Duration) string {
	c, err := net.Dial("tcp", hostPort(ip, httpPort))
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Minute))
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		_, _ = c.Write(header)
		if pace == 0 {
			_, _ = io.WriteString(c, text)
			return
		}
		for i := 0; i < len(text); i++ {
			if _, err := io.WriteString(c, text[i:i+1]); err != nil {
				return
			}
			time.Sleep(pace)
		}
	}()
	line, err := bufio.NewReader(c).ReadString('\n')
	switch {
	case err == nil:
		return strings.TrimSpace(line)
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		return "closed, no answer"
	default:
		return err.Error()
	}
}

// idle opens n connections to the proxy instance at ip, each with a proxy
// protocol header and nothing else, and reports how many the proxy closed
// (with an answer or without) within two minutes.
func idle(ip string, header []byte, n int) string {
	var closed atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", hostPort(ip, httpPort))
			if err != nil {
				return
			}
			defer c.Close()
			_, _ = c.Write(header)
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			if _, err := c.Read(make([]byte, 1)); !isTimeout(err) {
				closed.Add(1)
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d of %d closed by the proxy", closed.Load(), n)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tlsUnknownSNI asks each proxy with tls: passthrough (obslink's rendered
// stream configuration, the peer's SNI routing in TCP mode), both behind
// proxy protocol, for a TLS session with a name no service has: it must
// end before any byte reaches an ALB, and leave a log line.
func tlsUnknownSNI(t *testing.T) map[string]string {
	r := nginxtest.StartTLSRig(t, domain, func(c *proxyfleet.Config) { c.ProxyProtocol = true })
	port := nginxtest.FreePort(t, "127.0.0.8")
	var peerRoutes []proxyfleet.ConfigRoute
	for _, s := range signals {
		peerRoutes = append(peerRoutes, proxyfleet.ConfigRoute{Name: s, Host: s + "." + domain, Port: port, UpstreamTLS: true})
	}
	h := nginxtest.StartPeer(t, nginxtest.Peer{Listen: "127.0.0.8", Routes: peerRoutes, ProxyProtocol: true, TLSPassthrough: true,
		Servers: map[string]string{metrics: r.Metrics.Addr, logs: r.Logs.Addr, traces: r.Traces.Addr}})
	conns := func() int64 { return r.Metrics.Conns() + r.Logs.Conns() + r.Traces.Conns() }
	before := conns()
	conf := &tls.Config{ServerName: "unknown." + domain, RootCAs: r.CA.Pool, MinVersion: tls.VersionTLS12}
	out := map[string]string{}
	// obslink
	err := r.Handshake(vpce, conf)
	logged := false
	for i := 0; i < 100 && !logged; i++ {
		logged = strings.Contains(strings.Join(r.Nginx.AccessLog(), "\n"), `"sni":"unknown.`+domain+`"`) &&
			strings.Contains(r.Nginx.ErrorLog(), `no port in upstream "`+proxyfleet.RefusedUpstream+`"`)
		time.Sleep(50 * time.Millisecond)
	}
	out["obslink"] = sniOutcome(err, conns() == before, logged)
	// the peer
	c, err := ppDialer("127.0.0.8", port)(context.Background(), "tcp", "")
	if err == nil {
		tc := tls.Client(c, conf)
		_ = tc.SetDeadline(time.Now().Add(15 * time.Second))
		err = tc.Handshake()
		tc.Close()
	}
	logged = false
	for i := 0; i < 100 && !logged; i++ {
		logged = len(h.AccessLog()) > 0
		time.Sleep(50 * time.Millisecond)
	}
	out["haproxy"] = sniOutcome(err, conns() == before, logged)
	return out
}

func sniOutcome(err error, noALB, logged bool) string {
	switch {
	case err == nil:
		return "handshake completed"
	case !noALB:
		return "an ALB was reached"
	case !logged:
		return "refused before any ALB, not logged"
	}
	return "refused before any ALB, logged"
}
