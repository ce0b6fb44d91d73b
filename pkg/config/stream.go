package config

import (
	"bytes"
	"context"
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// A registry file of 300,000 accounts is a 46 MB YAML document. Decoded whole,
// its node tree and the line of every value cost about 7 KB per account
// before the first account is built. DecodeRegistryFile reads the two long
// block sequences (units and accounts) a batch of items at a time instead:
// each batch is its own small YAML document, decoded with the same strict
// checks and shifted to the lines it has in the file, and only the byte
// range of each batch is kept to answer where a value is when a later check
// finds a problem. Anything the line splitter does not recognise (flow
// sequences, anchors shared across items, several documents, tabs) falls
// back to decoding the document whole, so the result and the problems are
// always those of Decode.

// batchItems and batchBytes bound one batch: a few hundred items keeps the
// per-document overhead of the YAML parser small and its node tree under a
// megabyte. Tests make them small to cut documents everywhere.
var (
	batchItems = 512
	batchBytes = 256 << 10
)

// DecodeRegistryFile reads a registry file strictly, like conf.DecodeFile,
// with memory that grows with the decoded accounts rather than with the
// YAML node tree of the whole file. Relative paths are resolved against
// dir; each, when set, is called with every batch of accounts decoded, and
// the decoder that read them, before the next batch is read.
func DecodeRegistryFile(path, dir string, out *RegistryFile, each func(d *conf.Decoder, first int, accounts []AccountConfig)) (*conf.Positions, error) {
	return decodeRegistryFile(context.Background(), path, dir, out, each)
}

// decodeRegistryFile is DecodeRegistryFile that stops between batches once
// ctx is done, with a problem saying the file was not read to its end.
func decodeRegistryFile(ctx context.Context, path, dir string, out *RegistryFile, each func(d *conf.Decoder, first int, accounts []AccountConfig)) (*conf.Positions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return conf.NewPositions(path), conf.Problems{{File: path, Msg: err.Error()}}
	}
	pos, err, ok := decodeRegistryStream(ctx, path, dir, data, out, each)
	if !ok {
		*out = RegistryFile{}
		d := conf.NewDecoder(path, dir)
		d.Document(data, out)
		if each != nil {
			each(d, 0, out.Accounts)
		}
		return d.Pos, d.Err()
	}
	return pos, err
}

// seqBatch is a run of whole items of one block sequence: its bytes in the
// file, the line it starts on and the index of its first item.
type seqBatch struct {
	start, end int
	line       int
	first, n   int
}

// streamed answers Positions.Line for the items of streamed sequences by
// reading their batch again; problems are rare, and come in item order, so
// the lines of the last batch read are kept.
type streamed struct {
	ctx  context.Context
	file string
	data []byte
	seqs map[string]streamSeq

	cached *seqBatch
	cache  *conf.Positions
}

type streamSeq struct {
	elem    reflect.Type
	batches []seqBatch
}

// line returns the line of path when it lies inside an item of a streamed
// sequence.
func (s *streamed) line(path string) (int, bool) {
	key, rest, ok := strings.Cut(path, "[")
	if !ok {
		return 0, false
	}
	seq, ok := s.seqs[key]
	if !ok {
		return 0, false
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return 0, false
	}
	idx, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0, false
	}
	// The batch holding idx is the last one starting at or before it.
	i := sort.Search(len(seq.batches), func(i int) bool { return seq.batches[i].first > idx })
	if i == 0 {
		return 0, false
	}
	b := &seq.batches[i-1]
	if s.cached != b {
		d := conf.NewDecoder(s.file, "")
		if _, err := readBatch(s.data, b, key, seq.elem, d, nil); err != nil {
			return 0, false
		}
		s.cached, s.cache = b, d.Pos
	}
	return s.cache.Line(path), true
}

// readBatch parses the items of b as one sequence placed at their lines in
// the file, checks their aliases with al (nil when they were checked
// before), expands their environment references, and checks their keys
// into d under key[index]. An error means the batch is not YAML on its
// own, or its aliases are refused.
func readBatch(data []byte, b *seqBatch, key string, elem reflect.Type, d *conf.Decoder, al *conf.Aliases) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data[b.start:b.end], &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("batch is not one sequence")
	}
	root := doc.Content[0]
	shiftLines(root, b.line-1)
	if al != nil {
		if err := al.Check(root); err != nil {
			return nil, err
		}
	}
	d.Expand(root)
	for i, c := range root.Content {
		d.Check(c, elem, itemPath(key, b.first+i))
	}
	return root, nil
}

