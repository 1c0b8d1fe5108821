package main

import (
	"fmt"
	"testing"

	"github.com/obslink/obslink/topology"
)

// TestGeneratedTopologiesAreValid: every topology the benchmark generates
// passes validation (a rule added to the topology must not break make bench).
func TestGeneratedTopologiesAreValid(t *testing.T) {
	for _, c := range []struct{ consumers, regions int }{{1, 3}, {10, 4}, {50, 5}, {200, 6}} {
		name := fmt.Sprintf("%d-%d.yaml", c.consumers, c.regions)
		if _, err := topology.Parse(name, []byte(topologyYAML(c.consumers, c.regions))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
