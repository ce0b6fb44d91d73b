package fetch

import (
	"fmt"
	"mime"

	"golang.org/x/net/html/charset"
)

// ToUTF8 decodes body from the charset its Content-Type names (GBK,
// GB18030, Big5 …), once. decoded is false when the header names no
// charset or UTF-8, and body is returned as it is. An unknown charset is an
// error.
func ToUTF8(body []byte, contentType string) (out []byte, decoded bool, err error) {
	if contentType == "" {
		return body, false, nil
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["charset"] == "" {
		return body, false, nil
	}
	enc, name := charset.Lookup(params["charset"])
	if enc == nil {
		return nil, false, fmt.Errorf("unknown charset %q", params["charset"])
	}
	if name == "utf-8" {
		return body, true, nil
	}
	out, err = enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, false, fmt.Errorf("decode %s: %w", name, err)
	}
	return out, true, nil
}
