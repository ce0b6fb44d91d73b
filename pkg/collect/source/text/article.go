package text

import (
	"net/url"
	"strings"
)

// ArticleKey reduces a mp.weixin.qq.com article URL to
// "<__biz>_<mid>_<idx>", the identity of a published article whatever
// tracking parameters (sn, chksm, scene …) the link carries. ok is false
// for other URLs and for short links (/s/<token>) that carry no key.
func ArticleKey(raw string) (string, bool) {
	biz, mid, idx, ok := WeChatArticle(raw)
	if !ok {
		return "", false
	}
	return biz + "_" + mid + "_" + idx, true
}

// CanonicalURL is an article link without its volatile parameters, or raw
// when it is not one.
func CanonicalURL(raw string) string {
	biz, mid, idx, ok := WeChatArticle(raw)
	if !ok {
		return raw
	}
	return "https://mp.weixin.qq.com/s?__biz=" + url.QueryEscape(biz) + "&mid=" + url.QueryEscape(mid) + "&idx=" + url.QueryEscape(idx)
}

// WeChatArticle reads the __biz, mid and idx of a mp.weixin.qq.com article
// link (appmsgid and itemidx in older ones); ok is false for other URLs.
func WeChatArticle(raw string) (biz, mid, idx string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Hostname() != "mp.weixin.qq.com" {
		return "", "", "", false
	}
	q := u.Query()
	biz, mid, idx = q.Get("__biz"), q.Get("mid"), q.Get("idx")
	if mid == "" {
		mid = q.Get("appmsgid")
	}
	if idx == "" {
		idx = q.Get("itemidx")
	}
	if biz == "" || mid == "" || idx == "" {
		return "", "", "", false
	}
	return biz, mid, idx, true
}
