// Command obslink synthesizes an obslink topology into CloudFormation
// templates, one stack per account and region that needs one.
//
//	obslink [synth] [--topology FILE] [--out DIR] [--no-nag] [--no-validate]   synthesize (the default verb)
//	obslink validate [FILE]                         check a topology file, write nothing
//	obslink graph [FILE] [--format mermaid|dot|svg] [--out FILE]   draw the topology
//	obslink diff-stacks [FILE] --deployed LIST      deployed stacks the topology no longer has
//	obslink plan [FILE] [--gib-per-day N] [--requests-per-second N]   fleet sizes and monthly cost per mode
//
// The topology comes from --topology, else the CDK context key "topology"
// (cdk synth -c topology=FILE), else the embedded default. Output goes to
// --out, else CDK_OUTDIR (set by the CDK CLI), else cdk.out. An invalid
// topology exits non-zero with every problem and writes nothing.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/diagram"
	"github.com/obslink/obslink/internal/plan"
	"github.com/obslink/obslink/topology"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	verb := "synth"
	if len(args) > 0 && (args[0] == "synth" || args[0] == "validate" || args[0] == "graph" || args[0] == "diff-stacks" || args[0] == "plan") {
		verb, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("obslink "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("topology", "", "topology file (default: context key topology, else the embedded default)")
	out := fs.String("out", "", "synth: output directory (default: $CDK_OUTDIR, else cdk.out); graph: output file (default: stdout)")
	noNag := fs.Bool("no-nag", false, "skip the cdk-nag AwsSolutions checks (faster local iteration; make synth and CI keep them)")
	noValidate := fs.Bool("no-validate", false, "skip aws-cdk-lib's template validator (about a third of a large synth; cfn-lint in make test covers the same ground)")
	format := fs.String("format", "mermaid", "graph: mermaid, dot, or svg (needs Graphviz's dot)")
	deployedList := fs.String("deployed", "", "diff-stacks: the deployed stacks, as the JSON of aws cloudformation describe-stacks or one stack ARN or name per line; - for standard input")
	gibPerDay := fs.String("gib-per-day", "0", "plan: the agents' total data in GiB per day, shared evenly over the consumers without gibPerDay")
	requestsPerSecond := fs.String("requests-per-second", "0", "plan: the agents' total requests per second, shared evenly over the consumers without requestsPerSecond")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// A verb that takes a FILE takes its flags before or after it.
	if (verb == "validate" || verb == "graph" || verb == "diff-stacks" || verb == "plan") && fs.NArg() > 0 && *file == "" {
		*file = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return 2
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "obslink %s: unexpected argument %q; use --topology FILE\n", verb, fs.Arg(0))
		return 2
	}

	if *file == "" {
		ctxFile, err := contextString("topology")
		if err != nil {
			fmt.Fprintf(stderr, "obslink: %v\n", err)
			return 2
		}
		*file = ctxFile
	}
	refresh, err := contextString("refresh")
	if err != nil {
		fmt.Fprintf(stderr, "obslink: %v\n", err)
		return 2
	}
	var t *topology.Topology
	if *file == "" {
		t, err = topology.Default()
	} else {
		t, err = topology.Load(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "obslink: %v\n", err)
		return 1
	}
	if verb == "graph" {
		return graph(t, *format, *out, stdout, stderr)
	}
	if verb == "diff-stacks" {
		return diffStacksVerb(t, *deployedList, stdout, stderr)
	}
	if verb == "plan" {
		return planVerb(t, topologyName(*file), *gibPerDay, *requestsPerSecond, stdout, stderr)
	}
	if verb == "validate" {
		providers := fmt.Sprintf("%d provider region(s)", len(t.Regions))
		if t.Proxyless() {
			providers = "proxy.mode none (endpoint service in the cluster VPC)"
		}
		groups := ""
		if g := deployment.Resolve(t).GroupSummary(); g != "" {
			groups = ", " + g
		}
		fmt.Fprintf(stdout, "%s: valid: %d service(s), %s, %d consumer(s)%s, interRegion %s\n",
			topologyName(*file), len(t.Services), providers, len(t.Consumers), groups, t.InterRegion)
		return 0
	}

	dir := *out
	if dir == "" {
		dir = os.Getenv("CDK_OUTDIR")
	}
	if dir == "" {
		dir = "cdk.out"
	}
	stacks, err := app.Synth(t, app.Options{Outdir: dir, NoNag: *noNag, NoValidate: *noValidate, Refresh: refresh})
	if err != nil {
		fmt.Fprintf(stderr, "obslink: synth: %v\n", err)
		return 1
	}
	if os.Getenv("CDK_OUTDIR") == "" { // the CDK CLI prints its own summary
		fmt.Fprintf(stdout, "obslink: wrote %d stack(s) to %s\n", len(stacks), dir)
	}
	return 0
}

// topologyName is how output names the topology's file.
func topologyName(file string) string {
	if file == "" {
		return topology.DefaultName
	}
	return file
}

