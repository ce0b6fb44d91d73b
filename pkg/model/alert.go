package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// AlertPublisher sends alerts: the bus. Publishing the same alert twice
// (same fingerprint, start and state) is harmless: the bus drops the
// repeat and reports it as a duplicate.
type AlertPublisher interface {
	PublishAlert(ctx context.Context, a *Alert) (duplicate bool, err error)
}

// Severities, from least to most urgent.
const (
	SeverityInfo     = "info"
	SeverityMinor    = "minor"
	SeverityMajor    = "major"
	SeverityCritical = "critical"
)

// SeverityRank orders severities; unknown ones rank below info.
func SeverityRank(s string) int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityMinor:
		return 2
	case SeverityMajor:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// MinSeverityRank reads the threshold of `govwatch check` and its HTTP
// API: minor (also for ""), major or critical, as a SeverityRank.
func MinSeverityRank(s string) (int, error) {
	switch s {
	case "":
		return SeverityRank(SeverityMinor), nil
	case SeverityMinor, SeverityMajor, SeverityCritical:
		return SeverityRank(s), nil
	}
	return 0, fmt.Errorf("%q: want minor, major or critical", strings.TrimSpace(s))
}

// Well-known label and annotation names.
const (
	LabelAlertname   = "alertname"
	LabelSeverity    = "severity"
	LabelAccountID   = "account_id"
	LabelAccountName = "account_name"
	LabelPlatform    = "platform"
	LabelUnit        = "unit"
	LabelRegion      = "region"
	LabelPostID      = "post_id"

	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationEvidence    = "evidence"
	AnnotationURL         = "url"
	AnnotationSuggestion  = "suggestion"
	AnnotationAckURL      = "ack_url"
	AnnotationUnitName    = "unit_name" // the unit's name, for people; the unit label is its id
)

// LabelSet is an alert's identity.
type LabelSet map[string]string

// Fingerprint is the hex SHA-256 over the sorted label pairs, the first 16
// bytes of it, as a stable identity of an alert across components.
func (ls LabelSet) Fingerprint() string {
	names := make([]string, 0, len(ls))
	for k := range ls {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(ls[k]))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Alert has the shape of Alertmanager's alerts, so its tools and receivers fit.
// An alert whose EndsAt is zero or in the future is firing; otherwise resolved.
type Alert struct {
	Labels       LabelSet          `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// Name is the alertname label, which is the category.
func (a *Alert) Name() string { return a.Labels[LabelAlertname] }

// Fingerprint identifies the alert by its labels.
func (a *Alert) Fingerprint() string { return a.Labels.Fingerprint() }

// Resolved reports whether the alert had ended at time now.
func (a *Alert) Resolved(now time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(now)
}
