package textscan

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/govwatch/govwatch/configs/lexicons"
	"github.com/govwatch/govwatch/pkg/model"
)

// testEngine is the engine of the shipped lexicons with the test clock.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	lex, err := LoadLexicon(lexicons.FS)
	if err != nil {
		t.Fatalf("shipped lexicons: %v", err)
	}
	e, err := NewEngine(lex, func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("shipped lexicons: %v", err)
	}
	return e
}

func sp(category, match string) span { return span{category, match} }

// TestCategories runs the shipped lexicons and validators over positives,
// evasions and controls of every content category.
func TestCategories(t *testing.T) {
	e := testEngine(t)
	const (
		gambling  = model.CategoryProhibitedGambling
		cult      = model.CategoryProhibitedCult
		political = model.CategoryProhibitedPolitical
		porn      = model.CategoryProhibitedPorn
		violence  = model.CategoryProhibitedViolence
		secret    = model.CategorySecretMarking
		card      = model.CategoryPrivacyBankCard
		serious   = model.CategoryWordingSerious
		typo      = model.CategoryWordingTypo
		outdated  = model.CategoryWordingOutdated
		forced    = model.CategoryEngagementForced
	)
	tests := []struct {
		name string
		text string
		want []span
	}{
		// prohibited.*: positives and evasions.
		{"gambling spam glued to a title", "关于开展安全生产大检查的公告_澳门威尼斯人官方网站_365体育投注手机版", []span{sp(gambling, "澳门威尼斯人官方网站_365体育投注手机版")}},
		{"gambling english upper case", "欧洲杯比赛投注_BET365官方入口", []span{sp(gambling, "欧洲杯比赛投注_BET365官方入口")}},
		{"gambling english alone", "BET365", []span{sp(gambling, "BET365")}},
		{"gambling full-width", "ｂｅｔ３６５官方", []span{sp(gambling, "ｂｅｔ３６５官方")}},
		{"gambling spaced", "澳 门 新 葡 京", []span{sp(gambling, "澳 门 新 葡 京")}},
		{"gambling symbols between", "真*人*百*家*乐在线", []span{sp(gambling, "真*人*百*家*乐")}},
		{"gambling zero-width", "澳门\u200b新葡\u200d京", []span{sp(gambling, "澳门\u200b新葡\u200d京")}},
		{"gambling traditional", "澳門新葡京娛樂場", []span{sp(gambling, "澳門新葡京")}},
		{"longest wins", "新葡京娱乐场开业", []span{sp(gambling, "新葡京娱乐场")}},
		{"cult", "他们在散发法轮功传单", []span{sp(cult, "法轮功")}},
		{"cult traditional", "法輪大法好", []span{sp(cult, "法輪大法")}},
		{"cult noise", "法-轮-功", []span{sp(cult, "法-轮-功")}},
		{"political", "支持台独", []span{sp(political, "台独")}},
		{"political quoted", "支持“台独”", []span{sp(political, "台独")}},
		{"porn", "午夜福利 成人视频免费看", []span{sp(porn, "午夜福利"), sp(porn, "成人视频")}},
		{"violence", "出售枪支，加微信", []span{sp(violence, "出售枪支")}},

		// secret.marking.
		{"secret mark", "机密★1年\n关于……的通知", []span{sp(secret, "机密★")}},
		{"secret full phrase", "内部资料，注意保存", []span{sp(secret, "内部资料，注意保存")}},
		{"secret do not spread", "本文件不得外传", []span{sp(secret, "不得外传")}},
		{"secret traditional", "絕密★啟用前", []span{sp(secret, "絕密★啟用前")}},

		// privacy.bank_card.
		{"bank card", "收款账户：张三，卡号6222021001123456789，开户行工商银行", []span{sp(card, "6222021001123456789")}},
		{"bank card grouped", "银行卡号：6217 0012 3456 7890 122", []span{sp(card, "6217 0012 3456 7890 122")}},
		{"bank card full-width", "账号：４３６７４２１２３４５６７８９６", []span{sp(card, "４３６７４２１２３４５６７８９６")}},

		// wording.*.
		{"serious formulation", "深入学习习近平新时代中国特设社会主义思想", []span{sp(serious, "习近平新时代中国特设社会主义思想")}},
		{"serious near miss by sound", "坚持中国特色社会主意道路", []span{sp(serious, "中国特色社会主意道路")}},
		{"serious near miss by shape", "全面从严冶党", []span{sp(serious, "全面从严冶党")}},
		{"serious two characters off by sound", "深入学习习近平新时代中国特色社汇注意思想", []span{sp(serious, "习近平新时代中国特色社汇注意思想")}},
		{"serious homophone in a short formulation", "增强四个意思", []span{sp(serious, "四个意思")}},
		{"serious flat and retroflex alike", "做到两个维户、两个确力", []span{sp(serious, "两个维户"), sp(serious, "两个确力")}},
		{"serious homophone across zero-width", "全面从严\u200b执党", []span{sp(serious, "全面从严\u200b执党")}},
		{"serious traditional homophone", "全面從嚴執黨", []span{sp(serious, "全面從嚴執黨")}},
		{"enumeration with a wrong member", "坚定四个自信：道路自信、理论自信、制度自信、民族自信", []span{sp(serious, "民族自信")}},
		{"enumeration with a missing member", "增强“四个意识”（政治意识、大局意识、核心意识）。", []span{sp(serious, "政治意识、大局意识、核心意识")}},
		{"enumeration of words with a wrong member", "新发展理念：创新、协调、绿色、开放、共赢", []span{sp(serious, "共赢")}},
		{"enumeration in groups", "社会主义核心价值观：富强、民主、文明、和谐，自由、平等、公正、法治，爱国、敬业、诚信、友爱", []span{sp(serious, "友爱")}},
		{"leader with another leader's title", "国务院副总理李强主持召开国务院常务会议", []span{sp(serious, "国务院副总理李强")}},
		{"leader with a title after the name", "李强总书记出席会议", []span{sp(serious, "李强总书记")}},
		{"leader misspelt after a title", "国家副主席韩证会见外宾", []span{sp(serious, "韩证")}},
		{"serious taiwan wording", "台湾总统表示", []span{sp(serious, "台湾总统")}},
		{"typo", "希望大家再接再励", []span{sp(typo, "再接再励")}},
		{"typo until", "截止目前，全市已完成", []span{sp(typo, "截止目前")}},
		{"typo several", "按装完成，令人震憾", []span{sp(typo, "按装"), sp(typo, "震憾")}},
		{"outdated body", "国家工商行政管理总局发布通知", []span{sp(outdated, "国家工商行政管理总局")}},
		{"outdated traditional", "國家衛生和計劃生育委員會", []span{sp(outdated, "國家衛生和計劃生育委員會")}},

		// engagement.forced.
		{"forced like and share", "请各位同事务必点赞转发，并截图发到群里", []span{sp(forced, "务必点赞转发")}},
		{"forced assessment", "转发情况纳入考核", []span{sp(forced, "转发情况纳入考核")}},
		{"forced follow", "全员关注本公众号并截图", []span{sp(forced, "全员关注")}},
		{"forced follow account", "必须关注我局微信公众号", []span{sp(forced, "必须关注")}},
		{"forced zaikan", "每篇文章必须点在看", []span{sp(forced, "必须点在看")}},
		{"forced traditional", "務必點讚轉發", []span{sp(forced, "務必點讚轉發")}},

		// Controls: nothing at all.
		{"anti-cult notice", "我市开展揭批“法轮功”邪教宣传活动，提高群众识别能力", nil},
		{"anti-cult notice plain", "深入揭批法轮功邪教本质", nil},
		{"anti-gambling notice", "公安机关严厉打击网络赌博违法犯罪活动", nil},
		{"anti-gambling crackdown", "开展打击跨境赌博专项行动", nil},
		{"against separatism", "坚决反对“台独”分裂行径", nil},
		{"against separatism plain", "坚决反对台独", nil},
		{"anti-secession law", "依据《反分裂国家法》", nil},
		{"clause punctuation separates", "建设平台，独立运营", nil},
		{"ordinary post", "为进一步提升政务服务效能，方便群众办事，现将有关事项通知如下。群众可通过“闽政通”APP在线办理。", nil},
		{"correct formulation", "深入学习贯彻习近平新时代中国特色社会主义思想，全面从严治党", nil},
		{"shorter formulation inside a longer one", "落实新时代中国特色社会主义思想，建设社会主义现代化强国", nil},
		{"several formulations in a row", "增强“四个意识”、坚定“四个自信”、做到“两个维护”", nil},
		{"too many characters off", "中国特色社区治理", nil},
		{"formulation across a line break", "中国特色社会\n注意", nil},
		{"enumeration listed right", "坚定“四个自信”，即道路自信、理论自信、制度自信和文化自信", nil},
		{"enumeration with 和 inside a member", "社会主义核心价值观：富强、民主、文明、和谐、自由、平等、公正、法治、爱国、敬业、诚信和友善", nil},
		{"enumeration named without a list", "统筹推进五位一体总体布局，协调推进四个全面战略布局", nil},
		{"one member discussed", "四个自信中的道路自信最根本", nil},
		{"enumeration followed by other words", "四风：形式主义、官僚主义、享乐主义和奢靡之风，要坚决纠治", nil},
		{"leaders with their titles", "中共中央总书记、国家主席、中央军委主席习近平，国务院总理李强，全国政协主席王沪宁出席", nil},
		{"leaders listed without titles", "习近平、李强、赵乐际、王沪宁、蔡奇、丁薛祥、李希出席", nil},
		{"a former leader after a title", "时任国务院总理李克强", nil},
		{"a namesake with a local title", "副市长李强调研，总经理李强表示", nil},
		{"correct typo forms", "再接再厉，截至目前已安装完毕，令人震撼", nil},
		{"invitation to follow", "欢迎关注本账号，详情请关注后续发布", nil},
		{"pay attention", "请广大市民务必关注天气变化，合理安排出行", nil},
		{"share freely", "请广大市民朋友相互转告，欢迎点赞转发", nil},
		{"statistics", "全市统计数据显示，今年1至10月同比增长5.6%", nil},
		{"masked numbers", "联系电话138****2345，身份证350102********1234，卡号6222 **** **** 6789", nil},
		{"hotlines and dates", "请拨打12345或0591-87654321，时间2026-11-26", nil},
		{"luhn without context", "档案编号6222021001123456789", nil},
		{"card number with wrong check digit", "卡号6222021001123456788", nil},
		{"english inside a word", "alphabet365 and bet3650", nil},
		{"current body names", "国家市场监督管理总局、国家卫生健康委员会", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Scan(tt.text)
			var gs []span
			for _, f := range got {
				gs = append(gs, sp(f.Category, f.Match))
			}
			if !slices.Equal(gs, tt.want) {
				t.Fatalf("Scan(%q) = %v, want %v", tt.text, gs, tt.want)
			}
			checkOffsets(t, tt.text, got)
			for _, f := range got {
				if f.Suggestion == "" || f.Rule == "" || f.Severity == "" {
					t.Errorf("finding %+v lacks rule, severity or suggestion", f)
				}
			}
		})
	}
}

