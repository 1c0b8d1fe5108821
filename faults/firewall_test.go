package faults

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// firewall is a packet filter in the suite's network namespace (nftables,
// programmed over netlink): it makes ALB addresses refuse connections (a
// TCP reset for every packet sent to them, as a host with nothing
// listening answers) or drop every packet to and from them (a blackhole:
// connections hang until a timeout).
type firewall struct {
	conn  *nftables.Conn
	table *nftables.Table
	chain *nftables.Chain
}

func newFirewall(t *testing.T) *firewall {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatalf("nftables: %v", err)
	}
	f := &firewall{conn: c}
	f.table = c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: "obslink_faults"})
	f.chain = c.AddChain(&nftables.Chain{Name: "input", Table: f.table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	if err := c.Flush(); err != nil {
		t.Fatalf("nftables: %v", err)
	}
	t.Cleanup(func() {
		c.DelTable(f.table)
		_ = c.Flush()
	})
	return f
}

// match is the expressions that match TCP packets whose address and port
// at offset (12: source, 16: destination; ports at 0 and 2) are ap's.
func match(ap netip.AddrPort, source bool) []expr.Any {
	addrOff, portOff := uint32(16), uint32(2)
	if source {
		addrOff, portOff = 12, 0
	}
	a := ap.Addr().As4()
	port := binary.BigEndian.AppendUint16(nil, ap.Port())
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: addrOff, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: portOff, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: port},
	}
}

// refuse answers every TCP packet sent to the addresses with a reset.
func (f *firewall) refuse(t *testing.T, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		exprs := append(match(netip.MustParseAddrPort(a), false), &expr.Reject{Type: unix.NFT_REJECT_TCP_RST})
		f.conn.AddRule(&nftables.Rule{Table: f.table, Chain: f.chain, Exprs: exprs})
	}
	f.flush(t)
}

// blackhole drops every TCP packet to and from the addresses.
func (f *firewall) blackhole(t *testing.T, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		ap := netip.MustParseAddrPort(a)
		for _, source := range []bool{false, true} {
			exprs := append(match(ap, source), &expr.Verdict{Kind: expr.VerdictDrop})
			f.conn.AddRule(&nftables.Rule{Table: f.table, Chain: f.chain, Exprs: exprs})
		}
	}
	f.flush(t)
}

// clear removes every rule: the addresses are reachable again.
func (f *firewall) clear(t *testing.T) {
	t.Helper()
	f.conn.FlushChain(f.chain)
	f.flush(t)
}

func (f *firewall) flush(t *testing.T) {
	t.Helper()
	if err := f.conn.Flush(); err != nil {
		t.Fatalf("nftables: %v", err)
	}
}
