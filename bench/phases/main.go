// Command phases times one synthesis of a topology file, as obslink synth
// makes it (app.Synth), and splits the Node (jsii) process's time by what
// it was doing, from a CPU profile of it: aws-cdk-lib's template
// validator, cdk-nag, the VPCs' default security group custom resource,
// waiting for Go's next request, constructing, preparing and writing.
//
//	phases TOPOLOGY OUTDIR
//
// NO_NAG=1 leaves cdk-nag out; CPUPROFILE=FILE writes the Go process's
// CPU profile.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"time"

	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/topology"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: phases TOPOLOGY OUTDIR")
		os.Exit(2)
	}
	// jsii starts Node with the environment this process started with (its
	// client is made while packages initialize): run again with the profile on.
	profiles := os.Getenv("PHASES_PROFILES")
	if profiles == "" {
		dir, err := os.MkdirTemp("", "phases")
		check(err)
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), "PHASES_PROFILES="+dir,
			"NODE_OPTIONS=--max-old-space-size=4069 --cpu-prof --cpu-prof-dir="+dir)
		err = cmd.Run()
		os.RemoveAll(dir)
		check(err)
		return
	}

	if f := os.Getenv("CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err == nil {
			_ = pprof.StartCPUProfile(out)
			defer pprof.StopCPUProfile()
		}
	}
	t0 := time.Now()
	topo, err := topology.Load(os.Args[1])
	check(err)
	t1 := time.Now()
	_, err = app.Synth(topo, app.Options{Outdir: os.Args[2], NoNag: os.Getenv("NO_NAG") == "1"})
	check(err)
	t2 := time.Now()
	// Ends the Node child, which then writes its profile.
	jsii.Close()
	fmt.Printf("load %.3fs  synth %.3fs (building, synthesizing, checking, as obslink synth)\n\n",
		t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds())

	// jsii's Node runs the kernel in a Node child of its own, which may
	// still be writing its profile: wait for both profiles, up to 30 s.
	var files []string
	for i := 0; i < 300 && len(files) < 2; i++ {
		time.Sleep(100 * time.Millisecond)
		files, _ = filepath.Glob(filepath.Join(profiles, "*.cpuprofile"))
	}
	var biggest string
	var size int64
	for _, f := range files { // the kernel's is the larger
		if st, err := os.Stat(f); err == nil && st.Size() > size {
			biggest, size = f, st.Size()
		}
	}
	if biggest == "" {
		fmt.Println("no Node CPU profile was written")
		return
	}
	byPart, total, err := split(biggest)
	check(err)
	fmt.Printf("| Node (jsii) process, by what it was doing | s | share |\n|---|---|---|\n")
	for _, p := range parts {
		fmt.Printf("| %s | %.2f | %.0f %% |\n", p.name, byPart[p.name], 100*byPart[p.name]/total)
	}
	fmt.Printf("| total | %.2f | |\n", total)
}

// parts are what a sample of the Node process is counted as: the first part
// one of its frames (function@url) matches, in this order.
var parts = []struct {
	name string
	re   *regexp.Regexp
}{
	{"aws-cdk-lib's template validator (its Go callback included)", regexp.MustCompile(`^validateTemplates@|cloudformation-validate`)},
	{"cdk-nag", regexp.MustCompile(`cdk-nag`)},
	{"VPC default security group custom resource (staging its code)", regexp.MustCompile(`^restrictDefaultSecurityGroup@`)},
	{"waiting for Go's next request (jsii round trips)", regexp.MustCompile(`^readLine@`)},
	{"answering Go (jsii round trips)", regexp.MustCompile(`^writeLine@`)},
	{"constructing (aws-cdk-lib constructors)", regexp.MustCompile(`^_Kernel_create@`)},
	{"aspects (tags)", regexp.MustCompile(`^invokeAspects`)},
	{"preparing (cross-stack references)", regexp.MustCompile(`^prepareApp@`)},
	{"writing templates, manifests, tree", regexp.MustCompile(`^synthesizeTree@|^_synthesizeTree@`)},
	{"loading modules (the floor)", regexp.MustCompile(`^_Kernel_load@|modules/cjs/loader`)},
	{"garbage collection", regexp.MustCompile(`^\(garbage collector\)@`)},
	{"idle", regexp.MustCompile(`^\(idle\)@`)},
	{"other", regexp.MustCompile(``)},
}

// split reads a V8 CPU profile and returns the seconds of each part.
func split(file string) (map[string]float64, float64, error) {
	var p struct {
		Nodes []struct {
			ID        int `json:"id"`
			CallFrame struct {
				FunctionName string `json:"functionName"`
				URL          string `json:"url"`
			} `json:"callFrame"`
			Children []int `json:"children"`
		} `json:"nodes"`
		Samples    []int   `json:"samples"`
		TimeDeltas []int64 `json:"timeDeltas"`
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, 0, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, 0, err
	}
	frame := map[int]string{}
	parent := map[int]int{}
	for _, n := range p.Nodes {
		frame[n.ID] = n.CallFrame.FunctionName + "@" + n.CallFrame.URL
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	// The part of each profile node, from its own frame and its callers'.
	partOf := map[int]string{}
	classify := func(id int) int { // index into parts
		best := len(parts) - 1
		for x, ok := id, true; ok; x, ok = parent[x] {
			for i, pt := range parts[:best] {
				if pt.re.MatchString(frame[x]) {
					best = i
					break
				}
			}
		}
		return best
	}
	out := map[string]float64{}
	total := 0.0
	for i, s := range p.Samples {
		name, ok := partOf[s]
		if !ok {
			name = parts[classify(s)].name
			partOf[s] = name
		}
		d := 0.0
		if i < len(p.TimeDeltas) {
			d = float64(p.TimeDeltas[i]) / 1e6
		}
		out[name] += d
		total += d
	}
	return out, total, nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
