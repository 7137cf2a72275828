package recstore

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a small pull parser over one JSON text held in memory. It is
// purpose-built for the store's documents: it hands out string contents as
// sub-slices of the input (no copy until a value is kept), checks nesting
// depth as it goes, and leaves every decision about what a value means to
// its caller, which knows the model's schema. It is not safe for concurrent
// use; each push owns one.
type scanner struct {
	buf      []byte
	pos      int
	depth    int
	maxDepth int
	base     int64 // offset of buf[0] in the whole document, for errors

	// names holds the member names of every open object, innermost last,
	// and objs where each object's names start: member rejects a name its
	// object already has (I-JSON, RFC 7493), wherever the object is. A
	// name is kept as its place in buf, so the tables hold no pointers
	// and cost no write barriers. A scanner made for a sub-document may
	// start from its parent's tables (see sub) to reuse their storage.
	names []nameRef
	objs  []openObj
	// lax turns the check off, for walks over a document already read.
	lax bool
}

// nameRef is a member name without escapes, as its place in scanner.buf.
type nameRef struct{ off, n int32 }

// openObj is the name table of one object being read. It is made when
// the object's first name is recorded, so an object whose names a caller
// checks itself costs nothing here.
type openObj struct {
	depth int // the scanner's depth inside the object
	start int // its first name in scanner.names
	// seen holds its names once it has too many to compare one by one,
	// or one with escapes.
	seen map[string]struct{}
}

// linearNames is how many names an object may have before member looks
// repeats up in a map rather than comparing with each earlier name: few
// objects in a document have more, and below it a scan beats hashing.
const linearNames = 16

// MaxDepthCeiling is the deepest nesting any Store accepts, whatever
// Options.MaxDepth says: the scanner and encoding/json recurse once per
// level, and encoding/json stops at the same depth.
const MaxDepthCeiling = 10000

// sub returns a scanner over buf, a value inside the document s reads,
// sharing s's limits and the storage of its name tables.
func (s *scanner) sub(buf []byte) scanner {
	return scanner{buf: buf, maxDepth: s.maxDepth, names: s.names[len(s.names):], objs: s.objs[len(s.objs):]}
}

// endObject drops the name table of the object being closed, if it has
// one. Call it before depth goes down.
func (s *scanner) endObject() {
	if n := len(s.objs); n > 0 && s.objs[n-1].depth == s.depth {
		s.names = s.names[:s.objs[n-1].start]
		s.objs[n-1].seen = nil
		s.objs = s.objs[:n-1]
	}
}

// table returns the name table of the innermost open object, making it.
func (s *scanner) table() *openObj {
	n := len(s.objs)
	if n == 0 || s.objs[n-1].depth != s.depth {
		s.objs = append(s.objs, openObj{depth: s.depth, start: len(s.names)})
		n++
	}
	return &s.objs[n-1]
}

// addName records raw, a name without escapes that is a sub-slice of
// buf, as a member of the innermost open object, and reports false if it
// already was one.
func (s *scanner) addName(raw []byte) bool {
	o := s.table()
	if o.seen == nil && cap(s.buf) <= math.MaxInt32 { // offsets fit nameRef
		prev := s.names[o.start:]
		n := int32(len(raw))
		for _, r := range prev {
			if r.n == n && string(s.buf[r.off:r.off+n]) == string(raw) {
				return false
			}
		}
		if len(prev) < linearNames {
			s.names = append(s.names, nameRef{int32(cap(s.buf) - cap(raw)), n})
			return true
		}
	}
	return s.addSeen(o, string(raw))
}

// addSeen records name in o's map, making the map from o's names first.
func (s *scanner) addSeen(o *openObj, name string) bool {
	if o.seen == nil {
		o.seen = make(map[string]struct{}, 2*linearNames)
		for _, r := range s.names[o.start:] {
			o.seen[string(s.buf[r.off:r.off+r.n])] = struct{}{}
		}
	}
	if _, dup := o.seen[name]; dup {
		return false
	}
	o.seen[name] = struct{}{}
	return true
}

