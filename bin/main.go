// Command obslink synthesizes an obslink topology into CloudFormation
// templates, one stack per account and region that needs one, and checks,
// draws, prices and compares topologies. Run obslink help for the verbs;
// README.md, Command reference, holds every verb's --help.
//
// The CDK CLI runs it through cdk.json (go run ./bin) with CDK_OUTDIR set:
// then obslink without a verb synthesizes, as obslink synth does. Without
// CDK_OUTDIR and without a verb it prints its usage and writes nothing.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/diagram"
	"github.com/obslink/obslink/internal/plan"
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exitCode ends a verb with this status; the verb has already said why on
// standard error.
type exitCode int

func (c exitCode) Error() string { return "exit status " + strconv.Itoa(int(c)) }

// usageExit is the annotation of a verb whose usage mistakes exit with
// another status than 2 (diff: 2 means changes).
const usageExit = "obslink:usage-exit"

// usageError is a mistake in the command line itself: exit status 2, or
// the verb's usageExit annotation.
type usageError struct {
	cmd *cobra.Command
	msg string
}

func (e usageError) Error() string { return e.msg }

// codeOf turns a verb's status into the error cobra passes back.
func codeOf(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

// run executes the command line args and returns the exit status: 0 done,
// 1 a failure (an invalid topology, a synthesis error), 2 a usage mistake;
// diff-stacks and diff document their own.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	var code exitCode
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %s\n", usage.cmd.CommandPath(), usage.msg)
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", usage.cmd.CommandPath())
		if c, err := strconv.Atoi(usage.cmd.Annotations[usageExit]); err == nil {
			return c
		}
		return 2
	default: // cobra's own argument checks
		fmt.Fprintf(stderr, "obslink: %v\n", err)
		return 2
	}
}

// synthOptions are synth's flags (also accepted without the verb, as before
// verbs existed: obslink --topology FILE --out DIR).
type synthOptions struct {
	file, out         string
	noNag, noValidate bool
}

func (o *synthOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.file, "topology", "", "topology `FILE` (default: the CDK context key topology, else the embedded default)")
	fs.StringVar(&o.out, "out", "", "output `DIR` (default: $CDK_OUTDIR, else cdk.out); replaced only when synthesis succeeds")
	fs.BoolVar(&o.noNag, "no-nag", false, "skip the cdk-nag AwsSolutions checks (local iteration only; make synth and CI keep them)")
	fs.BoolVar(&o.noValidate, "no-validate", false, "skip aws-cdk-lib's template validator (at 200 consumers it takes about a quarter of the synth's time and half its peak memory, docs/benchmarks.md; make test runs cfn-lint instead)")
}

const rootLong = `obslink gives an observability platform private, one-way connectivity from
agents in many AWS accounts and regions to one central cluster: it reads a
topology file (YAML) and synthesizes one CloudFormation stack per account
and region, or checks, draws, prices and compares topologies.

The CDK CLI runs obslink through cdk.json (cdk synth, cdk diff, cdk deploy;
-c topology=FILE picks the file) with CDK_OUTDIR set: then obslink without a
verb synthesizes, as obslink synth does. Run by hand without a verb, it
prints this help and writes nothing.

Every input error names file, line, field, value and fix, all at once, and
nothing is written (exit status 1). A mistake in the command line exits 2.`

const rootExample = `  obslink validate my-topology.yaml
  obslink synth --topology my-topology.yaml      # or: cdk synth -c topology=my-topology.yaml
  obslink diff topology/default.yaml my-topology.yaml
  obslink completion bash > /etc/bash_completion.d/obslink`

// newRoot builds the command tree, writing to stdout and stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var legacy synthOptions
	root := &cobra.Command{
		Use:     "obslink",
		Short:   "Private, one-way links from agents in many AWS accounts to one observability cluster",
		Long:    rootLong,
		Example: rootExample,
		Version: version(),
		// Suggest a verb one or two letters away from a typo.
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true,
		SilenceUsage:               true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd, fmt.Sprintf("unknown verb %q; the verbs are %s%s", args[0], verbList(cmd), suggest(cmd, args[0]))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("CDK_OUTDIR") == "" && cmd.Flags().NFlag() == 0 {
				return cmd.Help()
			}
			return codeOf(synthVerb(legacy, stdout, stderr))
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("obslink {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{cmd, err.Error()} })
	legacy.addFlags(root.Flags())
	root.Flags().VisitAll(func(f *pflag.Flag) { f.Hidden = true })
	root.AddCommand(synthCmd(stdout, stderr), validateCmd(stdout, stderr), graphCmd(stdout, stderr),
		planCmd(stdout, stderr), pricesCmd(stdout, stderr), diffStacksCmd(stdout, stderr), diffCmd(stdout, stderr), schemaCmd(stdout))
	return root
}

// verbList names the verbs a user can type.
func verbList(root *cobra.Command) string {
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() || c.Name() == "help" {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names, ", ")
}

func suggest(root *cobra.Command, typed string) string {
	if s := root.SuggestionsFor(typed); len(s) > 0 {
		return "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return ""
}

// version is the module's version as the Go toolchain recorded it: a tag
// (v1.2.3) when built with go install ...@version, else (devel) and the
// commit when the build saw one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	v = "(devel)"
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			v += " " + s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			v += " modified"
		}
	}
	return v
}

// topologyFile fills file from a verb's optional FILE argument.
func topologyFile(verb string, file *string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 && *file == "" {
			*file = args[0]
			return nil
		}
		if len(args) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "obslink %s: unexpected argument %q; use --topology FILE\n", verb, args[len(args)-1])
			return exitCode(2)
		}
		return nil
	}
}

// completeTopology offers YAML files for a FILE argument.
func completeTopology(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

func addTopologyFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVar(file, "topology", "", "topology `FILE`, instead of the FILE argument (default: the CDK context key topology, else the embedded default)")
	_ = cmd.RegisterFlagCompletionFunc("topology", completeTopology)
}

func synthCmd(stdout, stderr io.Writer) *cobra.Command {
	var o synthOptions
	cmd := &cobra.Command{
		Use:   "synth",
		Short: "Synthesize the topology into CloudFormation templates (a cloud assembly)",
		Long: `Synthesize the topology into a cloud assembly: one CloudFormation template
per stack, for cdk deploy. The topology comes from --topology, else the CDK
context key topology (cdk synth -c topology=FILE), else the embedded default.
Output goes to --out, else CDK_OUTDIR (set by the CDK CLI), else cdk.out.

obslink writes into a temporary directory beside the output and moves it into
place only when every check passed (topology, cdk-nag, aws-cdk-lib's template
validator): a failed synthesis leaves the old output as it was. It refuses an
output directory that holds other files. On a terminal it shows the stacks
written of all while it works.`,
		Example: `  obslink synth --topology my-topology.yaml --out cdk.out
  cdk synth -c topology=my-topology.yaml        # the CDK CLI runs obslink through cdk.json
  make synth TOPOLOGY=my-topology.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "obslink synth: unexpected argument %q; use --topology FILE\n", args[0])
				return exitCode(2)
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(*cobra.Command, []string) error { return codeOf(synthVerb(o, stdout, stderr)) },
	}
	o.addFlags(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("topology", completeTopology)
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

func validateCmd(stdout, stderr io.Writer) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a topology file, write nothing",
		Long: `Check a topology file in pure Go (milliseconds, no CDK): every problem at
once, each with file, line, field, value and fix, exit status 1. A valid file
prints a one-line summary. A key that the file's modes ignore, harmlessly
(services[].upstream with proxy.mode none, ...), is a warning on standard
error that names its line and why, and the file stays valid; every verb
that reads a topology prints them. Without FILE: the CDK context key
topology, else the embedded default.`,
		Example: `  obslink validate my-topology.yaml
  obslink validate                        # the embedded default`,
		Args:              topologyFile("validate", &file),
		ValidArgsFunction: completeTopology,
		RunE: func(*cobra.Command, []string) error {
			t, name, code := loadTopology(file, stderr)
			if t == nil {
				return codeOf(code)
			}
			providers := fmt.Sprintf("%d provider region(s)", len(t.Regions))
			if t.Proxyless() {
				providers = "proxy.mode none (endpoint service in the cluster VPC)"
			}
			groups := ""
			if g := deployment.Resolve(t).GroupSummary(); g != "" {
				groups = ", " + g
			}
			fmt.Fprintf(stdout, "%s: valid: %d service(s), %s, %d consumer(s)%s, interRegion %s\n",
				name, len(t.Services), providers, len(t.Consumers), groups, t.InterRegion)
			return nil
		},
	}
	addTopologyFlag(cmd, &file)
	return cmd
}

func graphCmd(stdout, stderr io.Writer) *cobra.Command {
	var file, format, out string
	cmd := &cobra.Command{
		Use:   "graph [FILE]",
		Short: "Draw the topology (Mermaid, DOT or SVG)",
		Long: `Draw the topology: accounts and regions, the endpoint services, proxies,
links and consumers, with arrows the way traffic flows (agents to the
cluster, never back). Mermaid renders in GitHub's Markdown; DOT and SVG need
Graphviz (svg runs its dot). Writes to standard output unless --out.`,
		Example: `  obslink graph my-topology.yaml
  obslink graph my-topology.yaml --format svg --out topology.svg`,
		Args:              topologyFile("graph", &file),
		ValidArgsFunction: completeTopology,
		RunE: func(*cobra.Command, []string) error {
			t, _, code := loadTopology(file, stderr)
			if t == nil {
				return codeOf(code)
			}
			return codeOf(graph(t, format, out, stdout, stderr))
		},
	}
	addTopologyFlag(cmd, &file)
	cmd.Flags().StringVar(&format, "format", "mermaid", "drawing `FORMAT`: mermaid, dot, or svg (svg needs Graphviz's dot)")
	cmd.Flags().StringVar(&out, "out", "", "output `FILE` (default: standard output)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"mermaid", "dot", "svg"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func planCmd(stdout, stderr io.Writer) *cobra.Command {
	var file, gibPerDay, requestsPerSecond, pricesFile string
	cmd := &cobra.Command{
		Use:   "plan [FILE]",
		Short: "Size the proxy fleets and price the topology per month in each mode",
		Long: `Size the proxy fleet of every provider region and price the topology per
month in each inter-region mode (peering, tgw, native, proxyless), from the
agents' load and a dated price table: the one shipped
(internal/plan/prices.yaml), or --prices FILE, a company's own (as obslink
prices refresh writes, or discounts on the shipped one). Pure Go, offline,
writes nothing; the output is Markdown and names the prices file and its
date. A price the table lacks is named once and left out of the totals.
The load is the consumers' gibPerDay and requestsPerSecond, and the totals
given here shared evenly over the consumers without figures of their own.
docs/sizing.md says how to read it.`,
		Example: `  obslink plan topology/default.yaml --gib-per-day 500
  obslink plan my-topology.yaml --gib-per-day 500 --requests-per-second 2000
  obslink plan my-topology.yaml --gib-per-day 500 --prices our-prices.yaml`,
		Args:              topologyFile("plan", &file),
		ValidArgsFunction: completeTopology,
		RunE: func(*cobra.Command, []string) error {
			t, name, code := loadTopology(file, stderr)
			if t == nil {
				return codeOf(code)
			}
			return codeOf(planVerb(t, name, gibPerDay, requestsPerSecond, pricesFile, stdout, stderr))
		},
	}
	addTopologyFlag(cmd, &file)
	cmd.Flags().StringVar(&gibPerDay, "gib-per-day", "0", "the agents' total data, `N` GiB per day, shared evenly over the consumers without gibPerDay")
	cmd.Flags().StringVar(&requestsPerSecond, "requests-per-second", "0", "the agents' total load, `N` requests per second, shared evenly over the consumers without requestsPerSecond")
	cmd.Flags().StringVar(&pricesFile, "prices", "", "prices `FILE`: of the form of "+plan.PriceFile+" (obslink prices refresh writes one), or discounts on it (default: the one shipped)")
	_ = cmd.RegisterFlagCompletionFunc("prices", completeTopology)
	return cmd
}

func diffStacksCmd(stdout, stderr io.Writer) *cobra.Command {
	var file, deployed string
	cmd := &cobra.Command{
		Use:   "diff-stacks [FILE] --deployed LIST",
		Short: "List the deployed stacks the topology no longer has, in the order to delete them",
		Long: `List the deployed stacks of the topology that the file no longer has, with an
aws cloudformation delete-stack line each, in the order to delete them
(consumers before the providers they read). CDK never deletes a stack that
left the app. LIST (- for standard input) holds the output of
aws cloudformation describe-stacks, one document per account and region, or
one stack ARN or name per line. Stacks are matched by their obslink:topology
tag, or from a plain list of names by name. A removed consumer in its
provider's account and region imports the endpoint service (Fn::ImportValue):
when no consumer there is left, it must be deleted before the provider
deploys, as obslink diff says; otherwise deploy the providers first.

Exit status: 0 when nothing is left over, 3 when stacks are to delete.`,
		Example: `  aws cloudformation describe-stacks --region eu-west-1 > deployed.json
  obslink diff-stacks topology.yaml --deployed deployed.json`,
		Args:              topologyFile("diff-stacks", &file),
		ValidArgsFunction: completeTopology,
		RunE: func(*cobra.Command, []string) error {
			t, _, code := loadTopology(file, stderr)
			if t == nil {
				return codeOf(code)
			}
			return codeOf(diffStacksVerb(t, deployed, stdout, stderr))
		},
	}
	addTopologyFlag(cmd, &file)
	cmd.Flags().StringVar(&deployed, "deployed", "", "`LIST` of the deployed stacks: the JSON of aws cloudformation describe-stacks, or one stack ARN or name per line; - for standard input")
	return cmd
}

// loadTopology reads the topology a verb works on: file, else the CDK
// context key topology, else the embedded default. It returns nil and an
// exit status after saying why on stderr.
func loadTopology(file string, stderr io.Writer) (*topology.Topology, string, int) {
	if file == "" {
		ctxFile, err := contextString("topology")
		if err != nil {
			fmt.Fprintf(stderr, "obslink: %v\n", err)
			return nil, "", 2
		}
		file = ctxFile
	}
	var t *topology.Topology
	var err error
	if file == "" {
		t, err = topology.Default()
	} else {
		t, err = topology.Load(file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "obslink: %v\n", err)
		return nil, "", 1
	}
	for _, w := range t.Warnings() {
		fmt.Fprintf(stderr, "obslink: warning: %v\n", w)
	}
	return t, topologyName(file), 0
}

// synthVerb synthesizes the topology into the output directory.
func synthVerb(o synthOptions, stdout, stderr io.Writer) int {
	refresh, err := contextString("refresh")
	if err != nil {
		fmt.Fprintf(stderr, "obslink: %v\n", err)
		return 2
	}
	t, _, code := loadTopology(o.file, stderr)
	if t == nil {
		return code
	}
	dir := o.out
	if dir == "" {
		dir = os.Getenv("CDK_OUTDIR")
	}
	if dir == "" {
		dir = "cdk.out"
	}
	var names []string
	err = newProgress(stderr).synth("synth", len(stacks.Plan(t)), dir, func() (err error) {
		names, err = app.Synth(t, app.Options{Outdir: dir, NoNag: o.noNag, NoValidate: o.noValidate, Refresh: refresh})
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "obslink: synth: %v\n", err)
		return 1
	}
	if os.Getenv("CDK_OUTDIR") == "" { // the CDK CLI prints its own summary
		fmt.Fprintf(stdout, "obslink: wrote %d stack(s) to %s\n", len(names), dir)
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
// for the total load the flags give, at the prices of pricesFile (the
// shipped table when empty).
func planVerb(t *topology.Topology, name, gibPerDay, requestsPerSecond, pricesFile string, stdout, stderr io.Writer) int {
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
	if pricesFile != "" {
		prices, err = plan.LoadPrices(pricesFile)
	}
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
