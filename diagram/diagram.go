// Package diagram draws a topology: which consumer or consumer group
// reaches which provider, how each provider reaches the cluster, and which
// StackSet deploys which consumers. Mermaid text for READMEs and
// pull requests, Graphviz DOT for an SVG.
package diagram

import (
	"fmt"
	"sort"
	"strings"

	"github.com/obslink/obslink/deployment"
	"github.com/obslink/obslink/topology"
)

type node struct{ id, label string }

type edge struct{ from, to, label string }

type group struct {
	id, label string
	nodes     []node
}

type graph struct {
	groups []group
	// edges carry traffic; deploys are what a StackSet deploys.
	edges, deploys []edge
}

func id(parts ...string) string {
	return strings.NewReplacer("-", "_", ".", "_").Replace(strings.Join(parts, "_"))
}

// build lays out t as deployment.Resolve models it: the control plane, one
// group per provider region (and the hub in tgw mode), one group per
// consumer and per consumer group, and the StackSets. The topology adds
// what only a drawing needs: the services and their ALBs, the VPCs' CIDRs,
// the gateways' ASNs.
func build(t *topology.Topology) graph {
	d := deployment.Resolve(t)
	var g graph
	cp := t.ControlPlane
	var names []string
	for _, s := range t.Services {
		names = append(names, s.Name)
	}
	control := group{id: "control", label: fmt.Sprintf("cluster · %s · %s (main region)", cp.Account, d.MainRegion)}
	control.nodes = append(control.nodes, node{"cluster", fmt.Sprintf("cluster VPC %s<br/>%s", cp.VPC.ID, cp.VPC.CIDR)})
	for _, s := range t.Services {
		alb := s.Upstream
		if d.Link == deployment.LinkNone {
			alb = s.ALBArn[strings.LastIndex(s.ALBArn, "app/")+len("app/"):] // <name>/<id>
		}
		control.nodes = append(control.nodes, node{id("alb", s.Name), fmt.Sprintf("%s ALB<br/>%s:%d", s.Name, alb, s.UpstreamPort)})
		g.edges = append(g.edges, edge{"cluster", id("alb", s.Name), ""})
	}
	if d.Link == deployment.LinkNone {
		// proxy.mode none: the endpoint service's NLB sits in the cluster VPC
		// and forwards each service's port to its ALB; no proxies, no link.
		control.nodes = append(control.nodes, node{id("svc", d.MainRegion), "endpoint service + NLB<br/>(no proxies)"})
		for _, s := range t.Services {
			g.edges = append(g.edges, edge{id("svc", d.MainRegion), id("alb", s.Name), fmt.Sprintf("port %d", s.Port)})
		}
	}
	if d.Link == string(topology.TGW) {
		control.nodes = append(control.nodes, node{"hub", fmt.Sprintf("hub Transit Gateway<br/>ASN %d", t.TransitGatewayASN(d.MainRegion))})
		g.edges = append(g.edges, edge{"hub", "cluster", "attachment"})
	}
	g.groups = append(g.groups, control)

	for _, p := range providers(t, d) {
		if p.Fleet == nil {
			continue // proxy.mode none: the cluster VPC's endpoint service, drawn above
		}
		r, _ := t.Region(p.Region)
		label := fmt.Sprintf("provider · %s · %s", p.Region, r.CIDR)
		if p.Account != cp.Account {
			label = fmt.Sprintf("provider · %s · %s · %s", p.Account, p.Region, r.CIDR)
		}
		pg := group{id: id("provider", p.Region), label: label}
		svc, proxies := id("svc", p.Region), id("proxies", p.Region)
		pg.nodes = append(pg.nodes,
			node{svc, "endpoint service + NLB"},
			node{proxies, fmt.Sprintf("nginx proxies<br/>%d-%d × %s", p.Fleet.Min, p.Fleet.Max, p.Fleet.InstanceType)})
		g.edges = append(g.edges, edge{svc, proxies, ""})
		switch d.Link {
		case string(topology.TGW):
			if p.Region == d.MainRegion {
				g.edges = append(g.edges, edge{proxies, "hub", "attachment"})
			} else {
				gw := id("tgw", p.Region)
				pg.nodes = append(pg.nodes, node{gw, fmt.Sprintf("Transit Gateway<br/>ASN %d", t.TransitGatewayASN(p.Region))})
				g.edges = append(g.edges, edge{proxies, gw, "attachment"}, edge{gw, "hub", "TGW peering"})
			}
		default:
			label := "VPC peering"
			if p.Region != d.MainRegion {
				label = "inter-region VPC peering"
			}
			g.edges = append(g.edges, edge{proxies, "cluster", label})
		}
		g.groups = append(g.groups, pg)
	}

	// tgwMesh full: a peering per pair of regions other than the main one
	// (d.Providers is sorted by region).
	if d.Link == string(topology.TGW) && t.TGWMesh == topology.MeshFull {
		var spokes []string
		for _, p := range d.Providers {
			if p.Region != d.MainRegion {
				spokes = append(spokes, p.Region)
			}
		}
		for i, a := range spokes {
			for _, b := range spokes[i+1:] {
				g.edges = append(g.edges, edge{id("tgw", b), id("tgw", a), "TGW peering (mesh)"})
			}
		}
	}

	agents := fmt.Sprintf("agents → {%s}.%s", strings.Join(names, ","), t.Domain)
	byName := map[string]topology.Consumer{}
	for _, c := range t.Consumers {
		byName[c.Name] = c
	}
	consumers := append([]deployment.Consumer(nil), d.Consumers...)
	sort.SliceStable(consumers, func(i, j int) bool { return consumers[i].Region < consumers[j].Region })
	for _, c := range consumers {
		ep := id("ep", c.Name)
		v := byName[c.Name].VPC
		vpc := "new VPC " + v.CIDR
		switch {
		case c.StackSet != "":
			vpc = "the account's VPC (SSM " + d.StackSet(c.StackSet).Parameters.VpcID + ")"
		case v.Existing():
			vpc = v.ID + " " + v.CIDR
		}
		g.groups = append(g.groups, group{id: id("consumer", c.Name), label: fmt.Sprintf("%s · %s · %s", c.Name, c.Account, c.Region),
			nodes: []node{{ep, fmt.Sprintf("%s<br/>endpoint in %s", agents, vpc)}}})
		g.edges = append(g.edges, edge{ep, id("svc", c.Provider), privateLink(c.Region, c.Provider)})
	}

	// A consumer group: every account of its OUs, in each of its regions,
	// to the provider serving that region.
	for _, cg := range d.Groups {
		ep := id("ep", cg.Name)
		ous := "OU " + cg.OrganizationalUnitIDs[0]
		if len(cg.OrganizationalUnitIDs) > 1 {
			ous = "OUs " + list(cg.OrganizationalUnitIDs)
		}
		accounts := "every account"
		if cg.ExpectedAccounts > 0 {
			accounts = fmt.Sprintf("%d accounts", cg.ExpectedAccounts)
		}
		label := fmt.Sprintf("%s in %s", accounts, strings.Join(cg.Regions, ", "))
		if n := len(cg.ExcludedAccounts); n > 0 {
			label += fmt.Sprintf("<br/>%d excluded: %s", n, list(cg.ExcludedAccounts))
		}
		label += fmt.Sprintf("<br/>%s<br/>endpoint in each account's VPC (SSM %s)", agents, cg.Parameters.VpcID)
		g.groups = append(g.groups, group{id: id("group", cg.Name), label: fmt.Sprintf("group %s · %s", cg.Name, ous), nodes: []node{{ep, label}}})
		seen := map[edge]bool{}
		for _, r := range cg.Regions {
			e := edge{ep, id("svc", providerFor(d, r)), privateLink(r, providerFor(d, r))}
			if !seen[e] {
				seen[e] = true
				g.edges = append(g.edges, e)
			}
		}
	}

	// The StackSets, in the administrator's account and the main region,
	// and what each deploys.
	for _, s := range d.Stacks {
		if s.Kind != deployment.KindStackSets {
			continue
		}
		sg := group{id: "stacksets", label: fmt.Sprintf("StackSets · %s · %s", s.Account, s.Region)}
		for _, set := range d.StackSets {
			n := id("stackset", set.ID)
			what := "the named consumers' accounts"
			if set.AutoDeployment {
				what = "the OUs' accounts, automatic deployment"
			}
			sg.nodes = append(sg.nodes, node{n, fmt.Sprintf("StackSet %s<br/>%s", set.Name, what)})
			for _, c := range consumers {
				if c.StackSet == set.Name {
					g.deploys = append(g.deploys, edge{n, id("ep", c.Name), "deploys"})
				}
			}
			for _, name := range set.Groups {
				g.deploys = append(g.deploys, edge{n, id("ep", name), "deploys"})
			}
		}
		g.groups = append(g.groups, sg)
	}
	return g
}