// addEscaped is addName for a name that had escapes or non-ASCII bytes,
// given unquoted.
func (s *scanner) addEscaped(name string) bool { return s.addSeen(s.table(), name) }

// duplicate reports the repeated member name at offset at.
func (s *scanner) duplicate(at int, name string) error {
	return &SyntaxError{Offset: s.base + int64(at), Msg: "repeated member " + strconv.Quote(name), Err: ErrDuplicateMember}
}

// strPlain marks the bytes that may appear in a JSON string without any
// further look: everything but '"', '\\', control characters and non-ASCII.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) syntax(msg string) error {
	return &SyntaxError{Offset: s.base + int64(s.pos), Msg: msg}
}

func (s *scanner) unexpected() error {
	if s.pos >= len(s.buf) {
		return s.syntax("unexpected end of input")
	}
	return s.syntax("unexpected " + strconv.QuoteRune(rune(s.buf[s.pos])))
}

// next skips white space and returns the next byte without consuming it, or
// 0 at the end of the input.
func (s *scanner) next() byte {
	for s.pos < len(s.buf) {
		c := s.buf[s.pos]
		if c > ' ' {
			return c
		}
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			return c
		}
		s.pos++
	}
	return 0
}

// atEnd reports whether only white space is left.
func (s *scanner) atEnd() bool { return s.next() == 0 && s.pos >= len(s.buf) }

func (s *scanner) enter() error {
	s.depth++
	if s.depth > s.maxDepth {
		return &LimitError{Limit: "MaxDepth", Max: s.maxDepth}
	}
	return nil
}

// openObject consumes '{'.
func (s *scanner) openObject() error {
	if s.next() != '{' {
		return s.unexpected()
	}
	s.pos++
	return s.enter()
}

// openArray consumes '['.
func (s *scanner) openArray() error {
	if s.next() != '[' {
		return s.unexpected()
	}
	s.pos++
	return s.enter()
}

// member reads the next key of an object opened with openObject and the ':'
// after it. first says whether this is the first call for the object. At
// the closing '}' it returns ok == false. The key is raw: if esc is true it
// still holds escapes and must go through unquote before comparison. A
// name the object already has is an error wrapping ErrDuplicateMember,
// returned with the key so that the caller can point at it.
func (s *scanner) member(first bool) (key []byte, esc, ok bool, err error) {
	key, esc, ok, err = s.memberUnchecked(first)
	if !ok || err != nil || s.lax {
		return key, esc, ok, err
	}
	if err := s.unique(key, esc); err != nil {
		return key, esc, false, err
	}
	return key, esc, true, nil
}

// unique records the name key, as memberUnchecked read it, in the
// innermost object's name table, or fails if the object has it.
func (s *scanner) unique(key []byte, esc bool) error {
	if !esc {
		if s.addName(key) {
			return nil
		}
		return s.duplicate(nameStart(s.buf, key), string(key))
	}
	u, err := s.unquote(key)
	if err != nil {
		return err
	}
	if s.addEscaped(u) {
		return nil
	}
	return s.duplicate(nameStart(s.buf, key), u)
}

// nameStart returns the offset in buf of the opening quote of key, a
// name's raw contents sliced from buf.
func nameStart(buf, key []byte) int { return cap(buf) - cap(key) - 1 }

// memberUnchecked is member for a caller that checks the object's names
// for repeats itself: it records nothing in the name tables, so the
// caller must pass every name it does not track to unique.
func (s *scanner) memberUnchecked(first bool) (key []byte, esc, ok bool, err error) {
	c := s.next()
	if c == '}' {
		s.pos++
		s.endObject()
		s.depth--
		return nil, false, false, nil
	}
	if !first {
		if c != ',' {
			return nil, false, false, s.unexpected()
		}
		s.pos++
		c = s.next()
	}
	if c != '"' {
		return nil, false, false, s.unexpected()
	}
	key, esc, err = s.str()
	if err != nil {
		return nil, false, false, err
	}
	if s.next() != ':' {
		return nil, false, false, s.unexpected()
	}
	s.pos++
	return key, esc, true, nil
}

