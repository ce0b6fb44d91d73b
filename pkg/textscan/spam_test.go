package textscan

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/model"
)

// TestSEOSpam: keyword-stuffed segments are found by their structure
// whatever their brands, and ordinary posts about gambling, lotteries,
// sports and services are not.
func TestSEOSpam(t *testing.T) {
	e := testEngine(t)
	const (
		gambling = model.CategoryProhibitedGambling
		porn     = model.CategoryProhibitedPorn
	)
	spam := []struct{ text, category, match string }{
		{"关于开展安全生产大检查的公告_亚博体育app下载官方入口_开云kaiyun登录", gambling, "亚博体育app下载官方入口_开云kaiyun登录"},
		{"华体会hth·体育最新官网登录入口", gambling, "华体会hth·体育最新官网登录入口"},
		{"九游会j9真人游戏第一品牌", gambling, "九游会j9真人游戏第一品牌"},
		{"b3t365体育在线投注_官方网站", gambling, "b3t365体育在线投注_官方网站"},
		{"8et365手机版下载", gambling, "8et365手机版下载"},
		{"威尼斯人娱乐城开户_注册送彩金", gambling, "威尼斯人娱乐城开户_注册送彩金"},
		{"市人民政府办公室|乐鱼体育app官方下载|米乐m6", gambling, "乐鱼体育app官方下载|米乐m6"},
		{"国产精品一区二区三区在线观看", porn, "国产精品一区二区三区在线观看"},
		{"国产精品无码视频免费观看_91自拍", porn, "国产精品无码视频免费观看_91自拍"},
		{"亚洲欧美日韩在线观看", porn, "亚洲欧美日韩在线观看"},
	}
	for _, tt := range spam {
		t.Run(tt.text, func(t *testing.T) {
			got := e.Scan(tt.text)
			for _, f := range got {
				if f.Rule == RuleSEOSpam && f.Category == tt.category && f.Match == tt.match {
					checkOffsets(t, tt.text, got)
					return
				}
			}
			t.Fatalf("Scan(%q) = %+v, want a %s %s finding over %q", tt.text, got, tt.category, RuleSEOSpam, tt.match)
		})
	}
	controls := []string{
		"严厉打击网络赌博违法犯罪活动",
		"中国福利彩票双色球第2026001期开奖公告",
		"体育彩票官方网站公布第26001期开奖结果",
		"中国体育彩票官方网站_体彩大乐透开奖",
		"福建省政务服务网官方网站 | 闽政通APP下载 | 注册登录入口",
		"市体育局官方网站_全民健身在线报名入口",
		"CBA常规赛：辽宁本钢98-95广东华南虎，比赛于2026-03-01在沈阳举行",
		"警惕网络赌博陷阱，切勿下载不明APP",
		"警惕以“高额返水”“注册送彩金”为诱饵的网络赌博平台",
		"我市举办国产大飞机科普展，在线观看直播请下载官方客户端",
		"2026年国产新能源汽车下乡活动 | 官方报名入口",
		"亚洲、欧美、日韩市场出口持续增长",
		"全市电竞产业园最新招商政策 | 在线申报平台",
	}
	quiet(t, e, controls, "of "+RuleSEOSpam, func(f Finding) bool { return f.Rule == RuleSEOSpam })
}

func TestRespeltBrand(t *testing.T) {
	for w, want := range map[string]bool{
		"bet365": true, "b3t365": true, "8et365": true, "bet366": true, "kaiyum": true, "1xbet": true,
		"better": false, "beta": false, "kai": false, "gov": false, "365": false, "kaiyuanzhe": false,
	} {
		if got := respeltBrand(w); got != want {
			t.Errorf("respeltBrand(%q) = %v, want %v", w, got, want)
		}
	}
}
