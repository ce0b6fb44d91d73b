// Package all is the set of built-in channels: importing it registers each
// one (pkg/plugin). Adding a channel adds one line here.
package all
