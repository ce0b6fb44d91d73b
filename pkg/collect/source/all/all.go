// Package all is the set of built-in sources: importing it registers each
// one (pkg/plugin). Adding a source adds one line here.
package all
