// Package channeltest holds the notifications the channel tests send, so
// every channel is tried on the same alerts.
package channeltest

import (
	"context"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// Now is the tests' sending time: 2026-11-26 16:05 Beijing time.
var Now = time.Date(2026, 11, 26, 8, 5, 0, 0, time.UTC)

// Phone is a leaked mobile number on a Toutiao account, with ack and
// resolve links; resolved, it carries its end time.
func Phone(status string) channel.AlertState {
	a := channel.AlertState{
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.LabelAlertname:   model.CategoryPrivacyPhone,
				model.LabelSeverity:    model.SeverityMajor,
				model.LabelAccountID:   "fz-wjw-toutiao",
				model.LabelAccountName: "福州卫健",
				model.LabelPlatform:    "toutiao",
				model.LabelUnit:        "fz-wjw",
				model.LabelRegion:      "350100",
			},
			Annotations: map[string]string{
				model.AnnotationSummary:      "文章正文出现未打码的手机号码",
				model.AnnotationEvidence:     "…联系人：王老师，联系电话138****8000，地址…",
				model.AnnotationSuggestion:   "删除或打码处理该手机号码",
				model.AnnotationURL:          "https://www.toutiao.com/article/7301/",
				model.AnnotationAckURL:       "https://govwatch.example.gov.cn/ack/3f2a?sig=abc",
				channel.AnnotationResolveURL: "https://govwatch.example.gov.cn/resolve/3f2a?sig=def",
				model.AnnotationUnitName:     "福州市卫生健康委",
			},
			StartsAt: time.Date(2026, 11, 26, 8, 3, 11, 0, time.UTC),
		},
		Status: status,
	}
	if status == channel.StatusResolved {
		a.EndsAt = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	}
	a.Fingerprint = a.Labels.Fingerprint()
	return a
}

// Stale is a critical silent-account alert without links.
func Stale() channel.AlertState {
	a := channel.AlertState{
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.LabelAlertname: model.CategoryAccountStale,
				model.LabelSeverity:  model.SeverityCritical,
				model.LabelUnit:      "lj-gov",
			},
			Annotations: map[string]string{
				model.AnnotationSummary:  "账号已 15 天未更新",
				model.AnnotationUnitName: "连江县人民政府办公室",
			},
			StartsAt: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		},
		Status: channel.StatusFiring,
	}
	a.Fingerprint = a.Labels.Fingerprint()
	return a
}

// Notification groups alerts for receiver "ops"; its status is resolved
// only when every alert is.
func Notification(alerts ...channel.AlertState) *channel.Notification {
	n := &channel.Notification{
		Receiver: "ops", GroupKey: `{}:{alertname="privacy.phone"}`, Status: channel.StatusResolved,
		ExternalURL: "https://govwatch.example.gov.cn", Alerts: alerts,
	}
	for _, a := range alerts {
		if a.Status != channel.StatusResolved {
			n.Status = channel.StatusFiring
		}
	}
	return n
}

// Hostile is a firing alert whose outside text tries to inject links,
// mentions and markup.
func Hostile() channel.AlertState {
	a := Phone(channel.StatusFiring)
	a.Labels = model.LabelSet{
		model.LabelAlertname:   model.CategoryPrivacyPhone,
		model.LabelSeverity:    model.SeverityMajor,
		model.LabelAccountName: "[福州卫健](https://evil.example)",
	}
	a.Annotations = map[string]string{
		model.AnnotationSummary:  "点击[这里](https://evil.example)\n# 已处理",
		model.AnnotationEvidence: `<at user_id="all">所有人</at> <font color="info">已恢复</font> @13900000000`,
		model.AnnotationAckURL:   "javascript:alert(1)",
	}
	a.Fingerprint = a.Labels.Fingerprint()
	return a
}

// Report is an incident report as the notifier attaches for a superior
// department, with a line that tries to inject a link.
const Report = "一、事件概况：福州卫健（头条）发布的文章泄露个人手机号码。\n二、证据：[原文](https://evil.example)\n三、处置情况：已于 16:20 删除。"

// WithReport is a notification to a superior department: the phone alert,
// a recipient and the report.
func WithReport() *channel.Notification {
	n := Notification(Phone(channel.StatusFiring))
	n.Recipients = []channel.Person{{Name: "省网信办值班", Mobile: "13700000000", Email: "duty@fj.example.gov.cn", Role: "上级值班", Unit: "fj-cac"}}
	n.Report = Report
	return n
}

// Notify sends n through ch, the channel a constructor returned with err,
// failing t when the constructor or the send failed.
func Notify(t testing.TB, ch channel.Channel, err error, n *channel.Notification) {
	t.Helper()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := ch.Notify(context.Background(), n); err != nil {
		t.Fatalf("Notify: %v", err)
	}
}
