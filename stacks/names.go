package stacks

import (
	"github.com/obslink/obslink/deployment"
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
// a topology with what is deployed. It reads deployment.Resolve's stacks.
func Plan(t *topology.Topology) []Planned {
	var out []Planned
	for _, s := range deployment.Resolve(t).Stacks {
		out = append(out, Planned{s.Name, s.Account, s.Region})
	}
	return out
}
