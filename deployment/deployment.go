// Package deployment resolves a topology once into a plain model of what it
// deploys: the stacks in each account and region, the provider regions and
// how each reaches the cluster, the named consumers, the consumer groups,
// and the StackSets with their targets and operation preferences. The
// stacks, validate, graph and plan read this model instead of walking the
// topology on their own, so each decision (which mode, which StackSet, which
// parameters) is taken here, once.
//
// It is pure Go: no jsii, no AWS calls, cheap to build and to test.
package deployment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/obslink/obslink/topology"
)

// Deployment is everything a topology deploys.
type Deployment struct {
	// Name is the topology's name, the prefix of every stack name.
	Name string
	// MainRegion is the cluster's region.
	MainRegion string
	// Link is how the provider regions reach the cluster: peering, tgw,
	// native (cross-region PrivateLink to the main region's provider) or
	// none (proxy.mode none: the endpoint service is in the cluster VPC).
	Link string
	// Stacks are the CloudFormation stacks, in the order of stacks.Set.All:
	// links and providers first, consumers last.
	Stacks []Stack
	// Providers are the endpoint services, by region.
	Providers []Provider
	// Consumers are the named consumers, sorted by name.
	Consumers []Consumer
	// Groups are the consumer groups, in file order (stacksets only).
	Groups []Group
	// StackSets are the consumers' StackSets (stacksets only): the named
	// consumers' first, then one per distinct vpcParameters set of groups
	// (the default names' first, then by name).
	StackSets []StackSet
}

// LinkNone is Link in proxy.mode none; the other links are the topology's
// interRegion values.
const LinkNone = "none"

// Stack kinds.
const (
	KindAccepter     = "peering-accepter"
	KindHub          = "hub"
	KindProvider     = "provider"
	KindControlPlane = "control-plane"
	KindMesh         = "mesh"
	KindStackSets    = "stacksets"
	KindConsumer     = "consumer"
)

// Stack is one CloudFormation stack: its name, environment and kind.
type Stack struct {
	Name    string
	Account string
	Region  string
	Kind    string
}

// Provider is the endpoint service of one region.
type Provider struct {
	Region  string
	Account string
	// ServedRegions are the consumer regions it serves, sorted.
	ServedRegions []string
	// Fleet is the proxy fleet behind it; nil in proxy.mode none.
	Fleet *Fleet
}

// Fleet is a region's nginx fleet.
type Fleet struct {
	InstanceType string
	Min, Max     int
}

// Consumer is a named consumer.
type Consumer struct {
	Name, Account, Region string
	// Provider is the region of the endpoint service it connects to.
	Provider string
	// StackSet names the StackSet that deploys it; "" for a CDK stack.
	StackSet string
}

// Group is a consumer group: every account of its OUs, in its regions.
type Group struct {
	Name string
	// OrganizationalUnitIDs are its OUs, as the file lists them.
	OrganizationalUnitIDs []string
	// Regions are where each account connects, as the file lists them.
	Regions []string
	// ExcludedAccounts stay in the OUs without an instance; the providers
	// reject their endpoints.
	ExcludedAccounts []string
	// ExpectedAccounts is the number of accounts the OUs hold, for plan
	// (0: not given).
	ExpectedAccounts int
	// Parameters name the SSM parameters that hold each account's VPC.
	Parameters VPCParameters
	// StackSet names the StackSet that deploys it.
	StackSet string
}

// VPCParameters are the SSM parameter names that hold a member account's VPC.
type VPCParameters struct {
	VpcID, SubnetIDs, CIDR string
}

// Parameters of the StackSets' consumer template that name the SSM
// parameters holding the VPC.
const (
	ParamVpcID     = "VpcId"
	ParamSubnetIDs = "SubnetIds"
	ParamVpcCidr   = "VpcCidr"
)

// Values returns p as the consumer template's parameter values.
func (p VPCParameters) Values() map[string]string {
	return map[string]string{ParamVpcID: p.VpcID, ParamSubnetIDs: p.SubnetIDs, ParamVpcCidr: p.CIDR}
}

