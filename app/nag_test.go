package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNagPlanCovers: the stacks cdk-nag checked stand for the ones it
// skipped only when each skipped template is of a checked one's shape and
// no checked consumer stack carries a finding; otherwise Synth checks
// every stack.
func TestNagPlanCovers(t *testing.T) {
	type stack struct {
		template []byte
		warning  bool
	}
	vpc := func(name, account, cidr, subnet string) []byte {
		return consumerTemplate(name, account, cidr, subnet, cidr)
	}
	tests := []struct {
		name   string
		stacks map[string]stack
		want   bool
	}{
		{"skipped one of the checked shape", map[string]stack{
			"c1": {template: vpc("c1", "200000000001", "10.1.0.0/20", "10.1.0.0/21")},
			"c2": {template: vpc("c2", "200000000002", "10.1.16.0/20", "10.1.16.0/21")},
		}, true},
		{"skipped one of another shape", map[string]stack{
			"c1": {template: vpc("c1", "200000000001", "10.1.0.0/20", "10.1.0.0/21")},
			"c2": {template: vpc("c2", "200000000002", "10.1.16.0/20", "10.9.16.0/21")}, // its subnet outside its VPC
		}, false},
		{"a finding on the checked one", map[string]stack{
			"c1": {template: vpc("c1", "200000000001", "10.1.0.0/20", "10.1.0.0/21"), warning: true},
			"c2": {template: vpc("c2", "200000000002", "10.1.16.0/20", "10.1.16.0/21")},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			artifacts := map[string]any{}
			names := map[string][]string{}
			for name, s := range tt.stacks {
				id := "bench-consumer-" + name
				names[id] = []string{name}
				require.NoError(t, os.WriteFile(filepath.Join(dir, id+".template.json"), s.template, 0o644))
				md := map[string]any{"/" + id: []any{map[string]any{"type": "aws:cdk:logicalId", "data": "X"}}}
				if s.warning {
					md["/"+id+"/Consumer/Vpc"] = []any{map[string]any{"type": "aws:cdk:warning", "data": "[AwsSolutions-VPC7] ..."}}
				}
				artifacts[id] = map[string]any{
					"type": "aws:cloudformation:stack", "environment": "aws://20000000000" + name[1:] + "/eu-west-1",
					"properties": map[string]any{"templateFile": id + ".template.json"}, "metadata": md,
				}
			}
			b, err := json.Marshal(map[string]any{"artifacts": artifacts})
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644))
			plan := &nagPlan{checked: []string{"bench-consumer-c1"}, skipped: []string{"bench-consumer-c2"}}
			got, err := plan.covers(dir, newShapes(names))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
