// Command obslink synthesizes an obslink topology into CloudFormation
// templates, one stack per account and region that needs one.
//
//	obslink [synth] [--topology FILE] [--out DIR] [--no-nag] [--no-validate]   synthesize (the default verb)
//	obslink validate [FILE]                         check a topology file, write nothing
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
	"os"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/topology"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	verb := "synth"
	if len(args) > 0 && (args[0] == "synth" || args[0] == "validate") {
		verb, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("obslink "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("topology", "", "topology file (default: context key topology, else the embedded default)")
	out := fs.String("out", "", "output directory (default: $CDK_OUTDIR, else cdk.out)")
	noNag := fs.Bool("no-nag", false, "skip the cdk-nag AwsSolutions checks (faster local iteration; make synth and CI keep them)")
	noValidate := fs.Bool("no-validate", false, "skip aws-cdk-lib's template validator (about a third of a large synth; cfn-lint in make test covers the same ground)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if verb == "validate" && fs.NArg() == 1 && *file == "" {
		*file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "obslink %s: unexpected argument %q; use --topology FILE\n", verb, fs.Arg(0))
		return 2
	}

	if *file == "" {
		ctxFile, err := contextTopology()
		if err != nil {
			fmt.Fprintf(stderr, "obslink: %v\n", err)
			return 2
		}
		*file = ctxFile
	}
	var t *topology.Topology
	var err error
	if *file == "" {
		t, err = topology.Default()
	} else {
		t, err = topology.Load(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "obslink: %v\n", err)
		return 1
	}
	if verb == "validate" {
		name := *file
		if name == "" {
			name = topology.DefaultName
		}
		fmt.Fprintf(stdout, "%s: valid: %d service(s), %d provider region(s), %d consumer(s), interRegion %s\n",
			name, len(t.Services), len(t.Regions), len(t.Consumers), t.InterRegion)
		return 0
	}

	dir := *out
	if dir == "" {
		dir = os.Getenv("CDK_OUTDIR")
	}
	if dir == "" {
		dir = "cdk.out"
	}
	stacks, err := app.Synth(t, app.Options{Outdir: dir, NoNag: *noNag, NoValidate: *noValidate})
	if err != nil {
		fmt.Fprintf(stderr, "obslink: synth: %v\n", err)
		return 1
	}
	if os.Getenv("CDK_OUTDIR") == "" { // the CDK CLI prints its own summary
		fmt.Fprintf(stdout, "obslink: wrote %d stack(s) to %s\n", len(stacks), dir)
	}
	return 0
}

// contextTopology returns the "topology" context value the CDK CLI passed
// (cdk synth -c topology=FILE), read from the environment before any CDK
// object exists, so that a bad file stops us before the output directory is made.
func contextTopology() (string, error) {
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
	switch v := ctx["topology"].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", errors.New("context key topology must be a file path: cdk synth -c topology=FILE")
	}
}
