package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/daemon"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
)

const notifyUsage = "usage: govwatch notify test -receiver NAME [-config FILE] [-timeout 30s]\n"

// notifyTestTimeout bounds the attempt of each channel.
const notifyTestTimeout = 30 * time.Second

func notifyCmd(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprint(io.Stderr, notifyUsage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("govwatch notify test", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	cfgPath := fs.String("config", "configs/govwatch.yaml", "config file")
	receiver := fs.String("receiver", "", "receiver to test (required)")
	timeout := fs.Duration("timeout", notifyTestTimeout, "time allowed to each channel")
	if err := fs.Parse(args[1:]); err != nil {
		return ExitUsage
	}
	if *receiver == "" || fs.NArg() > 0 {
		fmt.Fprint(io.Stderr, notifyUsage)
		return ExitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	var rc *config.ReceiverConfig
	var names []string
	for i, r := range cfg.Notifier.Receivers {
		names = append(names, r.Name)
		if r.Name == *receiver {
			rc = &cfg.Notifier.Receivers[i]
		}
	}
	if rc == nil {
		fmt.Fprintf(io.Stderr, "govwatch notify test: no receiver %q in %s (receivers: %s)\n", *receiver, *cfgPath, strings.Join(names, ", "))
		return ExitProblem
	}

	deps := channel.Deps{Stdout: io.Stdout}
	// With Redis, the test message counts against the robots' limits like
	// the notifiers' messages do. The embedded store is a file the running
	// notifier holds, so without Redis the test keeps no limit.
	if cfg.Store.Backend == "redis" {
		st, err := daemon.OpenRedis(ctx, cfg)
		if err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		defer st.Close()
		deps.Store, deps.Limiter = st, ratelimit.New(st, nil, nil)
	}
	chans, err := daemon.ReceiverChannels(*rc, deps)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}

	n := testNotification(rc.Name, cfg.HTTP.ExternalURL, time.Now())
	fmt.Fprintf(io.Stdout, "receiver %s: sending a test message through %d channel(s)\n", rc.Name, len(chans))
	failed := 0
	for _, ch := range chans {
		cctx, cancel := context.WithTimeout(ctx, *timeout)
		err := ch.Notify(cctx, n)
		cancel()
		switch {
		case err == nil:
			fmt.Fprintf(io.Stdout, "  %-9s ok\n", ch.Name())
		case channel.Retryable(err):
			failed++
			fmt.Fprintf(io.Stdout, "  %-9s error (retryable): %v\n", ch.Name(), err)
		default:
			failed++
			fmt.Fprintf(io.Stdout, "  %-9s error: %v\n", ch.Name(), err)
		}
	}
	if failed > 0 {
		return ExitProblem
	}
	return ExitOK
}

// categoryNotifyTest is the alertname of the test message.
const categoryNotifyTest = "notify.test"

// testNotification is the message `notify test` sends: one info alert that
// says what it is, without acknowledgement links (there is nothing to
// acknowledge).
func testNotification(receiver, externalURL string, now time.Time) *channel.Notification {
	a := channel.AlertState{
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.LabelAlertname: categoryNotifyTest,
				model.LabelSeverity:  model.SeverityInfo,
			},
			Annotations: map[string]string{
				model.AnnotationSummary:     "告警通道测试消息：收到即表示该通道可用，无需处理。",
				model.AnnotationDescription: "由 govwatch notify test 发送，接收方：" + receiver,
			},
			StartsAt: now,
		},
		Status: channel.StatusFiring,
	}
	a.Fingerprint = a.Labels.Fingerprint()
	return &channel.Notification{
		Receiver: receiver, GroupKey: "{}:{alertname=\"" + categoryNotifyTest + "\"}", Status: channel.StatusFiring,
		GroupLabels:  map[string]string{model.LabelAlertname: categoryNotifyTest},
		CommonLabels: a.Labels, ExternalURL: externalURL, Alerts: []channel.AlertState{a},
	}
}
