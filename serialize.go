package recstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/recstore/recstore/inflect"
)

// SerializeOptions control how a record is written back.
type SerializeOptions struct {
	// IncludeID writes the record's id, as a PATCH or PUT needs. Without
	// it the record is written as for a POST that lets the server choose.
	IncludeID bool
}

// A RecordSerializer is a Serializer that can also write a record in its
// backend's form: what Ember Data's serialize does. The built-in
// serializers are RecordSerializers; see [Store.Serialize].
type RecordSerializer interface {
	Serializer
	Serialize(s *Store, snap *Snapshot, opts SerializeOptions) ([]byte, error)
}

var (
	_ RecordSerializer = (*JSONSerializer)(nil)
	_ RecordSerializer = (*RESTSerializer)(nil)
	_ RecordSerializer = (*JSONAPISerializer)(nil)
)

// A Snapshot is one record as the Store held it at one moment: its
// attributes and relationships, consistent with each other. It is the
// caller's own copy: later pushes do not change it, and changing what it
// returns does not change the Store. A Snapshot is not safe for
// concurrent use.
//
// The Snapshots given to a ReloadPolicy are taken when first read, so
// that a policy that does not look at them costs nothing.
type Snapshot struct {
	Key Key // the record's type and id; the id is empty for a record that has none yet
	// LID is the local identifier of a record created without an id that
	// has none yet (see LIDPrefix), which serializers write as JSON:API
	// 1.1's lid member; empty otherwise.
	LID  string
	t    *table
	val  unsafe.Pointer // a private deep copy of the T
	rels []Related
	lazy *Store // set until a lazy Snapshot is taken
}

// lazySnapshot returns a Snapshot of t/id that is taken on first use.
func (s *Store) lazySnapshot(t *table, id string) *Snapshot {
	return &Snapshot{Key: Key{t.name, id}, t: t, lazy: s}
}

// take fills a lazy Snapshot. A record unloaded meanwhile reads as its
// zero value with no relationships.
func (sn *Snapshot) take() {
	if sn.lazy == nil {
		return
	}
	s := sn.lazy
	sn.lazy = nil
	if full, ok := s.Snapshot(sn.Key); ok {
		*sn = *full
		return
	}
	sn.val = sn.t.newValue()
	sn.rels = make([]Related, len(sn.t.rels))
	for i := range sn.t.rels {
		sn.rels[i] = Related{Name: sn.t.rels[i].name, Many: sn.t.rels[i].many}
	}
}

// Snapshot returns a Snapshot of the record k, or false if the Store does
// not hold it.
func (s *Store) Snapshot(k Key) (*Snapshot, bool) {
	t := s.lookupType(k.Type)
	if t == nil {
		return nil, false
	}
	var snap *Snapshot
	s.consistent(func() {
		e := t.entry(k.ID)
		if e == nil {
			snap = nil
			return
		}
		snap = s.snapshotOf(t, e, e.cur.Load())
	})
	return snap, snap != nil
}

// snapshotOf builds a Snapshot of e's version v, or returns nil if v is
// not loaded. Called within consistent or with Store.mu held.
func (s *Store) snapshotOf(t *table, e *entry, v *version) *Snapshot {
	if v == nil || v.val == nil {
		return nil
	}
	p := t.newValue()
	t.read(v, p, false)
	states := make([]relState, 0, len(t.rels))
	for i := range t.rels {
		st := *v.rel(i)
		st.many = slices.Clone(st.many)
		states = append(states, st)
	}
	snap := &Snapshot{Key: Key{t.name, e.id}, t: t, val: p, rels: make([]Related, len(t.rels))}
	if lid := t.lidOf(e); lid == e.id {
		snap.Key.ID, snap.LID = "", lid
	}
	s.invMu.RLock()
	for i := range t.rels {
		rf := &t.rels[i]
		st := states[i]
		r := Related{Name: rf.name, Many: rf.many, Known: st.known, Inverse: rf.inverse}
		if rf.many {
			r.Keys = st.many
		} else if !st.one.IsZero() {
			r.Keys = []Key{st.one}
		}
		if rf.inverse != "" {
			r.InverseMany = s.inverseMany(t, rf, r.Keys)
		}
		snap.rels[i] = r
	}
	s.invMu.RUnlock()
	for i := range snap.rels {
		for _, rk := range snap.rels[i].Keys {
			if !s.Has(rk) {
				snap.rels[i].NotLoaded = append(snap.rels[i].NotLoaded, rk)
			}
		}
	}
	return snap
}