// TestControlsBelowMajor: government posts that name what is forbidden
// only to fight it raise nothing at major or above.
func TestControlsBelowMajor(t *testing.T) {
	e := testEngine(t)
	controls := []string{
		"关于印发《防范和处理邪教问题工作方案》的通知。各单位要加强反邪教宣传，抵制邪教渗透。",
		"近日，我市公安机关破获一起网络赌博案件，提醒广大市民远离网络赌博，警惕赌博网站诈骗。",
		"两岸同胞血脉相连，坚决反对“台独”分裂势力及外部势力干涉。",
		"今年前三季度，全市居民人均可支配收入32168元，同比增长5.1%；城镇登记失业率3.2%。",
		"本次招聘咨询电话：0591-87654321，监督电话12345；联系人手机138****5678。",
		"全市涉密人员保密教育培训会召开，会议强调要筑牢保密防线。",
		"关注民生，服务群众，本号将持续发布惠民政策。",
		"市卫健委提醒：秋冬季是流感高发季节，请市民朋友关注自身健康。",
		"2026年11月26日上午9时，全市防汛防台风工作会议召开。",
	}
	quiet(t, e, controls, "at major or above", func(f Finding) bool {
		return model.SeverityRank(f.Severity) >= model.SeverityRank(model.SeverityMajor)
	})
}

