// Command report reads `go test -bench BenchmarkProxy` output on stdin and
// prints a Markdown table per case: requests per second and p50/p99
// latency for each target, with ratios to sending straight to the ALB.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^BenchmarkProxy/([^/]+)/([a-z]+)-\d+\s`)

type result struct{ rps, p50, p99 float64 }

func main() {
	cases := map[string]map[string]result{}
	var order []string
	s := bufio.NewScanner(os.Stdin)
	for s.Scan() {
		m := line.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(s.Text())
		var r result
		for i := 1; i < len(f); i++ {
			v, err := strconv.ParseFloat(f[i-1], 64)
			if err != nil {
				continue
			}
			switch f[i] {
			case "req/s":
				r.rps = v
			case "p50-ms":
				r.p50 = v
			case "p99-ms":
				r.p99 = v
			}
		}
		if cases[m[1]] == nil {
			cases[m[1]] = map[string]result{}
			order = append(order, m[1])
		}
		cases[m[1]][m[2]] = r
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "report: no BenchmarkProxy lines on stdin")
		os.Exit(1)
	}
	for _, c := range order {
		d := cases[c]["direct"]
		fmt.Printf("\n%s\n\n| target | req/s | x direct | p50 ms | x direct | p99 ms | x direct |\n|---|---|---|---|---|---|---|\n", c)
		for _, tg := range []string{"direct", "obslink", "seed"} {
			r, ok := cases[c][tg]
			if !ok {
				continue
			}
			fmt.Printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", tg, r.rps, r.rps/d.rps, r.p50, r.p50/d.p50, r.p99, r.p99/d.p99)
		}
		if o, ok := cases[c]["obslink"]; ok {
			if sd, ok := cases[c]["seed"]; ok {
				fmt.Printf("\nobslink vs the seed's config: %.2fx the requests per second, %.2fx the p50 latency.\n", o.rps/sd.rps, o.p50/sd.p50)
			}
		}
	}
}
