package nginxtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/obslink/obslink/constructs/proxyfleet"
)

// HAProxy is the peer obslink's nginx is measured against: the
// proxy a platform team would otherwise run, doing the same job in front of
// a Rig's stand-in ALBs. What it does the same (TestHAProxyPeerRoutesLikeNginx
// proves it request by request): routing by Host to the service's ALB, 421
// for an unknown host, the agent's Host passed on, 413 for a body over the
// limit, X-Forwarded-For appended, an agent's X-Obslink-Consumer removed,
// upstream connections reused (HTTP/1.1), gRPC over cleartext HTTP/2 on both
// sides, and a JSON access line per request. What differs: HAProxy streams
// request bodies to the ALB where obslink's nginx buffers them (so nginx can
// resend a body to another ALB address), which favours HAProxy's CPU. In
// the benchmark both send to fixed addresses (the rig's nginx resolves once
// at start); in the fault suite the peer follows the ALB names with its own
// resolver, as nginx does with obslink-resolve (Peer).
type HAProxy struct {
	Dir, Listen        string
	HTTPPort, GRPCPort int
	cmd                *exec.Cmd
	stderr             *lockedBuffer
}

// HAProxyListen is the address the peer listens on (nginx has 127.0.0.5).
const HAProxyListen = "127.0.0.8"

// Peer is what the HAProxy peer serves: the routes (with the peer's own
// listen ports) and where each route's ALB is.
type Peer struct {
	// Listen is the address the peer listens on.
	Listen string
	// Routes as obslink's nginx has them, with the peer's ports.
	Routes []proxyfleet.ConfigRoute
	// Servers is each route's ALB address (ip:port), by route name. A route
	// without one follows its Upstream name through DNS instead, asking it
	// every second (obslink-resolve's interval in the tests) with HAProxy's
	// own resolver and its default hold times, and checks each address it
	// finds with a TCP connect every 2 s (HAProxy's default interval).
	Servers map[string]string
	DNS     *DNS
	// ProxyProtocol makes every listener expect the NLB's proxy protocol v2 header.
	ProxyProtocol bool
	// MaxBody is the largest request body accepted (nginx's client_max_body_size).
	MaxBody int64
	// HealthPort, when set, answers GET /healthz with 200 for the NLB's health checks.
	HealthPort int
	// TLSPassthrough routes the agents' TLS connections by the name they ask
	// for (SNI) to each route's ALB unopened, as obslink's tls: passthrough
	// does; an unknown or missing name gets the connection closed.
	TLSPassthrough bool
}

// haproxyConfig renders the peer's configuration.
func haproxyConfig(p Peer) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    # nginx: 8192 connections per worker; HAProxy needs two descriptors per connection.
    maxconn 8192
    log stdout format raw local0
    # 64 KiB buffers instead of 16 KiB: a quarter of the reads and writes
    # per 1 MiB body (without it HAProxy used 1.5-1.7x obslink's CPU there).
    tune.bufsize 65536

defaults
    mode http
    log global
    # One JSON line per request, as nginx's access log.
    log-format '{"time":"%%tr","service":"%%b","host":"%%[var(txn.host)]","client":"%%ci","method":"%%HM","uri":"%%HU","protocol":"%%HV","status":%%ST,"request_bytes":%%U,"response_bytes":%%B,"request_time":%%Ta,"upstream":"%%si:%%sp","upstream_connect_time":%%Tc,"upstream_response_time":%%Tr}'
    # Reuse idle ALB connections for any agent, as nginx's upstream keepalive pool.
    http-reuse always
    # A connection that fails is tried again, on another address when there is one.
    option redispatch
    retries 3
    timeout connect 5s
    timeout http-request 30s
    timeout client 60s
    timeout http-keep-alive 300s
    timeout server 60s
`)
	if p.DNS != nil {
		fmt.Fprintf(&b, `
resolvers vpc
    nameserver dns %s:%d
    accepted_payload_size 1232
    timeout resolve 1s
    timeout retry 1s
