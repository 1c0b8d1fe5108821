// Package stacks turns a topology into CDK stacks: one per account and region
// that needs one, with explicit environments, ids derived from the names in
// the topology file, and dependencies that give a correct deploy order.
package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/topology"
)

// Set is every stack built for one topology.
type Set struct {
	// Providers holds the provider stack of each region, by region name.
	Providers map[string]*ProviderStack
	// Consumers holds the stack of each consumer, by consumer name.
	Consumers map[string]*ConsumerStack
	// Hub is the main region's Transit Gateway (tgw only), else nil.
	Hub *HubStack
	// Accepter holds the peering accepter role in the cluster's account
	// (providerAccount differs from it), else nil.
	Accepter awscdk.Stack
	// ControlPlane holds the cluster-side routes, in the main region (nil
	// in proxy.mode none).
	ControlPlane *ControlPlaneStack
	// Mesh holds, by region, the accepter side of full-mesh peerings (tgwMesh: full).
	Mesh map[string]awscdk.Stack
	// StackSets holds the consumers' StackSets (consumerDeployment:
	// stacksets; Consumers is then empty), else nil.
	StackSets *StackSetStack
}

// All returns every stack in a stable order: hub, providers by region,
// control plane, then consumers by name.
func (s *Set) All() []awscdk.Stack {
	var out []awscdk.Stack
	if s.Accepter != nil {
		out = append(out, s.Accepter)
	}
	if s.Hub != nil {
		out = append(out, s.Hub.Stack)
	}
	for _, k := range sortedKeys(s.Providers) {
		out = append(out, s.Providers[k].Stack)
	}
	if s.ControlPlane != nil {
		out = append(out, s.ControlPlane.Stack)
	}
	for _, k := range sortedKeys(s.Mesh) {
		out = append(out, s.Mesh[k])
	}
	if s.StackSets != nil {
		out = append(out, s.StackSets.Stack)
	}
	for _, k := range sortedKeys(s.Consumers) {
		out = append(out, s.Consumers[k].Stack)
	}
	return out
}

// Readers returns the stacks that read provider outputs: the control plane,
// the mesh stacks, the StackSet and the consumers, in the order of All.
func (s *Set) Readers() []awscdk.Stack {
	var out []awscdk.Stack
	if s.ControlPlane != nil {
		out = append(out, s.ControlPlane.Stack)
	}
	for _, k := range sortedKeys(s.Mesh) {
		out = append(out, s.Mesh[k])
	}
	if s.StackSets != nil {
		out = append(out, s.StackSets.Stack)
	}
	for _, k := range sortedKeys(s.Consumers) {
		out = append(out, s.Consumers[k].Stack)
	}
	return out
}

// ProviderStackName is the stack name of the provider in region.
func ProviderStackName(t *topology.Topology, region string) string {
	return deployment.ProviderStackName(t, region)
}

// ConsumerStackName is the stack name of a consumer.
func ConsumerStackName(t *topology.Topology, consumer string) string {
	return deployment.ConsumerStackName(t, consumer)
}

