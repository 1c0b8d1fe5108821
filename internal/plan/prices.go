package plan

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PriceFile is where the price table shipped with obslink lives in the
// repository (embedded in the binary): plan uses it unless --prices names
// another, and `obslink prices refresh` rewrites it by default.
const PriceFile = "internal/plan/prices.yaml"

//go:embed prices.yaml
var pricesYAML []byte

// Price items plan reads; ec2 items are "ec2." plus the instance type,
// surplus CPU credits "burstable." plus the family plus ".surplusVCPUHour".
const (
	ItemEndpointHour  = "privatelink.endpointHour"
	ItemEndpointGB    = "privatelink.dataGB"
	ItemNLBHour       = "nlb.hour"
	ItemNLCUHour      = "nlb.nlcuHour"
	ItemTGWAttachment = "tgw.attachmentHour"
	ItemTGWGB         = "tgw.dataGB"
	ItemInterRegionGB = "transfer.interRegionGB"
	ItemCrossZoneGB   = "transfer.crossZoneGB"
	ItemGP3           = "ebs.gp3GBMonth"
	ItemZoneMonth     = "route53.zoneMonth"
	ItemLogsIngestGB  = "cloudwatch.logsIngestGB"
	// RegionGlobal is the region of items AWS prices once for all
	// regions (Route 53 hosted zones).
	RegionGlobal = "global"
)

// ItemEC2 is the price item of an instance type's on-demand hour.
func ItemEC2(instanceType string) string { return "ec2." + instanceType }

// ItemSurplus is the price item of the surplus CPU credits a burstable
// family in unlimited mode bills, per vCPU-hour.
func ItemSurplus(family string) string { return "burstable." + family + ".surplusVCPUHour" }

// Prices is a price table: for each item, its unit, source and the value
// in each region. A company's own file has the same form, or gives
// Discounts on the shipped table.
type Prices struct {
	// Date is when the figures were read or agreed (YYYY-MM-DD).
	Date     string `yaml:"date"`
	Currency string `yaml:"currency"`
	// Source says where the figures come from, in a line.
	Source string `yaml:"source"`
	// Regions are the regions the file was written for. A region listed
	// here that an item has no figure for is named by plan as unpriced.
	Regions []string              `yaml:"regions,omitempty"`
	Items   map[string]*PriceItem `yaml:"items,omitempty"`
	// Discounts are percentages off, per item name or per prefix ending
	// in * ("ec2.*", "*"): the most specific one applies. They apply to
	// the file's own items, or to the shipped table when it has none.
	Discounts map[string]float64 `yaml:"discounts,omitempty"`

	// Name is the file the table was read from (not part of the file).
	Name string `yaml:"-"`
	// Base is the table Discounts were applied to, when the file gives no
	// items of its own.
	Base *Prices `yaml:"-"`
}

// PriceItem is one priced dimension (an endpoint-hour, a GB processed, ...).
type PriceItem struct {
	Unit    string             `yaml:"unit"`
	Source  string             `yaml:"source"`
	Date    string             `yaml:"date"`
	Checked string             `yaml:"checked"`
	Regions map[string]float64 `yaml:"regions"`
	// Pairs override Regions for one sending and receiving region, written
	// "from>to" (inter-region transfer).
	Pairs map[string]float64 `yaml:"pairs,omitempty"`
}

// EmbeddedPrices returns the price table shipped with obslink (PriceFile).
func EmbeddedPrices() (*Prices, error) { return ParsePrices(PriceFile, pricesYAML) }

// LoadPrices reads the price table in file.
func LoadPrices(file string) (*Prices, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParsePrices(file, data)
}

