// Package textscan finds what must not be published in a text: personal data
// (citizen ID numbers, mobile and bank card numbers), lexicon terms of every
// content category and forced engagement. It is shared
// by the analyzer's detectors and by `govwatch check`, so its Finding is the
// element of that command's JSON contract.
package textscan

// Finding is one thing found in a text. Start and End are offsets in Unicode
// code points into the original text (End exclusive), Line is 1-based, and
// Match is exactly the original text between Start and End, separators and
// full-width characters included (in text that is not valid UTF-8, each
// invalid byte counts as one code point and reads U+FFFD in Match).
//
// Category is an alert category (model.CategoryPrivacyPhone, …); Rule names
// what matched inside the category: a validator ("validator.mobile") or,
// for lexicon matches, the lexicon entry.
type Finding struct {
	Category   string `json:"category"`
	Severity   string `json:"severity"`
	Rule       string `json:"rule"`
	Match      string `json:"match"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Line       int    `json:"line"`
	Suggestion string `json:"suggestion"`
}
