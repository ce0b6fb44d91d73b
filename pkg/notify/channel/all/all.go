// Package all is the set of built-in channels: importing it registers each
// one (pkg/plugin). Adding a channel adds one line here.
package all

import (
	_ "github.com/govwatch/govwatch/pkg/notify/channel/console"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/dingtalk"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/email"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/feishu"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/sms"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/webhook"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/wecom"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/wecomapp"
)