// quiet fails t for every finding of e on texts that fires (what says
// which findings a control must not have).
func quiet(t *testing.T, e *Engine, texts []string, what string, fires func(Finding) bool) {
	t.Helper()
	for _, text := range texts {
		for _, f := range e.Scan(text) {
			if fires(f) {
				t.Errorf("control %q: got %s %s %s %q, want nothing %s", text, f.Severity, f.Category, f.Rule, f.Match, what)
			}
		}
	}
}

// TestOffsets pins start, end and line into the original text with
// multi-byte, full-width and zero-width characters in front.
func TestOffsets(t *testing.T) {
	e := testEngine(t)
	text := "第一行ＡＢＣ\n\u200b第二行：ｂｅｔ３６５，法 轮 功\r\n再接再励"
	got := e.Scan(text)
	want := []Finding{
		{Category: model.CategoryProhibitedGambling, Match: "ｂｅｔ３６５", Start: 12, End: 18, Line: 2},
		{Category: model.CategoryProhibitedCult, Match: "法 轮 功", Start: 19, End: 24, Line: 2},
		{Category: model.CategoryWordingTypo, Match: "再接再励", Start: 26, End: 30, Line: 3},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings %+v, want %d", len(got), got, len(want))
	}
	for k, w := range want {
		g := got[k]
		if g.Category != w.Category || g.Match != w.Match || g.Start != w.Start || g.End != w.End || g.Line != w.Line {
			t.Errorf("finding %d: got %s %q [%d,%d) line %d, want %s %q [%d,%d) line %d",
				k, g.Category, g.Match, g.Start, g.End, g.Line, w.Category, w.Match, w.Start, w.End, w.Line)
		}
	}
	checkOffsets(t, text, got)
}

