package stacks

import (
	"sort"

	"github.com/obslink/obslink/topology"
)

// Names returns the name of every stack Build creates for t, in the order
// of Set.All, without creating any: pure Go, for commands that compare a
// topology with what is deployed.
func Names(t *topology.Topology) []string {
	cp := t.ControlPlane
	var out []string
	if cp.CrossAccountProviders() {
		out = append(out, AccepterStackName(t))
	}
	if t.InterRegion == topology.TGW {
		out = append(out, HubStackName(t))
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
		out = append(out, ProviderStackName(t, r))
	}
	out = append(out, ControlPlaneStackName(t))
	if t.InterRegion == topology.TGW && t.TGWMesh == topology.MeshFull {
		sort.Strings(spokes)
		for i := 0; i+1 < len(spokes); i++ { // each spoke accepts from those sorting after it
			out = append(out, MeshStackName(t, spokes[i]))
		}
	}
	var consumers []string
	for _, c := range t.Consumers {
		consumers = append(consumers, ConsumerStackName(t, c.Name))
	}
	sort.Strings(consumers)
	return append(out, consumers...)
}
