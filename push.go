package recstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unsafe"
)

// Push merges a JSON:API document into the Store and returns the keys of
// its primary records, in the order of its data. doc may be JSON text
// ([]byte, json.RawMessage or string), an io.Reader (read to its end), a
// *Document or Document, or any other Go value that encoding/json can
// marshal into a JSON:API document, such as a map[string]any literal.
// Push does not keep doc or the bytes read from it.
//
// Push follows Ember Data's store.push: data holds one resource, an array
// of them, or null; included resources are stored too but not returned;
// types must match a registered model's type name exactly and numeric ids
// become strings. Resources merge into what the Store holds: attributes the
// document omits keep their values, explicit null sets the zero value (nil
// for pointers), and members the model does not define are ignored. A
// relationship's data replaces the relationship; null or [] clears it; an
// absent relationship, or one with only links or meta, is left as it is.
// Declared inverses are kept in step on both sides. When a document holds
// the same resource twice, later copies merge over earlier ones, included
// before data.
//
// A push is all or nothing. When doc is not a valid document for this
// Store, Push returns a *DocumentError (see its doc for the families it
// matches) and the Store is exactly as it was. Readers see either none of a
// push or all of it.
func (s *Store) Push(doc any) ([]Key, error) {
	data, err := s.push1(doc, nil)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, len(data))
	for i := range data {
		keys[i] = Key{data[i].t.name, data[i].id}
	}
	return keys, nil
}

// push runs a push and returns the versions it published for the primary
// records. only, if not nil, is the one table primary resources may use.
func (s *Store) push(doc any, only *table) ([]*version, error) {
	data, err := s.push1(doc, only)
	if err != nil {
		return nil, err
	}
	vs := make([]*version, len(data))
	for i := range data {
		vs[i] = data[i].published
	}
	return vs, nil
}

func (s *Store) push1(doc any, only *table) ([]staged, error) {
	buf, err := s.documentBytes(doc)
	if err != nil {
		return nil, err
	}
	p := parser{
		sc:     scanner{buf: buf, maxDepth: s.opts.MaxDepth},
		tables: *s.tables.Load(),
		only:   only,
		opts:   &s.opts,
	}
	if err := p.document(); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := newCommit(s)
	for _, list := range [][]staged{p.included, p.data} {
		for i := range list {
			if err := c.apply(&list[i]); err != nil {
				c.abort()
				return nil, err
			}
		}
	}
	c.publish()
	for i := range p.data {
		p.data[i].published = p.data[i].e.cur.Load()
	}
	return p.data, nil
}

// documentBytes turns Push's argument into JSON text within the size limit.
func (s *Store) documentBytes(doc any) ([]byte, error) {
	limit := s.opts.MaxDocumentBytes
	tooBig := &DocumentError{Err: &LimitError{Limit: "MaxDocumentBytes", Max: limit}}
	var b []byte
	switch d := doc.(type) {
	case nil:
		return nil, &DocumentError{Err: errors.New("nil document")}
	case []byte:
		b = d
	case json.RawMessage:
		b = d
	case string:
		// The scanner only reads, and every string it keeps is a copy.
		b = unsafe.Slice(unsafe.StringData(d), len(d))
	case io.Reader:
		var err error
		b, err = io.ReadAll(io.LimitReader(d, int64(limit)+1))
		if err != nil {
			return nil, &DocumentError{Err: fmt.Errorf("reading document: %w", err)}
		}
	case Document:
		return s.documentBytes(&d)
	default:
		var err error
		b, err = json.Marshal(d)
		if err != nil {
			return nil, &DocumentError{Err: fmt.Errorf("encoding %T as JSON: %w", doc, err)}
		}
	}
	if len(b) > limit {
		return nil, tooBig
	}
	return b, nil
}

// bitset records which attributes a resource carried.
type bitset struct {
	lo uint64
	hi []uint64
}

func (b *bitset) add(i int) {
	if i < 64 {
		b.lo |= 1 << i
		return
	}
	w := i/64 - 1
	for len(b.hi) <= w {
		b.hi = append(b.hi, 0)
	}
	b.hi[w] |= 1 << (i % 64)
}

func (b *bitset) has(i int) bool {
	if i < 64 {
		return b.lo&(1<<i) != 0
	}
	w := i/64 - 1
	return w < len(b.hi) && b.hi[w]&(1<<(i%64)) != 0
}

