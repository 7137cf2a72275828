package recstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// normalizer is the state of one Normalize call.
type normalizer struct {
	s           *Store
	sc          scanner
	doc         *Document
	included    []*Resource
	path        []seg
	h           []*Hash // free hashes, one per nesting level of embedded records
	endOfObject bool
	scratch     []byte
	// fast is set when the Document goes straight to a push and is never
	// seen by the caller: attributes then stay raw (see setAttr).
	fast     bool
	attrSlab []rawAttr
	resSlab  []Resource
	dataBuf  []*Resource // Document.Data's storage, kept by the pool
	// rest is set for REST payloads, whose to-one relationships may name
	// their record's type in a sibling member (see polymorphic).
	rest bool
	// resources counts the resources read so far, for MaxResources.
	resources int
	// origins trace where a push's resources come from (see
	// payloadPointer); hashAt is the payload offset of the hash being read.
	origins []payloadOrigin
	hashAt  int
	// reports sums up what a Document's payload reports (see report.go);
	// skips go there too for a push's Document, in place of listing each
	// in Document.Skipped, which the caller never sees.
	reports reportSet
	// members is set when unknown members are to be reported; lost is
	// the reason the last transform lost information, if it did.
	members bool
	lost    string
	// relMore is the links and meta of the relationship object last read,
	// as JSON text, when fast (see relLinksMeta).
	relMore linksMeta
}

// skip records a member left out of the Document on purpose, at the
// current path, for the reason err.
func (n *normalizer) skip(err error) {
	if n.fast {
		n.reportSkip(err)
		return
	}
	n.doc.Skipped = append(n.doc.Skipped, n.fail(err))
}

func newNormalizer(s *Store, payload []byte, fast bool) (*normalizer, error) {
	if len(payload) > s.opts.MaxDocumentBytes {
		return nil, &DocumentError{Err: &LimitError{Limit: "MaxDocumentBytes", Max: s.opts.MaxDocumentBytes}}
	}
	sc := scanner{buf: payload, maxDepth: s.opts.MaxDepth}
	if !fast {
		return &normalizer{s: s, sc: sc, doc: &Document{}, members: s.wantsUnknownMembers()}, nil
	}
	// A Document for a push never reaches the caller, so its normalizer
	// and slabs go back to a pool once the push is done (see release).
	n := normalizerPool.Get().(*normalizer)
	*n = normalizer{s: s, sc: sc, fast: true, members: s.wantsUnknownMembers(),
		path: n.path[:0], h: n.h, scratch: n.scratch[:0], included: n.included[:0],
		attrSlab: n.attrSlab[:0], resSlab: n.resSlab[:0], dataBuf: n.dataBuf,
		origins: n.origins[:0]}
	n.doc = &Document{Data: n.dataBuf[:0], raws: &rawStore{payload: payload}, norm: n}
	return n, nil
}

var normalizerPool = sync.Pool{New: func() any { return new(normalizer) }}

// release returns a normalizer made for a push to the pool, once the
// Document it made has been pushed and is referenced no more. It drops
// every reference into the payload and the Resources, so that the pool
// keeps memory, not data.
func (n *normalizer) release() {
	if !n.fast {
		return
	}
	clear(n.resSlab)
	clear(n.included[:cap(n.included)])
	clear(n.path[:cap(n.path)])
	clear(n.origins[:cap(n.origins)])
	for _, h := range n.h {
		clear(h.members[:cap(h.members)])
		h.members, h.idx, h.dead = h.members[:0], nil, 0
	}
	if n.doc != nil {
		n.dataBuf = n.doc.Data[:0]
		clear(n.dataBuf[:cap(n.dataBuf)])
	}
	*n = normalizer{path: n.path[:0], h: n.h, scratch: n.scratch[:0], included: n.included[:0],
		attrSlab: n.attrSlab[:0], resSlab: n.resSlab[:0], dataBuf: n.dataBuf,
		origins: n.origins[:0]}
	normalizerPool.Put(n)
}

