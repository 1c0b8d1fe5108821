// Package app assembles an obslink CDK app from a validated topology: the
// stacks, the app-wide settings, and synthesis into a cloud assembly.
package app

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// Options configures New and Synth.
type Options struct {
	// Outdir is where the cloud assembly is written. Default: CDK_OUTDIR, else a temporary directory.
	Outdir string
}

// New creates a CDK app holding every stack of t.
func New(t *topology.Topology, opts Options) (awscdk.App, *stacks.Set) {
	props := &awscdk.AppProps{
		// No CDKMetadata resource: templates depend only on the topology.
		AnalyticsReporting: jsii.Bool(false),
		Context: &map[string]any{
			// Same account and region: export/import, which protects the producer's
			// output while a consumer uses it. Across accounts or regions obslink asks
			// for a weak reference (Fn::GetStackOutput) per value; see stacks.
			"@aws-cdk/core:defaultCrossStackReferences": "strong",
		},
	}
	if opts.Outdir != "" {
		props.Outdir = jsii.String(opts.Outdir)
	}
	a := awscdk.NewApp(props)
	return a, stacks.Build(a, t)
}

// Synth synthesizes t into opts.Outdir and returns the stack names written.
func Synth(t *topology.Topology, opts Options) (names []string, err error) {
	defer func() {
		if r := recover(); r != nil { // jsii reports synthesis errors as panics
			err = jsiiError(r)
		}
	}()
	a, set := New(t, opts)
	a.Synth(nil)
	for _, s := range set.All() {
		names = append(names, *s.StackName())
	}
	return names, nil
}

type synthError struct{ v any }

func (e synthError) Error() string {
	if err, ok := e.v.(error); ok {
		return err.Error()
	}
	return "synthesis failed: " + toString(e.v)
}

func jsiiError(v any) error { return synthError{v} }

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "unexpected panic"
}
