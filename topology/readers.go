package topology

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// TrustPolicyQuota is IAM's default limit on a role trust policy, in
// characters (whitespace not counted); a quota increase raises it to 4,096 at most.
const TrustPolicyQuota = 2048

// BootstrapQualifier is the CDK bootstrap qualifier obslink's stacks deploy
// with (the CDK default): it names each account's CloudFormation execution role.
const BootstrapQualifier = "hnb659fds"

// Env is an account and region.
type Env struct {
	Account string
	Region  string
}

// Partition is the AWS partition of region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ExecRoleArn is the CloudFormation execution role of the CDK bootstrap in
// e: the role every stack deploy in e runs as.
func (e Env) ExecRoleArn() string {
	return fmt.Sprintf("arn:%s:iam::%s:role/cdk-%s-cfn-exec-role-%s-%s", Partition(e.Region), e.Account, BootstrapQualifier, e.Account, e.Region)
}

// OutputReaders returns the environments whose stacks read outputs of the
// provider in region from another account (Fn::GetStackOutput through a
// role; a stack of the provider's own account in another region reads with
// its own execution role): its consumers and the control plane outside the
// provider's account. Sorted.
func (t *Topology) OutputReaders(region string) []Env {
	cp := t.ControlPlane
	prov := Env{cp.ProviderAccountID(), region}
	seen := map[Env]bool{}
	add := func(e Env) {
		if e.Account != prov.Account {
			seen[e] = true
		}
	}
	for _, c := range t.Consumers {
		if t.ProviderRegionFor(c.Region) == region {
			add(Env{c.Account, c.Region})
		}
	}
	add(Env{cp.Account, cp.Region})
	out := make([]Env, 0, len(seen))
	for e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Region < out[j].Region
	})
	return out
}

// ExplicitReaderTrustChars is the size, resolved and without whitespace, of
// the trust policy that lists every reader of the provider in region by its
// execution role: CDK's output-reader role, used when the topology has no
// organizationId. 0 when nothing reads across environments.
func (t *Topology) ExplicitReaderTrustChars(region string) int {
	readers := t.OutputReaders(region)
	if len(readers) == 0 {
		return 0
	}
	arns := make([]string, len(readers))
	for i, e := range readers {
		arns[i] = e.ExecRoleArn()
	}
	var principal any = arns
	if len(arns) == 1 {
		principal = arns[0]
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"AWS": principal}, "Action": []string{"sts:AssumeRole"},
		}},
	}
	b, _ := json.Marshal(doc)
	return len(b)
}

// readerTrust refuses, without an organizationId, a provider whose
// output-reader trust policy would pass IAM's quota.
func (v *validator) readerTrust(t *Topology) {
	if t.ControlPlane.OrganizationID != "" {
		return
	}
	for i, r := range t.Regions {
		n := t.ExplicitReaderTrustChars(r.Region)
		if n <= TrustPolicyQuota {
			continue
		}
		accounts := map[string]bool{}
		for _, e := range t.OutputReaders(r.Region) {
			accounts[e.Account] = true
		}
		v.add(fmt.Sprintf("regions[%d].region", i),
			"%q: the provider is read by %d CloudFormation execution roles (%d accounts), and the trust policy that lists them is %d characters, over IAM's %d-character quota for trust policies (4,096 at most after an increase), so its deploy would fail; set controlPlane.organizationId (o-...) to trust the organization in constant size instead",
			r.Region, len(t.OutputReaders(r.Region)), len(accounts), n, TrustPolicyQuota)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