func (n *normalizer) finish() (*Document, error) {
	if !n.sc.atEnd() {
		return nil, n.fail(n.sc.syntax("data after the top-level value"))
	}
	n.doc.Included = append(n.doc.Included, n.included...)
	if len(n.doc.Data)+len(n.doc.Included) > n.s.opts.MaxResources {
		return nil, &DocumentError{Err: &LimitError{Limit: "MaxResources", Max: n.s.opts.MaxResources}}
	}
	n.keepReports()
	return n.doc, nil
}

// The normalizer tracks where it is as the push parser does, and renders
// a JSON pointer only when it fails.
func (n *normalizer) in(name string) { n.path = append(n.path, seg{name: name, idx: -1}) }
func (n *normalizer) at(i int)       { n.path = append(n.path, seg{idx: i}) }
func (n *normalizer) out()           { n.path = n.path[:len(n.path)-1] }

func (n *normalizer) pointer() string { return renderPointer(n.path) }

func (n *normalizer) fail(err error) error { return &DocumentError{Pointer: n.pointer(), Err: err} }

func (n *normalizer) wrong(format string, args ...any) error {
	if _, err := n.sc.skip(); err != nil {
		return n.fail(err)
	}
	return n.fail(fmt.Errorf(format, args...))
}

// key reads the next member name of the current object. At the end of the
// object it returns "" with endOfObject set.
func (n *normalizer) key(first bool) (string, error) {
	key, esc, ok, err := n.sc.member(first)
	if err != nil {
		return "", n.fail(err)
	}
	n.endOfObject = !ok
	if !ok {
		return "", nil
	}
	if esc {
		k, err := n.sc.unquote(key)
		if err != nil {
			return "", n.fail(err)
		}
		return k, nil
	}
	return string(key), nil
}

// hashes reads an array of record hashes of type t into out.
func (n *normalizer) hashes(j *JSONSerializer, t *table, out *[]*Resource, embeddedIn *Resource) error {
	sc := &n.sc
	if err := sc.openArray(); err != nil {
		return n.fail(err)
	}
	for i := 0; ; i++ {
		more, err := sc.element(i == 0)
		if err != nil {
			return n.fail(err)
		}
		if !more {
			return nil
		}
		n.at(i)
		if c := sc.next(); c != '{' {
			return n.wrong("a record hash must be an object, not %s", kindName(c))
		}
		r, err := n.hash(j, t, embeddedIn)
		if err != nil {
			return err
		}
		n.out()
		*out = append(*out, r)
	}
}

func (n *normalizer) putHash(h *Hash) { n.h = append(n.h, h) }

// subHash reads raw, a JSON object already checked by the scanner, into a
// hash the caller returns with putHash.
func (n *normalizer) subHash(raw []byte) (*Hash, error) {
	h := n.getHash()
	sc := n.sc.sub(raw)
	sc.next()
	if err := readHash(&sc, h); err != nil {
		n.putHash(h)
		if err == errNotObject {
			return nil, n.fail(fmt.Errorf("want an object, not %s", kindName(firstByte(raw))))
		}
		return nil, n.fail(err)
	}
	return h, nil
}

func (n *normalizer) getHash() *Hash {
	if k := len(n.h); k > 0 {
		h := n.h[k-1]
		n.h = n.h[:k-1]
		return h
	}
	return &Hash{}
}

// hash reads the record hash at the cursor as a record of type t.
func (n *normalizer) hash(j *JSONSerializer, t *table, _ *Resource) (*Resource, error) {
	h := n.getHash()
	defer n.putHash(h)
	n.markHash(&n.sc)
	start := n.sc
	if err := readHash(&n.sc, h); err != nil {
		return nil, n.failInside(start, err, memberLevel)
	}
	return n.record(j, t, h)
}

// memberLevel locates errors in a record hash at the member whose value
// holds them.
func memberLevel(p []seg) bool { return len(p) == 0 }

