// Package all is the set of built-in sources: importing it registers each
// one (pkg/plugin). Adding a source adds one line here.
package all

import (
	_ "github.com/govwatch/govwatch/pkg/collect/source/jsonapi"
	_ "github.com/govwatch/govwatch/pkg/collect/source/probe"
	_ "github.com/govwatch/govwatch/pkg/collect/source/push"
	_ "github.com/govwatch/govwatch/pkg/collect/source/rss"
	_ "github.com/govwatch/govwatch/pkg/collect/source/rsshub"
	_ "github.com/govwatch/govwatch/pkg/collect/source/wechat"
	_ "github.com/govwatch/govwatch/pkg/collect/source/weibo"
)
