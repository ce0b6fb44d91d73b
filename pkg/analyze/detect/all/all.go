// Package all is the set of built-in detectors: importing it registers
// each one (pkg/plugin). Adding a detector adds one line here.
package all
