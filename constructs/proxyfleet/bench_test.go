package proxyfleet_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/obslink/obslink/internal/nginxtest"
)

// seedConfig is the design post's sample proxy: one server per service,
// proxy_pass to the ALB resolved once at start (an address here, since the
// stand-in ALB's name is only known to the stand-in DNS), nginx defaults
// otherwise (no upstream keepalive, HTTP/1.0 upstream, Host = upstream).
// Like obslink's config under test, it runs its workers as root, so both can
// write request bodies to their temporary directories.
func seedConfig(dir, listen string, port int, r *nginxtest.Rig) string {
	return fmt.Sprintf(`user root;
worker_processes auto;
pid %[1]s/seed.pid;
error_log %[1]s/seed-error.log warn;
events { worker_connections 8192; }
http {
    access_log %[1]s/seed-access.log;
    client_body_temp_path %[1]s/seed-body;
    proxy_temp_path %[1]s/seed-proxy;
    server {
        listen %[2]s:%[3]d;
        server_name metrics.%[4]s;
        location / { proxy_pass http://127.0.0.2:%[5]d; }
    }
    server {
        listen %[2]s:%[3]d;
        server_name logs.%[4]s;
        location / { proxy_pass http://127.0.0.4:%[5]d; }
    }
}
`, dir, listen, port, domain, r.ALBPort)
}

func startSeed(b *testing.B, r *nginxtest.Rig) (port, pid int) {
	dir := b.TempDir()
	port = nginxtest.FreePort(b, "127.0.0.7")
	conf := filepath.Join(dir, "seed.conf")
	if err := os.WriteFile(conf, []byte(seedConfig(dir, "127.0.0.7", port, r)), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(r.Nginx.Bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "seed-error.log"), "-g", "daemon off;")
	nginxtest.Run(b, cmd) // stops the master and its workers
	for i := 0; i < 100; i++ {
		if c, err := http.Get(fmt.Sprintf("http://127.0.0.7:%d/", port)); err == nil {
			c.Body.Close()
			return port, cmd.Process.Pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("seed nginx did not start")
	return 0, 0
}

// rounds is how many times BenchmarkProxy measures every target, in turns
// (round 1 of every target, then round 2, ...), so a slow spell of the shared
// machine falls on all targets alike; bench/report prints medians and spread.
const rounds = 3

// BenchmarkProxy sends POSTs through obslink's nginx config, through the
// HAProxy peer (nginxtest.HAProxy: the same routing), through the seed's
// sample config, and straight to the stand-in ALB, all on loopback, and
// reports requests per second, p50/p99 latency and each proxy's own CPU time
// (all its processes and threads) per 1,000 requests and per GiB. Run with
// make bench; bench/report turns the output into tables and ratios.
func BenchmarkProxy(b *testing.B) {
	r := nginxtest.StartRig(b, domain)
	peer := nginxtest.StartHAProxy(b, r)
	seedPort, seedPid := startSeed(b, r)
	small := bytes.Repeat([]byte("m"), 1<<10) // a metric batch
	large := bytes.Repeat([]byte("l"), 1<<20) // a log batch (the seed's nginx caps bodies at 1 MiB)
	type target struct {
		name, url, host string
		client          *http.Client
		grpc            bool
		cpu             func() time.Duration // nil: not a proxy
	}
	http1 := []target{
		{"direct", fmt.Sprintf("http://127.0.0.2:%d", r.ALBPort), "metrics." + domain, r.Client, false, nil},
		{"obslink", r.Nginx.URL(r.HTTPPort), "metrics." + domain, r.Client, false, r.Nginx.CPU},
		{"haproxy", peer.URL(peer.HTTPPort), "metrics." + domain, r.Client, false, peer.CPU},
		{"seed", fmt.Sprintf("http://127.0.0.7:%d", seedPort), "metrics." + domain, r.Client, false, func() time.Duration { return nginxtest.TreeCPU(seedPid) }},
	}
	grpc := []target{
		{"direct", fmt.Sprintf("http://127.0.0.6:%d", r.GRPCALBPort), "traces." + domain, r.GRPCClient, true, nil},
		{"obslink", r.Nginx.URL(r.GRPCPort), "traces." + domain, r.GRPCClient, true, r.Nginx.CPU},
		{"haproxy", peer.URL(peer.GRPCPort), "traces." + domain, r.GRPCClient, true, peer.CPU},
	}
	for round := 0; round < rounds; round++ {
		// grpc-1KiB: one agent's connection carrying 8 concurrent calls (an
		// OpenTelemetry exporter with several consumers); grpc-1KiB-8conns:
		// 8 agents, a connection each, as 8 agents behind the NLB.
		for _, c := range []struct {
			kind     string
			body     []byte
			targets  []target
			ownConns bool
		}{{"http-1KiB", small, http1, false}, {"http-1MiB", large, http1, false}, {"grpc-1KiB", small, grpc, false}, {"grpc-1KiB-8conns", small, grpc, true}} {
			for _, tg := range c.targets {
				// Rounds after the first get testing's "#01", "#02" suffix.
				b.Run(c.kind+"/"+tg.name, func(b *testing.B) {
					var mu sync.Mutex
					var lat []time.Duration
					var failed int
					var why string
					b.SetBytes(int64(len(c.body)))
					b.SetParallelism(4)
					var cpu0 time.Duration
					if tg.cpu != nil {
						cpu0 = tg.cpu()
					}
					start := time.Now()
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						var mine []time.Duration
						bad, firstErr := 0, ""
						client := tg.client
						if c.ownConns {
							var h2c http.Protocols
							h2c.SetUnencryptedHTTP2(true)
							tr := &http.Transport{Protocols: &h2c}
							defer tr.CloseIdleConnections()
							client = &http.Client{Timeout: 30 * time.Second, Transport: tr}
						}
						for pb.Next() {
							req, _ := http.NewRequest(http.MethodPost, tg.url+"/push", bytes.NewReader(c.body))
							req.Host = tg.host
							if tg.grpc {
								req.Header.Set("Content-Type", "application/grpc")
							}
							t0 := time.Now()
							resp, err := client.Do(req)
							if err != nil {
								bad++
								firstErr = err.Error()
								continue
							}
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								bad++
								firstErr = resp.Status
							}
							mine = append(mine, time.Since(t0))
						}
						mu.Lock()
						lat = append(lat, mine...)
						failed += bad
						if firstErr != "" {
							why = firstErr
						}
						mu.Unlock()
					})
					elapsed := time.Since(start)
					b.StopTimer()
					if failed > 0 {
						b.Fatalf("%d requests failed, e.g. %s", failed, why)
					}
					sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
					if len(lat) > 0 {
						b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
						b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
						b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
					}
					if tg.cpu != nil && len(lat) > 0 {
						used := (tg.cpu() - cpu0).Seconds()
						if used <= 0 {
							// /proc/<pid>/task/*/schedstat or .../children missing
							// (a kernel without CONFIG_SCHED_INFO or CONFIG_PROC_CHILDREN).
							b.Fatalf("%s used no CPU for %d requests: this kernel does not expose the scheduler's counters", tg.name, len(lat))
						}
						b.ReportMetric(used*1e6/float64(len(lat)), "cpu-ms/1k-req")
						b.ReportMetric(used/(float64(len(lat))*float64(len(c.body))/(1<<30)), "cpu-s/GiB")
					}
				})
			}
		}
	}
}
