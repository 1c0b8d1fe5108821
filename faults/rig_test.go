package faults

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/obslink/obslink/constructs/proxyfleet"
	"github.com/obslink/obslink/internal/nginxtest"
)

// The suite's network namespace is its own, so its addresses and ports are fixed.
const (
	domain      = "observability.internal"
	nlbIP       = "127.0.0.10" // the agents' names resolve here (/etc/hosts)
	httpPort    = 8080         // the proxies' ports
	grpcPort    = 4317
	healthPort  = 8081
	albHTTPPort = 8000 // the ALBs' listeners
	albGRPCPort = 8001
)

// The two proxies, side by side: obslink's nginx and the HAProxy peer. Each
// is a fleet of two instances behind a stand-in NLB of its own, and the
// agents of each reach it under the same names on the NLB's ports.
var (
	vias      = []string{"obslink", "haproxy"}
	instances = map[string][2]string{"obslink": {"127.0.0.5", "127.0.0.15"}, "haproxy": {"127.0.0.8", "127.0.0.18"}}
	nlbPorts  = map[string][2]int{"obslink": {18080, 14317}, "haproxy": {28080, 24317}}
)

// albAddrs are each service's ALB addresses: DNS names the first two at
// start (an ALB has one per zone); the other two are where it moves.
var albAddrs = map[string][]string{
	metrics: {"127.0.0.2", "127.0.0.3", "127.0.0.12", "127.0.0.13"},
	logs:    {"127.0.0.4", "127.0.0.7", "127.0.0.14", "127.0.0.17"},
	traces:  {"127.0.0.6", "127.0.0.9", "127.0.0.16", "127.0.0.19"},
}

var albNames = map[string]string{metrics: "metrics-alb.test", logs: "logs-alb.test", traces: "traces-alb.test"}

var discardLog = log.New(io.Discard, "", 0)

// options change a rig for one fault.
type options struct {
	// logBody is each log record's size; large ones make batches over
	// nginx's 1 MiB in-memory body buffer, which then go to its disk.
	logBody int
	// bodyDiskMiB, when set, puts the first nginx instance's request-body
	// buffer on a disk (tmpfs) of that size.
	bodyDiskMiB int
	// onlyFirst registers only each fleet's first instance with its NLB at
	// start, so that every agent's connection lands there.
	onlyFirst bool
}

// rig is the data path of both proxies under one set of ALBs, receivers
// and one resolver.
type rig struct {
	dns     *nginxtest.DNS
	fw      *firewall
	rc      *receiver
	albs    map[string][]*alb // by service, as albAddrs
	nginx   [2]*nginxtest.Nginx
	haproxy [2]*nginxtest.HAProxy
	nlbs    map[string]*nlb
	agents  map[string]*agents
	load    map[string]*loadGen // the load fault's agents, by proxy
}

func routes(httpPort, grpcPort int) []proxyfleet.ConfigRoute {
	return []proxyfleet.ConfigRoute{
		{Name: metrics, Host: "metrics." + domain, Port: httpPort, Upstream: albNames[metrics], UpstreamPort: albHTTPPort},
		{Name: logs, Host: "logs." + domain, Port: httpPort, Upstream: albNames[logs], UpstreamPort: albHTTPPort},
		{Name: traces, Host: "traces." + domain, Port: grpcPort, Upstream: albNames[traces], UpstreamPort: albGRPCPort, GRPC: true},
	}
}

func startRig(t *testing.T, o options) *rig {
	t.Helper()
	r := &rig{dns: nginxtest.StartDNS(t), fw: newFirewall(t), rc: &receiver{tally: newTally()},
		albs: map[string][]*alb{}, nlbs: map[string]*nlb{}, agents: map[string]*agents{}}
	for svc, addrs := range albAddrs {
		port := albHTTPPort
		if svc == traces {
			port = albGRPCPort
		}
		for _, ip := range addrs {
			r.albs[svc] = append(r.albs[svc], startALB(t, hostPort(ip, port), r.rc, svc == traces))
		}
		r.dns.Set(albNames[svc], 1, addrs[:2]...)
	}

	// obslink: nginx with the rendered config and obslink-resolve every second.
	for i, ip := range instances["obslink"] {
		n := nginxtest.Prepare(t, proxyfleet.Config{Routes: routes(httpPort, grpcPort), HealthPort: healthPort, ProxyProtocol: true}, ip, r.dns)
		n.Env = []string{nginxtest.FleetEnv}
		if i == 0 && o.bodyDiskMiB > 0 {
			mountDisk(t, n.Config.TempDir, o.bodyDiskMiB)
		}
		n.Start(t)
		// As the fleet's resolve.env: the body buffer's disk watched (less
		// than 1 MiB free here, 512 MiB in the fleet, turns /healthz 503).
		n.ResolveLoop(t, 1, "OBSLINK_TEMP_DIR="+n.Config.TempDir, "OBSLINK_MIN_FREE_MB=1")
		r.nginx[i] = n
	}
	// The HAProxy peer: the same routes, following the ALB names with its own resolver.
	for i, ip := range instances["haproxy"] {
		r.haproxy[i] = nginxtest.StartPeer(t, nginxtest.Peer{Listen: ip, Routes: routes(httpPort, grpcPort), DNS: r.dns,
			ProxyProtocol: true, MaxBody: 16 << 20, HealthPort: healthPort})
	}
	for _, via := range vias {
		p, ips := nlbPorts[via], instances[via]
		r.nlbs[via] = startNLB(t, nlbIP, map[int]int{p[0]: httpPort, p[1]: grpcPort}, healthPort, o.onlyFirst, ips[:]...)
	}
	for _, via := range vias {
		r.agents[via] = startAgents(t, via, nlbPorts[via][0], nlbPorts[via][1], o.logBody)
	}
	// Data flows through both proxies before any fault.
	r.waitFlowing(t, time.Now(), 60*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error log and resolver output:\n%s", r.nginx[0].ErrorLog())
		}
	})
	return r
}

// waitFlowing waits until every signal reached the receivers through both
// proxies after since, for at most limit (a bound, not an assertion); it
// returns how long after since each signal of each proxy took, -1 for one
// that did not flow again within the limit.
func (r *rig) waitFlowing(t *testing.T, since time.Time, limit time.Duration) map[key]time.Duration {
	t.Helper()
	out := map[key]time.Duration{}
	deadline := since.Add(limit)
	for _, via := range vias {
		for _, s := range signals {
			for {
				at, ok := r.rc.tally.firstAfter(via, s, since)
				if ok {
					out[key{via, s}] = at.Sub(since)
					break
				}
				if time.Now().After(deadline) {
					out[key{via, s}] = -1
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	return out
}

// mountDisk puts a tmpfs of mib MiB on dir (in the suite's mount namespace).
func mountDisk(t *testing.T, dir string, mib int) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm", mib)); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// fillDisk writes dir's file system full; the returned func frees it.
func fillDisk(t *testing.T, dir string) func() {
	t.Helper()
	name := filepath.Join(dir, "fill")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break // ENOSPC
		}
	}
	f.Close()
	return func() { _ = os.Remove(name) }
}

// albList is the addresses (ip:port) of the ALBs of every service, the first n of each.
func (r *rig) albList(n int) []*alb {
	var out []*alb
	for _, svc := range signals {
		out = append(out, r.albs[svc][:n]...)
	}
	return out
}

func addrs(albs []*alb) []string {
	var out []string
	for _, a := range albs {
		out = append(out, a.Addr)
	}
	return out
}

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }
