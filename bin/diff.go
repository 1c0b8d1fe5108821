package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/internal/cfndiff"
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

func diffCmd(stdout, stderr io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two topologies or cloud assemblies offline: what changes, what is replaced, what it means for traffic",
		Long: `Compare two versions offline, without credentials: each side is a topology
file (synthesized here, without cdk-nag and the template validator) or a
cloud assembly directory (cdk.out, from obslink synth or cdk synth, for
example of the base branch's code).

Per account, region and stack it lists the stacks added and removed (with the
order to delete them) and the resources added (+), modified (~), replaced
(-/+) and removed (-). A resource is replaced when a create-only property
changes (CloudFormation's resource schemas, internal/cfndiff/createonly.json)
or it names a replaced resource in one. It opens what a template diff cannot
show: the template a StackSet deploys, the proxies' files (nginx.conf, the
upstreams, the scripts: in SSM parameters that the launch template's user
data fetches at boot, shown under that launch template) as unified diffs,
and what the change means for running traffic (an instance refresh, a
replaced endpoint or zone, an alarm removed, accounts a StackSet no longer
deploys to, a consumer group's move between StackSets and whether it works).

Exit status, as terraform plan -detailed-exitcode: 0 no changes, 2 changes,
1 an error (an invalid topology: file, line, field, value and fix; a
mistake in the command line).`,
		Annotations: map[string]string{usageExit: "1"},
		Example: `  obslink diff topology/default.yaml my-topology.yaml
  obslink diff base.out environments/production.yaml --format markdown > diff.md`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{cmd, fmt.Sprintf("give two sides, OLD and NEW (a topology file or a cloud assembly directory each); got %d argument(s)", len(args))}
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) >= 2 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveDefault
		},
		RunE: func(_ *cobra.Command, args []string) error {
			return codeOf(diffVerb(args[0], args[1], format, stdout, stderr))
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output `FORMAT`: text, or markdown for a pull-request comment")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "markdown"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// diffVerb compares the sides old and new and prints the report: exit 0
// without changes, 2 with changes, 1 on an error.
func diffVerb(oldArg, newArg, format string, stdout, stderr io.Writer) int {
	if format != "text" && format != "markdown" {
		fmt.Fprintf(stderr, "obslink diff: --format %q is not a format; use text or markdown\n", format)
		return 1
	}
	var sides [2][]cfndiff.Stack
	for i, arg := range []string{oldArg, newArg} {
		side, err := readSide(arg, newProgress(stderr))
		if err != nil {
			fmt.Fprintf(stderr, "obslink diff: %v\n", err)
			return 1
		}
		sides[i] = side
	}
	report, err := cfndiff.Compare(sides[0], sides[1])
	if err != nil {
		fmt.Fprintf(stderr, "obslink diff: %v\n", err)
		return 1
	}
	if format == "markdown" {
		err = report.WriteMarkdown(stdout, oldArg, newArg)
	} else {
		err = report.WriteText(stdout, oldArg, newArg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "obslink diff: %v\n", err)
		return 1
	}
	if report.Changed() {
		return 2
	}
	return 0
}

// readSide reads one side of a diff: a cloud assembly directory as it is,
// a topology file synthesized into a temporary directory.
func readSide(arg string, p progress) ([]cfndiff.Stack, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, fmt.Errorf("%v; give a topology file or a cloud assembly directory", err)
	}
	if st.IsDir() {
		return cfndiff.ReadAssembly(arg)
	}
	t, err := topology.Load(arg)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "obslink-diff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "cdk.out")
	// cdk-nag and the template validator check, they do not change templates.
	err = p.synth("diff: "+arg, len(stacks.Plan(t)), out, func() error {
		_, err := app.Synth(t, app.Options{Outdir: out, NoNag: true, NoValidate: true})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("synth %s: %v", arg, err)
	}
	return cfndiff.ReadAssembly(out)
}
