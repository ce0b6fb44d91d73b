package textscan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/govwatch/govwatch/pkg/model"
)

// MaxCheckBody bounds a POST /api/v1/check request: a draft of a post,
// not a book.
const MaxCheckBody = 1 << 20

// MaxCheckFindings bounds the findings in one answer, and so its size: a
// body of nothing but phone numbers finds one per 11 characters.
const MaxCheckFindings = 1000

// CheckRequest is the body of POST /api/v1/check.
type CheckRequest struct {
	Text        string `json:"text"`
	MinSeverity string `json:"min_severity,omitempty"` // minor (default), major or critical
}

// CheckResponse is its answer: the findings of `govwatch check --json`.
type CheckResponse struct {
	Findings       []Finding `json:"findings"`
	LexiconVersion string    `json:"lexicon_version"`
	// Capped says the text had more findings than the answer holds
	// (MaxCheckFindings): fix those and check again.
	Capped bool `json:"capped,omitempty"`
}

// CheckHandler serves POST /api/v1/check with the engine engine returns:
// {"text": "…"} in, {"findings": […], "lexicon_version": "…"} out. Bad
// requests get 400 with {"error": "…"}, a body over MaxCheckBody 413, one
// the server's read timeout cut off 408; an
// answer holds at most MaxCheckFindings findings and says "capped": true
// when there were more.
func CheckHandler(engine func() *Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req CheckRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxCheckBody))
		dec.DisallowUnknownFields()
		err := dec.Decode(&req)
		if err == nil {
			// One object and nothing after it: a second one would go
			// unchecked while the answer says the draft is clean.
			if _, after := dec.Token(); !errors.Is(after, io.EOF) {
				err = after
				if err == nil {
					err = errors.New("more than one JSON value")
				}
			}
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				checkError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxCheckBody))
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				checkError(w, http.StatusRequestTimeout, "the body did not arrive within the server's read timeout (http.read_timeout)")
				return
			}
			checkError(w, http.StatusBadRequest, "bad JSON: "+err.Error()+` (want {"text": "…"})`)
			return
		}
		min, err := model.MinSeverityRank(req.MinSeverity)
		if err != nil {
			checkError(w, http.StatusBadRequest, "min_severity "+err.Error())
			return
		}
		e := engine()
		resp := CheckResponse{Findings: []Finding{}, LexiconVersion: e.Version()}
		for _, f := range e.Scan(req.Text) {
			if model.SeverityRank(f.Severity) < min {
				continue
			}
			if len(resp.Findings) == MaxCheckFindings {
				resp.Capped = true
				break
			}
			resp.Findings = append(resp.Findings, f)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(resp) //nolint:errcheck // the client went away
	})
}

func checkError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg}) //nolint:errcheck // the client went away
}
