package recstore

import (
	"fmt"
	"hash/maphash"
	"iter"
	"maps"
	"reflect"
	"unsafe"
)

// ModelOptions configures one model at registration. A nil *ModelOptions
// gives the defaults.
type ModelOptions struct {
	// Inverses declares inverse relationships: it maps a relationship name
	// of this model to the name of the relationship on the related model
	// that mirrors it, e.g. {"tracks": "album"}. It does the same as a
	// `recstore:"inverse=album"` tag on the field, for structs whose tags
	// you cannot change. Declaring one side is enough for models related
	// through *S, []*S or interface fields; Key and []Key fields must
	// declare both.
	Inverses map[string]string

	// Serializer reads this model's payloads in PushPayload and Normalize,
	// and its record hashes when another type's REST payload sideloads
	// them. nil means the Store's Options.Serializer.
	Serializer Serializer

	// Adapter loads this model's records for Find and the other calls
	// that may ask a backend. nil means the Store's Options.Adapter.
	Adapter Adapter

	// Tags gives struct tags to fields, for structs you cannot tag
	// (generated code, another package's types): it maps a Go field name
	// to the tag the field would carry, in the same syntax, e.g.
	// {"ID": `jsonapi:"primary,album"`, "Cents": `jsonapi:"attr,price"
	// recstore:"transform=cents"`}. Each key given (jsonapi, recstore)
	// replaces the field's own; a key given as "" removes it, so
	// `jsonapi:""` leaves the field out of the model. Register reads the
	// result as it reads tags, so options can say whatever a tag can. A
	// name that is not a field of the struct, a malformed tag or another
	// key is a *ModelError, and so is an inverse here that Inverses
	// contradicts (Inverses overrides only the field's own tag).
	Tags map[string]string

	// Expiry is this model's time-based cache policy; nil means the
	// Store's (Options.Expiry). See [Expiry].
	Expiry *Expiry

	// MaxRecords bounds this model's records, as Options.MaxRecords
	// bounds the Store's; <= 0 means no bound of its own.
	MaxRecords int
	// MaxBytes bounds their estimated size in bytes, as
	// Options.MaxBytes bounds the Store's; <= 0 means none of its own.
	MaxBytes int64
}

// A Model is the typed handle to the records of one model type T in one
// Store, returned by [Register]. Its methods are safe for concurrent use.
//
// Every T a Model returns is the caller's own copy: changing it, or the
// slices, maps and pointers it holds, never changes the Store. Records
// change only through pushes and unloads.
//
// Each read therefore deep-copies the attributes that hold memory:
// pointers, slices, maps, empty interfaces and exported struct fields
// element by element; big.Int, big.Float and big.Rat through their own
// Set or Copy; any other type holding pointers that has a method Clone() V
// or Clone() *V (on V or *V), or else Copy() V or Copy() *V, through that
// method. Clone runs on the
// reader's goroutine, where a panic in it goes on to the reader; it must
// not change the value it copies or call back into the Store. time.Time
// and netip's Addr, AddrPort and Prefix are copied as values: the pointers
// they hide are never written. Register refuses a type whose unexported
// fields hold pointers, slices, maps, interfaces, funcs or channels and
// that has no Clone method, because a copy would share them; and, as
// Register cannot see them, a value a type's own UnmarshalJSON stores in
// an interface field must follow the same rules, or the push fails with an
// *AttributeError.
//
// T is a struct whose fields carry google/jsonapi struct tags:
//
//	type Album struct {
//		ID        string   `jsonapi:"primary,album"`
//		Title     string   `jsonapi:"attr,title"`
//		SongCount int      `jsonapi:"attr,songCount,omitempty"`
//		Label     *Label   `jsonapi:"relation,label"`
//		Tracks    []*Track `jsonapi:"relation,tracks" recstore:"inverse=album"`
//	}
//
// The primary field is a string or an integer. Attributes may be strings,
// booleans, any integer or float kind, time.Time (RFC 3339 strings or Unix
// seconds), pointers to these (null gives nil), and any type encoding/json
// decodes (slices, maps, structs, json.Unmarshaler). A relation field is
// one of:
//
//   - *S or []*S, for another model S (or T itself): records of S only;
//   - I or []I, for an interface type I with methods: records of every
//     model S registered in the Store, now or later, whose *S implements I
//     (polymorphic, as Ember's `polymorphic: true`). Each member read is a
//     *S, whether S's methods have value or pointer receivers, so a type
//     switch reads `case *GithubHandle:`;
//   - [Key] or []Key: identifiers of any registered type.
//
// A push whose linkage names a type the field cannot hold fails with a
// *DocumentError and changes nothing. Reads fill *S, []*S, I and []I one
// level deep with the related records' current state: their own pointer
// and interface relations are left nil, and related records the Store does
// not hold are left out (a *S is nil, a []*S shorter than the relationship)
// without an error: [Model.Related] lists them in Related.NotLoaded, and
// [Model.LoadRelated] loads them, or the relationship's related link.
// Every filled pointer is a fresh copy: two reads
// never share one, and a record related twice in one read is copied twice.
// Key and []Key fields are always filled and cost no lookups.
//
// A struct that cannot carry tags (generated code, another package's type)
// is given them through [ModelOptions].Tags.
type Model[T any] struct {
	s *Store
	t *table
}

