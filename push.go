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
	"sync"
	"time"
	"unsafe"
)

// Push merges a JSON:API document into the Store and returns the keys of
// its primary records, in the order of its data. doc may be JSON text
// ([]byte, json.RawMessage or string), an io.Reader (read to its end), a
// *Document or Document, or any other Go value that encoding/json can
// marshal into a JSON:API document, such as a map[string]any literal.
// Push does not keep doc or the bytes read from it. A Document is read
// directly, without a detour through JSON text, and is held to the same
// rules: its attribute values decode exactly as their JSON form would
// (a json.RawMessage is taken as it is), so a string for an int field fails
// here too. MaxDocumentBytes applies only to JSON text.
//
// Push follows Ember Data's store.push: data holds one resource, an array
// of them, or null; included resources are stored too but not returned;
// types must match a registered model's type name exactly and numeric ids
// become strings. Resources merge into what the Store holds: attributes the
// document omits keep their values, explicit null sets the zero value (nil
// for pointers), and members the model does not define are ignored. A
// relationship's data replaces the relationship; null or [] clears it; an
// absent relationship, or one with only links or meta, is left as it is.
// A resource's links and meta, and each relationship's, replace those the
// Store holds when the document carries them, and are kept when it omits
// them or sends null (see [Store.Links] and [Related]); either must be an
// object. Declared inverses are kept in step on both sides. When a
// document holds the same resource twice, later copies merge over earlier
// ones, included before data.
//
// A push is all or nothing. When doc is not a valid document for this
// Store, Push returns a *DocumentError (see its doc for the families it
// matches) and the Store is exactly as it was. Readers see either none of a
// push or all of it.
func (s *Store) Push(doc any) ([]Key, error) {
	keys, err := s.push(doc, nil, nil, nil)
	return keys, err
}

// push runs a push and returns the primary records' keys. only, if not
// nil, is the one table primary resources may use. read, if not nil, is
// called with those keys after the push is published and before the
// Store's lock is released, so that it can read the push's result with no
// later change mixed in; it must not call back into the Store's locking
// methods. pre, if not nil, runs first in the push's commit (a save's
// confirmation of what it sent), and its error fails the push.
func (s *Store) push(doc any, only *table, pre func(c *commit) error, read func(keys []Key)) (_ []Key, err error) {
	start := time.Now()
	p := parserPool.Get().(*parser)
	defer p.release()
	// Deferred before the lock is: reports go out once it is released.
	done := false
	defer func() {
		if done && len(p.reports.list) > 0 {
			s.deliver(p.reports.reports()...)
		}
	}()
	p.tables, p.only, p.opts = *s.tables.Load(), only, &s.opts
	p.sc.maxDepth = s.opts.MaxDepth
	switch d := doc.(type) {
	case *Document:
		if d == nil {
			return nil, &DocumentError{Err: errors.New("nil document")}
		}
		p.members = d.norm == nil && s.wantsUnknownMembers()
		err = p.fromDocument(d)
	case Document:
		p.members = d.norm == nil && s.wantsUnknownMembers()
		err = p.fromDocument(&d)
	default:
		var buf []byte
		if buf, err = s.documentBytes(doc); err != nil {
			return nil, err
		}
		p.sc = scanner{buf: buf, maxDepth: s.opts.MaxDepth, names: p.sc.names[:0], objs: p.sc.objs[:0]}
		p.members = s.wantsUnknownMembers()
		err = p.document()
	}
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := doc.(*Document); ok && d.guard != nil {
		if err := d.guard(); err != nil {
			return nil, err
		}
	}
	c := newCommit(s, CausePush)
	c.staged = p.more
	c.stagedLIDs = p.lids
	// Whatever panics before publish (a library bug, or user code such as
	// a Clone method that copies an attribute), the commit is undone and
	// the lock released before the panic goes on to the caller.
	defer c.abort()
	c.grow(p.data.len() + p.included.len())
	if pre != nil {
		if err := pre(c); err != nil {
			c.abort()
			return nil, err
		}
	}
	for _, list := range []*chunked[staged]{&p.included, &p.data} {
		for i := range list.len() {
			st := list.at(i)
			if st.t.stale != nil && c.isStale(st) || c.since != 0 && c.savedSince(st) {
				p.reports.add(ReportStale, st.t.name, "", func() Report {
					return Report{Pointer: st.ptr(), Message: "older than the record held: left out"}
				})
				continue
			}
			if err := c.apply(st, &p.rels); err != nil {
				c.abort()
				return nil, err
			}
		}
	}
	if len(s.subscribersList()) > 0 {
		// Events go out in document order: data, then included.
		c.first = make([]*entry, 0, p.data.len()+p.included.len())
		for _, list := range []*chunked[staged]{&p.data, &p.included} {
			for i := range list.len() {
				c.first = append(c.first, list.at(i).e)
			}
		}
	}
	c.publish()
	keys := make([]Key, p.data.len())
	for i := range keys {
		st := p.data.at(i)
		keys[i] = Key{st.t.name, st.id}
	}
	if read != nil {
		// Still under the lock: what read sees is exactly this push's
		// result, related records included.
		s.inject("read")
		read(keys)
	}
	s.enforceBounds(c)
	done = true
	s.stats.pushes.record(time.Since(start))
	return keys, nil
}

