package test

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/internal/assembly"
	"github.com/obslink/obslink/topology"
)

// TestCrossStackReferences: in the default topology and every example and
// environment, each Fn::ImportValue and Fn::GetStackOutput resolves when
// its stack deploys, in the order the manifest's dependencies give, and the
// StackSets' templates read no other stack (assembly.References). Each
// topology reads values across stacks, so the checker has something to check.
func TestCrossStackReferences(t *testing.T) {
	stackSets := 0
	for _, nt := range allTopologies(t) {
		r, err := assembly.References(nt.synth(t).Dir)
		require.NoError(t, err)
		for _, p := range r.Problems {
			t.Errorf("%s: %s", nt.file, p)
		}
		assert.Positive(t, r.Imports+r.StackOutputs, "%s: no stack reads another's value", nt.file)
		if nt.topo.StackSetsEnabled() {
			assert.Positive(t, r.StackSetTemplates, "%s: the StackSets' template was read", nt.file)
		}
		stackSets += r.StackSetTemplates
		t.Logf("%s: %d imports, %d stack output reads, %d StackSet templates", filepath.Base(nt.file), r.Imports, r.StackOutputs, r.StackSetTemplates)
	}
	assert.Positive(t, stackSets, "some example deploys consumers with StackSets")
}

// TestUnresolvedReferenceFailsSynth: the same check runs on every synth, so
// a stack that imports an export no stack makes stops synthesis with the
// stack, the place, the construct and the fix.
func TestUnresolvedReferenceFailsSynth(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	dir := t.TempDir()
	a, set := app.New(topo, app.Options{Outdir: dir, NoNag: true})
	consumer := set.Consumers["payments"].Stack
	awssns.NewTopic(consumer, jsii.String("Alerts"), &awssns.TopicProps{
		TopicName: awscdk.Fn_ImportValue(jsii.String("obslink-provider-eu-west-1:AlertsTopicName")),
	})
	a.Synth(nil)

	err = app.CheckAssembly(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "obslink-consumer-payments: Resources.Alerts")
	assert.Contains(t, err.Error(), "(/obslink-consumer-payments/Alerts/Resource)")
	assert.Contains(t, err.Error(), `imports "obslink-provider-eu-west-1:AlertsTopicName", which no stack of the assembly exports in aws://222222222222/eu-west-1`)
}
