package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
)

const (
	user     = "govwatch@example.gov.cn"
	password = "smtp-pa55word"
)

// smtpServer is a small SMTP server that speaks enough of RFC 5321 for
// net/smtp: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
// It records every accepted message.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config
	implicit bool // TLS from the first byte
	starttls bool // offer STARTTLS
	// replies override the answer to a command ("RCPT:<addr>", "DATA").
	replies map[string]string

	mu   sync.Mutex
	mail []received
	wg   sync.WaitGroup
}

type received struct {
	from  string
	rcpts []string
	data  []byte
	tls   bool
	authd bool
}

func newServer(t *testing.T, implicit, starttls bool, replies map[string]string) (*smtpServer, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &smtpServer{tls: &tls.Config{Certificates: []tls.Certificate{cert}}, implicit: implicit, starttls: starttls, replies: replies}
	var err error
	if implicit {
		s.ln, err = tls.Listen("tcp", "127.0.0.1:0", s.tls)
	} else {
		s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { s.ln.Close(); s.wg.Wait() })
	return s, pool
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			s.session(conn)
		}()
	}
}

func (s *smtpServer) session(conn net.Conn) {
	tc := textproto.NewConn(conn)
	secure, authd := s.implicit, false
	var cur received
	tc.PrintfLine("220 mail.example.gov.cn ESMTP test")
	for {
		line, err := tc.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		key := verb
		if verb == "RCPT" {
			key = "RCPT:" + strings.Trim(strings.TrimPrefix(strings.ToUpper(arg), "TO:"), "<>")
		}
		if r, ok := s.replies[key]; ok && verb != "DATA" {
			tc.PrintfLine("%s", r)
			continue
		}
		switch verb {
		case "EHLO", "HELO":
			lines := []string{"mail.example.gov.cn"}
			if s.starttls && !secure {
				lines = append(lines, "STARTTLS")
			}
			if secure {
				lines = append(lines, "AUTH PLAIN")
			}
			lines = append(lines, "8BITMIME")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				tc.PrintfLine("250%s%s", sep, l)
			}
		case "STARTTLS":
			tc.PrintfLine("220 2.0.0 ready to start TLS")
			tlsConn := tls.Server(conn, s.tls)
			if err := tlsConn.Handshake(); err != nil {
				return
			}
			conn, tc, secure = tlsConn, textproto.NewConn(tlsConn), true
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			raw, _ := base64.StdEncoding.DecodeString(ir)
			if mech != "PLAIN" || string(raw) != "\x00"+user+"\x00"+password {
				tc.PrintfLine("535 5.7.8 authentication credentials invalid")
				continue
			}
			authd = true
			tc.PrintfLine("235 2.7.0 authentication successful")
		case "MAIL":
			from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:"), " ") // drop BODY=8BITMIME
			cur = received{from: strings.Trim(from, "<>"), tls: secure, authd: authd}
			tc.PrintfLine("250 2.1.0 ok")
		case "RCPT":
			cur.rcpts = append(cur.rcpts, strings.Trim(strings.TrimPrefix(arg, "TO:"), "<>"))
			tc.PrintfLine("250 2.1.5 ok")
		case "DATA":
			tc.PrintfLine("354 end data with <CR><LF>.<CR><LF>")
			data, err := tc.ReadDotBytes()
			if err != nil {
				return
			}
			if r, ok := s.replies["DATA"]; ok {
				tc.PrintfLine("%s", r)
				continue
			}
			cur.data = data
			s.mu.Lock()
			s.mail = append(s.mail, cur)
			s.mu.Unlock()
			tc.PrintfLine("250 2.0.0 queued")
		case "RSET", "NOOP":
			tc.PrintfLine("250 2.0.0 ok")
		case "QUIT":
			tc.PrintfLine("221 2.0.0 bye")
			return
		default:
			tc.PrintfLine("502 5.5.2 command not recognised")
		}
	}
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mail...)
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mail.example.gov.cn"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// parsed is a received message read back as a mail client would.
type parsed struct {
	header mail.Header
	text   string
	html   string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: want multipart/alternative", m.Header.Get("Content-Type"))
	}
	p := parsed{header: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if enc := part.Header.Get("Content-Transfer-Encoding"); enc != "base64" {
			t.Errorf("part encoding %q, want base64", enc)
		}
		raw, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, part))
		switch part.Header.Get("Content-Type") {
		case "text/plain; charset=UTF-8":
			p.text = string(raw)
		case "text/html; charset=UTF-8":
			p.html = string(raw)
		default:
			t.Errorf("unexpected part %q", part.Header.Get("Content-Type"))
		}
	}
	return p
}

func notification() *channel.Notification {
	n := channeltest.Notification(channeltest.Phone(channel.StatusFiring), channeltest.Stale())
	n.Recipients = []channel.Person{
		{Name: "王值班", Mobile: "13800138000", Email: "duty@example.gov.cn"},
		{Name: "重复", Email: "OPS@example.gov.cn"},
		{Name: "坏地址", Email: "not an address"},
	}
	return n
}