// StackSet is one service-managed StackSet of consumers.
type StackSet struct {
	// Name is the StackSet's name (replaced on change).
	Name string
	// ID is its construct id in the StackSet stack (part of its logical id).
	ID string
	// Parameters are the StackSet's own values for the VPC parameters:
	// what every instance gets, including those automatic deployment
	// creates in accounts that join an OU later.
	Parameters VPCParameters
	// AutoDeployment deploys to accounts that join a target OU and removes
	// the instances of accounts that leave it.
	AutoDeployment bool
	// Instances are the stack instance groups.
	Instances []Instances
	// Preferences are the operations' preferences.
	Preferences Preferences
	// Groups are the consumer groups it deploys (nil: named consumers).
	Groups []string
}

// Account filter types of a StackSet's deployment targets.
const (
	FilterNone         = ""
	FilterIntersection = "INTERSECTION"
	FilterDifference   = "DIFFERENCE"
)

// Instances are stack instances in Regions of the accounts of
// OrganizationalUnitIDs, filtered by Accounts (Filter INTERSECTION: only
// these; DIFFERENCE: all but these).
type Instances struct {
	OrganizationalUnitIDs []string
	Accounts              []string
	Filter                string
	Regions               []string
	// Group is the consumer group these instances belong to ("" for named consumers).
	Group string
}

// Preferences are a StackSet's operation preferences.
type Preferences struct {
	// RegionConcurrency is PARALLEL or SEQUENTIAL.
	RegionConcurrency string
	// ConcurrencyMode is SOFT_FAILURE_TOLERANCE: concurrency does not
	// depend on the failure tolerance.
	ConcurrencyMode            string
	MaxConcurrentPercentage    int
	FailureTolerancePercentage int
}

// Concurrency modes of StackSet operations.
const (
	SoftFailureTolerance   = "SOFT_FAILURE_TOLERANCE"
	StrictFailureTolerance = "STRICT_FAILURE_TOLERANCE"
)

// Effective returns how many of accounts stack instances CloudFormation
// deploys at once in one region, and how many may fail before it stops
// there, under p: percentages round down; a concurrency that rounds to 0 is
// 1; under STRICT_FAILURE_TOLERANCE (the API's default) concurrency is at
// most the tolerance + 1.
func (p Preferences) Effective(accounts int) (concurrent, tolerated int) {
	tolerated = accounts * p.FailureTolerancePercentage / 100
	concurrent = max(accounts*p.MaxConcurrentPercentage/100, 1)
	if p.ConcurrencyMode != SoftFailureTolerance {
		concurrent = min(concurrent, tolerated+1)
	}
	return concurrent, tolerated
}

// Resolve builds the model of t, which must come from topology.Load or
// topology.Parse (validated, defaults applied).
func Resolve(t *topology.Topology) *Deployment {
	cp := t.ControlPlane
	d := &Deployment{Name: t.Name, MainRegion: cp.Region, Link: string(t.InterRegion)}
	if t.Proxyless() {
		d.Link = LinkNone
	}
	d.Stacks = stacks(t)
	for _, r := range sortedRegions(t) {
		p := Provider{Region: r, Account: cp.ProviderAccountID(), ServedRegions: t.ConsumerRegions(r)}
		if !t.Proxyless() {
			p.Fleet = &Fleet{InstanceType: t.Proxy.InstanceType, Min: t.Proxy.Min(), Max: t.Proxy.Max()}
		}
		d.Providers = append(d.Providers, p)
	}
	for _, c := range t.Consumers {
		dc := Consumer{Name: c.Name, Account: c.Account, Region: c.Region, Provider: t.ProviderRegionFor(c.Region)}
		if t.StackSetsEnabled() {
			dc.StackSet = NamedStackSetName(t)
		}
		d.Consumers = append(d.Consumers, dc)
	}
	sort.Slice(d.Consumers, func(i, j int) bool { return d.Consumers[i].Name < d.Consumers[j].Name })
	if t.StackSetsEnabled() {
		d.StackSets, d.Groups = stackSets(t)
	}
	return d
}

// StackSet returns the StackSet named name, or nil.
func (d *Deployment) StackSet(name string) *StackSet {
	for i := range d.StackSets {
		if d.StackSets[i].Name == name {
			return &d.StackSets[i]
		}
	}
	return nil
}

// Stack names.

// AccepterStackName is the stack of the peering accepter role.
func AccepterStackName(t *topology.Topology) string { return t.Name + "-peering-accepter" }

