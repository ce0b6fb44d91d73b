package rss

import (
	"bytes"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
)

func TestSampleConfig(t *testing.T) {
	sample := sourcetest.Sample(t)
	var cfg struct {
		Registry struct {
			Units    []map[string]string
			Accounts []struct {
				ID, Name, Platform, Unit string
				Source                   struct{ Type, URL, Interval string }
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(sample))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registry.Accounts[0].Source; got.Type != "rss" || got.URL == "" {
		t.Errorf("got source %+v, want type rss and a url", got)
	}
}