// inverseMany reports whether the inverse of t's relationship rf is a
// to-many. Called with s.mu or s.invMu held.
func (s *Store) inverseMany(t *table, rf *relField, keys []Key) bool {
	var to *table
	if rf.target != nil {
		to = rf.target.Load()
	}
	if to == nil && len(keys) > 0 {
		to = s.lookupType(keys[0].Type)
	}
	if to != nil {
		if i, ok := to.relIdx[rf.inverse]; ok {
			return to.rels[i].many
		}
		return false
	}
	// A Key relationship with no members: any model whose relationship
	// names this one as its inverse.
	for _, tt := range *s.tables.Load() {
		if i, ok := tt.relIdx[rf.inverse]; ok && tt.rels[i].inverse == rf.name {
			return tt.rels[i].many
		}
	}
	return false
}

// Value returns the record as its model's Go type (a T): a copy whose Key
// relation fields are set and whose pointer relation fields are nil.
func (sn *Snapshot) Value() any {
	sn.take()
	return reflect.NewAt(sn.t.goType, sn.val).Elem().Interface()
}

// Attrs yields the record's attributes, by model attribute name, in the
// order the model declares them. Each value is the field's Go value.
func (sn *Snapshot) Attrs() iter.Seq2[string, any] {
	sn.take()
	return func(yield func(string, any) bool) {
		for i := range sn.t.attrs {
			a := &sn.t.attrs[i]
			if !yield(a.name, sn.attr(a)) {
				return
			}
		}
	}
}

// Attr returns the attribute name's value, or false if the model has no
// such attribute.
func (sn *Snapshot) Attr(name string) (any, bool) {
	sn.take()
	i, ok := sn.t.attrIdx[name]
	if !ok {
		return nil, false
	}
	return sn.attr(&sn.t.attrs[i]), true
}

func (sn *Snapshot) attr(a *attrField) any {
	return reflect.NewAt(a.typ, unsafe.Add(sn.val, a.off)).Elem().Interface()
}

// Relationships yields the record's relationships in the order the model
// declares them.
func (sn *Snapshot) Relationships() iter.Seq[Related] {
	sn.take()
	return func(yield func(Related) bool) {
		for _, r := range sn.rels {
			if !yield(r) {
				return
			}
		}
	}
}

// Relationship returns the relationship name, or false if the model has
// no such relationship.
func (sn *Snapshot) Relationship(name string) (Related, bool) {
	sn.take()
	i, ok := sn.t.relIdx[name]
	if !ok {
		return Related{}, false
	}
	return sn.rels[i], true
}

// SerializeHasMany reports whether a to-many relationship is written when
// its record is serialized, by Ember Data's rule: only when it has no
// inverse or its inverse is also a to-many. The other side of a one-to-many
// owns the link, and writing both would let them disagree.
func (r Related) SerializeHasMany() bool { return r.Inverse == "" || r.InverseMany }