// HubStackName is the stack of the main region's Transit Gateway.
func HubStackName(t *topology.Topology) string { return t.Name + "-hub" }

// ControlPlaneStackName is the stack of the cluster-side routes.
func ControlPlaneStackName(t *topology.Topology) string { return t.Name + "-control-plane" }

// MeshStackName is the stack of the full-mesh peerings region accepts.
func MeshStackName(t *topology.Topology, region string) string { return t.Name + "-mesh-" + region }

// ProviderStackName is the stack of the provider in region.
func ProviderStackName(t *topology.Topology, region string) string {
	return t.Name + "-provider-" + region
}

// ConsumerStackName is the stack of a consumer.
func ConsumerStackName(t *topology.Topology, consumer string) string {
	return t.Name + "-consumer-" + consumer
}

// StackSetStackName is the stack that holds the consumers' StackSets, and
// the name of the named consumers' StackSet.
func StackSetStackName(t *topology.Topology) string { return t.Name + "-consumers" }

// NamedStackSetName is the StackSet of the named consumers.
func NamedStackSetName(t *topology.Topology) string { return StackSetStackName(t) }

// GroupStackSetName is the StackSet of the consumer groups with the default
// vpcParameters, and the prefix of the others' (see GroupStackSet).
func GroupStackSetName(t *topology.Topology) string { return t.Name + "-consumer-groups" }

// stacks lists every stack, in the order of stacks.Set.All.
func stacks(t *topology.Topology) []Stack {
	cp := t.ControlPlane
	var out []Stack
	if cp.CrossAccountProviders() {
		out = append(out, Stack{AccepterStackName(t), cp.Account, cp.Region, KindAccepter})
	}
	if t.InterRegion == topology.TGW {
		out = append(out, Stack{HubStackName(t), cp.Account, cp.Region, KindHub})
	}
	var spokes []string
	for _, r := range sortedRegions(t) {
		out = append(out, Stack{ProviderStackName(t, r), cp.ProviderAccountID(), r, KindProvider})
		if r != cp.Region {
			spokes = append(spokes, r)
		}
	}
	if !t.Proxyless() {
		out = append(out, Stack{ControlPlaneStackName(t), cp.Account, cp.Region, KindControlPlane})
	}
	if t.InterRegion == topology.TGW && t.TGWMesh == topology.MeshFull {
		for i := 0; i+1 < len(spokes); i++ { // each spoke accepts from those sorting after it
			out = append(out, Stack{MeshStackName(t, spokes[i]), cp.Account, spokes[i], KindMesh})
		}
	}
	if t.StackSetsEnabled() {
		return append(out, Stack{StackSetStackName(t), cp.StackSetAccount(), cp.Region, KindStackSets})
	}
	consumers := append([]topology.Consumer(nil), t.Consumers...)
	sort.Slice(consumers, func(i, j int) bool { return consumers[i].Name < consumers[j].Name })
	for _, c := range consumers {
		out = append(out, Stack{ConsumerStackName(t, c.Name), c.Account, c.Region, KindConsumer})
	}
	return out
}

func sortedRegions(t *topology.Topology) []string {
	var out []string
	for _, r := range t.Regions {
		out = append(out, r.Region)
	}
	sort.Strings(out)
	return out
}

