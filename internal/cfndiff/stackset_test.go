package cfndiff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stackSetResource is a StackSet of the name with one instance group per
// OU (each in the regions), depending on dependsOn.
func stackSetResource(name string, ous []string, regions string, dependsOn ...string) string {
	var groups []string
	for _, ou := range ous {
		groups = append(groups, fmt.Sprintf(`{"DeploymentTargets": {"OrganizationalUnitIds": [%q]}, "Regions": [%s]}`, ou, regions))
	}
	deps := ""
	if len(dependsOn) > 0 {
		deps = fmt.Sprintf(`, "DependsOn": [%q]`, strings.Join(dependsOn, `", "`))
	}
	return fmt.Sprintf(`{"Type": "AWS::CloudFormation::StackSet", "Properties": {"StackSetName": %q, "PermissionModel": "SERVICE_MANAGED",
		"StackInstancesGroup": [%s]}%s}`, name, strings.Join(groups, ", "), deps)
}

// setImpacts compares two templates of a StackSet stack and returns the
// impact lines.
func setImpacts(t *testing.T, old, cur string) []string {
	t.Helper()
	r, err := Compare([]Stack{stack("o-consumers", "1", "eu-west-1", tpl(t, old))}, []Stack{stack("o-consumers", "1", "eu-west-1", tpl(t, cur))})
	require.NoError(t, err)
	var out []string
	for _, i := range r.Impacts {
		out = append(out, i.Text)
	}
	return out
}

// TestStackSetTargetsLostAndMoved: a diff says which OUs and regions lose
// their stack instances, and, when they move from one StackSet to another,
// whether the two StackSets' order makes the move work.
func TestStackSetTargetsLostAndMoved(t *testing.T) {
	eu, both := `"eu-west-1"`, `"eu-west-1", "us-east-1"`
	tmpl := func(resources ...string) string {
		var rs []string
		for i, r := range resources {
			if r != "" {
				rs = append(rs, fmt.Sprintf(`"Set%d": %s`, i, r))
			}
		}
		return `{"Resources": {` + strings.Join(rs, ", ") + `}}`
	}
	tests := []struct {
		name     string
		old, cur string
		want     []string
	}{
		{"nothing changes",
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, both)),
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, both)), nil},
		{"a region leaves a group",
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, both)),
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, eu)),
			[]string{"StackSet o-groups no longer deploys to ou-a (us-east-1): those stack instances are deleted"}},
		{"an OU moves out of the StackSet its new one depends on: ordered",
			tmpl(stackSetResource("o-groups", []string{"ou-a", "ou-b"}, eu), stackSetResource("o-groups-1", []string{"ou-c"}, eu, "Set0")),
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, eu), stackSetResource("o-groups-1", []string{"ou-b", "ou-c"}, eu, "Set0")),
			[]string{"the stack instances for ou-b (eu-west-1) move from StackSet o-groups to StackSet o-groups-1", "o-groups-1 depends on o-groups, so the old instances go before the new ones come"}},
		{"an OU moves into the StackSet its old one depends on: fails",
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, eu), stackSetResource("o-groups-1", []string{"ou-b", "ou-c"}, eu, "Set0")),
			tmpl(stackSetResource("o-groups", []string{"ou-a", "ou-b"}, eu), stackSetResource("o-groups-1", []string{"ou-c"}, eu, "Set0")),
			[]string{"o-groups-1 depends on o-groups, so o-groups creates its instances first", "remove the group, deploy, then add it back"}},
		{"the old StackSet goes: it is deleted last",
			tmpl(stackSetResource("o-groups", []string{"ou-a"}, eu), stackSetResource("o-groups-1", []string{"ou-b"}, eu, "Set0")),
			tmpl(stackSetResource("o-groups", []string{"ou-a", "ou-b"}, eu), ""),
			[]string{"o-groups-1 is deleted only at the end of the update, after o-groups has created its instances", "remove the group, deploy, then add it back"}},
		{"two StackSets nothing orders",
			tmpl(stackSetResource("o-groups-1", []string{"ou-a"}, eu), stackSetResource("o-groups-2", []string{"ou-b"}, eu)),
			tmpl(stackSetResource("o-groups-1", []string{}, eu), stackSetResource("o-groups-2", []string{"ou-a", "ou-b"}, eu)),
			[]string{"nothing orders the two StackSets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := setImpacts(t, tt.old, tt.cur)
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1, "%q", got)
			for _, w := range tt.want {
				assert.Contains(t, got[0], w)
			}
		})
	}
}

// TestStackSetNamedAccounts: named consumers (accounts with an
// INTERSECTION filter) are targets of their own.
func TestStackSetNamedAccounts(t *testing.T) {
	set := func(accounts string) string {
		return `{"Resources": {"Consumers": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"StackSetName": "o-consumers",
			"StackInstancesGroup": [{"DeploymentTargets": {"AccountFilterType": "INTERSECTION", "Accounts": [` + accounts + `], "OrganizationalUnitIds": ["r-a1b2"]}, "Regions": ["eu-west-1"]}]}}}}`
	}
	got := setImpacts(t, set(`"222222222222", "333333333333"`), set(`"222222222222"`))
	require.Len(t, got, 1, "%q", got)
	assert.Contains(t, got[0], "StackSet o-consumers no longer deploys to account 333333333333 (eu-west-1)")
}

// TestStackSetExclusions: an account a group newly excludes from its OUs
// loses its stack instance; one no longer excluded gets it back.
func TestStackSetExclusions(t *testing.T) {
	set := func(excluded string) string {
		targets := `"OrganizationalUnitIds": ["ou-a"]`
		if excluded != "" {
			targets += `, "AccountFilterType": "DIFFERENCE", "Accounts": [` + excluded + `]`
		}
		return `{"Resources": {"Groups": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"StackSetName": "o-groups",
			"StackInstancesGroup": [{"DeploymentTargets": {` + targets + `}, "Regions": ["eu-west-1", "us-east-1"]}]}}}}`
	}
	got := setImpacts(t, set(""), set(`"444444444444"`))
	require.Len(t, got, 1, "%q", got)
	assert.Contains(t, got[0], "StackSet o-groups now excludes account 444444444444 (eu-west-1, us-east-1): those stack instances are deleted")
	got = setImpacts(t, set(`"444444444444"`), set(""))
	require.Len(t, got, 1, "%q", got)
	assert.Contains(t, got[0], "StackSet o-groups no longer excludes account 444444444444 (eu-west-1, us-east-1): it creates their stack instances again")
}
