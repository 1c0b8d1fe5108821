package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/app"
	"github.com/obslink/obslink/topology"
)

func TestDefaultTopologyStacks(t *testing.T) {
	a := synthDefault(t)

	assert.Empty(t, a.Manifest.Missing, "no context lookups may be left for the CLI")
	want := map[string]string{
		"obslink-provider-eu-west-1":      "aws://111111111111/eu-west-1",
		"obslink-provider-us-east-1":      "aws://111111111111/us-east-1",
		"obslink-provider-ap-southeast-1": "aws://111111111111/ap-southeast-1",
		"obslink-consumer-payments":       "aws://222222222222/eu-west-1",
		"obslink-consumer-analytics":      "aws://111111111111/us-east-1",
		"obslink-consumer-checkout":       "aws://333333333333/ap-southeast-1",
		"obslink-control-plane":           "aws://111111111111/eu-west-1",
	}
	got := map[string]string{}
	for name, art := range a.Stacks() {
		got[name] = art.Environment
	}
	assert.Equal(t, want, got)

	// Each consumer deploys after the provider of its region.
	for consumer, provider := range map[string]string{
		"obslink-consumer-payments":  "obslink-provider-eu-west-1",
		"obslink-consumer-analytics": "obslink-provider-us-east-1",
		"obslink-consumer-checkout":  "obslink-provider-ap-southeast-1",
	} {
		assert.Contains(t, a.Stacks()[consumer].Dependencies, provider, consumer)
	}
	// The cluster-side routes deploy after every provider's link.
	for _, provider := range []string{"obslink-provider-eu-west-1", "obslink-provider-us-east-1", "obslink-provider-ap-southeast-1"} {
		assert.Contains(t, a.Stacks()["obslink-control-plane"].Dependencies, provider)
	}
	for name := range want {
		tpl := a.Template(t, name)
		require.NotEmpty(t, tpl.Resources, "%s has no resources", name)
	}
}

// TestRefreshUpdatesTheReaders: -c refresh=VALUE adds an output to every
// stack that reads provider outputs (so a deploy updates it and
// CloudFormation resolves its Fn::GetStackOutput anew) and to no provider.
func TestRefreshUpdatesTheReaders(t *testing.T) {
	topo, err := topology.Default()
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "out")
	_, err = app.Synth(topo, app.Options{Outdir: dir, Refresh: "2026-11-28"})
	require.NoError(t, err)
	a := Assembly{Dir: dir}
	readJSON(t, filepath.Join(dir, "manifest.json"), &a.Manifest)
	readers := 0
	for name := range a.Stacks() {
		out, ok := a.Template(t, name).Outputs["ObslinkRefresh"].(map[string]any)
		if strings.Contains(name, "-provider-") {
			assert.False(t, ok, "%s is no reader", name)
			continue
		}
		readers++
		require.True(t, ok, "%s reads provider outputs", name)
		assert.Equal(t, "2026-11-28", out["Value"])
	}
	assert.Equal(t, 4, readers, "the control plane and three consumers")
	plain := synthDefault(t)
	assert.NotContains(t, plain.Template(t, "obslink-consumer-payments").Outputs, "ObslinkRefresh", "no output without -c refresh")
}