// stackSets resolves the consumers' StackSets. The named consumers share
// one (one instance group per region, their accounts within the
// organization root, no automatic deployment). The groups get one StackSet
// per distinct vpcParameters set, with those names as the StackSet's own
// parameters: automatic deployment gives an account that joins an OU later
// the StackSet's values, never an instance group's overrides, so a set's
// names must be the StackSet's. Each group is one instance group, with its
// excluded accounts filtered out (DIFFERENCE).
func stackSets(t *topology.Topology) ([]StackSet, []Group) {
	s := t.StackSets
	prefs := Preferences{
		RegionConcurrency:          s.Concurrency(),
		ConcurrencyMode:            SoftFailureTolerance,
		MaxConcurrentPercentage:    s.MaxConcurrent(),
		FailureTolerancePercentage: s.FailureTolerance(),
	}
	var out []StackSet
	if len(t.Consumers) > 0 {
		byRegion := map[string][]string{}
		for _, c := range t.Consumers {
			byRegion[c.Region] = append(byRegion[c.Region], c.Account)
		}
		named := StackSet{Name: NamedStackSetName(t), ID: "Consumers", Parameters: defaultParameters(), Preferences: prefs}
		for _, region := range sortedKeys(byRegion) {
			accounts := byRegion[region]
			sort.Strings(accounts)
			named.Instances = append(named.Instances, Instances{
				OrganizationalUnitIDs: []string{t.ControlPlane.OrganizationRootID},
				Accounts:              accounts,
				Filter:                FilterIntersection,
				Regions:               []string{region},
			})
		}
		out = append(out, named)
	}
	var groups []Group
	bySet := map[VPCParameters]*StackSet{}
	var sets []*StackSet
	for _, g := range t.ConsumerGroups {
		params := groupParameters(g)
		set := bySet[params]
		if set == nil {
			name, id := GroupStackSet(t, g)
			set = &StackSet{Name: name, ID: id, Parameters: params, AutoDeployment: true, Preferences: prefs}
			bySet[params] = set
			sets = append(sets, set)
		}
		set.Groups = append(set.Groups, g.Name)
		excluded := append([]string(nil), g.ExcludeAccounts...)
		sort.Strings(excluded)
		filter := FilterNone
		if len(excluded) > 0 {
			filter = FilterDifference
		}
		set.Instances = append(set.Instances, Instances{
			OrganizationalUnitIDs: g.OrganizationalUnitIDs, Accounts: excluded, Filter: filter, Regions: g.Regions, Group: g.Name,
		})
		groups = append(groups, Group{
			Name: g.Name, OrganizationalUnitIDs: g.OrganizationalUnitIDs, Regions: g.Regions,
			ExcludedAccounts: excluded, ExpectedAccounts: g.ExpectedAccounts, Parameters: params, StackSet: set.Name,
		})
	}
	// The default names' StackSet first (the others depend on it), then by name.
	sort.SliceStable(sets, func(i, j int) bool {
		if (sets[i].ID == groupStackSetID) != (sets[j].ID == groupStackSetID) {
			return sets[i].ID == groupStackSetID
		}
		return sets[i].Name < sets[j].Name
	})
	for _, set := range sets {
		out = append(out, *set)
	}
	return out, groups
}

const groupStackSetID = "ConsumerGroups"

func groupParameters(g topology.ConsumerGroup) VPCParameters {
	id, subnets, cidr := g.VPCParameters.Names()
	return VPCParameters{VpcID: id, SubnetIDs: subnets, CIDR: cidr}
}

// GroupStackSet returns the StackSet name and construct id of group g's
// vpcParameters set: <name>-consumer-groups (id ConsumerGroups) for the
// default SSM names, else <name>-consumer-groups-<hash> (id
// ConsumerGroups<hash>), where hash is the first 8 hex digits of the
// SHA-256 of the three names. Neither the file's order nor which groups
// share the set changes it: a renamed or moved StackSet would create its
// instances while the old one's still hold private zones of the same name.
func GroupStackSet(t *topology.Topology, g topology.ConsumerGroup) (name, id string) {
	p := groupParameters(g)
	if p == defaultParameters() {
		return GroupStackSetName(t), groupStackSetID
	}
	sum := sha256.Sum256([]byte(p.VpcID + "\n" + p.SubnetIDs + "\n" + p.CIDR))
	h := hex.EncodeToString(sum[:4])
	return GroupStackSetName(t) + "-" + h, groupStackSetID + h
}

func defaultParameters() VPCParameters {
	id, subnets, cidr := topology.VPCParameters{}.Names()
	return VPCParameters{VpcID: id, SubnetIDs: subnets, CIDR: cidr}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// GroupSummary counts the consumer groups, their OUs and regions, and the
// StackSets, for validate; "" without groups.
func (d *Deployment) GroupSummary() string {
	if len(d.Groups) == 0 {
		return ""
	}
	ous, regions := map[string]bool{}, map[string]bool{}
	for _, g := range d.Groups {
		for _, ou := range g.OrganizationalUnitIDs {
			ous[ou] = true
		}
		for _, r := range g.Regions {
			regions[r] = true
		}
	}
	return fmt.Sprintf("%d consumer group(s) in %d OU(s) and %d region(s), %d StackSet(s)", len(d.Groups), len(ous), len(regions), len(d.StackSets))
}
