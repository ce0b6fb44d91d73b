package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

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

// DecodeRegistryFile reads a registry file strictly, like DecodeFile, with
// memory that grows with the decoded accounts rather than with the YAML
// node tree of the whole file.
func DecodeRegistryFile(path string, out *RegistryFile) (*Positions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: err.Error()}}
	}
	pos, err, ok := decodeRegistryStream(path, data, out)
	if !ok {
		*out = RegistryFile{}
		return Decode(path, data, out)
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
// decoding their batch again; problems are rare, and come in item order, so
// the last batch decoded is kept.
type streamed struct {
	data []byte
	seqs map[string]*streamSeq

	cached *seqBatch
	cache  *Positions
}

type streamSeq struct {
	elem    reflect.Type
	batches []seqBatch
}

// line returns the line of path when it lies inside an item of a streamed
// sequence.
func (s *streamed) line(file, path string) (int, bool) {
	key, rest, ok := strings.Cut(path, "[")
	if !ok {
		return 0, false
	}
	seq := s.seqs[key]
	if seq == nil {
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
	b := seq.find(idx)
	if b == nil {
		return 0, false
	}
	if s.cached != b {
		pos := &Positions{File: file, lines: map[string]int{}}
		var probs Problems
		if _, err := decodeBatch(s.data, b, key, seq.elem, pos, &probs); err != nil {
			return 0, false
		}
		s.cached, s.cache = b, pos
	}
	return s.cache.Line(path), true
}

func (q *streamSeq) find(idx int) *seqBatch {
	lo, hi := 0, len(q.batches)
	for lo < hi {
		m := (lo + hi) / 2
		if q.batches[m].first <= idx {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return nil
	}
	return &q.batches[lo-1]
}

// decodeBatch decodes the items of b into a new slice of elem, records
// their lines in pos under key[index] and appends their problems. An error
// means the batch is not YAML on its own.
func decodeBatch(data []byte, b *seqBatch, key string, elem reflect.Type, pos *Positions, probs *Problems) (reflect.Value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data[b.start:b.end], &doc); err != nil {
		return reflect.Value{}, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return reflect.Value{}, fmt.Errorf("batch is not one sequence")
	}
	root := doc.Content[0]
	shiftLines(root, b.line-1)
	expandEnv(root, pos.File, probs)
	for i, c := range root.Content {
		walk(c, elem, fmt.Sprintf("%s[%d]", key, b.first+i), pos, probs)
	}
	items := reflect.New(reflect.SliceOf(elem))
	if err := root.Decode(items.Interface()); err != nil {
		for _, p := range typeProblems(pos.File, err) {
			p.Path = pos.pathAt(p.Line)
			*probs = append(*probs, p)
		}
	}
	return items.Elem(), nil
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// decodeRegistryStream is DecodeRegistryFile's streaming path. ok is false
// when the file's shape is not one it splits, or a batch is not YAML on its
// own; the caller then decodes the document whole.
func decodeRegistryStream(name string, data []byte, out *RegistryFile) (pos *Positions, err error, ok bool) {
	elems := map[string]reflect.Type{
		"units":    reflect.TypeOf(UnitConfig{}),
		"accounts": reflect.TypeOf(AccountConfig{}),
	}
	rest, seqs, ok := splitSequences(data, elems)
	if !ok {
		return nil, nil, false
	}
	var syntax yaml.Node
	if yaml.Unmarshal(rest, &syntax) != nil {
		return nil, nil, false // let the whole document's decoder name it
	}
	pos, err = Decode(name, rest, out)
	var probs Problems
	if err != nil {
		ps, isProbs := err.(Problems)
		if !isProbs {
			return nil, nil, false
		}
		probs = append(probs, ps...)
	}
	st := &streamed{data: data, seqs: map[string]*streamSeq{}}
	for key, batches := range seqs {
		seq := &streamSeq{elem: elems[key], batches: batches}
		st.seqs[key] = seq
		last := batches[len(batches)-1]
		all := reflect.MakeSlice(reflect.SliceOf(seq.elem), 0, last.first+last.n)
		for i := range batches {
			// Lines are only kept for the batch being decoded; Positions
			// finds them again through st when a problem needs them.
			bpos := &Positions{File: name, lines: map[string]int{}}
			items, err := decodeBatch(data, &batches[i], key, seq.elem, bpos, &probs)
			if err != nil {
				return nil, nil, false
			}
			all = reflect.AppendSlice(all, items)
		}
		switch key {
		case "units":
			out.Units = all.Interface().([]UnitConfig)
		case "accounts":
			out.Accounts = all.Interface().([]AccountConfig)
		}
	}
	pos.stream = st
	if len(probs) > 0 {
		return pos, probs.sorted(), true
	}
	return pos, nil, true
}

// splitSequences finds, in a YAML document whose root is a block mapping,
// the top-level keys named in seqs whose value is a block sequence. It
// returns the document with those sequences' items blanked out (newlines
// kept, so lines do not move) and the items cut into batches. ok is false
// for any shape it does not handle.
func splitSequences(data []byte, seqs map[string]reflect.Type) (rest []byte, batches map[string][]seqBatch, ok bool) {
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
	seqIndent := -1
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
		line := bytes.TrimRight(data[off:next], "\r\n")
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
			if !blank && indent == seqIndent && isItem && cur != nil && (cur.n >= batchItems || off-cur.start >= batchBytes) {
				flush(off)
			}
			if cur == nil { // the state only turns to items on an item
				first := 0
				if bs := batches[key]; len(bs) > 0 {
					first = bs[len(bs)-1].first + bs[len(bs)-1].n
				}
				cur = &seqBatch{start: off, line: lineNo, first: first}
			}
			if !blank && indent == seqIndent && isItem {
				cur.n++
			}
			rest = append(rest, '\n')
		case header:
			rest = append(rest, '\n')
		default: // top
			if !blank && indent == 0 && !isItem {
				k, ok := topKey(body)
				if !ok {
					return nil, nil, false
				}
				anyKey = true
				if _, streamedKey := seqs[k.name]; streamedKey {
					if seen[k.name] || !k.empty {
						return nil, nil, false // duplicated, or a flow or scalar value
					}
					seen[k.name] = true
					state, key, seqIndent = header, k.name, -1
				}
			} else if !blank && indent == 0 && !anyKey {
				return nil, nil, false // a sequence at the root
			}
			rest = append(rest, data[off:next]...)
			if state == header && nl < 0 {
				rest = append(rest, '\n')
			}
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