// element moves to the next element of an array opened with openArray. At
// the closing ']' it returns false.
func (s *scanner) element(first bool) (bool, error) {
	c := s.next()
	if c == ']' {
		s.pos++
		s.depth--
		return false, nil
	}
	if !first {
		if c != ',' {
			return false, s.unexpected()
		}
		s.pos++
		if s.next() == 0 {
			return false, s.unexpected()
		}
	}
	return true, nil
}

// str reads a string token; the current byte must be '"'. It returns the
// raw contents between the quotes and whether they need unquoting (escapes
// or non-ASCII bytes).
func (s *scanner) str() (raw []byte, esc bool, err error) {
	i := s.pos + 1
	start := i
	b := s.buf
	for i < len(b) && strPlain[b[i]] {
		i++
	}
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return b[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				s.pos = i
				return nil, false, s.syntax("unterminated string")
			}
			switch b[i+1] {
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					s.pos = i
					return nil, false, s.syntax("bad \\u escape in string")
				}
				i += 6
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			default:
				s.pos = i
				return nil, false, s.syntax("bad escape in string")
			}
		case c < 0x20:
			s.pos = i
			return nil, false, s.syntax("control character in string")
		case c >= 0x80:
			esc = true
			i++
		default:
			i++
		}
	}
	s.pos = len(b)
	return nil, false, s.syntax("unterminated string")
}

// stringValue reads a string token and returns it as a Go string.
func (s *scanner) stringValue() (string, error) {
	raw, esc, err := s.str()
	if err != nil {
		return "", err
	}
	if !esc {
		return string(raw), nil
	}
	return s.unquote(raw)
}

