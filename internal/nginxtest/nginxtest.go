// Package nginxtest runs the proxy's data path on this machine: real nginx
// with the config obslink renders, stand-in ALBs and a stand-in DNS server,
// all on 127.0.0.0/8. Tests and benchmarks share it.
//
// Where nginx or dig is missing the caller is skipped with the reason, unless
// OBSLINK_REQUIRE_ALL=1 (set by CI), which turns the skip into a failure.
package nginxtest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/obslink/obslink/constructs/proxyfleet"
)

// Require returns the path of a command, or skips tb (fails it under OBSLINK_REQUIRE_ALL=1).
func Require(tb testing.TB, name string, fallbacks ...string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range fallbacks {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := name + " is not installed"
	if h, ok := installHints[name]; ok {
		msg += " (" + h + ")"
	}
	if os.Getenv("OBSLINK_REQUIRE_ALL") == "1" {
		tb.Fatalf("%s; OBSLINK_REQUIRE_ALL=1 forbids skipping", msg)
	}
	tb.Skip(msg)
	return ""
}

// NewNginx returns an nginx of version 1.23.2 or newer (the AWS proxy
// protocol TLV variables): the one on PATH if it is new enough, else
// Debian 13's nginx 1.26 from the root `make test` builds with debootstrap
// (internal/nginxtest/newnginx.sh, run by testdeps.sh, in .toolchain/trixie).
// It skips tb (fails it under OBSLINK_REQUIRE_ALL=1) when there is none.
func NewNginx(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("nginx"); err == nil && nginxAtLeast(p, 1, 23, 2) {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	wrapper := filepath.Join(filepath.Dir(file), "..", "..", ".toolchain", "trixie", "nginx")
	if nginxAtLeast(wrapper, 1, 23, 2) {
		return wrapper
	}
	msg := "no nginx >= 1.23.2 (Debian 12 has 1.22): `make testdeps` (which make test runs) builds Debian 13's in .toolchain/trixie (needs root)"
	if os.Getenv("OBSLINK_REQUIRE_ALL") == "1" {
		tb.Fatalf("%s; OBSLINK_REQUIRE_ALL=1 forbids skipping", msg)
	}
	tb.Skip(msg)
	return ""
}

// nginxAtLeast reports whether bin runs and is version major.minor.patch or newer.
func nginxAtLeast(bin string, major, minor, patch int) bool {
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil {
		return false
	}
	var a, b, c int
	i := strings.Index(string(out), "nginx/")
	if i < 0 {
		return false
	}
	if _, err := fmt.Sscanf(string(out[i+len("nginx/"):]), "%d.%d.%d", &a, &b, &c); err != nil {
		return false
	}
	return a > major || a == major && (b > minor || b == minor && c >= patch)
}

var installHints = map[string]string{
	"nginx":      "Debian: apt-get install nginx-light",
	"dig":        "Debian: apt-get install bind9-dnsutils",
	"cfn-lint":   "comes with this machine image's Python; PyPI is not reachable here",
	"python3":    "comes with this machine image",
	"shellcheck": "Debian: apt-get install shellcheck",
	"logrotate":  "Debian: apt-get install logrotate",
	"haproxy":    "Debian: apt-get install haproxy",
}

// FreePort returns a TCP port free on ip at the time of the call.
func FreePort(tb testing.TB, ip string) int {
	tb.Helper()
	return FreePorts(tb, ip, 1)[0]
}

// FreePorts returns n distinct TCP ports free on ip: all are held open
// together before release, so two calls cannot hand out the same port.
func FreePorts(tb testing.TB, ip string, n int) []int {
	tb.Helper()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			tb.Fatalf("free port on %s: %v", ip, err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// DNS is a stand-in DNS server answering A queries from a table.
type DNS struct {
	IP   string
	Port int

	mu      sync.Mutex
	records map[string][]netip.Addr
	ttl     uint32
	failure DNSFailure
	queries atomic.Int64
}

// DNSFailure is how a DNS stand-in fails every query (DNSAnswers: it does not).
type DNSFailure int

// The ways a resolver fails: SERVFAIL, NXDOMAIN for every name, NOERROR
// with no address, or no answer at all (the client times out).
const (
	DNSAnswers DNSFailure = iota
	DNSServFail
	DNSNXDomain
	DNSEmpty
	DNSSilent
)

func (f DNSFailure) String() string {
	return [...]string{"answers", "SERVFAIL", "NXDOMAIN", "empty answer", "no answer"}[f]
}

// StartDNS serves DNS over UDP on 127.0.0.1 until tb ends.
func StartDNS(tb testing.TB) *DNS {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("dns listen: %v", err)
	}
	d := &DNS{IP: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port, records: map[string][]netip.Addr{}, ttl: 1}
	tb.Cleanup(func() { pc.Close() })
	go d.serve(pc)
	return d
}

// Set makes name resolve to addrs with the given TTL (seconds).
func (d *DNS) Set(name string, ttl uint32, addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	d.records[strings.TrimSuffix(strings.ToLower(name), ".")+"."] = as
	d.ttl = ttl
}

// Fail makes every answer SERVFAIL (true) or normal again (false).
func (d *DNS) Fail(fail bool) {
	if fail {
		d.SetFailure(DNSServFail)
	} else {
		d.SetFailure(DNSAnswers)
	}
}

// SetFailure makes every query fail as f says (DNSAnswers: answer again).
func (d *DNS) SetFailure(f DNSFailure) {
	d.mu.Lock()
	d.failure = f
	d.mu.Unlock()
}

// Queries is the number of queries answered so far.
func (d *DNS) Queries() int64 { return d.queries.Load() }

func (d *DNS) serve(pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if resp, err := d.answer(buf[:n]); err == nil && resp != nil {
			_, _ = pc.WriteTo(resp, from)
		}
	}
}

func (d *DNS) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	d.queries.Add(1)
	d.mu.Lock()
	addrs, failure, ttl := d.records[strings.ToLower(q.Name.String())], d.failure, d.ttl
	d.mu.Unlock()

	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	switch {
	case failure == DNSSilent:
		return nil, nil
	case failure == DNSServFail:
		rh.RCode = dnsmessage.RCodeServerFailure
	case failure == DNSNXDomain || addrs == nil:
		rh.RCode = dnsmessage.RCodeNameError
	}
	fail := failure != DNSAnswers
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if !fail && q.Type == dnsmessage.TypeA {
		for _, a := range addrs {
			hdr := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: ttl}
			if err := b.AResource(hdr, dnsmessage.AResource{A: a.As4()}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}

// ALB is a stand-in for one of the cluster's load balancers: it answers every
// request with headers saying who answered and what it saw, and counts the
// TCP connections it accepted (to prove upstream keepalive).
type ALB struct {
	Name  string
	Addr  string // ip:port
	conns atomic.Int64
	reqs  atomic.Int64
}

// StartALB serves on ip:port (HTTP/1.1, and cleartext HTTP/2 for gRPC) until tb ends.
func StartALB(tb testing.TB, name, ip string, port int) *ALB {
	tb.Helper()
	return startALB(tb, name, ip, port, nil)
}

// startALB serves a stand-in ALB on ip:port until tb ends: in cleartext
// (HTTP/1.1 and HTTP/2) without cert, else as an HTTPS listener presenting
// cert (HTTP/1.1, and HTTP/2 through ALPN).
func startALB(tb testing.TB, name, ip string, port int, cert *tls.Certificate) *ALB {
	tb.Helper()
	a := &ALB{Name: name, Addr: net.JoinHostPort(ip, fmt.Sprint(port))}
	l, err := net.Listen("tcp", a.Addr)
	if err != nil {
		tb.Fatalf("alb %s listen %s: %v", name, a.Addr, err)
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	srv := &http.Server{
		Handler:   http.HandlerFunc(a.serve),
		Protocols: &protos,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				a.conns.Add(1)
			}
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	serve := func() error { return srv.Serve(l) }
	if cert == nil {
		protos.SetUnencryptedHTTP2(true)
	} else {
		protos.SetHTTP2(true)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		// Refused handshakes are what some tests want; keep them off stderr.
		srv.ErrorLog = log.New(io.Discard, "", 0)
		serve = func() error { return srv.ServeTLS(l, "", "") }
	}
	go func() { _ = serve() }()
	tb.Cleanup(func() { _ = srv.Close() })
	return a
}

// Conns is the number of TCP connections accepted so far.
func (a *ALB) Conns() int64 { return a.conns.Load() }

// Requests is the number of requests served so far.
func (a *ALB) Requests() int64 { return a.reqs.Load() }

func (a *ALB) serve(w http.ResponseWriter, r *http.Request) {
	a.reqs.Add(1)
	n, _ := io.Copy(io.Discard, r.Body)
	// A test asks for an error answer with X-Alb-Status (a 5xx from the ALB).
	if code, err := strconv.Atoi(r.Header.Get("X-Alb-Status")); err == nil {
		w.WriteHeader(code)
		return
	}
	w.Header().Set("X-Alb", a.Name)
	w.Header().Set("X-Seen-Host", r.Host)
	w.Header().Set("X-Seen-Proto", r.Proto)
	w.Header()["X-Seen-Consumer"] = r.Header.Values("X-Obslink-Consumer")
	w.Header()["X-Seen-Forwarded-For"] = r.Header.Values("X-Forwarded-For")
	w.Header().Set("X-Body-Bytes", fmt.Sprint(n))
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		// A gRPC unary reply: one empty message, then status 0 in the trailers.
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte{0, 0, 0, 0, 0})
		w.Header().Set("Grpc-Status", "0")
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok from "+a.Name+"\n")
}

// Rig is nginx with the rendered config in front of stand-in ALBs: metrics
// at 127.0.0.2 (its "new address" 127.0.0.3 is up too), logs at 127.0.0.4,
// traces (gRPC, cleartext HTTP/2) at 127.0.0.6; nginx listens on 127.0.0.5.
type Rig struct {
	Domain              string
	Nginx               *Nginx
	DNS                 *DNS
	MetricsA, MetricsB  *ALB
	Logs, Traces        *ALB
	HTTPPort, GRPCPort  int
	HealthPort, ALBPort int
	GRPCALBPort         int
	Client, GRPCClient  *http.Client
}

// RigRoutes returns the routes of a Rig for domain, given its ports.
func RigRoutes(domain string, httpPort, grpcPort, albPort, grpcALBPort int) []proxyfleet.ConfigRoute {
	return []proxyfleet.ConfigRoute{
		{Name: "metrics", Host: "metrics." + domain, Port: httpPort, Upstream: "metrics-alb.test", UpstreamPort: albPort},
		{Name: "logs", Host: "logs." + domain, Port: httpPort, Upstream: "logs-alb.test", UpstreamPort: albPort},
		{Name: "traces", Host: "traces." + domain, Port: grpcPort, Upstream: "traces-alb.test", UpstreamPort: grpcALBPort, GRPC: true},
	}
}

// StartRig starts the stand-ins and nginx with obslink's rendered config.
func StartRig(tb testing.TB, domain string, opts ...func(*proxyfleet.Config)) *Rig {
	tb.Helper()
	r := &Rig{Domain: domain, DNS: StartDNS(tb)}
	r.ALBPort = FreePort(tb, "127.0.0.2")
	r.GRPCALBPort = FreePort(tb, "127.0.0.6")
	r.MetricsA = StartALB(tb, "metrics-a", "127.0.0.2", r.ALBPort)
	r.MetricsB = StartALB(tb, "metrics-b", "127.0.0.3", r.ALBPort)
	r.Logs = StartALB(tb, "logs", "127.0.0.4", r.ALBPort)
	r.Traces = StartALB(tb, "traces", "127.0.0.6", r.GRPCALBPort)
	r.DNS.Set("metrics-alb.test", 1, "127.0.0.2")
	r.DNS.Set("logs-alb.test", 1, "127.0.0.4")
	r.DNS.Set("traces-alb.test", 1, "127.0.0.6")

	ports := FreePorts(tb, "127.0.0.5", 3)
	r.HTTPPort, r.GRPCPort, r.HealthPort = ports[0], ports[1], ports[2]
	cfg := proxyfleet.Config{HealthPort: r.HealthPort, Routes: RigRoutes(domain, r.HTTPPort, r.GRPCPort, r.ALBPort, r.GRPCALBPort)}
	for _, o := range opts {
		o(&cfg)
	}
	r.Nginx = Prepare(tb, cfg, "127.0.0.5", r.DNS)
	r.Nginx.Env = []string{FleetEnv}
	r.Nginx.Start(tb)

	r.Client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	r.GRPCClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: &h2c}}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("nginx error log and resolver output:\n%s", r.Nginx.ErrorLog())
		}
	})
	return r
}

