package topology

import (
	"fmt"
	"math/bits"
	"net/netip"
	"regexp"
	"strings"
)

// Addresses a provider subnet must hold, per zone (Elastic Load Balancing,
// PrivateLink and Transit Gateway documentation).
const (
	// ReservedPerSubnet are the addresses AWS reserves in every subnet.
	ReservedPerSubnet = 5
	// NLBFreePerSubnet are the free addresses an NLB needs in each of its subnets.
	NLBFreePerSubnet = 8
	// InterfaceEndpoints are the interface endpoints of a provider VPC (ssm,
	// ssmmessages, ec2messages, logs, cloudformation, and ec2 with proxy
	// protocol): one network interface per zone each.
	InterfaceEndpoints = 6
)

// InterfaceEndpoints is how many interface endpoints a provider VPC has.
func (t *Topology) InterfaceEndpoints() int {
	if t.Proxy.Attribution() {
		return InterfaceEndpoints
	}
	return InterfaceEndpoints - 1
}

var reZoneID = regexp.MustCompile(`^([a-z]+[0-9]+)-az[0-9]+$`)

// ZoneIDPrefix is the prefix of region's availability-zone ids: use1 for
// us-east-1, apse2 for ap-southeast-2, usgw1 for us-gov-west-1.
func ZoneIDPrefix(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return ""
	}
	dirs := zoneDirections()
	out := parts[0]
	mid := parts[1 : len(parts)-1]
	if len(mid) == 2 && mid[0] == "gov" {
		out += "g"
		mid = mid[1:]
	}
	if len(mid) != 1 || dirs[mid[0]] == "" {
		return ""
	}
	return out + dirs[mid[0]] + parts[len(parts)-1]
}

// zoneDirections are the directions of region names, with their letters in
// zone ids.
func zoneDirections() map[string]string {
	return map[string]string{"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
}

var reZoneIDPrefix = regexp.MustCompile(`^([a-z]{2})(g?)([a-z]{1,2})([0-9]+)$`)

// zoneIDRegion returns the region whose zone ids have prefix (eu-west-1
// for euw1, us-gov-west-1 for usgw1), "" when prefix is no region's.
func zoneIDRegion(prefix string) string {
	m := reZoneIDPrefix.FindStringSubmatch(prefix)
	if m == nil {
		return ""
	}
	for dir := range zoneDirections() {
		region := m[1] + "-" + dir + "-" + m[4]
		if m[2] != "" {
			region = m[1] + "-gov-" + dir + "-" + m[4]
		}
		if ZoneIDPrefix(region) == prefix {
			return region
		}
	}
	return ""
}

// IsZoneID reports whether z is an availability-zone id (use1-az1) rather
// than a name (us-east-1a). Names map to different zones in each account;
// ids name the same zone everywhere.
func IsZoneID(z string) bool { return reZoneID.MatchString(z) }

// zones checks a list of availability zones of region: names (us-east-1a)
// or ids (use1-az1), not both. A name must be the region's followed by a
// letter, an id must have the region's prefix; obslink has no table of the
// zones each region has, so use1-az9 passes and AWS refuses it at deploy.
// It reports whether the list is usable.
func (v *validator) zones(path, region string, zones []string, min int) bool {
	ok := true
	if len(zones) < min {
		v.add(path, "has %d zone(s); list at least %d availability zone(s) of %s, such as %sa, %sb (names) or %s-az1, %s-az2 (zone ids)",
			len(zones), min, orDefault(region, "the region"), region, region, ZoneIDPrefix(region), ZoneIDPrefix(region))
		ok = false
	}
	seen := map[string]bool{}
	names, ids := 0, 0
	for i, z := range zones {
		p := fmt.Sprintf("%s[%d]", path, i)
		isName := len(z) == len(region)+1 && strings.HasPrefix(z, region) && z[len(z)-1] >= 'a' && z[len(z)-1] <= 'z'
		m := reZoneID.FindStringSubmatch(z)
		if m != nil {
			ids++
		} else if isName {
			names++
		}
		own, other := m != nil && m[1] == ZoneIDPrefix(region), ""
		if m != nil && !own {
			other = zoneIDRegion(m[1])
		}
		switch {
		case own || isName:
		case other != "":
			v.add(p, "%q is a zone id of %s, not of %s; list zones of %s, such as %s-az1, %s-az2 (zone ids) or %sa, %sb (names)",
				z, other, region, region, ZoneIDPrefix(region), ZoneIDPrefix(region), region, region)
			ok = false
		default:
			v.add(p, "%q is not an availability zone of %s; use a zone name (%sa) or, better across accounts, a zone id (%s-az1)", z, region, region, ZoneIDPrefix(region))
			ok = false
		}
		if seen[z] {
			v.add(p, "%q is listed twice; list each zone once", z)
			ok = false
		}
		seen[z] = true
	}
	if ids > 0 && names > 0 {
		v.add(path, "mixes zone names and zone ids; use one kind in a list (zone ids, such as %s-az1, name the same zone in every account)", ZoneIDPrefix(region))
		ok = false
	}
	return ok
}

// ProviderZoneNeeds is the number of addresses each zone's subnet of the
// provider in region must have free, and what they are for: the NLB's 8,
// one per Systems Manager endpoint, the Transit Gateway attachment's (tgw),
// and the proxies at 2 x maxCapacity during an instance refresh
// (MaxHealthyPercentage 200), spread over the zones with one zone out.
func (t *Topology) ProviderZoneNeeds(zones int) (int, string) {
	instances := 2 * t.Proxy.Max()
	spread := max(zones-1, 1)
	perZone := (instances + spread - 1) / spread
	endpoints, names := t.InterfaceEndpoints(), "Systems Manager, CloudWatch Logs, CloudFormation"
	if t.Proxy.Attribution() {
		names += ", EC2"
	}
	need := NLBFreePerSubnet + endpoints + perZone
	why := fmt.Sprintf("%d for the NLB, %d for the interface endpoints (%s), %d for proxies (2 x maxCapacity %d during an instance refresh, over %d zone(s) with one zone out)",
		NLBFreePerSubnet, endpoints, names, perZone, t.Proxy.Max(), spread)
	if t.InterRegion == TGW {
		need++
		why += ", 1 for the Transit Gateway attachment"
	}
	return need, why
}

// subnetCapacity checks that the provider VPC's CIDR, split into one subnet
// per zone (rounded up to a power of two, as the VPC is built), leaves each
// subnet the addresses it needs.
func (v *validator) subnetCapacity(path string, t *Topology, r Region) {
	p, err := netip.ParsePrefix(r.CIDR)
	if err != nil || !p.Addr().Is4() {
		return // reported by the CIDR check
	}
	split := bits.Len(uint(len(r.AvailabilityZones) - 1))
	mask := p.Bits() + split
	if mask > 28 {
		v.add(path, "%q is too small for %d zones: each zone's subnet would be smaller than /28; use a /%d or larger", r.CIDR, len(r.AvailabilityZones), 28-split)
		return
	}
	need, why := t.ProviderZoneNeeds(len(r.AvailabilityZones))
	free := 1<<(32-mask) - ReservedPerSubnet
	if free >= need {
		return
	}
	want := mask
	for want > 16 && 1<<(32-want)-ReservedPerSubnet < need {
		want--
	}
	v.add(path, "%q gives each of %d zones a /%d with %d usable addresses, but each zone needs %d: %s; use a /%d or larger, or fewer zones or a smaller maxCapacity",
		r.CIDR, len(r.AvailabilityZones), mask, free, need, why, want-split)
}