// staged is one parsed and validated resource, ready to merge.
type staged struct {
	t    *table
	id   string
	v    *version // private; v.val holds the attributes the resource carried
	set  bitset   // which attributes it carried
	rels []stagedRel
	sec  string // "data" or "included"
	idx  int    // index in its section, -1 for a single data resource

	e         *entry   // set by apply
	published *version // set after publish, for primary resources
}

type stagedRel struct {
	ri   int
	keys []Key // to-many members, or the one to-one key; empty means null/[]
}

func (st *staged) ptr() string {
	if st.idx < 0 {
		return "/" + st.sec
	}
	return "/" + st.sec + "/" + strconv.Itoa(st.idx)
}

// escapePointer escapes one JSON pointer reference token (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// parser turns JSON text into staged resources. It reads the Store's
// models but changes nothing.
type parser struct {
	sc       scanner
	tables   map[string]*table
	only     *table
	opts     *Options
	count    int
	hasData  bool
	data     []staged
	included []staged
}

func fail(ptr string, err error) error { return &DocumentError{Pointer: ptr, Err: err} }

func (p *parser) document() error {
	s := &p.sc
	if c := s.next(); c != '{' {
		if _, err := s.skip(); err != nil {
			return fail("", err)
		}
		if !s.atEnd() {
			return fail("", s.syntax("data after the top-level value"))
		}
		return fail("", fmt.Errorf("the top-level value must be an object, not %s", kindName(c)))
	}
	if err := s.openObject(); err != nil {
		return fail("", err)
	}
	for first := true; ; first = false {
		key, err := p.key(first, "")
		if err != nil {
			return err
		}
		if key == nil {
			break
		}
		switch string(key) {
		case "data":
			p.hasData = true
			p.data = p.data[:0]
			if err := p.primary(); err != nil {
				return err
			}
		case "included":
			if err := p.resources("included", &p.included); err != nil {
				return err
			}
		default:
			if _, err := s.skip(); err != nil {
				return fail("/"+escapePointer(string(key)), err)
			}
		}
	}
	if !s.atEnd() {
		return fail("", s.syntax("data after the top-level value"))
	}
	if !p.hasData {
		return fail("", errors.New(`the document has no "data" member`))
	}
	return nil
}

// key reads the next member name of the current object, or returns nil at
// its end. ptr locates the object for errors.
func (p *parser) key(first bool, ptr string) ([]byte, error) {
	key, esc, ok, err := p.sc.member(first)
	if err != nil {
		return nil, fail(ptr, err)
	}
	if !ok {
		return nil, nil
	}
	if esc {
		k, err := p.sc.unquote(key)
		if err != nil {
			return nil, fail(ptr, err)
		}
		return []byte(k), nil
	}
	return key, nil
}

func (p *parser) primary() error {
	s := &p.sc
	switch s.next() {
	case 'n':
		return s.literal("null")
	case '{':
		st, err := p.resource("data", -1)
		if err != nil {
			return err
		}
		p.data = append(p.data, st)
		return nil
	case '[':
		return p.resources("data", &p.data)
	}
	if _, err := s.skip(); err != nil {
		return fail("/data", err)
	}
	return fail("/data", errors.New("data must be an object, an array or null"))
}

func (p *parser) resources(sec string, out *[]staged) error {
	s := &p.sc
	if s.next() != '[' {
		if _, err := s.skip(); err != nil {
			return fail("/"+sec, err)
		}
		return fail("/"+sec, errors.New(sec+" must be an array"))
	}
	if err := s.openArray(); err != nil {
		return fail("/"+sec, err)
	}
	*out = (*out)[:0]
	for i := 0; ; i++ {
		more, err := s.element(i == 0)
		if err != nil {
			return fail("/"+sec, err)
		}
		if !more {
			return nil
		}
		st, err := p.resource(sec, i)
		if err != nil {
			return err
		}
		*out = append(*out, st)
	}
}