// failInside fails with err, which reading the value at start hit,
// pointing into that value as far as descend allows: readHash reads a
// whole hash at once, but the pointer should name the member at fault,
// as a Push's does. It re-reads the value, so it costs nothing until a
// payload fails.
func (n *normalizer) failInside(start scanner, err error, descend func(p []seg) bool) error {
	depth := len(n.path)
	n.path = locate(start, descend, n.path, depth)
	defer func() { n.path = n.path[:depth] }()
	return n.fail(err)
}

// locate walks the value at sc's cursor, which fails to scan, appending to
// path the member names and indices that lead to the failure, while
// descend(path[rel:]) allows going deeper.
func locate(sc scanner, descend func(p []seg) bool, path []seg, rel int) []seg {
	c := sc.next()
	if c != '{' && c != '[' || !descend(path[rel:]) {
		return path
	}
	if c == '{' {
		if sc.openObject() != nil {
			return path
		}
		for first := true; ; first = false {
			key, esc, ok, err := sc.member(first)
			if err != nil || !ok {
				return path
			}
			name := string(key)
			if esc {
				if name, err = sc.unquote(key); err != nil {
					return path
				}
			}
			sc.next()
			probe := sc
			if _, err := probe.skip(); err != nil {
				return locate(sc, descend, append(path, seg{name: name, idx: -1}), rel)
			}
			sc = probe
		}
	}
	if sc.openArray() != nil {
		return path
	}
	for i := 0; ; i++ {
		more, err := sc.element(i == 0)
		if err != nil || !more {
			return path
		}
		probe := sc
		if _, err := probe.skip(); err != nil {
			return locate(sc, descend, append(path, seg{idx: i}), rel)
		}
		sc = probe
	}
}

// A payloadOrigin is where in the payload a resource of a push's Document came
// from, so that an error the push finds in the Document can point into
// the payload instead: the offset of the resource's hash, and the payload
// keys its members were read from. The path to it is found only when a
// push fails (see pathAt), so tracing costs a few words per resource.
type payloadOrigin struct {
	r    *Resource
	off  int // -1: unknown
	keys *memberKeys
	pk   string // a hash's primary key; "" for a JSON:API resource
}

// markHash notes that the hash about to be read starts at sc's cursor.
func (n *normalizer) markHash(sc *scanner) {
	if !n.fast {
		return
	}
	n.hashAt = -1
	sc.next()
	if off, ok := offsetIn(n.doc.raws.payload, sc.buf); ok {
		n.hashAt = off + sc.pos
	}
}

// traced notes where r comes from, for a push's Document only.
func (n *normalizer) traced(r *Resource, keys *memberKeys, pk string) {
	if n.fast {
		n.origins = append(n.origins, payloadOrigin{r: r, off: n.hashAt, keys: keys, pk: pk})
	}
}

// payloadPointer translates ptr, a JSON pointer into doc, which n made,
// into one into the payload doc came from. It leaves ptr as it is where
// it cannot tell.
func (n *normalizer) payloadPointer(doc *Document, ptr string) string {
	tok := strings.Split(ptr, "/")
	if len(tok) < 2 || tok[0] != "" {
		return ptr
	}
	tok = tok[1:]
	var r *Resource
	switch {
	case tok[0] == "data" && !doc.Many && len(doc.Data) == 1:
		r, tok = doc.Data[0], tok[1:]
	case len(tok) >= 2 && (tok[0] == "data" || tok[0] == "included"):
		list := doc.Data
		if tok[0] == "included" {
			list = doc.Included
		}
		i, err := strconv.Atoi(tok[1])
		if err != nil || i < 0 || i >= len(list) {
			return ptr
		}
		r, tok = list[i], tok[2:]
	default:
		return ptr
	}
	var o *payloadOrigin
	for i := range n.origins {
		if n.origins[i].r == r {
			o = &n.origins[i]
			break
		}
	}
	t := n.s.lookupType(r.Type)
	if o == nil || o.off < 0 || t == nil {
		return ptr
	}
	path, ok := pathAt(n.doc.raws.payload, o.off)
	if !ok {
		return ptr
	}
	member := func(name string) { path = append(path, seg{name: name, idx: -1}) }
	jsonapi := o.pk == ""
	switch {
	case len(tok) == 0:
	case tok[0] == "id":
		if jsonapi {
			member("id")
		} else {
			member(o.pk)
		}
	case tok[0] == "type":
		if jsonapi {
			member("type")
		}
	case len(tok) >= 2 && tok[0] == "attributes":
		i, ok := t.attrIdx[unescapePointer(tok[1])]
		if !ok {
			return ptr
		}
		if jsonapi {
			member("attributes")
		}
		member(o.keys.attrs[i])
	case len(tok) >= 2 && tok[0] == "relationships":
		i, ok := t.relIdx[unescapePointer(tok[1])]
		if !ok {
			return ptr
		}
		if jsonapi {
			member("relationships")
			member(o.keys.rels[i])
			for _, x := range tok[2:] {
				member(unescapePointer(x))
			}
			break
		}
		// A hash holds a relationship's ids directly, as scalars or
		// objects: point at the one at fault, not inside it.
		member(o.keys.rels[i])
		if len(tok) >= 4 && tok[2] == "data" {
			if k, err := strconv.Atoi(tok[3]); err == nil {
				path = append(path, seg{idx: k})
			}
		}
	default:
		return ptr
	}
	return renderPointer(path)
}

