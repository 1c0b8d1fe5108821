package app

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/obslink/obslink/internal/assembly"
	"github.com/obslink/obslink/stacks"
	"github.com/obslink/obslink/topology"
)

// addNag applies the cdk-nag AwsSolutions checks to every stack of a.
func addNag(a awscdk.App) {
	awscdk.Aspects_Of(a).Add(newNagPack(), nil)
}

func newNagPack() cdknag.AwsSolutionsChecks {
	return cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
		Reports: jsii.Bool(false),
	})
}

// nagPlan is which consumer stacks cdk-nag checks when it checks one
// consumer stack per template shape. cdk-nag's rules read a resource's
// properties as the template holds them, and the other resources of its
// stack: what it finds on a stack follows from the stack's template, and a
// template of the same shape holds the same resources, properties and
// relations, with other names, account ids and CIDRs of the same kind
// (shapeOf). The plan guesses the shapes from the topology before
// synthesis; covers checks the guess against the templates.
type nagPlan struct {
	// checked are the consumer stacks cdk-nag checks; skipped the others, by id.
	checked, skipped []string
}

// addNagPerShape applies the AwsSolutions checks to every stack of set but
// the consumer stacks whose inputs, names, account and CIDRs set aside,
// match a consumer stack checked before them.
func addNagPerShape(t *topology.Topology, set *stacks.Set) *nagPlan {
	pack := newNagPack()
	consumers := map[awscdk.Stack]bool{}
	for _, c := range set.Consumers {
		consumers[c.Stack] = true
	}
	for _, s := range set.All() {
		if !consumers[s] {
			awscdk.Aspects_Of(s).Add(pack, nil)
		}
	}
	plan := &nagPlan{}
	seen := map[string]bool{}
	for _, c := range t.Consumers {
		cs, ok := set.Consumers[c.Name]
		if !ok {
			continue
		}
		id := stacks.ConsumerStackName(t, c.Name)
		if k := consumerKey(t, c); seen[k] {
			plan.skipped = append(plan.skipped, id)
			continue
		} else {
			seen[k] = true
		}
		plan.checked = append(plan.checked, id)
		awscdk.Aspects_Of(cs.Stack).Add(pack, nil)
	}
	return plan
}

// consumerKey is what of c decides its stack's template, but for the values
// a shape sets aside: the guess of addNagPerShape.
func consumerKey(t *topology.Topology, c topology.Consumer) string {
	kind := func(cidr string) string {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return cidr
		}
		return fmt.Sprintf("%d/%t", p.Bits(), p.Addr().IsPrivate())
	}
	var allowed []string
	for _, a := range c.AllowedCIDRs {
		allowed = append(allowed, kind(a)+"/"+fmt.Sprint(a == c.VPC.CIDR))
	}
	return fmt.Sprint(c.Region, t.ProviderRegionFor(c.Region), c.Account == t.ControlPlane.ProviderAccountID(),
		c.VPC.Existing(), len(c.VPC.SubnetIDs), c.VPC.AvailabilityZones, kind(c.VPC.CIDR), allowed, len(c.AssociatedVPCIDs))
}

// covers reports whether the checks of the stacks in the plan stand for the
// skipped ones in the assembly in dir: every skipped stack's template is of
// the shape of a checked stack's, and no checked consumer stack carries a
// finding (an error, warning or note in its metadata), which its shape's
// skipped stacks would miss.
func (p *nagPlan) covers(dir string, shapes *shapes) (bool, error) {
	if len(p.skipped) == 0 {
		return true, nil
	}
	m, err := assembly.ReadManifest(dir)
	if err != nil {
		return false, err
	}
	shapeOfStack := func(id string) (shape, error) {
		a, ok := m.Artifacts[id]
		if !ok {
			return shape{}, fmt.Errorf("stack %s is not in the assembly", id)
		}
		account, region := a.Env()
		return shapes.of(filepath.Join(dir, a.Properties.TemplateFile), id, account, region)
	}
	checked := map[shape]bool{}
	for _, id := range p.checked {
		a := m.Artifacts[id]
		entries := a.Metadata
		if a.AdditionalMetadataFile != "" {
			b, err := os.ReadFile(filepath.Join(dir, a.AdditionalMetadataFile))
			if err == nil {
				err = json.Unmarshal(b, &entries)
			}
			if err != nil {
				return false, err
			}
		}
		for _, list := range entries {
			for _, e := range list {
				if e.Type == "aws:cdk:error" || e.Type == "aws:cdk:warning" || e.Type == "aws:cdk:info" {
					return false, nil
				}
			}
		}
		s, err := shapeOfStack(id)
		if err != nil {
			return false, err
		}
		checked[s] = true
	}
	for _, id := range p.skipped {
		s, err := shapeOfStack(id)
		if err != nil {
			return false, err
		}
		if !checked[s] {
			return false, nil
		}
	}
	return true, nil
}
