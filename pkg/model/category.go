package model

import (
	"fmt"
	"sort"
	"sync"
)

// Categories: the alertname label of an alert and the category of a content
// finding. The list and default severities follow docs/DESIGN.md.
const (
	CategorySecretMarking             = "secret.marking"
	CategoryProhibitedPolitical       = "prohibited.political"
	CategoryProhibitedViolence        = "prohibited.violence"
	CategoryProhibitedPorn            = "prohibited.porn"
	CategoryProhibitedGambling        = "prohibited.gambling"
	CategoryProhibitedCult            = "prohibited.cult"
	CategoryPrivacyIDNumber           = "privacy.id_number"
	CategoryPrivacyPhone              = "privacy.phone"
	CategoryPrivacyBankCard           = "privacy.bank_card"
	CategoryWordingSerious            = "wording.serious"
	CategoryWordingTypo               = "wording.typo"
	CategoryWordingOutdated           = "wording.outdated"
	CategoryEngagementForced          = "engagement.forced"
	CategoryEngagementBoughtFollowers = "engagement.bought_followers"
	CategoryAccountStaleWarning       = "account.stale_warning"
	CategoryAccountStale              = "account.stale"
	CategoryAccountZombie             = "account.zombie"
	CategoryAccountUnavailable        = "account.unavailable"
	CategoryAccountProfileChanged     = "account.profile_changed"
	CategoryAccountDuplicate          = "account.duplicate"
	CategoryInteractionUnanswered     = "interaction.unanswered"
	CategoryInteractionHarmfulComment = "interaction.harmful_comment"
	CategoryOpinionSpike              = "opinion.spike"
	CategoryOpinionNegative           = "opinion.negative"
	CategoryOpinionEmergency          = "opinion.emergency"
	CategoryConsistencyCrossPlatform  = "consistency.cross_platform"
	CategoryContentIllegalLink        = "content.illegal_link"
	CategoryContentDeadLink           = "content.dead_link"
	CategorySystemSourceDown          = "system.source_down"
	CategorySystemUnrouted            = "system.unrouted"
)

// Category describes one category: what people call it, how severe it is
// by default, and whether it is a single-veto item of the national
// checklist (单项否决), which is reported upward at once. The plugin that
// raises a category declares it (pkg/plugin); the table here is built from
// those declarations.
type Category struct {
	ID       string // the alertname, e.g. privacy.phone
	Name     string // what people see: "family：name", e.g. 隐私泄露：手机号码
	Severity string // default severity
	// Veto marks a single-veto item of the checklist: one finding fails
	// the account's check.
	Veto bool
	// Upward marks an incident reported to every superior unit at once
	// when the escalation policy says veto_upward: a leaked secret,
	// prohibited content, a serious wording error, a public emergency.
	Upward bool
}

// ComponentCategories are raised by the components themselves, not by a
// plugin, and declared here: the collector's system.source_down and
// content.dead_link (its link checker, pkg/collect/linkcheck), and the
// notifier's system.unrouted (an alert that paged nobody).
var ComponentCategories = []string{CategorySystemSourceDown, CategoryContentDeadLink, CategorySystemUnrouted}

func init() {
	RegisterCategory(Category{ID: CategorySystemSourceDown, Name: "系统：采集源持续失败", Severity: SeverityMinor})
	RegisterCategory(Category{ID: CategorySystemUnrouted, Name: "系统：无人接收告警", Severity: SeverityMajor})
	RegisterCategory(Category{ID: CategoryContentDeadLink, Name: "内容链接：链接失效", Severity: SeverityMinor})
}

var (
	categoriesMu sync.RWMutex
	categories   = map[string]Category{}
)

// RegisterCategory adds c to the category table. Declaring a category
// twice the same way is harmless; declaring it differently is a programming
// error and panics.
func RegisterCategory(c Category) {
	categoriesMu.Lock()
	defer categoriesMu.Unlock()
	if old, ok := categories[c.ID]; ok && old != c {
		panic(fmt.Sprintf("model: category %s declared twice: %+v and %+v", c.ID, old, c))
	}
	categories[c.ID] = c
}

// LookupCategory returns the declared category id.
func LookupCategory(id string) (Category, bool) {
	categoriesMu.RLock()
	defer categoriesMu.RUnlock()
	c, ok := categories[id]
	return c, ok
}

// Categories lists the declared categories, sorted by id.
func Categories() []Category {
	categoriesMu.RLock()
	defer categoriesMu.RUnlock()
	out := make([]Category, 0, len(categories))
	for _, c := range categories {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CategoryName is the Chinese display name of a category, such as
// "隐私泄露：手机号码"; an unknown category is returned unchanged.
func CategoryName(c string) string {
	if info, ok := LookupCategory(c); ok {
		return info.Name
	}
	return c
}

// DefaultSeverity is a category's severity when configuration does not set
// one; an unknown category gets SeverityMinor.
func DefaultSeverity(c string) string {
	if info, ok := LookupCategory(c); ok {
		return info.Severity
	}
	return SeverityMinor
}

// KnownCategory reports whether c is in the category table.
func KnownCategory(c string) bool {
	_, ok := LookupCategory(c)
	return ok
}

// SeverityName is the Chinese word duty officers see for a severity:
// 紧急, 重要, 一般, 提示; an unknown severity is returned unchanged.
func SeverityName(s string) string {
	switch s {
	case SeverityCritical:
		return "紧急"
	case SeverityMajor:
		return "重要"
	case SeverityMinor:
		return "一般"
	case SeverityInfo:
		return "提示"
	}
	return s
}

// PlatformName is the Chinese name of a platform label value, such as
// "头条" for "toutiao"; an unknown platform is returned unchanged. It lives
// here with the other display names so every channel renders them alike.
func PlatformName(p string) string {
	switch p {
	case "wechat":
		return "微信"
	case "weibo":
		return "微博"
	case "douyin":
		return "抖音"
	case "toutiao":
		return "头条"
	case "kuaishou":
		return "快手"
	case "bilibili":
		return "B站"
	case "xiaohongshu":
		return "小红书"
	case "app":
		return "客户端"
	case "miniprogram":
		return "小程序"
	case "website":
		return "网站"
	}
	return p
}