// resource parses one resource object. When "type" comes after
// "attributes" or "relationships", their values are skipped and decoded
// once the type is known.
func (p *parser) resource(sec string, idx int) (staged, error) {
	s := &p.sc
	st := staged{sec: sec, idx: idx}
	p.count++
	if p.count > p.opts.MaxResources {
		return st, fail(st.ptr(), &LimitError{Limit: "MaxResources", Max: p.opts.MaxResources})
	}
	if c := s.next(); c != '{' {
		if _, err := s.skip(); err != nil {
			return st, fail(st.ptr(), err)
		}
		return st, fail(st.ptr(), fmt.Errorf("a resource must be an object, not %s", kindName(c)))
	}
	if err := s.openObject(); err != nil {
		return st, fail(st.ptr(), err)
	}
	type deferred struct{ pos, depth int }
	var attrs, rels *deferred
	var idRaw []byte
	idEsc, haveID := false, false
	for first := true; ; first = false {
		key, err := p.key(first, st.ptr())
		if err != nil {
			return st, err
		}
		if key == nil {
			break
		}
		switch string(key) {
		case "type":
			t, err := p.typeMember(st.ptr() + "/type")
			if err != nil {
				return st, err
			}
			if p.only != nil && sec == "data" && t != p.only {
				return st, fail(st.ptr()+"/type", fmt.Errorf("want type %q, got %q", p.only.name, t.name))
			}
			st.t = t
			st.v = t.newVersion()
		case "id":
			idRaw, idEsc, err = p.idMember(st.ptr() + "/id")
			if err != nil {
				return st, err
			}
			haveID = true
		case "attributes", "relationships":
			if st.t == nil {
				d := &deferred{s.pos, s.depth}
				if key[0] == 'a' {
					attrs = d
				} else {
					rels = d
				}
				if _, err := s.skip(); err != nil {
					return st, fail(st.ptr()+"/"+string(key), err)
				}
				continue
			}
			if key[0] == 'a' {
				err = p.attributes(&st)
			} else {
				err = p.relationships(&st)
			}
			if err != nil {
				return st, err
			}
		default:
			if _, err := s.skip(); err != nil {
				return st, fail(st.ptr()+"/"+escapePointer(string(key)), err)
			}
		}
	}
	if st.t == nil {
		return st, fail(st.ptr(), errors.New(`the resource has no "type" member`))
	}
	if !haveID {
		return st, fail(st.ptr(), errors.New(`the resource has no "id" member`))
	}
	if err := p.setID(&st, idRaw, idEsc); err != nil {
		return st, err
	}
	for _, d := range []*deferred{attrs, rels} {
		if d == nil {
			continue
		}
		pos, depth := s.pos, s.depth
		s.pos, s.depth = d.pos, d.depth
		var err error
		if d == attrs {
			err = p.attributes(&st)
		} else {
			err = p.relationships(&st)
		}
		if err != nil {
			return st, err
		}
		s.pos, s.depth = pos, depth
	}
	return st, nil
}

// typeMember reads a "type" value and finds its model.
func (p *parser) typeMember(ptr string) (*table, error) {
	s := &p.sc
	if c := s.next(); c != '"' {
		if _, err := s.skip(); err != nil {
			return nil, fail(ptr, err)
		}
		return nil, fail(ptr, fmt.Errorf("type must be a string, not %s", kindName(c)))
	}
	raw, esc, err := s.str()
	if err != nil {
		return nil, fail(ptr, err)
	}
	if esc {
		str, err := s.unquote(raw)
		if err != nil {
			return nil, fail(ptr, err)
		}
		raw = []byte(str)
	}
	t := p.tables[string(raw)]
	if t == nil {
		return nil, fail(ptr, fmt.Errorf("%w %q", ErrUnknownType, raw))
	}
	return t, nil
}

// idMember reads an "id" value: a string, or an integer kept as its text.
func (p *parser) idMember(ptr string) (raw []byte, esc bool, err error) {
	s := &p.sc
	switch c := s.next(); {
	case c == '"':
		raw, esc, err = s.str()
		if err != nil {
			return nil, false, fail(ptr, err)
		}
		if len(raw) == 0 {
			return nil, false, fail(ptr, errors.New("id must not be empty"))
		}
	case c == '-' || ('0' <= c && c <= '9'):
		raw, err = s.number()
		if err != nil {
			return nil, false, fail(ptr, err)
		}
		if bytes.ContainsAny(raw, ".eE") {
			return nil, false, fail(ptr, fmt.Errorf("id must be a string or an integer, not %s", raw))
		}
	default:
		if _, err := s.skip(); err != nil {
			return nil, false, fail(ptr, err)
		}
		return nil, false, fail(ptr, fmt.Errorf("id must be a string or an integer, not %s", kindName(c)))
	}
	if len(raw) > p.opts.MaxIDBytes {
		return nil, false, fail(ptr, &LimitError{Limit: "MaxIDBytes", Max: p.opts.MaxIDBytes})
	}
	return raw, esc, nil
}