// Serialize writes the record k in its backend's form, with the
// serializer of its type (see [Store.SerializerFor]): a JSON:API document
// for a JSONAPISerializer, a hash under a root key for a RESTSerializer, a
// flat hash for a JSONSerializer. It fails with ErrNotLoaded if the Store
// does not hold k, and ErrNotSerializable if the serializer cannot write
// records.
func (s *Store) Serialize(k Key, opts *SerializeOptions) ([]byte, error) {
	snap, ok := s.Snapshot(k)
	if !ok {
		return nil, fmt.Errorf("serialize %v: %w", k, ErrNotLoaded)
	}
	rs, ok := s.SerializerFor(k.Type).(RecordSerializer)
	if !ok {
		return nil, fmt.Errorf("serialize %v: %w", k, ErrNotSerializable)
	}
	var o SerializeOptions
	if opts != nil {
		o = *opts
	}
	return rs.Serialize(s, snap, o)
}

// Serialize writes the record id as [Store.Serialize] does.
func (m *Model[T]) Serialize(id string, opts *SerializeOptions) ([]byte, error) {
	return m.s.Serialize(Key{m.t.name, id}, opts)
}

// attrJSON renders one attribute's value as the built-in serializers
// write it: through its custom transform if it names one, times in UTC
// ISO 8601 with milliseconds as Ember Data's date transform writes them,
// anything else as encoding/json writes it.
func attrJSON(custom map[string]Transform, t *table, a *attrField, v any) (json.RawMessage, error) {
	if a.transform != "" {
		tr, ok := custom[a.transform]
		if !ok {
			return nil, &AttributeError{Type: t.name, Attr: a.name, GoType: a.typ, Err: fmt.Errorf("%w %q", ErrUnknownTransform, a.transform)}
		}
		out, err := tr.Serialize(v)
		if err != nil {
			return nil, &AttributeError{Type: t.name, Attr: a.name, GoType: a.typ, Err: fmt.Errorf("transform %q: %w", a.transform, err)}
		}
		v = out
	}
	switch tv := v.(type) {
	case time.Time:
		return appendISOTime(nil, tv), nil
	case *time.Time:
		if tv == nil {
			return nullJSON, nil
		}
		return appendISOTime(nil, *tv), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &AttributeError{Type: t.name, Attr: a.name, GoType: a.typ, Err: err}
	}
	return b, nil
}

func appendISOTime(b []byte, tm time.Time) []byte {
	b = append(b, '"')
	b = tm.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, '"')
}

// objectWriter writes one JSON object member by member.
type objectWriter struct {
	b     *bytes.Buffer
	first bool
}

func newObject(b *bytes.Buffer) objectWriter {
	b.WriteByte('{')
	return objectWriter{b: b, first: true}
}

func (o *objectWriter) key(k string) {
	if !o.first {
		o.b.WriteByte(',')
	}
	o.first = false
	kb, _ := json.Marshal(k) // a string always encodes
	o.b.Write(kb)
	o.b.WriteByte(':')
}

func (o *objectWriter) raw(k string, v []byte) {
	o.key(k)
	o.b.Write(v)
}

func (o *objectWriter) close() { o.b.WriteByte('}') }

// writeLinkage writes r's members with ref: an array for a to-many, null
// or the one member for a to-one.
func writeLinkage(b *bytes.Buffer, r Related, ref func(Key)) {
	switch {
	case r.Many:
		b.WriteByte('[')
		for i, k := range r.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			ref(k)
		}
		b.WriteByte(']')
	case len(r.Keys) == 0:
		b.WriteString("null")
	default:
		ref(r.Keys[0])
	}
}

// writeIdentifier writes a two-member object such as {"type": …, "id": …}.
func writeIdentifier(b *bytes.Buffer, k1, v1, k2, v2 string) {
	o := newObject(b)
	o.key(k1)
	writeJSONString(b, v1)
	o.key(k2)
	writeJSONString(b, v2)
	o.close()
}

func writeJSONString(b *bytes.Buffer, s string) {
	sb, _ := json.Marshal(s)
	b.Write(sb)
}

