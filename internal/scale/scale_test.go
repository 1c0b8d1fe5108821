package scale_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/scale"
	"github.com/obslink/obslink/topology"
)

// TestGeneratedTopologiesAreValid: every topology make bench generates
// passes validation (a rule added to the topology must not break make bench).
func TestGeneratedTopologiesAreValid(t *testing.T) {
	for _, c := range []struct{ consumers, regions int }{{1, 3}, {10, 4}, {50, 5}, {200, 6}, {1000, 6}} {
		name := fmt.Sprintf("%d-%d.yaml", c.consumers, c.regions)
		topo, err := topology.Parse(name, []byte(scale.Stacks(c.consumers, c.regions)))
		require.NoError(t, err, name)
		assert.Len(t, topo.Consumers, c.consumers)
		assert.Len(t, topo.Regions, c.regions)
		accounts := map[string]bool{}
		for _, cons := range topo.Consumers {
			accounts[cons.Account] = true
		}
		assert.Len(t, accounts, c.consumers, "%s: one consumer per account", name)
	}
	_, err := topology.Parse("stacksets.yaml", []byte(scale.StackSets(1000, 10)))
	assert.NoError(t, err)
}