func checkOffsets(t *testing.T, text string, fs []Finding) {
	t.Helper()
	runes := []rune(text)
	for _, f := range fs {
		if f.Start < 0 || f.Start >= f.End || f.End > len(runes) {
			t.Fatalf("finding %+v out of bounds (%d runes)", f, len(runes))
		}
		if s := string(runes[f.Start:f.End]); s != f.Match {
			t.Fatalf("runes[%d:%d] = %q, want Match %q", f.Start, f.End, s, f.Match)
		}
		if want := 1 + strings.Count(string(runes[:f.Start]), "\n"); f.Line != want {
			t.Fatalf("finding %+v: got line %d, want %d", f, f.Line, want)
		}
	}
}

// TestAgainstNaive compares the matcher with a direct implementation of its
// rule — at each start the longest term, starts taken left to right, no
// overlap — over random texts and lexicons on a small alphabet that
// includes traditional forms and full-width letters.
func TestAgainstNaive(t *testing.T) {
	alphabet := []rune("赌博網网络ab國国１1")
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(rs)
	}
	for round := range 300 {
		lex := &Lexicon{}
		for range 1 + r.IntN(12) {
			lex.Entries = append(lex.Entries, Entry{Category: model.CategoryWordingTypo, Severity: model.SeverityMinor, Term: word(1 + r.IntN(4)), File: "t", Line: 1})
		}
		e, err := NewEngine(lex, func() time.Time { return testNow })
		if err != nil {
			t.Fatal(err)
		}
		text := word(r.IntN(40))
		got := e.Scan(text)
		want := naive(lex, text)
		var gs, ws []string
		for _, f := range got {
			gs = append(gs, f.Match)
		}
		for _, f := range want {
			ws = append(ws, f.Match)
		}
		if !slices.Equal(gs, ws) {
			t.Fatalf("round %d: lexicon %v text %q: got %q, want %q", round, lex.Entries, text, gs, ws)
		}
		checkOffsets(t, text, got)
	}
}

