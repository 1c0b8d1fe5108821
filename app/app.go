// Package app assembles an obslink CDK app from a validated topology: the
// stacks, the app-wide settings and checks, and synthesis into a cloud assembly.
package app

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/internal/assembly"
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// Options configures New and Synth.
type Options struct {
	// Outdir is where the cloud assembly is written. Default for Synth: cdk.out.
	Outdir string
	// NoNag turns off the cdk-nag AwsSolutions checks. Default: on; an
	// unsuppressed finding fails Synth.
	NoNag bool
	// NoValidate turns off aws-cdk-lib's built-in CloudFormation template
	// validator (about a third of the time of a large synth; cfn-lint in
	// make test checks the same). Default: on.
	NoValidate bool
	// Refresh, when set, adds an output ObslinkRefresh with this value to
	// every stack that reads another stack's outputs (control plane, mesh,
	// consumers), so that a deploy updates them, and CloudFormation resolves
	// their Fn::GetStackOutput anew, even when nothing else changed: after a
	// provider's endpoint service, peering or gateway was replaced.
	// Default: "" (no output).
	Refresh string
	// everyTemplate runs the checks on every template, as aws-cdk-lib
	// does by itself, instead of once per template shape: for the tests that
	// prove both give the same assembly.
	everyTemplate bool
}

//go:embed featureflags.json
var featureFlags []byte

// FeatureFlags returns the CDK feature flags every obslink app sets: the
// ones `cdk init` recommends for the pinned CDK CLI (2.1148.1, copied from
// its lib/init-templates/.recommended-feature-flags.json), set in code so
// that `make synth`, the tests and apps that import the stacks synthesize
// the same templates.
func FeatureFlags() map[string]any {
	var flags map[string]any
	if err := json.Unmarshal(featureFlags, &flags); err != nil {
		panic(fmt.Sprintf("app: embedded featureflags.json: %v", err))
	}
	return flags
}

// New creates a CDK app holding every stack of t, with the cdk-nag
// AwsSolutions checks applied unless opts.NoNag, and aws-cdk-lib's template
// validator unless opts.NoValidate (run once per template shape, see
// shapeValidator).
func New(t *topology.Topology, opts Options) (awscdk.App, *stacks.Set) {
	b := build(t, opts, false)
	return b.app, b.set
}

// built is an app build made.
type built struct {
	app awscdk.App
	set *stacks.Set
	// shapes are the shapes of its templates, once synthesized.
	shapes *shapes
	// nag is which consumer stacks cdk-nag checks, when it checks one
	// consumer stack per shape (nagPerShape), else nil.
	nag *nagPlan
}

// build creates the app of New; with nagPerShape, cdk-nag checks every
// stack but the consumer stacks its plan expects to be of a checked
// stack's shape (Synth then makes sure they are).
func build(t *topology.Topology, opts Options, nagPerShape bool) *built {
	context := FeatureFlags()
	// Same account and region: export/import, which protects the producer's
	// output while a consumer uses it (the recommended flags say weak). Across
	// accounts or regions obslink asks for a weak reference
	// (Fn::GetStackOutput) per value; see stacks.
	context["@aws-cdk/core:defaultCrossStackReferences"] = "strong"
	// Annotations stay in the stack metadata, where Synth reports each error
	// once with its construct path (with this flag on, App.Synth throws one
	// ValidationFailed and the CLI prints every annotation twice).
	context["@aws-cdk/core:annotationsInValidationReport"] = false
	// Off: with it, the AwsCustomResource function of every provider gets a
	// log group named /aws/lambda/<function>, which Lambda already created
	// for stacks deployed before (v0.1.0), so their update would fail with
	// "already exists" (the flag's own docs: not for existing apps). obslink's
	// inline functions name their log groups themselves.
	context["@aws-cdk/aws-lambda:useCdkManagedLogGroup"] = false
	// No stack traces in the assembly metadata: output depends only on the
	// topology. The first key covers annotations; aws-cdk-lib reads the
	// second for the creation stack of every stack and CloudFormation
	// element, which from Go shows only jsii's and Node's frames ("no user
	// code") and is captured, parsed and written once per element.
	context["aws:cdk:disable-stack-trace"] = true
	context["aws:cdk:disable-creation-stack-traces"] = true
	// The zones of every environment, so synthesis never looks them up.
	for k, v := range stacks.AvailabilityZoneContext(t) {
		context[k] = v
	}
	props := &awscdk.AppProps{
		// No CDKMetadata resource: templates depend only on the topology.
		AnalyticsReporting: jsii.Bool(false),
		Context:            &context,
	}
	if opts.Outdir != "" {
		props.Outdir = jsii.String(opts.Outdir)
	}
	// aws-cdk-lib's validator runs once per template shape (shapeValidator)
	// instead of once per template, in place of the built-in one.
	props.BuiltinCloudFormationValidation = jsii.Bool(false)
	b := &built{shapes: newShapes(consumerNames(t))}
	var validator *shapeValidator
	if validationEnabled(opts) {
		validator = newShapeValidator(b.shapes)
	}
	newApp := func(p *awscdk.AppProps) awscdk.App {
		a := awscdk.NewApp(p)
		switch {
		case validator == nil:
		case opts.everyTemplate: // the built-in validator's plugin, on every template
			awscdk.Validations_Of(a).AddPlugins(validator.inner)
		default:
			awscdk.Validations_Of(a).AddPlugins(validator)
		}
		return a
	}
	a := newApp(props)
	// The StackSet's consumer template is synthesized in an App of its own
	// (it is not a stack to deploy), with the same flags and checks.
	templateApp := func(outdir string) awscdk.App {
		p := *props
		p.Outdir = jsii.String(outdir)
		t := newApp(&p)
		if !opts.NoNag {
			addNag(t)
		}
		return t
	}
	set := stacks.Build(a, t, stacks.WithTemplateApp(templateApp))
	if opts.Refresh != "" {
		for _, s := range set.Readers() {
			awscdk.NewCfnOutput(s, jsii.String("ObslinkRefresh"), &awscdk.CfnOutputProps{
				Value:       jsii.String(opts.Refresh),
				Description: jsii.String("obslink: set by -c refresh=..., so this deploy re-reads the provider outputs"),
			})
		}
	}
	switch {
	case opts.NoNag:
	case nagPerShape:
		b.nag = addNagPerShape(t, set)
	default:
		addNag(a)
	}
	b.app, b.set = a, set
	return b
}

