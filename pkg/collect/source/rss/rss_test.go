package rss

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
)

func TestSampleConfig(t *testing.T) {
	var cfg struct {
		Registry struct {
			Units    []map[string]string
			Accounts []struct {
				ID, Name, Platform, Unit string
				Source                   struct{ Type, URL, Interval string }
			}
		}
	}
	sourcetest.Sample(t, &cfg)
	if got := cfg.Registry.Accounts[0].Source; got.Type != "rss" || got.URL == "" {
		t.Errorf("got source %+v, want type rss and a url", got)
	}
}