// Register makes the struct type T a model in s, under the type name in its
// primary tag, and returns its typed handle. It checks T once and caches
// what it learns, so reads and pushes use no reflection. It returns a
// *ModelError (matching ErrInvalidModel) when T is not a struct, has no or
// two primary fields, has a field of an unsupported kind or a malformed
// tag, reuses a member name, has an attribute holding hidden state a copy
// would share (see [Model]), or when s already has a model of that type
// name or Go type, or an inverse does not match. An interface relation's
// inverse must be a relationship back to its model on every model that
// implements the interface, whichever of them registers first.
func Register[T any](s *Store, opts *ModelOptions) (*Model[T], error) {
	rt := reflect.TypeFor[T]()
	sc, err := buildSchema(rt, opts)
	if err != nil {
		return nil, err
	}
	t := &table{
		schema: sc,
		s:      s,
		byID:   newIDMap(),
		newVersion: func() *version {
			x := new(versionOf[T])
			x.v.val = unsafe.Pointer(&x.val)
			return &x.v
		},
		newValue:  func() unsafe.Pointer { return unsafe.Pointer(new(T)) },
		copyValue: func(dst, src unsafe.Pointer) { *(*T)(dst) = *(*T)(src) },
		zero:      unsafe.Pointer(new(T)),
	}
	if opts != nil {
		t.serializer, t.adapter = opts.Serializer, opts.Adapter
		if opts.Expiry != nil {
			exp := *opts.Expiry
			t.expiry = &exp
		}
		t.cache.maxRecords, t.cache.maxBytes = max(opts.MaxRecords, 0), max(opts.MaxBytes, 0)
	}
	for i := range sc.rels {
		if !sc.rels[i].keyed {
			t.fills = true
		}
	}
	t.order.Store(&[]*entry{})
	t.cache.seed = maphash.MakeSeed()
	t.sizers = makeSizers(sc.attrs)

	s.mu.Lock()
	defer s.mu.Unlock()
	names, gos := *s.tables.Load(), *s.goTypes.Load()
	if _, dup := names[sc.name]; dup {
		return nil, &ModelError{GoType: rt, Msg: fmt.Sprintf("type name %q is already registered", sc.name)}
	}
	if _, dup := gos[rt]; dup {
		return nil, &ModelError{GoType: rt, Msg: "Go type is already registered"}
	}
	if err := linkModels(t, gos); err != nil {
		return nil, err
	}
	names, gos = maps.Clone(names), maps.Clone(gos)
	names[sc.name], gos[rt] = t, t
	s.tables.Store(&names)
	s.goTypes.Store(&gos)
	// After tables: a serializer that finds t by a payload key finds it
	// in the push's tables too.
	keys := payloadKeyTable(s.inflector(), names)
	s.payloadKeys.Store(&keys)
	if t.cache.maxRecords > 0 || t.cache.maxBytes > 0 {
		s.startBounds(names)
	}
	return &Model[T]{s: s, t: t}, nil
}

