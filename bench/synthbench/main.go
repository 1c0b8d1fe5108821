// Command synthbench measures the wall time and peak memory (the Go process
// plus its Node child, sampled from /proc) of synthesizing generated
// topologies (internal/scale) of 1 to 1,000 consumers in stacks mode and
// 1,000 as StackSets, next to the floor: an app that synthesizes one empty
// stack. Every case runs once per round and the rounds follow each other,
// so a slow spell of the shared machine falls on all cases alike; each
// ratio to one consumer is the median of the rounds' own ratios. It prints
// a Markdown table and the targets. Run it with make bench.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/obslink/obslink/internal/scale"
)

// Targets of make bench: the time of a case against one consumer's, and
// the peak memory of the largest stacks-mode case.
const (
	target200      = 2.5
	target1000     = 8.0
	targetPeakMiB  = 2048.0
	oneConsumerKey = "1"
)

// benchCase is one command line synthbench times.
type benchCase struct {
	key, name string
	consumers int
	binary    string
	args      func(out string) []string
	walls     []time.Duration
	rss       []float64
	stacks    int
}

func main() {
	runs := flag.Int("runs", 4, "rounds; every case runs once per round and the median is reported")
	sizes := flag.String("sizes", "1:3,10:4,50:5,200:6,1000:6", "consumers:regions cases in stacks mode; the first is the one the ratios divide by")
	bin := flag.String("bin", "", "obslink binary (built by make bench)")
	floor := flag.String("floor", "", "floor binary (built by make bench)")
	variants := flag.Bool("variants", true, "also time the 200-consumer case without cdk-nag and without aws-cdk-lib's validator")
	stackSets := flag.String("stacksets", "1000:10", "named consumers:OU groups of the StackSets case (six regions), or \"\" for none")
	flag.Parse()
	dir, err := os.MkdirTemp("", "synthbench")
	check(err)
	defer os.RemoveAll(dir)

	write := func(name, text string) string {
		file := filepath.Join(dir, name)
		check(os.WriteFile(file, []byte(text), 0o644))
		return file
	}
	synth := func(file string, flags ...string) func(string) []string {
		return func(out string) []string {
			return append(append([]string{"synth"}, flags...), "--topology", file, "--out", out)
		}
	}
	cases := []*benchCase{{key: "floor", name: "floor (one empty stack)", binary: *floor,
		args: func(out string) []string { return []string{out} }}}
	files := map[int]string{}
	for _, c := range strings.Split(*sizes, ",") {
		n, regions := pair(c)
		files[n] = write(fmt.Sprintf("stacks-%d.yaml", n), scale.Stacks(n, regions))
		cases = append(cases, &benchCase{key: strconv.Itoa(n), consumers: n, binary: *bin, args: synth(files[n]),
			name: fmt.Sprintf("%s consumers, %d regions", thousands(n), regions)})
	}
	if f, ok := files[200]; ok && *variants {
		for _, flags := range []string{"--no-nag", "--no-validate", "--no-nag --no-validate"} {
			cases = append(cases, &benchCase{key: "200 " + flags, binary: *bin, args: synth(f, strings.Fields(flags)...),
				name: "200 consumers, " + flags})
		}
	}
	if *stackSets != "" {
		n, groups := pair(*stackSets)
		f := write("stacksets.yaml", scale.StackSets(n, groups))
		for _, flags := range []string{"", "--no-validate"} {
			name := fmt.Sprintf("StackSets: %s named consumers + %d OU groups, %d regions", thousands(n), groups, len(scale.Regions))
			if flags != "" {
				name += ", " + flags
			}
			cases = append(cases, &benchCase{key: "stacksets " + flags, binary: *bin, args: synth(f, strings.Fields(flags)...), name: name})
		}
	}

	fmt.Printf("load average before: %s\n", loadAverage())
	for r := 0; r < *runs; r++ {
		for _, c := range cases {
			out := filepath.Join(dir, "out")
			w, rss := run(c.binary, c.args(out)...)
			c.walls, c.rss = append(c.walls, w), append(c.rss, rss)
			m, _ := filepath.Glob(filepath.Join(out, "*.template.json"))
			c.stacks = len(m)
			check(os.RemoveAll(out))
		}
	}
	fmt.Printf("load average after: %s\n\n", loadAverage())

	byKey := map[string]*benchCase{}
	for _, c := range cases {
		byKey[c.key] = c
	}
	one := byKey[oneConsumerKey]
	fl := byKey["floor"]
	fmt.Printf("| case | stacks | wall (s), median (lowest-highest) | x one consumer | x floor | peak RSS Go+Node (MiB) | marginal ms per added consumer |\n|---|---|---|---|---|---|---|\n")
	var prev *benchCase
	for _, c := range cases {
		ratio, marginal := "-", "-"
		if one != nil && c != one && c.key != "floor" {
			ratio = fmt.Sprintf("%.2f", pairedRatio(c, one))
		}
		if c.consumers > 0 && prev != nil {
			marginal = fmt.Sprintf("%.0f", float64(median(c.walls)-median(prev.walls))/float64(time.Millisecond)/float64(c.consumers-prev.consumers))
		}
		if c.consumers > 0 {
			prev = c
		}
		fmt.Printf("| %s | %d | %.2f (%.2f-%.2f) | %s | %.1f | %.0f | %s |\n", c.name, c.stacks, median(c.walls).Seconds(),
			lowest(c.walls).Seconds(), highest(c.walls).Seconds(), ratio, pairedRatio(c, fl), medianF(c.rss), marginal)
	}
	fmt.Printf("\nTargets (median of %d paired ratios; peak is the highest of the rounds):\n", *runs)
	if c, ok := byKey["200"]; ok && one != nil {
		verdict(fmt.Sprintf("200 consumers, 6 regions: %.2fx one consumer", pairedRatio(c, one)), pairedRatio(c, one) <= target200, fmt.Sprintf("at most %.1fx", target200))
	}
	if c, ok := byKey["1000"]; ok && one != nil {
		verdict(fmt.Sprintf("1,000 consumers in stacks mode: %.2fx one consumer", pairedRatio(c, one)), pairedRatio(c, one) <= target1000, fmt.Sprintf("at most %.0fx", target1000))
		peak := highestF(c.rss)
		verdict(fmt.Sprintf("1,000 consumers in stacks mode: peak %.0f MiB", peak), peak < targetPeakMiB, fmt.Sprintf("under %.0f MiB", targetPeakMiB))
	}
}

