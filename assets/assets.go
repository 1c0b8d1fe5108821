// Package assets embeds the files obslink ships to instances: the nginx
// configuration template, the upstream re-resolver and the user data. The
// constructs and the tests render them through the same code, so what is
// tested is what ships.
package assets

import "embed"

// FS holds nginx/, userdata/, the Transit Gateway peering handler
// tgw/accept_peering.py and the endpoint-connection handler
// endpoints/revoke_connections.py.
//
//go:embed nginx userdata tgw/accept_peering.py endpoints/revoke_connections.py endpoints/admit_connections.py
var FS embed.FS
