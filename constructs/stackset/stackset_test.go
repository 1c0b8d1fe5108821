package stackset_test

import (
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/constructs/constructstest"
	"github.com/obslink/obslink/constructs/stackset"
)

const body = `{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`

func props(t *testing.T, p stackset.Props) map[string]any {
	t.Helper()
	stack := constructstest.Stack("444444444444", "eu-west-1")
	stackset.New(stack, jsii.String("Set"), &p)
	tpl := constructstest.Synth(t, stack)
	sets := tpl.Resources("AWS::CloudFormation::StackSet")
	require.Len(t, sets, 1)
	for _, r := range sets {
		return r["Properties"].(map[string]any)
	}
	return nil
}

func TestOUTargetsWithAutoDeployment(t *testing.T) {
	p := props(t, stackset.Props{StackSetName: jsii.String("s"), TemplateBody: jsii.String(body), AutoDeployment: jsii.Bool(true), CallAs: jsii.String("SELF"),
		Instances: &[]*stackset.Targets{{OrganizationalUnitIDs: jsii.Strings("ou-ab12-cdefgh34"), Regions: jsii.Strings("eu-west-1")}}})
	assert.Equal(t, map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false}, p["AutoDeployment"],
		"an account that leaves the OU loses its instance")
	assert.Equal(t, "SELF", p["CallAs"])
	g := p["StackInstancesGroup"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"OrganizationalUnitIds": []any{"ou-ab12-cdefgh34"}}, g["DeploymentTargets"], "the whole OU: no account filter")
	assert.NotContains(t, g, "ParameterOverrides")
}

func TestAccountsWithinOUAndOverrides(t *testing.T) {
	p := props(t, stackset.Props{StackSetName: jsii.String("s"), TemplateBody: jsii.String(body),
		Parameters: &map[string]*string{"B": jsii.String("2"), "A": jsii.String("1")},
		Instances: &[]*stackset.Targets{{OrganizationalUnitIDs: jsii.Strings("r-ab12"), Accounts: jsii.Strings("222222222222"), Regions: jsii.Strings("us-east-1"),
			Overrides: &map[string]*string{"Z": jsii.String("z"), "Y": jsii.String("y")}}}})
	assert.Equal(t, map[string]any{"Enabled": false}, p["AutoDeployment"])
	g := p["StackInstancesGroup"].([]any)[0].(map[string]any)
	assert.Equal(t, "INTERSECTION", g["DeploymentTargets"].(map[string]any)["AccountFilterType"], "named accounts of the OU only")
	assert.Equal(t, []any{map[string]any{"ParameterKey": "Y", "ParameterValue": "y"}, map[string]any{"ParameterKey": "Z", "ParameterValue": "z"}}, g["ParameterOverrides"], "sorted: stable templates")
	assert.Equal(t, []any{map[string]any{"ParameterKey": "A", "ParameterValue": "1"}, map[string]any{"ParameterKey": "B", "ParameterValue": "2"}}, p["Parameters"])
	assert.Equal(t, map[string]any{"RegionConcurrencyType": "PARALLEL", "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE", "MaxConcurrentPercentage": 25.0, "FailureTolerancePercentage": 10.0}, p["OperationPreferences"],
		"concurrency independent of the failure tolerance")
}

func TestExcludedAccounts(t *testing.T) {
	p := props(t, stackset.Props{StackSetName: jsii.String("s"), TemplateBody: jsii.String(body), AutoDeployment: jsii.Bool(true),
		Instances: &[]*stackset.Targets{{OrganizationalUnitIDs: jsii.Strings("ou-ab12-cdefgh34"), Accounts: jsii.Strings("222222222222"), AccountFilterType: jsii.String("DIFFERENCE"), Regions: jsii.Strings("eu-west-1")}}})
	dt := p["StackInstancesGroup"].([]any)[0].(map[string]any)["DeploymentTargets"]
	assert.Equal(t, map[string]any{"OrganizationalUnitIds": []any{"ou-ab12-cdefgh34"}, "Accounts": []any{"222222222222"}, "AccountFilterType": "DIFFERENCE"}, dt,
		"every account of the OU but these")
}

func TestMisuse(t *testing.T) {
	for name, p := range map[string]stackset.Props{
		"no name":          {TemplateBody: jsii.String(body)},
		"no template":      {StackSetName: jsii.String("s")},
		"template too big": {StackSetName: jsii.String("s"), TemplateBody: jsii.String(strings.Repeat(" ", stackset.MaxTemplateBody+1))},
		"bad caller":       {StackSetName: jsii.String("s"), TemplateBody: jsii.String(body), CallAs: jsii.String("ADMIN")},
		"group without region": {StackSetName: jsii.String("s"), TemplateBody: jsii.String(body),
			Instances: &[]*stackset.Targets{{OrganizationalUnitIDs: jsii.Strings("ou-ab12-cdefgh34")}}},
		"bad concurrency mode": {StackSetName: jsii.String("s"), TemplateBody: jsii.String(body), ConcurrencyMode: jsii.String("FAST")},
		"51 OUs in one operation": {StackSetName: jsii.String("s"), TemplateBody: jsii.String(body),
			Instances: &[]*stackset.Targets{{OrganizationalUnitIDs: jsii.Strings(make([]string, stackset.MaxOrganizationalUnits+1)...), Regions: jsii.Strings("eu-west-1")}}},
		"filter without accounts": {StackSetName: jsii.String("s"), TemplateBody: jsii.String(body),
			Instances: &[]*stackset.Targets{{OrganizationalUnitIDs: jsii.Strings("ou-ab12-cdefgh34"), AccountFilterType: jsii.String("DIFFERENCE"), Regions: jsii.Strings("eu-west-1")}}},
	} {
		t.Run(name, func(t *testing.T) {
			stack := constructstest.Stack("444444444444", "eu-west-1")
			assert.Panics(t, func() { stackset.New(stack, jsii.String("Set"), &p) })
		})
	}
}
