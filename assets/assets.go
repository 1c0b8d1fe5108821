// Package assets embeds the files obslink ships to instances: the nginx
// configuration template, the upstream re-resolver and the user data. The
// constructs and the tests render them through the same code, so what is
// tested is what ships.
package assets

import "embed"

// FS holds nginx/ and userdata/.
//
//go:embed nginx userdata
var FS embed.FS