// parserPool keeps parsers' scratch slices between pushes, so that a push
// of n resources does not regrow them from nothing.
var parserPool = sync.Pool{New: func() any { return new(parser) }}

// release clears every reference the parser holds and returns it to the
// pool, unless its buffers have grown too large to keep.
func (p *parser) release() {
	if p.data.len()+p.included.len()+p.rels.len() > 1<<16 {
		return
	}
	p.data.reset()
	p.included.reset()
	p.rels.reset()
	// A failed parse leaves open objects behind, maybe with maps.
	clear(p.sc.objs[:cap(p.sc.objs)])
	sc := scanner{names: p.sc.names[:0], objs: p.sc.objs[:0]}
	*p = parser{sc: sc, data: p.data, included: p.included, rels: p.rels, path: p.path[:0], scratch: p.scratch[:0]}
	parserPool.Put(p)
}

// chunked is an append-only list stored in fixed-size chunks: growing it
// never copies, and pointers to its elements stay valid.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkSize = 1024

func (c *chunked[T]) len() int { return c.n }

func (c *chunked[T]) at(i int) *T { return &c.chunks[i/chunkSize][i%chunkSize] }

func (c *chunked[T]) add(v T) {
	if c.n/chunkSize == len(c.chunks) {
		c.chunks = append(c.chunks, make([]T, chunkSize))
	}
	c.chunks[c.n/chunkSize][c.n%chunkSize] = v
	c.n++
}

// reset empties the list, dropping every reference it held but keeping the
// first chunk for reuse.
func (c *chunked[T]) reset() {
	for _, ch := range c.chunks {
		clear(ch)
	}
	if len(c.chunks) > 1 {
		c.chunks = c.chunks[:1]
	}
	c.n = 0
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
	hi *[]uint64 // attributes from 64 on, rarely needed
}

func (b *bitset) add(i int) {
	if i < 64 {
		b.lo |= 1 << i
		return
	}
	w := i/64 - 1
	if b.hi == nil {
		b.hi = new([]uint64)
	}
	for len(*b.hi) <= w {
		*b.hi = append(*b.hi, 0)
	}
	(*b.hi)[w] |= 1 << (i % 64)
}

func (b *bitset) has(i int) bool {
	if i < 64 {
		return b.lo&(1<<i) != 0
	}
	w := i/64 - 1
	return b.hi != nil && w < len(*b.hi) && (*b.hi)[w]&(1<<(i%64)) != 0
}

// staged is one parsed and validated resource, ready to merge.
type staged struct {
	t      *table
	id     string
	v      *version // private; v.val holds the attributes the resource carried
	set    bitset   // which attributes it carried
	relLo  int32    // its relationships are parser.rels from relLo to relHi
	relHi  int32
	idx    int32  // index in its section, -1 for a single data resource
	inIncl bool   // it comes from included, not data
	e      *entry // set by apply
}

type stagedRel struct {
	ri   int
	one  Key   // a to-one's target; zero for null
	many []Key // a to-many's members
}

func (st *staged) ptr() string {
	sec := "/data"
	if st.inIncl {
		sec = "/included"
	}
	if st.idx < 0 {
		return sec
	}
	return sec + "/" + strconv.Itoa(int(st.idx))
}

