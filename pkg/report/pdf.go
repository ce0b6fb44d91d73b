package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ErrNoChromium says no headless Chromium was found to print PDF with.
var ErrNoChromium = errors.New("no Chromium to print PDF with: install Debian's chromium package (and fonts-noto-cjk for Chinese text), or set GOVWATCH_CHROMIUM to its path")

// Chromium returns the browser PDF is printed with: GOVWATCH_CHROMIUM, or
// chromium, chromium-browser or google-chrome on PATH.
func Chromium() (string, error) {
	if p := os.Getenv("GOVWATCH_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("GOVWATCH_CHROMIUM=%s: %w", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// PDF prints an HTML document as an A4 PDF with the headless Chromium at
// browser, which must have the fonts the document names (fonts-noto-cjk
// for the 通报). The document is loaded from memory: it must not need the
// network.
func PDF(ctx context.Context, browser string, html []byte) ([]byte, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // as root in a container Chromium has no sandbox to use
		chromedp.DisableGPU,
		chromedp.Flag("no-first-run", true),
	)
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The browser starts with the first action and lives as long as bctx,
	// so the time limit is on what runs in it, not on the start.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		return nil, fmt.Errorf("start %s: %w", browser, err)
	}
	tctx, cancel := context.WithTimeout(bctx, time.Minute)
	defer cancel()
	err := chromedp.Do(tctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return err
		}
		_, err = chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: string(html)})
		return err
	}), chromedp.WaitReady("body"))
	var out []byte
	if err == nil {
		out, err = chromedp.Run(tctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFMargin(0.79), chromedp.PDFPrintBackground()))
	}
	if err != nil {
		return nil, fmt.Errorf("print PDF with %s: %w", browser, err)
	}
	return out, nil
}
