package textscan

import (
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

// testNow is the clock for birth-date checks: 2026-11-26 in Beijing.
var testNow = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

// span is what a test expects of one finding.
type span struct {
	category string
	match    string
}

func phone(m string) span { return span{model.CategoryPrivacyPhone, m} }
func id(m string) span    { return span{model.CategoryPrivacyIDNumber, m} }
func card(m string) span  { return span{model.CategoryPrivacyBankCard, m} }

func TestScanPersonalData(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []span
	}{
		// Positives.
		{"mobile", "联系电话13800138000，欢迎咨询。", []span{phone("13800138000")}},
		{"mobile at start and end", "13912345678", []span{phone("13912345678")}},
		{"mobile 3-4-4 spaces", "请拨打 139 1234 5678 联系", []span{phone("139 1234 5678")}},
		{"mobile 3-4-4 dashes", "手机：186-0591-2345", []span{phone("186-0591-2345")}},
		{"mobile 3-8", "电话 159 12345678", []span{phone("159 12345678")}},
		{"prefix +86", "Tel: +86 13800138000", []span{phone("+86 13800138000")}},
		{"prefix +86 glued", "+8613800138000", []span{phone("+8613800138000")}},
		{"prefix 86-", "86-138-0013-8000", []span{phone("86-138-0013-8000")}},
		{"prefix (+86)", "(+86)13800138000", []span{phone("(+86)13800138000")}},
		{"prefix （＋８６） with space", "电话（＋８６） 13800138000", []span{phone("（＋８６） 13800138000")}},
		{"prefix 0086", "0086 13800138000", []span{phone("0086 13800138000")}},
		{"two mobiles", "13800138000、13912345678", []span{phone("13800138000"), phone("13912345678")}},
		{"mobiles joined by a dash", "13800138000-13912345678", []span{phone("13800138000"), phone("13912345678")}},
		{"mobile after a spaced number", "编号 2026 13800138000", []span{phone("13800138000")}},
		{"id", "身份证号350102199003071234。", []span{id("350102199003071234")}},
		{"id with X", "公民身份号码11010519491231002X", []span{id("11010519491231002X")}},
		{"id with lower x", "11010519491231002x 已登记", []span{id("11010519491231002x")}},
		{"id leap day", "350102200002294562", []span{id("350102200002294562")}},
		{"id born today", "650102202611260018", []span{id("650102202611260018")}},
		{"id hong kong code", "810000198001010014", []span{id("810000198001010014")}},
		{"id and mobile", "张三，350102199003071234，13800138000", []span{id("350102199003071234"), phone("13800138000")}},
		{"mobile after a broken character", "\xe4" + "13800138000", []span{phone("13800138000")}},
		{"bank card", "卡号：6222021001123456789", []span{card("6222021001123456789")}},
		{"bank card 16 digits", "开户行：建设银行 账号 4367421234567896", []span{card("4367421234567896")}},
		{"bank card grouped", "银行卡 6217-0012-3456-7890-122", []span{card("6217-0012-3456-7890-122")}},
		{"full-width bank card", "收款卡号６２２２０２１００１１２３４５６７８９", []span{card("６２２２０２１００１１２３４５６７８９")}},
		{"bank card after a bank's name", "建设银行 6217001234567890122", []span{card("6217001234567890122")}},
		{"bank card after a rural credit union", "县农信社6222021001123456789", []span{card("6222021001123456789")}},
		{"bank card after a short bank name", "请汇至工行6222021001123456789", []span{card("6222021001123456789")}},
		{"bank card and mobile", "转账至6222021001123456789，联系13800138000", []span{card("6222021001123456789"), phone("13800138000")}},

		// Evasions.
		{"full-width mobile", "电话：１３８００１３８０００", []span{phone("１３８００１３８０００")}},
		{"mixed-width mobile", "1３8００1３8０００", []span{phone("1３8００1３8０００")}},
		{"full-width dashes", "１３８－００１３－８０００", []span{phone("１３８－００１３－８０００")}},
		{"ideographic spaces", "138　0013　8000", []span{phone("138　0013　8000")}},
		{"spaced dash spaced", "138 - 0013 - 8000", []span{phone("138 - 0013 - 8000")}},
		{"one digit at a time", "1 3 8 0 0 1 3 8 0 0 0", []span{phone("1 3 8 0 0 1 3 8 0 0 0")}},
		{"full-width id", "３５０１０２１９９００３０７１２３４", []span{id("３５０１０２１９９００３０７１２３４")}},
		{"full-width id X", "１１０１０５１９４９１２３１００２Ｘ", []span{id("１１０１０５１９４９１２３１００２Ｘ")}},
		{"spaced id", "350102 19900307 1234", []span{id("350102 19900307 1234")}},
		{"dashed id", "350102-1990-0307-1234", []span{id("350102-1990-0307-1234")}},

		// Controls.
		{"masked mobile", "联系电话138****2345", nil},
		{"masked mobile x", "138xxxx2345", nil},
		{"masked id", "350102********1234", nil},
		{"hotline 12345", "请拨打12345政务服务便民热线", nil},
		{"hotline 12315", "消费者投诉请拨打12315", nil},
		{"hotline 400", "客服电话400-123-4567", nil},
		{"hotline 95", "95588", nil},
		{"landline fuzhou", "办公电话0591-87654321", nil},
		{"landline beijing", "010-12345678", nil},
		{"landline 11 digits", "01012345678", nil},
		{"date", "20261126", nil},
		{"date dashed", "2026-11-26 13:45", nil},
		{"statistic", "全年完成投资1234567890123 元", nil},
		{"statistic decimal", "13800138000.5 万元", nil},
		{"decimal before", "增长3.13800138000", nil},
		{"mobile inside a longer run", "138001380001", nil},
		{"mobile prefix of a longer run", "订单号202611261380013800099", nil},
		{"order number with letters", "订单号SO13800138000", nil},
		{"code with letters after", "13800138000abc", nil},
		{"12 not a mobile prefix", "12800138000", nil},
		{"mobile grouped 4-4-3", "1380 0138 000", nil},
		{"bank card groups", "6222 0213 8001 3800 012", nil},
		{"bank card without context", "编号6222021001123456789", nil},
		{"bank card bad luhn", "卡号6222021001123456788", nil},
		{"bank card bad prefix", "卡号1234567890123456782", nil},
		{"bank card context on another line", "卡号\n6222021001123456789", nil},
		{"masked bank card", "卡号6222 **** **** 6789", nil},
		{"id wrong check digit", "350102199003071235", nil},
		{"id invalid date", "350102199902294562", nil},
		{"id born in the future", "650102202611270013", nil},
		{"id born before 1900", "440524188001010014", nil},
		{"id bad province", "910102198506154437", nil},
		{"id inside a longer run", "3501021990030712341", nil},
		{"id glued to letters", "ID350102199003071234", nil},
		{"too many separators", "138    00138000", nil},
		{"mobile across lines", "138\n0013\n8000", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanPersonalData(tt.text, testNow)
			if len(got) != len(tt.want) {
				t.Fatalf("ScanPersonalData(%q) = %+v, want %d findings %v", tt.text, got, len(tt.want), tt.want)
			}
			for k, f := range got {
				if f.Category != tt.want[k].category || f.Match != tt.want[k].match {
					t.Errorf("finding %d: got %s %q, want %s %q", k, f.Category, f.Match, tt.want[k].category, tt.want[k].match)
				}
				if f.Severity != model.SeverityMajor { // every privacy category
					t.Errorf("finding %d: got severity %q, want %q", k, f.Severity, model.SeverityMajor)
				}
			}
			checkOffsets(t, tt.text, got)
		})
	}
}