// escapePointer escapes one JSON pointer reference token (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// parser turns JSON text into staged resources. It reads the Store's
// models but changes nothing. It tracks where it is as a path of segments
// and renders a JSON pointer only when it fails, so a valid document costs
// no pointer strings.
type parser struct {
	sc       scanner
	tables   map[string]*table
	only     *table
	opts     *Options
	count    int // resources so far
	links    int // resource identifiers in relationship data so far
	hasData  bool
	data     chunked[staged]
	included chunked[staged]
	path     []seg
	userDoc  bool               // pushing a Document the caller made, not a serializer
	keyRaw   []byte             // the name key last read, as in the document
	keyEsc   bool               // whether keyRaw holds escapes
	rels     chunked[stagedRel] // every staged resource's relationships
	ids      map[string]string  // linkage ids seen, so repeats share one string
	scratch  []byte             // renders Go attribute values as JSON text
	raws     *rawStore          // the pushed Document's raw attributes
	members  bool               // report members the model does not define
	reports  reportSet          // what the push reports (see report.go)

	more map[stagedAt]*more // links and meta staged resources carried
	// lids holds the lid of each staged resource that has an id too: the
	// record created here that the lid names gets that id (see
	// assignID). Rare, so kept beside the resources.
	lids map[stagedAt]string
}

// seg is one JSON pointer reference token: a member name (name, or raw
// bytes of the input) or an array index.
type seg struct {
	name string
	raw  []byte
	idx  int
}

func (p *parser) in(name string) { p.path = append(p.path, seg{name: name, idx: -1}) }
func (p *parser) inRaw(b []byte) { p.path = append(p.path, seg{raw: b, idx: -1}) }
func (p *parser) at(i int)       { p.path = append(p.path, seg{idx: i}) }
func (p *parser) out()           { p.path = p.path[:len(p.path)-1] }

func (p *parser) pointer() string { return renderPointer(p.path) }

// renderPointer renders a path as a JSON pointer.
func renderPointer(path []seg) string {
	var b strings.Builder
	for _, sg := range path {
		b.WriteByte('/')
		switch {
		case sg.idx >= 0:
			b.WriteString(strconv.Itoa(sg.idx))
		case sg.raw != nil:
			b.WriteString(escapePointer(string(sg.raw)))
		default:
			b.WriteString(escapePointer(sg.name))
		}
	}
	return b.String()
}

// fail wraps err in a *DocumentError pointing at the current path.
func (p *parser) fail(err error) error { return &DocumentError{Pointer: p.pointer(), Err: err} }

// wrong consumes the value at the cursor, which is of the wrong kind, and
// fails with msg, or with the syntax error that consuming it hits first.
func (p *parser) wrong(format string, args ...any) error {
	p.sc.next()
	at := p.sc.pos
	if _, err := p.sc.skip(); err != nil {
		return p.failIn(err, at)
	}
	return p.fail(fmt.Errorf(format, args...))
}

// skipMember skips the value of an ignored member named key.
func (p *parser) skipMember(key []byte) error {
	start := p.sc.pos
	if _, err := p.sc.skip(); err != nil {
		p.inRaw(key)
		return p.failIn(err, start)
	}
	return nil
}

// failIn is fail for an error met while skipping the value that starts at
// start: a repeated name inside the value is pointed at exactly.
func (p *parser) failIn(err error, start int) error {
	if off := duplicateAt(err) - p.sc.base; off >= int64(start) {
		ptr := p.pointer() + pointerAt(p.sc.buf[start:], int(off)-start)
		return &DocumentError{Pointer: ptr, Err: err}
	}
	return p.fail(err)
}

