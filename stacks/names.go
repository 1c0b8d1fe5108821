package stacks

import (
	"sort"

	"github.com/obslink/obslink/topology"
)

// Planned is a stack Build creates: its name, account and region.
type Planned struct {
	Name    string
	Account string
	Region  string
}

// Plan returns every stack Build creates for t with its environment, in the
// order of Set.All, without creating any: pure Go, for commands that compare
// a topology with what is deployed.
func Plan(t *topology.Topology) []Planned {
	cp := t.ControlPlane
	var out []Planned
	if cp.CrossAccountProviders() {
		out = append(out, Planned{AccepterStackName(t), cp.Account, cp.Region})
	}
	if t.InterRegion == topology.TGW {
		out = append(out, Planned{HubStackName(t), cp.Account, cp.Region})
	}
	var regions, spokes []string
	for _, r := range t.Regions {
		regions = append(regions, r.Region)
		if r.Region != cp.Region {
			spokes = append(spokes, r.Region)
		}
	}
	sort.Strings(regions)
	for _, r := range regions {
		out = append(out, Planned{ProviderStackName(t, r), cp.ProviderAccountID(), r})
	}
	if !t.Proxyless() {
		out = append(out, Planned{ControlPlaneStackName(t), cp.Account, cp.Region})
	}
	if t.InterRegion == topology.TGW && t.TGWMesh == topology.MeshFull {
		sort.Strings(spokes)
		for i := 0; i+1 < len(spokes); i++ { // each spoke accepts from those sorting after it
			out = append(out, Planned{MeshStackName(t, spokes[i]), cp.Account, spokes[i]})
		}
	}
	if t.StackSetsEnabled() {
		return append(out, Planned{StackSetStackName(t), cp.StackSetAccount(), cp.Region})
	}
	consumers := append([]topology.Consumer(nil), t.Consumers...)
	sort.Slice(consumers, func(i, j int) bool { return consumers[i].Name < consumers[j].Name })
	for _, c := range consumers {
		out = append(out, Planned{ConsumerStackName(t, c.Name), c.Account, c.Region})
	}
	return out
}