// linkModels resolves the targets of t's pointer relations and of other
// models' relations to t, and matches inverses on both sides. It changes
// nothing unless every check passes. Called with Store.mu held.
func linkModels(t *table, gos map[reflect.Type]*table) error {
	type pending struct {
		r      *relField
		target *table
	}
	var sets []pending
	var invs []struct {
		r   *relField
		inv string
	}
	check := func(from *table, r *relField, to *table) error {
		sets = append(sets, pending{r, to})
		bad := func(msg string, args ...any) error {
			return &ModelError{GoType: from.goType, Field: r.goName, Msg: fmt.Sprintf(msg, args...)}
		}
		if r.inverse == "" {
			return nil
		}
		ii, ok := to.relIdx[r.inverse]
		if !ok {
			return bad("inverse %q is not a relationship of %s", r.inverse, to.goType)
		}
		back := &to.rels[ii]
		if !back.keyed && !back.relatesTo(from.goType) {
			return bad("inverse %s.%s does not relate to %s", to.goType, back.goName, from.goType)
		}
		if back.inverse != "" && back.inverse != r.name {
			return bad("inverse %s.%s names %q as its own inverse, not %q", to.goType, back.goName, back.inverse, r.name)
		}
		if back.inverse == "" {
			invs = append(invs, struct {
				r   *relField
				inv string
			}{back, r.name})
		}
		return nil
	}
	for i := range t.rels {
		r := &t.rels[i]
		if r.keyed {
			continue
		}
		to := gos[r.elem]
		if r.elem == t.goType {
			to = t
		}
		if to == nil {
			continue
		}
		if err := check(t, r, to); err != nil {
			return err
		}
	}
	for _, other := range gos {
		for i := range other.rels {
			r := &other.rels[i]
			if !r.keyed && r.elem == t.goType {
				if err := check(other, r, t); err != nil {
					return err
				}
			}
		}
	}
	// A Key relation can hold any type, so its inverse is found by name
	// on each model that has it. A Key relation there must name it back
	// (Register cannot imply a side whose type it cannot know); a pointer
	// relation to the declaring model has it implied, as above.
	keyed := func(from *table, r *relField, to *table) error {
		ii, ok := to.relIdx[r.inverse]
		if !ok {
			return nil
		}
		back := &to.rels[ii]
		bad := func(msg string, args ...any) error {
			return &ModelError{GoType: from.goType, Field: r.goName, Msg: fmt.Sprintf(msg, args...)}
		}
		switch {
		case back.keyed && back.inverse != r.name:
			return bad("its inverse %s.%s is a Key relation, so it must declare %q as its own inverse too", to.goType, back.goName, r.name)
		case !back.keyed && back.relatesTo(from.goType) && back.inverse != "" && back.inverse != r.name:
			return bad("inverse %s.%s names %q as its own inverse, not %q", to.goType, back.goName, back.inverse, r.name)
		case !back.keyed && back.relatesTo(from.goType) && back.inverse == "":
			invs = append(invs, struct {
				r   *relField
				inv string
			}{back, r.name})
		}
		return nil
	}
	for i := range t.rels {
		if r := &t.rels[i]; r.keyed && r.inverse != "" {
			if err := keyed(t, r, t); err != nil {
				return err
			}
			for _, other := range gos {
				if err := keyed(t, r, other); err != nil {
					return err
				}
			}
		}
	}
	for _, other := range gos {
		for i := range other.rels {
			if r := &other.rels[i]; r.keyed && r.inverse != "" {
				if err := keyed(other, r, t); err != nil {
					return err
				}
			}
		}
	}

	// Polymorphic relations: their inverses are checked per model that
	// implements the interface, once the checks above have implied theirs.
	polys, implied, err := linkPoly(t, gos, func(r *relField) string {
		for _, iv := range invs {
			if iv.r == r {
				return iv.inv
			}
		}
		return r.inverse
	})
	if err != nil {
		return err
	}

	for _, p := range sets {
		p.r.target.Store(p.target)
	}
	addImpls(polys)
	t.s.invMu.Lock()
	for _, iv := range invs {
		iv.r.inverse = iv.inv
	}
	for r, inv := range implied {
		r.inverse = inv
	}
	t.s.invMu.Unlock()
	return nil
}

// MustRegister is like Register but panics on error. It is for package
// initialisation and tests, where a bad model is a programming error.
func MustRegister[T any](s *Store, opts *ModelOptions) *Model[T] {
	m, err := Register[T](s, opts)
	if err != nil {
		panic(err)
	}
	return m
}

// A Versioned is what an ordering guard compares (see GuardOrder): a
// record and the meta object of its resource (nil if it has none), where
// some backends put a version.
type Versioned[T any] struct {
	// Record is the record: for the incoming one, its attributes as the
	// resource carried them and the others zero.
	Record *T
	// Meta is the resource's meta object: for the held record, the one
	// the Store keeps (see Store.Meta).
	Meta map[string]any

	// sent says which attributes the incoming resource carried; nil for
	// the held record, which has them all.
	t    *table
	sent *bitset
}

// Has reports whether the record has the attribute name: the incoming
// one only if its resource carried it (a partial update carries some),
// the held one always. A guard compares a version only when it came:
//
//	func(in, held Versioned[T]) bool {
//		return in.Has("updatedAt") && in.Record.UpdatedAt.Before(held.Record.UpdatedAt)
//	}
func (v Versioned[T]) Has(name string) bool {
	if v.t == nil {
		return false // a Versioned the Store did not make
	}
	i, ok := v.t.attrIdx[name]
	return ok && (v.sent == nil || v.sent.has(i))
}