func (p *parser) document() error {
	s := &p.sc
	if c := s.next(); c != '{' {
		start := s.pos
		if _, err := s.skip(); err != nil {
			return p.failIn(err, start)
		}
		if !s.atEnd() {
			return p.fail(s.syntax("data after the top-level value"))
		}
		return p.fail(fmt.Errorf("the top-level value must be an object, not %s", kindName(c)))
	}
	if err := s.openObject(); err != nil {
		return p.fail(err)
	}
	haveIncluded := false
	for first := true; ; first = false {
		key, err := p.key(first)
		if err != nil {
			return err
		}
		if key == nil {
			break
		}
		switch string(key) {
		case "data":
			if p.hasData {
				return p.repeated(key)
			}
			p.hasData = true
			p.in("data")
			err = p.primary()
		case "included":
			if haveIncluded {
				return p.repeated(key)
			}
			haveIncluded = true
			p.in("included")
			p.included.reset()
			err = p.resources(&p.included)
		default:
			if err := p.skipOther(key); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		p.out()
	}
	if !s.atEnd() {
		return p.fail(s.syntax("data after the top-level value"))
	}
	if !p.hasData {
		return p.fail(errors.New(`the document has no "data" member`))
	}
	return nil
}

// key reads the next member name of the current object, or returns nil at
// its end. The caller checks the object's names for repeats: it tracks
// those it knows (a bitset of attributes, a flag per resource member),
// and passes the rest to skipOther.
func (p *parser) key(first bool) ([]byte, error) {
	key, esc, ok, err := p.sc.memberUnchecked(first)
	if err != nil {
		return nil, p.fail(err)
	}
	if !ok {
		return nil, nil
	}
	p.keyRaw, p.keyEsc = key, esc
	if esc {
		k, err := p.sc.unquote(key)
		if err != nil {
			return nil, p.fail(err)
		}
		return []byte(k), nil
	}
	return key, nil
}

// repeated fails on key, the name key just read, which the object
// already had.
func (p *parser) repeated(key []byte) error {
	p.inRaw(key)
	return p.fail(p.sc.duplicate(nameStart(p.sc.buf, p.keyRaw), string(key)))
}

// skipOther checks that key, the name key just read and one the caller
// does not track, is new to its object, and skips its value.
func (p *parser) skipOther(key []byte) error {
	if err := p.sc.unique(p.keyRaw, p.keyEsc); err != nil {
		p.inRaw(key)
		return p.fail(err)
	}
	return p.skipMember(key)
}

func (p *parser) primary() error {
	s := &p.sc
	p.data.reset()
	switch c := s.next(); c {
	case 'n':
		if err := s.literal("null"); err != nil {
			return p.fail(err)
		}
		return nil
	case '{':
		st, err := p.resource(false, -1)
		if err != nil {
			return err
		}
		p.data.add(st)
		return nil
	case '[':
		return p.resources(&p.data)
	default:
		return p.wrong("data must be an object, an array or null, not %s", kindName(c))
	}
}

func (p *parser) resources(out *chunked[staged]) error {
	s := &p.sc
	sec := p.path[len(p.path)-1].name
	incl := sec == "included"
	if c := s.next(); c != '[' {
		return p.wrong("%s must be an array, not %s", sec, kindName(c))
	}
	if err := s.openArray(); err != nil {
		return p.fail(err)
	}
	for i := 0; ; i++ {
		more, err := s.element(i == 0)
		if err != nil {
			return p.fail(err)
		}
		if !more {
			return nil
		}
		p.at(i)
		st, err := p.resource(incl, i)
		if err != nil {
			return err
		}
		p.out()
		out.add(st)
	}
}

// resource parses one resource object. When "type" comes after
// "attributes" or "relationships", their values are skipped and decoded
// once the type is known.
func (p *parser) resource(incl bool, idx int) (staged, error) {
	s := &p.sc
	st := staged{inIncl: incl, idx: int32(idx)}
	p.count++
	if p.count > p.opts.MaxResources {
		return st, p.fail(&LimitError{Limit: "MaxResources", Max: p.opts.MaxResources})
	}
	if c := s.next(); c != '{' {
		return st, p.wrong("a resource must be an object, not %s", kindName(c))
	}
	if err := s.openObject(); err != nil {
		return st, p.fail(err)
	}
	type deferred struct{ pos, depth int }
	var attrs, rels *deferred
	var idRaw, lidRaw []byte
	idEsc, haveID := false, false
	lidEsc, haveLID := false, false
	relStart := p.rels.len()
	haveAttrs, haveRels := false, false // (a second "type" finds st.t set)
	var lm linksMeta                    // the resource's links and meta
	haveLinks, haveMeta := false, false
	for first := true; ; first = false {
		key, err := p.key(first)
		if err != nil {
			return st, err
		}
		if key == nil {
			break
		}
		switch string(key) {
		case "type":
			if st.t != nil {
				return st, p.repeated(key)
			}
			p.in("type")
			t, err := p.typeMember()
			if err != nil {
				return st, err
			}
			if p.only != nil && !incl && t != p.only {
				return st, p.fail(fmt.Errorf("want type %q, got %q", p.only.name, t.name))
			}
			p.out()
			st.t = t
			st.v = t.newVersion()
		case "id":
			if haveID {
				return st, p.repeated(key)
			}
			p.in("id")
			if idRaw, idEsc, err = p.idMember(); err != nil {
				return st, err
			}
			p.out()
			haveID = true
		case "lid":
			if haveLID {
				return st, p.repeated(key)
			}
			p.in("lid")
			if lidRaw, lidEsc, err = p.idMember(); err != nil {
				return st, err
			}
			p.out()
			haveLID = true
		case "attributes", "relationships":
			have := &haveAttrs
			if key[0] == 'r' {
				have = &haveRels
			}
			if *have {
				return st, p.repeated(key)
			}
			*have = true
			if st.t == nil {
				d := &deferred{s.pos, s.depth}
				if key[0] == 'a' {
					attrs = d
				} else {
					rels = d
				}
				if err := p.skipMember(key); err != nil {
					return st, err
				}
				continue
			}
			if key[0] == 'a' {
				err = p.attributes(&st)
			} else {
				err = p.relationships(&st)
			}
			if err != nil {
				if haveID {
					p.nameID(err, idRaw, idEsc)
				}
				return st, err
			}
		case "links", "meta":
			have, dst := &haveLinks, &lm.links
			if key[0] == 'm' {
				have, dst = &haveMeta, &lm.meta
			}
			if *have {
				return st, p.repeated(key)
			}
			*have = true
			if *dst, err = p.linksObject(string(key)); err != nil {
				return st, err
			}
		default:
			if err := p.skipOther(key); err != nil {
				return st, err
			}
		}
	}
	// A missing member is pointed at by its name, as DocumentError says.
	if st.t == nil {
		p.in("type")
		return st, p.fail(errors.New(`the resource has no "type" member`))
	}
	var lid string
	if haveLID {
		p.in("lid")
		var err error
		if lid, err = p.idString(lidRaw, lidEsc, false); err != nil {
			return st, err
		}
		p.out()
	}
	switch {
	case haveID:
		if err := p.setID(&st, idRaw, idEsc); err != nil {
			return st, err
		}
		p.in("id")
		if err := p.notLID(st.t, st.id); err != nil {
			return st, err
		}
		p.out()
		p.setLID(&st, lid)
	case haveLID:
		p.in("lid")
		if err := p.byLID(&st, lid); err != nil {
			return st, err
		}
		p.out()
	default:
		p.in("id")
		return st, p.fail(errors.New(`the resource has no "id" member`))
	}
	if lm != (linksMeta{}) {
		p.moreOf(&st).linksMeta = lm
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
	st.relLo, st.relHi = int32(relStart), int32(p.rels.len())
	return st, nil
}

// typeMember reads a "type" value and finds its model.
func (p *parser) typeMember() (*table, error) {
	s := &p.sc
	if c := s.next(); c != '"' {
		return nil, p.wrong("type must be a string, not %s", kindName(c))
	}
	raw, esc, err := s.str()
	if err != nil {
		return nil, p.fail(err)
	}
	if esc {
		str, err := s.unquote(raw)
		if err != nil {
			return nil, p.fail(err)
		}
		raw = []byte(str)
	}
	t := p.tables[string(raw)]
	if t == nil {
		return nil, p.fail(unknownType(string(raw), p.tables))
	}
	return t, nil
}

// idMember reads an "id" value: a string, or an integer kept as its text.
func (p *parser) idMember() (raw []byte, esc bool, err error) {
	s := &p.sc
	switch c := s.next(); {
	case c == '"':
		raw, esc, err = s.str()
		if err != nil {
			return nil, false, p.fail(err)
		}
		if len(raw) == 0 {
			return nil, false, p.fail(errors.New("id must not be empty"))
		}
	case c == '-' || ('0' <= c && c <= '9'):
		raw, err = s.number()
		if err != nil {
			return nil, false, p.fail(err)
		}
		if bytes.ContainsAny(raw, ".eE") {
			return nil, false, p.fail(fmt.Errorf("id must be a string or an integer, not %s", raw))
		}
	default:
		return nil, false, p.wrong("id must be a string or an integer, not %s", kindName(c))
	}
	// An escaped id is checked once unquoted (idString), where its stored
	// length is known: escapes shrink it, invalid bytes grow it 3x.
	if len(raw) > p.opts.MaxIDBytes && !esc {
		return nil, false, p.fail(&LimitError{Limit: "MaxIDBytes", Max: p.opts.MaxIDBytes})
	}
	return raw, esc, nil
}

// idString turns a raw id into a string. With share, repeats of one id in
// the document share one string.
func (p *parser) idString(raw []byte, esc, share bool) (string, error) {
	if !esc {
		if !share {
			return string(raw), nil
		}
		if id, ok := p.ids[string(raw)]; ok {
			return id, nil
		}
		if p.ids == nil {
			p.ids = map[string]string{}
		}
		id := string(raw)
		p.ids[id] = id
		return id, nil
	}
	if len(raw) > 6*p.opts.MaxIDBytes {
		// Not even all \uXXXX escapes could shrink it enough.
		return "", p.fail(&LimitError{Limit: "MaxIDBytes", Max: p.opts.MaxIDBytes})
	}
	id, err := p.sc.unquote(raw)
	if err != nil {
		return "", p.fail(err)
	}
	if id == "" {
		return "", p.fail(errors.New("id must not be empty"))
	}
	if len(id) > p.opts.MaxIDBytes {
		return "", p.fail(&LimitError{Limit: "MaxIDBytes", Max: p.opts.MaxIDBytes})
	}
	return id, nil
}

// nameID fills in the resource id of an *AttributeError raised before
// the id was set, so the error names the record it is about.
func (p *parser) nameID(err error, raw []byte, esc bool) {
	var ae *AttributeError
	if !errors.As(err, &ae) || ae.ID != "" {
		return
	}
	ae.ID = string(raw)
	if esc {
		if id, err := p.sc.unquote(raw); err == nil {
			ae.ID = id
		}
	}
}

// setID stores the id in the staged value's primary field.
func (p *parser) setID(st *staged, raw []byte, esc bool) error {
	p.in("id")
	defer p.out()
	id, err := p.idString(raw, esc, false)
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
			if strconv.FormatInt(n, 10) != id {
				return p.fail(nonCanonicalID(st, id, strconv.FormatInt(n, 10)))
			}
		}
	default:
		var n uint64
		if n, err = strconv.ParseUint(id, 10, bits); err == nil {
			setInt(ptr, f.typ.Size(), n)
			if strconv.FormatUint(n, 10) != id {
				return p.fail(nonCanonicalID(st, id, strconv.FormatUint(n, 10)))
			}
		}
	}
	if err != nil {
		return p.fail(fmt.Errorf("id %q does not fit %s's %s primary field", id, st.t.name, f.typ))
	}
	return nil
}