// Synth synthesizes t and returns the stack names written. It writes into a
// temporary directory beside opts.Outdir and moves it into place only when
// CheckAssembly finds nothing (a cdk-nag finding, a failed validation, a
// cross-stack reference that would not resolve), so a failed synthesis
// leaves no half-written or stale assembly behind.
func Synth(t *topology.Topology, opts Options) (names []string, err error) {
	out := opts.Outdir
	if out == "" {
		out = "cdk.out"
	}
	if err := replaceable(out); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	// cdk-nag checks one consumer stack per shape; in the rare assembly
	// where that does not cover every template the same way (a consumer
	// of a shape no checked stack has, a finding on a checked one), it is
	// synthesized again with cdk-nag on every stack, so that the assembly
	// and every finding are the ones of checks on every stack.
	perShape := !opts.NoNag && !opts.everyTemplate
	b, err := synthInto(t, opts, tmp, perShape)
	if err == nil && perShape {
		var covered bool
		if covered, err = b.nag.covers(tmp, b.shapes); err == nil && !covered {
			if err = emptyDir(tmp); err == nil {
				_, err = synthInto(t, opts, tmp, false)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	for _, s := range stacks.Plan(t) { // the names of b.set.All(), without a round trip each
		names = append(names, s.Name)
	}
	if err := CheckAssembly(tmp); err != nil {
		return nil, err
	}
	if err := normalize(tmp); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, err
	}
	return names, nil
}

// replaceable refuses an output directory that holds anything but a cloud
// assembly (or a lock the CDK CLI left), so that Synth never deletes a
// user's files: --out . must not empty the working tree.
func replaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return nil
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".lock") {
			return fmt.Errorf("output %s is not empty and holds no cloud assembly (no manifest.json); give a new or empty directory, synthesis replaces it", dir)
		}
	}
	return nil
}

func synthInto(t *topology.Topology, opts Options, dir string, nagPerShape bool) (b *built, err error) {
	defer func() {
		if r := recover(); r != nil { // jsii reports synthesis failures as panics
			err = fmt.Errorf("%v", r)
		}
	}()
	opts.Outdir = dir
	b = build(t, opts, nagPerShape)
	b.app.Synth(nil)
	return b, nil
}

// emptyDir removes what dir holds.
func emptyDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Mkdir(dir, 0o700) // as os.MkdirTemp made it
}

// CheckAssembly returns every problem of the cloud assembly in dir, one line
// each, or nil (assembly.Check): the error-level metadata it records
// (cdk-nag findings, construct validation errors) and the cross-stack
// references that would not resolve when their stack deploys (an import
// without its export, a read of a stack or output that does not exist or
// that the reading stack does not depend on, a dependency cycle, ...).
func CheckAssembly(dir string) error { return assembly.Check(dir) }

// jsiiKernelDir is the random directory jsii unpacks aws-cdk-lib into; it
// appears in the creation stacks aws-cdk-lib records for its validator.
var jsiiKernelDir = regexp.MustCompile(`/tmp/jsii-kernel-[A-Za-z0-9]+/`)

// normalize makes the assembly depend only on the topology: it replaces the
// per-run jsii kernel directory in the metadata and the validation report,
// so that two synths of one file are byte-identical.
func normalize(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	errs := make([]error, len(files))
	// In parallel: a large assembly is thousands of files.
	parallel(len(files), func(i int) {
		b, err := os.ReadFile(files[i])
		if err == nil && bytes.Contains(b, []byte("/jsii-kernel-")) {
			if n := jsiiKernelDir.ReplaceAll(b, []byte("<jsii-kernel>/")); !bytes.Equal(n, b) {
				err = os.WriteFile(files[i], n, 0o644)
			}
		}
		errs[i] = err
	})
	return errors.Join(errs...)
}

// parallel calls f(0) ... f(n-1), on as many goroutines as Go runs at once.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}