// Build creates the stacks of t in scope: an App or a Stage, which may
// already hold stacks of its own. t must be complete: from topology.Load,
// topology.Parse or topology.Complete (validated, defaults applied); Build
// panics otherwise. Build sets no context: record the zones of the
// topology's environments first (AvailabilityZoneContext), or synthesis
// looks them up in AWS.
func Build(scope constructs.Construct, t *topology.Topology, opts ...BuildOption) *Set {
	if scope == nil {
		panic("stacks.Build: scope is nil; pass your App, or a Stage of it")
	}
	if t == nil || !t.Completed() {
		panic("stacks.Build: the topology is not complete: pass a topology built in Go through topology.Complete first (it validates it and applies the defaults, as topology.Parse does for a file)")
	}
	var o buildOptions
	for _, f := range opts {
		f(&o)
	}
	set := &Set{Providers: map[string]*ProviderStack{}, Consumers: map[string]*ConsumerStack{}}
	cp := t.ControlPlane
	if cp.CrossAccountProviders() {
		set.Accepter = NewAccepterStack(scope, AccepterStackName(t), t, stackProps(t, cp.Account, cp.Region, "obslink peering accepter role"))
	}
	if t.InterRegion == topology.TGW {
		set.Hub = NewHubStack(scope, HubStackName(t), t, stackProps(t, cp.Account, cp.Region, "obslink hub Transit Gateway"))
	}
	for _, r := range t.Regions {
		set.Providers[r.Region] = NewProviderStack(scope, ProviderStackName(t, r.Region), &ProviderStackProps{
			StackProps: stackProps(t, cp.ProviderAccountID(), r.Region, "obslink provider for "+r.Region),
			Topology:   t,
			Region:     r,
			Hub:        set.Hub,
		})
		if set.Accepter != nil {
			set.Providers[r.Region].AddStackDependency(set.Accepter, jsii.String("the accepter role must exist before the peering"))
		}
	}
	if t.InterRegion == topology.TGW && t.TGWMesh == topology.MeshFull {
		buildFullMesh(scope, t, set)
	}
	if !t.Proxyless() { // no provider VPC to route to; the ALBs' rules are in the provider stack
		set.ControlPlane = NewControlPlaneStack(scope, ControlPlaneStackName(t), t,
			stackProps(t, cp.Account, cp.Region, "obslink cluster-side routes"), set.Providers, set.Hub)
	}
	if t.StackSetsEnabled() {
		template, err := ConsumerTemplate(t, o.templateApp)
		if err != nil {
			panic(fmt.Sprintf("stacks.Build: %v", err))
		}
		set.StackSets = NewStackSetStack(scope, StackSetStackName(t), t, deployment.Resolve(t), set.Providers, template)
		return set
	}
	for _, c := range t.Consumers {
		prov, ok := set.Providers[t.ProviderRegionFor(c.Region)]
		if !ok {
			panic(fmt.Sprintf("stacks.Build: consumer %s in %s has no provider: add a regions entry for %s, or use interRegion: native (validate the topology with topology.Parse first)",
				c.Name, c.Region, t.ProviderRegionFor(c.Region)))
		}
		cs := NewConsumerStack(scope, ConsumerStackName(t, c.Name), &ConsumerStackProps{
			StackProps: stackProps(t, c.Account, c.Region, "obslink consumer "+c.Name),
			Topology:   t,
			Consumer:   c,
			Provider:   prov,
		})
		set.Consumers[c.Name] = cs
	}
	return set
}

func stackProps(t *topology.Topology, account, region, desc string) awscdk.StackProps {
	return awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)},
		Description: jsii.String(desc + " (topology " + t.Name + ")"),
		Tags:        &map[string]*string{"obslink:topology": jsii.String(t.Name)},
	}
}

// AvailabilityZoneContext is the context that records the zones of every
// environment of t, so that synthesis never looks them up in AWS (the
// manifest must record no missing context): put it in AppProps.Context, or
// set each key with Node().SetContext on the App or Stage before its first
// child.
func AvailabilityZoneContext(t *topology.Topology) map[string]any {
	if t == nil {
		panic("stacks.AvailabilityZoneContext: the topology is nil; pass the topology you give stacks.Build")
	}
	zones := map[string]map[string]bool{}
	addZones := func(account, region string, azs []string) {
		key := "availability-zones:account=" + account + ":region=" + region
		if zones[key] == nil {
			zones[key] = map[string]bool{}
		}
		for _, z := range azs {
			zones[key][z] = true
		}
	}
	for _, r := range t.Regions {
		addZones(t.ControlPlane.ProviderAccountID(), r.Region, r.AvailabilityZones)
	}
	for _, c := range t.Consumers {
		if !t.StackSetsEnabled() {
			addZones(c.Account, c.Region, c.VPC.AvailabilityZones)
		}
	}
	out := make(map[string]any, len(zones))
	for key, set := range zones {
		out[key] = sortedKeys(set)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
