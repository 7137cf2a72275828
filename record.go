package recstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// A Key identifies one record: its JSON:API type and its id. IDs are always
// strings inside the Store; a document's numeric id 1 becomes "1".
//
// Key is also the cheap form of a relationship field: a model field of type
// Key (to-one) or []Key (to-many) tagged `jsonapi:"relation,NAME"` is filled
// with the related identifiers on every read, without loading the related
// records. The zero Key means "no record" (a null to-one).
type Key struct {
	Type string // the model's type name, such as "album"; "" in the zero Key
	ID   string // the record's id, always a string; "" in the zero Key
}

// String returns "type:id".
func (k Key) String() string { return k.Type + ":" + k.ID }

// IsZero reports whether k is the zero Key.
func (k Key) IsZero() bool { return k.Type == "" && k.ID == "" }

// A Document is a JSON:API document as a Go value: what [Store.Push]
// accepts besides JSON text, and what serializers produce. Its JSON form is
// written by MarshalJSON and read by UnmarshalJSON.
type Document struct {
	// Data is the primary data. With Many false it holds at most one
	// resource, and none means "data": null.
	Data []*Resource
	// Many reports whether the primary data is an array.
	Many bool
	// Included holds the compound document's included resources.
	Included []*Resource
	// Meta is the top-level meta object, if any.
	Meta map[string]any
	// Links is the top-level links object, if any.
	Links map[string]any

	// Skipped lists what a serializer left out of the document on purpose
	// as it normalized a payload, such as a root key or an included
	// resource of a type with no model: each a *DocumentError with a JSON
	// pointer into the payload, wrapping the reason (ErrUnknownType). Push
	// ignores it, and it is not part of the JSON form.
	Skipped []error

	// raws holds what the Resources' raw attributes stand for; see
	// Resource.raw.
	raws *rawStore
	// norm made the Document for a push and is released after it.
	norm *normalizer
	// reports holds what a built-in serializer's Normalize reports
	// besides Skipped, for the Store to deliver (see docReports).
	reports *reportSet
	// rest reports that a RESTSerializer made the Document, whose array
	// of primary data may answer a Find or a QueryRecord (see
	// pickPrimary). It travels with the Document, so a serializer that
	// wraps a RESTSerializer and returns its Document keeps the rule.
	rest bool

	// guard, if not nil, runs under the Store's lock before the push
	// commits, and fails the push if it returns an error: it checks what
	// must still hold when the push lands (see followLink).
	guard func() error
}

// A Resource is one JSON:API resource object.
type Resource struct {
	// Type is the resource's type, which names a model registered in the
	// Store, such as "album".
	Type string
	// ID is the resource's id. A document's numeric id 1 reads as "1";
	// a push needs one, or a LID.
	ID string
	// LID is JSON:API 1.1's local identifier: the LIDPrefix id of a
	// record created in this Store without an id. With no ID it names
	// that record; with an ID it gives that record its id, as a save's
	// answer does.
	LID string
	// Attributes maps member names to JSON-encodable values; a
	// json.RawMessage passes through as it is.
	Attributes map[string]any
	// Relationships maps member names to relationship objects.
	Relationships map[string]*Relationship
	// Meta is the resource object's meta object, or nil. A push that
	// carries one replaces the one the Store holds (see [Store.Meta]).
	Meta map[string]any
	// Links is the resource object's links object, such as
	// {"self": "/albums/1"}, or nil: each link a URL string or a link
	// object with an href (see [Href]). A push that carries one replaces
	// the one the Store holds (see [Store.Links]).
	Links map[string]any

	// raw holds the attributes instead of Attributes when a built-in
	// serializer normalizes a payload for PushPayload: the payload's
	// bytes, decoded once by the push. They are kept in Document.raws.
	raw []rawAttr
}

// rawAttr is one attribute of a Resource.raw. It holds no pointers, so
// that the garbage collector need not scan a payload's worth of them: the
// bytes or value it stands for are in the Document's rawStore.
type rawAttr struct {
	i     int32 // index in the table's attrs
	kind  uint8
	start uint32 // payload offset, or index into rawStore.extra or .values
	end   uint32
}

const (
	rawPayload uint8 = iota // rawStore.payload[start:end]
	rawNull                 // JSON null
	rawExtra                // rawStore.extra[start]: bytes from outside the payload
	rawValue                // rawStore.values[start]: a Go value a transform made
)

// rawStore holds what a Document's rawAttrs stand for.
type rawStore struct {
	payload []byte
	extra   [][]byte
	values  []any
	// more holds the Resources' links and meta, and their relationships',
	// as JSON text instead of their Links and Meta maps (see linksMetaOf).
	more map[*Resource]*more
}