// FleetEnv is what the fleet's systemd drop-in adds to nginx's
// environment (proxyfleet.MallocTunables); a Rig's nginx runs with it.
const FleetEnv = "GLIBC_TUNABLES=" + proxyfleet.MallocTunables

// Nginx is a running nginx with a config rendered by proxyfleet.Config.
type Nginx struct {
	Bin, Dir, Conf string
	Config         proxyfleet.Config
	// Env is added to nginx's environment when it starts (NAME=value).
	Env []string
	dns *DNS
	// tlsRoutes is obslink-selfcheck's file of passthrough routes.
	tlsRoutes string
	cmd       *exec.Cmd
	stderr    *lockedBuffer
}

// Prepare renders cfg (paths moved into a temporary directory, listening on
// listenIP) and writes the resolver's input. It does not start nginx.
func Prepare(tb testing.TB, cfg proxyfleet.Config, listenIP string, dns *DNS) *Nginx {
	tb.Helper()
	var bin string
	if cfg.ProxyProtocol {
		bin = NewNginx(tb)
	} else {
		bin = Require(tb, "nginx", "/usr/sbin/nginx")
	}
	Require(tb, "dig")
	if cfg.NeedsStream() && cfg.StreamModule == nil {
		mod := StreamModule(tb, bin)
		cfg.StreamModule = &mod
	}
	dir := tb.TempDir()
	root := "root"
	cfg.Listen = listenIP + ":"
	cfg.User = &root
	cfg.PidFile = filepath.Join(dir, "nginx.pid")
	cfg.ErrorLog = filepath.Join(dir, "error.log")
	cfg.AccessLog = filepath.Join(dir, "access.log")
	cfg.TempDir = filepath.Join(dir, "tmp")
	cfg.UpstreamDir = filepath.Join(dir, "upstreams")
	cfg.ConsumerMap = filepath.Join(dir, "consumers.map")
	for _, d := range []string{cfg.TempDir, cfg.UpstreamDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	conf, err := cfg.Render()
	if err != nil {
		tb.Fatalf("render: %v", err)
	}
	n := &Nginx{Bin: bin, Dir: dir, Conf: filepath.Join(dir, "nginx.conf"), Config: cfg, dns: dns, stderr: &lockedBuffer{}}
	write(tb, n.Conf, conf)
	write(tb, cfg.ConsumerMap, "") // as the bootstrap starts it
	write(tb, filepath.Join(dir, "upstreams.txt"), cfg.Upstreams())
	if cfg.NeedsStream() { // as the bootstrap writes /etc/obslink/tls-routes
		n.tlsRoutes = filepath.Join(dir, "tls-routes")
		write(tb, n.tlsRoutes, cfg.TLSRoutes())
	}
	write(tb, filepath.Join(dir, "obslink-resolve"), proxyfleet.ResolveScript())
	write(tb, filepath.Join(dir, "obslink-selfcheck"), cfg.SelfCheckScript())
	if err := os.Chmod(filepath.Join(dir, "obslink-selfcheck"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "obslink-resolve"), 0o755); err != nil {
		tb.Fatal(err)
	}
	return n
}

// Test runs nginx -t on the config and returns its output and error.
func (n *Nginx) Test() (string, error) {
	out, err := exec.Command(n.Bin, "-t", "-p", n.Dir, "-c", n.Conf, "-e", filepath.Join(n.Dir, "error.log")).CombinedOutput()
	return string(out), err
}

// Resolve runs obslink-resolve --once.
func (n *Nginx) Resolve(tb testing.TB) {
	tb.Helper()
	cmd := exec.Command(filepath.Join(n.Dir, "obslink-resolve"), "--once")
	cmd.Env = n.resolveEnv(1)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("obslink-resolve --once: %v\n%s", err, out)
	}
}