`, p.DNS.IP, p.DNS.Port)
	}
	grpcPorts := map[int]bool{}
	var ports []int
	for _, rt := range p.Routes {
		if _, ok := grpcPorts[rt.Port]; !ok {
			ports = append(ports, rt.Port)
		}
		grpcPorts[rt.Port] = rt.GRPC
	}
	sort.Ints(ports)
	accept := map[bool]string{true: " accept-proxy"}[p.ProxyProtocol]
	if p.TLSPassthrough {
		for _, port := range ports {
			fmt.Fprintf(&b, "\nfrontend tls%d\n    mode tcp\n    option tcplog\n    bind %s:%d%s\n", port, p.Listen, port, accept)
			var hosts []string
			for _, rt := range p.Routes {
				if rt.Port == port {
					hosts = append(hosts, strings.ToLower(rt.Host))
				}
			}
			fmt.Fprintf(&b, "    tcp-request inspect-delay 10s\n    tcp-request content reject if { req.ssl_hello_type 1 } !{ req.ssl_sni -i %s }\n", strings.Join(hosts, " "))
			b.WriteString("    tcp-request content accept if { req.ssl_hello_type 1 }\n")
			for _, rt := range p.Routes {
				if rt.Port == port {
					fmt.Fprintf(&b, "    use_backend %s if { req.ssl_sni -i %s }\n", rt.Name, strings.ToLower(rt.Host))
				}
			}
		}
		for _, rt := range p.Routes {
			fmt.Fprintf(&b, "\nbackend %s\n    mode tcp\n    server %s %s\n", rt.Name, rt.Name, p.Servers[rt.Name])
		}
		return b.String()
	}
	for _, port := range ports {
		grpc := grpcPorts[port]
		fmt.Fprintf(&b, "\nfrontend port%d\n    bind %s:%d%s%s\n", port, p.Listen, port, map[bool]string{true: " proto h2"}[grpc], accept)
		if !grpc { // nginx's gRPC route sets no X-Forwarded-For
			b.WriteString("    option forwardfor\n")
		}
		b.WriteString("    http-request set-var(txn.host) req.hdr(host),field(1,:),lower\n")
		fmt.Fprintf(&b, "    http-request deny deny_status 413 if { req.hdr_val(content-length) gt %d }\n", p.MaxBody)
		fmt.Fprintf(&b, "    http-request del-header %s\n", proxyfleet.ConsumerHeaderName)
		// nginx passes $host on: lower case, no port.
		b.WriteString("    http-request set-header Host %[var(txn.host)]\n")
		for _, rt := range p.Routes {
			if rt.Port == port {
				fmt.Fprintf(&b, "    use_backend %s if { var(txn.host) -m str %s }\n", rt.Name, strings.ToLower(rt.Host))
			}
		}
		b.WriteString("    default_backend unknown-host\n")
	}
	if p.HealthPort != 0 {
		fmt.Fprintf(&b, "\nfrontend health\n    bind %s:%d%s\n    http-request return status 200 content-type text/plain string ok if { path /healthz }\n    http-request return status 404\n",
			p.Listen, p.HealthPort, accept)
	}
	b.WriteString("\nbackend unknown-host\n    http-request return status 421\n")
	for _, rt := range p.Routes {
		h2 := map[bool]string{true: " proto h2"}[rt.GRPC]
		if addr, ok := p.Servers[rt.Name]; ok {
			fmt.Fprintf(&b, "\nbackend %s\n    server %s %s%s\n", rt.Name, rt.Name, addr, h2)
			continue
		}
		fmt.Fprintf(&b, "\nbackend %s\n    server-template %s 4 %s:%d resolvers vpc resolve-prefer ipv4 init-addr none check%s\n",
			rt.Name, rt.Name, rt.Upstream, rt.UpstreamPort, h2)
	}
	return b.String()
}

// StartHAProxy runs HAProxy (Debian 12's 2.6) with the peer configuration
// in front of r's stand-in ALBs until tb ends, and returns when it answers.
// Its access log goes to access.log in its directory.
func StartHAProxy(tb testing.TB, r *Rig) *HAProxy {
	tb.Helper()
	ports := FreePorts(tb, HAProxyListen, 2)
	h := StartPeer(tb, Peer{
		Listen:  HAProxyListen,
		Routes:  RigRoutes(r.Domain, ports[0], ports[1], r.ALBPort, r.GRPCALBPort),
		Servers: map[string]string{"metrics": r.MetricsA.Addr, "logs": r.Logs.Addr, "traces": r.Traces.Addr},
		MaxBody: maxBodyBytes(r.Nginx.Config.MaxBodySize),
	})
	h.HTTPPort, h.GRPCPort = ports[0], ports[1]
	return h
}

// StartPeer runs HAProxy with the configuration p until tb ends, and
// returns when it accepts connections.
func StartPeer(tb testing.TB, p Peer) *HAProxy {
	tb.Helper()
	bin := Require(tb, "haproxy", "/usr/sbin/haproxy")
	h := &HAProxy{Dir: tb.TempDir(), Listen: p.Listen, stderr: &lockedBuffer{}}
	conf := filepath.Join(h.Dir, "haproxy.cfg")
	write(tb, conf, haproxyConfig(p))
	if out, err := exec.Command(bin, "-c", "-f", conf).CombinedOutput(); err != nil {
		tb.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	log, err := os.Create(filepath.Join(h.Dir, "access.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { log.Close() })
	h.cmd = exec.Command(bin, "-db", "-f", conf)
	h.cmd.Stdout, h.cmd.Stderr = log, h.stderr // haproxy writes its log lines straight to the file
	Run(tb, h.cmd)
	addr := net.JoinHostPort(p.Listen, fmt.Sprint(p.Routes[0].Port))
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return h
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("haproxy did not listen on %s:\n%s", addr, h.stderr.String())
	return nil
}

// Pid is the HAProxy process's id.
func (h *HAProxy) Pid() int { return h.cmd.Process.Pid }

// URL is the peer's address for a port.
func (h *HAProxy) URL(port int) string { return fmt.Sprintf("http://%s:%d", h.Listen, port) }

// AccessLog returns the access log lines so far.
func (h *HAProxy) AccessLog() []string {
	b, _ := os.ReadFile(filepath.Join(h.Dir, "access.log"))
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// CPU is the CPU time HAProxy has used so far, all its threads.
func (h *HAProxy) CPU() time.Duration { return TreeCPU(h.cmd.Process.Pid) }

// CPU is the CPU time nginx has used so far: the master and its workers.
func (n *Nginx) CPU() time.Duration { return TreeCPU(n.cmd.Process.Pid) }

// TreeCPU is the CPU time a process, all its threads and all its
// descendants have used so far (user and system, from the scheduler's
// nanosecond counters in /proc/<pid>/task/<tid>/schedstat). A descendant
// that has exited is not counted.
func TreeCPU(pid int) time.Duration {
	var total time.Duration
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, task := range tasks {
		if b, err := os.ReadFile(filepath.Join(task, "schedstat")); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				total += time.Duration(ns)
			}
		}
		b, _ := os.ReadFile(filepath.Join(task, "children"))
		for _, c := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(c); err == nil {
				total += TreeCPU(child)
			}
		}
	}
	return total
}

// maxBodyBytes turns nginx's client_max_body_size ("16m", "512k", "1048576";
// "" is the fleet's default) into bytes.
func maxBodyBytes(s string) int64 {
	if s == "" {
		s = proxyfleet.DefaultMaxBodySize
	}
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult, s = 1<<10, s[:len(s)-1]
	case "m":
		mult, s = 1<<20, s[:len(s)-1]
	case "g":
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("client_max_body_size %q: %v", s, err))
	}
	return n * mult
}
