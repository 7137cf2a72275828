package recstore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/recstore/recstore/inflect"
)

// JSONAPISerializer reads JSON:API documents whose member names and types
// follow a backend's conventions rather than the models', as Ember Data's
// JSONAPISerializer does: plural, dasherized types ("github-handles" for
// the model "github-handle") and dasherized member names ("song-count" for
// the attribute "songCount"). Each resource is read with its own type's
// JSONAPISerializer when it has one (or its serializer embeds one: a
// SerializerFunc cannot be seen through), else with this one. Resources of
// unknown types in included are skipped and reported in Document.Skipped;
// in data they fail the payload. The zero value is ready to use, and is
// the Store's default serializer.
//
// Values are coerced to the model's field kinds as Ember Data's transforms
// do, as the JSONSerializer does; a plain Push never does.
type JSONAPISerializer struct {
	// Attrs maps attribute and relationship names of the model to member
	// names, for the few that do not follow KeyForAttribute or
	// KeyForRelationship: {"title": "le-title"}. Reading, writing and
	// ExtractErrors all use it.
	Attrs map[string]string

	// KeyForAttribute maps an attribute name to its member name; nil means
	// inflect.Dasherize.
	KeyForAttribute func(name string) string

	// KeyForRelationship maps a relationship name to its member name; nil
	// means inflect.Dasherize.
	KeyForRelationship func(name string) string

	// ModelNameFromPayloadKey maps a resource's type to a model type; nil
	// means the Store's [Store.ModelNameFromPayloadKey], which knows its
	// models' plurals.
	ModelNameFromPayloadKey func(key string) string

	// PayloadKeyFromModelName maps a model type to the type written in
	// serialized documents; nil means the type pluralized with the
	// Store's Options.Inflector and dasherized ("album" → "albums",
	// "musicGenre" → "music-genres"), as Ember Data writes it.
	PayloadKeyFromModelName func(typ string) string

	// NormalizeHash, if not nil, is called with each resource object
	// before it is read; typ is its model type.
	NormalizeHash func(typ string, h *Hash) error

	// Transforms are the custom transforms attributes name with
	// `recstore:"transform=NAME"`, by name.
	Transforms map[string]Transform

	// Strict makes a value that coerces with a loss (see
	// ReportLossyCoercion) fail the payload with an *AttributeError
	// matching ErrLossyCoercion, instead of being reported. Members the
	// model does not define are reported either way. Each resource is
	// read with its type's own settings, Strict included.
	Strict bool
}

func (j *JSONAPISerializer) modelName(s *Store, key string) string {
	if j.ModelNameFromPayloadKey != nil {
		return j.ModelNameFromPayloadKey(key)
	}
	return s.ModelNameFromPayloadKey(key)
}

func (j *JSONAPISerializer) keysFor(t *table) *memberKeys {
	return cachedKeys(j, t, func(name string, rel bool) string {
		if k, ok := j.Attrs[name]; ok {
			return k
		}
		switch {
		case rel && j.KeyForRelationship != nil:
			return j.KeyForRelationship(name)
		case !rel && j.KeyForAttribute != nil:
			return j.KeyForAttribute(name)
		}
		return inflect.Dasherize(name)
	})
}

// Normalize reads a JSON:API document. typ is not needed: every resource
// names its type.
func (j *JSONAPISerializer) Normalize(s *Store, typ string, payload []byte) (*Document, error) {
	return j.normalize(s, typ, payload, false)
}

// normalizeForPush is Normalize for a Document that goes straight to a
// push: see normalizer.fast.
func (j *JSONAPISerializer) normalizeForPush(s *Store, typ string, payload []byte) (*Document, error) {
	return j.normalize(s, typ, payload, true)
}

