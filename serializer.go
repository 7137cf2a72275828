package recstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/recstore/recstore/inflect"
)

// A Serializer translates a backend's payloads into JSON:API documents the
// Store can push: what Ember Data's serializers do on the way in.
//
// Normalize is given the Store (to look up models and other types'
// serializers, never to push), the model type the payload is about ("" when
// the payload itself says, as for [Store.PushPayload] without a type) and
// the payload's JSON text, which it must not keep or modify once it
// returns. It returns a Document for the Store to push; anything it leaves
// out on purpose, such as records of unknown types, it lists in
// Document.Skipped. A Serializer must be safe for concurrent use and must
// not push into the Store itself.
type Serializer interface {
	Normalize(s *Store, typ string, payload []byte) (*Document, error)
}

// SerializerFunc adapts an ordinary function to the Serializer interface.
type SerializerFunc func(s *Store, typ string, payload []byte) (*Document, error)

// Normalize calls f(s, typ, payload).
func (f SerializerFunc) Normalize(s *Store, typ string, payload []byte) (*Document, error) {
	return f(s, typ, payload)
}

// A RecordNormalizer is a Serializer that can also normalize the hash of a
// single record of type typ, as [Store.Normalize] and the RESTSerializer's
// sideloads need. The Document it returns holds the record as its data and
// any records embedded in it as included.
type RecordNormalizer interface {
	Serializer
	NormalizeRecord(s *Store, typ string, hash []byte) (*Document, error)
}

var (
	_ RecordNormalizer = (*JSONSerializer)(nil)
	_ RecordNormalizer = (*RESTSerializer)(nil)
	_ RecordNormalizer = (*JSONAPISerializer)(nil)
)

// SerializerFor returns the serializer of model type typ: the one given
// at its registration in ModelOptions.Serializer, else the Store's default
// from Options.Serializer, else a JSONAPISerializer. For an unknown or
// empty typ it returns the Store's default.
func (s *Store) SerializerFor(typ string) Serializer {
	if t := s.lookupType(typ); t != nil && t.serializer != nil {
		return t.serializer
	}
	if s.opts.Serializer != nil {
		return s.opts.Serializer
	}
	return defaultSerializer
}

var defaultSerializer = &JSONAPISerializer{}

