package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/internal/cfndiff"
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// deployedStack is a stack that exists in some account and region.
type deployedStack struct {
	Name    string
	Account string // "" when the input named the stack only
	Region  string
	// Topology is the stack's obslink:topology tag, "" when unknown.
	Topology string
}

var reStackArn = regexp.MustCompile(`^arn:aws[a-z-]*:cloudformation:([a-z0-9-]+):([0-9]{12}):stack/([A-Za-z][A-Za-z0-9-]*)/`)
var reStackName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

// readDeployed parses what the operator pasted: the JSON of
// `aws cloudformation describe-stacks` (one or more documents, one per
// account and region), or one stack ARN or stack name per line.
func readDeployed(name string, r io.Reader) ([]deployedStack, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return readDescribeStacks(name, trimmed)
	}
	var out []deployedStack
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if m := reStackArn.FindStringSubmatch(s); m != nil {
			out = append(out, deployedStack{Name: m[3], Region: m[1], Account: m[2]})
			continue
		}
		if !reStackName.MatchString(s) {
			return nil, fmt.Errorf("%s:%d: %q is neither a stack ARN nor a stack name; give one per line, or the JSON of aws cloudformation describe-stacks", name, line, s)
		}
		out = append(out, deployedStack{Name: s})
	}
	return out, nil
}

