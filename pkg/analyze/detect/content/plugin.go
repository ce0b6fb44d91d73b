package content

import (
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
)

// Categories are what the content detector raises: every category the
// textscan engine finds. The lexicons (analyzer.lexicons) may set a term's
// severity; these are the defaults.
var Categories = []model.Category{
	{ID: model.CategorySecretMarking, Name: "涉密：涉密标识", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedPolitical, Name: "违禁内容：反动、颠覆、分裂、危害国家安全", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedViolence, Name: "违禁内容：暴力恐怖", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedPorn, Name: "违禁内容：色情", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedGambling, Name: "违禁内容：赌博", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedCult, Name: "违禁内容：邪教", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryPrivacyIDNumber, Name: "隐私泄露：公民身份号码", Severity: model.SeverityMajor},
	{ID: model.CategoryPrivacyPhone, Name: "隐私泄露：手机号码", Severity: model.SeverityMajor},
	{ID: model.CategoryPrivacyBankCard, Name: "隐私泄露：银行卡号", Severity: model.SeverityMajor},
	{ID: model.CategoryWordingSerious, Name: "表述错误：严重表述错误", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryWordingTypo, Name: "表述错误：错别字", Severity: model.SeverityMinor},
	{ID: model.CategoryWordingOutdated, Name: "表述错误：过时表述", Severity: model.SeverityMinor},
	{ID: model.CategoryEngagementForced, Name: "违规互动：强制要求点赞、转发、关注", Severity: model.SeverityMajor, Veto: true},
}

func init() {
	detect.Register(detect.Plugin[struct{}]{
		Name:       "content",
		Summary:    "Scans every post and comment with the lexicons and validators of textscan (analyzer.lexicons) and raises one alert per category found.",
		DefaultOn:  true,
		Categories: Categories,
		Templates:  Templates,
		New: func(_ *struct{}, d detect.Deps) (detect.Detector, error) {
			var scan Scanner
			if d.Lexicons != nil {
				scan = d.Lexicons.Scan
			}
			return New(scan), nil
		},
	})
}