// nonCanonicalID reports an id such as "007" or "+7" for an integer
// primary field: accepting it would make "7" and "007" two records with
// the same ID field.
func nonCanonicalID(st *staged, id, want string) error {
	return fmt.Errorf("id %q of %s must be written %q: its primary field is an integer", id, st.t.name, want)
}

func (p *parser) attributes(st *staged) error {
	s := &p.sc
	t := st.t
	p.in("attributes")
	if c := s.next(); c != '{' {
		return p.wrong("attributes must be an object, not %s", kindName(c))
	}
	if err := s.openObject(); err != nil {
		return p.fail(err)
	}
	for first := true; ; first = false {
		key, err := p.key(first)
		if err != nil {
			return err
		}
		if key == nil {
			p.out()
			return nil
		}
		i, ok := t.attrIdx[string(key)]
		if !ok {
			if err := p.skipOther(key); err != nil {
				return err
			}
			if p.members {
				p.unknownMember(t, key)
			}
			continue
		}
		if st.set.has(i) {
			return p.repeated(key)
		}
		a := &t.attrs[i]
		s.next()
		start := s.pos
		if err := a.decode(s, unsafe.Add(st.v.val, a.off)); err != nil {
			p.in(a.name)
			return p.attrError(st, a, start, err)
		}
		st.set.add(i)
	}
}

// attrError explains why the value at start did not fit attribute a.
func (p *parser) attrError(st *staged, a *attrField, start int, cause error) error {
	var se *SyntaxError
	var le *LimitError
	if errors.As(cause, &se) || errors.As(cause, &le) {
		return p.failIn(cause, start) // a repeated name in the value is a SyntaxError
	}
	s := &p.sc
	s.pos = start
	raw, err := s.skip()
	if err != nil {
		return p.fail(err)
	}
	if ke, ok := cause.(*kindError); ok {
		cause = fmt.Errorf("want %s, got %s", ke.want, kindName(raw[0]))
	}
	val := string(raw)
	if len(val) > 64 {
		val = val[:61] + "..."
	}
	return p.fail(&AttributeError{Type: st.t.name, ID: st.id, Attr: a.name, Value: val, GoType: a.typ, Err: cause})
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
