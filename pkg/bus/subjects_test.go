package bus

import "testing"

func TestSubjects(t *testing.T) {
	tests := []struct {
		name    string
		got     func() (string, error)
		want    string
		wantErr bool
	}{
		{"post", func() (string, error) { return PostSubject("", "weibo", "fj-gov_weibo1") }, "govwatch.post.weibo.fj-gov_weibo1", false},
		{"snapshot with prefix", func() (string, error) { return SnapshotSubject("gw-test", "wechat", "a") }, "gw-test.snapshot.wechat.a", false},
		{"probe", func() (string, error) { return ProbeSubject("govwatch", "app", "fj-app") }, "govwatch.probe.app.fj-app", false},
		{"alert", func() (string, error) { return AlertSubject("govwatch", "privacy.id_number") }, "govwatch.alert.privacy.id_number", false},
		{"upper-case account", func() (string, error) { return PostSubject("", "weibo", "FJ") }, "", true},
		{"dot in account", func() (string, error) { return PostSubject("", "weibo", "fj.gov") }, "", true},
		{"wildcard account", func() (string, error) { return PostSubject("", "weibo", "*") }, "", true},
		{"gt platform", func() (string, error) { return PostSubject("", ">", "fj") }, "", true},
		{"space", func() (string, error) { return PostSubject("", "weibo", "fj gov") }, "", true},
		{"empty account", func() (string, error) { return PostSubject("", "weibo", "") }, "", true},
		{"chinese account", func() (string, error) { return PostSubject("", "weibo", "福建") }, "", true},
		{"empty alertname", func() (string, error) { return AlertSubject("", "") }, "", true},
		{"alertname with dash", func() (string, error) { return AlertSubject("", "privacy-phone") }, "", true},
		{"alertname leading dot", func() (string, error) { return AlertSubject("", ".privacy") }, "", true},
		{"alertname double dot", func() (string, error) { return AlertSubject("", "privacy..phone") }, "", true},
		{"alertname wildcard", func() (string, error) { return AlertSubject("", "privacy.*") }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStreamNames(t *testing.T) {
	tests := []struct {
		prefix string
		kind   Kind
		want   string
	}{
		{"", KindPost, StreamPosts},
		{"govwatch", KindSnapshot, StreamSnapshots},
		{"govwatch", KindProbe, StreamProbes},
		{"govwatch", KindAlert, StreamAlerts},
		{"gw-test", KindPost, "GW-TEST_POSTS"},
	}
	for _, tt := range tests {
		if got := StreamName(tt.prefix, tt.kind); got != tt.want {
			t.Errorf("StreamName(%q, %q) = %q, want %q", tt.prefix, tt.kind, got, tt.want)
		}
	}
	if got, want := StreamSubjects("", KindAlert), "govwatch.alert.>"; got != want {
		t.Errorf("StreamSubjects = %q, want %q", got, want)
	}
}
