// Package pricelist builds obslink plan's price table from AWS's Price
// List Bulk API: public offer files, no credentials. An index
// (/offers/v1.0/aws/index.json on the pricing endpoint) names each
// service's region index, which names one offer file per region; refresh
// reads the files of the services plan prices (VPC endpoints and Transit
// Gateway, NLB, EC2 instances, gp3 and CPU credits, CloudWatch Logs, data
// transfer, Route 53) for every commercial region.
//
// The network is used here only: plan reads the file this writes.
package pricelist

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/obslink/obslink/internal/plan"
)

// DefaultEndpoint is AWS's pricing endpoint, which serves the offer files.
const DefaultEndpoint = "https://pricing.us-east-1.amazonaws.com"

// IndexPath is the offer index on the endpoint.
const IndexPath = "/offers/v1.0/aws/index.json"

// Options are a refresh's inputs.
type Options struct {
	// Endpoint serves the offer files: DefaultEndpoint, or a copy of them.
	Endpoint string
	// Client fetches them; nil for http.DefaultClient.
	Client *http.Client
	// Date is the day of the reading, YYYY-MM-DD (the caller's clock).
	Date string
	// Progress gets a line per offer file read; nil for none.
	Progress io.Writer
	// Parallel is how many files are read at once; 0 for 4.
	Parallel int
}

// Result is a refresh's price table and what it could not fill.
type Result struct {
	Prices *plan.Prices
	// Missing says, per item, the regions with no figure in the offer
	// files (the service is not offered there, or its file lacks the
	// product): "nlb.hour: sa-east-1, ...".
	Missing []string
	// Ambiguous names the figures left out because the offer files gave
	// two prices for one item and region.
	Ambiguous []string
	// Files is how many offer files were read.
	Files int
}

// index is the offer index (AWS Billing User Guide, "Reading the service
// index file").
type index struct {
	Offers map[string]struct {
		CurrentVersionURL     string `json:"currentVersionUrl"`
		CurrentRegionIndexURL string `json:"currentRegionIndexUrl"`
	} `json:"offers"`
}

// regionIndex is a service's region index ("Service Region index file
// for AWS services").
type regionIndex struct {
	Regions map[string]struct {
		RegionCode        string `json:"regionCode"`
		CurrentVersionURL string `json:"currentVersionUrl"`
	} `json:"regions"`
}

// job is one offer file to read.
type job struct {
	svc    service
	region string
	url    string
}

