package pricelist

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// An offer file (a service's prices in one region, or everywhere) is one
// JSON object (AWS Billing User Guide, "Reading the service price list file
// for an AWS service"):
//
//	{"formatVersion": "v1.0", "offerCode": "AWSELB", "version": "...", "publicationDate": "...",
//	 "products": {SKU: {"sku", "productFamily", "attributes": {name: value}}},
//	 "terms": {"OnDemand": {SKU: {SKU.offerTermCode: {"priceDimensions":
//	     {rateCode: {"unit", "beginRange", "endRange", "pricePerUnit": {"USD": "0.0225"}}}}}},
//	           "Reserved": {...}}}
//
// The EC2 files run to hundreds of megabytes, so readOffer streams it: it
// keeps the products a selector wants and the on-demand terms of those.

// product is an offer file's product.
type product struct {
	SKU           string            `json:"sku"`
	ProductFamily string            `json:"productFamily"`
	Attributes    map[string]string `json:"attributes"`
}

// term is an offer file's term of one SKU (on-demand: one per SKU).
type term struct {
	PriceDimensions map[string]struct {
		Unit         string            `json:"unit"`
		BeginRange   string            `json:"beginRange"`
		PricePerUnit map[string]string `json:"pricePerUnit"`
	} `json:"priceDimensions"`
}

// target is where a product's price goes: an item of plan's price table
// in a region, and for inter-region transfer the receiving region.
type target struct {
	item, region, to string
}

// price is a figure an offer file gives for a target.
type price struct {
	usd float64
	sku string
}

// offer is what readOffer keeps of an offer file.
type offer struct {
	publication string
	prices      map[target][]price
}

// readOffer reads an offer file from r, keeping the first-tier USD
// on-demand price of every product selector maps to a target.
func readOffer(r io.Reader, selector func(product) (target, bool)) (*offer, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	o := &offer{prices: map[target][]price{}}
	wanted := map[string]target{}
	seenProducts := false
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return nil, err
		}
		switch key {
		case "publicationDate":
			if err := dec.Decode(&o.publication); err != nil {
				return nil, fmt.Errorf("publicationDate: %w", err)
			}
		case "products":
			seenProducts = true
			if err := eachEntry(dec, func(sku string) error {
				var p product
				if err := dec.Decode(&p); err != nil {
					return fmt.Errorf("products.%s: %w", sku, err)
				}
				if t, ok := selector(p); ok {
					wanted[sku] = t
				}
				return nil
			}); err != nil {
				return nil, err
			}
		case "terms":
			if !seenProducts {
				return nil, fmt.Errorf("terms come before products; obslink reads offer files with products first, as AWS writes them")
			}
			if err := eachEntry(dec, func(termType string) error {
				return eachEntry(dec, func(sku string) error {
					t, ok := wanted[sku]
					if termType != "OnDemand" || !ok {
						return skip(dec)
					}
					var terms map[string]term
					if err := dec.Decode(&terms); err != nil {
						return fmt.Errorf("terms.OnDemand.%s: %w", sku, err)
					}
					usd, err := firstTier(terms)
					if err != nil {
						return fmt.Errorf("terms.OnDemand.%s: %w", sku, err)
					}
					o.prices[t] = append(o.prices[t], price{usd: usd, sku: sku})
					return nil
				})
			}); err != nil {
				return nil, err
			}
		default:
			if err := skip(dec); err != nil {
				return nil, err
			}
		}
	}
	if !seenProducts {
		return nil, fmt.Errorf("no products: not an offer file")
	}
	return o, nil
}

// firstTier is the USD price of the first tier (beginRange 0, or the
// lowest) of an on-demand term.
func firstTier(terms map[string]term) (float64, error) {
	type dim struct {
		begin float64
		usd   string
	}
	var dims []dim
	for _, t := range terms {
		for _, d := range t.PriceDimensions {
			begin, err := strconv.ParseFloat(d.BeginRange, 64)
			if d.BeginRange == "" {
				begin, err = 0, nil
			}
			if err != nil {
				return 0, fmt.Errorf("beginRange %q: %w", d.BeginRange, err)
			}
			usd, ok := d.PricePerUnit["USD"]
			if !ok {
				return 0, fmt.Errorf("no USD price")
			}
			dims = append(dims, dim{begin, usd})
		}
	}
	if len(dims) == 0 {
		return 0, fmt.Errorf("no price dimensions")
	}
	sort.Slice(dims, func(i, j int) bool { return dims[i].begin < dims[j].begin })
	v, err := strconv.ParseFloat(dims[0].usd, 64)
	if err != nil {
		return 0, fmt.Errorf("pricePerUnit USD %q: %w", dims[0].usd, err)
	}
	return v, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

func objectKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("want an object key, got %v", tok)
	}
	return key, nil
}

// eachEntry calls f for each key of the object that comes next; f reads
// the key's value.
func eachEntry(dec *json.Decoder, f func(key string) error) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		key, err := objectKey(dec)
		if err != nil {
			return err
		}
		if err := f(key); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

// skip reads past the value that comes next.
func skip(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

// billingCodes are the region codes AWS writes before a usage type
// ("EUW2-LoadBalancerUsage"): AWS Regions and Zones guide, "AWS Region
// billing codes". us-east-1's usage types have USE1 or no code at all.
var billingCodes = map[string]string{
	"us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2",
	"ca-central-1": "CAN1", "ca-west-1": "CAN2", "mx-central-1": "MXC1", "af-south-1": "AFS1",
	"ap-east-1": "APE1", "ap-east-2": "APE2", "ap-northeast-1": "APN1", "ap-northeast-2": "APN2",
	"ap-northeast-3": "APN3", "ap-southeast-1": "APS1", "ap-southeast-2": "APS2", "ap-south-1": "APS3",
	"ap-southeast-3": "APS4", "ap-south-2": "APS5", "ap-southeast-4": "APS6", "ap-southeast-5": "APS7",
	"ap-southeast-6": "APS8", "ap-southeast-7": "APS9", "eu-central-1": "EUC1", "eu-central-2": "EUC2",
	"eu-north-1": "EUN1", "eu-south-1": "EUS1", "eu-south-2": "EUS2", "eu-west-1": "EU",
	"eu-west-2": "EUW2", "eu-west-3": "EUW3", "il-central-1": "ILC1", "me-central-1": "MEC1",
	"me-south-1": "MES1", "sa-east-1": "SAE1",
}

// usageBase is a usage type of region without the region's billing code:
// "EUW2-LoadBalancerUsage" in eu-west-2 is "LoadBalancerUsage". Anything
// else before the dimension stays ("EUW2-TS-LoadBalancerUsage", a trust
// store's; "USE1-LAX1-BoxUsage:t4g.small", a Local Zone's), so it matches
// no dimension; so does every usage type of a region missing from
// billingCodes but an unprefixed one.
func usageBase(usageType, region string) string {
	if code, ok := billingCodes[region]; ok {
		if rest, ok := strings.CutPrefix(usageType, code+"-"); ok {
			return rest
		}
	}
	return usageType
}