// ResolveOnce runs obslink-resolve --once with extra settings (such as
// OBSLINK_TEMP_DIR and OBSLINK_MIN_FREE_MB), as the instance's loop would.
func (n *Nginx) ResolveOnce(tb testing.TB, env ...string) string {
	tb.Helper()
	cmd := exec.Command(filepath.Join(n.Dir, "obslink-resolve"), "--once")
	cmd.Env = append(n.resolveEnv(1), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("obslink-resolve --once: %v\n%s", err, out)
	}
	return string(out)
}

// SelfCheck runs obslink-selfcheck as the bootstrap does, with the ready
// file readyFile and extra settings; it returns its output and whether it
// passed.
func (n *Nginx) SelfCheck(tb testing.TB, readyFile string, env ...string) (string, bool) {
	tb.Helper()
	cmd := exec.Command(filepath.Join(n.Dir, "obslink-selfcheck"))
	cmd.Env = append(append(n.resolveEnv(1), "OBSLINK_READY_FILE="+readyFile, "OBSLINK_CONNECT_TIMEOUT=1",
		fmt.Sprintf("OBSLINK_HEALTH_URL=http://%s%d/healthz", n.Config.Listen, n.Config.HealthPort),
		"OBSLINK_TLS_ROUTES="+n.tlsRoutes), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// ResolveLoop runs obslink-resolve as the instance does, reloading nginx on
// change, every interval seconds, with extra settings (such as
// OBSLINK_TEMP_DIR), until tb ends.
func (n *Nginx) ResolveLoop(tb testing.TB, interval int, env ...string) {
	tb.Helper()
	cmd := exec.Command(filepath.Join(n.Dir, "obslink-resolve"))
	cmd.Env = append(n.resolveEnv(interval), env...)
	cmd.Stdout, cmd.Stderr = n.stderr, n.stderr
	Run(tb, cmd) // the script's dig and sleep children stop with it
}

func (n *Nginx) resolveEnv(interval int) []string {
	return append(os.Environ(),
		"OBSLINK_UPSTREAMS="+filepath.Join(n.Dir, "upstreams.txt"),
		"OBSLINK_UPSTREAM_DIR="+n.Config.UpstreamDir,
		"OBSLINK_RESOLVER="+n.dns.IP,
		fmt.Sprintf("OBSLINK_RESOLVER_PORT=%d", n.dns.Port),
		fmt.Sprintf("OBSLINK_INTERVAL=%d", interval),
		fmt.Sprintf("OBSLINK_RELOAD=%s -p %s -c %s -s reload", n.Bin, n.Dir, n.Conf),
	)
}

// Start resolves the upstreams once, checks the config and runs nginx in the
// foreground until tb ends; it returns when the health port answers.
func (n *Nginx) Start(tb testing.TB) {
	tb.Helper()
	n.Resolve(tb)
	if out, err := n.Test(); err != nil {
		tb.Fatalf("nginx -t: %v\n%s", err, out)
	}
	n.cmd = exec.Command(n.Bin, "-p", n.Dir, "-c", n.Conf, "-e", filepath.Join(n.Dir, "error.log"), "-g", "daemon off;")
	if len(n.Env) > 0 {
		n.cmd.Env = append(os.Environ(), n.Env...)
	}
	n.cmd.Stdout, n.cmd.Stderr = n.stderr, n.stderr
	Run(tb, n.cmd)
	health := fmt.Sprintf("http://%s%d/healthz", n.Config.Listen, n.Config.HealthPort)
	hc := n.Client("", false) // with proxy protocol, as the NLB's health checks: no client, no TLV
	for i := 0; i < 100; i++ {
		if resp, err := hc.Get(health); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("nginx did not answer %s; error log:\n%s", health, n.ErrorLog())
}

// Pid is the nginx master's process id.
func (n *Nginx) Pid() int { return n.cmd.Process.Pid }

// ErrorLog returns nginx's error log and the resolver's output so far.
func (n *Nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "error.log"))
	return string(b) + n.stderr.String()
}

// AccessLog returns the access log lines so far.
func (n *Nginx) AccessLog() []string {
	f, err := os.Open(n.Config.AccessLog)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	return lines
}

// URL is the proxy's address for a port, e.g. http://127.0.0.5:8123.
func (n *Nginx) URL(port int) string { return fmt.Sprintf("http://%s%d", n.Config.Listen, port) }

func write(tb testing.TB, path, text string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Reload makes the running nginx re-read its config (nginx -s reload) and
// waits until every worker is a new one, so what follows sees the new config.
func (n *Nginx) Reload(tb testing.TB) {
	tb.Helper()
	old := n.workers()
	if out, err := exec.Command(n.Bin, "-p", n.Dir, "-c", n.Conf, "-s", "reload").CombinedOutput(); err != nil {
		tb.Fatalf("nginx -s reload: %v\n%s", err, out)
	}
	for i := 0; i < 200; i++ {
		now := n.workers()
		fresh := len(now) > 0
		for p := range now {
			if old[p] {
				fresh = false
			}
		}
		if fresh {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("nginx did not replace its workers after a reload; error log:\n%s", n.ErrorLog())
}

// workers returns the pids of the master's children.
func (n *Nginx) workers() map[string]bool {
	pid := n.cmd.Process.Pid
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	out := map[string]bool{}
	for _, f := range strings.Fields(string(b)) {
		out[f] = true
	}
	return out
}

// MinorFaults is the minor page faults of nginx's workers so far.
func (n *Nginx) MinorFaults() int64 { return n.workerStat(10) }

// CPUTicks is the user and system CPU time of nginx's workers so far, in
// clock ticks (utime + stime).
func (n *Nginx) CPUTicks() int64 { return n.workerStat(14) + n.workerStat(15) }

// workerStat sums field (1-based, proc(5)) of /proc/<pid>/stat over the workers.
func (n *Nginx) workerStat(field int) int64 {
	var total int64
	for pid := range n.workers() {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // from field 3 on
		if i := field - 3; i < len(fields) {
			v, _ := strconv.ParseInt(fields[i], 10, 64)
			total += v
		}
	}
	return total
}