func verdict(what string, ok bool, target string) {
	word := "met"
	if !ok {
		word = "MISSED"
	}
	fmt.Printf("- %s (target %s): %s\n", what, target, word)
}

// pairedRatio is the median over the rounds of c's time divided by base's
// time in the same round.
func pairedRatio(c, base *benchCase) float64 {
	var r []float64
	for i := range c.walls {
		r = append(r, c.walls[i].Seconds()/base.walls[i].Seconds())
	}
	return medianF(r)
}

func pair(s string) (int, int) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 {
		check(fmt.Errorf("%q: want N:M", s))
	}
	a, err := strconv.Atoi(parts[0])
	check(err)
	b, err := strconv.Atoi(parts[1])
	check(err)
	return a, b
}

func thousands(n int) string {
	if n < 1000 {
		return strconv.Itoa(n)
	}
	return fmt.Sprintf("%d,%03d", n/1000, n%1000)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ") + " (1, 5, 15 min)"
}

// run starts the command and samples the summed RSS of it and its
// descendants every 10 ms (it looks for new descendants every 200 ms, so
// that sampling costs the shared cores little); it returns the wall time
// and the peak in MiB.
func run(bin string, args ...string) (time.Duration, float64) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	check(cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	peak := 0.0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var pids []int
	for n := 0; ; n++ {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s %v: %v\n", bin, args, err)
				os.Exit(1)
			}
			return time.Since(start), peak
		case <-tick.C:
			if n%20 == 0 {
				pids = descendants(cmd.Process.Pid)
			}
			total := 0.0
			for _, p := range pids {
				total += rssMiB(p)
			}
			peak = max(peak, total)
		}
	}
}

// descendants returns pid and every process below it.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) > 1 {
			pp, _ := strconv.Atoi(fields[1])
			children[pp] = append(children[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

var pageMiB = float64(os.Getpagesize()) / (1 << 20)

// rssMiB is the resident size of pid (0 once it has ended).
func rssMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * pageMiB
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func lowest(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[0]
}

func highest(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)-1]
}

func medianF(f []float64) float64 {
	s := append([]float64(nil), f...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func highestF(f []float64) float64 {
	s := append([]float64(nil), f...)
	sort.Float64s(s)
	return s[len(s)-1]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
