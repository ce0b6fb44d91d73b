package textscan

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"
)

// Chunk sizes of ScanReader: a chunk ends at the last line break before
// chunkSize bytes; a line longer than maxChunk is cut at a character
// boundary, so a term straddling that cut is not found.
const (
	chunkSize = 1 << 20
	maxChunk  = 8 << 20
)

type chunkResult struct {
	findings     []Finding
	runes, lines int
	valid        bool
}

type chunkJob struct {
	text string
	out  chan chunkResult
}

// ScanReader scans everything r yields, in chunks of whole lines scanned in
// parallel on every CPU, and calls emit with each finding in text order,
// offsets relative to the whole input. Memory stays bounded by a few chunks
// per CPU whatever the input's size. An error from r or from emit stops the
// scan and is returned.
func (e *Engine) ScanReader(r io.Reader, emit func(*Finding) error) error {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan chunkJob)
	order := make(chan chan chunkResult, 2*workers)
	done := make(chan struct{})
	defer close(done)

	for range workers {
		go func() {
			var sc scratch
			for j := range jobs {
				res := chunkResult{lines: strings.Count(j.text, "\n")}
				res.findings = e.scan(&sc, j.text, nil)
				if sc.valid {
					res.runes = countRunesValid(j.text)
				} else {
					res.runes = utf8.RuneCountInString(j.text)
				}
				j.out <- res
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		defer close(order)
		readErr <- readChunks(r, func(text string) bool {
			out := make(chan chunkResult, 1)
			select {
			case order <- out:
			case <-done:
				return false
			}
			select {
			case jobs <- chunkJob{text, out}:
			case <-done:
				return false
			}
			return true
		})
	}()

	runes, lines := 0, 0
	var emitErr error
	for out := range order {
		res := <-out
		if emitErr == nil {
			for i := range res.findings {
				f := &res.findings[i]
				f.Start += runes
				f.End += runes
				f.Line += lines
				if err := emit(f); err != nil {
					emitErr = err
					break
				}
			}
		}
		if emitErr != nil {
			break
		}
		runes += res.runes
		lines += res.lines
	}
	if emitErr != nil {
		return emitErr
	}
	return <-readErr
}

var errStopped = errors.New("stopped")

// readChunks reads r into chunks that end after a line break (or at a
// character boundary for lines longer than maxChunk) and hands each to
// take, which reports whether to go on. The buffer grows with the input, so
// a small input costs a small buffer.
func readChunks(r io.Reader, take func(string) bool) error {
	var buf []byte
	eof := false
	for !eof || len(buf) > 0 {
		limit := chunkSize
		cut := -1
		for cut < 0 {
			for !eof && len(buf) < limit {
				if len(buf) == cap(buf) {
					buf = slices.Grow(buf, min(max(len(buf), 64<<10), limit-len(buf)))
				}
				n, err := r.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				if err == io.EOF {
					eof = true
				} else if err != nil {
					return err
				}
			}
			switch {
			case eof:
				cut = len(buf)
			case bytes.LastIndexByte(buf, '\n') >= 0:
				cut = bytes.LastIndexByte(buf, '\n') + 1
			case limit >= maxChunk:
				// Keep a character split by the read for the next chunk.
				cut = len(buf) - 1
				for cut > 0 && len(buf)-cut < utf8.UTFMax && !utf8.RuneStart(buf[cut]) {
					cut--
				}
				if utf8.FullRune(buf[cut:]) {
					cut = len(buf)
				}
			default:
				limit *= 2
			}
		}
		if cut > 0 && !take(string(buf[:cut])) {
			return errStopped
		}
		buf = append(buf[:0], buf[cut:]...)
	}
	return nil
}
