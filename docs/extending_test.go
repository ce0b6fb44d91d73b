package docs

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	// exampleHead is a walkthrough's heading: ## A channel — `wecom_app` in `pkg/notify/channel/wecomapp`
	exampleHead = regexp.MustCompile("(?m)^## An? ([a-z]+) — `([a-z0-9_]+)` in `([a-z0-9_/]+)`$")
	// repoPath is a backticked path of the repository named in the text.
	repoPath = regexp.MustCompile("`((?:pkg|cmd|docs|configs|deployments)/[A-Za-z0-9_./-]*)`")
)

// allPackages are the built-in sets, by kind, that register each plugin.
var allPackages = map[string]string{
	"source":   "pkg/collect/source/all",
	"detector": "pkg/analyze/detect/all",
	"channel":  "pkg/notify/channel/all",
}

// TestExtendingWalkthroughs holds extending.md to the code: every file and
// folder it names exists, each kind has a worked example, and each example
// plugin is imported by its kind's built-in set alone, so its folder and
// that one line are the only places that name it.
func TestExtendingWalkthroughs(t *testing.T) {
	b, err := os.ReadFile("extending.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, m := range repoPath.FindAllStringSubmatch(text, -1) {
		p := strings.TrimSuffix(m[1], "/")
		if _, err := os.Stat("../" + p); err != nil {
			t.Errorf("extending.md names %s, which does not exist", m[1])
		}
	}

	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	importers := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, module) {
				importers[strings.TrimPrefix(imp, module)] = append(importers[strings.TrimPrefix(imp, module)], strings.TrimPrefix(f[0], module))
			}
		}
	}

	seen := map[string]bool{}
	for _, m := range exampleHead.FindAllStringSubmatch(text, -1) {
		kind, name, folder := m[1], m[2], m[3]
		seen[kind] = true
		all, ok := allPackages[kind]
		if !ok {
			t.Errorf("extending.md: unknown kind %q", kind)
			continue
		}
		if got := importers[folder]; !slices.Equal(got, []string{all}) {
			t.Errorf("the %s %s (%s) is imported by %v, want by %s alone", kind, name, folder, got, all)
		}
		reg, err := os.ReadFile("../" + all + "/all.go")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(reg), `"`+module+folder+`"`); n != 1 {
			t.Errorf("%s/all.go names %s %d times, want one line", all, folder, n)
		}
		src, err := exec.Command("grep", "-rlF", `"`+name+`"`, "../"+folder).Output()
		if err != nil || len(src) == 0 {
			t.Errorf("the %s %s does not register under the name %q in %s", kind, name, name, folder)
		}
	}
	for kind := range allPackages {
		if !seen[kind] {
			t.Errorf("extending.md has no worked example of a %s (a heading \"## A %s — `name` in `folder`\")", kind, kind)
		}
	}
}
