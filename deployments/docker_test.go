package deployments

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildStage is what the Dockerfile's build stage does: the paths it copies
// from the context (to the same place under WORKDIR) and its go build
// command line, with the shell's line continuations joined.
type buildStage struct {
	copies []string // context paths, e.g. "go.mod", "pkg/"
	build  string   // the RUN line holding "go build"
}

// readBuildStage reads the first stage of a Dockerfile up to its next FROM.
func readBuildStage(t *testing.T, path string) buildStage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		st      buildStage
		line    string
		inStage bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || text == "" && line == "" {
			continue
		}
		if cont, ok := strings.CutSuffix(text, "\\"); ok {
			line += cont + " "
			continue
		}
		line += text
		fields := strings.Fields(line)
		line = ""
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			if inStage {
				return st
			}
			inStage = true
		case "COPY":
			args := fields[1:]
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				if strings.HasPrefix(args[0], "--from") {
					t.Fatalf("%s: the build stage copies from another stage: %v", path, fields)
				}
				args = args[1:]
			}
			if len(args) < 2 {
				t.Fatalf("%s: COPY without a source and a destination: %v", path, fields)
			}
			st.copies = append(st.copies, args[:len(args)-1]...)
		case "RUN":
			if strings.Contains(strings.Join(fields, " "), "go build") {
				st.build = strings.Join(fields[1:], " ")
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDockerBuildStage replays the Dockerfile's build stage without Docker:
// only the paths its COPY lines name go into an empty folder, and its go
// build command runs there (offline, from the module cache). A package that
// imports or embeds something the image does not copy fails here as it
// would in `docker build`.
func TestDockerBuildStage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command")
	}
	st := readBuildStage(t, "Dockerfile")
	if st.build == "" {
		t.Fatal("Dockerfile: no RUN … go build in the build stage")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range st.copies {
		src := filepath.Join(root, filepath.Clean(c))
		if _, err := os.Stat(src); err != nil {
			t.Fatalf("Dockerfile copies %s: %v", c, err)
		}
		if out, err := exec.Command("cp", "-R", src, filepath.Join(dir, filepath.Clean(c))).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", c, err, out)
		}
	}
	// The build line, its variables set as the stage's defaults (VERSION=dev)
	// and its output under the temporary folder; the shell runs what follows
	// it (mkdir) too.
	script := strings.ReplaceAll(st.build, "/out/", filepath.Join(dir, "out")+"/")
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VERSION=dev", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build stage does not build with only %v copied:\n%s\n%v\n%s", st.copies, script, err, out)
	}
	for _, bin := range []string{"govwatch", "collector", "analyzer", "notifier"} {
		if _, err := os.Stat(filepath.Join(dir, "out", "bin", bin)); err != nil {
			t.Errorf("the build stage made no %s: %v", bin, err)
		}
	}
}

// TestReadBuildStage: the reader sees the copies and the joined build line,
// and stops at the next stage, so a COPY dropped from the build stage
// is noticed.
func TestReadBuildStage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "Dockerfile")
	text := "FROM golang AS build\n# a comment\nCOPY go.mod go.sum ./\nCOPY --chown=1:1 pkg/ pkg/\nRUN go mod download\nRUN CGO_ENABLED=0 go build \\\n   -o /out/bin/ ./cmd/... \\\n && mkdir -p /out/data\nFROM scratch\nCOPY configs/ /usr/share/\n"
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	st := readBuildStage(t, f)
	if strings.Join(st.copies, " ") != "go.mod go.sum pkg/" {
		t.Errorf("copies %v, want go.mod go.sum pkg/ (not the final stage's configs/)", st.copies)
	}
	if st.build != "CGO_ENABLED=0 go build -o /out/bin/ ./cmd/... && mkdir -p /out/data" {
		t.Errorf("build %q", st.build)
	}
}