// ParsePrices reads a price table; name is used in errors and in plan's
// report. Unknown keys, items without a unit, source or date, negative
// prices and discounts that are not a percentage or match no item are
// errors, all named at once with their line. A file with discounts and no
// items gets them applied to the shipped table.
func ParsePrices(name string, data []byte) (*Prices, error) {
	var p Prices
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.Name = name
	at := func(path ...string) string {
		return fmt.Sprintf("%s:%d: %s", name, line(&root, path...), strings.Join(path, "."))
	}

	var problems []string
	if len(p.Items) == 0 && len(p.Discounts) == 0 {
		problems = append(problems, fmt.Sprintf("%s:1: the file has neither items (prices, as in %s) nor discounts (percentages off them, such as discounts: {ec2.*: 28})", name, PriceFile))
	}
	if p.Date == "" {
		problems = append(problems, fmt.Sprintf("%s:1: date is missing; add date: YYYY-MM-DD, when the figures were read or agreed", name))
	}
	for _, key := range sortedKeys(p.Items) {
		it := p.Items[key]
		if it == nil {
			problems = append(problems, at("items", key)+": the item is empty; give unit, source, date, checked and regions")
			continue
		}
		for _, f := range []struct{ field, value string }{{"unit", it.Unit}, {"source", it.Source}, {"date", it.Date}} {
			if f.value == "" {
				problems = append(problems, at("items", key)+fmt.Sprintf(": %s.%s is missing; add it", key, f.field))
			}
		}
		for _, region := range sortedKeys(it.Regions) {
			if v := it.Regions[region]; v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				problems = append(problems, at("items", key, "regions", region)+fmt.Sprintf(": %v is not a price; give one of 0 or more", v))
			}
		}
		for _, pair := range sortedKeys(it.Pairs) {
			if from, to, ok := strings.Cut(pair, ">"); !ok || from == "" || to == "" || it.Pairs[pair] < 0 {
				problems = append(problems, at("items", key, "pairs", pair)+": write from>to: price, with a price of 0 or more")
			}
		}
	}
	base := &p
	if len(p.Items) == 0 && len(p.Discounts) > 0 {
		shipped, err := EmbeddedPrices()
		if err != nil {
			return nil, err
		}
		base, p.Base = shipped, shipped
	}
	for _, key := range sortedKeys(p.Discounts) {
		d := p.Discounts[key]
		if d < 0 || d > 100 || math.IsNaN(d) {
			problems = append(problems, at("discounts", key)+fmt.Sprintf(": %v is not a percentage; give one from 0 to 100, such as %s: 28", d, key))
		}
		if !base.matches(key) {
			problems = append(problems, at("discounts", key)+fmt.Sprintf(": matches no item of %s; use an item name (%s) or a prefix ending in * (ec2.*)", base.Name, strings.Join(firstN(sortedKeys(base.Items), shownNames), ", ")))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	if len(p.Discounts) > 0 {
		p.Items = base.discounted(p.Discounts)
		if len(p.Regions) == 0 {
			p.Regions = base.Regions
		}
	}
	return &p, nil
}

// line is the line of the node at path in a YAML document, or of the
// deepest part of it that exists.
func line(root *yaml.Node, path ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	at := n.Line
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				at, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return at
}

// matches reports whether a discount key names an item of p.
func (p *Prices) matches(key string) bool {
	for item := range p.Items {
		if discountApplies(key, item) {
			return true
		}
	}
	return false
}

// discountApplies reports whether a discount key (an item name, or a
// prefix ending in *) covers item.
func discountApplies(key, item string) bool {
	if prefix, ok := strings.CutSuffix(key, "*"); ok {
		return strings.HasPrefix(item, prefix)
	}
	return key == item
}

// discount is the percentage off item: its own key's, else the longest
// matching prefix's, else 0.
func discount(discounts map[string]float64, item string) float64 {
	best, off := -1, 0.0
	for key, d := range discounts {
		if !discountApplies(key, item) {
			continue
		}
		score := len(key)
		if key == item {
			score = math.MaxInt
		}
		if score > best {
			best, off = score, d
		}
	}
	return off
}

// discounted returns p's items with discounts applied.
func (p *Prices) discounted(discounts map[string]float64) map[string]*PriceItem {
	out := map[string]*PriceItem{}
	for key, it := range p.Items {
		f := 1 - discount(discounts, key)/100
		c := *it
		c.Regions = map[string]float64{}
		for r, v := range it.Regions {
			c.Regions[r] = v * f
		}
		if it.Pairs != nil {
			c.Pairs = map[string]float64{}
			for pair, v := range it.Pairs {
				c.Pairs[pair] = v * f
			}
		}
		out[key] = &c
	}
	return out
}

// Describe says in a line which table this is: its file, date and source,
// and for discounts the table they apply to.
func (p *Prices) Describe() string {
	s := fmt.Sprintf("%s, dated %s", p.Name, p.Date)
	if p.Source != "" {
		s += ": " + p.Source
	}
	if len(p.Discounts) > 0 {
		var parts []string
		for _, key := range sortedKeys(p.Discounts) {
			parts = append(parts, fmt.Sprintf("%s %s %%", key, num(p.Discounts[key])))
		}
		on := "its own items"
		if p.Base != nil {
			on = fmt.Sprintf("%s (dated %s)", p.Base.Name, p.Base.Date)
		}
		s += fmt.Sprintf("; discounts %s off %s", strings.Join(parts, ", "), on)
	}
	return s
}

// Price is item's price in region, or false when the table has none.
func (p *Prices) Price(item, region string) (float64, bool) {
	it, ok := p.Items[item]
	if !ok {
		return 0, false
	}
	v, ok := it.Regions[region]
	return v, ok
}

// InterRegion is the price of a GB sent from one region to another: the
// pair's, else the sending region's; false when the table has neither.
func (p *Prices) InterRegion(from, to string) (float64, bool) {
	if it, ok := p.Items[ItemInterRegionGB]; ok {
		if v, ok := it.Pairs[from+">"+to]; ok {
			return v, true
		}
	}
	return p.Price(ItemInterRegionGB, from)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return append(list[:n:n], "...")
	}
	return list
}