func (p *parser) idString(raw []byte, esc bool, ptr string) (string, error) {
	if !esc {
		return string(raw), nil
	}
	id, err := p.sc.unquote(raw)
	if err != nil {
		return "", fail(ptr, err)
	}
	if id == "" {
		return "", fail(ptr, errors.New("id must not be empty"))
	}
	return id, nil
}

// setID stores the id in the staged value's primary field.
func (p *parser) setID(st *staged, raw []byte, esc bool) error {
	id, err := p.idString(raw, esc, st.ptr()+"/id")
	if err != nil {
		return err
	}
	st.id = id
	f := &st.t.id
	ptr := unsafe.Add(st.v.val, f.off)
	bits := int(f.typ.Size() * 8)
	switch {
	case f.kind == reflect.String:
		*(*string)(ptr) = id
		return nil
	case isIntKind(f.kind):
		var n int64
		if n, err = strconv.ParseInt(id, 10, bits); err == nil {
			setInt(ptr, f.typ.Size(), uint64(n))
		}
	default:
		var n uint64
		if n, err = strconv.ParseUint(id, 10, bits); err == nil {
			setInt(ptr, f.typ.Size(), n)
		}
	}
	if err != nil {
		return fail(st.ptr()+"/id", fmt.Errorf("id %q does not fit %s's %s primary field", id, st.t.name, f.typ))
	}
	return nil
}

func (p *parser) attributes(st *staged) error {
	s := &p.sc
	t := st.t
	ptr := st.ptr() + "/attributes"
	if c := s.next(); c != '{' {
		if _, err := s.skip(); err != nil {
			return fail(ptr, err)
		}
		return fail(ptr, fmt.Errorf("attributes must be an object, not %s", kindName(c)))
	}
	if err := s.openObject(); err != nil {
		return fail(ptr, err)
	}
	for first := true; ; first = false {
		key, err := p.key(first, ptr)
		if err != nil {
			return err
		}
		if key == nil {
			return nil
		}
		i, ok := t.attrIdx[string(key)]
		if !ok {
			if _, err := s.skip(); err != nil {
				return fail(ptr+"/"+escapePointer(string(key)), err)
			}
			continue
		}
		a := &t.attrs[i]
		s.next()
		start := s.pos
		if err := a.decode(s, unsafe.Add(st.v.val, a.off)); err != nil {
			return p.attrError(st, a, start, err)
		}
		st.set.add(i)
	}
}

// attrError explains why the value at start did not fit attribute a.
func (p *parser) attrError(st *staged, a *attrField, start int, cause error) error {
	ptr := st.ptr() + "/attributes/" + escapePointer(a.name)
	var se *SyntaxError
	var le *LimitError
	if errors.As(cause, &se) || errors.As(cause, &le) {
		return fail(ptr, cause)
	}
	s := &p.sc
	s.pos = start
	raw, err := s.skip()
	if err != nil {
		return fail(ptr, err)
	}
	if ke, ok := cause.(*kindError); ok {
		cause = fmt.Errorf("want %s, got %s", ke.want, kindName(raw[0]))
	}
	val := string(raw)
	if len(val) > 64 {
		val = val[:61] + "..."
	}
	return fail(ptr, &AttributeError{Type: st.t.name, ID: st.id, Attr: a.name, Value: val, GoType: a.typ, Err: cause})
}