func (j *JSONAPISerializer) normalize(s *Store, typ string, payload []byte, fast bool) (*Document, error) {
	n, err := newNormalizer(s, payload, fast)
	if err != nil {
		return nil, err
	}
	sc := &n.sc
	if c := sc.next(); c != '{' {
		return nil, n.wrong("a JSON:API document must be an object, not %s", kindName(c))
	}
	if err := sc.openObject(); err != nil {
		return nil, n.fail(err)
	}
	hasData := false
	for first := true; ; first = false {
		key, err := n.key(first)
		if err != nil {
			return nil, err
		}
		if n.endOfObject {
			break
		}
		n.in(key)
		switch key {
		case "data":
			hasData = true
			switch c := sc.next(); c {
			case 'n':
				if err := sc.literal("null"); err != nil {
					return nil, n.fail(err)
				}
			case '{':
				r, err := j.resource(n, false)
				if err != nil {
					return nil, err
				}
				n.doc.Data = []*Resource{r}
			case '[':
				n.doc.Many = true
				if err := j.resources(n, false, &n.doc.Data); err != nil {
					return nil, err
				}
			default:
				return nil, n.wrong("data must be an object, an array or null, not %s", kindName(c))
			}
		case "included":
			if c := sc.next(); c != '[' {
				return nil, n.wrong("included must be an array, not %s", kindName(c))
			}
			if err := j.resources(n, true, &n.included); err != nil {
				return nil, err
			}
		case "meta", "links":
			raw, err := sc.skip()
			if err != nil {
				return nil, n.fail(err)
			}
			dst := &n.doc.Meta
			if key == "links" {
				dst = &n.doc.Links
			}
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, n.fail(fmt.Errorf("%s must be an object: %w", key, err))
			}
		default:
			if _, err := sc.skip(); err != nil {
				return nil, n.fail(err)
			}
		}
		n.out()
	}
	if !hasData {
		return nil, n.fail(errors.New(`the document has no "data" member`))
	}
	return n.finish()
}

// NormalizeRecord reads one resource object of type typ.
func (j *JSONAPISerializer) NormalizeRecord(s *Store, typ string, hash []byte) (*Document, error) {
	n, err := newNormalizer(s, hash, false)
	if err != nil {
		return nil, err
	}
	if c := n.sc.next(); c != '{' {
		return nil, n.wrong("a resource must be an object, not %s", kindName(c))
	}
	r, err := j.resource(n, false)
	if err != nil {
		return nil, err
	}
	if r.Type != typ {
		return nil, n.fail(fmt.Errorf("want a resource of type %q, got %q", typ, r.Type))
	}
	n.doc.Data = []*Resource{r}
	return n.finish()
}

func (j *JSONAPISerializer) resources(n *normalizer, incl bool, out *[]*Resource) error {
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
			return n.wrong("a resource must be an object, not %s", kindName(c))
		}
		r, err := j.resource(n, incl)
		if err != nil {
			return err
		}
		if r != nil {
			*out = append(*out, r)
		}
		n.out()
	}
}

// resource reads the resource object at the cursor. It returns nil, and
// records a skip, for an included resource of unknown type.
func (j *JSONAPISerializer) resource(n *normalizer, incl bool) (*Resource, error) {
	h := n.getHash()
	defer n.putHash(h)
	n.markHash(&n.sc)
	start := n.sc
	if err := readHash(&n.sc, h); err != nil {
		return nil, n.failInside(start, err, resourceLevel)
	}
	typRaw, ok := h.Raw("type")
	if !ok || firstByte(typRaw) != '"' {
		n.in("type")
		return nil, n.fail(errors.New(`a resource needs a "type" string`))
	}
	payloadType, err := n.sc.unquote(typRaw[1 : len(typRaw)-1])
	if err != nil {
		return nil, n.fail(err)
	}
	t := n.s.lookupType(j.modelName(n.s, payloadType))
	if t == nil {
		n.in("type")
		defer n.out()
		err := fmt.Errorf("%w %q", ErrUnknownType, payloadType)
		if incl {
			n.skip(err)
			return nil, nil
		}
		return nil, n.fail(err)
	}
	own := j
	if ser := resourceReaderOf(t.serializer); ser != nil {
		own = ser
	}
	return own.record(n, t, h)
}