// Refresh reads the offer files and builds a price table of every
// commercial region the services' region indexes list.
func Refresh(ctx context.Context, o Options) (*Result, error) {
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	f := &fetcher{ctx: ctx, client: o.Client, endpoint: strings.TrimSuffix(o.Endpoint, "/")}
	var idx index
	if err := f.json(IndexPath, &idx); err != nil {
		return nil, err
	}
	var jobs []job
	regions := map[string]bool{}
	sources := map[string]string{}
	for _, svc := range services() {
		off, ok := idx.Offers[svc.code]
		if !ok {
			return nil, fmt.Errorf("%s: the offer index has no offer %s", f.url(IndexPath), svc.code)
		}
		if svc.global {
			sources[svc.code] = f.url(off.CurrentVersionURL)
			jobs = append(jobs, job{svc, plan.RegionGlobal, off.CurrentVersionURL})
			continue
		}
		sources[svc.code] = f.url(off.CurrentRegionIndexURL)
		var ri regionIndex
		if err := f.json(off.CurrentRegionIndexURL, &ri); err != nil {
			return nil, err
		}
		for _, code := range sortedKeys(ri.Regions) {
			if r := ri.Regions[code]; commercial(r.RegionCode) {
				regions[r.RegionCode] = true
				jobs = append(jobs, job{svc, r.RegionCode, r.CurrentVersionURL})
			}
		}
	}

	offers := make([]*offer, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Parallel)
	var progress sync.Mutex
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			offers[i], errs[i] = f.offer(j)
			if o.Progress != nil && errs[i] == nil {
				progress.Lock()
				fmt.Fprintf(o.Progress, "read %s %s (published %s)\n", j.svc.code, j.region, offers[i].publication)
				progress.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return build(o, jobs, offers, sortedKeys(regions), sources), nil
}

// build turns what the offer files gave into a price table.
func build(o Options, jobs []job, offers []*offer, regions []string, sources map[string]string) *Result {
	r := &Result{Files: len(offers)}
	p := &plan.Prices{Date: o.Date, Currency: "USD", Regions: regions, Items: map[string]*plan.PriceItem{}}
	published := map[string]string{} // offer code -> its latest file's day
	var first, last string
	for i, off := range offers {
		code := jobs[i].svc.code
		day, _, _ := strings.Cut(off.publication, "T")
		published[code] = max(published[code], day)
		if first == "" || day < first {
			first = day
		}
		last = max(last, day)
	}
	transfer := map[string]map[string]float64{}
	for i, off := range offers {
		code := jobs[i].svc.code
		for _, t := range sortedTargets(off.prices) {
			usd, ok := single(off.prices[t])
			if !ok {
				r.Ambiguous = append(r.Ambiguous, ambiguity(t, off.prices[t]))
				continue
			}
			if t.to != "" {
				if transfer[t.region] == nil {
					transfer[t.region] = map[string]float64{}
				}
				transfer[t.region][t.to] = usd
				continue
			}
			item(p, t.item, code, sources, published).Regions[t.region] = usd
		}
	}
	for _, from := range sortedKeys(transfer) {
		it := item(p, plan.ItemInterRegionGB, "AWSDataTransfer", sources, published)
		common := mostCommon(transfer[from])
		it.Regions[from] = common
		for _, to := range sortedKeys(transfer[from]) {
			if v := transfer[from][to]; v != common {
				if it.Pairs == nil {
					it.Pairs = map[string]float64{}
				}
				it.Pairs[from+">"+to] = v
			}
		}
	}
	p.Source = fmt.Sprintf("AWS Price List Bulk API, %s%s: offer files published %s to %s, read by obslink prices refresh", strings.TrimSuffix(o.Endpoint, "/"), IndexPath, first, last)

	regional, global := expected()
	sort.Strings(regional)
	for _, name := range append(regional, global...) {
		where := regions
		if slices.Contains(global, name) {
			where = []string{plan.RegionGlobal}
		}
		var lacking []string
		for _, region := range where {
			if _, ok := p.Price(name, region); !ok {
				lacking = append(lacking, region)
			}
		}
		if len(lacking) > 0 {
			r.Missing = append(r.Missing, fmt.Sprintf("%s: %s", name, strings.Join(lacking, ", ")))
		}
	}
	r.Prices = p
	return r
}

// item returns p's item name, made from the offer's metadata on first use.
func item(p *plan.Prices, name, code string, sources, published map[string]string) *plan.PriceItem {
	if it, ok := p.Items[name]; ok {
		return it
	}
	unit, how := info(name)
	it := &plan.PriceItem{
		Unit: unit, Source: sources[code], Date: published[code],
		Checked: fmt.Sprintf("read by obslink prices refresh from offer %s: %s, on-demand", code, how),
		Regions: map[string]float64{},
	}
	p.Items[name] = it
	return it
}

// single is the one price the offer files give, or false when they give
// different ones (the selection matches two products).
func single(prices []price) (float64, bool) {
	for _, p := range prices[1:] {
		if p.usd != prices[0].usd {
			return 0, false
		}
	}
	return prices[0].usd, true
}

func ambiguity(t target, prices []price) string {
	var parts []string
	for _, p := range prices {
		parts = append(parts, fmt.Sprintf("%v (SKU %s)", p.usd, p.sku))
	}
	where := t.region
	if t.to != "" {
		where += ">" + t.to
	}
	return fmt.Sprintf("%s in %s: %s", t.item, where, strings.Join(parts, ", "))
}

// mostCommon is the price most destinations get; on a tie, the higher.
func mostCommon(byDest map[string]float64) float64 {
	count := map[float64]int{}
	for _, v := range byDest {
		count[v]++
	}
	best, n := 0.0, 0
	for v, c := range count {
		if c > n || (c == n && v > best) {
			best, n = v, c
		}
	}
	return best
}

// Changes lists what differs between an old price table and a new one,
// figure by figure: "nlb.hour eu-west-1: 0.0252 -> 0.026".
func Changes(old, new *plan.Prices) []string {
	var out []string
	for _, name := range sortedKeys(union(old.Items, new.Items)) {
		var o, n plan.PriceItem
		if it := old.Items[name]; it != nil {
			o = *it
		}
		if it := new.Items[name]; it != nil {
			n = *it
		}
		out = append(out, diff(name, "", o.Regions, n.Regions)...)
		out = append(out, diff(name, "pair ", o.Pairs, n.Pairs)...)
	}
	return out
}

func diff(name, kind string, old, new map[string]float64) []string {
	var out []string
	for _, k := range sortedKeys(union(old, new)) {
		o, had := old[k]
		n, has := new[k]
		switch {
		case had && !has:
			out = append(out, fmt.Sprintf("%s %s%s: %v -> none", name, kind, k, o))
		case !had && has:
			out = append(out, fmt.Sprintf("%s %s%s: none -> %v", name, kind, k, n))
		case o != n:
			out = append(out, fmt.Sprintf("%s %s%s: %v -> %v", name, kind, k, o, n))
		}
	}
	return out
}

func union[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// Header heads a file refresh writes.
const Header = `# Prices obslink plan uses: AWS public on-demand list prices in USD, without
# tax, free tiers, Savings Plans or volume discounts (first tier only),
# written by obslink prices refresh from AWS's Price List Bulk API (the
# source below). Each item's source is the service's region index, its date
# the day its offer files were published, checked how refresh picks the
# product. A region of regions an item has no figure for is one the offer
# files do not price it in: plan names it and leaves it out of its totals.
`

// Marshal writes p as a prices file, Header first.
func Marshal(p *plan.Prices) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(Header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fetcher reads files from the pricing endpoint.
type fetcher struct {
	ctx      context.Context
	client   *http.Client
	endpoint string
}

// url is the absolute URL of a path the offer files give (they give
// paths on the endpoint).
func (f *fetcher) url(path string) string {
	if u, err := url.Parse(path); err == nil && u.IsAbs() {
		return path
	}
	return f.endpoint + path
}

func (f *fetcher) get(path string, read func(io.Reader) error) error {
	u := f.url(path)
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := read(resp.Body); err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	return nil
}

func (f *fetcher) json(path string, v any) error {
	return f.get(path, func(r io.Reader) error { return json.NewDecoder(r).Decode(v) })
}

func (f *fetcher) offer(j job) (*offer, error) {
	var o *offer
	err := f.get(j.url, func(r io.Reader) error {
		var err error
		o, err = readOffer(r, j.svc.selector(j.region))
		return err
	})
	return o, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedTargets(m map[target][]price) []target {
	keys := make([]target, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.item != b.item {
			return a.item < b.item
		}
		if a.region != b.region {
			return a.region < b.region
		}
		return a.to < b.to
	})
	return keys
}
