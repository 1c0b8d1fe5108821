package assembly_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obslink/obslink/internal/assembly"
)

// TestReferencesValid: testdata/valid holds every kind of reference the
// checker follows, each resolving: an import of a literal export and of one
// built with Fn::Join, an export named with Fn::Sub, a dependency through
// another stack, a read of another account's output through a role, and a
// StackSet whose parameter reads that output.
func TestReferencesValid(t *testing.T) {
	r, err := assembly.References("testdata/valid")
	require.NoError(t, err)
	assert.Empty(t, r.Problems)
	assert.Equal(t, 2, r.Imports)
	assert.Equal(t, 2, r.StackOutputs)
	assert.Equal(t, 1, r.StackSetTemplates)
	assert.NoError(t, assembly.Check("testdata/valid"))
}

// TestReferencesProblems: each fixture is a small part of testdata/valid
// with one thing broken, and the checker reports exactly that, where it is.
func TestReferencesProblems(t *testing.T) {
	const output = "Resources.Endpoint.Properties.ServiceName.Fn::Join[1][1].Fn::GetStackOutput"
	tests := []struct {
		dir, stack, where, want string
	}{
		{"import-no-export", "routes", "Resources.HubRoute.Properties.TransitGatewayId.Fn::ImportValue",
			`imports "hub:GatewayID", which no stack of the assembly exports in aws://111111111111/eu-west-1`},
		{"import-other-region", "routes", "Resources.HubRoute.Properties.TransitGatewayId.Fn::ImportValue",
			`only stack hub (Outputs.GatewayId) in aws://111111111111/us-east-1 exports, and Fn::ImportValue reads the exports of this stack's own account and region (aws://111111111111/eu-west-1): read the value with Fn::GetStackOutput`},
		{"import-no-dependency", "routes", "Resources.HubRoute.Properties.TransitGatewayId.Fn::ImportValue",
			`imports "hub:GatewayId" from stack hub (Outputs.GatewayId), but does not depend on hub`},
		{"import-not-literal", "routes", "Resources.HubRoute.Properties.TransitGatewayId.Fn::ImportValue",
			`the export name {"Ref":"GatewayExport"} is not built from strings and pseudo parameters`},
		{"export-twice", "provider", "Outputs.PeeringId.Export.Name",
			`export "provider:PeeringId" is exported by stack hub (Outputs.PeeringId) too`},
		{"output-no-stack", "consumer", output,
			"reads output ServiceId of stack provider-eu-west-1 in aws://111111111111/eu-west-1, and the assembly has no such stack"},
		{"output-wrong-region", "consumer", output,
			"stack provider is in aws://111111111111/eu-west-1: fix Region"},
		{"output-no-role-arn", "consumer", output,
			"reading another account's stack needs a RoleArn"},
		{"output-no-output", "consumer", output,
			"reads output EndpointServiceId of stack provider (aws://111111111111/eu-west-1), which has no such output (it has PeeringId, ServiceId)"},
		{"output-no-dependency", "consumer", output,
			"reads output ServiceId of stack provider (aws://111111111111/eu-west-1), but does not depend on it"},
		{"output-no-role", "consumer", output + ".RoleArn",
			"names role provider-reader in account 111111111111, which no stack of the assembly creates"},
		{"cycle", "routes", "dependencies",
			"dependency cycle hub -> provider -> routes -> hub"},
		{"unknown-dependency", "consumer", "dependencies",
			`depends on "provider-eu-west-1", which is no artifact of the assembly`},
		{"stackset-reads-output", "stacksets", "Resources.Consumers.Properties.TemplateBody",
			"the StackSet's template has Fn::GetStackOutput at Resources.Endpoint.Properties.ServiceName"},
		{"stackset-undeclared-parameter", "stacksets", "Resources.Consumers.Properties.StackInstancesGroup[0].ParameterOverrides[0]",
			"passes parameter VpcID, which the StackSet's template does not declare (it declares ServiceName, VpcId)"},
		{"stackset-missing-parameter", "stacksets", "Resources.Consumers.Properties.Parameters",
			"gives no value for the template's parameter ServiceName, which has no default"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", tt.dir)
			r, err := assembly.References(dir)
			require.NoError(t, err)
			require.Len(t, r.Problems, 1, "%v", r.Problems)
			p := r.Problems[0]
			assert.Equal(t, tt.stack, p.Stack)
			assert.Equal(t, tt.where, p.Where)
			if tt.stack == "consumer" && tt.where != "dependencies" {
				assert.Equal(t, "/consumer/Endpoint/Resource", p.Construct, "the construct path from the stack's metadata")
			}
			assert.Contains(t, p.Message, tt.want)
			assert.Contains(t, p.Message, ": ", "the message says how to fix it")

			err = assembly.Check(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), p.String())
		})
	}
}

// TestCheckReportsMetadataErrors: Check reports the error-level metadata
// (a cdk-nag finding) with its construct path, as it reports references.
func TestCheckReportsMetadataErrors(t *testing.T) {
	r, err := assembly.References("testdata/metadata-error")
	require.NoError(t, err)
	assert.Empty(t, r.Problems)
	err = assembly.Check("testdata/metadata-error")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 error(s)")
	assert.Contains(t, err.Error(), "/consumer/Endpoint/Resource: AwsSolutions-EC23: open to the world")
}

func TestReferencesUnreadableAssembly(t *testing.T) {
	_, err := assembly.References(t.TempDir())
	assert.ErrorContains(t, err, "manifest.json")
}
