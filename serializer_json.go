package recstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

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
