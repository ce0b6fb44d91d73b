package config

import (
	"fmt"
	"os"
	"strings"
)

// ReadmeSample returns the sample config the README at path shows: its first
// ```yaml block. A plugin's README holds one, and the plugin's tests load it,
// so the docs cannot show a file the code refuses.
func ReadmeSample(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	const fence = "```yaml\n"
	_, text, ok := strings.Cut(string(b), fence)
	if !ok {
		return "", fmt.Errorf("%s: no ```yaml block", path)
	}
	text, _, ok = strings.Cut(text, "```")
	if !ok {
		return "", fmt.Errorf("%s: unterminated ```yaml block", path)
	}
	return text, nil
}
