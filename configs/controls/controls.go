// Package controls embeds the control corpus: real government writing (work
// reports, laws and regulations), one sentence a line, each file headed by
// its source and licence. `govwatch lexicon import` runs a list over it and
// leaves out the terms that fire on ordinary government text; the content
// checks' corpus test holds them to no finding at major or above on it.
package controls

import "embed"

// FS holds the *.txt files of this directory.
//
//go:embed *.txt
var FS embed.FS