// planVerb prints the fleet sizes and the monthly cost of t in each mode
// for the total load the flags give.
func planVerb(t *topology.Topology, name, gibPerDay, requestsPerSecond string, stdout, stderr io.Writer) int {
	var total plan.Load
	for _, f := range []struct {
		flag, value, what, example string
		into                       *float64
	}{
		{"--gib-per-day", gibPerDay, "the agents' total data in GiB per day", "--gib-per-day 500", &total.GiBPerDay},
		{"--requests-per-second", requestsPerSecond, "the agents' total requests per second", "--requests-per-second 2000", &total.RequestsPerSecond},
	} {
		v, err := strconv.ParseFloat(f.value, 64)
		switch {
		case math.IsInf(v, 0) && (err == nil || errors.Is(err, strconv.ErrRange)):
			fmt.Fprintf(stderr, "obslink plan: %s %s is out of range; give %s as a finite figure, such as %s\n", f.flag, f.value, f.what, f.example)
			return 2
		case err != nil || math.IsNaN(v):
			fmt.Fprintf(stderr, "obslink plan: %s %q is not a number; give %s, such as %s\n", f.flag, f.value, f.what, f.example)
			return 2
		case v < 0:
			fmt.Fprintf(stderr, "obslink plan: %s %s is negative; give %s, 0 or more, such as %s\n", f.flag, f.value, f.what, f.example)
			return 2
		}
		*f.into = v
	}
	prices, err := plan.EmbeddedPrices()
	if err != nil {
		fmt.Fprintf(stderr, "obslink plan: %v\n", err)
		return 1
	}
	r, err := plan.Make(t, plan.Options{Total: total, Capacity: plan.MeasuredCapacity(), Prices: prices})
	if err != nil {
		fmt.Fprintf(stderr, "obslink plan: %s: %v\n", name, err)
		if errors.Is(err, plan.ErrNoLoad) {
			return 2
		}
		return 1
	}
	if err := r.Write(stdout, name); err != nil {
		fmt.Fprintf(stderr, "obslink plan: %v\n", err)
		return 1
	}
	return 0
}

// diffStacksVerb reads the deployed stacks from path ("-": standard input)
// and reports the ones t no longer has.
func diffStacksVerb(t *topology.Topology, path string, stdout, stderr io.Writer) int {
	var r io.Reader
	switch path {
	case "":
		fmt.Fprintln(stderr, "obslink diff-stacks: --deployed is missing; give a file, or - for standard input, holding the output of aws cloudformation describe-stacks (per account and region) or one stack ARN per line")
		return 2
	case "-":
		r, path = os.Stdin, "standard input"
	default:
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "obslink diff-stacks: %v\n", err)
			return 1
		}
		defer f.Close()
		r = f
	}
	deployed, err := readDeployed(path, r)
	if err != nil {
		fmt.Fprintf(stderr, "obslink diff-stacks: %v\n", err)
		return 1
	}
	return diffStacks(t, deployed, stdout)
}

// contextString returns a string context value the CDK CLI passed
// (cdk synth -c topology=FILE, -c refresh=VALUE), read from the environment
// before any CDK object exists, so that a bad file stops us before the
// output directory is made.
func contextString(key string) (string, error) {
	raw := os.Getenv("CDK_CONTEXT_JSON")
	if loc := os.Getenv("CONTEXT_OVERFLOW_LOCATION_ENV"); raw == "" && loc != "" {
		b, err := os.ReadFile(loc)
		if err != nil {
			return "", fmt.Errorf("read CDK context from %s: %w", loc, err)
		}
		raw = string(b)
	}
	if raw == "" {
		return "", nil
	}
	var ctx map[string]any
	if err := json.Unmarshal([]byte(raw), &ctx); err != nil {
		return "", fmt.Errorf("CDK context is not JSON: %w", err)
	}
	switch v := ctx[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		if key == "topology" {
			return "", errors.New("context key topology must be a file path: cdk synth -c topology=FILE")
		}
		return "", fmt.Errorf("context key %s must be a string: cdk deploy -c %s=VALUE", key, key)
	}
}

// graph writes the topology as Mermaid, DOT or SVG to out (stdout when empty).
func graph(t *topology.Topology, format, out string, stdout, stderr io.Writer) int {
	var text []byte
	switch format {
	case "mermaid":
		text = []byte(diagram.Mermaid(t))
	case "dot":
		text = []byte(diagram.DOT(t))
	case "svg":
		dot, err := exec.LookPath("dot")
		if err != nil {
			fmt.Fprintln(stderr, "obslink graph: --format svg needs Graphviz's dot (apt-get install graphviz); --format mermaid needs nothing")
			return 1
		}
		cmd := exec.Command(dot, "-Tsvg")
		cmd.Stdin = strings.NewReader(diagram.DOT(t))
		cmd.Stderr = stderr
		if text, err = cmd.Output(); err != nil {
			fmt.Fprintf(stderr, "obslink graph: dot: %v\n", err)
			return 1
		}
	default:
		fmt.Fprintf(stderr, "obslink graph: --format %q is not a format; use mermaid, dot or svg\n", format)
		return 2
	}
	if out == "" {
		_, _ = stdout.Write(text)
		return 0
	}
	if err := os.WriteFile(out, text, 0o644); err != nil {
		fmt.Fprintf(stderr, "obslink graph: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "obslink: wrote %s\n", out)
	return 0
}