// naive matches folded terms at every start of the folded text. English
// terms (ASCII letters and digits only) match whole words.
func naive(lex *Lexicon, text string) []Finding {
	rs := []rune(text)
	folded := make([]rune, len(rs))
	for i, r := range rs {
		folded[i], _ = fold(r)
	}
	var out []Finding
	for k := 0; k < len(rs); {
		best := 0
		for _, en := range lex.Entries {
			tr := []rune(Normalize(en.Term))
			if len(tr) <= best || k+len(tr) > len(folded) || !slices.Equal(folded[k:k+len(tr)], tr) {
				continue
			}
			if isEnglish(en.Term) && (k > 0 && isAlnumRune(rs[k-1]) || k+len(tr) < len(rs) && isAlnumRune(rs[k+len(tr)])) {
				continue
			}
			best = len(tr)
		}
		if best == 0 {
			k++
			continue
		}
		out = append(out, Finding{Match: string(rs[k : k+best]), Start: k, End: k + best})
		k += best
	}
	return out
}

func isEnglish(s string) bool {
	letter := false
	for _, r := range s {
		if r >= 0x80 {
			return false
		}
		letter = letter || isASCIILetter(r)
	}
	return letter
}

func isAlnumRune(r rune) bool { return r < 0x80 && isASCIIAlnum(byte(r)) }

