package main

import (
	"strings"
	"testing"
)

// Three rounds in turn, as BenchmarkProxy prints them (abridged columns).
const sample = `goos: linux
BenchmarkProxy/http-1KiB/direct-2   	 100	 1 ns/op	 40000 req/s	 0.10 p50-ms	 1.0 p99-ms
BenchmarkProxy/http-1KiB/obslink-2  	 100	 1 ns/op	 20000 req/s	 0.20 p50-ms	 2.0 p99-ms	 30.0 cpu-ms/1k-req	 31.0 cpu-s/GiB
BenchmarkProxy/http-1KiB/haproxy-2  	 100	 1 ns/op	 21000 req/s	 0.20 p50-ms	 2.0 p99-ms	 40.0 cpu-ms/1k-req	 41.0 cpu-s/GiB
BenchmarkProxy/http-1KiB/direct#01-2	 100	 1 ns/op	 38000 req/s	 0.10 p50-ms	 1.0 p99-ms
BenchmarkProxy/http-1KiB/obslink#01-2	 100	 1 ns/op	 19000 req/s	 0.20 p50-ms	 2.0 p99-ms	 36.0 cpu-ms/1k-req	 37.0 cpu-s/GiB
BenchmarkProxy/http-1KiB/haproxy#01-2	 100	 1 ns/op	 20000 req/s	 0.20 p50-ms	 2.0 p99-ms	 30.0 cpu-ms/1k-req	 31.0 cpu-s/GiB
BenchmarkProxy/http-1KiB/direct#02-2	 100	 1 ns/op	 42000 req/s	 0.10 p50-ms	 1.0 p99-ms
BenchmarkProxy/http-1KiB/obslink#02-2	 100	 1 ns/op	 21000 req/s	 0.20 p50-ms	 2.0 p99-ms	 45.0 cpu-ms/1k-req	 46.0 cpu-s/GiB
BenchmarkProxy/http-1KiB/haproxy#02-2	 100	 1 ns/op	 22000 req/s	 0.20 p50-ms	 2.0 p99-ms	 50.0 cpu-ms/1k-req	 51.0 cpu-s/GiB
PASS
`

func TestReportMediansAndPairedRatio(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rs.cases["http-1KiB"]["obslink"]); got != 3 {
		t.Fatalf("rounds of obslink: %d, want 3", got)
	}
	var b strings.Builder
	write(&b, rs)
	out := b.String()
	// Rounds' ratios 30/40, 36/30, 45/50 = 0.75, 1.20, 0.90: the median is
	// 0.90 (the ratio of the medians, 36/40, would also be 0.90, so the
	// spread tells them apart).
	for _, want := range []string{
		"cpu-per-request obslink/haproxy: 0.90\n",
		"(rounds 0.75-1.20; requests per second obslink/haproxy 0.95)",
		"| obslink | 20000 (19000-21000) | 0.50 | 0.20 (0.20-0.20) | 2.00 (2.00-2.00) | 36.0 (30.0-45.0) | 37.0 (31.0-46.0) |",
		"| direct | 40000 (38000-42000) | 1.00 |",
		"median of 3 round(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestReportRefusesInputWithoutBenchmarks(t *testing.T) {
	if _, err := parse(strings.NewReader("PASS\n")); err == nil {
		t.Fatal("no error for input without BenchmarkProxy lines")
	}
}