func (p *parser) relationships(st *staged) error {
	s := &p.sc
	t := st.t
	ptr := st.ptr() + "/relationships"
	if c := s.next(); c != '{' {
		if _, err := s.skip(); err != nil {
			return fail(ptr, err)
		}
		return fail(ptr, fmt.Errorf("relationships must be an object, not %s", kindName(c)))
	}
	if err := s.openObject(); err != nil {
		return fail(ptr, err)
	}
	for first := true; ; first = false {
		key, err := p.key(first, ptr)
		if err != nil {
			return err
		}
		if key == nil {
			return nil
		}
		ri, ok := t.relIdx[string(key)]
		if !ok {
			if _, err := s.skip(); err != nil {
				return fail(ptr+"/"+escapePointer(string(key)), err)
			}
			continue
		}
		r := &t.rels[ri]
		rptr := ptr + "/" + escapePointer(r.name)
		if c := s.next(); c != '{' {
			if _, err := s.skip(); err != nil {
				return fail(rptr, err)
			}
			return fail(rptr, fmt.Errorf("a relationship must be an object, not %s", kindName(c)))
		}
		if err := s.openObject(); err != nil {
			return fail(rptr, err)
		}
		for first := true; ; first = false {
			key, err := p.key(first, rptr)
			if err != nil {
				return err
			}
			if key == nil {
				break
			}
			if string(key) != "data" {
				if _, err := s.skip(); err != nil {
					return fail(rptr+"/"+escapePointer(string(key)), err)
				}
				continue
			}
			keys, err := p.linkage(r, rptr+"/data")
			if err != nil {
				return err
			}
			st.rels = append(st.rels, stagedRel{ri: ri, keys: keys})
		}
	}
}

// linkage reads a relationship's data member.
func (p *parser) linkage(r *relField, ptr string) ([]Key, error) {
	s := &p.sc
	c := s.next()
	switch {
	case c == 'n' && !r.many:
		return nil, s.literal("null")
	case c == '{' && !r.many:
		k, err := p.identifier(r, ptr)
		if err != nil {
			return nil, err
		}
		return []Key{k}, nil
	case c == '[' && r.many:
		if err := s.openArray(); err != nil {
			return nil, fail(ptr, err)
		}
		keys := []Key{}
		for i := 0; ; i++ {
			more, err := s.element(i == 0)
			if err != nil {
				return nil, fail(ptr, err)
			}
			if !more {
				return keys, nil
			}
			k, err := p.identifier(r, ptr+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
	}
	if _, err := s.skip(); err != nil {
		return nil, fail(ptr, err)
	}
	if r.many {
		return nil, fail(ptr, fmt.Errorf("to-many relationship %q needs an array of identifiers, not %s", r.name, kindName(c)))
	}
	return nil, fail(ptr, fmt.Errorf("to-one relationship %q needs an identifier object or null, not %s", r.name, kindName(c)))
}

// identifier reads one resource identifier object {"type", "id"}.
func (p *parser) identifier(r *relField, ptr string) (Key, error) {
	s := &p.sc
	if c := s.next(); c != '{' {
		if _, err := s.skip(); err != nil {
			return Key{}, fail(ptr, err)
		}
		return Key{}, fail(ptr, fmt.Errorf("a resource identifier must be an object, not %s", kindName(c)))
	}
	if err := s.openObject(); err != nil {
		return Key{}, fail(ptr, err)
	}
	var t *table
	var idRaw []byte
	idEsc, haveID := false, false
	for first := true; ; first = false {
		key, err := p.key(first, ptr)
		if err != nil {
			return Key{}, err
		}
		if key == nil {
			break
		}
		switch string(key) {
		case "type":
			if t, err = p.typeMember(ptr + "/type"); err != nil {
				return Key{}, err
			}
		case "id":
			if idRaw, idEsc, err = p.idMember(ptr + "/id"); err != nil {
				return Key{}, err
			}
			haveID = true
		default:
			if _, err := s.skip(); err != nil {
				return Key{}, fail(ptr+"/"+escapePointer(string(key)), err)
			}
		}
	}
	if t == nil {
		return Key{}, fail(ptr, errors.New(`the resource identifier has no "type" member`))
	}
	if !haveID {
		return Key{}, fail(ptr, errors.New(`the resource identifier has no "id" member`))
	}
	if !r.keyed && r.elem != t.goType {
		return Key{}, fail(ptr+"/type", fmt.Errorf("relationship %q holds %s records, not %q", r.name, r.elem, t.name))
	}
	id, err := p.idString(idRaw, idEsc, ptr+"/id")
	if err != nil {
		return Key{}, err
	}
	return Key{t.name, id}, nil
}

// setInt stores the low size bytes of n at p.
func setInt(p unsafe.Pointer, size uintptr, n uint64) {
	switch size {
	case 1:
		*(*uint8)(p) = uint8(n)
	case 2:
		*(*uint16)(p) = uint16(n)
	case 4:
		*(*uint32)(p) = uint32(n)
	default:
		*(*uint64)(p) = n
	}
}
