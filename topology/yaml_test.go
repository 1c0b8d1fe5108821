package topology_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/topology"
)

// lineOf is the 1-based line of the first line of text that contains s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no line contains %q", s)
	return 0
}

// anchored is base with its repeated blocks written once: the zones of a
// region as an anchor in an x- block, the consumers' common keys through a
// merge key, a VPC through an alias.
const anchored = `
x-defaults:
  zones: &use1 [us-east-1a, us-east-1b]
  consumer: &consumer
    account: "222222222222"
    region: us-east-1
name: obs
controlPlane:
  account: "111111111111"
  region: eu-west-1
  vpc:
    id: vpc-0a1b2c3d4e5f60718
    cidr: 10.0.0.0/16
    routeTableIds: [rtb-0a1b2c3d4e5f60718]
    albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]
services:
  - name: metrics
    upstream: internal-metrics-1.eu-west-1.elb.amazonaws.com
regions:
  - region: eu-west-1
    cidr: 10.100.0.0/24
    availabilityZones: [eu-west-1a, eu-west-1b]
  - region: us-east-1
    cidr: 10.100.1.0/24
    availabilityZones: *use1
consumers:
  - <<: *consumer
    name: app
    vpc: &appvpc
      cidr: 10.0.0.0/16
      availabilityZones: *use1
  - <<: *consumer
    name: batch
    account: "333333333333"
    vpc: *appvpc
`

// writtenOut is anchored with every alias and merge key expanded by hand.
const writtenOut = `
name: obs
controlPlane:
  account: "111111111111"
  region: eu-west-1
  vpc:
    id: vpc-0a1b2c3d4e5f60718
    cidr: 10.0.0.0/16
    routeTableIds: [rtb-0a1b2c3d4e5f60718]
    albSecurityGroupIds: [sg-0a1b2c3d4e5f60718]
services:
  - name: metrics
    upstream: internal-metrics-1.eu-west-1.elb.amazonaws.com
regions:
  - region: eu-west-1
    cidr: 10.100.0.0/24
    availabilityZones: [eu-west-1a, eu-west-1b]
  - region: us-east-1
    cidr: 10.100.1.0/24
    availabilityZones: [us-east-1a, us-east-1b]
consumers:
  - name: app
    account: "222222222222"
    region: us-east-1
    vpc:
      cidr: 10.0.0.0/16
      availabilityZones: [us-east-1a, us-east-1b]
  - name: batch
    account: "333333333333"
    region: us-east-1
    vpc:
      cidr: 10.0.0.0/16
      availabilityZones: [us-east-1a, us-east-1b]
`

// TestAnchorsAliasesAndMergeKeys: a file that writes its repeated blocks
// once (anchors, aliases, merge keys, an x- block for the anchors) is the
// same topology as the file written out, and a mapping's own keys win over
// merged ones.
func TestAnchorsAliasesAndMergeKeys(t *testing.T) {
	got, err := topology.Parse("anchored.yaml", []byte(anchored))
	require.NoError(t, err)
	want, err := topology.Parse("written-out.yaml", []byte(writtenOut))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, "333333333333", got.Consumers[1].Account, "the mapping's own key wins over the merged one")
}

// TestErrorsThroughAliasesNameTheLines: a problem in a value given through
// an alias names the line that holds the value and the alias that brought
// it; a merged key the mapping overrides is checked where it is written.
func TestErrorsThroughAliasesNameTheLines(t *testing.T) {
	tests := []struct {
		name, old, new string
		path           string
		line           string // the text of the line the error names
		alias          string // the text of the alias's line, "" for none
	}{
		{name: "a bad zone in an anchored list", old: "zones: &use1 [us-east-1a, us-east-1b]", new: "zones: &use1 [us-east-1a, eu-west-1b]",
			path: "regions[1].availabilityZones[1]", line: "zones: &use1", alias: "availabilityZones: *use1"},
		{name: "a bad account in a merged mapping", old: `account: "222222222222"`, new: `account: "2222"`,
			path: "consumers[0].account", line: `account: "2222"`, alias: "- <<: *consumer"},
		{name: "an account as a number in a merged mapping", old: `account: "222222222222"`, new: `account: 222222222222`,
			path: "consumers[0].account", line: "account: 222222222222", alias: "- <<: *consumer"},
		{name: "an unknown key in a merged mapping", old: "    region: us-east-1\nname", new: "    region: us-east-1\n    vpcId: vpc-1\nname",
			path: "consumers[0].vpcId", line: "vpcId: vpc-1", alias: "- <<: *consumer"},
		{name: "a bad CIDR in an aliased mapping", old: "cidr: 10.0.0.0/16\n      availabilityZones: *use1", new: "cidr: 10.0.0.1/16\n      availabilityZones: *use1",
			path: "consumers[1].vpc.cidr", line: "cidr: 10.0.0.1/16", alias: "vpc: *appvpc"},
		{name: "an overriding key is its own", old: `account: "333333333333"`, new: `account: "3"`,
			path: "consumers[1].account", line: `account: "3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, anchored, tt.old)
			text := strings.Replace(anchored, tt.old, tt.new, 1)
			_, err := topology.Parse("anchored.yaml", []byte(text))
			var errs topology.Errors
			require.True(t, errors.As(err, &errs), "%v", err)
			for _, e := range errs {
				if e.Path != tt.path {
					continue
				}
				assert.Equal(t, lineOf(t, text, tt.line), e.Line, "%v", e)
				if tt.alias == "" {
					assert.NotContains(t, e.Msg, "anchor")
				} else {
					assert.Contains(t, e.Msg, "at line "+itoa(lineOf(t, text, tt.alias))+")", "names the alias's line")
				}
				return
			}
			t.Fatalf("no error at %s in:\n%v", tt.path, err)
		})
	}
}

// TestMergeKeyAndExtensionMistakes: a merge key needs mappings, and only
// top-level keys may start with x-.
func TestMergeKeyAndExtensionMistakes(t *testing.T) {
	wantFieldError(t, []byte(strings.Replace(anchored, "  - <<: *consumer\n    name: app", "  - <<: app\n    name: app", 1)),
		"consumers[0]", "the merge key << takes a mapping")
	wantFieldError(t, []byte(strings.Replace(anchored, "    name: batch\n", "    name: batch\n    x-note: hi\n", 1)),
		"consumers[1].x-note", `unknown key "x-note"`)
}