func TestLoadLexiconProblems(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"bad severity", map[string]string{"wording.typo.txt": "# c\n再接再励\thigh\t应为再接再厉\n"}, []string{`wording.typo.txt:2: unknown severity "high"`}},
		{"unknown category", map[string]string{"rude.txt": "x\n"}, []string{`rude.txt: "rude" is not a content category`}},
		{"too many fields", map[string]string{"prohibited.porn.txt": "a\tminor\tb\tc\n"}, []string{"prohibited.porn.txt:1: more than 3 tab-separated fields"}},
		{"every problem", map[string]string{"prohibited.porn.txt": "a\tbad\n\nb\tworse\n"}, []string{"prohibited.porn.txt:1:", "prohibited.porn.txt:3:"}},
		{"not utf-8", map[string]string{"prohibited.porn.txt": "\xff\xfe\n"}, []string{"prohibited.porn.txt:1: not UTF-8"}},
		{"enumeration without members", map[string]string{"enumerations.txt": "# c\n四个自信\tcritical\n"}, []string{"enumerations.txt:2: an enumeration needs two or more members"}},
		{"leader without titles", map[string]string{"leaders.txt": "李强\tcritical\n"}, []string{"leaders.txt:1: a leader needs one or more titles"}},
		{"enumeration with an empty member", map[string]string{"enumerations.txt": "四个自信\t\t道路自信、、文化自信\n"}, []string{"enumerations.txt:1: an enumeration needs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, c := range tt.files {
				fsys[n] = &fstest.MapFile{Data: []byte(c)}
			}
			_, err := LoadLexicon(fsys)
			if err == nil {
				t.Fatalf("LoadLexicon = nil error, want %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLexiconFormat(t *testing.T) {
	fsys := fstest.MapFS{
		"wording.typo.txt":        {Data: []byte("\uFEFF# typos\n再接再励\t\t应为“再接再厉”\n按装\tmajor\n")},
		"custom.allow.txt":        {Data: []byte("再接再励奖\n")},
		"prohibited.porn.txt":     {Data: []byte("成人视频\r\n")},
		"not-a-lexicon.md":        {Data: []byte("ignored")},
		"secret.marking.txt":      {Data: []byte("")},
		"prohibited.cult.txt":     {Data: []byte("# only comments\n\n")},
		"wording.outdated.txt":    {Data: []byte("环境保护部\tminor\t现为“生态环境部”（2018年）\n")},
		"engagement.forced.txt":   {Data: []byte("集赞截图\n")},
		"prohibited.violence.txt": {Data: []byte("土制炸药\n")},
	}
	lex, err := LoadLexicon(fsys)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(lex, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Scan("再接再励，按装，再接再励奖，成人视频，环境保护部")
	want := []struct{ match, severity, suggestion string }{
		{"再接再励", model.SeverityMinor, "应为“再接再厉”"},
		{"按装", model.SeverityMajor, "核实后修改"},
		{"成人视频", model.SeverityCritical, "删除违禁内容；如系网页被篡改植入，立即排查网站安全"},
		{"环境保护部", model.SeverityMinor, "现为“生态环境部”（2018年）"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %d findings", got, len(want))
	}
	for k, w := range want {
		if got[k].Match != w.match || got[k].Severity != w.severity || got[k].Suggestion != w.suggestion {
			t.Errorf("finding %d: got %q %s %q, want %q %s %q", k, got[k].Match, got[k].Severity, got[k].Suggestion, w.match, w.severity, w.suggestion)
		}
	}
	if lex.Version == "" {
		t.Error("lexicon has no version")
	}
}

func FuzzScan(f *testing.F) {
	seed(f,
		"澳门\u200b新葡京_bet365官方入口 13800138000",
		"法 * 轮 * 功；揭批“法轮功”邪教",
		"卡号：6222 0210 0112 3456 789\n再接再励",
		"请务必点赞转发截图，纳入考核",
		"\xff澳門\xe6\x96新葡京",
		"ＢＥＴ３６５ ⑴❶壹",
		"四个自信：道路自信、理论自信和“民族自信”。社会主义核心价值观（富强、民主",
		"公告_亚博体育app下载官方入口_8et365|国产精品一区二区在线观看",
	)
	e := testEngine(f)
	f.Fuzz(func(t *testing.T, text string) {
		got := e.Scan(text)
		for k := 1; k < len(got); k++ {
			if got[k].Start < got[k-1].Start {
				t.Fatalf("findings out of order: %+v after %+v", got[k], got[k-1])
			}
		}
		checkOffsets(t, text, got)
	})
}

// TestThirdCharacter covers the starts the match loop holds back for one
// character because no term ends at their second: they must still match
// through noise, zero-width characters and at the end of a text, and a
// dropped one must not hide a term starting at its second character.
func TestThirdCharacter(t *testing.T) {
	lex := &Lexicon{}
	for _, term := range []string{"甲乙丙丁", "乙丙", "子丑寅"} {
		lex.Entries = append(lex.Entries, Entry{Category: model.CategoryProhibitedPolitical, Severity: model.SeverityCritical, Term: term, File: "t", Line: 1})
	}
	e, err := NewEngine(lex, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"甲乙丙丁", []string{"甲乙丙丁"}},
		{"甲乙丙戊", []string{"乙丙"}},
		{"甲乙戊", nil},
		{"甲乙", nil},
		{"甲乙 丙丁", []string{"甲乙 丙丁"}},
		{"甲乙\u200b丙丁", []string{"甲乙\u200b丙丁"}},
		{"甲乙\xff丙丁", nil},
		{"甲乙Ａ丙丁", nil},
		{"甲乙甲乙丙丁", []string{"甲乙丙丁"}},
		{"子丑寅", []string{"子丑寅"}},
		{"子丑", nil},
		{"子丑卯子丑寅", []string{"子丑寅"}},
		{"子 * 丑 * 寅", []string{"子 * 丑 * 寅"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range e.Scan(tt.text) {
			got = append(got, f.Match)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Scan(%q): got %q, want %q", tt.text, got, tt.want)
		}
	}
}

// seed adds texts to f's corpus.
func seed(f *testing.F, texts ...string) {
	for _, s := range texts {
		f.Add(s)
	}
}