// A resourceReader is a serializer that reads JSON:API resources with the
// JSONAPISerializer it returns: JSONAPISerializer itself, and any type
// that embeds one (or a pointer to one), which has the method by
// promotion. As with hashReader, a SerializerFunc cannot be seen through.
type resourceReader interface {
	jsonAPIReader() *JSONAPISerializer
}

func (j *JSONAPISerializer) jsonAPIReader() *JSONAPISerializer { return j }

// resourceReaderOf returns the JSONAPISerializer whose settings read
// resources for ser, or nil; see hashReaderOf.
func resourceReaderOf(ser Serializer) *JSONAPISerializer {
	switch ser := ser.(type) {
	case *JSONAPISerializer:
		return ser
	case resourceReader:
		defer func() { _ = recover() }() // a nil pointer on the way: none
		return ser.jsonAPIReader()
	}
	return nil
}

// resourceLevel locates errors in a resource object as a Push does: at
// the resource's member, the attribute, the relationship's member, or the
// linkage's identifier member.
func resourceLevel(p []seg) bool {
	switch {
	case len(p) == 0:
		return true
	case p[0].name == "attributes":
		return len(p) == 1
	case p[0].name == "relationships":
		return len(p) <= 2 || p[2].name == "data" && (len(p) == 3 || len(p) == 4 && p[3].idx >= 0)
	}
	return false
}

func (j *JSONAPISerializer) record(n *normalizer, t *table, h *Hash) (*Resource, error) {
	if err := n.counted(); err != nil {
		return nil, err
	}
	if j.NormalizeHash != nil {
		if err := j.NormalizeHash(t.name, h); err != nil {
			return nil, n.fail(fmt.Errorf("normalizing the %s resource: %w", t.name, err))
		}
	}
	r := n.newResource(t.name)
	keys := j.keysFor(t)
	n.traced(r, keys, "")
	if raw, ok := h.Raw("lid"); ok {
		// JSON:API 1.1's local identifier: the push resolves it.
		n.in("lid")
		lid, err := n.scalarID(raw)
		if err != nil {
			return nil, err
		}
		r.LID = lid
		n.out()
	}
	raw, ok := h.Raw("id")
	if !ok && r.LID == "" {
		n.in("id")
		return nil, n.fail(errors.New(`the resource has no "id" member`))
	}
	if ok {
		n.in("id")
		id, err := n.scalarID(raw)
		if err != nil {
			return nil, err
		}
		r.ID = id
		n.out()
	}
	if err := linksMetaOf(n, h, r); err != nil {
		return nil, err
	}
	if raw, ok := h.Raw("attributes"); ok {
		n.in("attributes")
		if c := firstByte(raw); c != '{' { // null too, as Push says
			return nil, n.fail(fmt.Errorf("attributes must be an object, not %s", kindName(c)))
		}
		attrs, err := n.subHash(raw)
		if err != nil {
			return nil, err
		}
		found := 0
		for i := range t.attrs {
			a := &t.attrs[i]
			v, ok := attrs.Raw(keys.attrs[i])
			if !ok {
				continue
			}
			found++
			n.in(keys.attrs[i])
			val, err := n.transform(j.Transforms, t, r.ID, a, v)
			if err != nil {
				return nil, err
			}
			n.out()
			if n.lost != "" {
				if err := n.lossy(j.Strict, t, r.ID, a, keys.attrs[i], v); err != nil {
					return nil, err
				}
			}
			n.setAttr(r, t, i, v, val)
		}
		if n.members && attrs.Len() > found {
			n.unknownIn(t, attrs, keys, false)
		}
		n.putHash(attrs)
		n.out()
	}
	if raw, ok := h.Raw("relationships"); ok {
		n.in("relationships")
		if c := firstByte(raw); c != '{' {
			return nil, n.fail(fmt.Errorf("relationships must be an object, not %s", kindName(c)))
		}
		rels, err := n.subHash(raw)
		if err != nil {
			return nil, err
		}
		found := 0
		for i := range t.rels {
			rf := &t.rels[i]
			v, ok := rels.Raw(keys.rels[i])
			if !ok {
				continue
			}
			found++
			n.in(keys.rels[i])
			rel, err := j.relationship(n, rf, v)
			if err != nil {
				return nil, err
			}
			n.keepRelMore(r, i)
			n.out()
			if r.Relationships == nil {
				r.Relationships = make(map[string]*Relationship, len(t.rels))
			}
			r.Relationships[rf.name] = rel
		}
		if n.members && rels.Len() > found {
			n.unknownIn(t, rels, keys, true)
		}
		n.putHash(rels)
		n.out()
	}
	return r, nil
}