func readDescribeStacks(name string, data []byte) ([]deployedStack, error) {
	var out []deployedStack
	dec := json.NewDecoder(bytes.NewReader(data))
	for doc := 1; dec.More(); doc++ {
		var v struct {
			Stacks []struct {
				StackName string `json:"StackName"`
				StackId   string `json:"StackId"`
				Tags      []struct {
					Key   string `json:"Key"`
					Value string `json:"Value"`
				} `json:"Tags"`
			} `json:"Stacks"`
		}
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: JSON document %d: %v; give the output of aws cloudformation describe-stacks --output json", name, doc, err)
		}
		for _, s := range v.Stacks {
			d := deployedStack{Name: s.StackName}
			if m := reStackArn.FindStringSubmatch(s.StackId); m != nil {
				d.Region, d.Account = m[1], m[2]
			}
			for _, tag := range s.Tags {
				if tag.Key == "obslink:topology" {
					d.Topology = tag.Value
				}
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// deleteRank orders deletions so no stack goes before one that depends on
// it: consumers, mesh and control plane, providers, hub, accepter.
func deleteRank(t *topology.Topology, name string) int {
	switch {
	case strings.HasPrefix(name, t.Name+"-consumer-"):
		return 0
	case strings.HasPrefix(name, t.Name+"-mesh-"), name == stacks.ControlPlaneStackName(t):
		return 1
	case strings.HasPrefix(name, t.Name+"-provider-"):
		return 2
	case name == stacks.HubStackName(t):
		return 3
	}
	return 4
}

// belongs reports whether a deployed stack is one of this topology's: its
// obslink:topology tag says so, or (without tags) its name has the shape
// of one of the topology's stacks.
func belongs(t *topology.Topology, d deployedStack) bool {
	if d.Topology != "" {
		return d.Topology == t.Name
	}
	p := t.Name + "-"
	for _, kind := range []string{"consumer-", "provider-", "mesh-"} {
		if strings.HasPrefix(d.Name, p+kind) {
			return true
		}
	}
	return d.Name == stacks.ControlPlaneStackName(t) || d.Name == stacks.HubStackName(t) || d.Name == stacks.AccepterStackName(t)
}

// diffStacks prints the deployed stacks of t that t no longer has, in an
// order that deletes dependents first, with the command to delete each.
// It returns 0 when there is none, 3 when there are some.
func diffStacks(t *topology.Topology, deployed []deployedStack, stdout io.Writer) int {
	model := deployment.Resolve(t)
	want := map[string]deployment.Stack{}
	for _, s := range model.Stacks {
		want[s.Name] = s
	}
	// A stack is wanted when the file has its name in the same account and
	// region (where the input tells them): a consumer that moved region
	// leaves its old stack behind under the same name.
	wanted := func(d deployedStack) bool {
		p, ok := want[d.Name]
		return ok && (d.Account == "" || d.Account == p.Account) && (d.Region == "" || d.Region == p.Region)
	}
	var gone []deployedStack
	seen := map[deployedStack]bool{}
	for _, d := range deployed {
		if belongs(t, d) && !wanted(d) && !seen[d] {
			seen[d] = true
			gone = append(gone, d)
		}
	}
	if len(gone) == 0 {
		fmt.Fprintf(stdout, "obslink: every deployed stack of topology %s is in the file (%d checked)\n", t.Name, len(deployed))
		return 0
	}
	sort.Slice(gone, func(i, j int) bool {
		a, b := deleteRank(t, gone[i].Name), deleteRank(t, gone[j].Name)
		if a != b {
			return a < b
		}
		return gone[i].Name < gone[j].Name
	})
	fmt.Fprintf(stdout, "obslink: %d deployed stack(s) of topology %s are no longer in the file; delete them in this order, each with credentials of its account:\n", len(gone), t.Name)
	for _, d := range gone {
		where := ""
		region := d.Region
		if d.Account != "" {
			where = " (account " + d.Account + ")"
		}
		if region == "" {
			region = "<region>"
		}
		fmt.Fprintf(stdout, "  aws cloudformation delete-stack --stack-name %s --region %s%s\n", d.Name, region, where)
	}
	for _, d := range gone {
		if t.Proxyless() && d.Name == stacks.ControlPlaneStackName(t) {
			// It imports the old provider's peering id, which the proxyless
			// provider stack no longer exports: CloudFormation refuses the
			// provider's update while the import exists.
			fmt.Fprintf(stdout, "proxy.mode none: delete %s BEFORE you deploy the provider stack (it imports an output the proxyless provider no longer has; see docs/modes/proxy.md, Proxyless).\n", d.Name)
			return 3
		}
	}
	blocked := false
	for _, d := range gone {
		imports, exportsGone := providerImports(t, model, d)
		for _, text := range cfndiff.DeleteFirst(imports, exportsGone) {
			fmt.Fprintf(stdout, "%s: %s.\n", d.Name, text)
			blocked = true
		}
	}
	if blocked {
		fmt.Fprintln(stdout, "Then deploy the providers: a removed consumer's endpoint connections are rejected by the provider's update, so deleting the other stacks only tidies up.")
		return 3
	}
	fmt.Fprintln(stdout, "Deploy the providers first: a removed consumer's endpoint connections are rejected by the provider's update, so deleting its stack only tidies up.")
	return 3
}

// providerImports returns what the deployed consumer stack d, which t no
// longer has, imported with Fn::ImportValue, and which of those exports t's
// stacks no longer have, with the stack that exported it; the form of
// cfndiff.DeleteFirst, read from the deployment model since the deployed
// templates are not at hand. A consumer stack in the account and region of
// its provider reads the endpoint service by Fn::ImportValue (a weak
// reference elsewhere); the provider exports it while one consumer stack of
// the file is still there.
func providerImports(t *topology.Topology, model *deployment.Deployment, d deployedStack) (imports []string, gone map[string]string) {
	if deleteRank(t, d.Name) != 0 || d.Name == deployment.GroupStackSetName(t) || d.Account == "" || d.Region == "" {
		return nil, nil
	}
	region := t.ProviderRegionFor(d.Region)
	provider := deployment.ProviderStackName(t, region)
	if !slices.Contains(model.Stacks, deployment.Stack{Name: provider, Account: d.Account, Region: d.Region, Kind: deployment.KindProvider}) {
		return nil, nil // a weak reference, or the provider goes too
	}
	export := "the endpoint service of " + provider
	for _, c := range model.Consumers {
		if c.StackSet == "" && c.Account == d.Account && c.Region == d.Region && c.Provider == region {
			return []string{export}, nil
		}
	}
	return []string{export}, map[string]string{export: provider}
}