// providerFor is the region of the provider that serves region.
func providerFor(d *deployment.Deployment, region string) string {
	for _, p := range d.Providers {
		for _, r := range p.ServedRegions {
			if r == region {
				return p.Region
			}
		}
	}
	return region
}

// list joins up to three items, and says how many more there are.
func list(items []string) string {
	const shown = 3
	if len(items) <= shown {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:shown], ", "), len(items)-shown)
}

// privateLink labels the edge from an endpoint in region to the endpoint
// service in provider.
func privateLink(region, provider string) string {
	if region != provider {
		return "cross-region PrivateLink"
	}
	return "PrivateLink"
}

// providers are d's providers in the order of the file's regions.
func providers(t *topology.Topology, d *deployment.Deployment) []deployment.Provider {
	out := make([]deployment.Provider, 0, len(d.Providers))
	for _, r := range t.Regions {
		for _, p := range d.Providers {
			if p.Region == r.Region {
				out = append(out, p)
			}
		}
	}
	return out
}

// Mermaid returns t as a Mermaid flowchart: arrows point the way traffic
// flows, agent to cluster; dotted arrows go from a StackSet to what it
// deploys.
func Mermaid(t *topology.Topology) string {
	g := build(t)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, gr := range g.groups {
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", gr.id, gr.label)
		for _, n := range gr.nodes {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", n.id, n.label)
		}
		b.WriteString("  end\n")
	}
	for _, e := range g.edges {
		if e.label == "" {
			fmt.Fprintf(&b, "  %s --> %s\n", e.from, e.to)
		} else {
			fmt.Fprintf(&b, "  %s -- \"%s\" --> %s\n", e.from, e.label, e.to)
		}
	}
	for _, e := range g.deploys {
		fmt.Fprintf(&b, "  %s -.->|%s| %s\n", e.from, e.label, e.to)
	}
	return b.String()
}

// DOT returns t as a Graphviz digraph (render with dot -Tsvg); dashed
// edges go from a StackSet to what it deploys.
func DOT(t *topology.Topology) string {
	g := build(t)
	var b strings.Builder
	b.WriteString("digraph obslink {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, gr := range g.groups {
		fmt.Fprintf(&b, "  subgraph cluster_%s {\n    label=%q;\n", gr.id, gr.label)
		for _, n := range gr.nodes {
			fmt.Fprintf(&b, "    %s [label=%q];\n", n.id, strings.ReplaceAll(n.label, "<br/>", "\n"))
		}
		b.WriteString("  }\n")
	}
	for _, e := range g.edges {
		fmt.Fprintf(&b, "  %s -> %s [label=%q];\n", e.from, e.to, e.label)
	}
	for _, e := range g.deploys {
		fmt.Fprintf(&b, "  %s -> %s [label=%q, style=dashed];\n", e.from, e.to, e.label)
	}
	b.WriteString("}\n")
	return b.String()
}