func itemPath(key string, i int) string { return key + "[" + strconv.Itoa(i) + "]" }

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// decodeItems decodes the sequence key, cut into batches, into items of
// type T, and tells st where to find their lines again; each, when set, is
// given every batch as it is decoded. ok is false when a batch is not YAML
// on its own, or when al refuses its aliases: the whole document's decoder
// then names the alias as it would have without the batches.
func decodeItems[T any](st *streamed, dir, key string, batches []seqBatch, al *conf.Aliases, probs *conf.Problems, each func(d *conf.Decoder, first int, items []T)) (items []T, ok bool) {
	if len(batches) == 0 {
		return nil, true
	}
	elem := reflect.TypeFor[T]()
	st.seqs[key] = streamSeq{elem: elem, batches: batches}
	last := batches[len(batches)-1]
	items = make([]T, 0, last.first+last.n)
	for i := range batches {
		if err := st.ctx.Err(); err != nil {
			*probs = append(*probs, conf.Problem{File: st.file, Line: batches[i].line, Path: itemPath(key, batches[i].first),
				Msg: fmt.Sprintf("not read from here on: %v", context.Cause(st.ctx))})
			return items, true
		}
		// Lines are only kept for the batch being decoded; Positions
		// finds them again through st when a problem needs them.
		d := conf.NewDecoder(st.file, dir)
		root, err := readBatch(st.data, &batches[i], key, elem, d, al)
		if err != nil {
			return nil, false
		}
		var batch []T
		d.Into(root, &batch)
		for j := range batch {
			d.Finish(&batch[j], itemPath(key, batches[i].first+j))
		}
		if each != nil {
			each(d, batches[i].first, batch)
		}
		*probs = append(*probs, d.Problems()...)
		items = append(items, batch...)
	}
	return items, true
}

// decodeRegistryStream is DecodeRegistryFile's streaming path. ok is false
// when the file's shape is not one it splits, or a batch is not YAML on its
// own; the caller then decodes the document whole.
func decodeRegistryStream(ctx context.Context, name, dir string, data []byte, out *RegistryFile, each func(d *conf.Decoder, first int, accounts []AccountConfig)) (pos *conf.Positions, err error, ok bool) {
	rest, seqs, ok := splitSequences(data, "units", "accounts")
	if !ok {
		return nil, nil, false
	}
	var doc yaml.Node
	if yaml.Unmarshal(rest, &doc) != nil {
		return nil, nil, false // let the whole document's decoder name it
	}
	if len(doc.Content) == 1 && doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, false // not the block mapping the lines looked like
	}
	// One count of aliases for the whole file, however it is cut. What
	// it refuses, the whole document's decoder reports.
	al := &conf.Aliases{File: name}
	if al.Check(&doc) != nil {
		return nil, nil, false
	}
	d := conf.NewDecoder(name, dir)
	d.Root(&doc, out)
	probs := d.Problems()
	st := &streamed{ctx: ctx, file: name, data: data, seqs: map[string]streamSeq{}}
	if out.Units, ok = decodeItems[UnitConfig](st, dir, "units", seqs["units"], al, &probs, nil); !ok {
		return nil, nil, false
	}
	if out.Accounts, ok = decodeItems(st, dir, "accounts", seqs["accounts"], al, &probs, each); !ok {
		return nil, nil, false
	}
	d.Pos.Lookup = st.line
	return d.Pos, probs.Err(), true
}