// PushPayload normalizes payload with the serializer of type typ (see
// [Store.SerializerFor]) and pushes the result, all or nothing, as
// [Store.Push] does. typ may be "" when the payload names its types, as a
// REST payload's root keys or a JSON:API document's resources do.
//
// payload takes the forms Push takes: JSON text, an io.Reader, or a Go
// value such as a map[string]any literal, which is encoded first. Unlike
// Ember Data's, PushPayload returns the keys of every record it pushed:
// the primary ones first, in payload order (as Push returns them), then the
// sideloaded and embedded ones, each once. What the serializer skipped or
// coerced with a loss goes, once the push is done, to Options.OnReport
// (or the Logger) as Reports, merged by reason (see [Report]).
//
// An error is a *DocumentError (matching ErrInvalidDocument) for a payload
// the serializer or the Store rejects, or wraps ErrUnknownType for an
// unknown typ; either way the Store is unchanged.
func (s *Store) PushPayload(typ string, payload any) ([]Key, error) {
	var keys []Key
	err := s.pushPayload(typ, payload, nil, nil, func(data []Key, doc *Document) { keys = payloadKeys(doc) })
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// pushPayload normalizes and pushes payload, as PushPayload does. only,
// if not nil, is the one type the primary data may have. check, if not
// nil, may refuse the normalized Document before anything is pushed.
// read, if not nil, is called under the push's lock with the primary keys
// and the pushed Document, as push calls its read.
func (s *Store) pushPayload(typ string, payload any, only *table, check func(*Document) error, read func(data []Key, doc *Document)) error {
	doc, err := s.normalize(typ, payload, false)
	if err != nil {
		return err
	}
	defer func() {
		if doc.norm != nil {
			doc.norm.release()
		}
	}()
	if check != nil {
		if err := check(doc); err != nil {
			return err
		}
	}
	var after func([]Key)
	if read != nil {
		after = func(data []Key) { read(data, doc) }
	}
	_, err = s.push(doc, only, after)
	var de *DocumentError
	if err != nil && doc.norm != nil && errors.As(err, &de) {
		// The push points into the Document; the caller wrote the payload.
		de.Pointer = doc.norm.payloadPointer(doc, de.Pointer)
	}
	if err == nil {
		s.deliver(docReports(doc)...)
	}
	return err
}

// Normalize translates the hash of one record of type typ into a Document,
// with the serializer of typ, without pushing it: Ember Data's
// store.normalize. The serializer must be a [RecordNormalizer]. Pushing the
// result with [Store.Push] is a partial update, as the hash's absent
// members are absent from the Document.
func (s *Store) Normalize(typ string, hash any) (*Document, error) {
	return s.normalize(typ, hash, true)
}

func (s *Store) normalize(typ string, payload any, record bool) (*Document, error) {
	if typ != "" && s.lookupType(typ) == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	if record && typ == "" {
		return nil, fmt.Errorf("%w: Normalize needs a model type", ErrUnknownType)
	}
	buf, err := s.documentBytes(payload)
	if err != nil {
		return nil, err
	}
	// The Document a serializer returns may share memory with its payload
	// (the caller's bytes, or a string's), and Normalize's caller may keep
	// it: give it its own copy.
	if record {
		buf = bytes.Clone(buf)
	}
	ser := s.SerializerFor(typ)
	var doc *Document
	if record {
		rn, ok := ser.(RecordNormalizer)
		if !ok {
			return nil, fmt.Errorf("recstore: the serializer of %q (%T) cannot normalize single records", typ, ser)
		}
		doc, err = rn.NormalizeRecord(s, typ, buf)
	} else if pn := builtinPushNormalizer(ser); pn != nil {
		doc, err = pn.normalizeForPush(s, typ, buf)
	} else {
		doc, err = ser.Normalize(s, typ, buf)
	}
	if err != nil {
		if duplicateAt(err) >= 0 {
			// Point at the repeated member in the payload as sent.
			if de := checkUnique(buf); de != nil {
				return nil, de
			}
		}
		if !errors.Is(err, ErrInvalidDocument) {
			err = &DocumentError{Err: err}
		}
		return nil, err
	}
	if doc == nil {
		return nil, &DocumentError{Err: fmt.Errorf("serializer %T returned no document", ser)}
	}
	if record {
		s.deliver(docReports(doc)...)
	}
	return doc, nil
}

// pushNormalizer is implemented by the built-in serializers, whose
// Documents for PushPayload keep attributes raw.
type pushNormalizer interface {
	normalizeForPush(s *Store, typ string, payload []byte) (*Document, error)
}

// builtinPushNormalizer returns ser as a pushNormalizer when it is one of
// the built-in serializers itself, else nil. A type that embeds one also
// has normalizeForPush, promoted, but calling it would skip a Normalize
// of its own: such a type is normalized through its Normalize.
func builtinPushNormalizer(ser Serializer) pushNormalizer {
	switch ser := ser.(type) {
	case *JSONSerializer:
		return ser
	case *RESTSerializer:
		return ser
	case *JSONAPISerializer:
		return ser
	}
	return nil
}

// payloadKeys lists the keys of doc's data, in order, as Push returns
// them, then those of its included resources, each once and leaving out
// any already in data (which JSON:API forbids anyway). Only included keys
// go in a set, so a payload with no sideloads needs none.
func payloadKeys(doc *Document) []Key {
	keys := make([]Key, 0, len(doc.Data)+len(doc.Included))
	for _, r := range doc.Data {
		keys = append(keys, Key{r.Type, r.ID})
	}
	if len(doc.Included) == 0 {
		return keys
	}
	incl := make(map[Key]bool, len(doc.Included)) // true: already listed
	for _, r := range doc.Included {
		incl[Key{r.Type, r.ID}] = false
	}
	for _, k := range keys {
		if _, ok := incl[k]; ok {
			incl[k] = true
		}
	}
	for _, r := range doc.Included {
		k := Key{r.Type, r.ID}
		if !incl[k] {
			incl[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// PushPayload pushes payload as [Store.PushPayload] does with this model's
// type, and returns the primary records, in payload order, as [Model.Push]
// does: sideloaded and embedded records are pushed but not returned. As
// with Model.Push, primary records of another type fail the push.
func (m *Model[T]) PushPayload(payload any) ([]T, error) {
	var out []T
	err := m.s.pushPayload(m.t.name, payload, m.t, nil, func(data []Key, _ *Document) { out = m.values(data) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inflector is what the built-in serializers singularize with.
var inflector = inflect.English()

// ModelNameFromPayloadKey is the default mapping from a payload's root
// key or resource type to a model type, as in Ember Data: dasherized and
// singular, so "albums" → "album", "people" → "person", "blog_posts" →
// "blog-post". It knows no Store's models or words: serializers use
// [Store.ModelNameFromPayloadKey], which does.
func ModelNameFromPayloadKey(key string) string {
	return inflect.Dasherize(inflector.Singular(key))
}

// JSONSerializer reads flat record hashes such as
//
//	{"id": 1, "firstName": "Ann", "comments": [1, 2]}
//
// as Ember Data's JSONSerializer does: the id from PrimaryKey, attributes
// and relationships from members named by the key mappings, relationship
// ids as scalars, {"id", "type"} objects or embedded records. A hash's
// "links" member maps relationships' payload keys (under
// KeyForRelationship) to their related links, as Ember Data's does:
//
//	{"id": 1, "links": {"tracks": "/albums/1/tracks"}}
//
// gives tracks the links {"related": "/albums/1/tracks"}, which
// [Store.LoadRelated] follows; tracks is links-only (its data kept) when
// the hash has no tracks member. A link is a string or a link object with
// an "href" string; anything else, or a links value other than an object
// or null, fails the payload with a *DocumentError. Keys that name no
// relationship are reported as unknown members. When an attribute or
// relationship has the payload key "links", the member is that instead.
// A payload is one hash or an array of hashes of the type asked for. Its
// zero value is ready to use, and it is safe for concurrent use once in
// use: do not change its fields then.
//
// Values are coerced to the model's field kinds as Ember Data's transforms
// do (see the package documentation), which a plain Push never does.
type JSONSerializer struct {
	// PrimaryKey is the member holding a record's id; "" means "id".
	PrimaryKey string

	// Attrs maps attribute and relationship names of the model to payload
	// keys, for the few that do not follow KeyForAttribute or
	// KeyForRelationship: {"songCount": "song_count"}.
	Attrs map[string]string

	// KeyForAttribute maps an attribute name to its payload key; nil
	// means the name itself. inflect.Underscore reads snake_case payloads.
	KeyForAttribute func(name string) string

	// KeyForRelationship maps a relationship name to its payload key; nil
	// means the name itself.
	KeyForRelationship func(name string) string

	// ModelNameFromPayloadKey maps a payload's root key, or a relationship
	// object's "type", to a model type; nil means the Store's
	// [Store.ModelNameFromPayloadKey], which knows its models' plurals.
	ModelNameFromPayloadKey func(key string) string

	// PayloadKeyFromModelName maps a model type to the root key a
	// RESTSerializer writes a record under; nil means inflect.Camelize
	// ("github-handle" → "githubHandle"). A JSONSerializer writes no root
	// key.
	PayloadKeyFromModelName func(typ string) string

	// NormalizeHash, if not nil, is called with each record's hash before
	// it is read, to reshape it: the place for the renames Ember Data apps
	// do in normalize(). typ is the record's model type. An error fails
	// the payload.
	NormalizeHash func(typ string, h *Hash) error

	// Embedded names relationships whose records come embedded in the
	// hash (Ember's embedded: 'always'). An embedded record is normalized
	// with its own type's serializer, pushed as included, and linked by
	// key. Objects with members besides "id" and "type" are taken as
	// embedded records even when not listed. Serialize writes these
	// relationships' records embedded too.
	Embedded map[string]bool

	// Transforms are the custom transforms attributes name with
	// `recstore:"transform=NAME"`, by name.
	Transforms map[string]Transform

	// Strict makes a value that coerces with a loss (see
	// ReportLossyCoercion) fail the payload with an *AttributeError
	// matching ErrLossyCoercion, instead of being reported. Members the
	// model does not define are reported either way. A RESTSerializer
	// reads each record with its type's own settings, Strict included.
	Strict bool
}

// Normalize reads payload, one record hash or an array of them, as records
// of type typ.
func (j *JSONSerializer) Normalize(s *Store, typ string, payload []byte) (*Document, error) {
	return j.normalize(s, typ, payload, false)
}

// normalizeForPush is Normalize for a Document that goes straight to a
// push: see normalizer.fast.
func (j *JSONSerializer) normalizeForPush(s *Store, typ string, payload []byte) (*Document, error) {
	return j.normalize(s, typ, payload, true)
}

func (j *JSONSerializer) normalize(s *Store, typ string, payload []byte, fast bool) (*Document, error) {
	n, err := newNormalizer(s, payload, fast)
	if err != nil {
		return nil, err
	}
	t := s.lookupType(typ)
	if t == nil {
		return nil, fmt.Errorf("%w %q: the JSON serializer needs the payload's model type", ErrUnknownType, typ)
	}
	sc := &n.sc
	switch c := sc.next(); c {
	case '{':
		r, err := n.hash(j, t, nil)
		if err != nil {
			return nil, err
		}
		n.doc.Data = []*Resource{r}
	case '[':
		n.doc.Many = true
		if err := n.hashes(j, t, &n.doc.Data, nil); err != nil {
			return nil, err
		}
	case 'n':
		if err := sc.literal("null"); err != nil {
			return nil, n.fail(err)
		}
	default:
		return nil, n.fail(fmt.Errorf("a JSON payload must be an object, an array or null, not %s", kindName(c)))
	}
	return n.finish()
}

// NormalizeRecord reads one record hash of type typ.
func (j *JSONSerializer) NormalizeRecord(s *Store, typ string, hash []byte) (*Document, error) {
	return normalizeRecord(s, j, typ, hash, false)
}

// RESTSerializer reads payloads keyed by type, as Ember Data's
// RESTSerializer does:
//
//	{"albums": [{"id": 1, "title": "…", "label": 7}], "labels": [{"id": 7}], "meta": {…}}
//
// Each root key names a model through ModelNameFromPayloadKey, singular or
// plural; its value is one record hash or an array of them, normalized by
// that model's own serializer when it reads hashes (a JSONSerializer or
// RESTSerializer, or a type that embeds one, read with the embedded
// serializer's settings), else by this one: a SerializerFunc or another
// Serializer cannot be seen through. Records of the type asked for are the
// primary data; the others, and those under a key with a leading "_"
// ("_albums"), are sideloaded as included. "meta" becomes the document's
// meta, null values are skipped, and keys that name no model are skipped
// and reported in Document.Skipped. Record hashes are read as the
// embedded JSONSerializer reads them. The zero value is ready to use.
type RESTSerializer struct {
	JSONSerializer
}

// Normalize reads a payload keyed by type. typ is the primary type, or ""
// to make every record primary.
func (rs *RESTSerializer) Normalize(s *Store, typ string, payload []byte) (*Document, error) {
	return rs.normalize(s, typ, payload, false)
}

// normalizeForPush is Normalize for a Document that goes straight to a
// push: see normalizer.fast.
func (rs *RESTSerializer) normalizeForPush(s *Store, typ string, payload []byte) (*Document, error) {
	return rs.normalize(s, typ, payload, true)
}

func (rs *RESTSerializer) normalize(s *Store, typ string, payload []byte, fast bool) (*Document, error) {
	n, err := newNormalizer(s, payload, fast)
	if err != nil {
		return nil, err
	}
	n.rest = true
	n.doc.rest = true
	sc := &n.sc
	if c := sc.next(); c != '{' {
		return nil, n.wrong("a REST payload must be an object keyed by type, not %s", kindName(c))
	}
	if err := sc.openObject(); err != nil {
		return nil, n.fail(err)
	}
	n.doc.Many = true
	single := 0
	for first := true; ; first = false {
		key, err := n.key(first)
		if err != nil {
			return nil, err
		}
		if n.endOfObject {
			break
		}
		n.in(key)
		if key == "meta" {
			raw, err := sc.skip()
			if err != nil {
				return nil, n.fail(err)
			}
			if err := json.Unmarshal(raw, &n.doc.Meta); err != nil {
				return nil, n.fail(fmt.Errorf("meta: %w", err))
			}
			n.out()
			continue
		}
		name, sideload := strings.CutPrefix(key, "_")
		t := s.lookupType(rs.modelName(s, name))
		if t == nil {
			if _, err := sc.skip(); err != nil {
				return nil, n.fail(err)
			}
			n.skip(fmt.Errorf("%w %q", ErrUnknownType, rs.modelName(s, name)))
			n.out()
			continue
		}
		primary := !sideload && (typ == "" || t.name == typ)
		out := &n.included
		if primary {
			out = &n.doc.Data
		}
		ser := hashSerializerFor(s, t, &rs.JSONSerializer)
		switch c := sc.next(); c {
		case 'n':
			if err := sc.literal("null"); err != nil {
				return nil, n.fail(err)
			}
		case '{':
			r, err := n.hash(ser, t, nil)
			if err != nil {
				return nil, err
			}
			*out = append(*out, r)
			if primary {
				single++
			}
		case '[':
			if err := n.hashes(ser, t, out, nil); err != nil {
				return nil, err
			}
			if primary {
				single = -1 << 30
			}
		default:
			return nil, n.wrong("%q must hold a record or an array of records, not %s", key, kindName(c))
		}
		n.out()
	}
	if typ != "" && single == 1 && len(n.doc.Data) == 1 {
		n.doc.Many = false // {"album": {...}} answers with one record
	}
	return n.finish()
}

// NormalizeRecord reads one record hash of type typ.
func (rs *RESTSerializer) NormalizeRecord(s *Store, typ string, hash []byte) (*Document, error) {
	return normalizeRecord(s, &rs.JSONSerializer, typ, hash, true)
}

func normalizeRecord(s *Store, j *JSONSerializer, typ string, hash []byte, rest bool) (*Document, error) {
	t := s.lookupType(typ)
	if t == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	n, err := newNormalizer(s, hash, false)
	if err != nil {
		return nil, err
	}
	n.rest = rest
	if c := n.sc.next(); c != '{' {
		return nil, n.wrong("a record hash must be an object, not %s", kindName(c))
	}
	r, err := n.hash(j, t, nil)
	if err != nil {
		return nil, err
	}
	n.doc.Data = []*Resource{r}
	return n.finish()
}

// hashSerializerFor returns the hash-reading configuration of t's own
// serializer when it has one, else that of the Store's default serializer
// when t has none and it has one, else def. See hashReaderOf.
func hashSerializerFor(s *Store, t *table, def *JSONSerializer) *JSONSerializer {
	ser := t.serializer
	if ser == nil {
		ser = s.opts.Serializer
	}
	if j := hashReaderOf(ser); j != nil {
		return j
	}
	return def
}

// A hashReader is a serializer that reads record hashes as a
// JSONSerializer does, with the JSONSerializer it returns: the built-in
// JSONSerializer and RESTSerializer, and any type that embeds one (or a
// pointer to one), which has the method by promotion. A SerializerFunc,
// or a type that holds a serializer in a named field, cannot be seen
// through: records of its type are read with the settings of the
// serializer reading the payload.
type hashReader interface {
	jsonHashReader() *JSONSerializer
}

func (j *JSONSerializer) jsonHashReader() *JSONSerializer { return j }

func (rs *RESTSerializer) jsonHashReader() *JSONSerializer {
	if rs == nil {
		return nil
	}
	return &rs.JSONSerializer
}

// hashReaderOf returns the JSONSerializer whose settings (key mappings,
// hooks, Strict, ...) read record hashes for ser, or nil if ser does not
// read hashes. It does not call ser's own Normalize or NormalizeRecord: a
// type that embeds a built-in serializer has its sideloaded and embedded
// records read with the embedded serializer's settings.
func hashReaderOf(ser Serializer) *JSONSerializer {
	switch ser := ser.(type) {
	case *JSONSerializer:
		return ser
	case *RESTSerializer:
		return ser.jsonHashReader()
	case hashReader:
		return promotedReader(ser)
	}
	return nil
}

// promotedReader calls hr.jsonHashReader, which panics when hr reaches
// its embedded serializer through a nil pointer: then there is none.
func promotedReader(hr hashReader) (j *JSONSerializer) {
	defer func() {
		if recover() != nil {
			j = nil
		}
	}()
	return hr.jsonHashReader()
}

func (j *JSONSerializer) modelName(s *Store, key string) string {
	if j.ModelNameFromPayloadKey != nil {
		return j.ModelNameFromPayloadKey(key)
	}
	return s.ModelNameFromPayloadKey(key)
}

// keysFor returns the payload keys of t's attributes and relationships
// under j, computed once per serializer and table.
func (j *JSONSerializer) keysFor(t *table) *memberKeys {
	return cachedKeys(j, t, func(name string, rel bool) string {
		if k, ok := j.Attrs[name]; ok {
			return k
		}
		if rel && j.KeyForRelationship != nil {
			return j.KeyForRelationship(name)
		}
		if !rel && j.KeyForAttribute != nil {
			return j.KeyForAttribute(name)
		}
		return name
	})
}

// memberKeys holds one model's payload keys under one serializer.
type memberKeys struct {
	attrs []string
	rels  []string
	// sets holds attrs and rels as sets, made when an unknown member is
	// first looked for (see unknownMembers).
	setsOnce sync.Once
	sets     memberSets
	// links maps the keys of a record hash's links object to relationship
	// indexes, made when a hash first has one (see linkKeys).
	linksOnce sync.Once
	links     map[string]int
}

// cachedKeys returns t's payload keys under the serializer ser, computing
// them with key on first use. Serializers are configured before use, so
// an entry never goes stale.
func cachedKeys(ser any, t *table, key func(name string, rel bool) string) *memberKeys {
	if v, ok := t.serKeys.Load(ser); ok {
		return v.(*memberKeys)
	}
	mk := &memberKeys{attrs: make([]string, len(t.attrs)), rels: make([]string, len(t.rels))}
	for i := range t.attrs {
		mk.attrs[i] = key(t.attrs[i].name, false)
	}
	for i := range t.rels {
		mk.rels[i] = key(t.rels[i].name, true)
	}
	v, _ := t.serKeys.LoadOrStore(ser, mk)
	return v.(*memberKeys)
}

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

// A Transform converts one attribute's values between a backend's form and
// the model's, like an Ember Data transform. An attribute names a custom
// transform with `recstore:"transform=NAME"`; serializers find it by name
// in their Transforms. A Transform must be safe for concurrent use.
//
// Deserialize is given the payload's value as encoding/json decodes it
// into an any (nil, bool, float64, string, []any, map[string]any) and
// returns a value whose JSON form the field accepts. Serialize is given
// the field's Go value and returns a value to write with encoding/json.
type Transform interface {
	// Deserialize turns a payload's value into the model's form.
	Deserialize(v any) (any, error)
	// Serialize turns a field's Go value into the backend's form.
	Serialize(v any) (any, error)
}

// TransformFuncs adapts two ordinary functions to the Transform
// interface. A nil function passes values through unchanged.
type TransformFuncs struct {
	DeserializeFunc func(v any) (any, error) // Transform.Deserialize; nil passes v through
	SerializeFunc   func(v any) (any, error) // Transform.Serialize; nil passes v through
}

// Deserialize calls f.DeserializeFunc(v).
func (f TransformFuncs) Deserialize(v any) (any, error) {
	if f.DeserializeFunc == nil {
		return v, nil
	}
	return f.DeserializeFunc(v)
}

// Serialize calls f.SerializeFunc(v).
func (f TransformFuncs) Serialize(v any) (any, error) {
	if f.SerializeFunc == nil {
		return v, nil
	}
	return f.SerializeFunc(v)
}

// rawAttrs returns an empty slice with room for n attributes, carved
// from a slab so that a payload's records share a few allocations.
func (n *normalizer) rawAttrs(size int) []rawAttr {
	if len(n.attrSlab)+size > cap(n.attrSlab) {
		// Earlier slices keep the old slab alive while this push needs
		// them; the pool then keeps only the newest, largest one.
		n.attrSlab = make([]rawAttr, 0, max(size, 1024, 2*cap(n.attrSlab)))
	}
	start := len(n.attrSlab)
	n.attrSlab = n.attrSlab[:start+size]
	return n.attrSlab[start : start : start+size]
}

// newResource returns a Resource of type typ, from a slab when the
// Document goes straight to a push.
func (n *normalizer) newResource(typ string) *Resource {
	if !n.fast {
		return &Resource{Type: typ}
	}
	if len(n.resSlab) == cap(n.resSlab) {
		n.resSlab = make([]Resource, 0, max(256, 2*cap(n.resSlab)))
	}
	n.resSlab = append(n.resSlab, Resource{Type: typ})
	return &n.resSlab[len(n.resSlab)-1]
}

// offsetIn returns where sub starts within buf, if it lies wholly inside
// it and its offsets fit a rawAttr.
func offsetIn(buf, sub []byte) (int, bool) {
	if len(sub) == 0 || len(buf) == 0 || len(buf) > math.MaxUint32 {
		return 0, false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	if p < b || p+uintptr(len(sub)) > b+uintptr(len(buf)) {
		return 0, false
	}
	return int(p - b), true
}

// keepRaw is what transform returns when the payload's value is already
// what the attribute takes, so that the raw bytes are used as they are
// (and not boxed in an interface).
type keepRaw struct{}

// setAttr records attribute i of r, as transform returned it for raw.
// For a push (n.fast) it keeps raw bytes in r.raw, which the push decodes
// directly; otherwise it fills the public Attributes map.
func (n *normalizer) setAttr(r *Resource, t *table, i int, raw []byte, v any) {
	_, keep := v.(keepRaw)
	if n.fast {
		if r.raw == nil {
			r.raw = n.rawAttrs(len(t.attrs))
		}
		rs := n.doc.raws
		ra := rawAttr{i: int32(i), kind: rawNull}
		switch {
		case keep:
			if off, ok := offsetIn(rs.payload, raw); ok {
				ra.kind, ra.start, ra.end = rawPayload, uint32(off), uint32(off+len(raw))
			} else {
				ra.kind, ra.start = rawExtra, uint32(len(rs.extra))
				rs.extra = append(rs.extra, raw)
			}
		case v != nil:
			ra.kind, ra.start = rawValue, uint32(len(rs.values))
			rs.values = append(rs.values, v)
		}
		r.raw = append(r.raw, ra)
		return
	}
	if r.Attributes == nil {
		r.Attributes = make(map[string]any, len(t.attrs))
	}
	if keep {
		v = json.RawMessage(raw)
	}
	r.Attributes[t.attrs[i].name] = v
}

// transform turns a payload value into what the attribute a takes,
// applying its custom transform or Ember Data's coercion for its kind.
func (n *normalizer) transform(custom map[string]Transform, t *table, id string, a *attrField, raw json.RawMessage) (any, error) {
	bad := func(err error) error {
		val := string(raw)
		if len(val) > 64 {
			val = val[:61] + "..."
		}
		return n.fail(&AttributeError{Type: t.name, ID: id, Attr: a.name, Value: val, GoType: a.typ, Err: err})
	}
	if a.transform != "" {
		tr, ok := custom[a.transform]
		if !ok {
			return nil, bad(fmt.Errorf("%w %q", ErrUnknownTransform, a.transform))
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, bad(err)
		}
		out, err := tr.Deserialize(v)
		if err != nil {
			return nil, bad(fmt.Errorf("transform %q: %w", a.transform, err))
		}
		return out, nil
	}
	c := firstByte(raw)
	if c == 'n' {
		return keepRaw{}, nil
	}
	switch a.coerce {
	case coerceDate:
		return n.dateTransform(raw, bad)
	case coerceString:
		switch c {
		case '"':
			return keepRaw{}, nil
		case '{', '[':
			// Ember's String(v) gives "[object Object]", or an array's
			// elements joined by commas: text no Go field wants. Take
			// null, as for a number, and report the loss.
			n.lost = lossStringObject
			return nil, nil
		}
		return string(raw), nil // true, false or a number, as its text
	case coerceBool:
		switch c {
		case 't', 'f':
			return keepRaw{}, nil
		case '"':
			s, err := n.sc.unquote(raw[1 : len(raw)-1])
			if err != nil {
				return nil, bad(err)
			}
			// Compare without lowering a copy of what may be megabytes.
			v := strings.EqualFold(s, "true") || strings.EqualFold(s, "t") || s == "1"
			if !v && !isFalseString(s) {
				n.lost = lossBoolStr
			}
			return v, nil
		}
		if c == '-' || '0' <= c && c <= '9' {
			f, _ := strconv.ParseFloat(string(raw), 64)
			if f != 0 && f != 1 {
				n.lost = lossBoolNum
			}
			return f == 1, nil
		}
		n.lost = lossBoolOther
		if a.nullable {
			return nil, nil
		}
		return false, nil
	case coerceInt, coerceFloat:
		isInt := a.coerce == coerceInt
		switch c {
		case '"':
			s, err := n.sc.unquote(raw[1 : len(raw)-1])
			if err != nil {
				return nil, bad(err)
			}
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, nil
			}
			f, ok := jsNumber(s)
			if !ok || math.IsInf(f, 0) {
				n.lost = lossNaN
				if ok {
					n.lost = lossRange
				}
				return nil, nil // Number("abc") is NaN, which Ember Data stores as null
			}
			if isInt {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					return json.Number(strconv.FormatInt(n, 10)), nil
				}
				return integral(f, bad)
			}
			return f, nil
		case 't':
			return json.Number("1"), nil
		case 'f':
			return json.Number("0"), nil
		case '{', '[':
			// Ember's Number(v) is NaN for an object, which it stores as
			// null; JavaScript reads [] as 0 and [5] as 5, but an array
			// is no number to a Go field either: null, reported.
			n.lost = lossNumberObject
			return nil, nil
		}
		// A number such as 1e3 or 2.0 is an integer to a JavaScript
		// backend; one with a fraction is not, and fails here, where the
		// pointer still names the payload's member. One too big for a
		// float64 is Infinity to JavaScript, which Ember Data stores as
		// null.
		if isInt && !isPlainInteger(raw) || !isInt && (len(raw) > 20 || bytes.ContainsAny(raw, "eE")) {
			f, err := strconv.ParseFloat(string(raw), 64)
			if math.IsInf(f, 0) {
				n.lost = lossRange
				return nil, nil
			}
			if err != nil {
				return nil, bad(err)
			}
			if isInt {
				return integral(f, bad)
			}
		}
	}
	return keepRaw{}, nil
}

// jsNumber reads s as JavaScript's Number(s) does for the strings Ember
// Data's number transform sees: decimal with an optional sign, fraction
// and exponent, "Infinity", or 0x, 0o and 0b integers. ok is false where
// Number gives NaN. s is trimmed and not empty.
func jsNumber(s string) (f float64, ok bool) {
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return radixNumber(s[2:], base)
		}
	}
	if t := strings.TrimLeft(s, "+-"); t == "Infinity" && len(s) <= len("Infinity")+1 {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false // strconv would also take "inf", "nan", "1_000" and hex floats
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// radixNumber reads digits, the part of a 0x, 0o or 0b literal after its
// prefix, in base 16, 8 or 2, as Number() does: the nearest float64,
// ties to even, however many digits there are. It makes one pass and
// keeps only the leading 60-odd significant bits and whether any bit
// below them is set (the sticky bit), which is all that rounding to 53
// bits needs; math/big would cost time quadratic in the length.
func radixNumber(digits string, base int) (float64, bool) {
	shift := uint(bits.TrailingZeros(uint(base)))
	var m uint64 // the leading significant bits
	exp := 0     // bits dropped below m
	sticky := false
	for i := 0; i < len(digits); i++ {
		d := uint64(digitValue(digits[i]))
		if d >= uint64(base) {
			return 0, false // as Number("0o8") and Number("0x1_0"), NaN
		}
		if m>>(64-shift) == 0 {
			m = m<<shift | d
			continue
		}
		exp += int(shift)
		sticky = sticky || d != 0
	}
	n := bits.Len64(m)
	if n <= 53 {
		return math.Ldexp(float64(m), exp), true // exact; sticky needs n >= 60
	}
	drop := uint(n - 53)
	mant, rem, half := m>>drop, m&(1<<drop-1), uint64(1)<<(drop-1)
	if rem > half || rem == half && (sticky || mant&1 == 1) {
		mant++ // 1<<53 at most, still exact
	}
	return math.Ldexp(float64(mant), int(drop)+exp), true
}

// digitValue is the value of the hexadecimal digit c, or 255.
func digitValue(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// isPlainInteger reports whether a scanned JSON number has neither a
// fraction nor an exponent. raw is already known to be valid JSON.
func isPlainInteger(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return false
	}
	for _, c := range raw[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// integral returns f as an integer JSON number, or fails if it has a
// fraction or is beyond what an int64 holds exactly.
func integral(f float64, bad func(error) error) (any, error) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return nil, bad(fmt.Errorf("%v is not an integer", f))
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), nil
}

// dateTransform reads a date as Ember Data's date transform does: a
// string in ISO 8601 form (a "+HHMM" offset is accepted), or a number of
// milliseconds since the Unix epoch. A value of any other JSON type (an
// object, an array, a boolean) is null, as Ember's transform makes it,
// rather than failing the payload: a zero time.Time, a nil *time.Time. It
// is a lossy coercion: reported, and an error for a Strict serializer.
func (n *normalizer) dateTransform(raw json.RawMessage, bad func(error) error) (any, error) {
	switch c := firstByte(raw); {
	case c == '"':
		// No layout is longer than maxDateLen: a longer string fails at
		// once rather than in each layout, which copies it into its error.
		if len(raw) > 2*maxDateLen {
			return nil, bad(errors.New("not an ISO 8601 date"))
		}
		s, err := n.sc.unquote(raw[1 : len(raw)-1])
		if err != nil {
			return nil, bad(err)
		}
		if len(s) > maxDateLen {
			return nil, bad(errors.New("not an ISO 8601 date"))
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05", "2006-01-02"} {
			if tm, err := time.Parse(layout, s); err == nil {
				return tm.Format(time.RFC3339Nano), nil
			}
		}
		return nil, bad(errors.New("not an ISO 8601 date"))
	case c == '-' || '0' <= c && c <= '9':
		ms, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.Abs(ms) > 8.64e15 {
			return nil, bad(errors.New("not a time in milliseconds"))
		}
		return time.UnixMilli(int64(ms)).UTC().Format(time.RFC3339Nano), nil
	}
	n.lost = lossDate
	return nil, nil
}

// maxDateLen bounds the dates dateTransform reads: the longest, with
// nanoseconds and an offset, is 35 bytes; the rest is slack for spaces.
const maxDateLen = 64

var jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
