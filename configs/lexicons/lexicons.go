// Package lexicons embeds the default lexicons shipped in this directory, so
// `govwatch check` and the analyzer work from any directory without
// configuration. A deployment points analyzer.lexicons (or --lexicons) at
// its own directory of the same files to replace them.
package lexicons

import "embed"

// FS holds the *.txt files of this directory.
//
//go:embed *.txt
var FS embed.FS