func TestScanPersonalDataFields(t *testing.T) {
	text := "第一行\n第二行：张三，身份证 11010519491231002X\r\n联系（+86）１３９-1234-5678。"
	got := scanPersonalData(text, testNow)
	want := []Finding{
		{
			Category:   model.CategoryPrivacyIDNumber,
			Severity:   model.SeverityMajor,
			Rule:       RuleIDNumber,
			Match:      "11010519491231002X",
			Start:      15,
			End:        33,
			Line:       2,
			Suggestion: "删除或打码处理该公民身份号码，如 110105********002X",
		},
		{
			Category:   model.CategoryPrivacyPhone,
			Severity:   model.SeverityMajor,
			Rule:       RuleMobile,
			Match:      "（+86）１３９-1234-5678",
			Start:      37,
			End:        55,
			Line:       3,
			Suggestion: "删除或打码处理该手机号码，如 139****5678",
		},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings %+v, want %d", len(got), got, len(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("finding %d: got %+v, want %+v", k, got[k], want[k])
		}
	}
}

func FuzzScanPersonalData(f *testing.F) {
	for _, s := range []string{
		"联系电话13800138000，欢迎咨询。",
		"（＋８６） 138 0013 8000",
		"0086-138-0013-8000",
		"１１０１０５１９４９１２３１００２Ｘ",
		"350102 19900307 1234 13800138000",
		"1 3 8 0 0 1 3 8 0 0 0",
		"138****2345 12345 0591-87654321",
		"\xef\xbc\x91\xef\xbc3800138000",
		"(+86)\xff13800138000",
		"卡号：6222 0210 0112 3456 789，开户行工商银行",
		"账号４３６７４２１２３４５６７８９６\n卡号6222021001123456788",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := ScanPersonalData(text)
		for k := 1; k < len(got); k++ {
			if got[k].Start < got[k-1].End {
				t.Fatalf("finding %+v overlaps the previous one %+v", got[k], got[k-1])
			}
		}
		checkOffsets(t, text, got)
	})
}

