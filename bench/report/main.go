// Command report reads `go test -bench BenchmarkProxy` output on stdin and
// prints a Markdown table per payload: for each target the median over the
// rounds (and the spread, lowest to highest) of requests per second, p50
// and p99 latency, and the proxy's own CPU time per 1,000 requests and per
// GiB, with ratios to sending straight to the ALB; then, per payload, the
// line `cpu-per-request obslink/haproxy: R` (the median of the rounds'
// ratios, each round's obslink against the same round's HAProxy).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^BenchmarkProxy/([^/]+)/([a-z]+)(?:#(\d+))?-\d+\s`)

// metrics of one round of one target: unit -> value.
type metrics map[string]float64

// Units bench_test.go reports.
const (
	rps     = "req/s"
	p50     = "p50-ms"
	p99     = "p99-ms"
	cpuReq  = "cpu-ms/1k-req"
	cpuGiB  = "cpu-s/GiB"
	obslink = "obslink"
	peer    = "haproxy"
)

// results: payload -> target -> rounds in order.
type results struct {
	cases map[string]map[string][]metrics
	order []string
}

func parse(r io.Reader) (results, error) {
	res := results{cases: map[string]map[string][]metrics{}}
	s := bufio.NewScanner(r)
	for s.Scan() {
		m := line.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(s.Text())
		got := metrics{}
		for i := 1; i < len(f); i++ {
			if v, err := strconv.ParseFloat(f[i-1], 64); err == nil {
				got[f[i]] = v
			}
		}
		if res.cases[m[1]] == nil {
			res.cases[m[1]] = map[string][]metrics{}
			res.order = append(res.order, m[1])
		}
		res.cases[m[1]][m[2]] = append(res.cases[m[1]][m[2]], got)
	}
	if err := s.Err(); err != nil {
		return res, err
	}
	if len(res.order) == 0 {
		return res, fmt.Errorf("no BenchmarkProxy lines on stdin")
	}
	return res, nil
}

// stat is the median and range of one metric over the rounds.
type stat struct{ med, lo, hi float64 }

func summarize(vals []float64) stat {
	if len(vals) == 0 {
		return stat{}
	}
	v := append([]float64(nil), vals...)
	sort.Float64s(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return stat{med, v[0], v[len(v)-1]}
}

func (rs results) stat(payload, target, unit string) (stat, bool) {
	var vals []float64
	for _, m := range rs.cases[payload][target] {
		if v, ok := m[unit]; ok {
			vals = append(vals, v)
		}
	}
	return summarize(vals), len(vals) > 0
}

// ratio is the median and range of a/b over the rounds both ran.
func (rs results) ratio(payload, a, b, unit string) (stat, bool) {
	ra, rb := rs.cases[payload][a], rs.cases[payload][b]
	var vals []float64
	for i := 0; i < len(ra) && i < len(rb); i++ {
		x, okx := ra[i][unit]
		y, oky := rb[i][unit]
		if okx && oky && y != 0 {
			vals = append(vals, x/y)
		}
	}
	return summarize(vals), len(vals) > 0
}

func cell(s stat, ok bool, format string) string {
	if !ok {
		return "-"
	}
	if format == "" { // three significant figures or more
		format = "%.3f"
		if s.med >= 10 {
			format = "%.1f"
		}
	}
	return fmt.Sprintf(format+" ("+format+"-"+format+")", s.med, s.lo, s.hi)
}

func write(w io.Writer, rs results) {
	for _, c := range rs.order {
		rounds := 0
		for _, ms := range rs.cases[c] {
			rounds = max(rounds, len(ms))
		}
		fmt.Fprintf(w, "\n%s (median of %d round(s), lowest-highest in brackets)\n\n", c, rounds)
		fmt.Fprintln(w, "| target | req/s | x direct | p50 ms | p99 ms | CPU ms per 1,000 requests | CPU s per GiB |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		direct, hasDirect := rs.stat(c, "direct", rps)
		for _, tg := range []string{"direct", obslink, peer, "seed"} {
			if _, ok := rs.cases[c][tg]; !ok {
				continue
			}
			r, rok := rs.stat(c, tg, rps)
			x := "-"
			if hasDirect && rok && direct.med > 0 {
				x = fmt.Sprintf("%.2f", r.med/direct.med)
			}
			a, aok := rs.stat(c, tg, p50)
			b, bok := rs.stat(c, tg, p99)
			cr, crok := rs.stat(c, tg, cpuReq)
			cg, cgok := rs.stat(c, tg, cpuGiB)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", tg, cell(r, rok, "%.0f"), x,
				cell(a, aok, "%.2f"), cell(b, bok, "%.2f"), cell(cr, crok, ""), cell(cg, cgok, ""))
		}
		if q, ok := rs.ratio(c, obslink, peer, cpuReq); ok {
			fmt.Fprintf(w, "\ncpu-per-request obslink/haproxy: %.2f\n", q.med)
			t, _ := rs.ratio(c, obslink, peer, rps)
			fmt.Fprintf(w, "(rounds %.2f-%.2f; requests per second obslink/haproxy %.2f)\n", q.lo, q.hi, t.med)
		}
		if q, ok := rs.ratio(c, obslink, "seed", rps); ok {
			p, _ := rs.ratio(c, obslink, "seed", p50)
			fmt.Fprintf(w, "obslink vs the seed's config: %.2fx the requests per second, %.2fx the p50 latency.\n", q.med, p.med)
		}
	}
}

func main() {
	rs, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	write(os.Stdout, rs)
}