// counted counts one more resource, failing at the one past
// MaxResources as a Push does, before any more work is spent on it.
func (n *normalizer) counted() error {
	n.resources++
	if n.resources > n.s.opts.MaxResources {
		return n.fail(&LimitError{Limit: "MaxResources", Max: n.s.opts.MaxResources})
	}
	return nil
}

// record turns one hash into a resource of type t.
func (n *normalizer) record(j *JSONSerializer, t *table, h *Hash) (*Resource, error) {
	if err := n.counted(); err != nil {
		return nil, err
	}
	if j.NormalizeHash != nil {
		if err := j.NormalizeHash(t.name, h); err != nil {
			return nil, n.fail(fmt.Errorf("normalizing the %s hash: %w", t.name, err))
		}
	}
	pk := j.PrimaryKey
	if pk == "" {
		pk = "id"
	}
	r := n.newResource(t.name)
	keys := j.keysFor(t)
	n.traced(r, keys, pk)
	raw, ok := h.Raw(pk)
	if !ok {
		n.in(pk)
		return nil, n.fail(fmt.Errorf("the %s hash has no %q member", t.name, pk))
	}
	n.in(pk)
	id, err := n.scalarID(raw)
	if err != nil {
		return nil, err
	}
	n.out()
	r.ID = id

	found := 1 // members read: the primary key, attributes, relationships
	for i := range t.attrs {
		a := &t.attrs[i]
		raw, ok := h.Raw(keys.attrs[i])
		if !ok {
			continue
		}
		found++
		var v any
		var err error
		if a.transform == "" {
			// Built-in coercions are pure: run without a path, and again
			// with one only to fail with a pointer.
			if v, err = n.transform(j.Transforms, t, r.ID, a, raw); err != nil {
				n.in(keys.attrs[i])
				_, err = n.transform(j.Transforms, t, r.ID, a, raw)
				return nil, err
			}
		} else {
			n.in(keys.attrs[i])
			if v, err = n.transform(j.Transforms, t, r.ID, a, raw); err != nil {
				return nil, err
			}
			n.out()
		}
		if n.lost != "" {
			if err := n.lossy(j.Strict, t, r.ID, a, keys.attrs[i], raw); err != nil {
				return nil, err
			}
		}
		n.setAttr(r, t, i, raw, v)
	}
	for i := range t.rels {
		rf := &t.rels[i]
		raw, ok := h.Raw(keys.rels[i])
		if !ok {
			continue
		}
		found++
		var rel *Relationship
		var err error
		if c := firstByte(raw); n.rest && rf.mixed() && !rf.many && c != '{' && c != '[' && c != 'n' {
			rel, err = n.polymorphic(j, rf, h, keys.rels[i], raw)
		} else {
			n.in(keys.rels[i])
			rel, err = n.relationship(j, rf, raw)
			n.out()
		}
		if err != nil {
			return nil, err
		}
		if r.Relationships == nil {
			r.Relationships = make(map[string]*Relationship, len(t.rels))
		}
		r.Relationships[rf.name] = rel
	}
	// A hash whose every member is known has no links member to look for:
	// the common case costs one comparison.
	if h.Len() > found {
		if raw, ok := h.Raw("links"); ok && pk != "links" && !keys.memberSets().named("links") {
			found++
			if err := n.hashLinks(j, t, r, raw); err != nil {
				return nil, err
			}
		}
		if n.members && h.Len() > found {
			n.unknownMembers(t, h, keys, pk)
		}
	}
	return r, nil
}

