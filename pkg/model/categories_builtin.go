package model

// The categories govwatch raises today, until each plugin declares its own.
func init() {
	for _, c := range []Category{
		{CategorySecretMarking, "涉密：涉密标识", SeverityCritical, true, true},
		{CategoryProhibitedPolitical, "违禁内容：反动、颠覆、分裂、危害国家安全", SeverityCritical, true, true},
		{CategoryProhibitedViolence, "违禁内容：暴力恐怖", SeverityCritical, true, true},
		{CategoryProhibitedPorn, "违禁内容：色情", SeverityCritical, true, true},
		{CategoryProhibitedGambling, "违禁内容：赌博", SeverityCritical, true, true},
		{CategoryProhibitedCult, "违禁内容：邪教", SeverityCritical, true, true},
		{CategoryPrivacyIDNumber, "隐私泄露：公民身份号码", SeverityMajor, false, false},
		{CategoryPrivacyPhone, "隐私泄露：手机号码", SeverityMajor, false, false},
		{CategoryPrivacyBankCard, "隐私泄露：银行卡号", SeverityMajor, false, false},
		{CategoryWordingSerious, "表述错误：严重表述错误", SeverityCritical, true, true},
		{CategoryWordingTypo, "表述错误：错别字", SeverityMinor, false, false},
		{CategoryWordingOutdated, "表述错误：过时表述", SeverityMinor, false, false},
		{CategoryEngagementForced, "违规互动：强制要求点赞、转发、关注", SeverityMajor, true, false},
		{CategoryEngagementBoughtFollowers, "违规互动：购买粉丝", SeverityMajor, true, false},
		{CategoryAccountStaleWarning, "账号更新：即将超期未更新", SeverityMinor, false, false},
		{CategoryAccountStale, "账号更新：2 周内无更新", SeverityCritical, true, false},
		{CategoryAccountZombie, "账号更新：长期不更新", SeverityMajor, false, false},
		{CategoryAccountUnavailable, "账号可用性：无法访问、无法下载使用", SeverityMajor, true, false},
		{CategoryAccountProfileChanged, "账号信息：名称、头像、简介变更", SeverityMinor, false, false},
		{CategoryAccountDuplicate, "账号信息：同一单位同类平台多个账号", SeverityMinor, false, false},
		{CategoryInteractionUnanswered, "互动回应：公众留言超期未回复", SeverityMajor, false, false},
		{CategoryOpinionSpike, "舆情：互动量异常激增", SeverityMajor, false, false},
		{CategoryOpinionNegative, "舆情：负面评论集中", SeverityMajor, false, false},
		{CategoryOpinionEmergency, "舆情：突发公共事件信号", SeverityCritical, true, true},
		{CategoryConsistencyCrossPlatform, "信息一致性：不同平台发布信息不一致", SeverityMajor, false, false},
		{CategorySystemSourceDown, "系统：采集源持续失败", SeverityMinor, false, false},
	} {
		RegisterCategory(c)
	}
}
