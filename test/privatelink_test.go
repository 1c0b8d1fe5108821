package test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpointOf returns the ServiceName of a consumer stack's one interface endpoint.
func endpointOf(t *testing.T, tpl Template) (props map[string]any, serviceName string) {
	t.Helper()
	eps := tpl.Of("AWS::EC2::VPCEndpoint")
	require.Len(t, eps, 1)
	for _, ep := range eps {
		b, _ := json.Marshal(ep.Properties["ServiceName"])
		return ep.Properties, string(b)
	}
	return nil, ""
}

// TestConsumersReferenceTheirProvider follows each consumer of the default
// topology to the provider it references, and checks the reference kind:
// export/import in one account and region, Fn::GetStackOutput otherwise.
func TestConsumersReferenceTheirProvider(t *testing.T) {
	a := synthDefault(t)
	tests := []struct {
		consumer, provider, region string
		weak                       bool
	}{
		{"payments", "obslink-provider-eu-west-1", "eu-west-1", true},           // other account
		{"analytics", "obslink-provider-us-east-1", "us-east-1", false},         // same account and region
		{"checkout", "obslink-provider-ap-southeast-1", "ap-southeast-1", true}, // other account
	}
	for _, tt := range tests {
		t.Run(tt.consumer, func(t *testing.T) {
			tpl := a.Template(t, "obslink-consumer-"+tt.consumer)
			ep, name := endpointOf(t, tpl)
			assert.Equal(t, false, ep["PrivateDnsEnabled"])
			if tt.weak {
				assert.Contains(t, name, `"Fn::GetStackOutput"`)
				assert.Contains(t, name, fmt.Sprintf(`"StackName":"%s"`, tt.provider))
				assert.Contains(t, name, fmt.Sprintf(`"Region":"%s"`, tt.region))
				assert.Contains(t, name, `com.amazonaws.vpce.`+tt.region+`.`)
				assert.NotContains(t, name, "Fn::ImportValue")
			} else {
				assert.Contains(t, name, `"Fn::ImportValue":"`+tt.provider+`:`)
				assert.NotContains(t, name, "Fn::GetStackOutput")
			}
			// The referenced output exists in the provider stack.
			prov := a.Template(t, tt.provider)
			var outputs []string
			for k := range prov.Outputs {
				outputs = append(outputs, k)
			}
			found := false
			for _, o := range outputs {
				if strings.Contains(name, o) {
					found = true
				}
			}
			if tt.weak {
				assert.True(t, found, "no output of %s named in %s (outputs %v)", tt.provider, name, outputs)
			}
		})
	}
}

// TestPrincipalsMatchTheFile: each provider's allowed principals are exactly
// the accounts of the consumers it serves, for the default topology and every example.
func TestPrincipalsMatchTheFile(t *testing.T) {
	for _, nt := range allTopologies(t) {
		topo := nt.topo
		t.Run(nt.file, func(t *testing.T) {
			a := nt.synth(t)
			for _, r := range topo.Regions {
				tpl := a.Template(t, topo.Name+"-provider-"+r.Region)
				perms := tpl.Of("AWS::EC2::VPCEndpointServicePermissions")
				require.Len(t, perms, 1)
				var got []string
				byOU := len(topo.GroupsServedBy(r.Region)) > 0
				for _, p := range perms {
					b, _ := json.Marshal(p.Properties["AllowedPrincipals"])
					var list []any
					require.NoError(t, json.Unmarshal(b, &list))
					for _, pr := range list {
						if byOU {
							got = append(got, pr.(string))
							continue
						}
						s, _ := json.Marshal(pr)
						got = append(got, between(string(s), ":iam::", ":root"))
					}
				}
				sort.Strings(got)
				admits := topo.StackSetsEnabled()
				for _, svc := range tpl.Of("AWS::EC2::VPCEndpointService") {
					assert.Equal(t, admits, svc.Properties["AcceptanceRequired"], "%s: acceptance where the admission function admits (stacksets)", r.Region)
				}
				if admits {
					assert.Len(t, tpl.Of("Custom::ObslinkAdmitEndpointConnections"), 1, r.Region)
					assert.Len(t, tpl.Of("AWS::EC2::VPCEndpointConnectionNotification"), 1, r.Region)
					assert.Len(t, tpl.Of("AWS::Events::Rule"), 1, "%s: the admission schedule", r.Region)
				} else {
					assert.Empty(t, tpl.Of("Custom::ObslinkAdmitEndpointConnections"), r.Region)
				}
				if byOU {
					// Permissions cannot name an OU: anyone may ask, the admission function answers.
					assert.Equal(t, []string{"*"}, got, "principals of %s", r.Region)
					continue
				}
				assert.Equal(t, topo.ConsumerAccounts(r.Region), got, "principals of %s", r.Region)
			}
		})
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return s
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}

// TestConsumerVpcsGetNoRoutes: one-way traffic; obslink never adds a route
// (or an internet path) to a consumer VPC.
func TestConsumerVpcsGetNoRoutes(t *testing.T) {
	a := synthDefault(t)
	for name := range a.Stacks() {
		if !strings.Contains(name, "-consumer-") {
			continue
		}
		tpl := a.Template(t, name)
		for _, typ := range []string{"AWS::EC2::Route", "AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::VPCPeeringConnection", "AWS::EC2::TransitGatewayAttachment"} {
			assert.Empty(t, tpl.Of(typ), "%s has %s", name, typ)
		}
	}
}