// unquote decodes the raw contents of a string token: it resolves escapes
// and, as encoding/json does, replaces invalid UTF-8 with U+FFFD.
func (s *scanner) unquote(raw []byte) (string, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			if i+1 >= len(raw) {
				return "", s.syntax("bad escape in string")
			}
			switch e := raw[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out = append(out, '\b')
				i += 2
			case 'f':
				out = append(out, '\f')
				i += 2
			case 'n':
				out = append(out, '\n')
				i += 2
			case 'r':
				out = append(out, '\r')
				i += 2
			case 't':
				out = append(out, '\t')
				i += 2
			case 'u':
				r, ok := hex4(raw[i+2:])
				if !ok {
					return "", s.syntax("bad \\u escape in string")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if len(raw) >= i+6 && raw[i] == '\\' && raw[i+1] == 'u' {
						r2, _ = hex4(raw[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", s.syntax("bad escape in string")
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
			i += n
		}
	}
	return string(out), nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number token and returns its text. It checks the JSON
// grammar: an optional minus, no leading zeros, digits after '.' and 'e'.
func (s *scanner) number() ([]byte, error) {
	b := s.buf
	i := s.pos
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return nil, s.unexpected()
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.pos = i
			return nil, s.syntax("no digits after decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			s.pos = i
			return nil, s.syntax("no digits in exponent")
		}
	}
	s.pos = i
	return b[start:i], nil
}

// literal consumes the literal word (true, false or null) at the cursor.
func (s *scanner) literal(word string) error {
	if len(s.buf)-s.pos < len(word) || string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.unexpected()
	}
	s.pos += len(word)
	return nil
}

// skip consumes one value of any kind, checking its syntax and depth, and
// returns its raw text.
func (s *scanner) skip() ([]byte, error) {
	c := s.next()
	start := s.pos
	var err error
	switch c {
	case '{':
		s.pos++
		if err = s.enter(); err != nil {
			return nil, err
		}
		for first := true; ; first = false {
			var ok bool
			if _, _, ok, err = s.member(first); err != nil || !ok {
				break
			}
			if _, err = s.skip(); err != nil {
				break
			}
		}
	case '[':
		s.pos++
		if err = s.enter(); err != nil {
			return nil, err
		}
		for first := true; ; first = false {
			var ok bool
			if ok, err = s.element(first); err != nil || !ok {
				break
			}
			if _, err = s.skip(); err != nil {
				break
			}
		}
	case '"':
		_, _, err = s.str()
	case 't':
		err = s.literal("true")
	case 'f':
		err = s.literal("false")
	case 'n':
		err = s.literal("null")
	default:
		_, err = s.number()
	}
	if err != nil {
		return nil, err
	}
	return s.buf[start:s.pos], nil
}

// kindName names the JSON kind of the value starting with c, for messages.
func kindName(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	return "number"
}

// pathAt returns the path from the root of buf, a JSON text, to the value
// starting at offset off, or false if no value starts there. It walks buf
// again, as only a failed push needs the path, and checks no names: buf
// may repeat one (that may be why the push failed), and may end right
// after the member it looks for.
func pathAt(buf []byte, off int) ([]seg, bool) {
	sc := scanner{buf: buf, maxDepth: math.MaxInt, lax: true}
	var path []seg
	for {
		c := sc.next()
		switch {
		case sc.pos == off:
			return path, true
		case sc.pos > off:
			return nil, false
		case c == '{':
			if sc.openObject() != nil {
				return nil, false
			}
			for first := true; ; first = false {
				key, esc, ok, err := sc.memberUnchecked(first)
				if err != nil || !ok {
					return nil, false
				}
				sc.next()
				probe := sc
				_, err = probe.skip()
				// Go in where the value holds off, or where it is cut off
				// (the document may end inside it, right after off).
				if sc.pos == off || err != nil || probe.pos > off {
					name := string(key)
					if esc {
						if name, err = sc.unquote(key); err != nil {
							return nil, false
						}
					}
					path = append(path, seg{name: name, idx: -1})
					break
				}
				sc = probe
			}
		case c == '[':
			if sc.openArray() != nil {
				return nil, false
			}
			for i := 0; ; i++ {
				more, err := sc.element(i == 0)
				if err != nil || !more {
					return nil, false
				}
				sc.next()
				probe := sc
				if _, err := probe.skip(); err != nil || probe.pos > off {
					path = append(path, seg{idx: i})
					break
				}
				sc = probe
			}
		default:
			return nil, false
		}
	}
}

// pointerAt returns the JSON pointer, relative to the value buf holds, of
// the member whose name starts at byte off (the name's opening quote), or
// "" if no member name starts there.
func pointerAt(buf []byte, off int) string {
	s := scanner{buf: buf, pos: off}
	if s.next() != '"' {
		return ""
	}
	if _, _, err := s.str(); err != nil || s.next() != ':' {
		return ""
	}
	s.pos++
	s.next()
	path, ok := pathAt(buf, s.pos)
	if !ok {
		return ""
	}
	return renderPointer(path)
}

// duplicateAt returns the offset of a repeated member name that err
// reports, relative to the start of buf's scanner, or -1.
func duplicateAt(err error) int64 {
	var se *SyntaxError
	if errors.As(err, &se) && se.Err == ErrDuplicateMember {
		return se.Offset
	}
	return -1
}

// checkUnique rejects JSON text that repeats a member name in any of its
// objects, with a *DocumentError pointing at the repeated member. Other
// syntax errors are left for the caller's decoder to report.
func checkUnique(data []byte) error {
	s := scanner{buf: data, maxDepth: MaxDepthCeiling}
	_, err := s.skip()
	if off := duplicateAt(err); off >= 0 {
		return &DocumentError{Pointer: pointerAt(data, int(off)), Err: err}
	}
	return nil
}
