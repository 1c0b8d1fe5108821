// Command synthbench measures the wall time and peak memory (the Go process
// plus its Node child, sampled from /proc) of synthesizing generated
// topologies of 1 to 200 consumers, next to the floor: an app that
// synthesizes one empty stack, measured in the same run. It prints a
// Markdown table. Run it with make bench.
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

func main() {
	runs := flag.Int("runs", 3, "runs per case; the median is reported")
	sizes := flag.String("sizes", "1:3,10:4,50:5,200:6", "consumers:regions cases")
	bin := flag.String("bin", "", "obslink binary (built by make bench)")
	floor := flag.String("floor", "", "floor binary (built by make bench)")
	variants := flag.Bool("variants", true, "also time the largest case without cdk-nag and without aws-cdk-lib's validator")
	stackSets := flag.String("stacksets", "1000:10", "named consumers:OU groups of the StackSets case (six regions), or \"\" for none")
	flag.Parse()
	dir, err := os.MkdirTemp("", "synthbench")
	check(err)
	defer os.RemoveAll(dir)

	type row struct {
		name          string
		stacks        int
		wall          time.Duration
		rssMiB        float64
		perConsumerMs float64
	}
	var rows []row
	measure := func(name string, args func(out string) []string, binary string) (time.Duration, float64, int) {
		var walls []time.Duration
		var rss []float64
		stacks := 0
		for i := 0; i < *runs; i++ {
			out := filepath.Join(dir, fmt.Sprintf("%s-%d", name, i))
			w, r := run(binary, args(out)...)
			walls, rss = append(walls, w), append(rss, r)
			m, _ := filepath.Glob(filepath.Join(out, "*.template.json"))
			stacks = len(m)
			os.RemoveAll(out)
		}
		return median(walls), medianF(rss), stacks
	}
	fw, fr, fs := measure("floor", func(out string) []string { return []string{out} }, *floor)
	rows = append(rows, row{name: "floor (one empty stack)", stacks: fs, wall: fw, rssMiB: fr})
	var prevN int
	var prevWall time.Duration
	for _, c := range strings.Split(*sizes, ",") {
		parts := strings.Split(c, ":")
		n, _ := strconv.Atoi(parts[0])
		regions, _ := strconv.Atoi(parts[1])
		file := filepath.Join(dir, fmt.Sprintf("topo-%d.yaml", n))
		check(os.WriteFile(file, []byte(topologyYAML(n, regions)), 0o644))
		w, r, s := measure(fmt.Sprintf("n%d", n), func(out string) []string { return []string{"synth", "--topology", file, "--out", out} }, *bin)
		per := 0.0
		if prevN > 0 {
			per = float64(w-prevWall) / float64(time.Millisecond) / float64(n-prevN)
		}
		rows = append(rows, row{name: fmt.Sprintf("%d consumers, %d regions", n, regions), stacks: s, wall: w, rssMiB: r, perConsumerMs: per})
		prevN, prevWall = n, w
	}
	if *variants {
		last := strings.Split(*sizes, ",")
		parts := strings.Split(last[len(last)-1], ":")
		file := filepath.Join(dir, fmt.Sprintf("topo-%s.yaml", parts[0]))
		for _, v := range []struct{ name, flags string }{
			{"--no-nag", "--no-nag"}, {"--no-validate", "--no-validate"}, {"--no-nag --no-validate", "--no-nag --no-validate"},
		} {
			w, r, s := measure("v", func(out string) []string {
				return append([]string{"synth"}, append(strings.Fields(v.flags), "--topology", file, "--out", out)...)
			}, *bin)
			rows = append(rows, row{name: fmt.Sprintf("%s consumers, %s", parts[0], v.name), stacks: s, wall: w, rssMiB: r})
		}
	}
	if *stackSets != "" {
		parts := strings.Split(*stackSets, ":")
		n, _ := strconv.Atoi(parts[0])
		g, _ := strconv.Atoi(parts[1])
		file := filepath.Join(dir, "stacksets.yaml")
		check(os.WriteFile(file, []byte(scale.StackSets(n, g)), 0o644))
		for _, flags := range []string{"", "--no-validate"} {
			w, r, s := measure("s", func(out string) []string {
				return append([]string{"synth"}, append(strings.Fields(flags), "--topology", file, "--out", out)...)
			}, *bin)
			name := fmt.Sprintf("StackSets: %d named consumers + %d OU groups, %d regions", n, g, len(scale.Regions))
			if flags != "" {
				name += ", " + flags
			}
			rows = append(rows, row{name: name, stacks: s, wall: w, rssMiB: r})
		}
	}
	fmt.Printf("| case | stacks | wall (s) | x floor | peak RSS Go+Node (MiB) | x floor | marginal ms per added consumer |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		per := "-"
		if r.perConsumerMs > 0 {
			per = fmt.Sprintf("%.0f", r.perConsumerMs)
		}
		fmt.Printf("| %s | %d | %.2f | %.1f | %.0f | %.1f | %s |\n", r.name, r.stacks, r.wall.Seconds(),
			r.wall.Seconds()/fw.Seconds(), r.rssMiB, r.rssMiB/fr, per)
	}
}

// run starts the command and samples the summed RSS of it and its
// descendants every 10 ms; it returns the wall time and the peak in MiB.
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
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s %v: %v\n", bin, args, err)
				os.Exit(1)
			}
			return time.Since(start), peak
		case <-tick.C:
			if r := treeRSS(cmd.Process.Pid); r > peak {
				peak = r
			}
		}
	}
}

// treeRSS sums VmRSS (MiB) of pid and its descendants.
func treeRSS(pid int) float64 {
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
	var sum func(int) float64
	sum = func(p int) float64 {
		total := 0.0
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmRSS:") {
					kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
					total += kb / 1024
				}
			}
		}
		for _, c := range children[p] {
			total += sum(c)
		}
		return total
	}
	return sum(pid)
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func medianF(f []float64) float64 {
	sort.Float64s(f)
	return f[len(f)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