// benchSentences read like a government account's posts: dates, amounts,
// hotlines, masked and (rarely) unmasked personal data.
var benchSentences = []string{
	"2026年11月26日上午，市卫生健康委召开全市秋冬季传染病防控工作会议，部署下一阶段重点任务。",
	"今年1至10月，全市地区生产总值完成4567.89亿元，同比增长5.6%，固定资产投资增长7.2%。",
	"如有疑问，请拨打12345政务服务便民热线或0591-87654321咨询，工作时间为每周一至周五。",
	"获奖名单：张**（138****2345）、李**（350102********1234），请于12月5日前领取。",
	"本次共发放消费券3000万元，惠及市民120余万人次，带动消费超过2.1亿元。",
	"联系人：王老师，联系电话13800138000，地址：鼓楼区八一七北路88号。",
	"根据《中华人民共和国个人信息保护法》第二十八条规定，敏感个人信息应当严格保护。",
	"第17号台风预计于11月27日夜间在福建沿海登陆，请广大市民做好防范。",
}

func benchText(size int) string {
	var b strings.Builder
	for b.Len() < size {
		for _, s := range benchSentences {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func BenchmarkScanPersonalData(b *testing.B) {
	b.Run("generated", func(b *testing.B) {
		benchScan(b, benchText(512<<10))
	})
	b.Run("zh-sampled", func(b *testing.B) {
		// Shared sample corpus, read in place and never copied into the project.
		data, err := os.ReadFile("../../../shared/bench/zh-sampled.txt")
		if err != nil {
			b.Skipf("no shared sample text: %v", err)
		}
		if !utf8.Valid(data) {
			b.Log("sample text is not valid UTF-8; scanning it as is")
		}
		benchScan(b, string(data))
	})
}

func benchScan(b *testing.B, text string) {
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		ScanPersonalData(text)
	}
}

// BenchmarkEngineScanPersonal is the engine's scan of text dense with
// personal data, where the cost of turning the numbers found into findings
// shows.
func BenchmarkEngineScanPersonal(b *testing.B) {
	benchEngineScan(b, Default(), benchText(512<<10))
}