// Serialize writes the record as a flat hash: the id under PrimaryKey
// when opts.IncludeID, each attribute under its payload key (through its
// transform), each to-one as the related id or null, and each to-many as
// an array of ids when [Related.SerializeHasMany] says so. Members of Key
// and []Key relationships, which may be of any type, are written as
// {"id", "type"} objects. Relationships no push has set are left out.
//
// A relationship named in Embedded is written as its records, each as its
// own type's serializer writes a hash, with its id, and without the
// inverse that points back (Ember's embedded: 'always'); to-manys are then
// written whatever their inverse. A related record is written as its id
// when the Store does not hold it, or when this call has written it
// already, which also cuts cycles.
func (j *JSONSerializer) Serialize(s *Store, snap *Snapshot, opts SerializeOptions) ([]byte, error) {
	var b bytes.Buffer
	if err := j.writeHash(s, &b, snap, opts, embedding{}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// embedding is where writeHash is in a tree of embedded records: how deep,
// the inverse relationship the record being written must leave out, the
// type it must name (for a Key relationship's records), and the records
// the whole call has written, which are written once each.
type embedding struct {
	depth int
	skip  string
	typ   string
	seen  map[Key]bool
}

// maxEmbedDepth bounds embedded records within embedded records. Each
// record is embedded once per Serialize call, which bounds the work by the
// Store's size; the depth bounds the nesting of the output.
const maxEmbedDepth = 8

func (j *JSONSerializer) writeHash(s *Store, b *bytes.Buffer, snap *Snapshot, opts SerializeOptions, in embedding) error {
	t := snap.t
	keys := j.keysFor(t)
	o := newObject(b)
	if opts.IncludeID && snap.Key.ID != "" {
		pk := j.PrimaryKey
		if pk == "" {
			pk = "id"
		}
		o.key(pk)
		writeJSONString(b, snap.Key.ID)
	}
	if in.typ != "" {
		o.key("type")
		writeJSONString(b, in.typ)
	}
	for i := range t.attrs {
		a := &t.attrs[i]
		raw, err := attrJSON(j.Transforms, t, a, snap.attr(a))
		if err != nil {
			return err
		}
		o.raw(keys.attrs[i], raw)
	}
	if in.seen == nil {
		in.seen = map[Key]bool{snap.Key: true}
	}
	var err error
	for i, r := range snap.rels {
		embedded := j.Embedded[r.Name] && in.depth < maxEmbedDepth
		if !r.Known || r.Name == in.skip || r.Many && !embedded && !r.SerializeHasMany() {
			continue
		}
		o.key(keys.rels[i])
		// A Key relationship can hold any type, so its members are
		// written as {"id", "type"} objects; others as bare ids.
		keyed := t.rels[i].mixed()
		ref := func(k Key) { writeJSONString(b, k.ID) }
		if keyed {
			ref = func(k Key) { writeIdentifier(b, "id", k.ID, "type", k.Type) }
		}
		if embedded {
			ref = j.embedRecord(s, b, ref, keyed, embedding{depth: in.depth + 1, skip: r.Inverse, seen: in.seen}, &err)
		}
		writeLinkage(b, r, ref)
		if err != nil {
			return err
		}
	}
	o.close()
	return nil
}

// embedRecord returns a writer of related records as embedded hashes,
// each by its own type's serializer, falling back to ref for a record the
// Store does not hold or that this call has written already (which also
// cuts cycles). A keyed relationship's records also name their type, so
// that they can be read back. The first error lands in *err.
func (j *JSONSerializer) embedRecord(s *Store, b *bytes.Buffer, ref func(Key), keyed bool, in embedding, err *error) func(Key) {
	return func(k Key) {
		if in.seen[k] || *err != nil {
			ref(k)
			return
		}
		snap, ok := s.Snapshot(k)
		if !ok {
			ref(k)
			return
		}
		own := hashSerializerFor(s, snap.t, j)
		if keyed {
			// The record must name its type, which it cannot do if a
			// member of its own is written as "type": then it is named.
			keys := own.keysFor(snap.t)
			if slices.Contains(keys.attrs, "type") || slices.Contains(keys.rels, "type") {
				ref(k)
				return
			}
			in.typ = k.Type
		}
		in.seen[k] = true
		var h bytes.Buffer
		if e := own.writeHash(s, &h, snap, SerializeOptions{IncludeID: true}, in); e != nil {
			*err = e
			ref(k)
			return
		}
		b.Write(h.Bytes())
	}
}

// payloadKey is the REST root key for a model type: its PayloadKey hook,
// else the type camelized ("github-handle" → "githubHandle").
func (j *JSONSerializer) payloadKey(typ string) string {
	if j.PayloadKeyFromModelName != nil {
		return j.PayloadKeyFromModelName(typ)
	}
	return inflect.Camelize(typ)
}

// Serialize writes the record as the JSONSerializer does, under a root key
// named for its type: {"album": {...}}.
func (rs *RESTSerializer) Serialize(s *Store, snap *Snapshot, opts SerializeOptions) ([]byte, error) {
	var b bytes.Buffer
	o := newObject(&b)
	o.key(rs.payloadKey(snap.Key.Type))
	if err := rs.writeHash(s, &b, snap, opts, embedding{}); err != nil {
		return nil, err
	}
	o.close()
	return b.Bytes(), nil
}

// payloadKey is the JSON:API type written for a model type: the
// PayloadKeyFromModelName hook, else the type pluralized and dasherized
// ("musicGenre" → "music-genres"), as Ember Data writes its (dasherized)
// model names and as HTTPAdapter's paths name them.
func (j *JSONAPISerializer) payloadKey(s *Store, typ string) string {
	if j.PayloadKeyFromModelName != nil {
		return j.PayloadKeyFromModelName(typ)
	}
	return inflect.Dasherize(s.inflector().Plural(typ))
}

// Serialize writes the record as a JSON:API document:
// {"data": {"type", "id"?, "attributes", "relationships"}}, with plural
// types and member names from the key mappings. A to-one is written as
// {"data": null} or an identifier; a to-many only when
// [Related.SerializeHasMany] says so; relationships no push has set are
// left out.
func (j *JSONAPISerializer) Serialize(s *Store, snap *Snapshot, opts SerializeOptions) ([]byte, error) {
	t := snap.t
	keys := j.keysFor(t)
	var b bytes.Buffer
	doc := newObject(&b)
	doc.key("data")
	res := newObject(&b)
	res.key("type")
	writeJSONString(&b, j.payloadKey(s, t.name))
	switch {
	case snap.LID != "":
		// No id yet: the backend will give one, and the lid lets its
		// answer (and the record's relationships) name this record.
		res.key("lid")
		writeJSONString(&b, snap.LID)
	case opts.IncludeID:
		res.key("id")
		writeJSONString(&b, snap.Key.ID)
	}
	if len(t.attrs) > 0 {
		res.key("attributes")
		attrs := newObject(&b)
		for i := range t.attrs {
			a := &t.attrs[i]
			raw, err := attrJSON(j.Transforms, t, a, snap.attr(a))
			if err != nil {
				return nil, err
			}
			attrs.raw(keys.attrs[i], raw)
		}
		attrs.close()
	}
	var rels *objectWriter
	for i, r := range snap.rels {
		if !r.Known || r.Many && !r.SerializeHasMany() {
			continue
		}
		if rels == nil {
			res.key("relationships")
			o := newObject(&b)
			rels = &o
		}
		rels.key(keys.rels[i])
		rel := newObject(&b)
		rel.key("data")
		writeLinkage(&b, r, func(k Key) {
			member := "id"
			if strings.HasPrefix(k.ID, LIDPrefix) && s.local(k) {
				member = "lid"
			}
			writeIdentifier(&b, "type", j.payloadKey(s, k.Type), member, k.ID)
		})
		rel.close()
	}
	if rels != nil {
		rels.close()
	}
	res.close()
	doc.close()
	return b.Bytes(), nil
}
