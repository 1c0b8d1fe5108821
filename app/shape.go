package app

import (
	"crypto/sha256"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A template's shape is what a check of the template can see once the
// values that only name the stack are set aside: the template text with the
// stack's account id, its construct path and the names of what it holds
// (a consumer's name) replaced by placeholders, and each IPv4 CIDR replaced
// by its rank of first appearance, its prefix length, its kind (private or
// not) and how it relates to every other CIDR of the template (contains,
// is contained, overlaps nothing). Two templates of one shape and one region
// differ only in values of the same format, the same length limits and the
// same relations: what the checks read of them (syntax, patterns, the
// relations between resources, the region's zones) is the same. A
// placeholder drops the length of the value it stands for: that holds while
// every such value is far inside each limit a check may apply to it
// (topology names are at most 31 characters, account ids 12 digits, the
// longest tag value holding a stack path about 100 of 256). See
// docs/benchmarks.md, Work per template shape.
type shape [sha256.Size]byte

// identity is the values of one stack that a shape sets aside.
type identity struct {
	// path is the stack's construct path (its id, a part of its tags).
	path string
	// account is the stack's account id.
	account string
	// names are what the stack holds that is named in the topology (a
	// consumer's name), as it appears in descriptions.
	names []string
}

var reCIDR = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}\b`)

// shapeOf returns the shape of a template of the stack id, in region.
func shapeOf(template []byte, id identity, region string) shape {
	text := string(template)
	// Longest first, so that a name inside the stack's path goes with the path.
	values := append([]string{id.path, id.account}, id.names...)
	sort.SliceStable(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	pairs := make([]string, 0, 2*len(values))
	for i, v := range values {
		if v != "" {
			pairs = append(pairs, v, "\x00v"+strconv.Itoa(i)+"\x00")
		}
	}
	text = strings.NewReplacer(pairs...).Replace(text)

	var cidrs []netip.Prefix
	rank := map[string]int{}
	text = reCIDR.ReplaceAllStringFunc(text, func(s string) string {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Bits() == 0 { // not a CIDR; or open to every address: keep as written
			return s
		}
		r, ok := rank[s]
		if !ok {
			r = len(cidrs)
			rank[s] = r
			cidrs = append(cidrs, p.Masked())
		}
		kind := "public"
		if p.Addr().IsPrivate() {
			kind = "private"
		}
		return "\x00cidr" + strconv.Itoa(r) + "/" + strconv.Itoa(p.Bits()) + "/" + kind + "\x00"
	})
	var b strings.Builder
	b.WriteString(region)
	b.WriteByte(0)
	for i, a := range cidrs {
		for j, c := range cidrs {
			if i != j && a.Overlaps(c) {
				// Overlapping prefixes nest: the shorter contains the longer.
				b.WriteString(strconv.Itoa(i) + "~" + strconv.Itoa(j) + ",")
			}
		}
	}
	b.WriteByte(0)
	b.WriteString(text)
	return sha256.Sum256([]byte(b.String()))
}

// shapes computes the shapes of an assembly's templates, each once: the
// validator and cdk-nag's plan read the same ones.
type shapes struct {
	// names are the topology's names held by each stack, by construct path.
	names map[string][]string
	mu    sync.Mutex
	known map[string]shape
}

func newShapes(names map[string][]string) *shapes {
	return &shapes{names: names, known: map[string]shape{}}
}

// of returns the shape of the template at path, of the stack at the
// construct path stack, in account and region.
func (s *shapes) of(path, stack, account, region string) (shape, error) {
	s.mu.Lock()
	sh, ok := s.known[path]
	s.mu.Unlock()
	if ok {
		return sh, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return shape{}, err
	}
	sh = shapeOf(b, s.identity(stack, account), region)
	s.mu.Lock()
	s.known[path] = sh
	s.mu.Unlock()
	return sh, nil
}

// identity is what shapes set aside of the stack at the construct path
// stack, in account.
func (s *shapes) identity(stack, account string) identity {
	return identity{path: stack, account: account, names: s.names[stack]}
}
