package model

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
	CategoryOpinionSpike              = "opinion.spike"
	CategoryOpinionNegative           = "opinion.negative"
	CategoryOpinionEmergency          = "opinion.emergency"
	CategoryConsistencyCrossPlatform  = "consistency.cross_platform"
	CategorySystemSourceDown          = "system.source_down"
)

// categoryInfo is one row of the category table.
type categoryInfo struct {
	name     string // what people see: "family：name"
	severity string // default severity
}

// categories is the immutable category table. Display names lead with a
// family ("隐私泄露：…") so a one-line alert title reads on its own.
var categories = map[string]categoryInfo{
	CategorySecretMarking:             {"涉密：涉密标识", SeverityCritical},
	CategoryProhibitedPolitical:       {"违禁内容：反动、颠覆、分裂、危害国家安全", SeverityCritical},
	CategoryProhibitedViolence:        {"违禁内容：暴力恐怖", SeverityCritical},
	CategoryProhibitedPorn:            {"违禁内容：色情", SeverityCritical},
	CategoryProhibitedGambling:        {"违禁内容：赌博", SeverityCritical},
	CategoryProhibitedCult:            {"违禁内容：邪教", SeverityCritical},
	CategoryPrivacyIDNumber:           {"隐私泄露：公民身份号码", SeverityMajor},
	CategoryPrivacyPhone:              {"隐私泄露：手机号码", SeverityMajor},
	CategoryPrivacyBankCard:           {"隐私泄露：银行卡号", SeverityMajor},
	CategoryWordingSerious:            {"表述错误：严重表述错误", SeverityCritical},
	CategoryWordingTypo:               {"表述错误：错别字", SeverityMinor},
	CategoryWordingOutdated:           {"表述错误：过时表述", SeverityMinor},
	CategoryEngagementForced:          {"违规互动：强制要求点赞、转发、关注", SeverityMajor},
	CategoryEngagementBoughtFollowers: {"违规互动：购买粉丝", SeverityMajor},
	CategoryAccountStaleWarning:       {"账号更新：即将超期未更新", SeverityMinor},
	CategoryAccountStale:              {"账号更新：2 周内无更新", SeverityCritical},
	CategoryAccountZombie:             {"账号更新：长期不更新", SeverityMajor},
	CategoryAccountUnavailable:        {"账号可用性：无法访问、无法下载使用", SeverityMajor},
	CategoryAccountProfileChanged:     {"账号信息：名称、头像、简介变更", SeverityMinor},
	CategoryAccountDuplicate:          {"账号信息：同一单位同类平台多个账号", SeverityMinor},
	CategoryInteractionUnanswered:     {"互动回应：公众留言超期未回复", SeverityMajor},
	CategoryOpinionSpike:              {"舆情：互动量异常激增", SeverityMajor},
	CategoryOpinionNegative:           {"舆情：负面评论集中", SeverityMajor},
	CategoryOpinionEmergency:          {"舆情：突发公共事件信号", SeverityCritical},
	CategoryConsistencyCrossPlatform:  {"信息一致性：不同平台发布信息不一致", SeverityMajor},
	CategorySystemSourceDown:          {"系统：采集源持续失败", SeverityMinor},
}

// CategoryName is the Chinese display name of a category, such as
// "隐私泄露：手机号码"; an unknown category is returned unchanged.
func CategoryName(c string) string {
	if info, ok := categories[c]; ok {
		return info.name
	}
	return c
}

// DefaultSeverity is a category's severity when configuration does not set
// one; an unknown category gets SeverityMinor.
func DefaultSeverity(c string) string {
	if info, ok := categories[c]; ok {
		return info.severity
	}
	return SeverityMinor
}

// KnownCategory reports whether c is in the category table.
func KnownCategory(c string) bool {
	_, ok := categories[c]
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
