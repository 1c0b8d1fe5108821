package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/obslink/obslink/internal/nginxtest"
)

// seconds reads a duration in seconds from the environment, or def.
func seconds(name string, def time.Duration) time.Duration {
	var s int
	if _, err := fmt.Sscan(os.Getenv(name), &s); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return def
}

// fault is one way the data path fails.
type fault struct {
	name string
	opts options
	// inject applies the fault, lets it last, undoes it and returns when it
	// ended; it checks what the fault must leave behind (logs, files).
	inject func(t *testing.T, r *rig) time.Time
}

// result is what one proxy's agents sent and the receivers got.
type result struct {
	sent, received int64
	// gaveUp: items the clients dropped after their own retries (or still
	// held in a queue); ackedLost: items a client was told were delivered
	// (a 2xx) that no receiver has. lost = gaveUp + ackedLost.
	gaveUp, ackedLost int64
	recovered         time.Duration // -1: data did not flow again
	detail            []string      // per signal
}

func (res result) line(name, via string) string {
	rec := "never"
	if res.recovered >= 0 {
		rec = fmt.Sprintf("%.1fs", res.recovered.Seconds())
	}
	return fmt.Sprintf("fault %s %s: sent %d received %d lost %d recovered %s (clients gave up on %d, acknowledged and lost %d)",
		name, via, res.sent, res.received, res.sent-res.received, rec, res.gaveUp, res.ackedLost)
}

// count is via's result: Prometheus's samples from its agent's own
// counters (failed, dropped, still queued) against what arrived;
// OpenTelemetry's logs and spans item by item from what its exporters
// reported delivered against what arrived.
func (r *rig) count(via string) result {
	a, got := r.agents[via], r.rc.tally
	var res result
	res.sent = a.promN + a.logN + a.spanN
	for _, s := range signals {
		res.received += int64(got.received(via, s))
	}
	promMissing := a.promN - int64(got.received(via, metrics))
	gaveUp := min(promMissing, a.promGaveUp()+a.promQueued())
	res.gaveUp += gaveUp
	res.ackedLost += promMissing - gaveUp
	if m := missing(got, via, metrics, a.promN); m != "" {
		res.detail = append(res.detail, "metrics missing "+m)
	}
	res.detail = append(res.detail, fmt.Sprintf("metrics: sent %d received %d failed+dropped %d queued %d retried %.0f",
		a.promN, got.received(via, metrics), a.promGaveUp(), a.promQueued(), a.promMetric("prometheus_remote_storage_samples_retried_total")))
	for _, c := range []struct {
		exp    *ackExporter
		n      int64
		signal string
	}{{a.logExp, a.logN, logs}, {a.spanExp, a.spanN, traces}} {
		acked, dropped := c.exp.counts()
		var ackedLost, gaveUp int64
		for seq := int64(1); seq <= c.n; seq++ {
			switch {
			case got.has(via, c.signal, seq):
			case acked[seq]:
				ackedLost++
			default:
				gaveUp++
			}
		}
		res.ackedLost += ackedLost
		res.gaveUp += gaveUp
		res.detail = append(res.detail, fmt.Sprintf("%s: sent %d received %d acked %d export-failed %d gave-up %d acked-lost %d",
			c.signal, c.n, got.received(via, c.signal), len(acked), len(dropped), gaveUp, ackedLost))
	}
	if g := r.load[via]; g != nil {
		n := g.sent.Load()
		var ackedLost, gaveUp int64
		for seq := int64(1); seq <= n; seq++ {
			switch {
			case got.has(via, load, seq):
			case g.acked[seq]:
				ackedLost++
			default:
				gaveUp++
			}
		}
		res.sent += n
		res.received += int64(got.received(via, load))
		res.ackedLost += ackedLost
		res.gaveUp += gaveUp
		res.detail = append(res.detail, fmt.Sprintf("load: sent %d received %d gave-up %d acked-lost %d", n, got.received(via, load), gaveUp, ackedLost))
	}
	return res
}