func TestNotifyStartTLS(t *testing.T) {
	srv, pool := newServer(t, false, true, nil)
	e, err := New(Config{Host: "127.0.0.1", Port: srv.port(), From: "govwatch <govwatch@example.gov.cn>", To: []string{"ops@example.gov.cn"}, Username: user},
		Options{Password: []byte(password), TLSConfig: &tls.Config{RootCAs: pool}, Clock: clockwork.NewFakeClockAt(channeltest.Now)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Notify(context.Background(), notification()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	r := got[0]
	if !r.tls || !r.authd {
		t.Errorf("tls %v, authenticated %v: want both", r.tls, r.authd)
	}
	if r.from != "govwatch@example.gov.cn" {
		t.Errorf("MAIL FROM: got %q", r.from)
	}
	if want := []string{"ops@example.gov.cn", "duty@example.gov.cn"}; strings.Join(r.rcpts, ",") != strings.Join(want, ",") {
		t.Errorf("RCPT TO: got %v, want %v (configured, then mentions, once each)", r.rcpts, want)
	}
	p := parse(t, r.data)
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(p.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	headers := []struct{ name, got, want string }{
		{"Subject", subject, "[govwatch] 【告警】紧急 隐私泄露：手机号码 · 福州卫健 等2条"},
		{"raw Subject is encoded", strconv.FormatBool(strings.HasPrefix(p.header.Get("Subject"), "=?UTF-8?b?")), "true"},
		{"From", p.header.Get("From"), `"govwatch" <govwatch@example.gov.cn>`},
		{"To", p.header.Get("To"), `<ops@example.gov.cn>, =?utf-8?q?=E7=8E=8B=E5=80=BC=E7=8F=AD?= <duty@example.gov.cn>`},
		{"Date", p.header.Get("Date"), "Thu, 26 Nov 2026 08:05:00 +0000"},
		{"MIME-Version", p.header.Get("MIME-Version"), "1.0"},
	}
	for _, h := range headers {
		if h.got != h.want {
			t.Errorf("%s: got %q, want %q", h.name, h.got, h.want)
		}
	}
	channeltest.Golden(t, "firing.txt", p.text)
	channeltest.Golden(t, "firing.html", p.html)
	for _, want := range []string{
		"政务新媒体监测告警，请及时处理。",
		"【重要】隐私泄露：手机号码\n  单位：福州市卫生健康委\n  账号：福州卫健（头条）\n",
		"  证据：…联系人：王老师，联系电话138****8000，地址…\n",
		"  开始：2026-11-26 16:03:11\n",
		"  确认告警：https://govwatch.example.gov.cn/ack/3f2a?sig=abc\n",
		"  标记已处理：https://govwatch.example.gov.cn/resolve/3f2a?sig=def\n",
		"【紧急】账号更新：2 周内无更新",
	} {
		if !strings.Contains(p.text, want) {
			t.Errorf("text part lacks %q:\n%s", want, p.text)
		}
	}
	for _, want := range []string{
		`<a href="https://govwatch.example.gov.cn/ack/3f2a?sig=abc">确认告警</a>`,
		`<a href="https://govwatch.example.gov.cn/resolve/3f2a?sig=def">标记已处理</a>`,
		`<h3 style="margin: 4px 0">【重要】隐私泄露：手机号码</h3>`,
		`border-left: 4px solid #d83931`,
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("html part lacks %q:\n%s", want, p.html)
		}
	}
}

func TestNotifyReport(t *testing.T) {
	srv, pool := newServer(t, false, true, nil)
	e, err := New(Config{Host: "127.0.0.1", Port: srv.port(), From: "govwatch@example.gov.cn"}, Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Notify(context.Background(), channeltest.WithReport()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	r := srv.received()[0]
	if got := strings.Join(r.rcpts, ","); got != "duty@fj.example.gov.cn" {
		t.Errorf("RCPT TO: got %q, want the recipient's address", got)
	}
	p := parse(t, r.data)
	if want := "上报材料：\n" + channeltest.Report + "\n"; !strings.Contains(p.text, want) {
		t.Errorf("text part lacks the report %q:\n%s", want, p.text)
	}
	if want := "<pre style=\"white-space: pre-wrap; font-family: inherit\">一、事件概况"; !strings.Contains(p.html, want) {
		t.Errorf("html part lacks the report block %q", want)
	}
}

func TestNotifyImplicitTLSAndTemplates(t *testing.T) {
	srv, pool := newServer(t, true, false, nil)
	e, err := New(Config{
		Host: "127.0.0.1", Port: srv.port(), TLS: TLS, From: "govwatch@example.gov.cn", To: []string{"ops@example.gov.cn"},
		Template:     `{{define "subject"}}监测提醒：{{range .Alerts}}{{.Summary}}{{end}}{{end}}`,
		HTMLTemplate: `<p>{{range .Alerts}}{{.Evidence}}{{end}}</p>`,
	}, Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Notify(context.Background(), channeltest.Notification(channeltest.Hostile())); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	got := srv.received()
	if len(got) != 1 || !got[0].tls {
		t.Fatalf("got %d messages (tls %v), want 1 over TLS", len(got), len(got) > 0 && got[0].tls)
	}
	p := parse(t, got[0].data)
	var dec mime.WordDecoder
	subject, _ := dec.DecodeHeader(p.header.Get("Subject"))
	// The summary's line break cannot start a new header.
	if want := "监测提醒：点击[这里](https://evil.example) # 已处理"; subject != want {
		t.Errorf("Subject: got %q, want %q", subject, want)
	}
	if want := `<p>&lt;at user_id=&#34;all&#34;&gt;所有人&lt;/at&gt; &lt;font color=&#34;info&#34;&gt;已恢复&lt;/font&gt; @13900000000</p>`; p.html != want {
		t.Errorf("html: got %q, want %q (escaped)", p.html, want)
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name      string
		implicit  bool
		starttls  bool
		replies   map[string]string
		password  string
		trust     bool
		retryable bool
		wantInErr string
	}{
		{name: "no starttls offered", starttls: false, password: password, trust: true, wantInErr: "does not offer STARTTLS"},
		{name: "wrong password", starttls: true, password: "wrong", trust: true, wantInErr: "535"},
		{name: "untrusted certificate", starttls: true, password: password, trust: false, wantInErr: "smtp tls"},
		{name: "mailbox unknown", starttls: true, password: password, trust: true, replies: map[string]string{"RCPT:OPS@EXAMPLE.GOV.CN": "550 5.1.1 user unknown"}, wantInErr: "550"},
		{name: "mailbox busy", starttls: true, password: password, trust: true, replies: map[string]string{"RCPT:OPS@EXAMPLE.GOV.CN": "450 4.2.1 mailbox busy"}, retryable: true, wantInErr: "450"},
		{name: "greylisted data", starttls: true, password: password, trust: true, replies: map[string]string{"DATA": "451 4.7.1 greylisted, try again later"}, retryable: true, wantInErr: "451"},
		{name: "sender refused", starttls: true, password: password, trust: true, replies: map[string]string{"MAIL": "553 5.7.1 sender not allowed"}, wantInErr: "553"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, pool := newServer(t, tt.implicit, tt.starttls, tt.replies)
			opts := Options{Password: []byte(tt.password)}
			if tt.trust {
				opts.TLSConfig = &tls.Config{RootCAs: pool}
			}
			e, err := New(Config{Host: "127.0.0.1", Port: srv.port(), From: "govwatch@example.gov.cn", To: []string{"ops@example.gov.cn"}, Username: user}, opts)
			if err != nil {
				t.Fatal(err)
			}
			err = e.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
			channeltest.Failure(t, err, tt.retryable, tt.wantInErr, password)
			if n := len(srv.received()); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
		})
	}
}

func TestNotifyNetworkFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// A server that accepts and never greets.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	tests := []struct {
		name    string
		port    int
		timeout time.Duration
		want    error
	}{
		{"refused", closedPort, 0, nil},
		{"no greeting", silent.Addr().(*net.TCPAddr).Port, 100 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(Config{Host: "127.0.0.1", Port: tt.port, From: "a@example.gov.cn", To: []string{"b@example.gov.cn"}, Timeout: conf.Duration(tt.timeout)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
			if err == nil || !channel.Retryable(err) {
				t.Fatalf("got %v, want a retryable error", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{Host: "smtp.example.gov.cn", From: "a@example.gov.cn", To: []string{"b@example.gov.cn"}}
	bad := func(name string, change func(*Config)) channeltest.Rejected[Config, Options] {
		cfg := ok
		change(&cfg)
		return channeltest.Rejected[Config, Options]{Name: name, Config: cfg}
	}
	channeltest.NewRejects(t, New, []channeltest.Rejected[Config, Options]{
		bad("no host", func(c *Config) { c.Host = "" }),
		bad("host with port", func(c *Config) { c.Host = "smtp.example.gov.cn:25" }),
		bad("bad tls", func(c *Config) { c.TLS = "ssl" }),
		bad("bad port", func(c *Config) { c.Port = 70000 }),
		bad("bad from", func(c *Config) { c.From = "nobody" }),
		bad("bad to", func(c *Config) { c.To = []string{"a@b", "x y"} }),
		bad("broken subject", func(c *Config) { c.Template = `{{define "subject"}}{{.Nope}}{{end}}` }),
		bad("broken html", func(c *Config) { c.HTMLTemplate = `{{.Nope}}` }),
	})
	if _, err := New(ok, Options{}); err != nil {
		t.Errorf("New(valid): %v", err)
	}
	e, _ := New(Config{Host: "smtp.example.gov.cn", From: "a@example.gov.cn"}, Options{})
	if err := e.Notify(context.Background(), channeltest.Notification(channeltest.Stale())); err == nil || channel.Retryable(err) {
		t.Errorf("no recipients: got %v, want a permanent error", err)
	}
}