// splitSequences finds, in a YAML document whose root is a block mapping,
// the top-level keys named in keys whose value is a block sequence. It
// returns the document with those sequences' items blanked out (newlines
// kept, so lines do not move) and the items cut into batches. ok is false
// for any shape it does not handle.
func splitSequences(data []byte, keys ...string) (rest []byte, batches map[string][]seqBatch, ok bool) {
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return nil, nil, false
	}
	batches = map[string][]seqBatch{}
	rest = make([]byte, 0, 4096)
	seen := map[string]bool{}

	const (
		top    = iota // between top-level keys, or inside one not streamed
		header        // after "accounts:", before its first item
		items         // inside the sequence
	)
	state := top
	var key string
	var seqIndent int // the items' indentation, once in them
	var count int     // items of key seen so far
	var cur *seqBatch // the batch being filled
	anyKey := false
	lineNo := 0
	flush := func(end int) {
		if cur != nil {
			cur.end = end
			batches[key] = append(batches[key], *cur)
			cur = nil
		}
	}
	for off := 0; off < len(data); {
		lineNo++
		nl := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if nl >= 0 {
			next = off + nl + 1
		}
		line := bytes.TrimSuffix(bytes.TrimSuffix(data[off:next], []byte("\n")), []byte("\r"))
		if breaksLine(line) {
			return nil, nil, false // YAML counts lines this splitter does not
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		body := line[indent:]
		blank := len(body) == 0 || body[0] == '#'
		if bytes.IndexByte(line[:indent], '\t') >= 0 || len(body) > 0 && body[0] == '\t' {
			return nil, nil, false
		}
		if !blank && indent == 0 && (bytes.HasPrefix(body, []byte("---")) || bytes.HasPrefix(body, []byte("...")) || body[0] == '%') {
			return nil, nil, false
		}
		isItem := !blank && body[0] == '-' && (len(body) == 1 || body[1] == ' ')

		if state == header && !blank {
			switch {
			case isItem:
				state, seqIndent = items, indent
			case indent == 0:
				state = top // an empty sequence: "accounts:" then the next key
			default:
				return nil, nil, false
			}
		}
		if state == items && !blank && !(indent > seqIndent || indent == seqIndent && isItem) {
			if indent != 0 || isItem {
				return nil, nil, false
			}
			flush(off)
			state = top
		}
		switch state {
		case items:
			// Batches start on an item; the lines after it, down to the
			// next item, belong to it.
			if !blank && indent == seqIndent && isItem {
				if cur != nil && (cur.n >= batchItems || off-cur.start >= batchBytes) {
					flush(off)
				}
				if cur == nil {
					cur = &seqBatch{start: off, line: lineNo, first: count}
				}
				cur.n++
				count++
			}
			rest = append(rest, '\n')
		case header:
			// A comment between the key and its first item is in no
			// batch and blanked out of rest: YAML refuses some
			// characters even there, so let the whole document judge it.
			if !yamlText(line) {
				return nil, nil, false
			}
			rest = append(rest, '\n')
		default: // top
			if !blank && indent == 0 && !isItem {
				k, ok := topKey(body)
				if !ok {
					return nil, nil, false
				}
				anyKey = true
				if slices.Contains(keys, k.name) {
					if seen[k.name] || !k.empty {
						return nil, nil, false // duplicated, or a flow or scalar value
					}
					seen[k.name] = true
					state, key, count = header, k.name, 0
				}
			} else if !blank && !anyKey {
				return nil, nil, false // a sequence or a scalar at the root
			}
			rest = append(rest, data[off:next]...)
		}
		off = next
	}
	flush(len(data))
	return rest, batches, true
}

type keyLine struct {
	name  string
	empty bool // nothing after the colon but a comment
}

// topKey reads a top-level "key:" line; ok is false for anything but a
// plain key.
func topKey(body []byte) (keyLine, bool) {
	i := 0
	for i < len(body) && (body[i] == '_' || body[i] == '-' || body[i] >= 'a' && body[i] <= 'z' || body[i] >= 'A' && body[i] <= 'Z' || body[i] >= '0' && body[i] <= '9') {
		i++
	}
	if i == 0 || i >= len(body) || body[i] != ':' {
		return keyLine{}, false
	}
	after := bytes.TrimLeft(body[i+1:], " ")
	if len(body) > i+1 && body[i+1] != ' ' {
		return keyLine{}, false
	}
	return keyLine{name: string(body[:i]), empty: len(after) == 0 || after[0] == '#'}, true
}

// yamlText reports whether line holds only characters YAML allows in a
// document: tab, the printable ones and no invalid UTF-8 (the
// yaml.v3 reader's check).
func yamlText(line []byte) bool {
	for len(line) > 0 {
		r, n := utf8.DecodeRune(line)
		line = line[n:]
		switch {
		case r == utf8.RuneError && n == 1:
			return false
		case r == '\t' || r >= 0x20 && r <= 0x7e || r == 0x85 || r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff:
		default:
			return false
		}
	}
	return true
}

// breaksLine reports whether line, without its \n or \r\n, holds another
// character YAML takes for a line break: a lone CR, NEL, LS or PS.
func breaksLine(line []byte) bool {
	return bytes.IndexByte(line, '\r') >= 0 || bytes.Contains(line, []byte("\u0085")) ||
		bytes.Contains(line, []byte("\u2028")) || bytes.Contains(line, []byte("\u2029"))
}