// GuardOrder makes pushes of this model leave out a resource that stale
// says is older than the record the Store holds, as messages from a
// stream can arrive out of order: stale gets the incoming record and the
// one held, each with its meta, and reports whether the incoming one is
// older, by an updatedAt attribute or a version in meta, say. A partial
// update carries some attributes only: compare one the resource carried
// (see Versioned.Has), or a partial update without it reads as older. A resource left out is reported
// (ReportStale, see Options.OnReport) and the rest of the push lands;
// Push and PushPayload still return its key. Records the Store does not
// hold yet are never stale. stale runs while the push holds the Store's
// lock: it must be quick and must not call the Store; a panic in it
// fails the push, which changes nothing, and reaches the caller. nil
// removes the guard. The guard applies to every push, answers to Find
// and saves included.
func (m *Model[T]) GuardOrder(stale func(incoming, held Versioned[T]) bool) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if stale == nil {
		m.t.stale = nil
		return
	}
	t := m.t
	m.t.stale = func(in, held unsafe.Pointer, sent *bitset, inMeta, heldMeta map[string]any) bool {
		return stale(Versioned[T]{(*T)(in), inMeta, t, sent}, Versioned[T]{(*T)(held), heldMeta, t, nil})
	}
}

// Type returns the model's JSON:API type name.
func (m *Model[T]) Type() string { return m.t.name }

// Store returns the Store the model is registered in.
func (m *Model[T]) Store() *Store { return m.s }

// Peek returns a copy of the record id and true, or the zero T and false if
// the Store does not hold it. It does no I/O and takes no lock. A model
// with *S, []*S, I or []I relations pays one lookup and one allocation per
// related record it fills; a model with only attributes and Key relations
// allocates nothing unless its attributes hold slices, maps or pointers,
// which are deep-copied.
func (m *Model[T]) Peek(id string) (out T, ok bool) {
	t := m.t
	if t.clones == nil && !t.fills {
		// Copied straight into the result: each extra copy of a T through
		// a generic return costs as much as the lookup.
		v := t.peek(id)
		if v == nil {
			return out, false
		}
		out = *(*T)(v.val)
		if len(t.rels) > 0 {
			t.fillKeys(v, unsafe.Pointer(&out))
		}
		return out, true
	}
	m.s.consistent(func() {
		v := t.peek(id)
		if ok = v != nil; ok {
			out = m.value(v, true)
		}
	})
	return out, ok
}

// value materialises v as a T. Types whose reads need no deep copies and
// no lookups take a path on which the T never leaves the stack.
func (m *Model[T]) value(v *version, fill bool) T {
	t := m.t
	if t.clones == nil && !t.fills {
		out := *(*T)(v.val)
		if len(t.rels) > 0 {
			t.fillKeys(v, unsafe.Pointer(&out))
		}
		return out
	}
	out := new(T)
	t.read(v, unsafe.Pointer(out), fill)
	return *out
}

// Has reports whether the Store holds the record id.
func (m *Model[T]) Has(id string) bool { return m.t.loaded(id) != nil }

// Len returns the number of loaded records of this type.
func (m *Model[T]) Len() int { return int(m.t.live.Load()) }

// All returns an iterator over the model's records, as (id, copy) pairs in
// the order they were first loaded. It yields the records loaded when the
// iteration starts that are still loaded when reached; each is read
// atomically, but a push landing during the iteration may be seen by later
// records and not earlier ones. No lock is held while yield runs.
func (m *Model[T]) All() iter.Seq2[string, T] {
	return func(yield func(string, T) bool) {
		t := m.t
		for _, e := range *t.order.Load() {
			var out T
			ok := false
			read := func() {
				v := e.cur.Load()
				if ok = v.listed(); ok {
					out = m.value(v, true)
				}
			}
			if t.fills {
				m.s.consistent(read)
			} else {
				read()
			}
			if ok && !yield(e.id, out) {
				return
			}
		}
	}
}

// Push pushes a JSON:API document as [Store.Push] does, and returns copies
// of its primary records. Every primary resource must be of this model's
// type; otherwise Push returns a *DocumentError and changes nothing.
// Included resources may be of any registered type.
func (m *Model[T]) Push(doc any) ([]T, error) {
	var out []T
	_, err := m.s.push(doc, m.t, nil, func(keys []Key) { out = m.values(keys) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// values reads the records of keys that are of this model's type, as they
// are now; the caller holds the Store's lock.
func (m *Model[T]) values(keys []Key) []T {
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		if k.Type != m.t.name {
			continue
		}
		if v := m.t.loaded(k.ID); v != nil {
			out = append(out, m.value(v, m.t.fills))
		}
	}
	return out
}

// Related returns the relationship name of the record id; see
// [Store.Related].
func (m *Model[T]) Related(id, name string) (Related, bool) {
	return m.s.Related(Key{m.t.name, id}, name)
}

// Unload removes the record id; see [Store.Unload].
func (m *Model[T]) Unload(id string) error { return m.s.Unload(Key{m.t.name, id}) }

// UnloadAll removes every record of this type; see [Store.UnloadAll]. It
// fails with ErrSaving, unloading nothing, while a save of one is in
// flight.
func (m *Model[T]) UnloadAll() error { return m.s.UnloadAll(m.t.name) }