// scalarID reads an id given as a string or an integer.
func (n *normalizer) scalarID(raw []byte) (string, error) {
	switch {
	case len(raw) > 0 && raw[0] == '"':
		id, err := n.sc.unquote(raw[1 : len(raw)-1])
		if err != nil {
			return "", n.fail(err)
		}
		if id == "" {
			return "", n.fail(errors.New("id must not be empty"))
		}
		return id, nil
	case isPlainInteger(raw):
		return string(raw), nil
	}
	return "", n.fail(fmt.Errorf("id must be a string or an integer, not %s", kindName(firstByte(raw))))
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// polymorphic reads a to-one Key relationship given as a scalar id in a
// REST payload, whose record's type may be named by the member keyed
// after the relationship plus "Type", as Ember Data's RESTSerializer reads
// polymorphic belongsTo relationships: {"author": 1, "authorType":
// "person"}. Without that member it is read as any other.
func (n *normalizer) polymorphic(j *JSONSerializer, rf *relField, h *Hash, key string, raw []byte) (*Relationship, error) {
	// As in Ember, the type's key follows KeyForRelationship but not an
	// Attrs renaming: {"user": 1, "ownerType": "person"} with owner → user.
	typeKey := rf.name
	if j.KeyForRelationship != nil {
		typeKey = j.KeyForRelationship(rf.name)
	}
	typeKey += "Type"
	typRaw, ok := h.Raw(typeKey)
	if !ok || firstByte(typRaw) == 'n' {
		n.in(key)
		defer n.out()
		return n.relationship(j, rf, raw)
	}
	n.in(typeKey)
	if firstByte(typRaw) != '"' {
		return nil, n.fail(fmt.Errorf("a relationship's type must be a string, not %s", kindName(firstByte(typRaw))))
	}
	name, err := n.sc.unquote(typRaw[1 : len(typRaw)-1])
	if err != nil {
		return nil, n.fail(err)
	}
	t := n.s.lookupType(j.modelName(n.s, name))
	if t == nil {
		return nil, n.fail(fmt.Errorf("%w %q", ErrUnknownType, j.modelName(n.s, name)))
	}
	if rf.poly != nil && !rf.polyHolds(t) {
		return nil, n.fail(fmt.Errorf("relationship %q cannot hold %q records", rf.name, t.name))
	}
	n.out()
	n.in(key)
	id, err := n.scalarID(raw)
	if err != nil {
		return nil, err
	}
	n.out()
	return &Relationship{Data: []Key{{t.name, id}}}, nil
}

// relatedType is the model type a relationship's scalar ids refer to.
func (n *normalizer) relatedType(j *JSONSerializer, rf *relField) (*table, error) {
	if !rf.mixed() {
		if t := rf.target.Load(); t != nil {
			return t, nil
		}
		return nil, n.fail(fmt.Errorf("%w: relationship %q relates to %s, which has no model", ErrUnknownType, rf.name, rf.elem))
	}
	name := j.modelName(n.s, rf.name)
	if t := n.s.lookupType(name); t != nil {
		if rf.poly != nil && !rf.polyHolds(t) {
			return nil, n.fail(fmt.Errorf("relationship %q cannot hold %q records", rf.name, t.name))
		}
		return t, nil
	}
	return nil, n.fail(fmt.Errorf("%w %q for relationship %q", ErrUnknownType, name, rf.name))
}

// relationship reads one relationship value: null, a scalar id, an
// {"id","type"} object or an embedded record, or an array of these.
func (n *normalizer) relationship(j *JSONSerializer, rf *relField, raw []byte) (*Relationship, error) {
	rel := &Relationship{Many: rf.many}
	c := firstByte(raw)
	switch {
	case c == 'n':
		return rel, nil
	case rf.many && c != '[':
		return nil, n.fail(fmt.Errorf("to-many relationship %q needs an array, not %s", rf.name, kindName(c)))
	case !rf.many && c == '[':
		return nil, n.fail(fmt.Errorf("to-one relationship %q needs an id, an object or null, not an array", rf.name))
	case !rf.many:
		k, err := n.relatedKey(j, rf, raw)
		if err != nil {
			return nil, err
		}
		rel.Data = []Key{k}
		return rel, nil
	}
	saved := n.sc
	defer func() { n.sc = saved }()
	n.sc = saved.sub(raw)
	sc := &n.sc
	sc.next()
	if err := sc.openArray(); err != nil {
		return nil, n.fail(err)
	}
	rel.Data = []Key{}
	for i := 0; ; i++ {
		more, err := sc.element(i == 0)
		if err != nil {
			return nil, n.fail(err)
		}
		if !more {
			return rel, nil
		}
		sc.next()
		el, err := sc.skip()
		if err != nil {
			return nil, n.fail(err)
		}
		n.at(i)
		k, err := n.relatedKey(j, rf, el)
		if err != nil {
			return nil, err
		}
		n.out()
		rel.Data = append(rel.Data, k)
	}
}

// relatedKey reads one member of a relationship.
func (n *normalizer) relatedKey(j *JSONSerializer, rf *relField, raw []byte) (Key, error) {
	if firstByte(raw) != '{' {
		t, err := n.relatedType(j, rf)
		if err != nil {
			return Key{}, err
		}
		id, err := n.scalarID(raw)
		return Key{t.name, id}, err
	}
	saved := n.sc
	defer func() { n.sc = saved }()
	n.sc = saved.sub(raw)
	n.markHash(&n.sc)
	h := n.getHash()
	defer n.putHash(h)
	if err := readHash(&n.sc, h); err != nil {
		return Key{}, n.fail(err)
	}
	t, err := n.relatedType(j, rf)
	if typRaw, ok := h.Raw("type"); ok && firstByte(typRaw) == '"' {
		name, uerr := n.sc.unquote(typRaw[1 : len(typRaw)-1])
		if uerr != nil {
			return Key{}, n.fail(uerr)
		}
		if t = n.s.lookupType(j.modelName(n.s, name)); t == nil {
			n.in("type")
			return Key{}, n.fail(fmt.Errorf("%w %q", ErrUnknownType, j.modelName(n.s, name)))
		}
		err = nil
		if !rf.keyed && t.goType != rf.elem && !rf.polyHolds(t) {
			return Key{}, n.fail(fmt.Errorf("relationship %q cannot hold %q records", rf.name, t.name))
		}
	}
	if err != nil {
		return Key{}, err
	}
	embedded := j.Embedded[rf.name]
	for k := range h.All() {
		if k != "id" && k != "type" {
			embedded = true
			break
		}
	}
	if !embedded {
		raw, ok := h.Raw("id")
		if !ok {
			n.in("id")
			return Key{}, n.fail(errors.New(`a related object needs an "id"`))
		}
		n.in("id")
		id, err := n.scalarID(raw)
		if err != nil {
			return Key{}, err
		}
		n.out()
		return Key{t.name, id}, nil
	}
	if n.s.opts.MaxDepth > 0 && len(n.path) > n.s.opts.MaxDepth {
		return Key{}, n.fail(&LimitError{Limit: "MaxDepth", Max: n.s.opts.MaxDepth})
	}
	r, err := n.record(hashSerializerFor(n.s, t, j), t, h)
	if err != nil {
		return Key{}, err
	}
	n.included = append(n.included, r)
	return Key{t.name, r.ID}, nil
}