// report prints the fault's line for each proxy (and appends it to
// $FAULTS_REPORT), and requires that obslink lost nothing it acknowledged.
func report(t *testing.T, name string, r *rig, recovered map[key]time.Duration) {
	t.Helper()
	for _, via := range vias {
		res := r.count(via)
		var each []string
		for _, s := range signals {
			d := recovered[key{via, s}]
			if d < 0 || res.recovered < 0 {
				res.recovered = -1
			} else {
				res.recovered = max(res.recovered, d)
			}
			each = append(each, fmt.Sprintf("%s %.1fs", s, d.Seconds()))
		}
		res.detail = append(res.detail, "recovered "+strings.Join(each, ", "))
		line := res.line(name, via)
		fmt.Println(line)
		t.Logf("%s %s: %s", name, via, strings.Join(res.detail, "; "))
		if path := os.Getenv("FAULTS_REPORT"); path != "" {
			if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				fmt.Fprintln(f, line)
				f.Close()
			}
		}
		if via == "obslink" {
			assert.Zero(t, res.ackedLost, "obslink acknowledged data that no receiver has: %s", line)
		}
	}
}

// run is one fault on both proxies: a steady flow, the fault, the flow
// again, then every client's queue delivered or given up on.
func run(t *testing.T, f fault) {
	r := startRig(t, f.opts)
	time.Sleep(2 * time.Second)
	end := f.inject(t, r)
	recovered := r.waitFlowing(t, end, 120*time.Second)
	time.Sleep(2 * time.Second)
	var wg sync.WaitGroup
	for _, a := range r.agents {
		a.stopProducing()
		wg.Add(1)
		go func() { defer wg.Done(); a.flush(r.rc.tally, 60*time.Second) }()
	}
	wg.Wait()
	report(t, f.name, r, recovered)
}

// TestFaults runs every fault on obslink's nginx and on the HAProxy peer.
func TestFaults(t *testing.T) {
	inside(t)
	only := os.Getenv("FAULTS_ONLY") // a comma-separated list of fault names
	for _, f := range faultList() {
		if only != "" && !strings.Contains(","+only+",", ","+f.name+",") {
			continue
		}
		t.Run(f.name, func(t *testing.T) { run(t, f) })
	}
}

