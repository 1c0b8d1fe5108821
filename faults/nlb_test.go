package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/obslink/obslink/internal/nginxtest"
)

// vpce is the VPC endpoint id the stand-in NLB names in its proxy protocol header.
const vpce = "vpce-0fa1e5c0ffee00001"

// nlb is a stand-in for the Network Load Balancer in front of a fleet of
// proxies: it forwards each TCP connection to a registered, healthy target
// and opens it with a proxy protocol v2 header (the agent's address, the
// VPC endpoint id), as an NLB with proxy protocol does. Like the fleet's
// target group it health-checks its targets (GET /healthz every 10 s; two
// failures make a target unhealthy) and resets the connections of a target
// that turns unhealthy (NLB's default); a deregistered target gets no new
// connection while the ones it has continue. When no registered target is
// healthy it fails open, as an NLB does, to all of them.
type nlb struct {
	ip      string
	mu      sync.Mutex
	targets []*target
	next    int
}

type target struct {
	ip         string
	healthPort int
	registered bool
	unhealthy  int
	conns      map[net.Conn]bool
}

// startNLB listens on ip at each port of ports (NLB port -> target port)
// until t ends, with the targets (their addresses), the first registered
// registered too unless onlyFirst.
func startNLB(t *testing.T, ip string, ports map[int]int, healthPort int, onlyFirst bool, targets ...string) *nlb {
	t.Helper()
	n := &nlb{ip: ip}
	for i, tip := range targets {
		n.targets = append(n.targets, &target{ip: tip, healthPort: healthPort, registered: i == 0 || !onlyFirst, conns: map[net.Conn]bool{}})
	}
	for port, tport := range ports {
		l, err := net.Listen("tcp", hostPort(ip, port))
		if err != nil {
			t.Fatalf("nlb: %v", err)
		}
		t.Cleanup(func() { l.Close() })
		go n.serve(l, tport)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go n.healthChecks(stop)
	return n
}

func (n *nlb) serve(l net.Listener, tport int) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go n.forward(c, tport)
	}
}

// pick returns the next registered, healthy target (any registered one
// when none is healthy), nil when none is registered.
func (n *nlb) pick() *target {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, failOpen := range []bool{false, true} {
		for i := 0; i < len(n.targets); i++ {
			tg := n.targets[(n.next+i)%len(n.targets)]
			if tg.registered && (tg.unhealthy < 2 || failOpen) {
				n.next = (n.next + i + 1) % len(n.targets)
				return tg
			}
		}
	}
	return nil
}

func (n *nlb) forward(c net.Conn, tport int) {
	defer c.Close()
	tg := n.pick()
	if tg == nil {
		return
	}
	up, err := net.DialTimeout("tcp", hostPort(tg.ip, tport), 10*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	src := netip.MustParseAddrPort(c.RemoteAddr().String())
	dst := netip.MustParseAddrPort(c.LocalAddr().String())
	if _, err := up.Write(nginxtest.ProxyHeader(src, dst, vpce)); err != nil {
		return
	}
	n.mu.Lock()
	tg.conns[c] = true
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(tg.conns, c)
		n.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// register (true) or deregister (false) the target at ip: a deregistered
// target gets no new connection; the ones it has go on.
func (n *nlb) register(ip string, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, tg := range n.targets {
		if tg.ip == ip {
			tg.registered = on
		}
	}
}

// healthChecks asks each target's /healthz every 10 s.
func (n *nlb) healthChecks(stop chan struct{}) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		n.mu.Lock()
		targets := append([]*target(nil), n.targets...)
		n.mu.Unlock()
		for _, tg := range targets {
			ok := healthy(tg.ip, tg.healthPort)
			n.mu.Lock()
			if ok {
				tg.unhealthy = 0
			} else if tg.unhealthy++; tg.unhealthy == 2 {
				for c := range tg.conns { // NLB resets an unhealthy target's connections
					if tc, ok := c.(*net.TCPConn); ok {
						_ = tc.SetLinger(0)
					}
					c.Close()
				}
			}
			n.mu.Unlock()
		}
	}
}

// healthy sends the NLB's health check: a LOCAL proxy protocol header, then GET /healthz.
func healthy(ip string, port int) bool {
	c, err := net.DialTimeout("tcp", hostPort(ip, port), 2*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(nginxtest.ProxyHeader(netip.AddrPort{}, netip.AddrPort{}, "")); err != nil {
		return false
	}
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", ip)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