// bytes returns the JSON text of a rawAttr of kind other than rawValue.
func (rs *rawStore) bytes(ra rawAttr) []byte {
	switch ra.kind {
	case rawPayload:
		return rs.payload[ra.start:ra.end]
	case rawExtra:
		return rs.extra[ra.start]
	}
	return nullJSON
}

// A Relationship is one member of a resource's "relationships" object.
type Relationship struct {
	// Data holds the related identifiers: at most one when Many is false
	// (none means "data": null), any number when Many is true.
	Data []Key
	// Many reports whether data is an array, as for a to-many relationship.
	Many bool
	// LinksOnly reports that the object has no data member, only links or
	// meta; Data and Many are then ignored. Pushing it leaves the
	// relationship's data as the Store holds it, and replaces the links
	// and meta it carries; [Store.LoadRelated] loads its data.
	LinksOnly bool
	// Links is the relationship object's links object, such as
	// {"related": "/albums/1/tracks"}, or nil. A push that carries one
	// replaces the one the Store holds; [Store.LoadRelated] follows its
	// related link.
	Links map[string]any
	// Meta is the relationship object's meta object, or nil. A push that
	// carries one replaces the one the Store holds.
	Meta map[string]any
}

type jsonIdentifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// MarshalJSON writes the document in JSON:API form.
func (d Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"data":`)
	switch {
	case d.Many:
		b.WriteByte('[')
		for i, r := range d.Data {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.writeJSON(&b); err != nil {
				return nil, err
			}
		}
		b.WriteByte(']')
	case len(d.Data) == 0:
		b.WriteString("null")
	case len(d.Data) == 1:
		if err := d.Data[0].writeJSON(&b); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("recstore: Document with Many false holds more than one resource")
	}
	if len(d.Included) > 0 {
		b.WriteString(`,"included":[`)
		for i, r := range d.Included {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.writeJSON(&b); err != nil {
				return nil, err
			}
		}
		b.WriteByte(']')
	}
	if err := writeMember(&b, "meta", d.Meta); err != nil {
		return nil, err
	}
	if err := writeMember(&b, "links", d.Links); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeMember(b *bytes.Buffer, name string, v map[string]any) error {
	if v == nil {
		return nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.WriteString(`,"` + name + `":`)
	b.Write(j)
	return nil
}

func (r *Resource) writeJSON(b *bytes.Buffer) error {
	if r == nil {
		return errors.New("recstore: nil *Resource in Document")
	}
	head, err := json.Marshal(jsonIdentifier{r.Type, r.ID})
	if err != nil {
		return err
	}
	b.Write(head[:len(head)-1])
	if r.Attributes != nil {
		j, err := json.Marshal(r.Attributes)
		if err != nil {
			return err
		}
		b.WriteString(`,"attributes":`)
		b.Write(j)
	}
	if r.Relationships != nil {
		b.WriteString(`,"relationships":{`)
		names := make([]string, 0, len(r.Relationships))
		for n := range r.Relationships {
			names = append(names, n)
		}
		sort.Strings(names)
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			nj, _ := json.Marshal(n)
			b.Write(nj)
			b.WriteByte(':')
			if err := r.Relationships[n].writeJSON(b); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	}
	if err := writeMember(b, "meta", r.Meta); err != nil {
		return err
	}
	if err := writeMember(b, "links", r.Links); err != nil {
		return err
	}
	b.WriteByte('}')
	return nil
}

func (rel *Relationship) writeJSON(b *bytes.Buffer) error {
	if rel == nil {
		b.WriteString(`{"data":null}`)
		return nil
	}
	b.WriteByte('{')
	sep := ""
	if !rel.LinksOnly {
		b.WriteString(`"data":`)
		sep = ","
		ids := make([]jsonIdentifier, len(rel.Data))
		for i, k := range rel.Data {
			ids[i] = jsonIdentifier{k.Type, k.ID}
		}
		var j []byte
		var err error
		switch {
		case rel.Many:
			j, err = json.Marshal(ids)
		case len(ids) == 0:
			j = []byte("null")
		case len(ids) == 1:
			j, err = json.Marshal(ids[0])
		default:
			err = errors.New("recstore: to-one Relationship holds more than one key")
		}
		if err != nil {
			return err
		}
		b.Write(j)
	}
	for _, m := range []struct {
		name string
		v    map[string]any
	}{{"links", rel.Links}, {"meta", rel.Meta}} {
		if m.v == nil {
			continue
		}
		j, err := json.Marshal(m.v)
		if err != nil {
			return err
		}
		b.WriteString(sep + `"` + m.name + `":`)
		b.Write(j)
		sep = ","
	}
	b.WriteByte('}')
	return nil
}

// UnmarshalJSON reads a JSON:API document. It checks the document's shape
// only; whether its types and attributes fit the Store's models is checked
// when it is pushed. A member name repeated in any object is an error
// matching ErrDuplicateMember, as in a Push of the same text.
func (d *Document) UnmarshalJSON(data []byte) error {
	if err := checkUnique(data); err != nil {
		return err
	}
	var raw struct {
		Data     json.RawMessage
		Included []*Resource
		Meta     map[string]any
		Links    map[string]any
	}
	if err := decodeMembers(data, map[string]any{
		"data": &raw.Data, "included": &raw.Included, "meta": &raw.Meta, "links": &raw.Links,
	}); err != nil {
		return err
	}
	*d = Document{Included: raw.Included, Meta: raw.Meta, Links: raw.Links}
	data = bytes.TrimSpace(raw.Data)
	switch {
	case len(data) == 0:
		return errors.New("recstore: document has no data member")
	case data[0] == '[':
		d.Many = true
		return json.Unmarshal(data, &d.Data)
	case string(data) == "null":
		return nil
	}
	var r Resource
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	d.Data = []*Resource{&r}
	return nil
}

// MarshalJSON writes the resource object.
func (r Resource) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	err := r.writeJSON(&b)
	return b.Bytes(), err
}

// UnmarshalJSON reads a resource object. A numeric id is kept as its text,
// and attribute values as json.RawMessage, so that no number loses
// precision on its way to the Store.
func (r *Resource) UnmarshalJSON(data []byte) error {
	if err := checkUnique(data); err != nil {
		return err
	}
	var raw struct {
		Type          string
		ID            json.RawMessage
		Attributes    map[string]json.RawMessage
		Relationships map[string]*Relationship
		Meta          map[string]any
		Links         map[string]any
	}
	if err := decodeMembers(data, map[string]any{
		"type": &raw.Type, "id": &raw.ID, "attributes": &raw.Attributes,
		"relationships": &raw.Relationships, "meta": &raw.Meta, "links": &raw.Links,
	}); err != nil {
		return err
	}
	id, err := rawID(raw.ID)
	if err != nil {
		return err
	}
	*r = Resource{Type: raw.Type, ID: id, Relationships: raw.Relationships, Meta: raw.Meta, Links: raw.Links}
	if raw.Attributes != nil {
		r.Attributes = make(map[string]any, len(raw.Attributes))
		for k, v := range raw.Attributes {
			r.Attributes[k] = v
		}
	}
	return nil
}

func rawID(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", nil
	}
	if b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil || n == "" || bytes.ContainsAny(b, ".eE") {
		return "", errors.New("recstore: id must be a string or an integer")
	}
	return n.String(), nil
}

// MarshalJSON writes the relationship object.
func (rel Relationship) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	err := rel.writeJSON(&b)
	return b.Bytes(), err
}

// UnmarshalJSON reads a relationship object.
func (rel *Relationship) UnmarshalJSON(data []byte) error {
	if err := checkUnique(data); err != nil {
		return err
	}
	var raw struct {
		Data  json.RawMessage
		Links map[string]any
		Meta  map[string]any
	}
	if err := decodeMembers(data, map[string]any{"data": &raw.Data, "links": &raw.Links, "meta": &raw.Meta}); err != nil {
		return err
	}
	*rel = Relationship{Links: raw.Links, Meta: raw.Meta}
	data = bytes.TrimSpace(raw.Data)
	switch {
	case len(data) == 0:
		rel.LinksOnly = true
		return nil
	case string(data) == "null":
		return nil
	}
	type ident struct {
		Type string
		ID   json.RawMessage
	}
	readIdent := func(b []byte, id *ident) error {
		return decodeMembers(b, map[string]any{"type": &id.Type, "id": &id.ID})
	}
	var ids []ident
	if data[0] == '[' {
		rel.Many = true
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return err
		}
		ids = make([]ident, len(elems))
		for i, e := range elems {
			if err := readIdent(e, &ids[i]); err != nil {
				return err
			}
		}
	} else {
		ids = make([]ident, 1)
		if err := readIdent(data, &ids[0]); err != nil {
			return err
		}
	}
	rel.Data = make([]Key, len(ids))
	for i, id := range ids {
		s, err := rawID(id.ID)
		if err != nil {
			return err
		}
		rel.Data[i] = Key{id.Type, s}
	}
	return nil
}

// decodeMembers decodes the members of the JSON object data named in
// fields into the values they point to. Unlike decoding into a tagged
// struct it matches names exactly, as JSON:API member names are
// case-sensitive, so that a Document reads a document as Push reads its
// text.
func decodeMembers(data []byte, fields map[string]any) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return err
	}
	if members == nil {
		return errors.New("recstore: want a JSON object, not null")
	}
	for name, raw := range members {
		if dst, ok := fields[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return fmt.Errorf("member %q: %w", name, err)
			}
		}
	}
	return nil
}
