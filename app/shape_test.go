package app

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// consumerTemplate is a consumer's template, cut down, with what names it.
func consumerTemplate(name, account, vpc, subnet, allowed string) []byte {
	return []byte(strings.NewReplacer("NAME", name, "ACCOUNT", account, "VPC", vpc, "SUBNET", subnet, "ALLOWED", allowed).Replace(`{
 "Description": "obslink consumer NAME (topology bench)",
 "Resources": {
  "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "VPC", "Tags": [{"Key": "Name", "Value": "bench-consumer-NAME/Consumer/Vpc"}]}},
  "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "SUBNET", "AvailabilityZone": "eu-west-1a"}},
  "Ingress": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"CidrIp": "ALLOWED", "Description": "agents in ALLOWED"}},
  "Bucket": {"Type": "Custom::X", "Properties": {"S3Bucket": "cdk-hnb659fds-assets-ACCOUNT-eu-west-1"}}
 }
}`))
}

func TestShapes(t *testing.T) {
	id := func(name, account string) identity {
		return identity{path: "bench-consumer-" + name, account: account, names: []string{name}}
	}
	base := shapeOf(consumerTemplate("c0001", "200000000001", "10.1.16.0/20", "10.1.16.0/21", "10.1.16.0/20"), id("c0001", "200000000001"), "eu-west-1")
	tests := []struct {
		name     string
		template []byte
		id       identity
		region   string
		same     bool
	}{
		{"another consumer, account and range", consumerTemplate("c0042", "200000000042", "10.3.160.0/20", "10.3.160.0/21", "10.3.160.0/20"), id("c0042", "200000000042"), "eu-west-1", true},
		{"a name of another length", consumerTemplate("payments", "200000000042", "10.3.160.0/20", "10.3.160.0/21", "10.3.160.0/20"), id("payments", "200000000042"), "eu-west-1", true},
		{"another region", consumerTemplate("c0042", "200000000042", "10.3.160.0/20", "10.3.160.0/21", "10.3.160.0/20"), id("c0042", "200000000042"), "us-east-1", false},
		{"another prefix length", consumerTemplate("c0042", "200000000042", "10.3.0.0/16", "10.3.0.0/17", "10.3.0.0/16"), id("c0042", "200000000042"), "eu-west-1", false},
		{"open to every address", consumerTemplate("c0042", "200000000042", "10.3.160.0/20", "10.3.160.0/21", "0.0.0.0/0"), id("c0042", "200000000042"), "eu-west-1", false},
		{"a public range", consumerTemplate("c0042", "200000000042", "10.3.160.0/20", "10.3.160.0/21", "203.0.113.0/20"), id("c0042", "200000000042"), "eu-west-1", false},
		{"a subnet outside the VPC", consumerTemplate("c0042", "200000000042", "10.3.160.0/20", "10.4.160.0/21", "10.3.160.0/20"), id("c0042", "200000000042"), "eu-west-1", false},
		{"allowed range not the VPC's", consumerTemplate("c0042", "200000000042", "10.3.160.0/20", "10.3.160.0/21", "10.9.160.0/20"), id("c0042", "200000000042"), "eu-west-1", false},
		{"another account in a resource", consumerTemplate("c0042", "300000000000", "10.3.160.0/20", "10.3.160.0/21", "10.3.160.0/20"), id("c0042", "200000000042"), "eu-west-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shapeOf(tt.template, tt.id, tt.region)
			assert.Equal(t, tt.same, got == base)
		})
	}
}