func faultList() []fault {
	outage := seconds("FAULTS_OUTAGE", 60*time.Second)
	// during applies a fault for d, undoes it and returns when it ended.
	during := func(d time.Duration, on, off func()) time.Time {
		on()
		time.Sleep(d)
		off()
		return time.Now()
	}
	return []fault{
		{name: "alb-refused", inject: func(t *testing.T, r *rig) time.Time {
			return during(outage, func() { r.fw.refuse(t, addrs(r.albList(4))...) }, func() { r.fw.clear(t) })
		}},
		{name: "alb-blackhole", inject: func(t *testing.T, r *rig) time.Time {
			return during(outage, func() { r.fw.blackhole(t, addrs(r.albList(4))...) }, func() { r.fw.clear(t) })
		}},
		{name: "alb-reset", inject: func(t *testing.T, r *rig) time.Time {
			return during(outage, func() { resetAll(r.albList(4), true) }, func() { resetAll(r.albList(4), false) })
		}},
		{name: "alb-address-dead", inject: func(t *testing.T, r *rig) time.Time {
			var second []string
			for _, svc := range signals {
				second = append(second, r.albs[svc][1].Addr)
			}
			return during(outage/2, func() { r.fw.blackhole(t, second...) }, func() { r.fw.clear(t) })
		}},
		resolverFault("resolver-servfail", nginxtest.DNSServFail, "(SERVFAIL)"),
		resolverFault("resolver-nxdomain", nginxtest.DNSNXDomain, "(NXDOMAIN)"),
		resolverFault("resolver-empty", nginxtest.DNSEmpty, "(NOERROR, no address)"),
		resolverFault("resolver-down", nginxtest.DNSSilent, "(no answer from 127.0.0.1)"),
		{name: "retire", inject: retire},
		{name: "reload-storm", inject: func(t *testing.T, r *rig) time.Time {
			reloads := func() int { return strings.Count(r.nginx[0].ErrorLog(), "metrics: metrics-alb.test is now") }
			before := reloads()
			stop := time.Now().Add(outage)
			for moved := true; time.Now().Before(stop); moved = !moved {
				for _, svc := range signals {
					if moved {
						r.dns.Set(albNames[svc], 1, albAddrs[svc][2:]...)
					} else {
						r.dns.Set(albNames[svc], 1, albAddrs[svc][:2]...)
					}
				}
				time.Sleep(3 * time.Second)
			}
			end := time.Now()
			t.Logf("reload-storm: obslink-resolve reloaded nginx %d times", reloads()-before)
			assert.Greater(t, reloads()-before, int(outage/(6*time.Second)), "nginx followed the addresses")
			return end
		}},
		{name: "disk-full", opts: options{logBody: 64 << 10, bodyDiskMiB: 8, onlyFirst: true}, inject: func(t *testing.T, r *rig) time.Time {
			// Every agent is on the first instance; the second takes over
			// when the NLB finds the first unhealthy.
			for _, via := range vias {
				r.nlbs[via].register(instances[via][1], true)
			}
			var free func()
			return during(outage/2, func() { free = fillDisk(t, r.nginx[0].Config.TempDir) }, func() { free() })
		}},
		{name: "bad-input", inject: badInput},
		{name: "load", inject: loadFault},
	}
}

// resolverFault makes the resolver fail as failure says for 12 of
// obslink-resolve's intervals (HAProxy's resolver asks as often): the
// proxies must keep the last good addresses, and nginx must not reload;
// obslink-resolve's log must say what the resolver answered (logged).
func resolverFault(name string, failure nginxtest.DNSFailure, logged string) fault {
	return fault{name: name, inject: func(t *testing.T, r *rig) time.Time {
		type state struct{ files, workers string }
		snapshot := func() []state {
			var out []state
			for _, n := range r.nginx {
				var files string
				for _, svc := range signals {
					b, _ := os.ReadFile(filepath.Join(n.Config.UpstreamDir, svc+".conf"))
					files += string(b)
				}
				out = append(out, state{files, children(n.Pid())})
			}
			return out
		}
		before := snapshot()
		r.dns.SetFailure(failure)
		time.Sleep(12 * time.Second)
		after := snapshot()
		r.dns.SetFailure(nginxtest.DNSAnswers)
		end := time.Now()
		assert.Equal(t, before, after, "the upstream files and nginx's workers (no reload) stay as they were")
		for _, n := range r.nginx {
			assert.Contains(t, n.ErrorLog(), "no address for metrics-alb.test "+logged+"; keeping the previous ones")
		}
		for _, h := range r.haproxy {
			for _, l := range h.AccessLog() {
				if strings.Contains(l, "DNS") || strings.Contains(l, "resolution") {
					t.Logf("haproxy: %s", l)
				}
			}
		}
		return end
	}}
}

// children is the process ids of pid's children, as one string.
func children(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	return strings.TrimSpace(string(b))
}

// missing lists the ranges of sequence numbers up to n that did not arrive.
func missing(got *tally, via, signal string, n int64) string {
	var out []string
	for seq := int64(1); seq <= n; seq++ {
		if got.has(via, signal, seq) {
			continue
		}
		end := seq
		for end+1 <= n && !got.has(via, signal, end+1) {
			end++
		}
		out = append(out, fmt.Sprintf("%d-%d", seq, end))
		seq = end
	}
	return strings.Join(out, ",")
}
