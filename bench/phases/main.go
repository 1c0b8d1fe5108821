// Command phases times the phases of one synthesis of a topology file:
// loading, building the construct tree (jsii calls from Go), and synthesis
// (aspects, validation, writing), to show where the time goes.
package main

import (
	"fmt"
	"os"
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
	if f := os.Getenv("CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err == nil {
			_ = pprof.StartCPUProfile(out)
			defer pprof.StopCPUProfile()
		}
	}
	t0 := time.Now()
	topo, err := topology.Load(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	t1 := time.Now()
	a, _ := app.New(topo, app.Options{Outdir: os.Args[2], NoNag: os.Getenv("NO_NAG") == "1"})
	t2 := time.Now()
	a.Synth(nil)
	t3 := time.Now()
	// Ends the Node child cleanly, so that NODE_OPTIONS=--cpu-prof writes its profile.
	jsii.Close()
	fmt.Printf("load %.3fs  build %.3fs  synth %.3fs  (process start to load: jsii not yet started)\n",
		t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds())
}
