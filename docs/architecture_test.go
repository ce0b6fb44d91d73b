// Package docs holds the tests that keep the documents in this folder true
// to the code.
package docs

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/govwatch/govwatch/"

// layer is one numbered layer of architecture.md.
type layer struct {
	rank     int
	name     string
	patterns []string
}

var (
	layerHead = regexp.MustCompile(`^(\d+)\. \*\*([a-z]+)\*\*`)
	backtick  = regexp.MustCompile("`([a-z0-9_./*-]+)`")
)

// readLayers parses the "## Layers" section of architecture.md.
func readLayers(t *testing.T) []layer {
	t.Helper()
	f, err := os.Open("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []layer
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "## Layers":
			in = true
			continue
		case in && strings.HasPrefix(line, "## "):
			in = false
		}
		if !in {
			continue
		}
		if m := layerHead.FindStringSubmatch(line); m != nil {
			out = append(out, layer{rank: len(out) + 1, name: m[2]})
			line = line[len(m[0]):]
		}
		if len(out) == 0 {
			continue
		}
		for _, m := range backtick.FindAllStringSubmatch(line, -1) {
			if strings.HasPrefix(m[1], "pkg/") || strings.HasPrefix(m[1], "cmd/") || m[1] == "deployments" || strings.HasPrefix(m[1], "configs/") {
				out[len(out)-1].patterns = append(out[len(out)-1].patterns, m[1])
			}
		}
	}
	if len(out) < 3 {
		t.Fatalf("architecture.md: found %d layers under ## Layers, want the list", len(out))
	}
	return out
}

// place returns the layer of pkg and the pattern that placed it: the
// longest pattern that matches.
func place(layers []layer, pkg string) (*layer, string) {
	var best *layer
	bestPat := ""
	for i := range layers {
		for _, p := range layers[i].patterns {
			if matches(p, pkg) && len(p) > len(bestPat) {
				best, bestPat = &layers[i], p
			}
		}
	}
	return best, bestPat
}

func matches(pattern, pkg string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/*"); ok {
		rest, found := strings.CutPrefix(pkg, dir+"/")
		return found && rest != "" && !strings.Contains(rest, "/")
	}
	return pattern == pkg
}

type pkgInfo struct {
	path, name string
	imports    []string
}

func listPackages(t *testing.T) []pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Name}} {{join .Imports \" \"}}", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkgInfo
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		p := pkgInfo{path: strings.TrimPrefix(f[0], module), name: f[1]}
		for _, imp := range f[2:] {
			if strings.HasPrefix(imp, module) {
				p.imports = append(p.imports, strings.TrimPrefix(imp, module))
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// testHelper reports whether a package exists for tests only.
func testHelper(p pkgInfo) bool { return strings.HasSuffix(p.name, "test") }

// TestLayers fails on an import that runs back up the layers of
// architecture.md, on a plugin importing another plugin, and on a package
// the document does not place.
func TestLayers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the packages")
	}
	layers := readLayers(t)
	pkgs := listPackages(t)
	helpers := map[string]bool{}
	for _, p := range pkgs {
		if testHelper(p) {
			helpers[p.path] = true
		}
	}
	used := map[string]bool{}
	for _, p := range pkgs {
		if helpers[p.path] || p.path == "docs" {
			continue
		}
		l, pat := place(layers, p.path)
		if l == nil {
			t.Errorf("%s: not placed in any layer of architecture.md", p.path)
			continue
		}
		used[pat] = true
		for _, imp := range p.imports {
			if helpers[imp] {
				t.Errorf("%s imports the test helper %s", p.path, imp)
				continue
			}
			il, ipat := place(layers, imp)
			switch {
			case il == nil:
				// reported as a package of its own
			case il.rank > l.rank:
				t.Errorf("%s (%s) imports %s (%s), a layer above it", p.path, l.name, imp, il.name)
			case strings.HasSuffix(pat, "/*") && ipat == pat && !strings.HasSuffix(p.path, "/all"):
				t.Errorf("%s imports %s: a plugin imports no other plugin; move what they share below them", p.path, imp)
			}
		}
	}
	for _, l := range layers {
		for _, pat := range l.patterns {
			if !used[pat] {
				t.Errorf("architecture.md places %s in %s, but no package matches it", pat, l.name)
			}
		}
	}
}