// relationship reads one relationship object.
func (j *JSONAPISerializer) relationship(n *normalizer, rf *relField, raw []byte) (*Relationship, error) {
	obj, err := n.subHash(raw)
	if err != nil {
		return nil, err
	}
	defer n.putHash(obj)
	rel := &Relationship{Many: rf.many}
	if err := n.relLinksMeta(obj, rel); err != nil {
		return nil, err
	}
	data, ok := obj.Raw("data")
	if !ok {
		rel.LinksOnly = true
		return rel, nil
	}
	n.in("data")
	defer n.out()
	c := firstByte(data)
	switch {
	case c == 'n' && !rf.many:
		return rel, nil
	case c == '{' && !rf.many:
		k, err := j.identifier(n, rf, data)
		if err != nil {
			return nil, err
		}
		rel.Data = []Key{k}
		return rel, nil
	case c == '[' && rf.many:
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return nil, n.fail(err)
		}
		rel.Data = make([]Key, 0, len(elems))
		for i, el := range elems {
			n.at(i)
			k, err := j.identifier(n, rf, el)
			if err != nil {
				return nil, err
			}
			n.out()
			rel.Data = append(rel.Data, k)
		}
		return rel, nil
	case rf.many:
		return nil, n.fail(fmt.Errorf("to-many relationship %q needs an array of identifiers, not %s", rf.name, kindName(c)))
	}
	return nil, n.fail(fmt.Errorf("to-one relationship %q needs an identifier object or null, not %s", rf.name, kindName(c)))
}

// identifier reads one resource identifier object, mapping its type.
func (j *JSONAPISerializer) identifier(n *normalizer, rf *relField, raw []byte) (Key, error) {
	h, err := n.subHash(raw)
	if err != nil {
		return Key{}, err
	}
	defer n.putHash(h)
	typRaw, ok := h.Raw("type")
	if !ok || firstByte(typRaw) != '"' {
		n.in("type")
		return Key{}, n.fail(errors.New(`a resource identifier needs a "type" string`))
	}
	payloadType, err := n.sc.unquote(typRaw[1 : len(typRaw)-1])
	if err != nil {
		return Key{}, n.fail(err)
	}
	name := j.modelName(n.s, payloadType)
	t := n.s.lookupType(name)
	if t == nil {
		n.in("type")
		return Key{}, n.fail(fmt.Errorf("%w %q", ErrUnknownType, payloadType))
	}
	if !rf.keyed && t.goType != rf.elem && !rf.polyHolds(t) {
		return Key{}, n.fail(fmt.Errorf("relationship %q cannot hold %q records", rf.name, t.name))
	}
	idRaw, ok := h.Raw("id")
	if lidRaw, hasLID := h.Raw("lid"); !ok && hasLID {
		// A record created in this Store, named by its local identifier.
		n.in("lid")
		lid, err := n.scalarID(lidRaw)
		if err != nil {
			return Key{}, err
		}
		if e := t.entry(lid); e != nil && t.lidOf(e) == lid {
			n.out()
			return Key{t.name, e.id}, nil
		}
		return Key{}, n.fail(fmt.Errorf("lid %q names no record created in this Store", lid))
	}
	if !ok {
		n.in("id")
		return Key{}, n.fail(errors.New(`a resource identifier needs an "id"`))
	}
	n.in("id")
	id, err := n.scalarID(idRaw)
	if err != nil {
		return Key{}, err
	}
	n.out()
	return Key{t.name, id}, nil
}
