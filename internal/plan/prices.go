package plan

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PriceFile is where the embedded price table lives in the repository:
// errors name it so that a missing region or type can be added.
const PriceFile = "internal/plan/prices.yaml"

//go:embed prices.yaml
var pricesYAML []byte

// Price items plan reads; ec2 items are "ec2." plus the instance type.
const (
	itemEndpointHour    = "privatelink.endpointHour"
	itemEndpointGB      = "privatelink.dataGB"
	itemNLBHour         = "nlb.hour"
	itemNLCUHour        = "nlb.nlcuHour"
	itemTGWAttachment   = "tgw.attachmentHour"
	itemTGWGB           = "tgw.dataGB"
	itemInterRegionGB   = "transfer.interRegionGB"
	itemGP3             = "ebs.gp3GBMonth"
	itemZoneMonth       = "route53.zoneMonth"
	itemCrossZoneGB     = "transfer.crossZoneGB"
	itemLogsIngestGB    = "cloudwatch.logsIngestGB"
	itemSurplusVCPUHour = "burstable.surplusVCPUHour"
	regionGlobal        = "global"
)

// Prices is a price table: for each item, its unit, source and the value
// in each region.
type Prices struct {
	// Date is when the figures were read (YYYY-MM-DD).
	Date     string                `yaml:"date"`
	Currency string                `yaml:"currency"`
	Items    map[string]*PriceItem `yaml:"items"`
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
	Pairs map[string]float64 `yaml:"pairs"`
}

// EmbeddedPrices returns the price table shipped with obslink (PriceFile).
func EmbeddedPrices() (*Prices, error) { return ParsePrices(PriceFile, pricesYAML) }

// ParsePrices reads a price table; name is used in errors. Unknown keys,
// items without a unit, source or date, and negative prices are errors.
func ParsePrices(name string, data []byte) (*Prices, error) {
	var p Prices
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var problems []string
	for _, key := range sortedKeys(p.Items) {
		it := p.Items[key]
		if it == nil {
			problems = append(problems, fmt.Sprintf("%s: item is empty", key))
			continue
		}
		for field, v := range map[string]string{"unit": it.Unit, "source": it.Source, "date": it.Date} {
			if v == "" {
				problems = append(problems, fmt.Sprintf("%s.%s is missing", key, field))
			}
		}
		for where, v := range it.Regions {
			if v < 0 {
				problems = append(problems, fmt.Sprintf("%s.regions.%s: %v is negative", key, where, v))
			}
		}
		for pair, v := range it.Pairs {
			if from, to, ok := strings.Cut(pair, ">"); !ok || from == "" || to == "" || v < 0 {
				problems = append(problems, fmt.Sprintf("%s.pairs.%s: write from>to: price, with a price of 0 or more", key, pair))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%s: %s", name, strings.Join(problems, "; "))
	}
	return &p, nil
}

// get is the price of item in region, or an error naming the item, the
// region, the price file and the page to read the figure from.
func (p *Prices) get(item, region string) (float64, error) {
	it, ok := p.Items[item]
	if !ok {
		return 0, fmt.Errorf("%s has no item %s; add it (unit, source, date, regions) from the AWS pricing page", PriceFile, item)
	}
	v, ok := it.Regions[region]
	if !ok {
		return 0, fmt.Errorf("%s has no %s price for region %s; add %s's figure to %s (from %s)", PriceFile, item, region, region, PriceFile, it.Source)
	}
	return v, nil
}

// interRegion is the price of a GB sent from one region to another: the
// pair's, else the sending region's.
func (p *Prices) interRegion(from, to string) (float64, error) {
	if it, ok := p.Items[itemInterRegionGB]; ok {
		if v, ok := it.Pairs[from+">"+to]; ok {
			return v, nil
		}
	}
	return p.get(itemInterRegionGB, from)
}

// ec2 is the hourly price of instanceType in region.
func (p *Prices) ec2(instanceType, region string) (float64, error) {
	item := "ec2." + instanceType
	if _, ok := p.Items[item]; !ok {
		var known []string
		for _, k := range sortedKeys(p.Items) {
			if t, ok := strings.CutPrefix(k, "ec2."); ok {
				known = append(known, t)
			}
		}
		return 0, fmt.Errorf("%s has no on-demand price for instance type %s; add an item ec2.%s (from https://aws.amazon.com/ec2/pricing/on-demand/), or use a type it prices: %s",
			PriceFile, instanceType, instanceType, strings.Join(known, ", "))
	}
	return p.get(item, region)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
