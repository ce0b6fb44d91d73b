package channeltest

import (
	"encoding/json"
	"strings"
	"testing"
)

// JSON is v encoded, so that a decoded body and a wanted value compare as
// text.
func JSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Field is the value at a dotted path ("markdown.title") in a decoded JSON
// object; nil when the last key is absent. The test fails when a step
// before it is not an object.
func Field(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", path, v)
		}
		v = m[k]
	}
	return v
}
